#!/usr/bin/env bash
# perf/vm in its quick mode (what `tools/bench --vm --quick` runs): two real guests, a JSON
# with every vm.* key of results-schema.md, numbers where numbers belong.
# usage: vm_bench_smoke_test.sh VM_BENCH
set -euo pipefail
bench=$1
json=${TEST_TMPDIR:-/tmp}/vm.json
"$bench" --help | grep -q '^usage: vm_bench' || { echo "FAIL: --help"; exit 1; }
if "$bench" --reps 0 2>/dev/null; then echo "FAIL: --reps 0 accepted"; exit 1; fi
"$bench" --quick --json "$json"
python3 - "$json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["vm.mode"] in ("tcg", "kvm"), d
for k in ("vm.noop_p50_ns", "vm.noop_p99_ns", "vm.noop_doorbell_p50_ns", "vm.host_noop_p50_ns",
          "vm.host_noop_asleep_p50_ns"):
    assert isinstance(d[k], (int, float)) and d[k] > 0, (k, d)
assert d["vm.noop_p50_ns"] <= d["vm.noop_p99_ns"], d
print("keys ok:", ", ".join(sorted(d)))
PY
echo PASS
