#!/bin/sh
# Start this pod's sentinel (st2k8s, official flavor): it monitors the master the other
# sentinels name (pod 0 when none answers) and announces this pod's DNS name.
{% include "redis/official/common.sh" %}

find_master
if [ -z "$master_host" ]; then
  master_host="{{ node_prefix }}0.${headless}"
  master_port={{ redis_port }}
elif [ "$(cli -h "$master_host" -p "$master_port" ping 2>/dev/null || true)" != PONG ]; then
  # A sentinel that starts out watching a dead master never hears of its successor: wait (the
  # container restarts) until the others have elected one that answers.
  echo "the sentinels name ${master_host}:${master_port} as master of {{ master_set }}, and it does not answer" >&2
  exit 1
fi
echo "monitoring ${master_host}:${master_port}"

# A restarted container keeps its sentinel ID (the file lives on the pod's emptyDir).
conf="$run/sentinel.conf"
myid=""
if [ -f "$conf" ]; then
  myid="$(sed -n 's/^sentinel myid \([0-9a-f]*\)$/\1/p' "$conf" | head -n 1)"
fi
{
  cat "$config/sentinel.conf"
  echo
  printf 'dir "%s"\n' "$run"
  printf 'sentinel announce-ip %s\n' "$self"
  printf 'sentinel monitor {{ master_set }} %s %s {{ quorum }}\n' "$master_host" "$master_port"
  cat "$config/sentinel-master.conf"
  echo
  if [ -n "$myid" ]; then
    printf 'sentinel myid %s\n' "$myid"
  fi
  if [ -n "$password" ]; then
    printf 'sentinel auth-pass {{ master_set }} %s\n' "$password_word"
{% if sentinel_password %}
    printf 'requirepass %s\n' "$password_word"
    printf 'sentinel sentinel-pass %s\n' "$password_word"
{% endif %}
  fi
} > "$conf.new"
mv "$conf.new" "$conf"

# The server has the password in its configuration; its environment need not hold it too.
unset REDISCLI_AUTH VALKEYCLI_AUTH
exec "$server" "$conf" --sentinel
