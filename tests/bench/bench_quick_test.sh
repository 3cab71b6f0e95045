#!/usr/bin/env bash
# tools/bench --quick as CI can run it: the perf programs of the runfiles through
# tools/report/run_suites.sh (the code tools/bench runs after building). Checks that the
# report folder is complete and well formed, not how fast anything was; and that every
# program answers --help and refuses a bad flag with one line and a non-zero exit.
set -uo pipefail
run_suites=$1 ring=$2 local=$3 e2e=$4 bulk=$5 qp=$6
out=${TEST_TMPDIR:-/tmp}/r
fail() { echo "FAIL: $*" >&2; exit 1; }

for prog in "$ring" "$qp" "$local" "$e2e" "$bulk" "$run_suites"; do
  name=$(basename "$prog")
  "$prog" --help > "$TEST_TMPDIR/help" 2>&1 || fail "$name --help exited non-zero"
  grep -q usage "$TEST_TMPDIR/help" || fail "$name --help prints no usage"
  "$prog" --no-such-flag > "$TEST_TMPDIR/bad.out" 2> "$TEST_TMPDIR/bad.err"
  rc=$?
  [ "$rc" -ne 0 ] || fail "$name accepted --no-such-flag"
  [ "$(wc -l < "$TEST_TMPDIR/bad.err")" -eq 1 ] ||
    { cat "$TEST_TMPDIR/bad.err" >&2; fail "$name: a bad flag should give one line on stderr"; }
  [ ! -s "$TEST_TMPDIR/bad.out" ] || fail "$name: a bad flag printed on stdout"
done

start=$SECONDS
"$run_suites" --quick --out "$out" --ring "$ring" --qp "$qp" --local "$local" --e2e "$e2e" \
  --bulk "$bulk" > "$TEST_TMPDIR/stdout" || { cat "$TEST_TMPDIR/stdout"; fail "run_suites.sh failed"; }
echo "quick run: $((SECONDS - start)) s"

for f in results.json results.csv summary.csv summary.txt ring.txt qp.txt local.txt e2e.txt bulk.txt \
         plots/latency_cdf.png plots/throughput_batch.png plots/bulk_size.png; do
  [ -s "$out/$f" ] || fail "$out/$f is missing or empty"
done
grep -q "targets met" "$out/summary.txt" || fail "summary.txt has no summary line"
grep -q "targets met" "$TEST_TMPDIR/stdout" || fail "the summary table was not printed"

python3 - "$out" <<'PY' || fail "report contents"
import csv, json, os, struct, sys, zlib
out = sys.argv[1]
r = json.load(open(os.path.join(out, "results.json")))
want_num = """ring.rtt_p50_ns ring.rtt_p99_ns ring.rtt_p999_ns ring.tput_single_mops
ring.tput_batch32_mops rte.rtt_p50_ns rte.rtt_p99_ns rte.tput_burst1_mops rte.tput_burst32_mops
local.noop_p50_ns local.noop_p99_ns local.sgemm512_gflops e2e.noop_p50_ns e2e.noop_p99_ns
e2e.noop_p999_ns e2e.ring_rtt_p50_ns unix.noop_p50_ns unix.noop_p99_ns e2e.noop_batch32_mops
e2e.noop_batch32_4thr_mops uring.nop_batch32_mops bulk.zc_4k_us bulk.zc_1m_us bulk.zc_64m_us
bulk.copy_4k_us bulk.copy_1m_us bulk.copy_64m_us bulk.unix_4k_us bulk.unix_1m_us
bulk.unix_64m_us machine.cores machine.probe_rtt_ns qp.fixed_1ms_sleeps_per_call
qp.adaptive_1ms_sleeps_per_call qp.adaptive_1ms_overhead_p50_us""".split()
bad = [k for k in want_num if not isinstance(r.get(k), (int, float))]
for k in ("e2e.sgemm512_zc_overhead_pct", "e2e.sgemm512_copy_overhead_pct", "agent.idle_cpu_pct"):
    if not isinstance(r.get(k), (int, float)):
        bad.append(k)
for k in ("machine.cpu", "machine.kernel"):
    if not isinstance(r.get(k), str) or not r[k]:
        bad.append(k)
if bad:
    sys.exit(f"results.json lacks {bad}")
rows = list(csv.reader(open(os.path.join(out, "results.csv"))))
if rows[0] != ["suite", "key", "value", "unit"] or len(rows) - 1 != len(r):
    sys.exit(f"results.csv: header {rows[0]}, {len(rows) - 1} rows for {len(r)} keys")
if {row[1] for row in rows[1:]} != set(r):
    sys.exit("results.csv keys differ from results.json")
summ = list(csv.DictReader(open(os.path.join(out, "summary.csv"))))
if len(summ) < 10 or not any(s["target"] for s in summ):
    sys.exit(f"summary.csv: {len(summ)} rows")
for name in ("latency_cdf", "throughput_batch", "bulk_size"):
    data = open(os.path.join(out, "plots", name + ".png"), "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        sys.exit(f"{name}.png is not a PNG")
    w, h = struct.unpack(">II", data[16:24])
    if w < 400 or h < 300 or b"IEND" not in data[-12:]:
        sys.exit(f"{name}.png: {w}x{h}, truncated?")
    # Every chunk's CRC must match.
    i = 8
    while i < len(data):
        n, = struct.unpack(">I", data[i:i + 4])
        if zlib.crc32(data[i + 4:i + 8 + n]) != struct.unpack(">I", data[i + 8 + n:i + 12 + n])[0]:
            sys.exit(f"{name}.png: bad chunk CRC at {i}")
        i += 12 + n
for s in ("ring_ours_rtt", "ring_rte_rtt", "e2e_noop", "e2e_unix"):
    lines = [l for l in open(os.path.join(out, "samples", s + ".dat")) if not l.startswith("#")]
    v = [tuple(map(float, l.split())) for l in lines]
    if len(v) < 100 or any(b[0] < a[0] or b[1] <= a[1] for a, b in zip(v, v[1:])) or v[-1][1] != 1:
        sys.exit(f"samples/{s}.dat: not a sorted CDF ({len(v)} points)")
print(f"report ok: {len(r)} keys, {len(summ)} summary rows, 3 plots")
PY
echo "bench quick: PASS"
