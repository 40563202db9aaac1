/* The init's own memory. Returns 0 or errno. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "addon.h"

/* A signal waits for the syscall under way: in pieces this size, forwarding is held up by
 * microseconds, not by the whole range. */
#define PIECE (256 * 1024)

/* madvise(MADV_DONTNEED) over each [start, end) pair of a buffer of uint64s: the caller passes
 * read-only file pages only, which come back from the page cache when touched again. */
static napi_value ReleasePages(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char* data;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || !arg_buffer(env, argv[0], &data, &len)) return NULL;
  for (size_t i = 0; i + 16 <= len; i += 16) {
    uint64_t range[2];
    memcpy(range, data + i, sizeof range);
    for (uint64_t at = range[0]; at < range[1]; at += PIECE) {
      size_t piece = (size_t)(range[1] - at < PIECE ? range[1] - at : PIECE);
      if (madvise((void*)(uintptr_t)at, piece, MADV_DONTNEED) != 0) return int32_value(env, errno);
    }
  }
  return int32_value(env, 0);
}

/* malloc_trim(0): glibc hands the free pages of its heaps back to the kernel (MADV_DONTNEED on
 * each free run of whole pages, not only the heap's top). Returns 1 if any was released, else 0. */
static napi_value TrimMalloc(napi_env env, napi_callback_info info) {
  (void)info;
  return int32_value(env, malloc_trim(0));
}

napi_status register_memory(napi_env env, napi_value exports) {
  static const addon_fn fns[] = {{"releasePages", ReleasePages}, {"trimMalloc", TrimMalloc}};
  return addon_export(env, exports, fns, sizeof fns / sizeof fns[0]);
}
