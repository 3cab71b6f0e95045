#!/usr/bin/env bash
# Smoke test of the inference benchmark: real agent, unix server and local plugin, tiny
# counts, every infer.* key written (the transport ones included). Speed is not judged.
set -euo pipefail
bench=$1
out=${TEST_TMPDIR:-/tmp}/infer.json
table=${TEST_TMPDIR:-/tmp}/infer.txt
"$bench" --quick --reps 2 --calls 20 --cnn-calls 2 --json "$out" > "$table"
for want in "local plugin" "through the transport" "unix socket" "transport overhead at p50, cnn" \
            "zero copy 4 MiB / 4 KiB"; do
  grep -q "$want" "$table" || { echo "FAIL: no '$want' in the table"; cat "$table"; exit 1; }
done
if grep -q "not available" "$table"; then echo "FAIL: the transport side is missing"; cat "$table"; exit 1; fi
python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["infer.%s_%s_%s_us" % (k, m, p) for k in ("local", "e2e", "unix")
        for m in ("small", "cnn") for p in ("p50", "p99")]
need += ["infer.e2e_small_overhead_pct", "infer.e2e_cnn_overhead_pct", "infer.zc_4k_us",
         "infer.zc_4m_us", "infer.copy_4m_us", "infer.local_4m_us", "infer.zc_4m_vs_4k_ratio",
         "infer.torch_threads"]
missing = [k for k in need if not isinstance(d.get(k), (int, float))]
if missing:
    print("FAIL: missing", missing); sys.exit(1)
bad = [k for k in need if k.endswith("_us") and not d[k] > 0]
if bad:
    print("FAIL: non-positive times", bad); sys.exit(1)
if d.get("infer.e2e.mode") != "transport":
    print("FAIL: infer.e2e.mode is", d.get("infer.e2e.mode")); sys.exit(1)
print("ok:", len(d), "keys")
PY
for bad in --bogus "--reps 0" "--torch-threads 65" "--cpus 1,1" stray; do
  # shellcheck disable=SC2086 # each case is a flag and its value
  if "$bench" $bad >/dev/null 2>&1; then echo "FAIL: '$bad' accepted"; exit 1; fi
done
"$bench" --help | grep -q "usage: infer_bench" || { echo "FAIL: --help"; exit 1; }
echo PASS
