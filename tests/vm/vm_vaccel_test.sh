#!/usr/bin/env bash
# vAccel from inside a real QEMU guest, through an ivshmem device, to a real vaccel-agent
# on this host (TCG here; KVM where it works). The guest runs the upstream-style examples
# (noop, exec, sgemm) and vm_client, dynamically linked, with libvaccel's transport plugin
# (VACCEL_PLUGINS=libvaccel-shm.so, VACCEL_SHM_DEVICE=auto):
#   1. plain:    ivshmem-plain over the agent's --plain-region file; both sides poll.
#   2. doorbell: ivshmem-doorbell, QEMU's chardev on the agent's socket; the guest's first
#                call comes after a pause, when the poller is asleep: the BAR0 doorbell must
#                wake it (the agent's doorbell wake-up count goes up).
#   3. the VM is killed (SIGKILL to QEMU) in the middle of a call loop: the agent releases
#      its session and a new VM is served.
#   4. plain: a guest process killed mid-call inside the VM; the next process of the same
#      VM takes the device over, and the agent releases what the dead one left.
# If QEMU, busybox or the kernel package is missing this test FAILS (tools/setup provides
# them).
#
# usage: vm_vaccel_test.sh BUILD_IMAGE RUN_GUEST AGENT VM_CLIENT NOOP EXEC SGEMM SHM_PLUGIN
#                          MYTESTLIB NOOP_PLUGIN EXEC_PLUGIN BLAS_PLUGIN
set -euo pipefail

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
builder=$1 runner=$2 agent=$(abs "$3") client=$4 noop=$5 exec=$6 sgemm=$7
shm=$8 mylib=$(abs "$9") pnoop=$(abs "${10}") pexec=$(abs "${11}") pblas=$(abs "${12}")
. "$(dirname "$0")/vm_common.sh"

t0=$(now)
"$builder" --cache "$cache" "$tmp/image" "$client=/bin/vm_client" "$noop=/bin/vaccel-noop" \
	"$exec=/bin/vaccel-exec" "$sgemm=/bin/vaccel-sgemm" --file "$shm=/lib/vaccel/libvaccel-shm.so" \
	--file "$mylib" ||
	fail "building the guest image failed (see above: the kernel download needs the Debian archive)"
echo "image built in $(secs "$t0" "$(now)") s"

vm_agent_start "$agent" "$tmp/agent.log" --plugins "$pblas:$pexec:$pnoop" \
	--pool 4k:256,64k:64,1m:16 --exec-allow "$mylib"

guest_env="VACCEL_PLUGINS=/lib/vaccel/libvaccel-shm.so VACCEL_SHM_DEVICE=auto"

# boot NAME TIMEOUT DEVICE-ARGS -- SHELL-COMMAND: runs the command in a guest wired by
# run-guest.sh DEVICE-ARGS; sets $out (console log) and $status (the command's exit status).
boot() {
	local name=$1 limit=$2 t dev=()
	shift 2
	while [ "$1" != -- ]; do dev+=("$1"); shift; done
	shift
	out=$tmp/$name.console
	t=$(now)
	if ! "$runner" --kernel "$tmp/image/kernel" --initrd "$tmp/image/initrd.cpio" \
		"${dev[@]}" --timeout "$limit" --append "$guest_env run=\"$*\"" >"$out" 2>&1; then
		cat "$out"
		tail -n 20 "$tmp/agent.log"
		fail "$name: QEMU failed or timed out"
	fi
	echo "$name: boot to result $(secs "$t" "$(now)") s"
	grep -q VACCEL-GUEST-START "$out" || { cat "$out"; fail "$name: the guest's /init never ran"; }
	status=$(sed -n 's/^VACCEL-GUEST-EXIT \([0-9]*\).*/\1/p' "$out" | tail -n 1)
	[ -n "$status" ] || { cat "$out"; fail "$name: no exit marker from the guest"; }
	grep -E '^(noop|mytestfunc|sgemm|VM-|vm_client|\[vaccel)' "$out" | sed "s/^/  [$name] /" || true
}
expect() { # NAME TEXT: the console of the last boot has TEXT
	grep -qF -- "$2" "$out" || { cat "$out"; fail "$1: no '$2' in the guest's output"; }
}

# The host loads blas, exec and noop; a session's hint picks one (vm_client's sessions pass
# DEBUG, GENERIC or CPU). The upstream sgemm example passes no hint: the first plugin, blas.
calls="/bin/vm_client --check $mylib && /bin/vaccel-sgemm --size 48 -i 1"

# 1. ivshmem-plain: the agent polls the file QEMU maps.
boot plain 30 --mode plain --region "$plain" -- "$calls && /bin/vm_client --bench 200"
[ "$status" = 0 ] || { cat "$out"; fail "plain: the guest's programs exited $status"; }
expect plain "VM-CHECK noop OK"
expect plain "VM-CHECK exec OK mytestfunc(21) = 42"
expect plain "VM-CHECK sgemm OK"
expect plain "check OK"
expect plain "VM-BENCH n 200"

# 2. ivshmem-doorbell: QEMU is the agent's client; the poller sleeps until BAR0 rings.
before=$(doorbell_wakeups)
boot doorbell 30 --mode doorbell --socket "$sock" --vectors 8 -- "$calls && /bin/vm_client --first-call"
[ "$status" = 0 ] || { cat "$out"; fail "doorbell: the guest's programs exited $status"; }
expect doorbell "VM-CHECK noop OK"
expect doorbell "VM-CHECK exec OK mytestfunc(21) = 42"
expect doorbell "VM-CHECK sgemm OK"
expect doorbell "check OK"
expect doorbell "VM-FIRST-CALL ret 0"
after=$(doorbell_wakeups)
echo "doorbell wake-ups of the poller: $before -> $after"
[ "${after:-0}" -gt "${before:-0}" ] || fail "doorbell: the poller was never woken by a doorbell"

# 3. The VM dies mid-call: QEMU's socket closes, the agent releases the guest's session.
released() { grep -c 'released [1-9][0-9]* session' "$tmp/agent.log" || true; }
r0=$(released)
out=$tmp/kill.console
: >"$out"
"$runner" --kernel "$tmp/image/kernel" --initrd "$tmp/image/initrd.cpio" --mode doorbell \
	--socket "$sock" --vectors 8 --timeout 40 --pidfile "$dir/qemu.pid" \
	--append "$guest_env run=\"/bin/vm_client --loop\"" >"$out" 2>&1 &
qpid=$!
for _ in $(seq 300); do grep -q 'VM-LOOP 400' "$out" && break; sleep 0.1; done
grep -q 'VM-LOOP 400' "$out" || { cat "$out"; fail "kill: the guest's call loop never got going"; }
kill -KILL "$(cat "$dir/qemu.pid")" || fail "kill: cannot kill QEMU"
wait "$qpid" 2>/dev/null || true
qpid=
for _ in $(seq 600); do [ "$(released)" -gt "$r0" ] && break; sleep 0.05; done
[ "$(released)" -gt "$r0" ] || { tail -n 20 "$tmp/agent.log"; fail "kill: the agent did not release the killed VM's session"; }
echo "kill: the agent released the killed VM's session"
boot after-kill 30 --mode doorbell --socket "$sock" --vectors 8 -- "/bin/vm_client --check $mylib"
[ "$status" = 0 ] || { cat "$out"; fail "after-kill: a new VM was not served"; }
expect after-kill "VM-CHECK sgemm OK"

# 4. Inside one VM: a process killed mid-call, then the next process takes the device over.
# The process is killed once it reports 200 calls done (not after a fixed pause: under TCG
# on a busy host it may still be starting then, with no session to release).
r0=$(released)
boot proc-kill 40 --mode plain --region "$plain" -- \
	"/bin/vm_client --loop > /tmp/loop.log & p=\$!; i=0; until grep -q 'VM-LOOP 200' /tmp/loop.log || [ \$i -ge 300 ]; do i=\$((i + 1)); sleep 0.1; done; kill -9 \$p; tail -n 1 /tmp/loop.log; /bin/vm_client --bench 10"
[ "$status" = 0 ] || { cat "$out"; fail "proc-kill: the next process in the VM failed"; }
expect proc-kill "VM-LOOP"
expect proc-kill "VM-BENCH n 10"
for _ in $(seq 600); do [ "$(released)" -gt "$r0" ] && break; sleep 0.05; done
[ "$(released)" -gt "$r0" ] || { tail -n 20 "$tmp/agent.log"; fail "proc-kill: the dead process's session was not released"; }

kill "$apid"
wait "$apid" || { cat "$tmp/agent.log"; fail "the agent did not exit 0 on SIGTERM"; }
apid=
echo "agent log:"
sed 's/^/  /' "$tmp/agent.log"
echo "total $(secs "$t0" "$(now)") s"
echo PASS
