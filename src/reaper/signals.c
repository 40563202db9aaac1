/*
 * Signals Node cannot handle, owned here:
 * - real-time signals (Node cannot listen for them) and PIPE sent from outside (Node ignores PIPE):
 *   forwarded to the app straight from the handler with kill(2), which is async-signal-safe. Before
 *   the app exists they are counted and sent once its pid is known.
 * - SEGV, BUS, FPE, ILL: one sent from outside (kill -SEGV) is ignored, as PID 1 would; a real
 *   fault first SIGKILLs the app, which would otherwise be orphaned, then goes on to the handler
 *   that was there before (V8's, then the default: the init dies).
 * - SIGUSR1: Node, started with --disable-sigusr1, keeps it blocked in every thread; unblocking it
 *   in the main thread hands it to our listener, and one that arrived early is still pending.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "addon.h"

#define MAX_SIGNAL 65

static volatile int32_t g_target = 0; /* where forwarded signals go: pid, or -pgid */
static int32_t g_pending[MAX_SIGNAL];
static int32_t g_forwarded[MAX_SIGNAL];
static struct sigaction g_previous[MAX_SIGNAL];

static const int FAULTS[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};

/* Sends every pending instance of sig; the handler and the main thread may both drain. */
static void drain(int sig) {
  int32_t target = __atomic_load_n(&g_target, __ATOMIC_SEQ_CST);
  if (target == 0) return;
  int32_t n = __atomic_load_n(&g_pending[sig], __ATOMIC_SEQ_CST);
  while (n > 0) {
    if (__atomic_compare_exchange_n(&g_pending[sig], &n, n - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      int saved = errno;
      if (kill(target, sig) == 0) __atomic_add_fetch(&g_forwarded[sig], 1, __ATOMIC_SEQ_CST);
      errno = saved;
      n = __atomic_load_n(&g_pending[sig], __ATOMIC_SEQ_CST);
    }
  }
}

static void on_forwarded(int sig, siginfo_t* info, void* context) {
  (void)context;
  /* the kernel raises PIPE in the init itself when one of its own writes finds no reader */
  if (sig == SIGPIPE && info != NULL && info->si_pid == getpid()) return;
  __atomic_add_fetch(&g_pending[sig], 1, __ATOMIC_SEQ_CST);
  drain(sig);
}

static void on_fault(int sig, siginfo_t* info, void* context) {
  if (info != NULL && info->si_code <= 0) return; /* sent by kill/sigqueue/tgkill from outside */
  int32_t target = __atomic_load_n(&g_target, __ATOMIC_SEQ_CST);
  if (target != 0 && getpid() != 1) (void)kill(target, SIGKILL);
  struct sigaction* prev = &g_previous[sig];
  if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction != NULL) {
    prev->sa_sigaction(sig, info, context);
    return;
  }
  (void)sigaction(sig, prev, NULL); /* the fault repeats on return, now with the old disposition */
}

/* forwardSignals(signals: Int32Array): a handler that forwards each listed signal. Returns 0 or errno. */
static napi_value ForwardSignals(napi_env env, napi_callback_info info) {
  int32_t* sigs;
  size_t n;
  if (!int32_array_arg(env, info, &sigs, &n)) return NULL;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_forwarded;
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  sigfillset(&sa.sa_mask);
  for (size_t i = 0; i < n; i++) {
    if (sigs[i] <= 0 || sigs[i] >= MAX_SIGNAL) return int32_value(env, EINVAL);
    if (sigaction(sigs[i], &sa, NULL) != 0) return int32_value(env, errno);
  }
  return int32_value(env, 0);
}

/* setSignalTarget(target): where forwarded signals go from now on; sends what was pending. */
static napi_value SetSignalTarget(napi_env env, napi_callback_info info) {
  int32_t target;
  if (!int_args(env, info, 1, &target)) return NULL;
  __atomic_store_n(&g_target, target, __ATOMIC_SEQ_CST);
  for (int s = 1; s < MAX_SIGNAL; s++) drain(s);
  return int32_value(env, 0);
}

/* guardFaults(): install the fault handler for SEGV, BUS, FPE and ILL. Returns 0 or errno. */
static napi_value GuardFaults(napi_env env, napi_callback_info info) {
  (void)info;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof FAULTS / sizeof FAULTS[0]; i++) {
    if (sigaction(FAULTS[i], &sa, &g_previous[FAULTS[i]]) != 0) return int32_value(env, errno);
  }
  return int32_value(env, 0);
}

/* unblockSignal(sig): in the calling (main) thread only. Returns 0 or errno. */
static napi_value UnblockSignal(napi_env env, napi_callback_info info) {
  int32_t sig;
  if (!int_args(env, info, 1, &sig)) return NULL;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  return int32_value(env, sigprocmask(SIG_UNBLOCK, &set, NULL) == 0 ? 0 : errno);
}

/* realtimeRange(out: Int32Array): [SIGRTMIN, SIGRTMAX] as this libc defines them. */
static napi_value RealtimeRange(napi_env env, napi_callback_info info) {
  int32_t* out;
  size_t n;
  if (!int32_array_arg(env, info, &out, &n)) return NULL;
  if (n < 2) return int32_value(env, EINVAL);
  out[0] = SIGRTMIN;
  out[1] = SIGRTMAX;
  return int32_value(env, 0);
}

/* forwardedCounts(out: Int32Array): how many of each signal the handler has forwarded. */
static napi_value ForwardedCounts(napi_env env, napi_callback_info info) {
  int32_t* out;
  size_t n;
  if (!int32_array_arg(env, info, &out, &n)) return NULL;
  for (size_t s = 0; s < n && s < MAX_SIGNAL; s++) out[s] = __atomic_load_n(&g_forwarded[s], __ATOMIC_SEQ_CST);
  return int32_value(env, 0);
}

napi_status register_signals(napi_env env, napi_value exports) {
  static const addon_fn fns[] = {
      {"forwardSignals", ForwardSignals}, {"setSignalTarget", SetSignalTarget}, {"guardFaults", GuardFaults},
      {"unblockSignal", UnblockSignal},   {"realtimeRange", RealtimeRange},     {"forwardedCounts", ForwardedCounts},
  };
  return addon_export(env, exports, fns, sizeof fns / sizeof fns[0]);
}
