# --- shared by start-node.sh and start-sentinel.sh (st2k8s) ---
headless="{{ headless_host }}"
sentinels="{{ sentinel_host }}"

# With usePasswordFile the password arrives as a file, not a variable.
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
  REDIS_PASSWORD="$(cat "$REDIS_PASSWORD_FILE")"
  export REDIS_PASSWORD
fi
# redis-cli takes the password from REDISCLI_AUTH, which keeps it out of the process list.
if [ -n "${REDIS_PASSWORD:-}" ]; then
  export REDISCLI_AUTH="$REDIS_PASSWORD"
fi

# redis-cli with the TLS client options this pod uses.
cli() {
{% if tls %}
  redis-cli --tls --cert "${{ tls_env }}_CERT_FILE" --key "${{ tls_env }}_KEY_FILE" --cacert "${{ tls_env }}_CA_FILE" "$@"
{% else %}
  redis-cli "$@"
{% endif %}
}

# Every address of this pod, space separated and padded for substring tests.
own_addresses=" $(hostname -i) "

become_master() {
  role=master
  master_host="$(hostname -i | awk '{print $1}')"
  master_port="{{ redis_port }}"
}

# Decide who is master. The headless Service also publishes pods that are not ready yet, so
# any address there besides our own means the group already exists and a sentinel knows its
# master; an empty Service means this pod is the first one and starts as master.
find_master() {
  local ip peers=""
  for ip in $(getent ahosts "$headless" | awk '{print $1}' | sort -u); do
    [[ "$own_addresses" == *" $ip "* ]] || peers="$peers $ip"
  done
  if [ -z "$peers" ]; then
    become_master
    return
  fi
  local answer
  answer=($(cli -h "$sentinels" -p {{ sentinel_port }} sentinel get-master-addr-by-name {{ master_set }}))
  master_host="${answer[0]:-}"
  master_port="${answer[1]:-}"
  # The sentinels still name this pod (its container restarted before any failover): stay master.
  if [ -n "$master_host" ] && [[ "$own_addresses" == *" $master_host "* ]]; then
    become_master
    return
  fi
  role=replica
  # Sentinels may still report a master that died before a new one was elected. Stop here in
  # that case: the failing probes restart this container, and by then the election is over.
  if [ -z "$master_host" ] || [ "$(cli -h "$master_host" -p {{ sentinel_port }} ping 2>/dev/null)" != "PONG" ]; then
    echo "no reachable master reported for {{ master_set }} (got '${master_host}')" >&2
    exit 1
  fi
}
# --- end of shared part ---
