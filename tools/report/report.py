#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turns the perf suites' JSON parts into the report folder's tables.

usage: report.py DIR

Reads DIR/parts/*.json (one flat object per suite, shared/notes/results-schema.md) and
writes:
  DIR/results.json  every key measured, merged (machine.* included)
  DIR/results.csv   a tidy table, one row per key: suite,key,value,unit
  DIR/summary.csv   the summary table: figure,value,unit,baseline,baseline_value,ratio,
                    ratio_means,target,met
  DIR/summary.txt   the same for people; also printed on stdout
Standard library only.
"""
import csv
import glob
import json
import os
import sys

# One row per headline figure: label, key, unit, baseline label, baseline key,
# ratio (a key holding the median of per-repetition ratios, else computed from the medians),
# which way the ratio goes, target as (op, number, what it applies to), and a note.
# A ratio "ours/base" is value/baseline; "base/ours" is baseline/value.
ROWS = [
    ("ring rtt p50", "ring.rtt_p50_ns", "ns", "rte_ring rtt p50", "rte.rtt_p50_ns",
     "ring.vs_rte.rtt_p50_ratio", "ours/base", ("<=", 0.75, "ratio")),
    ("ring rtt p99", "ring.rtt_p99_ns", "ns", "rte_ring rtt p99", "rte.rtt_p99_ns",
     None, "ours/base", None),
    ("ring rtt p50 vs cache line", "ring.rtt_p50_ns", "ns", "bare cache-line rtt",
     "machine.probe_rtt_ns", None, "ours/base", None),
    ("ring one-way single", "ring.tput_single_mops", "Mops/s", "rte_ring burst 1",
     "rte.tput_burst1_mops", "ring.vs_rte.tput_single_ratio", "ours/base", (">=", 3, "ratio")),
    ("ring one-way batch 32", "ring.tput_batch32_mops", "Mops/s", "rte_ring burst 32",
     "rte.tput_burst32_mops", "ring.vs_rte.tput_batch32_ratio", "ours/base",
     (">=", 1.5, "ratio")),
    ("adaptive wait, sleeps per 1 ms call", "qp.adaptive_1ms_sleeps_per_call", "", "fixed budget",
     "qp.fixed_1ms_sleeps_per_call", None, None, ("<=", 0.15, "value")),
    ("adaptive wait, 1 ms call overhead p50", "qp.adaptive_1ms_overhead_p50_us", "us",
     "fixed budget p50", "qp.fixed_1ms_overhead_p50_us", "qp.adaptive_vs_fixed_overhead_p50_ratio",
     "ours/base", None),
    ("adaptive wait after a 50 ms call", "qp.adaptive_after_long_sleeps_per_call", "", None, None,
     None, None, ("<=", 0.15, "value")),
    ("local noop p50", "local.noop_p50_ns", "ns", None, None, None, None, None),
    ("e2e noop p50", "e2e.noop_p50_ns", "ns", "bare ring rtt p50", "e2e.ring_rtt_p50_ns",
     "e2e.vs_ring_p50_ratio", "ours/base", ("<=", 2, "ratio")),
    ("e2e noop p50 vs unix socket", "e2e.noop_p50_ns", "ns", "unix socket p50",
     "unix.noop_p50_ns", "e2e.unix_vs_e2e_p50_ratio", "base/ours", (">=", 50, "ratio")),
    ("e2e noop p99 vs unix socket", "e2e.noop_p99_ns", "ns", "unix socket p99",
     "unix.noop_p99_ns", None, "base/ours", None),
    ("e2e noop p50 vs local plugin", "e2e.noop_p50_ns", "ns", "local plugin p50",
     "e2e.local_noop_p50_ns", None, "ours/base", None),
    ("e2e noop async batch 32", "e2e.noop_batch32_mops", "Mops/s", "io_uring NOP batch 32",
     "uring.nop_batch32_mops", "e2e.batch32_vs_uring_ratio", "ours/base", (">=", 5, "ratio")),
    ("e2e noop async batch 32, 4 threads", "e2e.noop_batch32_4thr_mops", "Mops/s",
     "1 thread", "e2e.noop_batch32_mops", None, "ours/base", None),
    ("bulk zero copy 64 MiB", "bulk.zc_64m_us", "us", "zero copy 4 KiB", "bulk.zc_4k_us",
     "bulk.zc_64m_vs_4k_ratio", "ours/base", ("<=", 2, "ratio")),
    ("bulk zero copy 64 MiB vs copy", "bulk.zc_64m_us", "us", "copied 64 MiB",
     "bulk.copy_64m_us", None, "base/ours", None),
    ("bulk zero copy 64 MiB vs unix", "bulk.zc_64m_us", "us", "unix socket 64 MiB",
     "bulk.unix_64m_us", None, "base/ours", None),
    ("bulk zero copy 4 KiB vs unix", "bulk.zc_4k_us", "us", "unix socket 4 KiB",
     "bulk.unix_4k_us", None, "base/ours", None),
    ("sgemm 512 overhead, zero copy", "e2e.sgemm512_zc_overhead_pct", "%", "local sgemm 512 ms",
     "bulk.sgemm512_local_ms", None, None, ("<", 1, "value"), "ms"),
    ("sgemm 512 overhead, copied (bulk)", "bulk.sgemm512_copy_overhead_pct", "%", None, None,
     None, None, None),
    ("sgemm 512 overhead, copied (e2e)", "e2e.sgemm512_copy_overhead_pct", "%", None, None,
     None, None, None),
    ("local sgemm 512", "local.sgemm512_gflops", "GFLOP/s", None, None, None, None, None),
    ("vm noop p50, ivshmem-plain", "vm.noop_p50_ns", "ns", "host process p50",
     "vm.host_noop_p50_ns", None, "ours/base", None),
    ("vm noop p50, doorbell wake-up", "vm.noop_doorbell_p50_ns", "ns",
     "host process, poller asleep", "vm.host_noop_asleep_p50_ns", None, "ours/base", None),
    ("infer small model p50, transport", "infer.e2e_small_p50_us", "us", "local plugin p50",
     "infer.local_small_p50_us", None, "ours/base", None),
    ("infer small model overhead p50", "infer.e2e_small_overhead_pct", "%", None, None, None,
     None, ("<=", 10, "value")),
    ("infer small model p50 vs unix socket", "infer.e2e_small_p50_us", "us", "unix socket p50",
     "infer.unix_small_p50_us", None, "base/ours", None),
    ("infer CNN p50, transport", "infer.e2e_cnn_p50_us", "us", "local plugin p50",
     "infer.local_cnn_p50_us", None, "ours/base", None),
    ("infer CNN overhead p50", "infer.e2e_cnn_overhead_pct", "%", None, None, None, None,
     ("<=", 1, "value")),
    ("infer CNN p99, transport", "infer.e2e_cnn_p99_us", "us", "local plugin p99",
     "infer.local_cnn_p99_us", None, "ours/base", None),
    ("infer 4 MiB input, zero copy", "infer.zc_4m_us", "us", "zero copy 4 KiB",
     "infer.zc_4k_us", "infer.zc_4m_vs_4k_ratio", "ours/base", ("<=", 2, "ratio")),
    ("infer 4 MiB input, zero copy vs copied", "infer.zc_4m_us", "us", "copied 4 MiB",
     "infer.copy_4m_us", None, "base/ours", None),
    ("infer 4 MiB, added by the transport", "infer.zc_added_4m_us", "us", "at 4 KiB",
     "infer.zc_added_4k_us", None, None, None),
    ("idle agent CPU", "agent.idle_cpu_pct", "% of a core", None, None, None, None,
     ("<", 1, "value")),
    ("connect + handshake + first noop p50", "mt.connect_p50_us", "us", None, None, None, None,
     ("<=", 1000, "value")),
    ("connect + handshake + first noop p99", "mt.connect_p99_us", "us", None, None, None, None,
     None),
    ("256 idle guests: memory", "mt.idle256_mib", "MiB", None, None, None, None,
     ("<=", 512, "value")),
    ("256 idle guests: agent CPU", "mt.idle256_cpu_pct", "% of a core", None, None, None, None,
     ("<", 1, "value")),
    ("noop p50 among 256 idle guests", "mt.noop_p50_idle256_us", "us", "alone",
     "mt.noop_p50_alone_us", "mt.noop_idle256_vs_alone_ratio", "ours/base", ("<=", 1.2, "ratio")),
    ("noop p99 beside 3 guests' sgemm 1024", "mt.neighbour_p99_us", "us", "alone p99",
     "mt.alone_p99_us", None, "ours/base", ("<=", 1000, "value")),
    ("noop p50 beside 3 guests' sgemm 1024", "mt.neighbour_p50_us", "us", "alone p50",
     "mt.alone_p50_us", None, "ours/base", ("<=", 1.1, "ratio")),
    ("neighbours' sgemm 1024 meanwhile", "mt.neighbour_sgemm_per_s", "per s", None, None, None,
     None, None),
    ("Jain's index, 8 guests flooding noops", "mt.jain_8", "", None, None, None, None,
     (">=", 0.99, "value")),
    ("smallest share of worker time (4 guests)", "mt.worker_share_min_pct", "%", None, None,
     None, None, (">=", 20, "value")),
]

UNITS = [("_ns", "ns"), ("_us", "us"), ("_ms", "ms"), ("_mops", "Mops/s"), ("_gflops", "GFLOP/s"),
         ("_pct", "%"), ("_ratio", "x"), ("_kb", "KiB"), ("_mib", "MiB")]


def unit_of(key):
    for suffix, unit in UNITS:
        if key.endswith(suffix):
            return unit
    return ""


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    a = abs(v)
    if a >= 1000:
        return f"{v:.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def check(op, target, x):
    if x is None:
        return None
    return {"<=": x <= target, ">=": x >= target, "<": x < target, ">": x > target}[op]


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print("usage: report.py DIR  (reads DIR/parts/*.json, writes the report files)",
              file=sys.stdout if len(sys.argv) == 2 else sys.stderr)
        return 0 if len(sys.argv) == 2 else 2
    out = sys.argv[1]
    merged, suite_of = {}, {}
    for part in sorted(glob.glob(os.path.join(out, "parts", "*.json"))):
        suite = os.path.basename(part)[:-5]
        try:
            with open(part) as f:
                d = json.load(f)
        except (OSError, ValueError) as e:
            print(f"report: skipping {part}: {e}", file=sys.stderr)
            continue
        for k, v in d.items():
            merged[k] = v
            suite_of.setdefault(k, "machine" if k.startswith("machine.") else suite)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(merged, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["suite", "key", "value", "unit"])
        for k in sorted(merged):
            w.writerow([suite_of[k], k, merged[k], unit_of(k)])

    rows = []
    for label, key, unit, blabel, bkey, rkey, way, target, *bunit in ROWS:
        v = merged.get(key)
        if not isinstance(v, (int, float)):
            continue
        b = merged.get(bkey) if bkey else None
        b = b if isinstance(b, (int, float)) else None
        r = merged.get(rkey) if rkey else None
        if not isinstance(r, (int, float)):
            r = None
            if b and way == "ours/base":
                r = v / b
            elif b and way == "base/ours" and v:
                r = b / v
        met, tstr = None, ""
        if target:
            op, num, what = target
            met = check(op, num, r if what == "ratio" else v)
            tstr = f"{op} {num:g}{'x' if what == 'ratio' else ' ' + unit}"
        if unit == "%" and key.endswith("overhead_pct") and v < -2:
            # Faster than the local call it wraps: the local side was disturbed.
            met = None
            tstr = (tstr + " " if tstr else "") + "(negative: noise)"
        rows.append({
            "figure": label, "value": v, "unit": unit, "baseline": blabel or "",
            "baseline_value": b, "baseline_unit": bunit[0] if bunit else unit, "ratio": r, "ratio_means": way or "", "target": tstr,
            "met": "" if met is None else ("yes" if met else "NO"),
        })
    with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["figure"])
        w.writeheader()
        for row in rows:
            w.writerow(row)

    head = ["figure", "value", "baseline (same run)", "ratio", "target", "met"]
    table = [head]
    for row in rows:
        base = (f"{row['baseline']}: {fmt(row['baseline_value'])} {row['baseline_unit']}"
                if row["baseline"] else "")
        ratio = (f"{fmt(row['ratio'])}x {row['ratio_means'].replace('ours', 'fig')}"
                 if row["ratio"] is not None else "")
        table.append([row["figure"], f"{fmt(row['value'])} {row['unit']}", base, ratio,
                      row["target"], row["met"]])
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = []
    m = merged
    lines.append(f"summary: {m.get('machine.cpu', '?')}, {m.get('machine.cores', '?')} cores, "
                 f"kernel {m.get('machine.kernel', '?')}; cache-line rtt "
                 f"{fmt(m.get('machine.probe_rtt_ns'))} ns")
    lines.append("values are medians over repetitions; ratio is fig/base (figure over baseline) "
                 "or base/fig as marked,")
    lines.append("the median of per-repetition ratios where the suite gives one, else of the "
                 "medians; targets as the suites print them")
    for i, r in enumerate(table):
        lines.append("  " + "  ".join(c.ljust(widths[j]) for j, c in enumerate(r)).rstrip())
        if i == 0:
            lines.append("  " + "  ".join("-" * widths[j] for j in range(len(head))))
    load = m.get("machine.load1_start")
    if isinstance(load, (int, float)) and load >= 0.7:
        lines.append(f"note: load average {load:g} when the run started: another program was busy, "
                     "so these figures are noisy")
    met = [r for r in rows if r["met"]]
    lines.append(f"targets met: {sum(r['met'] == 'yes' for r in met)} of {len(met)}; "
                 f"{len(merged)} keys in results.json")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
