#!/bin/bash
# Ready when the master named by REDIS_MASTER_HOST/PORT_NUMBER answers PONG within $1 seconds.
{% include "redis/health/lib.sh" %}
answer="$(ask "$REDIS_MASTER_HOST" "$REDIS_MASTER_PORT_NUMBER" "${REDIS_MASTER_PASSWORD:-}" "$1")"
[ "$answer" = PONG ] || { echo "$answer"; exit 1; }
