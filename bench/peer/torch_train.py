#!/usr/bin/env python3
"""PyTorch peer for `npm run bench -- train` (bench/train.ts).

Trains one epoch of MNIST with the same model, batch size, optimizer, learning
rate and momentum as precis, on the CPU with T threads, and prints one JSON
line: {"secondsPerEpoch", "testAccuracy", "testLoss", "steps", "version",
"threads", "sample"}.

secondsPerEpoch is the wall time of the training loop only: for each batch,
gather the shuffled images, forward, cross-entropy, loss.item(), backward,
optimizer step, zero_grad. Reading and normalising the files and the
test-set evaluation are outside it, as in bench/train.ts.

  python3 bench/peer/torch_train.py --model mlp|lenet5 --threads T --data-dir DIR
      [--max-steps N] [--seed S]

Run it with OPENBLAS_CORETYPE=SkylakeX OMP_WAIT_POLICY=PASSIVE (bench/train.ts
sets them). Needs torch and numpy; the data are the four MNIST IDX .gz files.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Each step rounded to float32, as torchvision's ToTensor + Normalize do it
# (and as precis's normalisation table does).
MEAN = np.float32(0.1307)
STD = np.float32(0.3081)

CONFIGS = {
    # model: (batch size, lr, momentum)
    'mlp': (100, 0.01, 0.9),
    'lenet5': (64, 1 / 16, 0.5),
}


def find(dir_, name):
    for d in (os.path.join(dir_, 'mnist'), dir_):
        for n in (name, name + '.gz'):
            p = os.path.join(d, n)
            if os.path.exists(p):
                return p
    raise FileNotFoundError(f'{name} not found in {dir_} (or {dir_}/mnist)')


def read_idx(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('>I', data[:4])
    ndim = magic & 0xff
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(dir_, prefix):
    images = read_idx(find(dir_, f'{prefix}-images-idx3-ubyte'))
    labels = read_idx(find(dir_, f'{prefix}-labels-idx1-ubyte'))
    x = (images.astype(np.float32) / np.float32(255) - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.reshape(-1, 1, 28, 28))), torch.from_numpy(labels.astype(np.int64))


def model(name):
    if name == 'mlp':
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 1000), nn.ReLU(),
            nn.Linear(1000, 1000), nn.ReLU(),
            nn.Linear(1000, 10),
        )
    if name == 'lenet5':
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(6, 16, 5), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(16, 120, 5), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10),
        )
    raise ValueError(f'unknown model {name}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True, choices=sorted(CONFIGS))
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--data-dir', required=True)
    ap.add_argument('--max-steps', type=int, default=0, help='stop the epoch after this many steps (0: the whole epoch)')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(a.seed)

    xtr, ytr = load(a.data_dir, 'train')
    xte, yte = load(a.data_dir, 't10k')
    batch, lr, momentum = CONFIGS[a.model]
    net = model(a.model)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)

    n = xtr.shape[0]
    steps = (n + batch - 1) // batch
    if a.max_steps > 0:
        steps = min(steps, a.max_steps)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(a.seed))

    net.train()
    t0 = time.perf_counter()
    for s in range(steps):
        idx = order[s * batch:(s + 1) * batch]
        x, y = xtr[idx], ytr[idx]
        loss = F.cross_entropy(net(x), y)
        loss_value = loss.item()
        loss.backward()
        opt.step()
        opt.zero_grad()
        if s % 100 == 0:
            print(f'  pytorch {a.model} {a.threads}T step {s}/{steps} loss {loss_value:.4f}', file=sys.stderr, flush=True)
    seconds = time.perf_counter() - t0

    net.eval()
    correct = 0
    loss_sum = 0.0
    with torch.no_grad():
        for i in range(0, xte.shape[0], 1000):
            logits = net(xte[i:i + 1000])
            loss_sum += F.cross_entropy(logits, yte[i:i + 1000], reduction='sum').item()
            correct += (logits.argmax(1) == yte[i:i + 1000]).sum().item()
    print(json.dumps({
        'secondsPerEpoch': seconds,
        'testAccuracy': correct / xte.shape[0],
        'testLoss': loss_sum / xte.shape[0],
        'steps': steps,
        'trainImages': n,
        'version': torch.__version__,
        'threads': torch.get_num_threads(),
    }))


if __name__ == '__main__':
    main()
