#!/usr/bin/env bash
# Image classification inside a real QEMU guest through the torch plugin on the host: the
# guest runs examples/classify unchanged (VACCEL_PLUGINS=libvaccel-shm.so,
# VACCEL_SHM_DEVICE=auto) on an image and a TorchScript model in its initramfs; the model
# is shipped to the agent at registration and the agent's backends/torch decodes the image
# and answers the label (labels from the agent's VACCEL_TORCH_LABELS). In both wirings:
#   1. plain:    ivshmem-plain over the agent's --plain-region file;
#   2. doorbell: ivshmem-doorbell, QEMU's chardev on the agent's socket.
# The model and images are made by vm_classify_inputs (libtorch), not downloaded.
#
# usage: vm_classify_test.sh BUILD_IMAGE RUN_GUEST AGENT CLASSIFY SHM_PLUGIN TORCH_PLUGIN INPUTS
set -euo pipefail

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
builder=$1 runner=$2 agent=$(abs "$3") classify=$4 shm=$5 ptorch=$(abs "$6") inputs=$7
. "$(dirname "$0")/vm_common.sh"

t0=$(now)
data=$tmp/classify-data
mkdir -p "$data"
"$inputs" "$data" || fail "vm_classify_inputs could not write the model and images"
"$builder" --cache "$cache" "$tmp/image" "$classify=/bin/vaccel-classify" \
	--file "$shm=/lib/vaccel/libvaccel-shm.so" --file "$data/color.pt=/data/color.pt" \
	--file "$data/blue.png=/data/blue.png" --file "$data/red.png=/data/red.png" ||
	fail "building the guest image failed (see above: the kernel download needs the Debian archive)"
echo "image built in $(secs "$t0" "$(now)") s"

export VACCEL_TORCH_LABELS=$data/labels.txt VACCEL_TORCH_THREADS=1
vm_agent_start "$agent" "$tmp/agent.log" --plugins "$ptorch" --pool 4k:256,64k:64,1m:16,4m:4

guest_env="VACCEL_PLUGINS=/lib/vaccel/libvaccel-shm.so VACCEL_SHM_DEVICE=auto"
calls="/bin/vaccel-classify /data/blue.png /data/color.pt && /bin/vaccel-classify /data/red.png /data/color.pt"

boot plain 60 --mode plain --region "$plain" -- "$calls"
[ "$status" = 0 ] || { cat "$out"; tail -n 20 "$tmp/agent.log"; fail "plain: classify exited $status"; }
expect plain "/data/blue.png: blue; plugin shm"
expect plain "/data/red.png: red; plugin shm"

boot doorbell 60 --mode doorbell --socket "$sock" --vectors 8 -- "$calls"
[ "$status" = 0 ] || { cat "$out"; tail -n 20 "$tmp/agent.log"; fail "doorbell: classify exited $status"; }
expect doorbell "/data/blue.png: blue; plugin shm"
expect doorbell "/data/red.png: red; plugin shm"

kill "$apid"
wait "$apid" || { cat "$tmp/agent.log"; fail "the agent did not exit 0 on SIGTERM"; }
apid=
echo "total $(secs "$t0" "$(now)") s"
echo PASS
