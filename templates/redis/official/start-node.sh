#!/bin/sh
# Start this pod's server (st2k8s, official flavor): as a replica of the master the sentinels
# name; when no sentinel answers, pod 0 starts as master and the others replicate from it.
# The data directory is used as it is: nothing here deletes or initializes data.
{% include "redis/official/common.sh" %}

find_master
if [ -z "$master_host" ]; then
  if [ "$pod" = "{{ node_prefix }}0" ]; then
    role=master
  else
    role=replica
    master_host="{{ node_prefix }}0.${headless}"
    master_port={{ redis_port }}
  fi
elif is_self; then
  # The sentinels still name this pod (its server restarted before a failover): stay master.
  role=master
else
  role=replica
  # Sentinels may still name a master that died before a new one was elected. Stop here in that
  # case: the container restarts, and by then the election is over.
  if [ "$(cli -h "$master_host" -p "$master_port" ping 2>/dev/null || true)" != PONG ]; then
    echo "the sentinels name ${master_host}:${master_port} as master of {{ master_set }}, and it does not answer" >&2
    exit 1
  fi
fi
if [ "$role" = master ]; then
  echo "starting as master"
else
  echo "starting as replica of ${master_host}:${master_port}"
fi

# The configuration is written afresh on every start: the mounted settings, then this pod's.
conf="$run/redis.conf"
{
  cat "$config/redis.conf"
  echo
  printf 'dir "%s"\n' "${REDIS_DATA_DIR:?}"
  printf 'replica-announce-ip %s\n' "$self"
  if [ "$role" = replica ]; then
    printf 'replicaof %s %s\n' "$master_host" "$master_port"
  fi
  if [ -n "$password" ]; then
    printf 'requirepass %s\n' "$password_word"
    printf 'masterauth %s\n' "$password_word"
  fi
} > "$conf.new"
mv "$conf.new" "$conf"

# The server has the password in its configuration; its environment need not hold it too.
unset REDISCLI_AUTH VALKEYCLI_AUTH
exec "$server" "$conf"{% for flag in extra_flags %} {{ flag }}{% endfor %}

