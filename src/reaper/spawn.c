/*
 * spawn(file, argv, env, keepFds, flags, nofile, result): fork + execve with a clean signal state.
 *
 * file is a NUL-terminated Buffer; argv and env are Buffers of NUL-terminated entries, passed as
 * raw bytes (no UTF-8 round trip). keepFds lists inherited descriptors the app must keep: Node
 * marked them close-on-exec at start. flags: SPAWN_NEW_GROUP, SPAWN_FOREGROUND, SPAWN_LISTEN_PID.
 * nofile >= 0 sets the app's soft RLIMIT_NOFILE. result: [pid, errno, failed step].
 *
 * The child shares our memory until it execs (clone with CLONE_VM|CLONE_VFORK, as posix_spawn
 * does): a fork would copy the page tables of a ~40 MiB runtime and then tear them down again at
 * the exec, milliseconds of start-up. We are suspended meanwhile; the child makes only
 * async-signal-safe calls, allocates nothing, writes nothing of ours but the failure report, and
 * always ends in execve or _exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addon.h"

enum { SPAWN_NEW_GROUP = 1, SPAWN_FOREGROUND = 2, SPAWN_LISTEN_PID = 4 };
enum { STEP_FORK = 1, STEP_SETPGID = 2, STEP_EXECVE = 3, STEP_MEMORY = 5 };
enum { RESULT_PID, RESULT_ERRNO, RESULT_STEP, RESULT_LENGTH };

struct child_failure {
  volatile int32_t err;
  volatile int32_t step;
};

static void fail_in_child(struct child_failure* f, int err, int step) __attribute__((noreturn));
static void fail_in_child(struct child_failure* f, int err, int step) {
  f->err = err;
  f->step = step;
  _exit(127);
}

/* "LISTEN_PID=<pid>" in buf, for systemd socket activation: the app is the one the fds are for. */
static char* format_listen_pid(char* buf, size_t cap, pid_t pid) {
  static const char prefix[] = "LISTEN_PID=";
  char digits[16];
  size_t n = 0;
  unsigned long v = (unsigned long)pid;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0 && n < sizeof digits);
  if (sizeof prefix + n > cap) return NULL;
  memcpy(buf, prefix, sizeof prefix - 1);
  for (size_t i = 0; i < n; i++) buf[sizeof prefix - 1 + i] = digits[n - 1 - i];
  buf[sizeof prefix - 1 + n] = '\0';
  return buf;
}

struct spawn_request {
  const char* file;
  char** argv;
  /* /bin/sh file args...: what execvp does for a script without #! (ENOEXEC) */
  char** shell_argv;
  char** envp;
  const int32_t* keep;
  size_t n_keep;
  int32_t flags;
  int32_t nofile;
  struct child_failure failure;
};

static int run_child(void* arg) __attribute__((noreturn));
static int run_child(void* arg) {
  struct spawn_request* req = arg;
  /* Every signal is blocked here (the parent blocked them before fork). Reset the dispositions
   * first: Node ignores SIGPIPE, and libuv's handlers would write into the parent's pipe. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int s = 1; s < NSIG; s++) {
    if (s != SIGKILL && s != SIGSTOP) (void)sigaction(s, &dfl, NULL);
  }
  if (req->flags & SPAWN_NEW_GROUP) {
    if (setpgid(0, 0) != 0) fail_in_child(&req->failure, errno, STEP_SETPGID);
    /* SIGTTOU is blocked, so a background group may take the terminal; no terminal: carry on */
    if (req->flags & SPAWN_FOREGROUND) (void)tcsetpgrp(STDIN_FILENO, getpid());
  }
  for (int fd = 0; fd <= 2; fd++) (void)fcntl(fd, F_SETFD, 0);
  for (size_t i = 0; i < req->n_keep; i++) (void)fcntl(req->keep[i], F_SETFD, 0);
  char listen_pid[32];
  if (req->flags & SPAWN_LISTEN_PID) {
    for (char** e = req->envp; *e != NULL; e++) {
      if (strncmp(*e, "LISTEN_PID=", 11) == 0) {
        char* formatted = format_listen_pid(listen_pid, sizeof listen_pid, getpid());
        if (formatted != NULL) *e = formatted;
      }
    }
  }
  if (req->nofile >= 0) {
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && (rlim_t)req->nofile <= lim.rlim_max) {
      lim.rlim_cur = (rlim_t)req->nofile;
      (void)setrlimit(RLIMIT_NOFILE, &lim);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  (void)sigprocmask(SIG_SETMASK, &none, NULL);
  execve(req->file, req->argv, req->envp);
  if (errno == ENOEXEC && req->shell_argv != NULL) {
    execve("/bin/sh", req->shell_argv, req->envp);
    errno = ENOEXEC;
  }
  fail_in_child(&req->failure, errno, STEP_EXECVE);
}

/* {"/bin/sh", file, argv[1..], NULL}, allocated before fork. */
static char** shell_argv_for(const char* file, char** argv) {
  size_t n = 0;
  while (argv[n] != NULL) n++;
  char** list = calloc(n + 2, sizeof *list);
  if (list == NULL) return NULL;
  list[0] = (char*)"/bin/sh";
  list[1] = (char*)file;
  for (size_t i = 1; i < n; i++) list[i + 1] = argv[i];
  return list;
}

/* Pointers to each NUL-terminated entry of buf, NULL-terminated; NULL when out of memory. */
static char** split_entries(char* buf, size_t len) {
  size_t count = 0;
  for (size_t i = 0; i < len; i++) count += buf[i] == '\0';
  char** list = calloc(count + 1, sizeof *list);
  if (list == NULL) return NULL;
  size_t k = 0, start = 0;
  for (size_t i = 0; i < len && k < count; i++) {
    if (buf[i] == '\0') {
      list[k++] = buf + start;
      start = i + 1;
    }
  }
  return list;
}

/* Enough for run_child, which keeps one small buffer; we are suspended while it runs on it. */
#define CHILD_STACK_SIZE (64 * 1024)

static pid_t spawn_child(struct spawn_request* req, int32_t* err, int32_t* step) {
  static char stack[CHILD_STACK_SIZE] __attribute__((aligned(16)));
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  req->failure.err = req->failure.step = 0;
  pid_t pid = clone(run_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, req);
  int clone_errno = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    *err = clone_errno;
    *step = STEP_FORK;
    return -1;
  }
  if (req->failure.step != 0) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *err = req->failure.err;
    *step = req->failure.step;
    return -1;
  }
  /* exec'd: its own group was made before we resumed, so no signal to the group can miss it */
  return pid;
}

static napi_value Spawn(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "spawn(file, argv, env, keepFds, flags, nofile, result)");
    return NULL;
  }
  char *file, *argv_buf, *env_buf;
  size_t file_len, argv_len, env_len, n_keep, n_result;
  int32_t *keep, *result, flags, nofile;
  if (!arg_buffer(env, argv[0], &file, &file_len) || !arg_buffer(env, argv[1], &argv_buf, &argv_len) ||
      !arg_buffer(env, argv[2], &env_buf, &env_len) || !arg_int32_array(env, argv[3], &keep, &n_keep) ||
      !arg_int32(env, argv[4], &flags) || !arg_int32(env, argv[5], &nofile) ||
      !arg_int32_array(env, argv[6], &result, &n_result))
    return NULL;
  if (n_result < RESULT_LENGTH || file_len == 0 || file[file_len - 1] != '\0') {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "spawn(): file must end with NUL, result needs 3 slots");
    return NULL;
  }
  result[RESULT_PID] = result[RESULT_ERRNO] = result[RESULT_STEP] = 0;
  struct spawn_request req = {file, split_entries(argv_buf, argv_len), NULL, split_entries(env_buf, env_len),
                              keep, n_keep, flags, nofile, {0, 0}};
  if (req.argv != NULL) req.shell_argv = shell_argv_for(file, req.argv);
  if (req.argv == NULL || req.envp == NULL || req.shell_argv == NULL) {
    result[RESULT_ERRNO] = ENOMEM;
    result[RESULT_STEP] = STEP_MEMORY;
  } else {
    pid_t pid = spawn_child(&req, &result[RESULT_ERRNO], &result[RESULT_STEP]);
    if (pid > 0) result[RESULT_PID] = pid;
  }
  free(req.shell_argv);
  free(req.argv);
  free(req.envp);
  return int32_value(env, result[RESULT_PID]);
}

napi_status register_spawn(napi_env env, napi_value exports) {
  static const addon_fn fns[] = {{"spawn", Spawn}};
  return addon_export(env, exports, fns, 1);
}
