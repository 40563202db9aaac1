#!/bin/sh
# The official image's entrypoint runs /docker-entrypoint.d/*.sh first; there are none here.
set -e
exec "$@"
