#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The perf/mt suite: runs each of its programs with the same flags (--quick, --json FILE)
# and merges their JSON objects into one. A program is a file next to this script (or in
# its runfiles) named in PROGRAMS; add new ones there and to BUILD's MT_PROGRAMS.
set -uo pipefail
PROGRAMS=(mt_bench mt_load)

usage() {
  cat <<'USAGE'
usage: mt_suite.sh [--quick] [--json FILE] [--help]
Runs every perf/mt program (many guests on one vaccel-agent) and prints their tables.
  --quick      each program's smoke run
  --json FILE  one flat JSON object with every program's keys (mt.*)
USAGE
}

quick=() json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick) ;;
    --json) [ $# -ge 2 ] || { echo "mt_suite.sh: --json needs a file" >&2; exit 2; }; json=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "mt_suite.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

here=$(cd "$(dirname "$0")" && pwd)
# The programs find the agent and plugins in the runfiles: this script's, when run by path.
[ -z "${RUNFILES_DIR:-}" ] && [ -d "$0.runfiles" ] && export RUNFILES_DIR="$0.runfiles"
find_prog() {
  for d in "${RUNFILES_DIR:-/nonexistent}/vaccel_shm/perf/mt" "$here"; do
    [ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  return 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mt-suite.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
rc=0
for p in "${PROGRAMS[@]}"; do
  bin=$(find_prog "$p") || { echo "mt_suite.sh: program $p not found" >&2; rc=1; continue; }
  "$bin" "${quick[@]}" --json "$tmp/$p.json" || { echo "mt_suite.sh: $p failed" >&2; rc=1; }
done
shopt -s nullglob
if [ -n "$json" ]; then
  python3 - "$json" "$tmp"/*.json <<'PY' || rc=1
import json, sys
merged = {}
for part in sys.argv[2:]:
    try:
        with open(part) as f:
            merged.update(json.load(f))
    except (OSError, ValueError) as e:
        print(f"mt_suite.sh: skipping {part}: {e}", file=sys.stderr)
with open(sys.argv[1], "w") as f:
    json.dump(merged, f, indent=2, sort_keys=True)
    f.write("\n")
PY
fi
exit "$rc"
