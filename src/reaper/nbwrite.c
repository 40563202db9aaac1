/*
 * Writes that never block and never change the flags of the open file description, which the init
 * shares with the app (O_NONBLOCK set there would hand the app EAGAIN on its own writes).
 *
 *   sendNonBlocking(fd, buf)  send(MSG_DONTWAIT | MSG_NOSIGNAL): sockets only
 *   pollWrite(fd, buf)        poll(POLLOUT, 0) then one write() of at most PIPE_BUF bytes: for a
 *                             pipe that cannot be reopened; a write of <= PIPE_BUF to a pipe that
 *                             poll() called writable can still block if another writer (the app)
 *                             fills it in between: that race is the documented limit
 *
 * Both return the number of bytes written, or -errno. Nothing here throws for an I/O error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "nbwrite.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

static int get_fd_and_buffer(napi_env env, napi_callback_info cbinfo, int32_t* fd, void** data, size_t* len) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return 0;
  if (napi_get_value_int32(env, argv[0], fd) != napi_ok) return 0;
  bool is_buffer = false;
  if (napi_is_buffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer) return 0;
  return napi_get_buffer_info(env, argv[1], data, len) == napi_ok;
}

static napi_value result_of(napi_env env, ssize_t n) {
  napi_value result;
  if (napi_create_int32(env, n < 0 ? -errno : (int32_t)n, &result) != napi_ok) return NULL;
  return result;
}

static napi_value bad_arguments(napi_env env) {
  napi_throw_type_error(env, NULL, "expected (fd: number, data: Buffer)");
  return NULL;
}

static napi_value SendNonBlocking(napi_env env, napi_callback_info cbinfo) {
  int32_t fd;
  void* data;
  size_t len;
  if (!get_fd_and_buffer(env, cbinfo, &fd, &data, &len)) return bad_arguments(env);
  ssize_t n;
  do {
    n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return result_of(env, n);
}

static napi_value PollWrite(napi_env env, napi_callback_info cbinfo) {
  int32_t fd;
  void* data;
  size_t len;
  if (!get_fd_and_buffer(env, cbinfo, &fd, &data, &len)) return bad_arguments(env);
  struct pollfd p = {.fd = fd, .events = POLLOUT, .revents = 0};
  int ready;
  do {
    ready = poll(&p, 1, 0);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) return result_of(env, -1);
  if (ready == 0) {
    errno = EAGAIN;
    return result_of(env, -1);
  }
  if (p.revents & (POLLERR | POLLNVAL)) {
    errno = (p.revents & POLLNVAL) ? EBADF : EPIPE;
    return result_of(env, -1);
  }
  ssize_t n;
  do {
    n = write(fd, data, len > PIPE_BUF ? PIPE_BUF : len);
  } while (n < 0 && errno == EINTR);
  return result_of(env, n);
}

napi_status nbwrite_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sendNonBlocking", NULL, SendNonBlocking, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollWrite", NULL, PollWrite, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
