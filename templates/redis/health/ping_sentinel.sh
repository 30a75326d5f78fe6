#!/bin/bash
# Healthy when the local sentinel answers PONG within $1 seconds.
{% include "redis/health/lib.sh" %}
answer="$(ask localhost "${{ sentinel_port_env }}" "${REDIS_PASSWORD:-}" "$1")"
[ "$answer" = PONG ] || { echo "$answer"; exit 1; }
