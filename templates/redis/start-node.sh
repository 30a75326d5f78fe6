#!/bin/bash
# Start the Redis server of this pod (st2k8s). The first pod of an empty group starts as
# master; later pods ask the sentinels for the current master and replicate from it.
{% include "redis/common.sh" %}

etc=/opt/bitnami/redis/etc
mounted=/opt/bitnami/redis/mounted-etc

# When the pod runs as root, hand the data directory to the user Redis runs as.
if [ "$(id -u)" = 0 ]; then
  id redis >/dev/null 2>&1 || useradd redis
  chown -R redis "{{ data_dir }}"
fi

find_master
echo "starting as ${role} (master: ${master_host}:${master_port})"

# The configuration is copied once into the writable directory, so that a restarted container
# keeps what Redis itself rewrote there.
for file in redis.conf "${role}.conf"; do
  [ -f "$etc/$file" ] || cp "$mounted/$file" "$etc/$file"
done

{% if tls %}
args=(--port 0 --tls-port "$REDIS_TLS_PORT" --tls-cert-file "$REDIS_TLS_CERT_FILE" --tls-key-file "$REDIS_TLS_KEY_FILE")
args+=(--tls-ca-cert-file "$REDIS_TLS_CA_FILE" --tls-auth-clients "$REDIS_TLS_AUTH_CLIENTS" --tls-replication yes)
{% if tls_dh_params %}
args+=(--tls-dh-params-file "$REDIS_TLS_DH_PARAMS_FILE")
{% endif %}
{% else %}
args=(--port "$REDIS_PORT")
{% endif %}
if [ "$role" = replica ]; then
  args+=(--slaveof "$master_host" "$master_port")
fi
{% if use_password %}
args+=(--requirepass "$REDIS_PASSWORD" --masterauth "${REDIS_MASTER_PASSWORD:-$REDIS_PASSWORD}")
{% else %}
args+=(--protected-mode no)
{% endif %}
args+=(--include "$etc/${role}.conf" --include "$etc/redis.conf")
{% for flag in extra_flags %}
args+=({{ flag }})
{% endfor %}

{% if command == "/run.sh" %}
# Newer images keep their start script only under /opt/bitnami/scripts/redis.
if [ ! -x /run.sh ] && [ -x /opt/bitnami/scripts/redis/run.sh ]; then
  exec /opt/bitnami/scripts/redis/run.sh "${args[@]}"
fi
{% endif %}
exec {{ command }} "${args[@]}"
