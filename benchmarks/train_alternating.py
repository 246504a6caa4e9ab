"""CnnGen's training against PyTorch 1.13's, in rounds that alternate, for the table's training ratio on a noisy machine.

Run with /usr/bin/python3 benchmarks/train_alternating.py BENCHMARKS_DLL [network ...] [--pairs N] [--seconds S] [--threads T]
after `dotnet build -c Release benchmarks/CnnGen.Benchmarks -o DIR` (BENCHMARKS_DLL is DIR/CnnGen.Benchmarks.dll).

The table measures PyTorch once, after the BenchmarkDotNet run: minutes apart from CnnGen's figures, on a machine whose
speed drifts by 10-20% between runs (benchmarks/README.md). Here each pair is PyTorch training the network for S seconds
in this process, then CnnGen for S seconds (`CnnGen.Benchmarks train-loop NETWORK T S`, a fresh process), on the same
T threads, batch 64, SGD with momentum and cross-entropy; both figures are the best 0.5 s round by the wall clock, as
train-loop reports it. Each pair gives a ratio; the median and the range of the pairs are printed.
"""
import argparse
import re
import statistics
import subprocess
import sys
import time

import torch

from export_onnx import NETWORKS, build
from pytorch_bench import train_step

# export_onnx's names -> train-loop's.
LOOP_NAMES = {"lenet5": "lenet", "cifar": "cifar", "resnet8": "resnet8", "mobilenetv2": "mobilenetv2", "strided": "strided"}
ROUND_SECONDS = 0.5


def pytorch_best(model, shape, threads, seconds):
    """Images/s of PyTorch's best round of about 0.5 s, over `seconds`, after a warm-up."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    step = train_step(model, torch.randn(64, *shape), torch.randint(0, 10, (64,)))
    for _ in range(5):
        step()
    best = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        steps = 0
        while True:
            step()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= ROUND_SECONDS:
                break
        best = max(best, steps * 64 / elapsed)
    return best


def cnngen_best(dll, network, threads, seconds):
    """Images/s of CnnGen's best round, as `train-loop` prints it."""
    result = subprocess.run(["dotnet", dll, "train-loop", LOOP_NAMES[network], str(threads), str(seconds)],
                            capture_output=True, text=True, check=True)
    match = re.search(r"([\d.]+) images/s \(best round", result.stdout)
    if match is None:
        raise SystemExit(f"train-loop {LOOP_NAMES[network]}: expected 'N images/s (best round', got: {result.stdout.strip()[-300:]}")
    return float(match.group(1))


def main(argv):
    parser = argparse.ArgumentParser(description="CnnGen's training against PyTorch's in alternating rounds.")
    parser.add_argument("dll", help="DIR/CnnGen.Benchmarks.dll of a Release build")
    parser.add_argument("networks", nargs="*", help=f"of {', '.join(NETWORKS)} (resnet8 and strided if none)")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    unknown = [name for name in args.networks if name not in NETWORKS]
    if unknown:
        parser.error(f"unknown network {unknown[0]}: expected one of {', '.join(NETWORKS)}")
    dll, names, pairs, seconds, threads = args.dll, args.networks or ["resnet8", "strided"], args.pairs, args.seconds, args.threads
    print(f"PyTorch {torch.__version__}; {pairs} pairs of {seconds} s each side, {threads} thread(s), batch 64")
    print("| network | PyTorch images/s, by pair | CnnGen images/s, by pair | ratio by pair | median ratio |")
    print("| --- | --- | --- | --- | --- |")
    for name in names:
        model, shape = build(name)
        ours, theirs = [], []
        for _ in range(pairs):
            theirs.append(pytorch_best(model, shape, threads, seconds))
            ours.append(cnngen_best(dll, name, threads, seconds))
        ratios = [a / b for a, b in zip(ours, theirs)]
        print(f"| {name} | {', '.join(f'{v:,.0f}' for v in theirs)} | {', '.join(f'{v:,.0f}' for v in ours)} | "
              f"{', '.join(f'{r:.2f}' for r in ratios)} | {statistics.median(ratios):.2f}x |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
