/* Non-blocking writes to a descriptor the init shares with the app (see nbwrite.c). */
#ifndef GRACEFUL_INIT_NBWRITE_H
#define GRACEFUL_INIT_NBWRITE_H

#include <node_api.h>

/* Adds sendNonBlocking() and pollWrite() to `exports`; returns napi_ok or the failing status. */
napi_status nbwrite_register(napi_env env, napi_value exports);

#endif
