#!/usr/bin/env python3
"""Read a First MLP checkpoint outside the project and re-score it.

Loads the safetensors file with the `safetensors` package (as PyTorch's
`safetensors.torch.load_file` would), runs the network in numpy with
PyTorch's layout (weight [out, in], y = x W^T + b, ReLU between layers) and
prints its accuracy on an IDX test set. Needs `pip install numpy safetensors`.

    python3 crates/first-mlp/scripts/load_checkpoint.py out/mnist/best.safetensors DATA_DIR
"""
import gzip
import json
import sys
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def idx(path):
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def main(model, data):
    data = Path(data)
    tensors = load_file(model)
    with safe_open(model, "np") as f:
        metadata = f.metadata()
        config = json.loads(metadata["first_mlp_config"])
    if config.get("activation") != "relu":
        sys.exit("this script runs ReLU networks only")
    images = next(p for p in (data / "t10k-images-idx3-ubyte.gz", data / "t10k-images-idx3-ubyte") if p.exists())
    labels = next(p for p in (data / "t10k-labels-idx1-ubyte.gz", data / "t10k-labels-idx1-ubyte") if p.exists())
    x = np.frombuffer(idx(images)[16:], dtype=np.uint8).reshape(-1, 784).astype(np.float32) / 255.0
    # The statistics the model was trained with (its training split's, under
    # --normalization computed); checkpoints from before they were stored
    # fall back to MNIST's standard ones.
    if "normalization_mean" in metadata:
        mean, std = float(metadata["normalization_mean"]), float(metadata["normalization_std"])
    else:
        mean, std = 0.1307, 0.3081
        if config.get("normalization") == "computed":
            print("warning: no normalisation statistics stored; using MNIST's standard ones", file=sys.stderr)
    x = (x - mean) / std
    y = np.frombuffer(idx(labels)[8:], dtype=np.uint8)
    layers = sorted({int(k.split(".")[0]) for k in tensors if not k.startswith("optimizer")})
    for i, layer in enumerate(layers):
        x = x @ tensors[f"{layer}.weight"].T + tensors[f"{layer}.bias"]
        if i < len(layers) - 1:
            x = np.maximum(x, 0.0)
    print(f"{len(y)} test images, accuracy {(x.argmax(1) == y).mean():.4f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
