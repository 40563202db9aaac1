/* The control: an "init" that does what a shell script or an app as PID 1 does. It starts the app,
 * waits for that one pid only (orphans stay zombies), and installs no signal handler (as PID 1 the
 * kernel drops every signal it has no handler for, so nothing is forwarded). Exits with the app. */
#include "common.h"
#include <sys/wait.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--") == 0) {
    argv++;
    argc--;
  }
  if (argc < 2) {
    say(2, "usage: naive-init [--] APP [ARGS...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
