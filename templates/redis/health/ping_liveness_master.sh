#!/bin/bash
# Alive when the master answers within $1 seconds, even while it loads its data.
{% include "redis/health/lib.sh" %}
answer="$(ask "$REDIS_MASTER_HOST" "$REDIS_MASTER_PORT_NUMBER" "${REDIS_MASTER_PASSWORD:-}" "$1")"
case "$answer" in
  PONG | LOADING*) ;;
  *) echo "$answer"; exit 1 ;;
esac
