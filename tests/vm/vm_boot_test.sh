#!/usr/bin/env bash
# Boots a real QEMU guest (TCG here; KVM where it works) with an ivshmem-plain device over a
# region file this host side made, and checks from both ends:
#   1. the guest finds the device, validates the header, reads the host's pattern and
#      writes a word; the host then sees that word in the file;
#   2. a region with a corrupted magic makes the guest probe exit with its "bad magic" code;
#   3. a header claiming more than the BAR holds gives the "BAR too small" code;
#   4. ivshmem-doorbell through our own ivshmem server (vmm-glue/ivshmem_proto): the guest
#      sees its peer ID in BAR0, validates the region the server passed as an fd, and rings
#      the host's doorbell 10 times; the server counts exactly 10.
# QEMU, busybox and the kernel package are things tools/setup provides: if any is missing
# this test FAILS (never a silent pass).
#
# usage: vm_boot_test.sh BUILD_IMAGE RUN_GUEST VM_PROBE VM_HOST_REGION
# (vm_common.sh, beside it, must be in the test's data)
set -euo pipefail

builder=$1 runner=$2 probe=$3 hostreg=$4
. "$(dirname "$0")/vm_common.sh"

t0=$(now)
"$builder" --cache "$cache" "$tmp/image" "$probe=/bin/vm_probe" ||
	fail "building the guest image failed (see above: the kernel download needs the Debian archive)"
t1=$(now)
echo "image built in $(secs "$t0" "$t1") s"

regions=()
cleanup() {
	[ -z "${server:-}" ] || kill "$server" 2>/dev/null || true
	for r in "${regions[@]+"${regions[@]}"}"; do rm -rf "$r"; done
}
trap cleanup EXIT
trap "exit 143" TERM INT

# boot NAME DEVICE-ARGS -- PROBE-ARGS...: runs vm_probe PROBE-ARGS in a guest wired by
# run-guest.sh DEVICE-ARGS; sets $out (the console log) and $status (the probe's exit
# status from the guest's marker).
boot() {
	local name=$1 t dev=()
	shift
	while [ "$1" != -- ]; do dev+=("$1"); shift; done
	shift
	out=$tmp/$name.console
	t=$(now)
	if ! "$runner" --kernel "$tmp/image/kernel" --initrd "$tmp/image/initrd.cpio" \
		"${dev[@]}" --timeout 15 \
		--append "run=\"/bin/vm_probe $*\"" >"$out" 2>&1; then
		cat "$out"
		fail "$name: QEMU failed or timed out"
	fi
	echo "$name: boot to result $(secs "$t" "$(now)") s"
	grep -q VACCEL-GUEST-START "$out" || { cat "$out"; fail "$name: the guest's /init never ran"; }
	status=$(sed -n 's/^VACCEL-GUEST-EXIT \([0-9]*\).*/\1/p' "$out" | tail -n 1)
	[ -n "$status" ] || { cat "$out"; fail "$name: no exit marker from the guest"; }
	grep '^vm_probe' "$out" | sed "s/^/  [$name] /"
}

# new_region NAME [--corrupt WHAT]: sets $r to a new region file under /dev/shm (removed
# on exit; not in a subshell, so the cleanup list keeps it).
new_region() {
	r=/dev/shm/vaccel-vmtest-$$-$1
	rm -f "$r"
	regions+=("$r")
	shift
	"$hostreg" create "$r" "$@" >/dev/null || fail "vm_host_region create $r $* failed"
}

# 1. Positive: header, pattern, and a word written by the guest.
word=$(printf '0x600d%012x' $(( ($$ << 16) ^ RANDOM )))
new_region ok
boot ok --mode plain --region "$r" -- --check-pattern --write "8=$word"
[ "$status" = 0 ] || { cat "$out"; fail "ok: vm_probe exited $status (want 0)"; }
grep -q 'vm_probe: header ok' "$out" || fail "ok: no header line"
grep -q 'vm_probe: pattern ok' "$out" || fail "ok: the guest did not read the pattern"
"$hostreg" expect "$r" "8=$word" || fail "ok: the host does not see the guest's write"

# 2. Bad magic: vm_probe's code 6.
new_region magic --corrupt magic
boot magic --mode plain --region "$r" --
[ "$status" = 6 ] || { cat "$out"; fail "magic: vm_probe exited $status (want 6, bad magic)"; }
grep -q 'bad magic' "$out" || fail "magic: no 'bad magic' message"

# 3. Header claims more than the BAR: code 5.
new_region size --corrupt size
boot size --mode plain --region "$r" --
[ "$status" = 5 ] || { cat "$out"; fail "size: vm_probe exited $status (want 5, BAR too small)"; }

# 4. Doorbell: our server hands QEMU the region fd and the host's eventfd; the guest rings.
# (unix socket paths are short: TEST_TMPDIR is too long, so a folder of our own in /tmp)
sockdir=$(mktemp -d /tmp/vaccel-vm-XXXXXX)
regions+=("$sockdir")
new_region bell
"$hostreg" serve "$sockdir/ivs" "$r" 10 20000 >"$tmp/serve.log" 2>&1 &
server=$!
for _ in $(seq 600); do [ -S "$sockdir/ivs" ] && break; sleep 0.05; done
[ -S "$sockdir/ivs" ] || { cat "$tmp/serve.log"; fail "bell: the ivshmem server did not start"; }
boot bell --mode doorbell --socket "$sockdir/ivs" -- --expect-id 1 --check-pattern --ring 0:0:10
[ "$status" = 0 ] || { cat "$out"; fail "bell: vm_probe exited $status (want 0)"; }
grep -q 'own id 1' "$out" || fail "bell: the guest did not read its peer ID 1 from BAR0"
if ! wait "$server"; then
	cat "$tmp/serve.log"
	fail "bell: the host did not count exactly 10 doorbell rings"
fi
cat "$tmp/serve.log"

echo "total $(secs "$t0" "$(now)") s"
echo PASS
