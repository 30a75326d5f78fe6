# Probe helper (st2k8s): `ask HOST PORT PASSWORD SECONDS` prints the answer to PING.
ask() {
  if [ -n "$3" ]; then
    export REDISCLI_AUTH="$3"
  fi
{% if tls %}
  timeout -s 3 "$4" redis-cli -h "$1" -p "$2" --tls --cacert "{{ tls_ca }}"{% if tls_auth_clients %} --cert "{{ tls_cert }}" --key "{{ tls_key }}"{% endif %} ping
{% else %}
  timeout -s 3 "$4" redis-cli -h "$1" -p "$2" ping
{% endif %}
}
# With usePasswordFile the passwords arrive as files.
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
  REDIS_PASSWORD="$(cat "$REDIS_PASSWORD_FILE")"
fi
if [ -n "${REDIS_MASTER_PASSWORD_FILE:-}" ]; then
  REDIS_MASTER_PASSWORD="$(cat "$REDIS_MASTER_PASSWORD_FILE")"
fi
