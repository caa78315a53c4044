#!/usr/bin/env python3
"""Cut the bundled MNIST sample out of the full, genuine MNIST files.

Takes the first 5,000 training and the first 1,000 test images (and their
labels), unchanged, and writes them in the same IDX format, gzip-compressed
with a zero timestamp so the output is byte-for-byte reproducible.

    python3 data/mnist-sample/make_sample.py ../shared/data/mnist data/mnist-sample
"""
import gzip
import hashlib
import struct
import sys
from pathlib import Path

TRAIN, TEST = 5000, 1000


def read_idx(path):
    data = gzip.open(path, "rb").read()
    magic, = struct.unpack(">I", data[:4])
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return magic, shape, data[4 + 4 * dims:]


def write_idx(path, magic, shape, payload):
    header = struct.pack(">I", magic) + struct.pack(">" + "I" * len(shape), *shape)
    raw = header + payload
    with open(path, "wb") as out:
        with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
            gz.write(raw)
    return hashlib.sha256(raw).hexdigest()


def main(source, target):
    source, target = Path(source), Path(target)
    for prefix, count in (("train", TRAIN), ("t10k", TEST)):
        for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
            name = f"{prefix}-{kind}.gz"
            magic, shape, payload = read_idx(source / name)
            item = 1
            for d in shape[1:]:
                item *= d
            digest = write_idx(target / name, magic, (count,) + tuple(shape[1:]), payload[: count * item])
            print(f"{name}: {count} of {shape[0]}, sha256 of the decompressed file {digest}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
