#!/bin/sh
# Probe of this pod's server or sentinel (st2k8s, official flavor):
#   probe.sh server|sentinel liveness|readiness SECONDS
# Ready when it answers PONG; alive also while it loads its data or has no master.
set -eu
case "${1:-}" in
  server) port={{ redis_port }} ;;
  sentinel) port={{ sentinel_port }} ;;
  *) echo "usage: probe.sh server|sentinel liveness|readiness SECONDS" >&2; exit 2 ;;
esac
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
  REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")"
  VALKEYCLI_AUTH="$REDISCLI_AUTH"
  export REDISCLI_AUTH VALKEYCLI_AUTH
fi
cli_program="$(command -v valkey-cli || command -v redis-cli)"
reply="$(timeout "${3:-5}" "$cli_program" -h localhost -p "$port" ping 2>&1 || true)"
case "$reply" in
  PONG) exit 0 ;;
  LOADING* | MASTERDOWN*) [ "${2:-}" = liveness ] && exit 0 ;;
esac
echo "$1 on port $port: ${reply:-no answer}" >&2
exit 1
