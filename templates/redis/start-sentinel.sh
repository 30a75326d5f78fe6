#!/bin/bash
# Start the Redis Sentinel of this pod (st2k8s): point it at the current master and, with
# static IDs, introduce the other sentinels and replicas it should already know.
{% include "redis/common.sh" %}

conf=/opt/bitnami/redis-sentinel/etc/sentinel.conf

# A sentinel's ID is the SHA-1 of its pod name (plus newline), so it survives restarts and
# every sentinel can name its peers before meeting them.
node_id() {
  printf '%s\n' "$1" | sha1sum | awk '{print $1}'
}

# Rewrite the configuration through a variable: the file lives on an emptyDir, and sed -i
# behaves differently across images.
conf_filter() {
  local kept
  kept="$("$@" "$conf")"
  printf '%s\n' "$kept" > "$conf"
}

if [ ! -f "$conf" ]; then
  cp /opt/bitnami/redis-sentinel/mounted-etc/sentinel.conf "$conf"
{% if use_password %}
  printf '\nsentinel auth-pass %s %s' "{{ master_set }}" "$REDIS_PASSWORD" >> "$conf"
{% if sentinel_password %}
  printf '\nrequirepass %s' "$REDIS_PASSWORD" >> "$conf"
{% endif %}
{% endif %}
{% if static_id %}
  printf '\nsentinel myid %s' "$(node_id "$HOSTNAME")" >> "$conf"
{% endif %}
fi

find_master
conf_filter sed -E "s|^sentinel monitor {{ master_set }} .*|sentinel monitor {{ master_set }} ${master_host} ${master_port} {{ quorum }}|"
{% if static_id %}

# Forget what an earlier start of this container wrote, then list the peers again.
conf_filter grep -v -e '^sentinel known-' -e '^$'
for i in $(seq 0 {{ last_node }}); do
  name="{{ node_prefix }}${i}"
  [ "$name" = "$HOSTNAME" ] && continue
  ip="$(getent hosts "${name}.${headless}" | awk '{print $1; exit}')"
  [ -n "$ip" ] || continue
  echo "sentinel known-sentinel {{ master_set }} ${ip} {{ sentinel_port }} $(node_id "$name")" >> "$conf"
  if [ "$ip" != "$master_host" ]; then
    echo "sentinel known-replica {{ master_set }} ${ip} {{ redis_port }}" >> "$conf"
  fi
done
if [ "$role" = replica ]; then
  echo "sentinel known-replica {{ master_set }} $(hostname -i | awk '{print $1}') {{ redis_port }}" >> "$conf"
fi
{% endif %}

# Prefer the image's own start script (it drops root privileges when needed).
if [ -x /opt/bitnami/scripts/redis-sentinel/run.sh ]; then
  exec /opt/bitnami/scripts/redis-sentinel/run.sh
fi
exec redis-server "$conf" --sentinel
