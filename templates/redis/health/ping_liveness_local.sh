#!/bin/bash
# Alive when the local Redis server answers within $1 seconds, even while it loads its data.
{% include "redis/health/lib.sh" %}
answer="$(ask localhost "${{ local_port_env }}" "${REDIS_PASSWORD:-}" "$1")"
case "$answer" in
  PONG | LOADING*) ;;
  *) echo "$answer"; exit 1 ;;
esac
