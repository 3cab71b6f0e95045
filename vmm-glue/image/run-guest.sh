#!/usr/bin/env bash
# Prints or runs the QEMU command line for a test guest wired to a shared region through an
# ivshmem device: ivshmem-plain over a file (polling only), or ivshmem-doorbell through an
# ivshmem server's socket (our vaccel-agent or any server speaking QEMU's protocol).
set -euo pipefail

prog=${0##*/}
usage() {
	cat <<EOF
usage: $prog --kernel FILE --initrd FILE (--mode plain --region FILE | --mode doorbell --socket PATH)
             [--append WORDS] [--timeout S] [--accel auto|kvm|tcg] [--vectors N] [--mem MB]
             [--qemu PATH] [--pidfile FILE] [--print]

  --mode plain     -object memory-backend-file,share=on,mem-path=FILE + ivshmem-plain:
                   the region file (under /dev/shm, size a power of two) is BAR2.
  --mode doorbell  -chardev socket,path=PATH + ivshmem-doorbell,vectors=N (default 8): the
                   server sends the region fd and the doorbell eventfds. With vaccel-agent
                   N must be at least its --qps (default 8): it sends one eventfd per queue
                   pair and QEMU refuses more than N.
  --append WORDS   added to "console=ttyS0 panic=-1 quiet" (e.g. run="/bin/vm_probe")
  --timeout S      host-side limit: QEMU is killed after S seconds (exit 124); default 60
  --accel          auto (default): KVM only when /proc/cpuinfo shows vmx or svm AND a short
                   trial boot of this guest finishes; otherwise TCG. The choice goes to stderr.
  --pidfile FILE   QEMU writes its process ID there (to kill the VM from outside: QEMU
                   runs in timeout's own process group, not the caller's)
  --print          print the command (one argument per line, shell-quoted) and exit
Without --print, QEMU's console (the guest's output) goes to stdout; the exit status is
QEMU's (0 after the guest powers off), 124 on timeout.
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 2
}

qemu=${QEMU:-qemu-system-x86_64}
pidfile=
mode= region= socket= kernel= initrd= append= timeout=60 accel=auto print=0 vectors=8 mem=256
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--print) print=1; shift; continue ;;
	--mode | --region | --socket | --kernel | --initrd | --append | --timeout | --accel | --vectors | --mem | --qemu | --pidfile)
		[ $# -ge 2 ] || die "$1 needs a value" ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
	case $1 in
	--mode) mode=$2 ;;
	--region) region=$2 ;;
	--socket) socket=$2 ;;
	--kernel) kernel=$2 ;;
	--initrd) initrd=$2 ;;
	--append) append=$2 ;;
	--timeout) timeout=$2 ;;
	--accel) accel=$2 ;;
	--vectors) vectors=$2 ;;
	--mem) mem=$2 ;;
	--qemu) qemu=$2 ;;
	--pidfile) pidfile=$2 ;;
	esac
	shift 2
done

[ -n "$kernel" ] || die "--kernel is required"
[ -n "$initrd" ] || die "--initrd is required"
[ -e "$kernel" ] || die "kernel $kernel does not exist (build it with build-guest-image.sh)"
[ -e "$initrd" ] || die "initrd $initrd does not exist (build it with build-guest-image.sh)"
[[ $timeout =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ] || die "--timeout wants whole seconds > 0"
[[ $vectors =~ ^[0-9]+$ ]] && [ "$vectors" -ge 1 ] || die "--vectors wants a number >= 1"
command -v "$qemu" >/dev/null || die "$qemu not found: install qemu-system-x86 (tools/setup does)"

case $mode in
plain)
	[ -n "$region" ] || die "--mode plain needs --region FILE"
	[ -f "$region" ] || die "region file $region does not exist (the host creates it first)"
	size=$(stat -L -c %s "$region")
	# ivshmem's BAR2 is the backend itself: PCI BARs are powers of two.
	[ "$size" -gt 0 ] && [ $((size & (size - 1))) -eq 0 ] ||
		die "region file $region is $size bytes; ivshmem needs a power of two"
	dev=(-object "memory-backend-file,id=hostmem,size=$size,share=on,mem-path=$region"
		-device "ivshmem-plain,memdev=hostmem")
	;;
doorbell)
	[ -n "$socket" ] || die "--mode doorbell needs --socket PATH"
	[ -S "$socket" ] || die "$socket is not a socket (start the ivshmem server first)"
	dev=(-chardev "socket,path=$socket,id=ivs"
		-device "ivshmem-doorbell,chardev=ivs,vectors=$vectors")
	;;
'') die "--mode plain|doorbell is required" ;;
*) die "unknown mode $mode (plain or doorbell)" ;;
esac

cmdline="console=ttyS0 panic=-1 quiet${append:+ $append}"
base=("$qemu" -nographic -no-reboot -nic none -m "$mem" -kernel "$kernel" -initrd "$initrd")

# /dev/kvm can exist without hardware virtualisation (a software nested module): guests then
# crawl. So KVM needs vmx/svm in cpuinfo and a bounded trial boot of this very guest.
kvm_works() {
	grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null || { why="no vmx/svm in /proc/cpuinfo"; return 1; }
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || { why="/dev/kvm not accessible"; return 1; }
	if timeout --kill-after=1 10 "${base[@]}" -accel kvm -append "console=ttyS0 panic=-1 quiet" \
		</dev/null 2>&1 | grep -q 'VACCEL-GUEST-EXIT 0'; then
		return 0
	fi
	why="KVM trial boot did not finish in 10 s"
	return 1
}

case $accel in
auto)
	why=
	if kvm_works; then accel=kvm; echo "$prog: accelerator kvm" >&2
	else accel=tcg; echo "$prog: accelerator tcg ($why)" >&2
	fi
	;;
kvm | tcg) echo "$prog: accelerator $accel (asked for)" >&2 ;;
*) die "unknown accelerator $accel (auto, kvm or tcg)" ;;
esac

cmd=("${base[@]}" -accel "$accel" "${dev[@]}" -append "$cmdline")
[ -z "$pidfile" ] || cmd+=(-pidfile "$pidfile")
if [ "$print" = 1 ]; then
	# One option and its value per line, quoted for a POSIX shell: paste-able as is.
	line=
	for a in "${cmd[@]}"; do
		if ! [[ $a =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then
			a="'${a//\'/\'\\\'\'}'"
		fi
		if [ -z "$line" ]; then line=$a
		elif [[ $a == -* ]]; then printf '%s \\\n' "$line"; line="  $a"
		else line="$line $a"
		fi
	done
	printf '%s\n' "$line"
	exit 0
fi
# stdin from /dev/null: -nographic would otherwise put the terminal in raw mode.
set +e
timeout --kill-after=2 "$timeout" "${cmd[@]}" </dev/null
rc=$?
set -e
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "$prog: QEMU killed after ${timeout}s" >&2
	exit 124
fi
exit "$rc"
