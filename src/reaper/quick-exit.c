/*
 * The quick exit: while armed, a SIGCHLD handler ends the init the moment the app has exited, with
 * its status, when nothing else is left to do: no process left behind (in the whole namespace as
 * PID 1, among the init's children otherwise). Whatever it cannot be sure of (a leftover, /proc not
 * readable, the status taken by someone else) it leaves to JavaScript, by passing the signal on to
 * the handler that was there before (libuv's). Everything here is async-signal-safe: raw syscalls,
 * no allocation, no stdio.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addon.h"

static volatile int32_t g_app = 0; /* the app's pid while armed, else 0 */
static int32_t g_codes[256];       /* the init's exit code for each status of the app's */
static int32_t g_whole_namespace;  /* PID 1: every process of the namespace counts */
static struct sigaction g_previous;
static volatile int32_t g_installed = 0;

/* Decimal digits of n into buf (no terminator); returns their count. */
static size_t put_number(char* buf, long n) {
  char tmp[24];
  size_t len = 0, i = 0;
  do {
    tmp[len++] = (char)('0' + n % 10);
    n /= 10;
  } while (n > 0 && len < sizeof tmp);
  while (len > 0) buf[i++] = tmp[--len];
  return i;
}

/* A whole number made of digits only, else -1. */
static long parse_number(const char* s, size_t len) {
  if (len == 0 || len > 10) return -1;
  long n = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    n = n * 10 + (s[i] - '0');
  }
  return n;
}

static ssize_t read_small(const char* path, char* buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, buf + got, cap - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    if (got == cap) { /* more than fits: not a short list */
      close(fd);
      return -1;
    }
  }
  close(fd);
  return (ssize_t)got;
}

/* Our pid as the mounted /proc numbers it (it may belong to another PID namespace), or -1. */
static long proc_self(void) {
  char buf[24];
  ssize_t n = readlink("/proc/self", buf, sizeof buf);
  return n > 0 ? parse_number(buf, (size_t)n) : -1;
}

/* The main thread's children (where the app and every orphan handed to us are): the app alone? */
static int only_child_is(pid_t app, long self) {
  char path[64] = "/proc/";
  size_t at = strlen(path);
  at += put_number(path + at, self);
  memcpy(path + at, "/task/", 6);
  at += 6;
  at += put_number(path + at, self);
  memcpy(path + at, "/children", 10);
  char list[256];
  ssize_t len = read_small(path, list, sizeof list);
  if (len < 0) return 0;
  size_t start = 0;
  for (size_t i = 0; i <= (size_t)len; i++) {
    if (i < (size_t)len && list[i] != ' ' && list[i] != '\n') continue;
    if (i > start && parse_number(list + start, i - start) != app) return 0;
    start = i + 1;
  }
  return 1;
}

/* PID 1 with the namespace's own /proc: no process in it but the init and the app? */
static int namespace_holds_only(pid_t app, long self) {
  if (self != 1) return 0; /* /proc is another namespace's: nothing to be sure of */
  int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096] __attribute__((aligned(8)));
  int alone = 1;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) alone = 0;
      break;
    }
    for (long off = 0; off < n && alone;) {
      /* struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name */
      unsigned short reclen;
      memcpy(&reclen, buf + off + 16, sizeof reclen);
      const char* name = buf + off + 19;
      long pid = parse_number(name, strlen(name));
      if (pid > 0 && pid != 1 && pid != app) alone = 0;
      off += reclen;
    }
    if (!alone) break;
  }
  close(fd);
  return alone;
}

/* decoded as fromWaitStatus (src/process/exit-status.ts) decodes it, then remapped */
static int exit_code(int raw) {
  int code = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + (raw & 0x7f);
  return g_codes[code & 0xff] & 0xff;
}

static void exit_if_done(void) {
  pid_t app = __atomic_load_n(&g_app, __ATOMIC_SEQ_CST);
  if (app <= 0) return;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)app, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid != app) return;
  long self = proc_self();
  if (self <= 0) return;
  if (!(g_whole_namespace ? namespace_holds_only(app, self) : only_child_is(app, self))) return;
  if (__atomic_load_n(&g_app, __ATOMIC_SEQ_CST) != app) return; /* disarmed meanwhile: a shutdown began */
  int raw = 0;
  if (waitpid(app, &raw, WNOHANG) != app) return;
  _exit(exit_code(raw));
}

static void on_child(int sig, siginfo_t* info, void* context) {
  int saved = errno;
  exit_if_done();
  if (is_handler_function(&g_previous)) call_handler(&g_previous, sig, info, context);
  errno = saved;
}

/*
 * armQuickExit(app, codes: Int32Array(256), wholeNamespace): from now on the app's exit ends the
 * init at once when nothing is left (see above); codes[s] is the exit code for the app's status s.
 * Looks once at once too: the app may have exited already. Returns 0 or errno.
 */
static napi_value ArmQuickExit(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t app, whole;
  int32_t* codes;
  size_t n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "armQuickExit(app, codes, wholeNamespace)");
    return NULL;
  }
  if (!arg_int32(env, argv[0], &app) || !arg_int32_array(env, argv[1], &codes, &n) || !arg_int32(env, argv[2], &whole)) return NULL;
  if (app <= 0 || n != 256) return int32_value(env, EINVAL);
  memcpy(g_codes, codes, sizeof g_codes);
  g_whole_namespace = whole != 0;
  if (!__atomic_load_n(&g_installed, __ATOMIC_SEQ_CST)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_child;
    if (sigaction(SIGCHLD, NULL, &g_previous) != 0) return int32_value(env, errno);
    sa.sa_flags = SA_RESTART | SA_SIGINFO | (g_previous.sa_flags & SA_NOCLDSTOP);
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) != 0) return int32_value(env, errno);
    __atomic_store_n(&g_installed, 1, __ATOMIC_SEQ_CST);
  }
  __atomic_store_n(&g_app, app, __ATOMIC_SEQ_CST);
  exit_if_done();
  return int32_value(env, 0);
}

/* disarmQuickExit(): the app's exit goes through JavaScript again (a shutdown has begun). */
static napi_value DisarmQuickExit(napi_env env, napi_callback_info info) {
  (void)info;
  __atomic_store_n(&g_app, 0, __ATOMIC_SEQ_CST);
  return int32_value(env, 0);
}

napi_status register_quick_exit(napi_env env, napi_value exports) {
  static const addon_fn fns[] = {{"armQuickExit", ArmQuickExit}, {"disarmQuickExit", DisarmQuickExit}};
  return addon_export(env, exports, fns, sizeof fns / sizeof fns[0]);
}
