# Sourced by the VM tests and perf/vm: messages, timing and the kernel cache folder.
# Sets: fail, now, secs; tmp (TEST_TMPDIR, else the caller's $tmp, else a new folder); cache (where
# build-guest-image.sh keeps the kernel: outside the test's tmp folder when the sandbox lets
# us write there, so only the first run on a machine downloads it).
fail() {
	echo "FAIL: $*"
	exit 1
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

command -v qemu-system-x86_64 >/dev/null ||
	fail "qemu-system-x86_64 not found: run tools/setup (it installs qemu-system-x86)"
tmp=${TEST_TMPDIR:-${tmp:-$(mktemp -d)}}

cache=${VACCEL_VM_CACHE:-}
if [ -z "$cache" ]; then
	# Bazel may point HOME at the test's tmp folder: also try the user's real home.
	realhome=$(getent passwd "$(id -u)" | cut -d: -f6 || true)
	for c in "${XDG_CACHE_HOME:-}" "${realhome:+$realhome/.cache}" "${HOME:-}/.cache"; do
		[ -n "$c" ] || continue
		if mkdir -p "$c/vaccel-vm" 2>/dev/null && [ -w "$c/vaccel-vm" ]; then
			cache=$c/vaccel-vm
			break
		fi
	done
	[ -n "$cache" ] || cache=$tmp/vm-cache
fi
echo "kernel cache: $cache (HOME=${HOME:-unset})"

# vm_agent_start AGENT LOG [ARGS...]: starts vaccel-agent serving both wirings, an
# ivshmem-plain region file ($plain) and a socket ($sock, in $dir: unix socket paths are
# short, so not under TEST_TMPDIR), poller on CPU 1; waits until both exist. Sets dir (kept
# if already set), sock, plain, apid, vm_agent; on exit kills QEMU ($dir/qemu.pid, if any)
# and the agent and removes them.
vm_agent_start() {
	vm_agent=$1
	local log=$2
	shift 2
	dir=${dir:-$(mktemp -d /tmp/vaccel-vm-XXXXXX)}
	plain=/dev/shm/vaccel-vm-$$-plain
	sock=$dir/agent.sock
	trap vm_cleanup EXIT
	trap "exit 143" TERM INT
	OPENBLAS_NUM_THREADS=1 "$vm_agent" --socket "$sock" --plain-region "$plain" --cpus 1 \
		--spin-us 50 "$@" >"$log" 2>&1 &
	apid=$!
	for _ in $(seq 600); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ] || { cat "$log"; fail "the agent did not start"; }
	[ -s "$plain" ] || { cat "$log"; fail "the agent did not create the plain region file"; }
}

vm_cleanup() {
	[ ! -s "${dir:-}/qemu.pid" ] || kill -KILL "$(cat "$dir/qemu.pid")" 2>/dev/null || true
	[ -z "${apid:-}" ] || kill "$apid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "${dir:-}" "${plain:-}"
}

# The agent's count of poller wake-ups by a guest's doorbell (vaccel-agent stat).
doorbell_wakeups() {
	"$vm_agent" stat --socket "$sock" | sed -n 's/.* doorbell_wakeups \([0-9]*\).*/\1/p' | head -n 1
}
