#!/bin/bash
# Ready when the local Redis server answers PONG within $1 seconds.
{% include "redis/health/lib.sh" %}
answer="$(ask localhost "${{ local_port_env }}" "${REDIS_PASSWORD:-}" "$1")"
[ "$answer" = PONG ] || { echo "$answer"; exit 1; }
