#!/bin/bash
# st2k8s: start one member of the MongoDB replica set with the bitnami image.
# The member with ordinal 0 of the StatefulSet initiates the replica set; every other member
# joins it as a secondary, authenticating against the first member with the root password.
set -o errexit

ordinal="${MY_POD_NAME##*-}"
echo "Member ${MY_POD_NAME} (ordinal ${ordinal}) advertises itself as ${MONGODB_ADVERTISED_HOSTNAME:-its pod IP}"

if [[ "${ordinal}" == "0" ]]; then
    echo "First member: initiating the replica set as primary"
    export MONGODB_REPLICA_SET_MODE=primary
else
    echo "Joining the replica set as a secondary"
    export MONGODB_REPLICA_SET_MODE=secondary
    export MONGODB_INITIAL_PRIMARY_ROOT_PASSWORD="${MONGODB_ROOT_PASSWORD:-}"
    export MONGODB_INITIAL_PRIMARY_PORT_NUMBER="${MONGODB_PORT_NUMBER:-27017}"
    # Users and databases are created once, on the primary; a secondary replicates them.
    unset MONGODB_ROOT_PASSWORD MONGODB_USERNAME MONGODB_DATABASE MONGODB_PASSWORD
fi

exec /opt/bitnami/scripts/mongodb/entrypoint.sh /opt/bitnami/scripts/mongodb/run.sh
