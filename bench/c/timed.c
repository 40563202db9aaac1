/* timed CMD [ARGS...]: run CMD, wait for it, print "end <monotonic ns> <wait status>".
 * The parent of `unshare`: the end time is when the whole namespace is gone. */
#include "common.h"
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
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int64_t end = mono_ns();
  say(1, "begin %lld\nend %lld %d\n", (long long)begin, (long long)end, status);
  return 0;
}
