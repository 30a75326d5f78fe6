#!/bin/bash
# Alive when both the local server and the master pass their liveness checks.
here="$(dirname "$0")"
"$here/ping_liveness_local.sh" "$1" && "$here/ping_liveness_master.sh" "$1"
