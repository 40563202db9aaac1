/* Process attributes: name, subreaper, parent-death signal, terminal foreground, exit. Each returns 0 or errno. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "addon.h"

/* prctl(PR_SET_NAME): the name ps, top and pgrep -x show (/proc/PID/comm), at most 15 bytes. It is
 * the calling thread's: the main thread's is the process's, which Node calls MainThread. */
static napi_value SetName(napi_env env, napi_callback_info info) {
  size_t argc = 1, len;
  napi_value argv[1];
  char* data;
  char name[16] = {0};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !arg_buffer(env, argv[0], &data, &len)) return NULL;
  memcpy(name, data, len < sizeof name - 1 ? len : sizeof name - 1);
  return int32_value(env, prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL) == 0 ? 0 : errno);
}

static napi_value SetChildSubreaper(napi_env env, napi_callback_info info) {
  (void)info;
  return int32_value(env, prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) == 0 ? 0 : errno);
}

static napi_value SetParentDeathSignal(napi_env env, napi_callback_info info) {
  int32_t signo;
  if (!int_args(env, info, 1, &signo)) return NULL;
  return int32_value(env, prctl(PR_SET_PDEATHSIG, (unsigned long)signo, 0UL, 0UL, 0UL) == 0 ? 0 : errno);
}

/* tcsetpgrp() from a background group raises SIGTTOU: blocked for the call. */
static napi_value SetForeground(napi_env env, napi_callback_info info) {
  int32_t args[2];
  if (!int_args(env, info, 2, args)) return NULL;
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  sigprocmask(SIG_BLOCK, &ttou, &old);
  int err = tcsetpgrp(args[0], (pid_t)args[1]) == 0 ? 0 : errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  return int32_value(env, err);
}

/* isatty(3): Node's own tty.isatty loads the net module, a few ms of every start. */
static napi_value IsTerminal(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!int_args(env, info, 1, &fd)) return NULL;
  return bool_value(env, isatty(fd) == 1);
}

static napi_value GetProcessGroup(napi_env env, napi_callback_info info) {
  (void)info;
  return int32_value(env, (int32_t)getpgrp());
}

/* _exit(2): the status is known and the log written; Node's exit path has nothing left to do for
 * us and would run what NODE_V8_COVERAGE and friends ask of it. */
static napi_value ExitNow(napi_env env, napi_callback_info info) {
  int32_t code;
  if (!int_args(env, info, 1, &code)) return NULL;
  _exit(code & 0xff);
}

napi_status register_process(napi_env env, napi_value exports) {
  static const addon_fn fns[] = {
      {"setName", SetName},
      {"setChildSubreaper", SetChildSubreaper}, {"setParentDeathSignal", SetParentDeathSignal},
      {"setForeground", SetForeground},         {"isTerminal", IsTerminal},
      {"getProcessGroup", GetProcessGroup},     {"exitNow", ExitNow},
  };
  return addon_export(env, exports, fns, sizeof fns / sizeof fns[0]);
}
