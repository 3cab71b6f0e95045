#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs inside the guest of vm_driver_test.sh (busybox sh), after /init loaded the
# vaccel_ivshmem driver. Every result line starts with DRV- so the host can grep the
# console; the first failed check prints "DRV-FAIL <why>" and exits 1.
#   plain MYTESTLIB: the driver's device and its write-back BAR2 (sysfs attribute, BAR2 out
#     of every uncachable MTRR range, PAT's memtype list), then vAccel through it: a process
#     whose maps show the driver's node and whose PAT reservation is write-back, vm_client
#     --check with the library's debug line, sysfs resource2 refused while the driver owns
#     BAR2, then rmmod and the library falling back to resource2.
#   doorbell MYTESTLIB: vm_client --check and --first-call (BAR0 doorbell from sysfs
#     resource0 beside BAR2 from the driver).
mode=$1 lib=$2
fail() {
	echo "DRV-FAIL $*"
	exit 1
}

dev=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ]; then
		dev=$d
		break
	fi
done
[ -n "$dev" ] || fail "no ivshmem device (1af4:1110) in the guest"
dmesg | grep -E 'vaccel_ivshmem' | sed 's/^/DRV-DMESG /'
[ -d "$dev/misc/vaccel-ivshmem0" ] || fail "the driver is not bound: no $dev/misc/vaccel-ivshmem0"
[ -c /dev/vaccel-ivshmem0 ] || fail "no character device /dev/vaccel-ivshmem0"
cache=$(cat "$dev/misc/vaccel-ivshmem0/cache_mode")
echo "DRV-CACHE-MODE $cache"
[ "$cache" = write-back ] || fail "the driver's cache_mode is '$cache'"
size=$(cat "$dev/misc/vaccel-ivshmem0/size")
set -- $(sed -n 3p "$dev/resource")
start=$(($1)) end=$(($2))
echo "DRV-BAR2 $1-$2 size $size"
[ "$size" -eq $((end - start + 1)) ] || fail "size attribute $size is not BAR2's size"

# The guest's MTRRs: an uncachable range over BAR2 would make any PAT type uncachable on
# hardware that applies them (the driver moves BAR2 above 4 GiB to avoid SeaBIOS's).
while read -r line; do
	echo "DRV-MTRR $line"
	case $line in *uncachable*) ;; *) continue ;; esac
	b=${line#*base=}
	b=${b%% *}
	s=${line#*size=}
	s=${s%%B,*}
	s=${s## }
	unit=${s#"${s%?}"}
	s=${s%?}
	case $unit in K) s=$((s * 1024)) ;; M) s=$((s * 1048576)) ;; G) s=$((s * 1073741824)) ;; esac
	if [ "$start" -lt $((b + s)) ] && [ "$end" -ge $((b)) ]; then
		fail "BAR2 lies in an uncachable MTRR range: $line"
	fi
done </proc/mtrr

if [ "$mode" = doorbell ]; then
	VACCEL_LOG_LEVEL=4 /bin/vm_client --check "$lib" >/tmp/check.log 2>&1 ||
		{ cat /tmp/check.log; fail "vm_client --check exited $?"; }
	grep -E '^VM-CHECK|BAR2 mapped through' /tmp/check.log | sed 's/^/DRV-/'
	/bin/vm_client --first-call || fail "vm_client --first-call failed"
	echo "DRV-OK doorbell"
	exit 0
fi

# PAT's list of reservations: the driver's memremap holds one for BAR2; a process's
# mapping adds its own, whose type is the one its page-table entries get.
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
pat=/sys/kernel/debug/x86/pat_memtype_list
[ -r "$pat" ] || fail "no $pat (debugfs not mountable?)"
range=$(printf '[mem 0x%016x-0x%016x]' "$start" $((end + 1)))
grep -F "$range" "$pat" | sed 's/^/DRV-PAT-DRIVER /'
n0=$(grep -cF "$range" "$pat")
[ "$n0" -ge 1 ] || fail "PAT has no reservation for BAR2 $range (the driver's memremap)"

/bin/vm_client --loop >/tmp/loop.log 2>&1 &
pid=$!
i=0
while ! grep -q VM-LOOP /tmp/loop.log; do
	i=$((i + 1))
	[ $i -le 300 ] && kill -0 $pid 2>/dev/null ||
		{ cat /tmp/loop.log; fail "vm_client --loop never got going"; }
	sleep 0.1
done
grep -E 'vaccel-ivshmem|resource[0-9]' /proc/$pid/maps | sed 's/^/DRV-MAPS /'
grep -q ' /dev/vaccel-ivshmem0$' /proc/$pid/maps || fail "the process does not map /dev/vaccel-ivshmem0"
! grep -q 'resource2' /proc/$pid/maps || fail "the process maps sysfs resource2"
grep -F "$range" "$pat" | sed 's/^/DRV-PAT-PROCESS /'
n1=$(grep -cF "$range" "$pat")
[ "$n1" -eq $((n0 + 1)) ] || fail "PAT lists $n1 reservations for BAR2 with the process running, want $((n0 + 1))"
if grep -F "$range" "$pat" | grep -vq 'write-back$'; then
	fail "a BAR2 reservation is not write-back"
fi
echo "DRV-PROCESS-MAPPING write-back (PAT reservations $n0 -> $n1)"
kill -9 $pid
wait $pid 2>/dev/null

# The next process takes the device over (the killed one is cleaned up by the agent).
VACCEL_LOG_LEVEL=4 /bin/vm_client --check "$lib" >/tmp/check.log 2>&1 ||
	{ cat /tmp/check.log; fail "vm_client --check through the driver's mapping failed"; }
grep -E '^VM-CHECK|BAR2 mapped through' /tmp/check.log | sed 's/^/DRV-/'

# sysfs resource2 while the driver owns BAR2: refused, with the library saying why.
/bin/vm_probe --no-driver >/tmp/probe.log 2>&1
rc=$?
sed 's/^/DRV-/' /tmp/probe.log
[ $rc -ne 0 ] || fail "sysfs resource2 could be mapped while the driver owns BAR2"

# Clean remove: the node goes, the PAT reservation goes, and the library falls back to
# sysfs resource2 (uncached) by itself.
rmmod vaccel_ivshmem || fail "rmmod vaccel_ivshmem failed"
dmesg | grep -E 'vaccel_ivshmem.*removed' | sed 's/^/DRV-DMESG /'
[ ! -e /dev/vaccel-ivshmem0 ] || fail "/dev/vaccel-ivshmem0 still exists after rmmod"
[ ! -e "$dev/misc/vaccel-ivshmem0" ] || fail "$dev/misc/vaccel-ivshmem0 still exists after rmmod"
n2=$(grep -cF "$range" "$pat")
[ "$n2" -eq 0 ] || fail "PAT still lists $n2 reservations for BAR2 after rmmod"
VACCEL_LOG_LEVEL=4 /bin/vm_client --bench 10 >/tmp/bench.log 2>&1 ||
	{ cat /tmp/bench.log; fail "vm_client after rmmod (sysfs resource2) failed"; }
grep -E '^VM-BENCH|BAR2 mapped through' /tmp/bench.log | sed 's/^/DRV-AFTER-RMMOD /'
echo "DRV-OK plain"
