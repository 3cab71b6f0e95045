#!/usr/bin/env bash
# Smoke test of the ring benchmark: a quick run must finish, print its table and write
# the results-schema keys as parseable JSON with positive numbers. Speed is not judged here.
set -euo pipefail
bench=$1
out=${TEST_TMPDIR:-/tmp}/ring.json
"$bench" --quick --reps 3 --rtt-iters 5000 --items 200000 --json "$out" > "$TEST_TMPDIR/table.txt"
grep -q "ours/rte" "$TEST_TMPDIR/table.txt" || { echo "FAIL: no table printed"; exit 1; }
python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["ring.rtt_p50_ns", "ring.rtt_p99_ns", "ring.rtt_p999_ns", "ring.tput_single_mops",
        "ring.tput_batch32_mops", "rte.rtt_p50_ns", "rte.rtt_p99_ns", "rte.tput_burst1_mops",
        "rte.tput_burst32_mops", "machine.probe_rtt_ns", "machine.cores"]
missing = [k for k in need if k not in d]
bad = [k for k in need if k in d and not (isinstance(d[k], (int, float)) and d[k] > 0)]
for k in ("machine.cpu", "machine.kernel"):
    if not isinstance(d.get(k), str) or not d[k]:
        missing.append(k)
if missing or bad:
    print("FAIL: missing", missing, "not positive", bad)
    sys.exit(1)
print("ok:", len(d), "keys")
PY
# Bad flags: one-line error, non-zero exit.
if "$bench" --no-such-flag 2>/dev/null; then echo "FAIL: bad flag accepted"; exit 1; fi
if "$bench" --reps 0 2>/dev/null; then echo "FAIL: --reps 0 accepted"; exit 1; fi
"$bench" --help | grep -q "usage: ring_bench" || { echo "FAIL: --help"; exit 1; }
echo PASS
