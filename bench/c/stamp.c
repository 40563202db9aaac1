/* stamp CMD [ARGS...]: print "stamp <monotonic ns>" and exec CMD in the same process.
 * Put between `unshare --fork` and the init: the line is the moment just before the init's exec,
 * and the init keeps this PID (1 in the new namespace). */
#include "common.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    say(2, "usage: stamp CMD [ARGS...]\n");
    return 2;
  }
  say(1, "stamp %lld\n", (long long)mono_ns());
  execvp(argv[1], argv + 1);
  say(2, "stamp: cannot exec %s: %s\n", argv[1], strerror(errno));
  return 127;
}
