{
  "targets": [
    {
      "target_name": "reaper",
      "sources": ["addon.c", "reap.c", "spawn.c", "process.c", "signals.c", "quick-exit.c", "memory.c", "sockdiag.c", "nbwrite.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags!": ["-O3", "-O0", "-fno-exceptions"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden"],
      "ldflags": ["-Wl,--as-needed", "-Wl,-z,now", "-Wl,-z,relro", "-Wl,-s"]
    }
  ]
}
