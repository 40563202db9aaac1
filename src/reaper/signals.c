/*
 * Signals forwarded or owned here:
 * - routed signals (routeSignals): forwarded to the app straight from the handler with kill(2),
 *   which is async-signal-safe, so a busy event loop delays none of them. Before the app exists
 *   they are counted and sent once its pid is known. With passOn (the init's -v), an ordinary
 *   signal Node also listens for is then passed on to the handler that was there before (libuv's),
 *   so that JavaScript hears of it afterwards, for the log, and claims it (claimRouted) instead of
 *   sending it again; without, nothing else in the init wakes up for it. Real-time signals (Node cannot listen for them) and PIPE sent from outside (Node
 *   ignores PIPE) are routed too and never reach JavaScript.
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
static int32_t g_route[MAX_SIGNAL];     /* what each routed signal is sent as; 0: not routed */
static int32_t g_pending[MAX_SIGNAL];   /* received, not yet sent (no target yet) */
static int32_t g_forwarded[MAX_SIGNAL];
static int32_t g_unclaimed[MAX_SIGNAL]; /* handed on to JavaScript, not yet claimed there */
static struct sigaction g_previous[MAX_SIGNAL];
/* hand each routed signal on to the previous handler (Node's listener, for the -v log) */
static int32_t g_pass_on[MAX_SIGNAL];

static const int FAULTS[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};

/* Takes one from a count the handler and the main thread may both take from: 1 if there was one. */
static int take_one(int32_t* count) {
  int32_t n = __atomic_load_n(count, __ATOMIC_SEQ_CST);
  while (n > 0) {
    if (__atomic_compare_exchange_n(count, &n, n - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return 1;
  }
  return 0;
}

/* Sends every pending instance of sig, once there is a target. */
static void drain(int sig) {
  int32_t target = __atomic_load_n(&g_target, __ATOMIC_SEQ_CST);
  if (target == 0) return;
  while (take_one(&g_pending[sig])) {
    if (kill(target, __atomic_load_n(&g_route[sig], __ATOMIC_SEQ_CST)) == 0) __atomic_add_fetch(&g_forwarded[sig], 1, __ATOMIC_SEQ_CST);
  }
}

int is_handler_function(const struct sigaction* action) {
  if (action->sa_flags & SA_SIGINFO) return action->sa_sigaction != NULL;
  return action->sa_handler != SIG_DFL && action->sa_handler != SIG_IGN;
}

void call_handler(const struct sigaction* action, int sig, siginfo_t* info, void* context) {
  if (action->sa_flags & SA_SIGINFO) action->sa_sigaction(sig, info, context);
  else action->sa_handler(sig);
}

static void on_routed(int sig, siginfo_t* info, void* context) {
  int saved = errno;
  int chained = __atomic_load_n(&g_pass_on[sig], __ATOMIC_SEQ_CST) && is_handler_function(&g_previous[sig]);
  /* the kernel raises PIPE in the init itself when one of its own writes finds no reader */
  if (!(sig == SIGPIPE && info != NULL && info->si_pid == getpid())) {
    __atomic_add_fetch(&g_pending[sig], 1, __ATOMIC_SEQ_CST);
    drain(sig);
    /* before the hand-on: JavaScript may claim it as soon as libuv has written to its pipe */
    if (chained) __atomic_add_fetch(&g_unclaimed[sig], 1, __ATOMIC_SEQ_CST);
  }
  if (chained) call_handler(&g_previous[sig], sig, info, context);
  errno = saved;
}

static void on_fault(int sig, siginfo_t* info, void* context) {
  if (info != NULL && info->si_code <= 0) return; /* sent by kill/sigqueue/tgkill from outside */
  int32_t target = __atomic_load_n(&g_target, __ATOMIC_SEQ_CST);
  if (target != 0 && getpid() != 1) (void)kill(target, SIGKILL);
  if (is_handler_function(&g_previous[sig])) call_handler(&g_previous[sig], sig, info, context);
  else (void)sigaction(sig, &g_previous[sig], NULL); /* the fault repeats on return, now with the old disposition */
}

static int is_fault(int sig) {
  for (size_t i = 0; i < sizeof FAULTS / sizeof FAULTS[0]; i++) {
    if (FAULTS[i] == sig) return 1;
  }
  return 0;
}

/*
 * routeSignals(table: Int32Array, passOn: 0|1): for each s with table[s] != 0, a handler that sends
 * signal table[s] for every s received, then, with passOn, goes on to the handler that was there
 * before. Checks the whole table before installing anything. Returns 0 or errno.
 */
static napi_value RouteSignals(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t* table;
  size_t n;
  int32_t pass_on;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "routeSignals(table, passOn)");
    return NULL;
  }
  if (!arg_int32_array(env, argv[0], &table, &n) || !arg_int32(env, argv[1], &pass_on)) return NULL;
  if (n > MAX_SIGNAL) return int32_value(env, EINVAL);
  for (size_t s = 0; s < n; s++) {
    if (table[s] == 0) continue;
    if (s == 0 || s == SIGKILL || s == SIGSTOP || is_fault((int)s) || table[s] < 0 || table[s] >= MAX_SIGNAL) {
      return int32_value(env, EINVAL);
    }
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_routed;
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  sigfillset(&sa.sa_mask);
  for (size_t s = 1; s < n; s++) {
    if (table[s] == 0) continue;
    struct sigaction current;
    if (sigaction((int)s, NULL, &current) != 0) return int32_value(env, errno);
    /* routed again: the handler to go on to is still the one found the first time, never ours */
    int ours = (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_routed;
    if (!ours) g_previous[s] = current;
    __atomic_store_n(&g_route[s], table[s], __ATOMIC_SEQ_CST);
    __atomic_store_n(&g_pass_on[s], pass_on != 0, __ATOMIC_SEQ_CST);
    if (!ours && sigaction((int)s, &sa, NULL) != 0) return int32_value(env, errno);
  }
  return int32_value(env, 0);
}

/* claimRouted(sig): 1 if the handler forwarded a sig that JavaScript has not yet claimed (claiming it), else 0. */
static napi_value ClaimRouted(napi_env env, napi_callback_info info) {
  int32_t sig;
  if (!int_args(env, info, 1, &sig)) return NULL;
  return int32_value(env, sig > 0 && sig < MAX_SIGNAL ? take_one(&g_unclaimed[sig]) : 0);
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
      {"routeSignals", RouteSignals},   {"claimRouted", ClaimRouted},     {"setSignalTarget", SetSignalTarget},
      {"guardFaults", GuardFaults},     {"unblockSignal", UnblockSignal}, {"realtimeRange", RealtimeRange},
      {"forwardedCounts", ForwardedCounts},
  };
  return addon_export(env, exports, fns, sizeof fns / sizeof fns[0]);
}
