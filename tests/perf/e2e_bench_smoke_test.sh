#!/usr/bin/env bash
# Smoke test of the end-to-end benchmark: it starts a real agent, runs briefly and writes
# its keys as JSON. Speed is not judged here.
set -euo pipefail
bench=$1
out=${TEST_TMPDIR:-/tmp}/e2e.json
"$bench" --quick --reps 3 --calls 2000 --idle-s 1 --json "$out" > "$TEST_TMPDIR/table.txt"
grep -q "noop via transport" "$TEST_TMPDIR/table.txt" || { echo "FAIL: no table"; cat "$TEST_TMPDIR/table.txt"; exit 1; }
python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["e2e.noop_p50_ns", "e2e.noop_p99_ns", "e2e.noop_p999_ns", "e2e.ring_rtt_p50_ns",
        "unix.noop_p50_ns", "unix.noop_p99_ns", "e2e.sgemm512_copy_overhead_pct",
        "agent.idle_cpu_pct", "e2e.local_noop_p50_ns"]
missing = [k for k in need if not isinstance(d.get(k), (int, float))]
if missing:
    print("FAIL: missing", missing); sys.exit(1)
if not (d["e2e.noop_p50_ns"] > 0 and d["unix.noop_p50_ns"] > 0):
    print("FAIL: non-positive latency"); sys.exit(1)
print("ok:", len(d), "keys")
PY
if "$bench" --bogus 2>/dev/null; then echo "FAIL: bad flag accepted"; exit 1; fi
"$bench" --help | grep -q "usage: e2e_bench" || { echo "FAIL: --help"; exit 1; }
echo PASS
