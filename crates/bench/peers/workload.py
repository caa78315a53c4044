"""The benchmark workload shared by every Python peer (see README.md here).

Full-size MNIST-shaped training: 60,000 x 784 f32 inputs, MLP
784 -> 512 ReLU -> 256 ReLU -> 10, softmax cross-entropy, Adam (lr 1e-3),
batch 128, shuffled, one epoch of 468 full batches after a short warm-up;
then inference: one forward pass over the 10,000 test images in one batch.

Each peer prints one JSON line (`result(...)`) that the bench (`crates/bench`) reads.
"""

import argparse
import gzip
import json
import os
import resource
import struct
import sys
import time

import numpy as np

BATCH = 128
LEARNING_RATE = 1e-3
WARMUP_STEPS = 20
INFERENCE_REPEATS = 5
MEAN, STD = 0.1307, 0.3081


def read_idx(path):
    """An IDX file, raw or gzipped, as a numpy array (checks the header)."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        sys.exit(f"{path}: expected {int(np.prod(shape))} values, found {body.size}")
    return body.reshape(shape)


def load(folder):
    """(train_x, train_y, test_x, test_y): x as (n, 784) f32, normalised."""

    def images(name):
        x = read_idx(os.path.join(folder, name)).reshape(-1, 784)
        return ((x.astype(np.float32) / 255.0 - MEAN) / STD).astype(np.float32)

    def labels(name):
        return read_idx(os.path.join(folder, name)).astype(np.int64)

    return (
        images("train-images-idx3-ubyte"),
        labels("train-labels-idx1-ubyte"),
        images("t10k-images-idx3-ubyte"),
        labels("t10k-labels-idx1-ubyte"),
    )


def arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", required=True, help="folder with the four MNIST IDX files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", default="512,256", help="hidden widths, comma-separated")
    args = parser.parse_args()
    args.widths = (784, *(int(h) for h in args.hidden.split(",")), 10)
    return args


def permutation(seed, n):
    """The epoch's batches: a seeded shuffle cut into 468 full batches."""
    order = np.random.default_rng(seed).permutation(n)
    full = n // BATCH
    return order[: full * BATCH].reshape(full, BATCH)


def median(values):
    return float(np.median(np.asarray(values)))


def result(name, version, epoch_seconds, inference_seconds, epoch_loss, test_accuracy):
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "peer": name,
                "version": version,
                "epoch_s": epoch_seconds,
                "inference_s": inference_seconds,
                "epoch_loss": epoch_loss,
                "test_accuracy": test_accuracy,
                "peak_rss_mb": peak_kib / 1024.0,
            }
        ),
        flush=True,
    )


def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value
