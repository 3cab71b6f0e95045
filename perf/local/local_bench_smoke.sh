#!/usr/bin/env bash
# Runs local_bench --quick and checks the JSON has every local.* key with a
# positive number.
set -euo pipefail
bench=$1
out="${TEST_TMPDIR:-/tmp}/local.json"
"$bench" --quick --reps 3 --json "$out"
for key in local.noop_p50_ns local.noop_p99_ns local.sgemm256_gflops \
	local.sgemm512_gflops local.sgemm1024_gflops local.blas_threads; do
	if ! python3 - "$out" "$key" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = d.get(sys.argv[2])
sys.exit(0 if isinstance(v, (int, float)) and v > 0 else 1)
PY
	then
		echo "FAIL: $key missing or not positive in $out" >&2
		cat "$out" >&2
		exit 1
	fi
done
echo "local_bench smoke: all keys present"
