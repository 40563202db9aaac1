/*
 * reap(owned, out): collect every exited child that libuv does not wait for.
 *
 * `owned` (sorted ascending) holds the pids libuv spawned and will collect itself; their status
 * must never be taken from it. A waitid(WNOWAIT) peek shows the next exited child without
 * collecting it; an owned one stops the loop and is reported in out[BLOCKED_BY] so that the caller
 * looks again once libuv has collected it. When libuv waits for nobody, waitpid(-1) collects
 * directly.
 *
 * out[0] (in): the pid whose status the caller wants, 0 for none.
 * out[1]: 1 when that pid was collected by this call; out[2]: its raw wait status.
 * out[3]: an exited child libuv owns and has not collected yet, 0 when none.
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "addon.h"

enum { OUT_WATCHED_PID, OUT_WATCHED_DONE, OUT_WATCHED_STATUS, OUT_BLOCKED_BY, OUT_LENGTH };

static int pid_is_owned(const int32_t* owned, size_t n, int32_t pid) {
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

static void record(int32_t* out, pid_t pid, int status) {
  if (pid != out[OUT_WATCHED_PID] || pid <= 0) return;
  out[OUT_WATCHED_DONE] = 1;
  out[OUT_WATCHED_STATUS] = status;
}

/* One exited child collected, or 0 when there is none we may take. */
static pid_t collect_next(const int32_t* owned, size_t n_owned, int32_t* out, int* status) {
  for (;;) {
    if (n_owned == 0) {
      pid_t pid = waitpid(-1, status, WNOHANG);
      if (pid == -1 && errno == EINTR) continue;
      return pid > 0 ? pid : 0; /* 0: none has exited; ECHILD: no children */
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
      if (errno == EINTR) continue;
      return 0;
    }
    if (si.si_pid == 0) return 0;
    if (pid_is_owned(owned, n_owned, si.si_pid)) {
      out[OUT_BLOCKED_BY] = si.si_pid;
      return 0;
    }
    pid_t r;
    do {
      r = waitpid(si.si_pid, status, WNOHANG);
    } while (r == -1 && errno == EINTR);
    if (r == si.si_pid) return r;
    if (r == -1 && errno == ECHILD) continue; /* collected by someone else meanwhile */
    return 0;
  }
}

static napi_value Reap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t *owned = NULL, *out = NULL;
  size_t n_owned = 0, n_out = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "reap(owned, out) expects two Int32Arrays");
    return NULL;
  }
  if (!arg_int32_array(env, argv[0], &owned, &n_owned) || !arg_int32_array(env, argv[1], &out, &n_out)) return NULL;
  if (n_out < OUT_LENGTH) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "reap(): out needs 4 slots");
    return NULL;
  }
  for (int i = 1; i < OUT_LENGTH; i++) out[i] = 0;
  int32_t collected = 0;
  int status = 0;
  pid_t pid;
  while ((pid = collect_next(owned, n_owned, out, &status)) > 0) {
    collected++;
    record(out, pid, status);
  }
  return int32_value(env, collected);
}

napi_status register_reap(napi_env env, napi_value exports) {
  static const addon_fn fns[] = {{"reap", Reap}};
  return addon_export(env, exports, fns, 1);
}
