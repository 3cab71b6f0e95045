#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# perf/vm: vaccel_noop round trips from inside a real QEMU guest to vaccel-agent on this
# host, through an ivshmem device, timed in the guest by tests/vm/vm_client (public API).
#   plain     ivshmem-plain over the agent's --plain-region file; calls back to back, so
#             both sides stay in their polling step
#   doorbell  ivshmem-doorbell; calls 2 ms apart, so the host poller (--spin-us 50) is asleep
#             every time and the guest's BAR0 doorbell write must wake it
#   baseline  the same program as a host process on the same agent (unix-socket handshake,
#             eventfd doorbells), same run: back to back, and 2 ms apart (the poller asleep,
#             woken by an eventfd write: what waking a host thread costs by itself)
# The accelerator (TCG here; KVM only where it works) is part of the result: vm.mode. Under
# TCG the guest's instructions are emulated, so these figures hold for this setup only.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: vm_bench [--quick] [--json FILE] [--reps N] [--calls N] [--samples DIR] [--help]
Boots two QEMU guests (plain, doorbell) wired to a vaccel-agent started here and prints a
table of noop round-trip percentiles; --json writes the vm.* keys of results-schema.md.
  --quick      1 repetition of 200 calls (a smoke run)
  --reps N     repetitions per case, interleaved inside each guest (default 5)
  --calls N    calls per repetition (default 2000; the doorbell case uses a tenth)
  --samples    accepted for tools/bench; unused
Run it through `tools/bench --vm` or `bazel run -c opt //perf/vm:vm_bench`.
EOF
}

json= reps=5 calls=2000
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--quick) reps=1; calls=200 ;;
	--json | --reps | --calls | --samples)
		[ $# -ge 2 ] || { echo "vm_bench: $1 needs a value" >&2; exit 2; }
		case $1 in
		--json) json=$2 ;;
		--reps) reps=$2 ;;
		--calls) calls=$2 ;;
		esac
		shift ;;
	*) echo "vm_bench: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "vm_bench: --reps wants a number >= 1" >&2; exit 2; }
[[ $calls =~ ^[1-9][0-9]*$ ]] && [ "$calls" -ge 10 ] || { echo "vm_bench: --calls wants a number >= 10" >&2; exit 2; }

# Our data files, from the runfiles tree (bazel run, or tools/bench calling the binary).
r=${RUNFILES_DIR:-$0.runfiles}/vaccel_shm
[ -d "$r" ] || { echo "vm_bench: no runfiles at $r (build it with bazel)" >&2; exit 1; }
builder=$r/vmm-glue/image/build-guest-image.sh
runner=$r/vmm-glue/image/run-guest.sh
agent=$r/runtime/agent/vaccel-agent
client=$r/tests/vm/vm_client
shm=$r/backends/remote/libvaccel-shm.so
pnoop=$r/backends/noop/libvaccel-noop.so
dir=$(mktemp -d /tmp/vaccel-vmb-XXXXXX)
tmp=$dir
. "$r/tests/vm/vm_common.sh" >&2
trap vm_cleanup EXIT
trap "exit 143" TERM INT
t0=$SECONDS
"$builder" --cache "$cache" "$dir/image" "$client=/bin/vm_client" \
	--file "$shm=/lib/vaccel/libvaccel-shm.so" >"$dir/image.log" 2>&1 ||
	{ cat "$dir/image.log" >&2; echo "vm_bench: building the guest image failed" >&2; exit 1; }

vm_agent_start "$agent" "$dir/agent.log" --plugins "$pnoop" --pool 4k:256,64k:16

# A guest command running R interleaved repetitions of the given vm_client arguments.
reps_cmd() {
	local c=
	for i in $(seq "$reps"); do
		c="$c/bin/vm_client $1; echo VM-REP $i; "
	done
	echo "${c}true"
}

# guest MODE CMD: boots a guest on CPU 0 and leaves its console in $dir/MODE.console.
guest() {
	local mode=$1 cmd=$2 dev
	if [ "$mode" = plain ]; then dev=(--mode plain --region "$plain")
	else dev=(--mode doorbell --socket "$sock" --vectors 8)
	fi
	echo "vm: booting the $mode guest ($reps repetition(s))" >&2
	taskset -c 0 "$runner" --kernel "$dir/image/kernel" --initrd "$dir/image/initrd.cpio" \
		"${dev[@]}" --timeout 300 \
		--append "VACCEL_PLUGINS=/lib/vaccel/libvaccel-shm.so VACCEL_SHM_DEVICE=auto run=\"$cmd\"" \
		>"$dir/$mode.console" 2>&1 || {
		cat "$dir/$mode.console" >&2
		echo "vm_bench: the $mode guest failed" >&2
		exit 1
	}
	grep -q 'VACCEL-GUEST-EXIT 0' "$dir/$mode.console" || {
		cat "$dir/$mode.console" >&2
		echo "vm_bench: a program in the $mode guest failed" >&2
		exit 1
	}
	echo "vm: $mode done ($((SECONDS - t0)) s)" >&2
}

gap_calls=$((calls / 10 > 10 ? calls / 10 : 10))
guest plain "$(reps_cmd "--bench $calls")"
guest doorbell "$(reps_cmd "--bench $gap_calls --gap-us 2000")"
# The baseline: the same program as a process on this host, same agent, same pinning.
: >"$dir/host.console"
: >"$dir/host-asleep.console"
for i in $(seq "$reps"); do
	VACCEL_PLUGINS=$shm VACCEL_SHM_SOCKET=$sock taskset -c 0 "$client" --bench "$calls" >>"$dir/host.console"
	VACCEL_PLUGINS=$shm VACCEL_SHM_SOCKET=$sock taskset -c 0 "$client" --bench "$gap_calls" \
		--gap-us 2000 >>"$dir/host-asleep.console"
	echo "vm: repetition $i/$reps done ($((SECONDS - t0)) s)" >&2
done
accel=$(sed -n 's/.*accelerator \([a-z]*\).*/\1/p' "$dir/plain.console" | head -n 1)

# Medians over the repetitions of each VM-BENCH field.
median() { # FILE FIELD
	awk -v f="$2" '/^VM-BENCH/ { for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }' "$1" |
		sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
p50=$(median "$dir/plain.console" p50_ns)
p99=$(median "$dir/plain.console" p99_ns)
d50=$(median "$dir/doorbell.console" p50_ns)
d99=$(median "$dir/doorbell.console" p99_ns)
h50=$(median "$dir/host.console" p50_ns)
h99=$(median "$dir/host.console" p99_ns)
a50=$(median "$dir/host-asleep.console" p50_ns)
a99=$(median "$dir/host-asleep.console" p99_ns)
for v in "$p50" "$p99" "$d50" "$d99" "$h50" "$h99" "$a50" "$a99"; do
	[ -n "$v" ] || { echo "vm_bench: a case printed no figures" >&2; cat "$dir"/*.console >&2; exit 1; }
done
wake=$(doorbell_wakeups)

printf 'perf/vm: vaccel_noop from inside a QEMU guest (accelerator %s; %d repetition(s), medians)\n' "$accel" "$reps"
printf '%-44s %12s %12s\n' case p50_ns p99_ns
printf '%-44s %12s %12s\n' "guest, ivshmem-plain, back to back" "$p50" "$p99"
printf '%-44s %12s %12s\n' "guest, ivshmem-doorbell, 2 ms apart (asleep)" "$d50" "$d99"
printf '%-44s %12s %12s\n' "host process, same agent (baseline)" "$h50" "$h99"
printf '%-44s %12s %12s\n' "host process, 2 ms apart (asleep; baseline)" "$a50" "$a99"
printf 'poller doorbell wake-ups during the run: %s\n' "${wake:-?}"
if [ -n "$json" ]; then
	cat >"$json" <<EOF
{"vm.mode": "$accel", "vm.noop_p50_ns": $p50, "vm.noop_p99_ns": $p99,
 "vm.noop_doorbell_p50_ns": $d50, "vm.noop_doorbell_p99_ns": $d99,
 "vm.host_noop_p50_ns": $h50, "vm.host_noop_p99_ns": $h99,
 "vm.host_noop_asleep_p50_ns": $a50, "vm.host_noop_asleep_p99_ns": $a99, "vm.reps": $reps}
EOF
fi
