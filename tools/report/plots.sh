#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The report's plots, with gnuplot (pngcairo), from DIR/results.json and DIR/samples/*.dat:
#   DIR/plots/latency_cdf.png      per-call latency CDFs: ring, noop through the transport,
#                                  unix-socket noop (the last repetition's samples)
#   DIR/plots/throughput_batch.png throughput against batch size
#   DIR/plots/bulk_size.png        time per call against tensor size (log-log)
#   DIR/plots/infer_latency.png    torch model run p50/p99: local, transport, unix socket
#   DIR/plots/many_guests.png      perf/mt: connect cost, a noop alone, among idle guests, beside busy ones
# A plot whose data is missing is left out with a note. Exit 1 if gnuplot fails.
set -uo pipefail

if [ $# -ne 1 ] || [ "$1" = --help ] || [ "$1" = -h ]; then
  echo "usage: plots.sh DIR   (reads DIR/results.json and DIR/samples/, writes DIR/plots/*.png)"
  [ $# -eq 1 ] && exit 0 || exit 2
fi
out=$1
command -v gnuplot >/dev/null || { echo "plots.sh: gnuplot is not installed (tools/setup installs gnuplot-nox)" >&2; exit 1; }
p=$out/plots
s=$out/samples
mkdir -p "$p"
log=$p/gnuplot.log
: > "$log"

# Plot data from results.json: what each series has, as "x y" lines (blank-line blocks).
python3 - "$out" <<'PY' || exit 1
import json, os, sys
out = sys.argv[1]
r = json.load(open(os.path.join(out, "results.json")))
p = os.path.join(out, "plots")
def g(k):
    v = r.get(k)
    return v if isinstance(v, (int, float)) and v > 0 else None
def write(name, rows):
    rows = [(x, y) for x, y in rows if y is not None]
    path = os.path.join(p, name)
    if os.path.exists(path):
        os.unlink(path)
    if rows:  # no file when nothing was measured: the series is left out
        with open(path, "w") as f:
            for x, y in rows:
                f.write(f"{x} {y}\n")
sync = g("e2e.noop_p50_ns")
write("tput_ring_ours.dat", [(1, g("ring.tput_single_mops")), (32, g("ring.tput_batch32_mops"))])
write("tput_ring_rte.dat", [(1, g("rte.tput_burst1_mops")), (32, g("rte.tput_burst32_mops"))])
write("tput_e2e.dat", [(1, 1e3 / sync if sync else None), (32, g("e2e.noop_batch32_mops"))])
write("tput_e2e_4thr.dat", [(32, g("e2e.noop_batch32_4thr_mops"))])
write("tput_uring.dat", [(32, g("uring.nop_batch32_mops"))])
mt = [("connect p50", g("mt.connect_p50_us")),
      ("connect p99", g("mt.connect_p99_us")),
      ("noop p50 alone", g("mt.noop_p50_alone_us")),
      ("p50, 256 idle", g("mt.noop_p50_idle256_us")),
      ("noop p99 alone", g("mt.alone_p99_us")),
      ("p99, 3 busy", g("mt.neighbour_p99_us"))]
path = os.path.join(p, "mt.dat")
if os.path.exists(path):
    os.unlink(path)
if any(v for _, v in mt):
    with open(path, "w") as f:
        for i, (label, v) in enumerate(mt):
            if v:
                f.write(f'{i} {v} "{label}"\n')
sizes = [(4096, "4k"), (1 << 20, "1m"), (64 << 20, "64m")]
for kind in ("zc", "copy", "unix"):
    write(f"bulk_{kind}.dat", [(b, g(f"bulk.{kind}_{k}_us")) for b, k in sizes])
# infer: x = 0 local, 1 transport, 2 unix socket; one series per model and percentile
for model in ("small", "cnn"):
    for pct in ("p50", "p99"):
        write(f"infer_{model}_{pct}.dat",
              [(x, g(f"infer.{kind}_{model}_{pct}_us"))
               for x, kind in enumerate(("local", "e2e", "unix"))])
PY

cpu=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("machine.cpu","?"), "/", r.get("machine.cores","?"), "cores")' "$out/results.json" 2>/dev/null | tr -d '"')

failed=0
plot() { # name, gnuplot program
  if ! gnuplot >>"$log" 2>&1 <<EOF
set terminal pngcairo size 1100,720 enhanced font "DejaVu Sans,11"
set output "$p/$1.png"
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key above center horizontal maxcols 2 Left reverse box width -2
$2
EOF
  then
    echo "plots.sh: $1.png failed (see $log)" >&2
    failed=1
  fi
}

# A plot's series, only those whose data file exists: add VAR FILE TITLE STYLE.
add() {
  [ -s "$2" ] || return 0
  local cur=${!1}
  [ -n "$cur" ] && cur="$cur, "
  printf -v "$1" '%s"%s" using 1:2 with %s title "%s" noenhanced' "$cur" "$2" "$4" "$3"
}

# (1) latency CDFs: the fast paths on a linear scale up to their p99 (top), everything on
# a log scale (bottom), one key for both.
cdf="" cdf_bare="" zoom=0
add_cdf() {
  add cdf "$s/$1.dat" "$2" "lines $3"
  add cdf_bare "$s/$1.dat" "" "lines $3"
  # The zoom reaches past the slowest fast path's p99.
  [ "$1" != e2e_unix ] && [ -s "$s/$1.dat" ] &&
    zoom=$(awk -v z="$zoom" '!/^#/ && $2 >= 0.99 { print ($1 > z ? $1 : z); f = 1; exit }
                             END { if (!f) print z }' "$s/$1.dat")
  return 0
}
add_cdf ring_probe_rtt "bare cache-line round trip (ring_bench)" 'lw 1.5 dt 3 lc rgb "#777777"'
add_cdf ring_ours_rtt "our ring, 64-byte round trip (ring_bench)" 'lw 2 lc rgb "#1f77b4"'
add_cdf ring_rte_rtt "DPDK rte_ring, 64-byte round trip (ring_bench)" 'lw 2 dt 2 lc rgb "#17becf"'
add_cdf e2e_ring "bare ring round trip (e2e_bench)" 'lw 1.5 dt 4 lc rgb "#2ca02c"'
add_cdf e2e_local "vaccel_noop, local plugin" 'lw 1.5 lc rgb "#9467bd"'
add_cdf e2e_noop "vaccel_noop through the transport" 'lw 2.5 lc rgb "#d62728"'
add_cdf e2e_unix "vaccel_noop over a unix socket" 'lw 2 lc rgb "#ff7f0e"'
zoom=$(awk -v z="$zoom" 'BEGIN { z = z * 1.3; s = 10 ^ int(log(z > 1 ? z : 1) / log(10)); print (int(z / s) + 1) * s }')
if [ -n "$cdf" ]; then
  plot latency_cdf "
set terminal pngcairo size 1100,1050 enhanced font \"DejaVu Sans,11\"
set output \"$p/latency_cdf.png\"
set multiplot title \"Per-call latency distribution, last repetition ($cpu)\"
set ylabel \"fraction of calls at or below (CDF)\"
set yrange [0:1.02]
set ytics 0.1
set origin 0,0.47
set size 1,0.49
set title \"fast paths, linear scale up to past their p99 (the stairs are the timer's granularity)\"
set xlabel \"latency per call or round trip (ns)\"
set xrange [0:$zoom]
plot $cdf
set origin 0,0
set size 1,0.47
unset key
set title \"all, log scale\"
set xlabel \"latency per call or round trip (ns, log scale)\"
set logscale x
set xrange [*:*]
set format x \"10^{%L}\"
plot $cdf_bare
unset multiplot"
else
  echo "plots.sh: no samples in $s: latency_cdf.png left out" >&2
fi

# (2) throughput against batch size.
tp=""
add tp "$p/tput_ring_ours.dat" "our ring, one-way 8-byte items" 'linespoints lw 2 pt 7 ps 1.5 lc rgb "#1f77b4"'
add tp "$p/tput_ring_rte.dat" "DPDK rte_ring SP/SC, one-way" 'linespoints lw 2 dt 2 pt 5 ps 1.5 lc rgb "#17becf"'
add tp "$p/tput_e2e.dat" "vaccel_noop via transport (1: sync, 1/p50; 32: async)" 'linespoints lw 2 pt 9 ps 1.8 lc rgb "#d62728"'
add tp "$p/tput_e2e_4thr.dat" "vaccel_noop via transport, async, 4 threads" 'points pt 8 ps 3.2 lw 1.5 lc rgb "#d62728"'
add tp "$p/tput_uring.dat" "io_uring NOP, batch 32 (kernel round trip)" 'points pt 13 ps 2 lc rgb "#ff7f0e"'
if [ -n "$tp" ]; then
  plot throughput_batch "
set title \"Throughput against batch size ($cpu)\"
set key inside bottom right vertical Left reverse box opaque width -4
set xlabel \"items or calls per batch (log scale)\"
set ylabel \"Mops/s (log scale)\"
set logscale x 2
set logscale y 10
set xrange [0.7:48]
set xtics (\"1\" 1, \"2\" 2, \"4\" 4, \"8\" 8, \"16\" 16, \"32\" 32)
set format y \"%g\"
plot $tp"
else
  echo "plots.sh: no throughput figures: throughput_batch.png left out" >&2
fi

# (3) time per call against tensor size.
bk=""
add bk "$p/bulk_zc.dat" "zero copy (tensor in the pool)" 'linespoints lw 2.5 pt 7 ps 1.5 lc rgb "#d62728"'
add bk "$p/bulk_copy.dat" "copied into the pool" 'linespoints lw 2 pt 5 ps 1.5 lc rgb "#1f77b4"'
add bk "$p/bulk_unix.dat" "unix socket" 'linespoints lw 2 pt 9 ps 1.5 lc rgb "#ff7f0e"'
if [ -n "$bk" ]; then
  plot bulk_size "
set title \"Time per call against input tensor size ($cpu)\"
set key inside top left vertical Left reverse box opaque
set xlabel \"tensor size (bytes, log scale)\"
set ylabel \"time per call (us, log scale)\"
set logscale xy
set xrange [2048:1.4e8]
set xtics (\"4 KiB\" 4096, \"64 KiB\" 65536, \"1 MiB\" 1048576, \"16 MiB\" 16777216, \"64 MiB\" 67108864)
set format y \"%g\"
plot $bk"
else
  echo "plots.sh: no bulk figures: bulk_size.png left out" >&2
fi

# (4) torch model run: each side's p50 and p99, small model and CNN.
inf=""
add inf "$p/infer_small_p50.dat" "small model, p50" 'linespoints lw 2.5 pt 7 ps 1.8 lc rgb "#d62728"'
add inf "$p/infer_small_p99.dat" "small model, p99" 'linespoints lw 1.5 dt 2 pt 6 ps 1.8 lc rgb "#d62728"'
add inf "$p/infer_cnn_p50.dat" "3x224x224 CNN, p50" 'linespoints lw 2.5 pt 5 ps 1.8 lc rgb "#1f77b4"'
add inf "$p/infer_cnn_p99.dat" "3x224x224 CNN, p99" 'linespoints lw 1.5 dt 2 pt 4 ps 1.8 lc rgb "#1f77b4"'
if [ -n "$inf" ]; then
  plot infer_latency "
set title \"torch model run, time per call ($cpu)\"
set key inside top left vertical Left reverse box opaque
set xlabel \"where the model runs\"
set ylabel \"time per call (us, log scale)\"
set logscale y
set xrange [-0.4:2.4]
set xtics (\"local plugin\" 0, \"through the transport\" 1, \"unix socket\" 2)
set format y \"%g\"
plot $inf"
else
  echo "plots.sh: no infer figures: infer_latency.png left out" >&2
fi
# (5) many guests on one agent (perf/mt).
if [ -s "$p/mt.dat" ]; then
  plot many_guests "
set title \"Many guests on one agent ($cpu): connect + handshake + first noop;\\na noop alone, among 256 idle guests, beside 3 guests running sgemm 1024\"
set style fill solid 0.6 border -1
set boxwidth 0.6
set ylabel \"microseconds (log scale)\"
set logscale y 10
set format y \"%g\"
set xrange [-0.6:5.6]
set key off
set xtics rotate by 0 scale 0
plot \"$p/mt.dat\" using 1:2:xtic(3) with boxes lc rgb \"#1f77b4\", \
     \"$p/mt.dat\" using 1:2:(sprintf(\"%.3g us\", \$2)) with labels offset 0,1 notitle"
else
  echo "plots.sh: no perf/mt figures: many_guests.png left out" >&2
fi

exit "$failed"
