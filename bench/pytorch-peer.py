"""The peer for bench/train-speed.ts: the same three models, data and
batch sizes in PyTorch on the CPU, timed the same way (a warm-up batch,
then whole epochs without shuffling, the best of REPEATS).

Run by the bench as /usr/bin/python3 with OPENBLAS_NUM_THREADS=1, PyTorch's
best setting on a two-core machine: OpenBLAS's own threads on top of
PyTorch's intra-op threads oversubscribe the cores. Reads the digits the
bench wrote (COUNT digits' float32 pixels, then their uint8 labels) and prints one JSON line.

    python3 bench/pytorch-peer.py DIGITS_FILE COUNT MODEL:BATCH:SAMPLES ...
"""

import json
import sys
import time

import numpy as np
import torch
from torch import nn

REPEATS = 3


def build(kind):
    if kind == "mlp":
        body = [nn.Flatten(), nn.Linear(784, 128), nn.ReLU(),
                nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10)]
        return nn.Sequential(*body)
    if kind == "cnn":
        body = [nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(32 * 5 * 5, 64), nn.ReLU(),
                nn.Linear(64, 10)]
        return nn.Sequential(*body)
    return Recurrent()


class Recurrent(nn.Module):
    """LSTM(32) over the 28 rows of a digit, its last state to 10 classes."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 32, batch_first=True)
        self.out = nn.Linear(32, 10)

    def forward(self, x):
        _, (hidden, _) = self.lstm(x)
        return self.out(hidden[-1])


SHAPES = {"mlp": (784,), "cnn": (1, 28, 28), "lstm": (28, 28)}


def epoch(model, optimizer, loss_fn, x, y, batch):
    for start in range(0, len(x), batch):
        optimizer.zero_grad()
        loss = loss_fn(model(x[start:start + batch]), y[start:start + batch])
        loss.backward()
        optimizer.step()


def measure(kind, batch, pixels, labels, samples):
    torch.manual_seed(0)
    model = build(kind)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.from_numpy(pixels[:samples]).reshape(samples, *SHAPES[kind])
    y = torch.from_numpy(labels[:samples]).long()

    epoch(model, optimizer, loss_fn, x[:batch], y[:batch], batch)
    best = 0.0
    for _ in range(REPEATS):
        started = time.perf_counter()
        epoch(model, optimizer, loss_fn, x, y, batch)
        best = max(best, samples / (time.perf_counter() - started))
    return best


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    raw = np.fromfile(path, dtype=np.uint8)
    pixels = raw[:count * 784 * 4].view(np.float32).reshape(count, 784)
    start = count * 784 * 4
    labels = raw[start:start + count]
    rates = {}
    for run in sys.argv[3:]:
        kind, batch, samples = run.split(":")
        rates[f"{kind}:{batch}"] = measure(kind, int(batch), pixels, labels,
                                           int(samples))
    print(json.dumps({"torch": torch.__version__,
                      "threads": torch.get_num_threads(), "rates": rates}))


if __name__ == "__main__":
    main()
