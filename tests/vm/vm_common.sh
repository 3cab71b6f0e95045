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
