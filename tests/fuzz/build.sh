#!/usr/bin/env bash
# Builds the host fuzzer outside Bazel with clang-14 and libFuzzer:
#   tests/fuzz/build.sh [OUTDIR]      prints the fuzzer's path on its last line
# Everything the host runs on a guest's requests is compiled with
# -fsanitize=fuzzer,address,undefined: shm/, transport/, the runtime, the agent's
# serve.c, guest.c, poller.c (its real pass), route.c and work.c (routing and a worker),
# and the noop and blas plugins (loaded with dlopen as usual, so they are shared objects
# next to the fuzzer; coverage too).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
# Per checkout, so a CI clone and a working tree never share objects.
tag=$(printf %s "$repo" | cksum | cut -d' ' -f1)
out=${1:-${TMPDIR:-/tmp}/vaccel-fuzz-$(id -u)-$tag}
mkdir -p "$out/obj"
CC=${CC:-clang-14}
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found (tools/setup installs clang-14)" >&2; exit 1; }

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g $SAN -I$repo -I$repo/runtime/include -Wall -Wno-unused-parameter"

srcs=(
  shm/layout.c shm/region.c shm/numa.c shm/pool.c
  transport/ring.c transport/qp.c transport/wait.c transport/validate.c transport/tensor.c
  runtime/agent/serve.c runtime/agent/serve_ml.c runtime/agent/guest.c runtime/agent/poller.c
  runtime/agent/log.c runtime/agent/route.c runtime/agent/work.c vmm-glue/ivshmem_proto.c
  tests/fuzz/host_fuzz.c
)
for f in "$repo"/runtime/src/*.c "$repo"/runtime/src/ops/*.c; do srcs+=("${f#"$repo"/}"); done

# Two compilers at a time (the machines have two cores).
pids=()
objs=()
for s in "${srcs[@]}"; do
  o="$out/obj/$(echo "$s" | tr / _).o"
  objs+=("$o")
  "$CC" $CFLAGS -fsanitize=fuzzer-no-link -c "$repo/$s" -o "$o" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

# Plugins: linked without the runtime; its symbols come from the fuzzer (-rdynamic).
"$CC" $CFLAGS -fsanitize=fuzzer-no-link -fPIC -shared "$repo/backends/noop/noop.c" \
  -o "$out/libvaccel-noop.so"
"$CC" $CFLAGS -fsanitize=fuzzer-no-link -fPIC -shared "$repo/backends/blas/blas.c" \
  -o "$out/libvaccel-blas.so" -lopenblas
"$CC" $SAN -fsanitize=fuzzer -rdynamic "${objs[@]}" -o "$out/host_fuzz" \
  -ldl -lpthread -lnuma
echo "$out/host_fuzz"
