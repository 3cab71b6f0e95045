#!/usr/bin/env bash
# The guest image builder and the QEMU launcher without booting anything: help texts, the
# command lines run-guest.sh prints for both modes, and each error a user can meet.
# usage: image_tools_test.sh BUILD_IMAGE RUN_GUEST
set -euo pipefail
builder=$1 runner=$2
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fail() {
	echo "FAIL: $*"
	exit 1
}
# expect_err WORDS CMD...: CMD must fail and say WORDS on stderr.
expect_err() {
	local want=$1 err
	shift
	if err=$("$@" 2>&1 >/dev/null); then fail "succeeded: $*"; fi
	grep -qF -- "$want" <<<"$err" || fail "'$*' said '$err', want '$want'"
}

"$builder" --help | grep -q "usage: build-guest-image.sh" || fail "builder --help"
"$runner" --help | grep -q "usage: run-guest.sh" || fail "runner --help"

# Builder errors, all before any download.
expect_err "program $tmp/nope does not exist" "$builder" --cache "$tmp/c" "$tmp/o" "$tmp/nope"
expect_err "no busybox at $tmp/nobb" env BUSYBOX="$tmp/nobb" "$builder" --cache "$tmp/c" "$tmp/o"
expect_err "unknown option --bogus" "$builder" --bogus "$tmp/o"
# apt-get download failing (an apt-get that refuses, an empty cache): a clear error.
mkdir -p "$tmp/fakebin"
cat >"$tmp/fakebin/apt-get" <<'SH'
#!/bin/sh
echo "E: fake apt-get refuses $*" >&2
exit 100
SH
chmod +x "$tmp/fakebin/apt-get"
expect_err "apt-get download" env PATH="$tmp/fakebin:$PATH" "$builder" --cache "$tmp/empty" "$tmp/o"

# --driver: its sources are checked first; headers that cannot be downloaded are a clear
# error, never an image without the driver. The kernel is a cached stand-in (apt-cache
# cannot resolve one, so the builder falls back to the cache); the stand-in apt-cache knows
# the headers' dependencies, and apt-get refuses to download them.
expect_err "driver source $tmp/nodrv has no vaccel_ivshmem.c" "$builder" --cache "$tmp/c" \
	--driver --driver-src "$tmp/nodrv" "$tmp/o"
mkdir -p "$tmp/drv" "$tmp/kc/linux-image-6.1.0-99-amd64_6.1.999-1"
: >"$tmp/drv/vaccel_ivshmem.c"
: >"$tmp/drv/Kbuild"
echo "linux-image-6.1.0-99-amd64 6.1.999-1" >"$tmp/kc/linux-image-6.1.0-99-amd64_6.1.999-1/VERSION"
: >"$tmp/kc/linux-image-6.1.0-99-amd64_6.1.999-1/vmlinux"
cat >"$tmp/fakebin/apt-cache" <<'SH'
#!/bin/sh
case $1 in
show) echo "Package: $3"; echo "Depends: linux-headers-6.1.0-99-common (= 6.1.999-1), linux-kbuild-6.1 (>= 6.1.999-1), linux-compiler-gcc-12-x86" ;;
*) exit 100 ;;
esac
SH
chmod +x "$tmp/fakebin/apt-cache"
expect_err "apt-get download linux-headers-6.1.0-99-amd64=6.1.999-1 linux-headers-6.1.0-99-common=6.1.999-1 linux-kbuild-6.1=6.1.999-1 failed" \
	env PATH="$tmp/fakebin:$PATH" "$builder" --cache "$tmp/kc" --driver --driver-src "$tmp/drv" "$tmp/o"
[ ! -e "$tmp/o/initrd.cpio" ] || fail "an image was written although the driver could not be built"
rm "$tmp/fakebin/apt-cache"

# Launcher: plain mode wires the region file through memory-backend-file.
: >"$tmp/kernel"
: >"$tmp/initrd"
truncate -s 1M "$tmp/region"
# The printed command is shell-quoted: evaluating it with a stand-in QEMU that lists its
# arguments gives back exactly the intended argument vector.
cat >"$tmp/fakebin/qemu" <<'SH'
#!/bin/sh
printf '<%s>\n' "$@"
SH
chmod +x "$tmp/fakebin/qemu"
out=$("$runner" --print --accel tcg --qemu "$tmp/fakebin/qemu" --kernel "$tmp/kernel" \
	--initrd "$tmp/initrd" --mode plain --region "$tmp/region" --append "run=\"/bin/x 'a' 1\"" \
	2>/dev/null)
args=$(eval "$out")
for w in "<-accel>
<tcg>" "<-nographic>" "<-no-reboot>" "<-m>
<256>" "<memory-backend-file,id=hostmem,size=1048576,share=on,mem-path=$tmp/region>" \
	"<ivshmem-plain,memdev=hostmem>" "<console=ttyS0 panic=-1 quiet run=\"/bin/x 'a' 1\">"; do
	grep -qF -- "$w" <<<"$args" || fail "plain command lacks '$w':
$out
$args"
done
# Doorbell mode: a chardev socket to the ivshmem server.
# (unix socket paths are short: TEST_TMPDIR is too long, so a folder of our own in /tmp)
sockdir=$(mktemp -d /tmp/vaccel-vmt-XXXXXX)
trap 'rm -rf "$sockdir"' EXIT
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sockdir/s"
out=$("$runner" --print --accel tcg --kernel "$tmp/kernel" --initrd "$tmp/initrd" --mode doorbell \
	--socket "$sockdir/s" --vectors 2 2>/dev/null)
grep -qF "socket,path=$sockdir/s,id=ivs" <<<"$out" || fail "doorbell chardev: $out"
grep -qF "ivshmem-doorbell,chardev=ivs,vectors=2" <<<"$out" || fail "doorbell device: $out"
# The accelerator choice is said on stderr; here (no vmx/svm) auto must pick TCG.
err=$("$runner" --print --kernel "$tmp/kernel" --initrd "$tmp/initrd" --mode plain \
	--region "$tmp/region" 2>&1 >/dev/null)
grep -q "accelerator" <<<"$err" || fail "no accelerator line: $err"
if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	grep -q "accelerator tcg (no vmx/svm" <<<"$err" || fail "auto without vmx/svm: $err"
fi

# Launcher errors.
truncate -s 3M "$tmp/odd"
expect_err "power of two" "$runner" --print --kernel "$tmp/kernel" --initrd "$tmp/initrd" \
	--mode plain --region "$tmp/odd"
expect_err "does not exist" "$runner" --print --kernel "$tmp/kernel" --initrd "$tmp/initrd" \
	--mode plain --region "$tmp/none"
expect_err "needs --socket" "$runner" --print --kernel "$tmp/kernel" --initrd "$tmp/initrd" \
	--mode doorbell
expect_err "is not a socket" "$runner" --print --kernel "$tmp/kernel" --initrd "$tmp/initrd" \
	--mode doorbell --socket "$tmp/region"
expect_err "--mode plain|doorbell" "$runner" --print --kernel "$tmp/kernel" --initrd "$tmp/initrd"
expect_err "kernel $tmp/nok does not exist" "$runner" --kernel "$tmp/nok" --initrd "$tmp/initrd" \
	--mode plain --region "$tmp/region"
expect_err "not found" "$runner" --qemu /nonexistent/qemu --kernel "$tmp/kernel" \
	--initrd "$tmp/initrd" --mode plain --region "$tmp/region"
echo PASS
