#!/usr/bin/env bash
# Builds a test guest for QEMU: a Debian kernel and a busybox initramfs carrying the given
# (dynamically linked) programs. Needs nothing beyond Debian's archive: the kernel comes from
# the package that linux-image-amd64 depends on, fetched with `apt-get download` and unpacked
# with `dpkg -x` into a cache folder (never installed on this host). See --help.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<EOF
usage: $prog [--cache DIR] [--driver [--driver-src DIR]] [--file SRC[=GUESTPATH]]...
                OUTDIR [PROGRAM[=GUESTPATH] ...]

Writes OUTDIR/kernel (a symlink to the cached kernel: an uncompressed vmlinux, which QEMU
boots about twice as fast, or vmlinuz if extraction failed) and OUTDIR/initrd.cpio (newc).

  PROGRAM     a host program to run in the guest, copied to GUESTPATH (default
              /bin/BASENAME) with the libraries ldd lists and the dynamic loader, each at
              its host path; LD_LIBRARY_PATH in the guest covers their folders.
  --file      any other file (a plugin loaded with dlopen, data), default GUESTPATH = its
              host path; shared objects bring their ldd dependencies too.
  --driver    also build the vaccel_ivshmem guest driver (write-back mapping of the
              ivshmem BAR2) for this kernel, put it in the initramfs and load it in /init
              before the program. Built with the kernel's own headers (linux-headers-*,
              linux-kbuild-*: apt-get download + dpkg -x into the cache, never installed)
              and this host's gcc-12 and make; cached by kernel version and source hash.
              Also writes OUTDIR/vaccel_ivshmem.ko.
  --driver-src DIR  the driver's sources (default: ../guest-driver beside this script)
  --cache DIR where the kernel download and extraction are kept
              (default \${XDG_CACHE_HOME:-\$HOME/.cache}/vaccel-vm; env VACCEL_VM_CACHE).
Environment: BUSYBOX (a static busybox to use instead of /bin/busybox).

The guest's /init mounts proc, sysfs and devtmpfs, then runs the shell command in the
kernel command-line word run=... (quote it: run="/bin/prog arg; /bin/other"), prints
  VACCEL-GUEST-START
  VACCEL-GUEST-EXIT <status>
and powers off. Without run= it only prints the markers (exit 0): a boot check.
With --driver, /init first runs insmod vaccel_ivshmem.ko (arguments from the command-line
word driver_args="...", e.g. driver_args="relocate=0") and prints
  VACCEL-GUEST-DRIVER loaded     (or: VACCEL-GUEST-DRIVER failed <insmod status>)
Boot it with vmm-glue/image/run-guest.sh.
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6 || true)}
cache=${VACCEL_VM_CACHE:-${XDG_CACHE_HOME:-${home:-/root}/.cache}/vaccel-vm}
outdir=
progs=()
files=()
driver=0
driver_src=$(dirname "$(readlink -f "$0")")/../guest-driver
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--cache) [ $# -ge 2 ] || die "--cache needs a folder"; cache=$2; shift 2 ;;
	--cache=*) cache=${1#*=}; shift ;;
	--file) [ $# -ge 2 ] || die "--file needs a path"; files+=("$2"); shift 2 ;;
	--file=*) files+=("${1#*=}"); shift ;;
	--driver) driver=1; shift ;;
	--driver-src) [ $# -ge 2 ] || die "--driver-src needs a folder"; driver_src=$2; shift 2 ;;
	--driver-src=*) driver_src=${1#*=}; shift ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) if [ -z "$outdir" ]; then outdir=$1; else progs+=("$1"); fi; shift ;;
	esac
done
while [ $# -gt 0 ]; do
	if [ -z "$outdir" ]; then outdir=$1; else progs+=("$1"); fi
	shift
done
[ -n "$outdir" ] || { usage >&2; exit 2; }

# Check the inputs before any slow step, so a typo fails in milliseconds.
for p in "${progs[@]+"${progs[@]}"}"; do
	src=${p%%=*}
	[ -e "$src" ] || die "program $src does not exist"
	[ -f "$src" ] && [ -x "$src" ] || die "program $src is not an executable file"
done
for f in "${files[@]+"${files[@]}"}"; do
	src=${f%%=*}
	[ -e "$src" ] || die "file $src does not exist"
done
busybox=
for b in ${BUSYBOX:-/bin/busybox /usr/bin/busybox}; do
	[ -x "$b" ] && { busybox=$b; break; }
done
[ -n "$busybox" ] || die "no busybox${BUSYBOX:+ at $BUSYBOX}: install busybox-static (tools/setup does)"
# A dynamically linked busybox would need its libraries in the guest: insist on the static one.
if LC_ALL=C ldd "$busybox" 2>/dev/null | grep -q '=>'; then
	die "$busybox is dynamically linked: install busybox-static (tools/setup does)"
fi
for t in apt-get apt-cache dpkg xz; do
	command -v "$t" >/dev/null || die "$t not found (this builder needs Debian's apt, dpkg and xz)"
done
if [ "$driver" = 1 ]; then
	for f in vaccel_ivshmem.c Kbuild; do
		[ -f "$driver_src/$f" ] || die "driver source $driver_src has no $f (see --driver-src)"
	done
	for t in make gcc-12 sha256sum; do
		command -v "$t" >/dev/null ||
			die "$t not found: --driver builds a kernel module with make and gcc-12 (tools/setup installs them)"
	done
fi

# --- The kernel: resolve, download and extract once per version ---------------------------
# The metapackage's dependency names the current ABI (linux-image-6.1.0-NN-amd64); its
# candidate version keys the cache, so a kernel update fetches the new one.
resolve_kernel() {
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	[ -n "$kpkg" ] || return 1
	kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
	[ -n "$kver" ]
}

mkdir -p "$cache" || die "cannot create cache folder $cache"
kpkg= kver=
if ! resolve_kernel; then
	# Empty or stale package lists (a fresh machine): refresh once, if we may.
	echo "$prog: linux-image-amd64 not in the package lists; running apt-get update" >&2
	if apt-get update -qq >/dev/null 2>&1 && resolve_kernel; then
		:
	else
		# Offline but a kernel is cached: use the newest rather than fail.
		last=$(ls -1d "$cache"/linux-image-*/ 2>/dev/null | sort -V | tail -n 1 || true)
		[ -n "$last" ] || die "cannot resolve linux-image-amd64's kernel package (apt-cache depends failed and apt-get update did not help; are the package lists and the Debian archive reachable?)"
		echo "$prog: cannot resolve the kernel package; using cached $(basename "$last")" >&2
		kdir=${last%/}
	fi
fi
[ -n "${kdir:-}" ] || kdir=$cache/${kpkg}_$kver

# Extracts the xz payload of a bzImage to an ELF vmlinux (QEMU boots it through its PVH
# note). The payload starts at the xz magic FD 37 7A 58 5A 00; --single-stream stops at the
# end of the stream and ignores what the bzImage appends after it.
extract_vmlinux() {
	local z=$1 out=$2 off
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$z" | head -n 1 | cut -d: -f1 || true)
	[ -n "$off" ] || return 1
	# xz stops reading at the end of the stream, so tail may die of SIGPIPE: ignore its status.
	{ tail -c +$((off + 1)) "$z" || true; } | xz -dc --single-stream >"$out.tmp" 2>/dev/null || return 1
	[ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] || return 1
	mv "$out.tmp" "$out"
}

fetch_kernel() {
	local tmp
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	# apt-get download writes into the working folder; it drops to user _apt when it can,
	# and warns (harmlessly) when _apt may not write here.
	if ! (cd "$tmp" && apt-get download "$kpkg=$kver" >download.log 2>&1); then
		tail -n 5 "$tmp/download.log" >&2 || true
		rm -rf "$tmp"
		die "apt-get download $kpkg=$kver failed (is the Debian archive reachable?)"
	fi
	if ! dpkg -x "$tmp"/"$kpkg"_*.deb "$tmp/root" 2>"$tmp/dpkg.log"; then
		cat "$tmp/dpkg.log" >&2
		rm -rf "$tmp"
		die "dpkg -x of $kpkg failed"
	fi
	local z
	z=$(ls "$tmp"/root/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
	[ -n "$z" ] || { rm -rf "$tmp"; die "$kpkg holds no /boot/vmlinuz-*"; }
	mkdir -p "$tmp/k"
	mv "$z" "$tmp/k/vmlinuz"
	if ! extract_vmlinux "$tmp/k/vmlinuz" "$tmp/k/vmlinux"; then
		rm -f "$tmp/k/vmlinux.tmp"
		echo "$prog: could not extract vmlinux from vmlinuz; the guest boots from vmlinuz (slower)" >&2
	fi
	echo "$kpkg $kver" >"$tmp/k/VERSION"
	# Publish atomically: a folder either holds a complete kernel or does not exist.
	rm -rf "$kdir"
	mv "$tmp/k" "$kdir" 2>/dev/null || [ -f "$kdir/VERSION" ] || die "cannot move the kernel into $kdir"
	rm -rf "$tmp"
	# Older kernels are dead weight (~75 MB each) once a newer one is in.
	for old in "$cache"/linux-image-*; do
		[ "$old" = "$kdir" ] || rm -rf "$old"
	done
}

if [ ! -f "$kdir/VERSION" ]; then
	# Two builders (parallel tests) must not download the same kernel twice.
	exec 9>"$cache/.lock"
	flock 9 2>/dev/null || true
	if [ ! -f "$kdir/VERSION" ]; then
		echo "$prog: fetching $kpkg $kver into $kdir" >&2
		fetch_kernel
	fi
	exec 9>&-
fi
kernel=$kdir/vmlinux
[ -f "$kernel" ] || kernel=$kdir/vmlinuz
[ -f "$kernel" ] || die "cache $kdir is incomplete (remove it and rerun)"

# --- The guest driver (--driver): headers, build, cache -----------------------------------
# The kernel's ABI name (6.1.0-NN-amd64) and package version come from the cached kernel, so
# an offline run with a cached kernel builds against that very kernel.
read -r kpkg kver <"$kdir/VERSION" || die "cannot read $kdir/VERSION"
kabi=${kpkg#linux-image-}

# Downloads linux-headers-$kabi, the -common package it depends on and linux-kbuild-X.Y,
# and unpacks them together (dpkg -x, never installed) into $hdir: the headers' symlinks
# (scripts -> ../../lib/linux-kbuild-X.Y/scripts) then resolve inside it.
fetch_headers() {
	local tmp deps common kbuild
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	deps=$(apt-cache show --no-all-versions "linux-headers-$kabi=$kver" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n 1 | tr ',' '\n' | sed 's/^ *//; s/ .*//')
	common=$(grep -m1 '^linux-headers-.*-common' <<<"$deps" || true)
	kbuild=$(grep -m1 '^linux-kbuild-' <<<"$deps" || true)
	if [ -z "$common" ] || [ -z "$kbuild" ]; then
		rm -rf "$tmp"
		die "cannot resolve the headers of $kpkg $kver (apt-cache show linux-headers-$kabi=$kver: is it in the package lists? apt-get update may help)"
	fi
	if ! (cd "$tmp" && apt-get download "linux-headers-$kabi=$kver" "$common=$kver" \
		"$kbuild=$kver" >download.log 2>&1); then
		tail -n 5 "$tmp/download.log" >&2 || true
		rm -rf "$tmp"
		die "apt-get download linux-headers-$kabi=$kver $common=$kver $kbuild=$kver failed (is the Debian archive reachable?)"
	fi
	for deb in "$tmp"/*.deb; do
		dpkg -x "$deb" "$tmp/root" 2>"$tmp/dpkg.log" || { cat "$tmp/dpkg.log" >&2; rm -rf "$tmp"; die "dpkg -x of $deb failed"; }
	done
	# The arch package's Makefile includes the -common one by absolute path (/usr/src/...):
	# point it at our copy, relative to the folder make -C enters.
	local mk=$tmp/root/usr/src/linux-headers-$kabi/Makefile
	grep -q "^include /usr/src/$common/Makefile$" "$mk" ||
		{ rm -rf "$tmp"; die "unexpected $mk (not 'include /usr/src/$common/Makefile'): cannot relocate the headers"; }
	echo "include ../$common/Makefile" >"$mk"
	echo "$kpkg $kver" >"$tmp/root/VERSION"
	rm -rf "$hdir"
	mv "$tmp/root" "$hdir" 2>/dev/null || [ -f "$hdir/VERSION" ] || die "cannot move the headers into $hdir"
	rm -rf "$tmp"
	for old in "$cache"/linux-headers-* "$cache"/vaccel_ivshmem-*; do
		[ "$old" = "$hdir" ] || [ "$old" = "$ddir" ] || rm -rf "$old"
	done
}

# Builds the module out of tree against $hdir in a scratch copy of the sources (the source
# folder may be read-only, e.g. Bazel runfiles) and keeps the stripped .ko as $ko.
build_driver() {
	local tmp t0 vermagic
	tmp=$(mktemp -d "$cache/.build.XXXXXX")
	cp "$driver_src/vaccel_ivshmem.c" "$driver_src/Kbuild" "$tmp/"
	t0=$(date +%s)
	if ! make -C "$hdir/usr/src/linux-headers-$kabi" M="$tmp" modules >"$tmp/build.log" 2>&1; then
		tail -n 30 "$tmp/build.log" >&2
		rm -rf "$tmp"
		die "building vaccel_ivshmem.ko against $kabi failed (log above)"
	fi
	# The debug info is most of the file and the guest has no use for it.
	strip --strip-debug "$tmp/vaccel_ivshmem.ko" 2>/dev/null || true
	vermagic=$(LC_ALL=C grep -aoE 'vermagic=[^ ]+' "$tmp/vaccel_ivshmem.ko" | head -n 1 || true)
	[ "$vermagic" = "vermagic=$kabi" ] ||
		{ rm -rf "$tmp"; die "vaccel_ivshmem.ko says '$vermagic', want vermagic=$kabi"; }
	mkdir -p "$ddir"
	mv "$tmp/vaccel_ivshmem.ko" "$ko"
	rm -rf "$tmp"
	echo "$prog: built vaccel_ivshmem.ko for $kabi in $(($(date +%s) - t0)) s" >&2
}

ko=
if [ "$driver" = 1 ]; then
	hdir=$cache/linux-headers-${kabi}_$kver
	ddir=$cache/vaccel_ivshmem-${kabi}_$kver
	hash=$(cat "$driver_src/vaccel_ivshmem.c" "$driver_src/Kbuild" | sha256sum | cut -c1-16)
	ko=$ddir/vaccel_ivshmem-$hash.ko
	if [ ! -f "$ko" ]; then
		exec 9>"$cache/.lock"
		flock 9 2>/dev/null || true
		if [ ! -f "$hdir/VERSION" ]; then
			echo "$prog: fetching the headers of $kpkg $kver into $hdir" >&2
			fetch_headers
		fi
		[ -f "$ko" ] || build_driver
		exec 9>&-
	fi
fi

# --- The initramfs ------------------------------------------------------------------------
mkdir -p "$outdir" || die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
root=$(mktemp -d "$outdir/.root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc}
cp "$busybox" "$root/bin/busybox"
libdirs=()

# Copies a file to GUESTPATH in the tree (dereferencing symlinks).
put() {
	local src=$1 dst=$2
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
}

# Copies the libraries ldd lists for $1 and the dynamic loader, each at its host path.
put_deps() {
	local f=$1 line lib
	local out
	out=$(LC_ALL=C ldd "$f" 2>&1) || return 0 # "not a dynamic executable": nothing to copy
	if grep -q 'not found' <<<"$out"; then
		die "$f needs libraries ldd cannot find: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
	fi
	while read -r line; do
		case $line in
		*'=> /'*) lib=${line#*=> }; lib=${lib%% (*} ;;
		/*) lib=${line%% (*} ;;
		*) continue ;; # linux-vdso.so.1 and friends live in the kernel
		esac
		[ -e "$root$lib" ] && continue
		put "$lib" "$lib"
		libdirs+=("$(dirname "$lib")")
	done <<<"$out"
}

[ -z "$ko" ] || put "$ko" /lib/modules/vaccel_ivshmem.ko
runs=()
for p in "${progs[@]+"${progs[@]}"}"; do
	src=${p%%=*}
	if [ "$src" != "$p" ]; then dst=${p#*=}; else dst=/bin/$(basename "$src"); fi
	put "$src" "$dst"
	chmod 755 "$root$dst"
	put_deps "$src"
	runs+=("$dst")
done
for f in "${files[@]+"${files[@]}"}"; do
	src=${f%%=*}
	if [ "$src" != "$f" ]; then dst=${f#*=}; else dst=$(cd "$(dirname "$src")" && pwd)/$(basename "$src"); fi
	put "$src" "$dst"
	case $src in *.so | *.so.*) put_deps "$src"; libdirs+=("$(dirname "$dst")") ;; esac
done
ldpath=$(printf '%s\n' "${libdirs[@]+"${libdirs[@]}"}" | awk 'NF && !seen[$0]++' | paste -sd: -)

cat >"$root/init" <<EOF
#!/bin/busybox sh
# Test guest init (vmm-glue/image/build-guest-image.sh). The kernel passes the command-line
# words it does not know (run=...) as environment variables.
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export LD_LIBRARY_PATH="$ldpath"
export HOME=/tmp
if [ -f /lib/modules/vaccel_ivshmem.ko ]; then
	# The write-back BAR2 driver (build-guest-image.sh --driver), before any program maps
	# the device.
	if insmod /lib/modules/vaccel_ivshmem.ko \${driver_args:-}; then
		echo "VACCEL-GUEST-DRIVER loaded"
	else
		echo "VACCEL-GUEST-DRIVER failed \$?"
	fi
fi
echo "VACCEL-GUEST-START"
rc=0
if [ -n "\${run:-}" ]; then
	sh -c "\$run"
	rc=\$?
fi
echo "VACCEL-GUEST-EXIT \$rc"
sync
poweroff -f
EOF
chmod 755 "$root/init"

# busybox cpio: the host may have no cpio. Owner root so the guest sees root-owned files.
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	"$busybox" cpio -o -H newc -R 0:0 >"$outdir/initrd.cpio.tmp" 2>/dev/null) ||
	die "cpio failed"
mv "$outdir/initrd.cpio.tmp" "$outdir/initrd.cpio"
ln -sfn "$kernel" "$outdir/kernel"
echo "kernel: $outdir/kernel -> $kernel"
if [ -n "$ko" ]; then
	ln -sfn "$ko" "$outdir/vaccel_ivshmem.ko"
	echo "driver: $outdir/vaccel_ivshmem.ko -> $ko"
else
	rm -f "$outdir/vaccel_ivshmem.ko"
fi
echo "initrd: $outdir/initrd.cpio ($(du -k "$outdir/initrd.cpio" | cut -f1) KiB; programs: ${runs[*]:-none})"
