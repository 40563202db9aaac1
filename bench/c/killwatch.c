/* killwatch SIG TARGET WATCH TIMEOUT_MS: send SIG to pid TARGET (the init, seen from outside its
 * namespace) and report when pid WATCH (the app) dies, via a pidfd:
 *   "killwatch <sent ns> <died ns>"  or  "killwatch <sent ns> -1"  when it outlived TIMEOUT_MS. */
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
  if (argc != 5) {
    say(2, "usage: killwatch SIG TARGET WATCH TIMEOUT_MS\n");
    return 2;
  }
  int sig = atoi(argv[1]);
  pid_t target = (pid_t)atoi(argv[2]);
  pid_t watch = (pid_t)atoi(argv[3]);
  int timeout = atoi(argv[4]);
  int fd = (int)syscall(SYS_pidfd_open, watch, 0);
  if (fd < 0) {
    say(2, "killwatch: pidfd_open %d: %s\n", (int)watch, strerror(errno));
    return 1;
  }
  int64_t sent = mono_ns();
  if (kill(target, sig) < 0) {
    say(2, "killwatch: kill %d: %s\n", (int)target, strerror(errno));
    return 1;
  }
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int64_t until = sent + (int64_t)timeout * 1000000LL;
  for (;;) {
    int64_t left = (until - mono_ns()) / 1000000LL;
    if (left < 0) left = 0;
    int r = poll(&p, 1, (int)left);
    if (r > 0) {
      say(1, "killwatch %lld %lld\n", (long long)sent, (long long)mono_ns());
      return 0;
    }
    if (r == 0) {
      say(1, "killwatch %lld -1\n", (long long)sent);
      return 0;
    }
    if (errno != EINTR) return 1;
  }
}
