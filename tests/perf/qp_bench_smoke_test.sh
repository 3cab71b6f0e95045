#!/usr/bin/env bash
# Smoke test of the wait-ladder benchmark: a quick run must finish, print its table and
# write its qp.* keys as parseable JSON. How often the waiter slept is not judged here (it
# depends on the CPU the machine gives it); tools/bench reports it against its target.
set -euo pipefail
bench=$1
out=${TEST_TMPDIR:-/tmp}/qp.json
"$bench" --quick --calls 16 --json "$out" > "$TEST_TMPDIR/table.txt"
grep -q "adaptive/fixed overhead p50" "$TEST_TMPDIR/table.txt" || { echo "FAIL: no table printed"; exit 1; }
python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["qp.fixed_1ms_sleeps_per_call", "qp.adaptive_1ms_sleeps_per_call",
        "qp.adaptive_after_long_sleeps_per_call", "qp.fixed_1ms_overhead_p50_us",
        "qp.fixed_1ms_overhead_p99_us", "qp.adaptive_1ms_overhead_p50_us",
        "qp.adaptive_1ms_overhead_p99_us", "qp.fixed_1ms_guest_cpu_pct",
        "qp.adaptive_1ms_guest_cpu_pct", "qp.adaptive_vs_fixed_overhead_p50_ratio", "qp.reps"]
missing = [k for k in need if not isinstance(d.get(k), (int, float))]
# Sleeps per call are at least 0; the fixed 20 us budget sleeps through 1 ms calls at
# least once in a while whatever the load (a sleep is what a busy machine adds).
bad = [k for k in need if k in d and isinstance(d[k], (int, float)) and d[k] < 0]
if d.get("qp.fixed_1ms_sleeps_per_call", 0) <= 0:
    bad.append("qp.fixed_1ms_sleeps_per_call (never slept)")
if missing or bad:
    print("FAIL: missing", missing, "bad", bad)
    sys.exit(1)
print("ok:", len(d), "keys")
PY
# Bad flags: one-line error, non-zero exit.
for args in "--no-such-flag" "--reps 0" "--reps 2" "--calls 3" "--cpus 1,1" "extra"; do
  # shellcheck disable=SC2086
  if "$bench" $args > /dev/null 2> "$TEST_TMPDIR/err"; then echo "FAIL: '$args' accepted"; exit 1; fi
  [ "$(wc -l < "$TEST_TMPDIR/err")" -eq 1 ] || { echo "FAIL: '$args': not one line"; cat "$TEST_TMPDIR/err"; exit 1; }
done
"$bench" --help | grep -q "usage: qp_bench" || { echo "FAIL: --help"; exit 1; }
echo PASS
