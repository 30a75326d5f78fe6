#!/usr/bin/env bats
# Smoke tests for a StackStorm release rendered by st2k8s.
#
# Runs in the st2tests Pod (st2actionrunner image: st2 CLI, curl) with bats and its helper
# libraries copied to $BATS_HELPERS_DIR. The Pod provides ST2_AUTH_URL, ST2_API_URL,
# ST2_STREAM_URL (R-st2-urls), ST2_AUTH_USERNAME, ST2_AUTH_PASSWORD (auth Secret),
# ST2_VERSION and ST2_RBAC_ENABLED. st2k8s fills in the system user and its SSH key path.

load "${BATS_HELPERS_DIR}/bats-support/load.bash"
load "${BATS_HELPERS_DIR}/bats-assert/load.bash"

setup_file() {
  # One token for the whole file; the st2 CLI picks it up from the environment.
  ST2_AUTH_TOKEN="$(st2 auth "${ST2_AUTH_USERNAME}" --password "${ST2_AUTH_PASSWORD}" --only-token)"
  export ST2_AUTH_TOKEN
}

# The HTTP status a URL answers with ("000" when nothing answers).
http_status() {
  curl --silent --output /dev/null --max-time 10 --write-out '%{http_code}' "$@" || true
}

@test "the st2 client is the expected StackStorm version" {
  run st2 --version
  assert_success
  assert_output --partial "st2 ${ST2_VERSION}"
}

@test "st2auth, st2api and st2stream answer HTTP" {
  for url in "${ST2_AUTH_URL}" "${ST2_API_URL}" "${ST2_STREAM_URL}"; do
    status="$(http_status "${url}")"
    [[ "${status}" =~ ^[1-4][0-9][0-9]$ ]] || fail "${url} answered '${status}'"
  done
}

@test "the admin credentials give an auth token" {
  [ -n "${ST2_AUTH_TOKEN}" ] || fail "st2 auth returned no token for ${ST2_AUTH_USERNAME}"
}

@test "a request without a token is refused" {
  assert_equal "$(http_status "${ST2_API_URL}v1/actions")" 401
}

@test "the core pack is registered" {
  run st2 action get core.local
  assert_success
  assert_output --partial 'core.local'
}

@test "an action runs to completion on an action runner" {
  run st2 run core.local cmd='echo st2k8s-smoke-$((6 * 7))'
  assert_success
  assert_output --partial 'st2k8s-smoke-42'
  assert_output --partial 'succeeded: true'
}

@test "the system user's SSH key is installed privately" {
  run st2 run core.local cmd='stat -c "%n %a %U" {{ ssh_key_dir }} {{ ssh_key_file }}'
  assert_success
  assert_output --partial '{{ ssh_key_dir }} 500 {{ system_user }}'
  assert_output --partial '{{ ssh_key_file }} 400 {{ system_user }}'
}

@test "the datastore stores, returns and deletes a value" {
  key="st2k8s_smoke_${RANDOM}"
  run st2 key set "${key}" "value-${key}"
  assert_success
  run st2 key get "${key}"
  assert_success
  assert_output --partial "value-${key}"
  run st2 key delete "${key}"
  assert_success
}

@test "the event stream is served" {
  run curl --silent --include --max-time 3 --header "X-Auth-Token: ${ST2_AUTH_TOKEN}" "${ST2_STREAM_URL}v1/stream"
  assert_output --partial 'text/event-stream'
}

@test "RBAC roles are loaded when RBAC is enabled" {
  if [ "${ST2_RBAC_ENABLED}" != "true" ]; then
    skip "RBAC is disabled"
  fi
  run st2 role list
  assert_success
  assert_output --partial 'system_admin'
}
