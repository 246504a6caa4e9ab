"""Exports the benchmark networks to ONNX for ONNX Runtime (run with Debian's /usr/bin/python3; PyTorch 1.13).

The networks are the ones declared in CnnGen.Benchmarks/Networks.cs. Weights are PyTorch's default initialization
from a fixed seed: speed does not depend on them. Output: models/lenet5.onnx, models/cifar.onnx (batch axis dynamic).
"""
import os
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def cifar():
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(
        *block(3, 32), *block(32, 32), nn.MaxPool2d(2),
        *block(32, 64), *block(64, 64), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 10))


def export(model, shape, name):
    torch.manual_seed(0)
    model.eval()
    path = os.path.join(HERE, "models", name + ".onnx")
    torch.onnx.export(model, torch.randn(1, *shape), path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=13)
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    torch.manual_seed(0)
    export(lenet5(), (1, 28, 28), "lenet5")
    torch.manual_seed(0)
    export(cifar(), (3, 32, 32), "cifar")
