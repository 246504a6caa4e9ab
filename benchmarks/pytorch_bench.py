"""PyTorch 1.13 (Debian) on the benchmark networks, for the same table as the BenchmarkDotNet run.

Run with /usr/bin/python3 benchmarks/pytorch_bench.py. Medians of repeated timings:
forward latency at batch 1 on one thread, inference throughput at batch 64 on all threads, and
training throughput (batch 64, SGD with momentum, cross-entropy) on all threads.
"""
import statistics
import time

import torch
import torch.nn as nn

from export_onnx import NETWORKS, build


def median_seconds(fn, repeats, inner):
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def train_step(model, x, labels):
    """One SGD-with-momentum step (lr 0.01, cross-entropy) of the model in training mode on (x, labels), as a closure."""
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), labels).backward()
        optimizer.step()

    return step


def bench(name, model, shape):
    """Forward batch 1 on one thread, forward batch 64 on two, train step batch 64 on two and on one."""
    torch.manual_seed(0)
    model.eval()
    x1 = torch.randn(1, *shape)
    x64 = torch.randn(64, *shape)
    labels = torch.randint(0, 10, (64,))
    rows = []
    with torch.no_grad():
        torch.set_num_threads(1)
        t = median_seconds(lambda: model(x1), 15, 50)
        rows.append((name, "forward, batch 1, 1 thread", f"{t * 1e6:.1f} us/image"))
        torch.set_num_threads(2)
        t = median_seconds(lambda: model(x64), 10, 5)
        rows.append((name, "forward, batch 64, 2 threads", f"{64 / t:,.0f} images/s"))
    step = train_step(model, x64, labels)
    for threads in (2, 1):
        torch.set_num_threads(threads)
        t = median_seconds(step, 10, 3)
        rows.append((name, f"train step, batch 64, SGD, {threads} thread{'s' if threads > 1 else ''}", f"{64 / t:,.0f} images/s"))
    return rows


if __name__ == "__main__":
    print(f"PyTorch {torch.__version__}")
    rows = []
    for network in NETWORKS:
        model, shape = build(network)
        rows += bench(network, model, shape)
    for row in rows:
        print(f"| {row[0]} | {row[1]} | {row[2]} |")
