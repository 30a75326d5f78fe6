#!/bin/bash
# st2k8s: start one member (or the arbiter) of the MongoDB replica set with docker-library's
# `mongo` image (`mongodb.flavor: official`), on the data the chart's bitnami image left in the
# same volume or on an empty one.
#
# mongod runs in the background while this script, with bounded retries, makes the replica set
# whole: the member with ordinal 0 initiates the set when it is not initiated yet and creates the
# root and application users on a fresh set; every other member and the arbiter ask the primary
# to add them when they are not in the set. Once every member runs this image's MongoDB release,
# ordinal 0 raises the featureCompatibilityVersion to it (one release series per step: MongoDB
# refuses to start on data more than one series behind, and never loses it for that).
#
# Nothing here deletes, moves or re-initialises a data directory. Every parameter, the passwords
# included, reaches mongosh through the environment (`process.env`), never on a command line.
set -o errexit -o nounset -o pipefail

log() {
    echo "st2k8s-mongodb: $*"
}

port="${MONGODB_PORT_NUMBER:-27017}"
role="${MONGODB_ROLE:-member}"
# Bounded retries: how many tries, and seconds between them. Only plain whole numbers are taken:
# bash evaluates anything else in arithmetic as an expression (which can run commands).
tries="${MONGODB_SETUP_TRIES:-60}"
delay="${MONGODB_SETUP_DELAY:-5}"
if [[ ! "${tries}" =~ ^[1-9][0-9]{0,3}$ ]]; then
    log "MONGODB_SETUP_TRIES is not a whole number from 1 to 9999; using 60"
    tries=60
fi
if [[ ! "${delay}" =~ ^[0-9]{1,3}$ ]]; then
    log "MONGODB_SETUP_DELAY is not a whole number of seconds from 0 to 999; using 5"
    delay=5
fi
ordinal="${MY_POD_NAME##*-}"
export MONGODB_SELF="${MONGODB_ADVERTISED_HOSTNAME}:${port}"
local_uri="mongodb://127.0.0.1:${port}/admin?directConnection=true"
set_uri="mongodb://${MONGODB_INITIAL_PRIMARY_HOST}:${port}/admin?replicaSet=${MONGODB_REPLICA_SET_NAME}"
# The member with ordinal 1, asked before ordinal 0 initiates a set. Its name resolves while that
# pod exists (the headless Service publishes pods before they are ready), so a name that does not
# resolve means there is no such member: a new install, or a set of one.
peer_host="${MONGODB_ADVERTISED_HOSTNAME/#"${MY_POD_NAME}."/"${MY_POD_NAME%-*}-1."}"
peer_uri="mongodb://${peer_host}:${port}/admin?directConnection=true&serverSelectionTimeoutMS=5000"

# The helpers below run through `retry "$@"`, which shellcheck cannot follow.
# shellcheck disable=SC2317
# shell URI SCRIPT: run a mongosh script against URI; what it prints (stdout and stderr) goes to
# the file `mongosh_out`. mongosh and every pause run in the background while this script waits
# for them: bash runs a trap only between commands, so a SIGTERM then stops mongod at once
# instead of after the call (within the pod's grace period).
mongosh_out="${HOME:-/tmp}/st2k8s-mongosh.out"
mongosh_pid=""
shell() {
    local status=0
    mongosh --quiet --norc "$1" --eval "$2" > "${mongosh_out}" 2>&1 &
    mongosh_pid=$!
    wait "${mongosh_pid}" || status=$?
    mongosh_pid=""
    return "${status}"
}

# pause SECONDS: sleep, interruptible by the SIGTERM trap.
# shellcheck disable=SC2317
pause() {
    sleep "$1" &
    wait "$!" || true
}

# The scripts authenticate as root first when auth is on; with no user yet (a fresh set, on
# localhost) the failure is ignored, as MongoDB's localhost exception allows the first steps.
auth_js='
const admin = db.getSiblingDB("admin");
let authenticated = false;
if (process.env.MONGODB_ROOT_PASSWORD) {
  try { admin.auth("root", process.env.MONGODB_ROOT_PASSWORD); authenticated = true; } catch (e) {}
}'

peer_js='/* st2k8s:peer */
print(db.hello().setName ? "in a set" : "no set");'

state_js='/* st2k8s:state */
const hello = db.hello();
print(hello.setName ? (hello.isWritablePrimary ? "primary" : "member") : "uninitialized");'

initiate_js='/* st2k8s:initiate */
try {
  rs.initiate({_id: process.env.MONGODB_REPLICA_SET_NAME, members: [{_id: 0, host: process.env.MONGODB_SELF}]});
} catch (e) {
  if (e.codeName !== "AlreadyInitialized") { throw e; }
}
print("initiated");'

users_js="/* st2k8s:users */${auth_js}"'
const env = process.env;
if (!authenticated) {
  admin.createUser({user: "root", pwd: env.MONGODB_ROOT_PASSWORD, roles: [{role: "root", db: "admin"}]});
  admin.auth("root", env.MONGODB_ROOT_PASSWORD);
  print("created the root user");
}
if (env.MONGODB_USERNAME && env.MONGODB_DATABASE) {
  const app = db.getSiblingDB(env.MONGODB_DATABASE);
  if (app.getUser(env.MONGODB_USERNAME) === null) {
    app.createUser({user: env.MONGODB_USERNAME, pwd: env.MONGODB_PASSWORD, roles: [{role: "readWrite", db: env.MONGODB_DATABASE}]});
    print("created the application user");
  }
}
print("users ready");'

join_js="/* st2k8s:join */${auth_js}"'
const self = process.env.MONGODB_SELF;
if (rs.conf().members.some((m) => m.host === self)) {
  print("member");
} else if (process.env.MONGODB_ROLE === "arbiter") {
  // MongoDB 5.0+ refuses an arbiter while the default write concern is only implicit.
  const concern = db.adminCommand({getDefaultRWConcern: 1});
  if (concern.defaultWriteConcernSource !== "global") {
    db.adminCommand({setDefaultRWConcern: 1, defaultWriteConcern: {w: "majority"}});
  }
  rs.addArb(self);
  print("added");
} else {
  rs.add({host: self});
  print("added");
}'

fcv_js="/* st2k8s:fcv */${auth_js}"'
const target = process.env.MONGODB_VERSION;
const number = (v) => v.split(".").map(Number).reduce((a, b) => a * 1000 + b);
const fcv = db.adminCommand({getParameter: 1, featureCompatibilityVersion: 1}).featureCompatibilityVersion;
if (fcv.targetVersion === undefined && number(fcv.version) >= number(target)) {
  print("fcv " + fcv.version);
} else {
  const behind = [];
  for (const m of rs.status().members) {
    let version = "unreachable";
    if (m.health === 1) {
      try {
        version = new Mongo("mongodb://" + m.name + "/?directConnection=true").getDB("admin").runCommand({buildInfo: 1}).version;
      } catch (e) {}
    }
    if (!String(version).startsWith(target + ".")) { behind.push(m.name + " runs " + version); }
  }
  if (behind.length > 0) {
    print("waiting: " + behind.join(", "));
  } else {
    const command = {setFeatureCompatibilityVersion: target};
    if (number(target) >= number("7.0")) { command.confirm = true; }
    db.adminCommand(command);
    print("fcv " + target + " (raised now)");
  }
}'

# --- start mongod -------------------------------------------------------------------------------

mkdir -p "${MONGODB_DATA_DIR}"
# A listing that fails must not pass for an empty directory.
if ! entries="$(ls -A "${MONGODB_DATA_DIR}")"; then
    log "cannot list the data directory ${MONGODB_DATA_DIR}; not starting"
    exit 1
fi
fresh=no
kept=kept
if [[ -z "${entries}" ]]; then
    fresh=yes
    kept=empty
fi
args=(--dbpath "${MONGODB_DATA_DIR}" --port "${port}" --bind_ip_all --replSet "${MONGODB_REPLICA_SET_NAME}")
if [[ -n "${MONGODB_KEY_SOURCE:-}" ]]; then
    # mongod refuses a key file anyone but its owner may read, and the Secret volume's files are
    # group-readable (fsGroup): copy it with mode 0400.
    rm -f "${MONGODB_KEY_FILE}"
    (umask 0277 && cat "${MONGODB_KEY_SOURCE}" > "${MONGODB_KEY_FILE}")
    args+=(--keyFile "${MONGODB_KEY_FILE}")
fi
if [[ "${MONGODB_ENABLE_IPV6:-no}" == "yes" ]]; then
    args+=(--ipv6)
fi
if [[ "${MONGODB_ENABLE_DIRECTORY_PER_DB:-no}" == "yes" ]]; then
    args+=(--directoryperdb)
fi
if [[ -n "${MONGODB_EXTRA_FLAGS:-}" ]]; then
    read -r -a extra <<< "${MONGODB_EXTRA_FLAGS}"
    args+=("${extra[@]}")
fi

log "${MY_POD_NAME} (${role}) starts MongoDB ${MONGODB_VERSION:-} as ${MONGODB_SELF}; data in ${MONGODB_DATA_DIR} (${kept})"
mongod "${args[@]}" &
mongod_pid=$!
# stop: on SIGTERM (the kubelet stopping the pod) or SIGINT, end a running mongosh call, stop
# mongod cleanly and end with its status.
# shellcheck disable=SC2317
stop() {
    trap - TERM INT
    if [[ -n "${mongosh_pid}" ]]; then
        kill -TERM "${mongosh_pid}" 2>/dev/null || true
    fi
    log "stopping mongod"
    kill -TERM "${mongod_pid}" 2>/dev/null || true
    finish
}
trap stop TERM INT

# finish: wait for mongod to end and exit with its status, explaining a refusal of old data.
finish() {
    local status=0 next
    wait "${mongod_pid}" || status=$?
    # A trapped signal interrupts `wait` (a status above 128): wait again for mongod's own
    # status; 127 means the status already seen was mongod's.
    while ((status > 128)); do
        next=0
        wait "${mongod_pid}" || next=$?
        if ((next == 127)); then
            break
        fi
        status=${next}
    done
    if [[ "${status}" == "62" ]]; then
        log "mongod ${MONGODB_VERSION:-} refused the data files: their featureCompatibilityVersion is more than one release series older. Nothing was changed. Run the release after the data's one first (the chart's data is 4.4: mongodb.official.version 5.0, then 6.0, then 7.0, one rollout each)."
    fi
    log "mongod ended with status ${status}"
    if [[ "${aborted:-no}" == "yes" && "${status}" == "0" ]]; then
        status=1
    fi
    exit "${status}"
}

# abort MESSAGE: stop mongod and fail (status 1 when mongod stopped cleanly), so that Kubernetes
# restarts the container.
aborted=no
abort() {
    log "$1"
    aborted=yes
    kill -TERM "${mongod_pid}" 2>/dev/null || true
    finish
}

# retry WHAT COMMAND...: run COMMAND (`expect` or `answer`) until it succeeds, at most `tries`
# times `delay` seconds apart, logging what it waits for and the last reply; fails when mongod
# ended.
retry() {
    local what="$1" i
    shift
    for ((i = 1; i <= tries; i++)); do
        if ! kill -0 "${mongod_pid}" 2>/dev/null; then
            finish
        fi
        if "$@"; then
            return 0
        fi
        if ((i < tries)); then
            log "waiting for ${what} (${i}/${tries}): ${reply}"
            pause "${delay}"
        fi
    done
    return 1
}

# expect URI SCRIPT WANT: the script's last printed line starts with WANT (kept in `reply`).
reply=""
# shellcheck disable=SC2317
expect() {
    shell "$1" "$2" || true
    reply="$(tail -n 1 "${mongosh_out}")"
    [[ "${reply}" == "$3"* ]]
}

# answer URI SCRIPT: the script ran without error (its last line kept in `reply`).
# shellcheck disable=SC2317
answer() {
    local status=0
    shell "$1" "$2" || status=$?
    reply="$(tail -n 1 "${mongosh_out}")"
    return "${status}"
}

# --- make the replica set whole -----------------------------------------------------------------

retry "mongod to answer" answer "${local_uri}" "${state_js}" || abort "mongod does not answer on port ${port}: ${reply}"
# A member with data loads its replica set configuration just after it starts answering: give
# it a few more looks before taking it for uninitialized.
if [[ "${reply}" == "uninitialized" && "${fresh}" == "no" ]]; then
    for ((look = 1; look <= 6; look++)); do
        log "waiting for the replica set configuration of the kept data to load (${look}/6)"
        pause "${delay}"
        answer "${local_uri}" "${state_js}" || true
        if [[ "${reply}" != "uninitialized" ]]; then
            break
        fi
    done
fi
state="${reply}"
log "state: ${state}"

if [[ "${role}" == "member" && "${ordinal}" == "0" ]]; then
    if [[ "${state}" == "uninitialized" ]] && ! answer "${peer_uri}" "${peer_js}" \
        && getent hosts "${peer_host}" >/dev/null; then
        # Ordinal 1 exists but does not answer: whether the set exists is unknown, and
        # initiating beside a running set would split it. Wait for the answer, else restart.
        retry "${peer_host} to say whether replica set ${MONGODB_REPLICA_SET_NAME} exists" \
            answer "${peer_uri}" "${peer_js}" \
            || abort "${peer_host} exists but does not answer: not initiating a second replica set beside it (${reply})"
    fi
    if [[ "${state}" == "uninitialized" && "${reply}" == "in a set" ]]; then
        # This volume is empty (replaced or lost) but the set exists: initiating would make a
        # second set of the same name. The primary still lists this member, so it gets the
        # configuration and the data by initial sync once it answers.
        log "the other members already run replica set ${MONGODB_REPLICA_SET_NAME}: not initiating; waiting for the initial sync"
        state=syncing
    elif [[ "${state}" == "uninitialized" ]]; then
        log "initiating replica set ${MONGODB_REPLICA_SET_NAME}"
        retry "the replica set to be initiated" expect "${local_uri}" "${initiate_js}" initiated || abort "cannot initiate the replica set: ${reply}"
        retry "this member to become primary" expect "${local_uri}" "${state_js}" primary || abort "not primary after initiating the replica set: ${reply}"
        state=primary
    fi
    if [[ "${state}" == "primary" && -n "${MONGODB_ROOT_PASSWORD:-}" ]]; then
        if retry "the users" expect "${local_uri}" "${users_js}" "users ready"; then
            log "users ready"
        elif [[ "${fresh}" == "yes" ]]; then
            abort "cannot create the users: ${reply}"
        else
            log "cannot check the users (${reply}): is mongodb.auth.rootPassword the root password the data was created with?"
        fi
    fi
    if [[ -n "${MONGODB_VERSION:-}" && "${state}" != "syncing" ]]; then
        if retry "every member to run MongoDB ${MONGODB_VERSION}" expect "${set_uri}" "${fcv_js}" "fcv "; then
            log "featureCompatibilityVersion ${reply#fcv }"
        else
            log "featureCompatibilityVersion not raised to ${MONGODB_VERSION} yet (${reply}); retried at the next start of ${MY_POD_NAME}"
        fi
    fi
elif [[ "${state}" == "uninitialized" ]]; then
    log "joining replica set ${MONGODB_REPLICA_SET_NAME} through ${MONGODB_INITIAL_PRIMARY_HOST}"
    retry "the primary to add this pod" answer "${set_uri}" "${join_js}" || abort "cannot join the replica set: ${reply}"
    log "replica set: ${reply}"
fi

log "ready"
finish
