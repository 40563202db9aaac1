/*
 * Traffic sensing (N-API, C only): the TCP sockets of this network namespace, read with
 * NETLINK_SOCK_DIAG / inet_diag (SOCK_DIAG_BY_FAMILY, inet_diag_req_v2, INET_DIAG_INFO),
 * IPv4 and IPv6, without /proc; and the socket inodes a process holds (/proc/<pid>/fd).
 *
 * The contract (record layouts, return values) is src/traffic/native-api.ts:
 *   tcpListeners(out: Float64Array): number
 *   tcpConnections(ports: Uint16Array, out: Float64Array): number
 *   socketInodes(pid: number, out: Float64Array): number
 * Each fills fixed-size records into the caller's array (no JS object per socket: a poll
 * may see 10,000 connections) and returns how many it found; records past the array's
 * capacity are counted but not written, so the caller grows its array and asks again.
 * A negative return is -errno; the JS side names it.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>

#include "sockdiag.h"

/* Record layouts, mirrored by LISTENER and CONNECTION in src/traffic/native-api.ts. */
enum {
  L_FAMILY = 0, /* 4 or 6 */
  L_PORT,
  L_INODE,
  L_RQUEUE, /* connections waiting in the accept queue */
  L_WQUEUE, /* the accept queue's limit (backlog) */
  L_ADDR0,  /* local address: 4 words in host order, IPv4 in word 0 */
  L_ADDR1,
  L_ADDR2,
  L_ADDR3,
  L_FIELDS
};

enum {
  C_FAMILY = 0,
  C_STATE, /* TCP_ESTABLISHED = 1 ... as in the kernel */
  C_LOCAL_PORT,
  C_REMOTE_PORT,
  C_INODE,
  C_COOKIE_HI, /* the kernel's socket cookie: unique while the namespace lives */
  C_COOKIE_LO,
  C_RQUEUE,    /* received, not yet read by the app */
  C_WQUEUE,    /* written by the app, not yet acknowledged by the peer (unsent included) */
  C_INFO_LEN,  /* bytes of tcp_info the kernel gave, 0 when none: the fields below are then 0 */
  C_BYTES_RECEIVED,
  C_BYTES_ACKED,
  C_BYTES_SENT, /* Linux >= 4.19 */
  C_LAST_DATA_RECV, /* ms since the last data was received */
  C_LAST_DATA_SENT, /* ms since the last data was sent */
  C_LAST_ACK_RECV,
  C_UNACKED,    /* segments */
  C_NOTSENT,    /* bytes not sent yet (Linux >= 4.6) */
  C_DATA_SEGS_IN,
  C_REMOTE0,    /* remote address: 4 words in host order, IPv4 in word 0 */
  C_REMOTE1,
  C_REMOTE2,
  C_REMOTE3,
  C_FIELDS
};

/* TCP states as the kernel numbers them (include/net/tcp_states.h). */
enum {
  ST_ESTABLISHED = 1,
  ST_SYN_RECV = 3,
  ST_FIN_WAIT1 = 4,
  ST_FIN_WAIT2 = 5,
  ST_CLOSE_WAIT = 8,
  ST_LAST_ACK = 9,
  ST_LISTEN = 10,
  ST_CLOSING = 11,
  ST_NEW_SYN_RECV = 12
};

#define RECV_BUF_SIZE 65536
/* Past this many ports the kernel-side filter program gets long; filter here instead. */
#define MAX_BYTECODE_PORTS 512

typedef void (*diag_handler)(const struct inet_diag_msg* msg, const struct nlattr* attrs, int attrs_len,
                             void* ctx);

/* ------------------------------------------------------------------------ */
/* netlink dump                                                               */

struct diag_request {
  struct nlmsghdr nlh;
  struct inet_diag_req_v2 req;
};

/* The older TCPDIAG_GETSOCK request: the kernel answers it for both families in one pass. */
struct diag_request_both {
  struct nlmsghdr nlh;
  struct inet_diag_req req;
};

/*
 * One dump: SOCK_DIAG_BY_FAMILY for AF_INET or AF_INET6, or, for AF_UNSPEC, TCPDIAG_GETSOCK for
 * both. Each dump walks the whole established-connection hash table of the kernel (262,144
 * buckets on a machine with a few GB), whatever it finds: one walk instead of two halves the cost.
 * Returns 0 or -errno.
 */
static int diag_dump(int fd, uint8_t family, uint32_t states, uint8_t ext, const void* bytecode,
                     size_t bytecode_len, char* buf, diag_handler handler, void* ctx) {
  static uint32_t seq = 0;
  const uint32_t my_seq = ++seq;
  char reqbuf[sizeof(struct diag_request_both) + sizeof(struct diag_request) + NLA_HDRLEN + MAX_BYTECODE_PORTS * 20];
  memset(reqbuf, 0, sizeof(struct diag_request_both) + sizeof(struct diag_request) + NLA_HDRLEN);

  struct nlmsghdr* nlh = (struct nlmsghdr*)reqbuf;
  size_t len;
  if (family == AF_UNSPEC) {
    struct diag_request_both* r = (struct diag_request_both*)reqbuf;
    len = sizeof *r;
    nlh->nlmsg_type = TCPDIAG_GETSOCK;
    r->req.idiag_ext = ext;
    r->req.idiag_states = states;
  } else {
    struct diag_request* r = (struct diag_request*)reqbuf;
    len = sizeof *r;
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    r->req.sdiag_family = family;
    r->req.sdiag_protocol = IPPROTO_TCP;
    r->req.idiag_ext = ext;
    r->req.idiag_states = states;
  }
  const uint16_t reply_type = nlh->nlmsg_type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = my_seq;
  if (bytecode_len > 0) {
    struct nlattr* a = (struct nlattr*)(reqbuf + len);
    a->nla_type = INET_DIAG_REQ_BYTECODE;
    a->nla_len = (uint16_t)(NLA_HDRLEN + bytecode_len);
    memcpy(reqbuf + len + NLA_HDRLEN, bytecode, bytecode_len);
    len += NLA_HDRLEN + bytecode_len;
  }
  nlh->nlmsg_len = (uint32_t)len;

  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent = sendto(fd, reqbuf, len, 0, (struct sockaddr*)&kernel, sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return -errno;

  for (;;) {
    ssize_t n = recv(fd, buf, RECV_BUF_SIZE, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return -EIO;
    int left = (int)n;
    for (struct nlmsghdr* h = (struct nlmsghdr*)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != my_seq) continue; /* a stale answer to an earlier, abandoned request */
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr* e = (const struct nlmsgerr*)NLMSG_DATA(h);
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e)) return -EIO;
        return e->error < 0 ? e->error : -EIO;
      }
      if (h->nlmsg_type != reply_type) continue;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
      const struct inet_diag_msg* msg = (const struct inet_diag_msg*)NLMSG_DATA(h);
      const int attrs_off = NLMSG_LENGTH(NLA_ALIGN(sizeof *msg));
      const int attrs_len = (int)h->nlmsg_len - attrs_off;
      handler(msg, (const struct nlattr*)((const char*)h + attrs_off), attrs_len > 0 ? attrs_len : 0, ctx);
    }
  }
}

static int diag_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  return fd < 0 ? -errno : fd;
}

struct fill_ctx {
  double* out;
  size_t cap; /* records */
  size_t count;
  const uint8_t* port_bits; /* tcpConnections only: 65536-bit set of local ports */
};

/* Set once a kernel has refused TCPDIAG_GETSOCK (it may one day drop the old request). */
static int g_no_combined_dump = 0;

/* Both families into the same handler. A kernel without IPv6 answers ENOENT for AF_INET6. */
static int diag_dump_both(uint32_t states, uint8_t ext, const void* bytecode, size_t bytecode_len,
                          diag_handler handler, struct fill_ctx* ctx) {
  char* buf = malloc(RECV_BUF_SIZE);
  if (buf == NULL) return -ENOMEM;
  int fd = diag_socket();
  int rc = fd;
  if (fd >= 0 && !g_no_combined_dump) {
    rc = diag_dump(fd, AF_UNSPEC, states, ext, bytecode, bytecode_len, buf, handler, ctx);
    if (rc == -EINVAL || rc == -ENOENT || rc == -EOPNOTSUPP) {
      g_no_combined_dump = 1;
      ctx->count = 0;
      close(fd);
      fd = diag_socket(); /* a fresh socket: no leftovers of the refused request */
      rc = fd;
    } else {
      close(fd);
      free(buf);
      return rc;
    }
  }
  if (fd >= 0) {
    rc = diag_dump(fd, AF_INET, states, ext, bytecode, bytecode_len, buf, handler, ctx);
    if (rc == 0) {
      rc = diag_dump(fd, AF_INET6, states, ext, bytecode, bytecode_len, buf, handler, ctx);
      if (rc == -ENOENT || rc == -EAFNOSUPPORT) rc = 0;
    }
    close(fd);
  }
  free(buf);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* kernel-side port filter                                                    */

/*
 * inet_diag bytecode accepting a socket whose local port is one of `ports`. The kernel runs
 * it before it fills tcp_info, so sockets on other ports (the clients' ends of loopback
 * connections, the app's outbound connections) cost almost nothing. Per port:
 *   [S_GE p: yes next, no -> next port] [S_LE p: yes next, no -> next port] [JMP -> accept]
 * The last port has no JMP: matching falls off the end (accept), failing jumps 4 bytes past
 * it (reject). S_GE/S_LE rather than S_EQ (Linux 4.16) so that older kernels take it.
 * Every op sits on the chain of "yes" jumps, as the kernel's audit of the program requires.
 */
static size_t port_bytecode(const uint16_t* ports, size_t n, char* out) {
  const size_t block = 20; /* two 8-byte comparisons + a 4-byte jump */
  const size_t total = n * block - 4;
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    const int last = i + 1 == n;
    const size_t next = last ? total + 4 : off + block; /* where a mismatch goes */
    struct inet_diag_bc_op* op = (struct inet_diag_bc_op*)(out + off);
    op[0].code = INET_DIAG_BC_S_GE;
    op[0].yes = 8;
    op[0].no = (unsigned short)(next - off);
    op[1].code = 0;
    op[1].yes = 0;
    op[1].no = ports[i];
    op[2].code = INET_DIAG_BC_S_LE;
    op[2].yes = 8;
    op[2].no = (unsigned short)(next - off - 8);
    op[3].code = 0;
    op[3].yes = 0;
    op[3].no = ports[i];
    if (!last) {
      op[4].code = INET_DIAG_BC_JMP;
      op[4].yes = 4;
      op[4].no = (unsigned short)(total - (off + 16));
    }
    off += block;
  }
  return total;
}

/* ------------------------------------------------------------------------ */
/* handlers                                                                   */

static void put_addr(double* rec, const uint32_t* words, uint8_t family) {
  const int n = family == AF_INET ? 1 : 4;
  for (int i = 0; i < 4; i++) rec[i] = i < n ? (double)ntohl(words[i]) : 0;
}

static void on_listener(const struct inet_diag_msg* msg, const struct nlattr* attrs, int attrs_len, void* vctx) {
  (void)attrs;
  (void)attrs_len;
  struct fill_ctx* ctx = vctx;
  if (msg->idiag_state != ST_LISTEN) return;
  if (ctx->count < ctx->cap) {
    double* rec = ctx->out + ctx->count * L_FIELDS;
    rec[L_FAMILY] = msg->idiag_family == AF_INET6 ? 6 : 4;
    rec[L_PORT] = ntohs(msg->id.idiag_sport);
    rec[L_INODE] = msg->idiag_inode;
    rec[L_RQUEUE] = msg->idiag_rqueue;
    rec[L_WQUEUE] = msg->idiag_wqueue;
    put_addr(rec + L_ADDR0, msg->id.idiag_src, msg->idiag_family);
  }
  ctx->count++;
}

static void on_connection(const struct inet_diag_msg* msg, const struct nlattr* attrs, int attrs_len,
                          void* vctx) {
  struct fill_ctx* ctx = vctx;
  const uint16_t lport = ntohs(msg->id.idiag_sport);
  if (msg->idiag_state == ST_LISTEN) return;
  if (!(ctx->port_bits[lport >> 3] & (1u << (lport & 7)))) return;
  if (ctx->count >= ctx->cap) {
    ctx->count++;
    return;
  }

  struct tcp_info info;
  size_t info_len = 0;
  memset(&info, 0, sizeof info);
  const struct nlattr* a = attrs;
  int left = attrs_len;
  while (left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left) {
    if ((a->nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO) {
      info_len = a->nla_len - NLA_HDRLEN;
      /* an older kernel sends a shorter struct: the missing fields stay 0 */
      memcpy(&info, (const char*)a + NLA_HDRLEN, info_len < sizeof info ? info_len : sizeof info);
    }
    const int step = NLA_ALIGN(a->nla_len);
    if (step >= left) break;
    left -= step;
    a = (const struct nlattr*)((const char*)a + step);
  }

  double* rec = ctx->out + ctx->count * C_FIELDS;
  rec[C_FAMILY] = msg->idiag_family == AF_INET6 ? 6 : 4;
  rec[C_STATE] = msg->idiag_state;
  rec[C_LOCAL_PORT] = lport;
  rec[C_REMOTE_PORT] = ntohs(msg->id.idiag_dport);
  rec[C_INODE] = msg->idiag_inode;
  rec[C_COOKIE_HI] = msg->id.idiag_cookie[1];
  rec[C_COOKIE_LO] = msg->id.idiag_cookie[0];
  rec[C_RQUEUE] = msg->idiag_rqueue;
  rec[C_WQUEUE] = msg->idiag_wqueue;
  rec[C_INFO_LEN] = (double)info_len;
  rec[C_BYTES_RECEIVED] = (double)info.tcpi_bytes_received;
  rec[C_BYTES_ACKED] = (double)info.tcpi_bytes_acked;
  rec[C_BYTES_SENT] = (double)info.tcpi_bytes_sent;
  rec[C_LAST_DATA_RECV] = info.tcpi_last_data_recv;
  rec[C_LAST_DATA_SENT] = info.tcpi_last_data_sent;
  rec[C_LAST_ACK_RECV] = info.tcpi_last_ack_recv;
  rec[C_UNACKED] = info.tcpi_unacked;
  rec[C_NOTSENT] = info.tcpi_notsent_bytes;
  rec[C_DATA_SEGS_IN] = info.tcpi_data_segs_in;
  put_addr(rec + C_REMOTE0, msg->id.idiag_dst, msg->idiag_family);
  ctx->count++;
}

/* ------------------------------------------------------------------------ */
/* /proc/<pid>/fd                                                             */

/* Socket inodes among the fds of `pid`. Returns how many, or -errno. */
static long socket_inodes(int32_t pid, double* out, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
  DIR* d = opendir(path);
  if (d == NULL) return -errno;
  const int dfd = dirfd(d);
  long count = 0;
  struct dirent* e;
  char link[64];
  for (;;) {
    errno = 0;
    e = readdir(d);
    if (e == NULL) break;
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    ssize_t n = readlinkat(dfd, e->d_name, link, sizeof link - 1);
    if (n <= 0) continue; /* closed meanwhile */
    link[n] = '\0';
    unsigned long long inode = 0;
    if (strncmp(link, "socket:[", 8) != 0) continue;
    char* end = NULL;
    inode = strtoull(link + 8, &end, 10);
    if (end == link + 8 || *end != ']') continue;
    if ((size_t)count < cap) out[count] = (double)inode;
    count++;
  }
  const int err = errno;
  closedir(d);
  return err != 0 && count == 0 ? -err : count;
}

/* ------------------------------------------------------------------------ */
/* N-API                                                                      */

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

static napi_value make_number(napi_env env, double v) {
  napi_value result = NULL;
  if (napi_create_double(env, v, &result) != napi_ok) napi_throw_error(env, NULL, "napi_create_double failed");
  return result;
}

static napi_value TcpListeners(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  double* out = NULL;
  size_t out_len = 0;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      !get_typed(env, argv[0], napi_float64_array, (void**)&out, &out_len)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "tcpListeners(out) expects a Float64Array");
    return NULL;
  }
  struct fill_ctx ctx = {out, out_len / L_FIELDS, 0, NULL};
  int rc = diag_dump_both(1u << ST_LISTEN, 0, NULL, 0, on_listener, &ctx);
  return make_number(env, rc < 0 ? rc : (double)ctx.count);
}

static napi_value TcpConnections(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 2;
  napi_value argv[2];
  uint16_t* ports = NULL;
  size_t n_ports = 0;
  double* out = NULL;
  size_t out_len = 0;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      !get_typed(env, argv[0], napi_uint16_array, (void**)&ports, &n_ports) ||
      !get_typed(env, argv[1], napi_float64_array, (void**)&out, &out_len)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "tcpConnections(ports, out) expects a Uint16Array and a Float64Array");
    return NULL;
  }
  if (n_ports == 0) return make_number(env, 0);

  uint8_t bits[65536 / 8];
  memset(bits, 0, sizeof bits);
  for (size_t i = 0; i < n_ports; i++) bits[ports[i] >> 3] |= (uint8_t)(1u << (ports[i] & 7));

  char bytecode[MAX_BYTECODE_PORTS * 20];
  size_t bc_len = n_ports <= MAX_BYTECODE_PORTS ? port_bytecode(ports, n_ports, bytecode) : 0;

  const uint32_t states = (1u << ST_ESTABLISHED) | (1u << ST_SYN_RECV) | (1u << ST_NEW_SYN_RECV) |
                          (1u << ST_FIN_WAIT1) | (1u << ST_FIN_WAIT2) | (1u << ST_CLOSE_WAIT) |
                          (1u << ST_LAST_ACK) | (1u << ST_CLOSING);
  struct fill_ctx ctx = {out, out_len / C_FIELDS, 0, bits};
  int rc = diag_dump_both(states, 1u << (INET_DIAG_INFO - 1), bytecode, bc_len, on_connection, &ctx);
  return make_number(env, rc < 0 ? rc : (double)ctx.count);
}

static napi_value SocketInodes(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t pid = 0;
  double* out = NULL;
  size_t out_len = 0;
  napi_valuetype t = napi_undefined;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_typeof(env, argv[0], &t) != napi_ok || t != napi_number ||
      napi_get_value_int32(env, argv[0], &pid) != napi_ok ||
      !get_typed(env, argv[1], napi_float64_array, (void**)&out, &out_len)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "socketInodes(pid, out) expects a number and a Float64Array");
    return NULL;
  }
  if (pid <= 0) return make_number(env, -EINVAL);
  return make_number(env, (double)socket_inodes(pid, out, out_len));
}

napi_status sockdiag_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"tcpListeners", NULL, TcpListeners, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tcpConnections", NULL, TcpConnections, NULL, NULL, NULL, napi_enumerable, NULL},
      {"socketInodes", NULL, SocketInodes, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
