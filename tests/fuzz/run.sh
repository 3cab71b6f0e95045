#!/usr/bin/env bash
# Builds the host fuzzer and runs it for SECONDS over the seed corpus (and the regression
# inputs). Exit 0: no crash, leak or timeout found; non-zero otherwise, with the input that
# did it saved under $FUZZ_ARTIFACTS (default: a folder printed at the end).
#   tests/fuzz/run.sh SECONDS [extra libFuzzer flags]
set -uo pipefail
secs=${1:?usage: tests/fuzz/run.sh SECONDS [libFuzzer flags]}
shift
here=$(cd "$(dirname "$0")" && pwd)
fuzzer=$("$here/build.sh" | tail -n 1) || { echo "run.sh: build failed" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vaccel-fuzz-run.XXXXXX")
art=${FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$work/corpus" "$work/tmp" "$art"
# Resources the guests register become files under TMPDIR: keep them in the scratch dir.
export TMPDIR=$work/tmp
# New inputs go to the scratch corpus (first folder); the committed seeds stay as they are.
dirs=("$work/corpus" "$here/corpus")
[ -d "$here/regressions" ] && [ -n "$(ls -A "$here/regressions" 2>/dev/null)" ] && dirs+=("$here/regressions")
"$fuzzer" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$art/" "$@" "${dirs[@]}"
rc=$?
found=$(ls -A "$art" 2>/dev/null | wc -l)
if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
  echo "run.sh: the fuzzer found something (exit $rc); inputs in $art:" >&2
  ls -l "$art" >&2
  exit 1
fi
echo "run.sh: ${secs}s of fuzzing, nothing found ($(ls "$work/corpus" | wc -l) new corpus inputs)"
# FUZZ_KEEP=1 keeps what this run learnt (e.g. to add inputs to the seed corpus).
if [ -n "${FUZZ_KEEP:-}" ]; then echo "run.sh: corpus kept in $work/corpus"; else rm -rf "$work"; fi
