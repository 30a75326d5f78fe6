#!/usr/bin/env bash
# Time `st2k8s render` against `helm template` of the stackstorm-ha chart over the public golden
# scenarios. Runs alternate (st2k8s, helm, st2k8s, helm, ...) so machine noise hits both alike;
# prints per-scenario median wall times, their ratio, the overall median ratio, and peak RSS.
#
# Usage: bench/compare-helm.sh [CHART_DIR]
#   CHART_DIR   the unpacked stackstorm-ha 1.1.0 chart with its subcharts under charts/
#               (default: $CHART_DIR, else ../ref/chart relative to the repository root).
#               Scripts cannot download it: assemble it once from StackStorm/stackstorm-k8s at
#               f0f21e5, plus the bitnami mongodb/rabbitmq/redis/external-dns subcharts and
#               bitnami common unpacked into charts/.
# Environment:
#   HELM        helm binary (default: helm on PATH, else /work/tools/helm, else installed with
#               ../shared/tools/install-helm into ~/.cache/st2k8s-ref/bin)
#   GOLDEN_DIR  scenarios (default ../shared/golden): each <name>/ holds values.yaml and
#               scenario.yaml (release:, namespace:)
#   RUNS        timed runs per tool and scenario (default 10)
#   ST2K8S      st2k8s binary (default target/release/st2k8s, built if missing)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart="${1:-${CHART_DIR:-$root/../ref/chart}}"
golden="${GOLDEN_DIR:-$root/../shared/golden}"
runs="${RUNS:-10}"
st2k8s="${ST2K8S:-$root/target/release/st2k8s}"

die() { echo "compare-helm: $*" >&2; exit 2; }

[[ -f "$chart/Chart.yaml" ]] || die "no chart at \`$chart\` (see the header of this script for how to assemble it)"
[[ -d "$golden" ]] || die "no scenarios at \`$golden\`"
if [[ -z "${HELM:-}" ]]; then
  if command -v helm >/dev/null; then HELM="$(command -v helm)"
  elif [[ -x /work/tools/helm ]]; then HELM=/work/tools/helm
  elif [[ -x "$root/../shared/tools/install-helm" ]]; then HELM="$("$root/../shared/tools/install-helm")/helm"
  else die "no helm: set HELM"
  fi
fi
if [[ ! -x "$st2k8s" ]]; then
  (cd "$root" && cargo build --release --quiet) || die "cannot build st2k8s"
fi
# Generated credentials are derived from this seed: fixed, so every run does the same work.
export ST2K8S_SECRET_SEED="${ST2K8S_SECRET_SEED:-compare-helm-fixed-seed-0001}"

# Wall time of one command in microseconds (bash's EPOCHREALTIME: no extra process per sample).
elapsed_us() {
  local start end
  start=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || die "failed: $*"
  end=$EPOCHREALTIME
  echo $(( (${end/./} - ${start/./}) ))
}

# Median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Peak RSS in KiB of one run, if GNU time is installed.
peak_rss_kib() {
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f '%M' -o "$rss_file" "$@" >/dev/null 2>&1 || die "failed: $*"
    tail -1 "$rss_file"
  else
    echo "?"
  fi
}

rss_file="$(mktemp)"
trap 'rm -f "$rss_file"' EXIT

scenario_key() { sed -n "s/^$1:[[:space:]]*//p" "$2" | head -1; }

printf '%-26s %12s %12s %8s %10s %10s\n' scenario st2k8s_ms helm_ms ratio st2k8s_KiB helm_KiB
ratios=()
for dir in "$golden"/*/; do
  name="$(basename "$dir")"
  values="$dir/values.yaml"
  [[ -f "$values" ]] || continue
  release="$(scenario_key release "$dir/scenario.yaml")"; release="${release:-st2}"
  namespace="$(scenario_key namespace "$dir/scenario.yaml")"; namespace="${namespace:-default}"
  ours=("$st2k8s" render --release-name "$release" --namespace "$namespace" -f "$values")
  theirs=("$HELM" template "$release" "$chart" --namespace "$namespace" -f "$values")
  # One untimed run each: warms the page cache and fails early on a broken scenario.
  elapsed_us "${ours[@]}" >/dev/null
  elapsed_us "${theirs[@]}" >/dev/null
  ours_us=(); theirs_us=()
  for ((i = 0; i < runs; i++)); do
    ours_us+=("$(elapsed_us "${ours[@]}")")
    theirs_us+=("$(elapsed_us "${theirs[@]}")")
  done
  ours_med="$(printf '%s\n' "${ours_us[@]}" | median)"
  theirs_med="$(printf '%s\n' "${theirs_us[@]}" | median)"
  ratio="$(awk -v h="$theirs_med" -v s="$ours_med" 'BEGIN { printf "%.1f", h / s }')"
  ratios+=("$ratio")
  printf '%-26s %12.2f %12.2f %8s %10s %10s\n' "$name" \
    "$(awk -v u="$ours_med" 'BEGIN { print u / 1000 }')" \
    "$(awk -v u="$theirs_med" 'BEGIN { print u / 1000 }')" \
    "$ratio" "$(peak_rss_kib "${ours[@]}")" "$(peak_rss_kib "${theirs[@]}")"
done
[[ ${#ratios[@]} -gt 0 ]] || die "no scenarios with a values.yaml under \`$golden\`"
echo "median ratio helm/st2k8s over ${#ratios[@]} scenarios ($runs alternating runs each): $(printf '%s\n' "${ratios[@]}" | median)x"
