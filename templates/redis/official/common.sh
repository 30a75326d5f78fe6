# --- shared by start-node.sh and start-sentinel.sh (st2k8s, official flavor) ---
set -eu
# No globbing of what the sentinels answer; files written here are this user's only.
set -f
umask 077

headless="{{ headless_host }}"
# This pod's stable DNS name: servers and sentinels announce it instead of the pod IP, which
# changes whenever the pod is recreated.
# Kubernetes sets HOSTNAME to the pod name.
# shellcheck disable=SC3028
pod="${HOSTNAME:?}"
self="${pod}.${headless}"
config="${REDIS_CONFIG_DIR:?}"
run="${REDIS_RUN_DIR:?}"

# The Valkey image names its programs valkey-*, the Redis image redis-*.
server="$(command -v valkey-server || command -v redis-server)"
cli_program="$(command -v valkey-cli || command -v redis-cli)"

# The password comes from the mounted Secret file; the CLI reads it from the environment, which
# keeps it out of the process list.
password=""
if [ -n "${REDIS_PASSWORD_FILE:-}" ]; then
  password="$(cat "$REDIS_PASSWORD_FILE")"
  newline='
'
  case "$password" in
    "")
      echo "the password file ${REDIS_PASSWORD_FILE} is empty; a server must not start without the password it is configured with" >&2
      exit 1
      ;;
    *"$newline"*)
      echo "the password in ${REDIS_PASSWORD_FILE} holds a line break, which a configuration file setting cannot; set one without it in the Secret" >&2
      exit 1
      ;;
  esac
  REDISCLI_AUTH="$password"
  VALKEYCLI_AUTH="$password"
  export REDISCLI_AUTH VALKEYCLI_AUTH
  # The password as a double-quoted configuration word (`\` and `"` escaped), made once here so
  # that a failure stops the script instead of writing an empty password.
  password_word="\"$(printf '%s' "$password" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')\"" || {
    echo "could not quote the password in ${REDIS_PASSWORD_FILE} for the configuration files" >&2
    exit 1
  }
fi

cli() {
  timeout {{ cli_timeout }} "$cli_program" "$@"
}

# Whether $1 can stand in a configuration line as a host: a name or an address, nothing else.
is_host() {
  case "$1" in
    "" | *[!A-Za-z0-9.:-]*) return 1 ;;
  esac
}

# master_host/master_port: the master the reachable sentinels of the group name (the one most
# of them name), asking every pod's sentinel through its headless-Service name; empty when no
# sentinel answers (a new group, or one entirely down).
find_master() {
  answers=""
  i=0
  while [ "$i" -le {{ last_node }} ]; do
    # shellcheck disable=SC2046
    set -- $(cli -h "{{ node_prefix }}${i}.${headless}" -p {{ sentinel_port }} sentinel get-master-addr-by-name {{ master_set }} 2>/dev/null || true)
    if [ "$#" -eq 2 ] && is_host "$1" && [ "$2" -gt 0 ] 2>/dev/null; then
      answers="${answers}$1 $2
"
    fi
    i=$((i + 1))
  done
  master_host=""
  master_port=""
  if [ -z "$answers" ]; then
    echo "no sentinel of pods 0 to {{ last_node }} names a master of {{ master_set }}"
  else
    # shellcheck disable=SC2046
    set -- $(printf '%s' "$answers" | sort | uniq -c | sort -k1,1nr -k2,2 | head -n 1)
    master_host="$2"
    master_port="$3"
  fi
}

# Whether `master_host` is this pod (its name, or an address of it).
is_self() {
  [ "$master_host" = "$self" ] && return 0
  for address in $(hostname -i 2>/dev/null || true); do
    [ "$master_host" = "$address" ] && return 0
  done
  return 1
}
# --- end of shared part ---
