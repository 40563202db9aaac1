/* probe MODE ...: the app the inits run in every benchmark. Prints one line per event on stdout.
 *   first                      "first <mono ns> <realtime ns>", taken as main's first statement
 *   recv                       blocks USR1/USR2/TERM/INT, "ready <ns>", then "sig <signo> <ns>" per
 *                              USR1/USR2 received (sigwaitinfo); exits 0 on TERM/INT
 *   ignore-term                ignores TERM, "ready <ns>", sleeps until killed
 *   stream N K INTERVAL_US TIMEOUT_MS
 *                              "ready <ns>", 100 ms later makes N orphans, K every INTERVAL_US (each
 *                              batch: a child forks K grandchildren that exit at once, then exits
 *                              itself, so they are handed to PID 1), counting every 5 ms how many
 *                              are not reaped yet; then waits for all to be reaped; prints
 *                              "stream <start> <last made> <all reaped|-1> <left> <most not reaped>"
 *   burst N TIMEOUT_MS         a child forks N grandchildren that block on a pipe, the child is
 *                              SIGKILLed (N live orphans for PID 1), "armed <ns>", 100 ms later the
 *                              pipe is closed so all N exit together; prints
 *                              "burst <released> <all reaped|-1> <left> <N>"
 * "Reaped" means kill(pid, 0) fails with ESRCH: a zombie still has its pid. */
#include "common.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

static void nap_us(long us) {
  struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

static int gone(pid_t pid) { return kill(pid, 0) < 0 && errno == ESRCH; }

/* drops reaped pids from list[0..n), returns the new n */
static int sweep(pid_t *list, int n) {
  int kept = 0;
  for (int i = 0; i < n; i++)
    if (!gone(list[i])) list[kept++] = list[i];
  return kept;
}

static int read_full(int fd, void *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t r = read(fd, (char *)buf + off, len - off);
    if (r == 0) return 0;
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    off += (size_t)r;
  }
  return 1;
}

static int recv_mode(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  say(1, "ready %lld\n", (long long)mono_ns());
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    int64_t now = mono_ns();
    if (sig < 0) continue;
    if (sig == SIGTERM || sig == SIGINT) {
      say(1, "term %lld\n", (long long)now);
      return 0;
    }
    say(1, "sig %d %lld\n", sig, (long long)now);
  }
}

static int ignore_term_mode(void) {
  signal(SIGTERM, SIG_IGN);
  say(1, "ready %lld\n", (long long)mono_ns());
  for (;;) pause();
  return 0;
}

static int stream_mode(int n, int k, long interval_us, long timeout_ms) {
  pid_t *pending = calloc((size_t)n + (size_t)k, sizeof(pid_t));
  if (!pending) return 1;
  int count = 0, created = 0, peak = 0;
  say(1, "ready %lld\n", (long long)mono_ns());
  nap_us(100000);
  int64_t start = mono_ns(), next_sweep = start;
  for (long batch = 0; created < n; batch++) {
    int64_t due = start + batch * interval_us * 1000LL;
    for (;;) {
      int64_t now = mono_ns();
      if (now >= next_sweep) {
        count = sweep(pending, count);
        if (count > peak) peak = count;
        next_sweep = now + 5000000LL;
      }
      if (now >= due) break;
      long wait = (long)((due - now) / 1000);
      nap_us(wait < 2000 ? wait : 2000);
    }
    int p[2];
    if (pipe(p) < 0) return 1;
    int want = n - created < k ? n - created : k;
    pid_t mid = fork();
    if (mid < 0) return 1;
    if (mid == 0) {
      close(p[0]);
      for (int i = 0; i < want; i++) {
        pid_t g = fork();
        if (g == 0) _exit(0);
        if (g > 0 && write(p[1], &g, sizeof g) != sizeof g) _exit(1);
      }
      _exit(0);
    }
    close(p[1]);
    pid_t g;
    while (read_full(p[0], &g, sizeof g) == 1) {
      pending[count++] = g;
      created++;
    }
    close(p[0]);
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  int64_t last = mono_ns(), done = -1;
  for (;;) {
    count = sweep(pending, count);
    int64_t now = mono_ns();
    if (count == 0) {
      done = now;
      break;
    }
    if (now - last > timeout_ms * 1000000LL) break;
    nap_us(200);
  }
  say(1, "stream %lld %lld %lld %d %d\n", (long long)start, (long long)last, (long long)done, count, peak);
  nap_us(200000); /* the bench reads the init's CPU time now */
  return 0;
}

static int burst_mode(int n, long timeout_ms) {
  int release[2], pids[2];
  if (pipe(release) < 0 || pipe(pids) < 0) return 1;
  pid_t mid = fork();
  if (mid < 0) return 1;
  if (mid == 0) {
    close(release[1]);
    close(pids[0]);
    for (int i = 0; i < n; i++) {
      pid_t c = fork();
      if (c == 0) {
        close(pids[1]);
        char b;
        while (read(release[0], &b, 1) < 0 && errno == EINTR) {
        }
        _exit(0);
      }
      if (c > 0 && write(pids[1], &c, sizeof c) != sizeof c) _exit(1);
    }
    close(pids[1]);
    for (;;) pause();
  }
  close(release[0]);
  close(pids[1]);
  pid_t *list = calloc((size_t)n, sizeof(pid_t));
  if (!list) return 1;
  int got = 0;
  while (got < n && read_full(pids[0], &list[got], sizeof(pid_t)) == 1) got++;
  kill(mid, SIGKILL);
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
  }
  say(1, "armed %lld\n", (long long)mono_ns());
  nap_us(100000); /* let the re-parenting settle */
  int64_t released = mono_ns(), done = -1;
  close(release[1]);
  int cursor = 0;
  for (;;) {
    while (cursor < got && gone(list[cursor])) cursor++;
    int64_t now = mono_ns();
    if (cursor == got) {
      done = now;
      break;
    }
    if (now - released > timeout_ms * 1000000LL) break;
    nap_us(100);
  }
  int left = sweep(list, got);
  say(1, "burst %lld %lld %d %d\n", (long long)released, (long long)done, left, got);
  nap_us(200000); /* the bench reads the init's CPU time now */
  return 0;
}

int main(int argc, char **argv) {
  int64_t first_mono = mono_ns();
  int64_t first_real = real_ns();
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "first") == 0) {
    say(1, "first %lld %lld\n", (long long)first_mono, (long long)first_real);
    return 0;
  }
  if (strcmp(mode, "recv") == 0) return recv_mode();
  if (strcmp(mode, "ignore-term") == 0) return ignore_term_mode();
  if (strcmp(mode, "stream") == 0 && argc == 6)
    return stream_mode(atoi(argv[2]), atoi(argv[3]), atol(argv[4]), atol(argv[5]));
  if (strcmp(mode, "burst") == 0 && argc == 4) return burst_mode(atoi(argv[2]), atol(argv[3]));
  say(2, "usage: probe first|recv|ignore-term|stream N K INTERVAL_US TIMEOUT_MS|burst N TIMEOUT_MS\n");
  return 2;
}
