#!/usr/bin/env bash
# Runs the CI suite the way a busy machine sees it: two fresh clones run
# `.ci/run` at the same time (two brokers, two registries, two mocha runs),
# beside a third clone that loops `npm ci` and `tsc -b --force` (CPU, disk and
# memory pressure). Repeats until a round fails or ROUNDS rounds pass.
#
#   scripts/ci-under-load.sh            # 3 rounds, in a temp directory
#   ROUNDS=1 KEEP=1 scripts/ci-under-load.sh
#
# Prints each run's summary line ("N passed, N failed") and, at the end, the
# failing tests of any run, with the path of its full log.
set -uo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${ROUNDS:-3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/tributary-load.XXXXXX")"
echo "[load] working in $work; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

clone() { git clone -q "$repo" "$1"; }

clone "$work/load"
(
  cd "$work/load" || exit 1
  while [[ ! -f "$work/stop" ]]; do
    npm ci --silent --no-audit --no-fund >/dev/null 2>&1
    npx tsc -b --force >/dev/null 2>&1
  done
) &
loader=$!

status=0
for round in $(seq 1 "$rounds"); do
  pids=()
  for run in a b; do
    dir="$work/round-$round-$run"
    clone "$dir"
    # A fresh clone, as CI sees it: no services from this shell.
    (cd "$dir" && env -u KAFKA_BROKERS -u SCHEMA_REGISTRY_URL CI=true bash .ci/run >"$dir.log" 2>&1) &
    pids+=($!)
  done
  failed=0
  for index in "${!pids[@]}"; do
    wait "${pids[$index]}" || failed=1
  done
  for run in a b; do
    echo "[load] round $round run $run: $(tail -n 1 "$work/round-$round-$run.log") ($work/round-$round-$run.log); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  done
  if [[ $failed -ne 0 ]]; then
    status=1
    for run in a b; do
      sed 's/\x1b\[[0-9;]*m//g' "$work/round-$round-$run.log" | awk '/^  [0-9]+ failing$/ { show = 1 } show' | head -n 80
    done
    break
  fi
  [[ "${KEEP:-0}" == 1 ]] || rm -rf "$work/round-$round-a" "$work/round-$round-b"
done

touch "$work/stop"
wait "$loader" 2>/dev/null
[[ "${KEEP:-0}" == 1 ]] || rm -rf "$work/load"
echo "[load] done: $([[ $status -eq 0 ]] && echo "$rounds round(s) green" || echo "a round failed") (logs in $work)"
exit $status
