#!/usr/bin/env bash
# Smoke test of the bulk benchmark: it starts a real agent, runs with tiny counts and writes
# its keys as JSON. Speed is not judged here.
set -euo pipefail
bench=$1
out=${TEST_TMPDIR:-/tmp}/bulk.json
"$bench" --quick --reps 3 --calls 20 --sgemm-calls 2 --json "$out" > "$TEST_TMPDIR/table.txt"
grep -q "zero copy (in the pool)" "$TEST_TMPDIR/table.txt" || { echo "FAIL: no table"; cat "$TEST_TMPDIR/table.txt"; exit 1; }
grep -q "zero-copy overhead" "$TEST_TMPDIR/table.txt" || { echo "FAIL: no sgemm line"; cat "$TEST_TMPDIR/table.txt"; exit 1; }
python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["bulk.%s_%s_us" % (k, s) for k in ("zc", "copy", "unix") for s in ("4k", "1m", "64m")]
need += ["e2e.sgemm512_zc_overhead_pct", "bulk.zc_64m_vs_4k_ratio", "bulk.copy_64m_vs_4k_ratio",
         "bulk.unix_64m_vs_4k_ratio", "bulk.blas_threads"]
missing = [k for k in need if not isinstance(d.get(k), (int, float))]
if missing:
    print("FAIL: missing", missing); sys.exit(1)
bad = [k for k in need if k.endswith("_us") and not d[k] > 0]
if bad:
    print("FAIL: non-positive times", bad); sys.exit(1)
print("ok:", len(d), "keys")
PY
if "$bench" --bogus 2>/dev/null; then echo "FAIL: bad flag accepted"; exit 1; fi
if "$bench" --reps 0 2>/dev/null; then echo "FAIL: --reps 0 accepted"; exit 1; fi
"$bench" --help | grep -q "usage: bulk_bench" || { echo "FAIL: --help"; exit 1; }
echo PASS
