#!/usr/bin/env bash
# Runs each example the way the README shows and checks its output, exit
# codes for --help and for a bad flag. Arguments: noop exec sgemm binaries.
set -uo pipefail
noop=$1 exec=$2 sgemm=$3
fail=0
check() { # name, expected substring, command...
	local name=$1 want=$2
	shift 2
	local out
	out=$("$@" 2>&1)
	local rc=$?
	if [ $rc -ne 0 ] || [[ "$out" != *"$want"* ]]; then
		echo "FAIL: $name: expected rc 0 and '$want', got rc $rc:" >&2
		echo "$out" >&2
		fail=1
	fi
}
check_rc() { # name, expected rc, command...
	local name=$1 want=$2
	shift 2
	"$@" >/dev/null 2>&1
	local rc=$?
	if [ $rc -ne "$want" ]; then
		echo "FAIL: $name: expected exit $want, got $rc" >&2
		fail=1
	fi
}
NOOP=backends/noop/libvaccel-noop.so
EXEC=backends/exec/libvaccel-exec.so
BLAS=backends/blas/libvaccel-blas.so
export OPENBLAS_NUM_THREADS=1 VACCEL_BLAS_THREADS=1
for b in "$noop" "$exec" "$sgemm"; do
	check "$b --help" "usage:" "$b" --help
	check_rc "$b --bogus" 2 "$b" --bogus
done
check "noop" "100 calls" env VACCEL_PLUGINS=$NOOP "$noop" 100
check "noop profiling" "profiling region 'noop': 5 entries" \
	env VACCEL_PLUGINS=$NOOP VACCEL_PROFILING_ENABLED=1 "$noop" -n 5
check_rc "noop without plugins" 1 env -u VACCEL_PLUGINS "$noop" 1
check "exec" "mytestfunc(21) = 42" env VACCEL_PLUGINS=$EXEC "$exec" --input 21
check "exec resource" "mytestfunc(4) = 8" \
	env VACCEL_PLUGINS=$EXEC "$exec" --resource --input 4
check_rc "exec bad symbol" 1 env VACCEL_PLUGINS=$EXEC "$exec" --func nope
check "sgemm" "check OK" env VACCEL_PLUGINS=$BLAS "$sgemm" --size 65 -i 1
exit $fail
