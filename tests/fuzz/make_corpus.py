#!/usr/bin/env python3
"""Writes the seed corpus of the host fuzzer (tests/fuzz/corpus/): small valid programs in
the input language of host_fuzz.c, one per path worth starting from. Re-run after changing
that language; the files are committed."""
import os
import struct
import sys

# Commands (host_fuzz.c: run): cmd % 8.
WRITE, SQE, REQ, STEP, PASS, REAP, ANNOUNCE, SETIDX = range(8)
# Opcodes (transport/qp.h) and vAccel values the requests use.
NOP, SESS_INIT, SESS_RELEASE, SESS_UPDATE, RES_REGISTER, RES_UNREGISTER, VACCEL = range(7)
OP_NOOP, OP_EXEC, OP_EXEC_RES, OP_SGEMM = 0, 1, 2, 17
OP_CLASSIFY, OP_TORCH_LOAD, OP_TORCH_RUN, OP_TORCH_SGEMM = 3, 14, 15, 16
OP_TF_LOAD, OP_TF_UNLOAD, OP_TF_RUN, OP_TFLITE_LOAD, OP_TFLITE_UNLOAD, OP_TFLITE_RUN = range(8, 14)
TF_DOUBLE, TFLITE_UINT8 = 2, 3
MODEL = 2  # VACCEL_RESOURCE_MODEL
TORCH_FLOAT, TORCH_LONG = 7, 5
CPU, DEBUG = 0x1, 0x100
IN, OUT = 1, 2


def req(q, opcode, sess, op, args, ud=1, nr=None):
    """args: list of (flags, type, payload bytes or an output length)."""
    b = bytes([REQ, q, opcode, sess]) + struct.pack("<I", op)
    b += bytes([len(args) if nr is None else nr, ud])
    for flags, typ, data in args:
        if flags == IN:
            b += bytes([flags, typ]) + struct.pack("<H", len(data)) + data
        else:
            b += bytes([flags, typ]) + struct.pack("<H", data)
    return b


def i32(v):
    return (IN, 0, struct.pack("<i", v))


def f32(v):
    return (IN, 0, struct.pack("<f", v))


def floats(vals):
    return (IN, 0, struct.pack("<%df" % len(vals), *vals))


P = bytes([PASS])


def record(dtype, dims, esize):
    """A tensor record (transport/tensor.h: struct vtr_tensor, 88 bytes)."""
    size = esize
    for d in dims:
        size *= d
    return struct.pack("<IIQQ", dtype, len(dims), size, 0) + struct.pack(
        "<8q", *(list(dims) + [0] * (8 - len(dims))))


def tensors(*ts):
    """(IN records, [IN data...]) for (dtype, dims, esize) tensors with data of their own."""
    recs = b"".join(record(*t) for t in ts)
    data = []
    for dtype, dims, esize in ts:
        n = esize
        for d in dims:
            n *= d
        data.append((IN, 0, bytes((i * 37) & 0xff for i in range(n))))
    return (IN, 0, recs), data


def node(i, name):
    """A TF node record (transport/tensor.h: struct vtr_node, 128 bytes)."""
    return struct.pack("<i", i) + name.ljust(124, b"\0")


def model(q, sess):
    return req(q, RES_REGISTER, sess, MODEL, [(IN, 0, b"model.pt"), (IN, 0, b"TorchScript?")]) + P


def reap(q=0):
    return bytes([REAP, q])


def sgemm(q, sess, m, n, k):
    a = [float(i % 5 - 2) for i in range(m * k)]
    b = [float(i % 3) for i in range(k * n)]
    return req(q, VACCEL, sess, OP_SGEMM,
               [i32(m), i32(n), i32(k), f32(1.0), floats(a), i32(k), floats(b), i32(n),
                f32(0.0), i32(n), (OUT, 0, 4 * m * n)])


seeds = {
    "noop": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P
    + req(0, VACCEL, 1, OP_NOOP, [], ud=2) + P + reap() + req(0, SESS_RELEASE, 1, 0, []) + P,
    "noop_genop": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P
    + req(0, VACCEL, 1, OP_NOOP, [i32(7), (OUT, 0, 8)]) + P,
    "sgemm": bytes([0]) + req(0, SESS_INIT, 0, CPU, []) + P + sgemm(0, 1, 3, 4, 5) + P
    + reap() + sgemm(1, 1, 8, 8, 8) + P,
    "sgemm_noop_plugin": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P + sgemm(0, 1, 2, 2, 2) + P,
    "exec_refused": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P
    + req(0, VACCEL, 1, OP_EXEC, [(IN, 0, b"/tmp/libx.so"), (IN, 0, b"fn\0"), i32(3), (OUT, 0, 4)]) + P,
    "resource": bytes([2]) + req(0, SESS_INIT, 0, DEBUG, []) + P
    + req(0, RES_REGISTER, 1, 0, [(IN, 0, b"lib.so"), (IN, 0, b"\x7fELF....")]) + P
    + req(0, VACCEL, 1, OP_EXEC_RES, [(IN, 0, struct.pack("<Q", 1)), (IN, 0, b"fn\0"), i32(5), (OUT, 0, 4)])
    + P + req(0, RES_UNREGISTER, 1, 1, []) + P + req(0, SESS_UPDATE, 1, CPU, []) + P
    + req(0, SESS_RELEASE, 1, 0, []) + P,
    "resource_guest_code_off": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P
    + req(0, RES_REGISTER, 1, 0, [(IN, 0, b"lib.so"), (IN, 0, b"abc")]) + P
    + req(0, VACCEL, 1, OP_EXEC_RES, [(IN, 0, struct.pack("<Q", 1)), (IN, 0, b"fn\0")]) + P,
    "torch_run": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P + model(0, 1)
    + req(0, VACCEL, 1, OP_TORCH_LOAD, [(IN, 0, struct.pack("<Q", 1))]) + P
    + req(0, VACCEL, 1, OP_TORCH_RUN,
          [(IN, 0, struct.pack("<Q", 1)), (IN, 0, b"")]
          + [tensors((TORCH_FLOAT, (2, 3), 4), (TORCH_LONG, (4,), 8))[0]]
          + tensors((TORCH_FLOAT, (2, 3), 4), (TORCH_LONG, (4,), 8))[1]
          + [(OUT, 0, 2 * 88), (OUT, 0, 512)]) + P,
    "torch_run_small_area": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P + model(0, 1)
    + req(0, VACCEL, 1, OP_TORCH_RUN,
          [(IN, 0, struct.pack("<Q", 1)), (IN, 0, b"opts")]
          + [tensors((TORCH_FLOAT, (4, 4), 4))[0]] + tensors((TORCH_FLOAT, (4, 4), 4))[1]
          + [(OUT, 0, 88), (OUT, 0, 32)]) + P,
    "torch_sgemm": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P
    + req(0, VACCEL, 1, OP_TORCH_SGEMM,
          [tensors(*[(TORCH_FLOAT, (2, 2), 4)] * 3)[0]] + tensors(*[(TORCH_FLOAT, (2, 2), 4)] * 3)[1]
          + [(IN, 0, struct.pack("<3i", 2, 2, 2)), (OUT, 0, 88), (OUT, 0, 256)]) + P,
    "tf_run": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P + model(0, 1)
    + req(0, VACCEL, 1, OP_TF_LOAD, [(IN, 0, struct.pack("<Q", 1)), (OUT, 0, 256)]) + P
    + req(0, VACCEL, 1, OP_TF_RUN,
          [(IN, 0, struct.pack("<Q", 1)), (IN, 0, b""), (IN, 0, node(0, b"x")), (IN, 0, node(0, b"y"))]
          + [tensors((TF_DOUBLE, (3,), 8))[0]] + tensors((TF_DOUBLE, (3,), 8))[1]
          + [(OUT, 0, 88), (OUT, 0, 256), (OUT, 0, 256)]) + P
    + req(0, VACCEL, 1, OP_TF_UNLOAD, [(IN, 0, struct.pack("<Q", 1)), (OUT, 0, 256)]) + P,
    "tflite_run": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P + model(0, 1)
    + req(0, VACCEL, 1, OP_TFLITE_LOAD, [(IN, 0, struct.pack("<Q", 1))]) + P
    + req(0, VACCEL, 1, OP_TFLITE_RUN,
          [(IN, 0, struct.pack("<Q", 1))] + [tensors((TFLITE_UINT8, (2, 3), 1))[0]]
          + tensors((TFLITE_UINT8, (2, 3), 1))[1] + [(OUT, 0, 88), (OUT, 0, 128), (OUT, 0, 1)]) + P
    + req(0, VACCEL, 1, OP_TFLITE_UNLOAD, [(IN, 0, struct.pack("<Q", 1))]) + P,
    "image_classify": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P
    + req(0, VACCEL, 1, OP_CLASSIFY, [(IN, 28, bytes(range(64))), (OUT, 26, 32), (OUT, 26, 48)]) + P,
    "burst": bytes([0]) + req(0, SESS_INIT, 0, DEBUG, []) + P
    + b"".join(req(0, VACCEL, 1, OP_NOOP, [], ud=i) for i in range(14)) + P + P + reap() + P
    + bytes([ANNOUNCE]) + P,
    "bad_requests": bytes([0]) + req(0, 99, 0, 0, []) + req(0, VACCEL, 1, 0, [], nr=40)
    + req(0, VACCEL, 1, 0, [(OUT, 0, 4), i32(1)]) + req(0, VACCEL, 1, 0, [(3, 0, 4)]) + P,
    "raw_sqe": bytes([0, SQE, 0]) + struct.pack("<HHIQQII", VACCEL, 0, 1, 9, 4096 + 64, 1, 0)
    + bytes(32) + P,
    "corrupt_prod": bytes([0]) + req(0, NOP, 0, 0, []) + bytes([SETIDX, 0]) + struct.pack("<I", 1000) + P
    + bytes([STEP, 1, 0xff]) + P,
    "corrupt_cq": bytes([0]) + req(0, NOP, 0, 0, []) + bytes([SETIDX, 1 | 2]) + struct.pack("<I", 0x80000000) + P,
    "header_attach": bytes([1]) + req(0, SESS_INIT, 0, DEBUG, []) + P + req(0, VACCEL, 1, OP_NOOP, []) + P,
    # nr_areas (offset 32) rewritten before the host attaches from the header.
    "header_write": bytes([1, WRITE]) + struct.pack("<I", 32)[:3] + bytes([4]) + struct.pack("<I", 3)
    + req(0, NOP, 0, 0, []) + P,
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print("wrote %d seeds to %s" % (len(seeds), out))
