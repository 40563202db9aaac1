/* Traffic sensing for graceful-init: TCP sockets of the network namespace via sock_diag. */
#ifndef GRACEFUL_INIT_SOCKDIAG_H
#define GRACEFUL_INIT_SOCKDIAG_H

#include <node_api.h>

/* Adds tcpListeners, tcpConnections and socketInodes to the addon's exports. */
napi_status sockdiag_register(napi_env env, napi_value exports);

#endif
