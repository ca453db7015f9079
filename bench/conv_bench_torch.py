# PyTorch's side of bench/conv_bench.cpp: conv2d forward and backward on LeNet's two conv
# shapes at batch 4, 64 and 256, and one LeNet training step, timed the same way (best of
# 15 after warm-up), in GFLOP/s of one GEMM's worth of work per product.
#   /usr/bin/python3 bench/conv_bench_torch.py [--threads N]
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def best_seconds(f, repeats=15, warmup=3):
    for _ in range(warmup):
        f()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_conv(name, cin, cout, size, k, input_grad, batch):
    o = size - k + 1
    flops = 2.0 * batch * cout * cin * k * k * o * o
    x = torch.randn(batch, cin, size, size, requires_grad=input_grad)
    w = torch.randn(cout, cin, k, k, requires_grad=True)
    b = torch.randn(cout, requires_grad=True)
    with torch.no_grad():
        fwd = best_seconds(lambda: F.conv2d(x, w, b))
    y = F.conv2d(x, w, b)
    gy = torch.randn(y.shape)
    both = best_seconds(lambda: F.conv2d(x, w, b).backward(gy))  # forward + backward
    bwd = max(both - fwd, 1e-9)
    bwd_flops = flops * (2 if input_grad else 1)
    print(f"| {name} | {batch} | forward | {flops / fwd / 1e9:.1f} |")
    print(f"| {name} | {batch} | backward | {bwd_flops / bwd / 1e9:.1f} |")


def bench_lenet(batch):
    net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    x, target = torch.randn(batch, 3, 32, 32), torch.full((batch,), 3)

    def step():
        net.zero_grad()
        F.cross_entropy(net(x), target).backward()

    t = best_seconds(step)
    print(f"| LeNet step, batch {batch} | {t * 1e3:.2f} ms |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}\n")
    print("| layer | batch | pass | PyTorch GFLOP/s |\n|---|---|---|---|")
    for name, cin, cout, size, k, input_grad in (("conv1 3->6 k5 32x32", 3, 6, 32, 5, False),
                                                 ("conv2 6->16 k5 14x14", 6, 16, 14, 5, True)):
        for batch in (4, 64, 256):
            bench_conv(name, cin, cout, size, k, input_grad, batch)
    print()
    for batch in (64, 256):
        bench_lenet(batch)


if __name__ == "__main__":
    main()
