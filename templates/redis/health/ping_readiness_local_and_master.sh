#!/bin/bash
# Ready when both the local server and the master pass their readiness checks.
here="$(dirname "$0")"
"$here/ping_readiness_local.sh" "$1" && "$here/ping_readiness_master.sh" "$1"
