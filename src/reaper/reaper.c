/*
 * graceful-init native reaper (N-API, C only).
 *
 * Implements the contract described in native-api.ts:
 *   reap(owned, out)          collect exited children that libuv does not own
 *   spawn(req)                fork + execve with clean signal state
 *   setChildSubreaper()       prctl(PR_SET_CHILD_SUBREAPER, 1)
 *   setParentDeathSignal(n)   prctl(PR_SET_PDEATHSIG, n)
 *   setForeground(fd, pgid)   tcsetpgrp() with SIGTTOU blocked
 *   getProcessGroup()         getpgrp()
 *   isTerminal(fd)            isatty()
 *   lastError                 (getter) errno name of the last failed boolean call
 *
 * Only syscalls / libc. Nothing after fork() in the child allocates or calls
 * anything that is not async-signal-safe.
 *
 * Signal masks are changed with sigprocmask(), which on Linux/glibc only affects
 * the calling thread (same syscall as pthread_sigmask). pthread_sigmask would
 * bind to pthread_sigmask@GLIBC_2.32 when built on glibc >= 2.34, while the
 * official Node 24 binary only needs glibc 2.28; keep the addon at that level.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <node_api.h>

#include "nbwrite.h"

/* Slots of the `out` Int32Array, mirrors REAP_OUT in native-api.ts. */
enum {
  OUT_WATCHED_PID = 0,
  OUT_WATCHED_DONE = 1,
  OUT_WATCHED_STATUS = 2,
  OUT_BLOCKED_BY = 3,
  OUT_WATCHED_SIGNALED = 4,
  OUT_WATCHED_CODE = 5,
  OUT_LENGTH = 6
};

/* Which step failed in the child, reported through the exec pipe. */
enum { STAGE_SETPGID = 1, STAGE_EXECVE = 2 };

struct child_report {
  int32_t err;
  int32_t stage;
};

/* errno of the last failed setChildSubreaper / setParentDeathSignal / setForeground. */
static int g_last_errno = 0;

/* ------------------------------------------------------------------------ */
/* errno names (own table: strerrorname_np needs glibc 2.32, we target 2.28) */

static const char* errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ETXTBSY: return "ETXTBSY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case EPIPE: return "EPIPE";
    case EDOM: return "EDOM";
    case ERANGE: return "ERANGE";
    case EDEADLK: return "EDEADLK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ELOOP: return "ELOOP";
    case ELIBBAD: return "ELIBBAD";
    case ELIBACC: return "ELIBACC";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESTALE: return "ESTALE";
    case EDQUOT: return "EDQUOT";
    case EUCLEAN: return "EUCLEAN";
    default: return "UNKNOWN";
  }
}

/* ------------------------------------------------------------------------ */
/* small N-API helpers                                                        */

/* Throw the pending N-API error (if no JS exception is already pending). */
static void throw_last_napi_error(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info* info = NULL;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, NULL,
                   (info && info->error_message) ? info->error_message : "N-API call failed");
}

#define NAPI_CALL(env, call)          \
  do {                                \
    if ((call) != napi_ok) {          \
      throw_last_napi_error(env);     \
      return NULL;                    \
    }                                 \
  } while (0)

/* Throw an Error shaped like Node's system errors: code, errno (negative), syscall, path. */
static void throw_errno(napi_env env, int err, const char* syscall, const char* path) {
  char msg[512];
  const char* name = errno_name(err);
  if (path != NULL)
    snprintf(msg, sizeof msg, "%s: %s, %s '%s'", name, strerror(err), syscall, path);
  else
    snprintf(msg, sizeof msg, "%s: %s, %s", name, strerror(err), syscall);

  napi_value js_code, js_msg, js_err, js_errno, js_syscall, js_path;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &js_code) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &js_msg) != napi_ok ||
      napi_create_error(env, js_code, js_msg, &js_err) != napi_ok) {
    throw_last_napi_error(env);
    return;
  }
  if (napi_create_int32(env, -err, &js_errno) == napi_ok)
    napi_set_named_property(env, js_err, "errno", js_errno);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &js_syscall) == napi_ok)
    napi_set_named_property(env, js_err, "syscall", js_syscall);
  if (path != NULL && napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &js_path) == napi_ok)
    napi_set_named_property(env, js_err, "path", js_path);
  napi_throw(env, js_err);
}

/* Returns 1 and fills data/len when v is an Int32Array. */
static int get_int32_array(napi_env env, napi_value v, int32_t** data, size_t* len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void* ptr = NULL;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok) return 0;
  if (type != napi_int32_array) return 0;
  *data = (int32_t*)ptr;
  return 1;
}

/* `owned` is documented as sorted ascending; tiny arrays are scanned linearly
 * so that a caller who forgot to sort them still never loses a libuv child. */
static int pid_is_owned(const int32_t* owned, size_t n, int32_t pid) {
  if (n <= 16) {
    for (size_t i = 0; i < n; i++)
      if (owned[i] == pid) return 1;
    return 0;
  }
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (owned[mid] == pid) return 1;
    if (owned[mid] < pid)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* reap(owned: Int32Array, out: Int32Array): number                          */

static void record_if_watched(int32_t* out, pid_t watched, pid_t pid, int status) {
  if (pid != watched || watched <= 0) return;
  out[OUT_WATCHED_DONE] = 1;
  out[OUT_WATCHED_STATUS] = status;
  out[OUT_WATCHED_SIGNALED] = WIFSIGNALED(status) ? 1 : 0;
  out[OUT_WATCHED_CODE] = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
}

static napi_value Reap(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));

  int32_t* owned = NULL;
  int32_t* out = NULL;
  size_t owned_len = 0, out_len = 0;
  if (argc < 2 || !get_int32_array(env, argv[0], &owned, &owned_len) ||
      !get_int32_array(env, argv[1], &out, &out_len)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "reap(owned, out) expects two Int32Arrays");
    return NULL;
  }
  if (out_len < OUT_LENGTH) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "reap(): out must have at least 6 slots");
    return NULL;
  }

  const pid_t watched = (pid_t)out[OUT_WATCHED_PID];
  for (int i = 1; i < OUT_LENGTH; i++) out[i] = 0;

  uint32_t collected = 0;
  for (;;) {
    pid_t pid;
    if (owned_len == 0) {
      /* Fast path: libuv waits for nobody, so every exited child is ours to collect at once. */
      int status = 0;
      pid = waitpid(-1, &status, WNOHANG);
      if (pid == -1 && errno == EINTR) continue;
      if (pid <= 0) break; /* 0: none has exited; ECHILD: no children at all */
      collected++;
      record_if_watched(out, watched, pid, status);
      continue;
    }

    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: no children at all */
    }
    pid = si.si_pid;
    if (pid == 0) break; /* children exist, none has exited */

    if (pid_is_owned(owned, owned_len, pid)) {
      /* libuv waits for this one; leave it alone and let the caller retry later. */
      out[OUT_BLOCKED_BY] = pid;
      break;
    }

    int status = 0;
    pid_t r;
    do {
      r = waitpid(pid, &status, WNOHANG);
    } while (r == -1 && errno == EINTR);

    if (r == pid) {
      collected++;
      record_if_watched(out, watched, pid, status);
      continue;
    }
    if (r == -1 && errno == ECHILD) continue; /* collected by someone else meanwhile */
    break; /* r == 0 cannot happen after a successful peek; never spin */
  }

  napi_value result;
  NAPI_CALL(env, napi_create_uint32(env, collected, &result));
  return result;
}

/* ------------------------------------------------------------------------ */
/* spawn(req: SpawnRequest): number                                           */

/* Runs in the forked child: only async-signal-safe calls, no allocation. */
static void child_report_and_exit(int fd, int err, int stage) __attribute__((noreturn));
static void child_report_and_exit(int fd, int err, int stage) {
  struct child_report rep;
  rep.err = err;
  rep.stage = stage;
  const char* p = (const char*)&rep;
  size_t left = sizeof rep;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    p += n;
    left -= (size_t)n;
  }
  _exit(127);
}

static void child_exec(int report_fd, const char* file, char* const* argv, char* const* envp,
                       int new_group, int foreground) __attribute__((noreturn));
static void child_exec(int report_fd, const char* file, char* const* argv, char* const* envp,
                       int new_group, int foreground) {
  /* Every signal is still blocked here (the parent blocked them before fork).
   * Reset dispositions first: Node ignores SIGPIPE (inherited by execve) and
   * libuv's handlers would write into the parent's signal pipe. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    (void)sigaction(s, &sa, NULL); /* EINVAL for libc-reserved RT signals is fine */
  }

  if (new_group) {
    if (setpgid(0, 0) != 0) child_report_and_exit(report_fd, errno, STAGE_SETPGID);
    if (foreground) {
      /* SIGTTOU is blocked, so a background group may take the terminal.
       * Not a terminal / not our controlling terminal: carry on. */
      (void)tcsetpgrp(STDIN_FILENO, getpid());
    }
  }

  /* Node opens its stdio close-on-exec; the app must inherit them (libuv's own
   * spawn gets the same effect from dup2). */
  for (int fd = 0; fd <= 2; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC)) (void)fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }

  sigset_t empty;
  sigemptyset(&empty);
  (void)sigprocmask(SIG_SETMASK, &empty, NULL);

  execve(file, argv, envp);
  child_report_and_exit(report_fd, errno, STAGE_EXECVE);
}

/* Read a string property into a newly measured length (bytes, without NUL). */
static napi_status string_length(napi_env env, napi_value v, size_t* len) {
  return napi_get_value_string_utf8(env, v, NULL, 0, len);
}

static int is_string(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == napi_string;
}

/* Measure an array of strings: count and total bytes (with NULs). Returns 0 on type error. */
static int measure_string_array(napi_env env, napi_value arr, uint32_t* count, size_t* bytes) {
  bool is_array = false;
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array) return 0;
  if (napi_get_array_length(env, arr, count) != napi_ok) return 0;
  *bytes = 0;
  for (uint32_t i = 0; i < *count; i++) {
    napi_value el;
    size_t len = 0;
    if (napi_get_element(env, arr, i, &el) != napi_ok || !is_string(env, el)) return 0;
    if (string_length(env, el, &len) != napi_ok) return 0;
    *bytes += len + 1;
  }
  return 1;
}

/* Copy one JS string to dst (capacity len+1). Returns 0 when it contains a NUL byte. */
static int copy_string(napi_env env, napi_value v, char* dst, size_t cap, size_t* written) {
  if (napi_get_value_string_utf8(env, v, dst, cap, written) != napi_ok) return 0;
  return memchr(dst, '\0', *written) == NULL;
}

/* Fill ptrs[0..count-1] and a NULL terminator from the array, strings packed at *cursor. */
static int fill_string_array(napi_env env, napi_value arr, uint32_t count, char** ptrs,
                             char** cursor, char* end) {
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    size_t written = 0;
    if (napi_get_element(env, arr, i, &el) != napi_ok) return 0;
    if (!is_string(env, el)) return 0; /* changed under our feet (getter); refuse */
    if (!copy_string(env, el, *cursor, (size_t)(end - *cursor), &written)) return 0;
    ptrs[i] = *cursor;
    *cursor += written + 1;
  }
  ptrs[count] = NULL;
  return 1;
}

static int get_bool_property(napi_env env, napi_value obj, const char* name, bool* out) {
  napi_value v, b;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  if (napi_coerce_to_bool(env, v, &b) != napi_ok) return 0;
  return napi_get_value_bool(env, b, out) == napi_ok;
}

static napi_value Spawn(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value req;
  NAPI_CALL(env, napi_get_cb_info(env, cbinfo, &argc, &req, NULL, NULL));
  napi_valuetype req_type = napi_undefined;
  if (argc < 1 || napi_typeof(env, req, &req_type) != napi_ok || req_type != napi_object) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "spawn(req) expects an object");
    return NULL;
  }

  napi_value v_file, v_argv, v_env;
  NAPI_CALL(env, napi_get_named_property(env, req, "file", &v_file));
  NAPI_CALL(env, napi_get_named_property(env, req, "argv", &v_argv));
  NAPI_CALL(env, napi_get_named_property(env, req, "env", &v_env));
  bool new_group = false, foreground = false;
  if (!get_bool_property(env, req, "newProcessGroup", &new_group) ||
      !get_bool_property(env, req, "foreground", &foreground)) {
    throw_last_napi_error(env);
    return NULL;
  }

  size_t file_len = 0;
  if (!is_string(env, v_file) || string_length(env, v_file, &file_len) != napi_ok || file_len == 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "spawn(): req.file must be a non-empty string");
    return NULL;
  }
  uint32_t n_argv = 0, n_env = 0;
  size_t argv_bytes = 0, env_bytes = 0;
  if (!measure_string_array(env, v_argv, &n_argv, &argv_bytes)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "spawn(): req.argv must be an array of strings");
    return NULL;
  }
  if (!measure_string_array(env, v_env, &n_env, &env_bytes)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "spawn(): req.env must be an array of strings");
    return NULL;
  }

  /* One block: [argv ptrs + NULL][envp ptrs + NULL][file\0][argv strings][env strings] */
  const size_t ptr_bytes = ((size_t)n_argv + 1 + (size_t)n_env + 1) * sizeof(char*);
  const size_t total = ptr_bytes + file_len + 1 + argv_bytes + env_bytes;
  char* block = malloc(total);
  if (block == NULL) {
    throw_errno(env, ENOMEM, "spawn", NULL);
    return NULL;
  }
  char** c_argv = (char**)block;
  char** c_envp = c_argv + n_argv + 1;
  char* cursor = block + ptr_bytes;
  char* const end = block + total;

  char* c_file = cursor;
  size_t written = 0;
  if (!copy_string(env, v_file, c_file, file_len + 1, &written) || written != file_len) {
    free(block);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "spawn(): req.file must not contain NUL bytes");
    return NULL;
  }
  cursor += written + 1;
  if (!fill_string_array(env, v_argv, n_argv, c_argv, &cursor, end)) {
    free(block);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "spawn(): req.argv entries must be strings without NUL bytes");
    return NULL;
  }
  if (!fill_string_array(env, v_env, n_env, c_envp, &cursor, end)) {
    free(block);
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "spawn(): req.env entries must be strings without NUL bytes");
    return NULL;
  }

  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) {
    int e = errno;
    free(block);
    throw_errno(env, e, "pipe2", NULL);
    return NULL;
  }

  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) {
    close(pfd[0]);
    child_exec(pfd[1], c_file, c_argv, c_envp, new_group, new_group && foreground);
  }
  int fork_errno = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(pfd[1]);

  if (pid < 0) {
    close(pfd[0]);
    throw_errno(env, fork_errno, "fork", c_file);
    free(block);
    return NULL;
  }

  /* Same call in the parent closes the race where a signal is sent to the
   * group before the child ran setpgid. EACCES once the child has exec'd. */
  if (new_group) (void)setpgid(pid, pid);

  struct child_report rep;
  size_t got = 0;
  while (got < sizeof rep) {
    ssize_t n = read(pfd[0], (char*)&rep + got, sizeof rep - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (n == 0) break; /* pipe closed by execve: success */
    got += (size_t)n;
  }
  close(pfd[0]);

  if (got == sizeof rep) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw_errno(env, rep.err, rep.stage == STAGE_SETPGID ? "setpgid" : "execve", c_file);
    free(block);
    return NULL;
  }
  free(block);

  napi_value result;
  NAPI_CALL(env, napi_create_int32(env, (int32_t)pid, &result));
  return result;
}

/* ------------------------------------------------------------------------ */
/* process attributes                                                         */

static napi_value make_bool(napi_env env, int ok, int err) {
  if (!ok) g_last_errno = err;
  napi_value result;
  NAPI_CALL(env, napi_get_boolean(env, ok != 0, &result));
  return result;
}

static napi_value SetChildSubreaper(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  int ok = prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) == 0;
  return make_bool(env, ok, errno);
}

static int get_int_arg(napi_env env, napi_callback_info cbinfo, size_t want, int32_t* vals) {
  size_t argc = want;
  napi_value argv[2];
  if (want > 2) return 0;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < want) return 0;
  for (size_t i = 0; i < want; i++) {
    napi_valuetype t;
    if (napi_typeof(env, argv[i], &t) != napi_ok || t != napi_number) return 0;
    if (napi_get_value_int32(env, argv[i], &vals[i]) != napi_ok) return 0;
  }
  return 1;
}

static napi_value SetParentDeathSignal(napi_env env, napi_callback_info cbinfo) {
  int32_t signo = 0;
  if (!get_int_arg(env, cbinfo, 1, &signo)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setParentDeathSignal(signo) expects a number");
    return NULL;
  }
  int ok = prctl(PR_SET_PDEATHSIG, (unsigned long)signo, 0UL, 0UL, 0UL) == 0;
  return make_bool(env, ok, errno);
}

static napi_value SetForeground(napi_env env, napi_callback_info cbinfo) {
  int32_t args[2] = {0, 0};
  if (!get_int_arg(env, cbinfo, 2, args)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "setForeground(fd, pgid) expects two numbers");
    return NULL;
  }
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  sigprocmask(SIG_BLOCK, &ttou, &old);
  int ok = tcsetpgrp(args[0], (pid_t)args[1]) == 0;
  int err = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  return make_bool(env, ok, err);
}

/* isatty(3): Node's own tty.isatty loads the net module, a few ms of every start. */
static napi_value IsTerminal(napi_env env, napi_callback_info cbinfo) {
  int32_t fd = 0;
  if (!get_int_arg(env, cbinfo, 1, &fd)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "isTerminal(fd) expects a number");
    return NULL;
  }
  napi_value result;
  NAPI_CALL(env, napi_get_boolean(env, isatty(fd) == 1, &result));
  return result;
}

static napi_value GetProcessGroup(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value result;
  NAPI_CALL(env, napi_create_int32(env, (int32_t)getpgrp(), &result));
  return result;
}

static napi_value GetLastError(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value result;
  if (g_last_errno == 0) {
    NAPI_CALL(env, napi_get_undefined(env, &result));
  } else {
    NAPI_CALL(env, napi_create_string_utf8(env, errno_name(g_last_errno), NAPI_AUTO_LENGTH, &result));
  }
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"reap", NULL, Reap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spawn", NULL, Spawn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setChildSubreaper", NULL, SetChildSubreaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setParentDeathSignal", NULL, SetParentDeathSignal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setForeground", NULL, SetForeground, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getProcessGroup", NULL, GetProcessGroup, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isTerminal", NULL, IsTerminal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lastError", NULL, NULL, GetLastError, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok ||
      nbwrite_register(env, exports) != napi_ok) {
    throw_last_napi_error(env);
    return NULL;
  }
  return exports;
}
