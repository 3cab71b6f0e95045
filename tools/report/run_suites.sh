#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the already-built perf programs and writes the report folder. tools/bench calls it
# after building with -c opt; tests/bench/bench_quick_test.sh calls it with the binaries of
# its runfiles (a Bazel test cannot call bazel). See --help.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)

usage() {
  cat <<'USAGE'
usage: run_suites.sh [--quick] --out DIR --ring BIN [--qp BIN] --local BIN --e2e BIN --bulk BIN [--vm BIN]
Runs each perf program (--json, and --samples for ring and e2e), showing what runs, how far
it is and the time left, then writes DIR/results.json, results.csv, summary.csv,
summary.txt (printed) and plots/*.png (gnuplot). Each suite's table goes to DIR/NAME.txt.
  --quick     every suite in its quick mode (a smoke run)
  --out DIR   report folder (created)
  --ring BIN, --qp BIN, --local BIN, --e2e BIN, --bulk BIN, --vm BIN
              the programs; a suite whose program is not given is left out
Exit status: 0 if every suite given ran and the report was written, 1 otherwise, 2 on
bad usage.
USAGE
}

quick=0 out=""
declare -A bin=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out|--ring|--qp|--local|--e2e|--bulk|--vm)
      [ $# -ge 2 ] || { echo "run_suites.sh: $1 needs a value" >&2; exit 2; }
      if [ "$1" = --out ]; then out=$2; else bin[${1#--}]=$2; fi
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_suites.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$out" ] || { echo "run_suites.sh: --out DIR is required (see --help)" >&2; exit 2; }
[ ${#bin[@]} -gt 0 ] || { echo "run_suites.sh: no suite given (see --help)" >&2; exit 2; }
for s in "${!bin[@]}"; do
  [ -x "${bin[$s]}" ] || { echo "run_suites.sh: --$s: '${bin[$s]}' is not an executable" >&2; exit 2; }
done
mkdir -p "$out/parts" "$out/samples" "$out/plots" || {
  echo "run_suites.sh: cannot create $out" >&2; exit 1; }
out=$(cd "$out" && pwd)
rm -f "$out"/parts/*.json "$out"/samples/*.dat "$out"/plots/*.png

# Typical seconds per suite on this kind of machine (2 vCPUs), for the time-left estimate
# before a suite has reported its first repetition.
declare -A est_full=([ring]=5 [qp]=3 [local]=2 [e2e]=12 [bulk]=6 [vm]=30)
declare -A est_quick=([ring]=1 [qp]=1 [local]=1 [e2e]=2 [bulk]=2 [vm]=5)
order=()
for s in ring qp local e2e bulk vm; do [ -n "${bin[$s]:-}" ] && order+=("$s"); done

# Other work on the machine spoils the figures: note the load when we start.
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
printf '{"machine.load1_start": %s}\n' "$load" > "$out/parts/machine.json"
awk -v l="$load" 'BEGIN { exit !(l >= 0.7) }' &&
  echo "tools/bench: note: load average $load before the run: something else is busy, figures will be noisy" >&2

tty=0
[ -t 2 ] && tty=1
t_all=$SECONDS
failed=0
i=0
for s in "${order[@]}"; do
  i=$((i + 1))
  flags=(--json "$out/parts/$s.json")
  [ "$quick" = 1 ] && flags+=(--quick)
  case "$s" in ring|e2e) flags+=(--samples "$out/samples") ;; esac
  # Seconds the suites after this one should take.
  rest=0
  for t in "${order[@]:$i}"; do
    if [ "$quick" = 1 ]; then rest=$((rest + est_quick[$t])); else rest=$((rest + est_full[$t])); fi
  done
  if [ "$quick" = 1 ]; then est=${est_quick[$s]}; else est=${est_full[$s]}; fi
  label="[$i/${#order[@]}] $s"
  # The programs report "NAME: repetition R/N done (T s)" on a non-tty stderr; turn that into
  # one progress line: what runs, how far, time left in this suite and overall.
  "${bin[$s]}" "${flags[@]}" 2>&1 > "$out/$s.txt" |
    awk -v label="$label" -v est="$est" -v rest="$rest" -v tty="$tty" -v t0="$t_all" \
        -v logf="$out/$s.log" '
      function show(msg) {
        if (tty) printf "\r\033[K%s", msg > "/dev/stderr"
        else print msg > "/dev/stderr"
        fflush("/dev/stderr")
      }
      BEGIN { show(sprintf("tools/bench: %s: starting (about %d s, %d s after it)", label, est, rest)) }
      {
        print > logf
        if (match($0, /repetition [0-9]+\/[0-9]+ done \([0-9.]+ s\)/)) {
          split(substr($0, RSTART, RLENGTH), f, /[ \/()]+/)
          r = f[2]; n = f[3]; t = f[5]
          left = r > 0 ? t / r * (n - r) : est
          show(sprintf("tools/bench: %s: repetition %d/%d, %.0f s in, ~%.0f s left (~%.0f s overall)",
                       label, r, n, t, left, left + rest))
        } else if ($0 !~ /repetition|^\r/) {
          if (tty) printf "\r\033[K" > "/dev/stderr"
          print > "/dev/stderr"
        }
      }
      END { if (tty) printf "\r\033[K" > "/dev/stderr" }'
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ] || [ ! -s "$out/parts/$s.json" ]; then
    echo "tools/bench: suite $s failed (exit $rc; its output: $out/$s.txt, $out/$s.log)" >&2
    failed=1
  else
    echo "tools/bench: $label done in $((SECONDS - t_all)) s overall" >&2
  fi
done

for s in "${order[@]}"; do
  [ -s "$out/$s.txt" ] && cat "$out/$s.txt"
done
echo
if ! python3 "$here/report.py" "$out"; then
  echo "tools/bench: the report could not be written" >&2
  exit 1
fi
if ! "$here/plots.sh" "$out"; then
  echo "tools/bench: plots failed (see $out/plots/gnuplot.log)" >&2
  failed=1
fi
echo "tools/bench: report in $out: results.json results.csv summary.csv summary.txt plots/ ($((SECONDS - t_all)) s)" >&2
exit "$failed"
