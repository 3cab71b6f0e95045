#!/usr/bin/env bash
# The vaccel_ivshmem guest driver (vmm-glue/guest-driver) in a real QEMU guest (TCG here;
# KVM where it works), against a real vaccel-agent:
#   1. build-guest-image.sh --driver builds the module against the guest's Debian kernel
#      (headers fetched with apt-get download, cached) and /init loads it;
#   2. plain: the driver maps BAR2 write-back (its cache_mode, BAR2 outside the guest's
#      uncachable MTRR ranges, PAT's memtype list), and vAccel runs through that mapping
#      (VACCEL_SHM_DEVICE=auto): a process whose /proc/PID/maps shows /dev/vaccel-ivshmem0
#      and whose PAT reservation for BAR2 is write-back, vm_client --check; sysfs resource2
#      is refused while the driver owns BAR2; rmmod is clean and the library then falls
#      back to resource2 (tests/vm/vm_driver_guest.sh does these checks in the guest);
#   3. doorbell: the same device wiring through the agent's socket, the guest's doorbell
#      (sysfs resource0, untouched by the driver) waking the sleeping poller.
# What a TCG guest cannot show: the speed of a write-back mapping on a KVM host (TCG ignores
# memory types). If QEMU, busybox, the kernel or its headers are missing, or the module does
# not build or load, this test FAILS (tools/setup provides what the host needs).
#
# usage: vm_driver_test.sh BUILD_IMAGE RUN_GUEST AGENT VM_CLIENT VM_PROBE SHM_PLUGIN
#                          MYTESTLIB NOOP_PLUGIN EXEC_PLUGIN BLAS_PLUGIN DRIVER_SOURCE GUEST_SCRIPT
set -euo pipefail

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
builder=$1 runner=$2 agent=$(abs "$3") client=$4 probe=$5 shm=$6 mylib=$(abs "$7")
pnoop=$(abs "$8") pexec=$(abs "$9") pblas=$(abs "${10}") driver_src=$(dirname "${11}") guest=${12}
. "$(dirname "$0")/vm_common.sh"

t0=$(now)
"$builder" --cache "$cache" --driver --driver-src "$driver_src" "$tmp/image" \
	"$client=/bin/vm_client" "$probe=/bin/vm_probe" "$guest=/bin/vm_driver_guest.sh" \
	--file "$shm=/lib/vaccel/libvaccel-shm.so" --file "$mylib" ||
	fail "building the guest image with --driver failed (see above: the kernel and its headers come from the Debian archive; the module needs make and gcc-12)"
[ -f "$tmp/image/vaccel_ivshmem.ko" ] || fail "the builder wrote no vaccel_ivshmem.ko"
echo "image and driver built in $(secs "$t0" "$(now)") s"

vm_agent_start "$agent" "$tmp/agent.log" --plugins "$pblas:$pexec:$pnoop" \
	--pool 4k:256,64k:64,1m:16 --exec-allow "$mylib"

guest_env="VACCEL_PLUGINS=/lib/vaccel/libvaccel-shm.so VACCEL_SHM_DEVICE=auto"

# boot NAME DEVICE-ARGS... -- MODE: runs vm_driver_guest.sh MODE in a guest wired by
# run-guest.sh DEVICE-ARGS; sets $out (the console log).
boot() {
	local name=$1 t dev=() status
	shift
	while [ "$1" != -- ]; do dev+=("$1"); shift; done
	shift
	out=$tmp/$name.console
	t=$(now)
	if ! "$runner" --kernel "$tmp/image/kernel" --initrd "$tmp/image/initrd.cpio" "${dev[@]}" \
		--timeout 40 --append "$guest_env run=\"/bin/vm_driver_guest.sh $1 $mylib\"" \
		>"$out" 2>&1; then
		cat "$out"
		tail -n 20 "$tmp/agent.log"
		fail "$name: QEMU failed or timed out"
	fi
	echo "$name: boot to result $(secs "$t" "$(now)") s"
	grep -a '^DRV-\|VACCEL-GUEST-DRIVER' "$out" | sed "s/^/  [$name] /"
	grep -q 'VACCEL-GUEST-DRIVER loaded' "$out" ||
		{ cat "$out"; fail "$name: /init did not load vaccel_ivshmem.ko"; }
	status=$(sed -n 's/^VACCEL-GUEST-EXIT \([0-9]*\).*/\1/p' "$out" | tail -n 1)
	[ -n "$status" ] || { cat "$out"; fail "$name: no exit marker from the guest"; }
	if grep -q '^DRV-FAIL' "$out" || [ "$status" != 0 ]; then
		cat "$out"
		fail "$name: $(grep -m1 '^DRV-FAIL' "$out" || echo "the guest script exited $status")"
	fi
}
expect() { # NAME TEXT: the console of the last boot has TEXT
	grep -qF -- "$2" "$out" || { cat "$out"; fail "$1: no '$2' in the guest's output"; }
}

# 2. ivshmem-plain.
boot plain --mode plain --region "$plain" -- plain
expect plain "DRV-CACHE-MODE write-back"
expect plain "mapped write-back as /dev/vaccel-ivshmem0"
expect plain "DRV-PROCESS-MAPPING write-back"
expect plain "BAR2 mapped through /dev/vaccel-ivshmem0 (driver, write-back)"
expect plain "DRV-VM-CHECK noop OK"
expect plain "DRV-VM-CHECK exec OK mytestfunc(21) = 42"
expect plain "DRV-VM-CHECK sgemm OK"
expect plain "the vaccel_ivshmem driver owns BAR2"
expect plain "/dev/vaccel-ivshmem0 removed"
expect plain "resource2 (sysfs, uncached)"
expect plain "DRV-AFTER-RMMOD VM-BENCH n 10"
expect plain "DRV-OK plain"
# Taint is expected for an out-of-tree unsigned module; anything worse is not.
if grep -E 'BUG:|WARNING:|Oops|Call Trace' "$out"; then
	fail "plain: the guest kernel complained (see above)"
fi

# 3. ivshmem-doorbell: the poller sleeps until BAR0 rings.
before=$(doorbell_wakeups)
boot doorbell --mode doorbell --socket "$sock" --vectors 8 -- doorbell
expect doorbell "BAR2 mapped through /dev/vaccel-ivshmem0 (driver, write-back)"
expect doorbell "DRV-VM-CHECK sgemm OK"
expect doorbell "VM-FIRST-CALL ret 0"
expect doorbell "DRV-OK doorbell"
after=$(doorbell_wakeups)
echo "doorbell wake-ups of the poller: $before -> $after"
[ "${after:-0}" -gt "${before:-0}" ] || fail "doorbell: the poller was never woken by a doorbell"

kill "$apid"
wait "$apid" || { cat "$tmp/agent.log"; fail "the agent did not exit 0 on SIGTERM"; }
apid=
echo "total $(secs "$t0" "$(now)") s"
echo PASS
