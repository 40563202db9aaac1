/*
 * Module entry and the small N-API helpers every file shares.
 *
 * Signal masks are changed with sigprocmask(), which on Linux/glibc affects only the calling
 * thread (the same syscall as pthread_sigmask). pthread_sigmask would bind to
 * pthread_sigmask@GLIBC_2.32 when built on glibc >= 2.34, while the official Node 24 binary needs
 * only glibc 2.28; the addon stays at that level.
 */
#include "addon.h"
#include "nbwrite.h"
#include "sockdiag.h"

napi_status addon_export(napi_env env, napi_value exports, const addon_fn* fns, size_t count) {
  for (size_t i = 0; i < count; i++) {
    napi_value fn;
    napi_status s = napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    if (s != napi_ok) return s;
    s = napi_set_named_property(env, exports, fns[i].name, fn);
    if (s != napi_ok) return s;
  }
  return napi_ok;
}

int arg_int32(napi_env env, napi_value v, int32_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a number");
    return 0;
  }
  return 1;
}

int arg_int32_array(napi_env env, napi_value v, int32_t** data, size_t* len) {
  bool is_typed = false;
  napi_typedarray_type type;
  void* ptr = NULL;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an Int32Array");
    return 0;
  }
  *data = (int32_t*)ptr;
  return 1;
}

int arg_buffer(napi_env env, napi_value v, char** data, size_t* len) {
  bool is_buffer = false;
  void* ptr = NULL;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, v, &ptr, len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a Buffer");
    return 0;
  }
  *data = (char*)ptr;
  return 1;
}

int int_args(napi_env env, napi_callback_info info, size_t want, int32_t* vals) {
  size_t argc = 2;
  napi_value argv[2];
  if (want > 2 || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "missing argument");
    return 0;
  }
  for (size_t i = 0; i < want; i++)
    if (!arg_int32(env, argv[i], &vals[i])) return 0;
  return 1;
}

int int32_array_arg(napi_env env, napi_callback_info info, int32_t** data, size_t* len) {
  size_t argc = 1;
  napi_value arg;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "missing argument");
    return 0;
  }
  return arg_int32_array(env, arg, data, len);
}

napi_value int32_value(napi_env env, int32_t n) {
  napi_value v = NULL;
  napi_create_int32(env, n, &v);
  return v;
}

napi_value bool_value(napi_env env, int b) {
  napi_value v = NULL;
  napi_get_boolean(env, b != 0, &v);
  return v;
}

NAPI_MODULE_INIT() {
  if (register_reap(env, exports) != napi_ok || register_spawn(env, exports) != napi_ok ||
      register_process(env, exports) != napi_ok || register_signals(env, exports) != napi_ok ||
      register_quick_exit(env, exports) != napi_ok || register_memory(env, exports) != napi_ok ||
      sockdiag_register(env, exports) != napi_ok || nbwrite_register(env, exports) != napi_ok) {
    napi_throw_error(env, NULL, "graceful-init addon: cannot register its functions");
    return NULL;
  }
  return exports;
}
