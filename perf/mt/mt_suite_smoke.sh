#!/usr/bin/env bash
# Runs the perf/mt suite --quick and checks its JSON: every key of mt_bench, numbers, the
# connect figures and the idle guests' memory positive; --help and a bad flag behave.
set -uo pipefail
suite=$1 bench=$2
out="${TEST_TMPDIR:-/tmp}/mt.json"
fail() { echo "FAIL: $*" >&2; exit 1; }
for prog in "$suite" "$bench"; do
  "$prog" --help 2>&1 | grep -q usage || fail "$(basename "$prog") --help prints no usage"
  "$prog" --no-such-flag > /dev/null 2>&1 && fail "$(basename "$prog") accepted --no-such-flag"
done
"$suite" --quick --json "$out" || fail "mt_suite --quick failed"
python3 - "$out" <<'PY' || { cat "$out" >&2; fail "mt.json"; }
import json, sys
d = json.load(open(sys.argv[1]))
pos = "mt.connect_p50_us mt.connect_p99_us mt.idle256_mib mt.noop_p50_alone_us mt.noop_p50_idle256_us".split()
bad = [k for k in pos if not (isinstance(d.get(k), (int, float)) and d[k] > 0)]
if not isinstance(d.get("mt.idle256_cpu_pct"), (int, float)) or d["mt.idle256_cpu_pct"] < 0:
    bad.append("mt.idle256_cpu_pct")
if bad:
    sys.exit(f"missing or not positive: {bad}")
print("mt suite smoke: all keys present")
PY
