#!/usr/bin/env bash
# Smoke test of the soak: a few seconds with a real agent and guests; it must pass its own
# checks (nothing lost or duplicated, RSS flat) and write the soak.* keys.
set -euo pipefail
soak=$1
out=${TEST_TMPDIR:-/tmp}/soak.json
"$soak" --quick --seconds 4 --json "$out" > "${TEST_TMPDIR:-/tmp}/soak.txt" ||
  { echo "FAIL: soak exited non-zero"; cat "${TEST_TMPDIR:-/tmp}/soak.txt"; exit 1; }
cat "${TEST_TMPDIR:-/tmp}/soak.txt"
python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
need = ["soak.ops", "soak.lost", "soak.dup", "soak.p99_us", "soak.max_us",
        "soak.rss_start_kb", "soak.rss_end_kb"]
missing = [k for k in need if not isinstance(d.get(k), (int, float))]
if missing:
    print("FAIL: missing", missing); sys.exit(1)
if d["soak.ops"] <= 0 or d["soak.lost"] != 0 or d["soak.dup"] != 0:
    print("FAIL: ops/lost/dup", d["soak.ops"], d["soak.lost"], d["soak.dup"]); sys.exit(1)
if not (0 < d["soak.p99_us"] <= d["soak.max_us"]) or d["soak.rss_start_kb"] <= 0:
    print("FAIL: latency or RSS figures"); sys.exit(1)
print("ok:", len(d), "keys")
PY
if "$soak" --bogus 2>/dev/null; then echo "FAIL: bad flag accepted"; exit 1; fi
"$soak" --help | grep -q "usage: soak" || { echo "FAIL: --help"; exit 1; }
echo PASS
