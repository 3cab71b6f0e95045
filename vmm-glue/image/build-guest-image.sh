#!/usr/bin/env bash
# Builds a test guest for QEMU: a Debian kernel and a busybox initramfs carrying the given
# (dynamically linked) programs. Needs nothing beyond Debian's archive: the kernel comes from
# the package that linux-image-amd64 depends on, fetched with `apt-get download` and unpacked
# with `dpkg -x` into a cache folder (never installed on this host). See --help.
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<EOF
usage: $prog [--cache DIR] [--file SRC[=GUESTPATH]]... OUTDIR [PROGRAM[=GUESTPATH] ...]

Writes OUTDIR/kernel (a symlink to the cached kernel: an uncompressed vmlinux, which QEMU
boots about twice as fast, or vmlinuz if extraction failed) and OUTDIR/initrd.cpio (newc).

  PROGRAM     a host program to run in the guest, copied to GUESTPATH (default
              /bin/BASENAME) with the libraries ldd lists and the dynamic loader, each at
              its host path; LD_LIBRARY_PATH in the guest covers their folders.
  --file      any other file (a plugin loaded with dlopen, data), default GUESTPATH = its
              host path; shared objects bring their ldd dependencies too.
  --cache DIR where the kernel download and extraction are kept
              (default \${XDG_CACHE_HOME:-\$HOME/.cache}/vaccel-vm; env VACCEL_VM_CACHE).
Environment: BUSYBOX (a static busybox to use instead of /bin/busybox).

The guest's /init mounts proc, sysfs and devtmpfs, then runs the shell command in the
kernel command-line word run=... (quote it: run="/bin/prog arg; /bin/other"), prints
  VACCEL-GUEST-START
  VACCEL-GUEST-EXIT <status>
and powers off. Without run= it only prints the markers (exit 0): a boot check.
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
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--cache) [ $# -ge 2 ] || die "--cache needs a folder"; cache=$2; shift 2 ;;
	--cache=*) cache=${1#*=}; shift ;;
	--file) [ $# -ge 2 ] || die "--file needs a path"; files+=("$2"); shift 2 ;;
	--file=*) files+=("${1#*=}"); shift ;;
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
echo "initrd: $outdir/initrd.cpio ($(du -k "$outdir/initrd.cpio" | cut -f1) KiB; programs: ${runs[*]:-none})"
