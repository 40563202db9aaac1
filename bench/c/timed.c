/* timed CMD [ARGS...]: run CMD, wait for it, print "end <monotonic ns> <wait status> <ru_maxrss KiB>".
 * The parent of `unshare`: the end time is when the whole namespace is gone. The peak RSS comes
 * from wait4: the largest of CMD and every descendant it waited for (for `unshare --fork`: the
 * init, or whatever ran in the namespace and was reaped, whichever was largest at its peak). */
#include "common.h"
#include <sys/resource.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    say(2, "usage: timed CMD [ARGS...]\n");
    return 2;
  }
  int64_t begin = mono_ns();
  pid_t pid = fork();
  if (pid < 0) {
    say(2, "timed: fork: %s\n", strerror(errno));
    return 1;
  }
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    say(2, "timed: cannot exec %s: %s\n", argv[1], strerror(errno));
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  int64_t end = mono_ns();
  say(1, "begin %lld\nend %lld %d %ld\n", (long long)begin, (long long)end, status, (long)ru.ru_maxrss);
  return 0;
}
