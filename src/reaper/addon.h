/*
 * The graceful-init addon: thin wrappers over syscalls. Each file registers its own functions;
 * values cross as numbers, Int32Arrays and Buffers, and failures come back as errno numbers that
 * the TypeScript side names (native-api.ts).
 */
#ifndef GRACEFUL_INIT_ADDON_H
#define GRACEFUL_INIT_ADDON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

/* One exported function. */
typedef struct {
  const char* name;
  napi_callback fn;
} addon_fn;

napi_status addon_export(napi_env env, napi_value exports, const addon_fn* fns, size_t count);

/* Argument helpers: each returns 0 and throws a TypeError when the argument has the wrong type. */
int arg_int32(napi_env env, napi_value v, int32_t* out);
int arg_int32_array(napi_env env, napi_value v, int32_t** data, size_t* len);
int arg_buffer(napi_env env, napi_value v, char** data, size_t* len);
/* The first `want` (at most 2) arguments as int32s, or one Int32Array; 0 (a TypeError thrown) when absent or mistyped. */
int int_args(napi_env env, napi_callback_info info, size_t want, int32_t* vals);
int int32_array_arg(napi_env env, napi_callback_info info, int32_t** data, size_t* len);
napi_value int32_value(napi_env env, int32_t n);
napi_value bool_value(napi_env env, int b);

/* The handler a signal had before ours (signals.c): a function (not SIG_DFL or SIG_IGN)? Then
 * going on to it, in the form it was installed with (libuv's takes the number only). */
int is_handler_function(const struct sigaction* action);
void call_handler(const struct sigaction* action, int sig, siginfo_t* info, void* context);

/* Registration of each file's functions. */
napi_status register_reap(napi_env env, napi_value exports);
napi_status register_spawn(napi_env env, napi_value exports);
napi_status register_process(napi_env env, napi_value exports);
napi_status register_signals(napi_env env, napi_value exports);
napi_status register_quick_exit(napi_env env, napi_value exports);
napi_status register_memory(napi_env env, napi_value exports);

#endif
