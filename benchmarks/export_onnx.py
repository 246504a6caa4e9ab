"""Exports the benchmark networks for ONNX Runtime and CnnGen (run with Debian's /usr/bin/python3; PyTorch 1.13).

The networks are the ones declared in CnnGen.Benchmarks/Networks.cs, built from the same PyTorch modules as
tests/fixtures/make_fixtures.py (DESIGN.md's Residual), so state_dict keys are CnnGen's tensor names. Weights are
PyTorch's default initialization from a fixed seed, with the batch-norm running statistics and affine parameters
drawn at random (so folding them is not a no-op); speed does not depend on them. For each network this writes
models/<name>.onnx (opset 17, batch axis dynamic) and models/<name>.safetensors (the state_dict, which CnnGen loads),
so both engines run the same weights; the benchmark checks their outputs agree before timing.
"""
import json
import os
import struct
from collections import OrderedDict

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Residual(nn.Module):
    """DESIGN.md's Residual: y = body(x) + shortcut(x); no shortcut = identity."""

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = nn.Sequential(*body)
        self.shortcut = nn.Sequential(*shortcut) if shortcut is not None else None

    def forward(self, x):
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


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


def resnet8():
    """tests/CnnGen.Tests/FixtureNetworks.cs ResNet8 (3x32x32)."""
    def conv(cin, cout, k=3, stride=1, padding=1):
        return nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)
    return nn.Sequential(
        conv(3, 16), nn.BatchNorm2d(16), nn.ReLU(),
        Residual([conv(16, 16), nn.BatchNorm2d(16), nn.ReLU(), conv(16, 16), nn.BatchNorm2d(16)]),
        nn.ReLU(),
        Residual([conv(16, 32, stride=2), nn.BatchNorm2d(32), nn.ReLU(), conv(32, 32), nn.BatchNorm2d(32)],
                 [conv(16, 32, 1, 2, 0), nn.BatchNorm2d(32)]),
        nn.ReLU(),
        Residual([conv(32, 64, stride=2), nn.BatchNorm2d(64), nn.ReLU(), conv(64, 64), nn.BatchNorm2d(64)],
                 [conv(32, 64, 1, 2, 0), nn.BatchNorm2d(64)]),
        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def mobilenetv2():
    """tests/CnnGen.Tests/FixtureNetworks.cs MobileNetV2 (3x32x32)."""
    def conv(cin, cout, k, stride=1, padding=0, groups=1, dilation=1):
        return nn.Conv2d(cin, cout, k, stride=stride, padding=padding, groups=groups, dilation=dilation, bias=False)
    return nn.Sequential(
        conv(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU6(),
        Residual([conv(16, 64, 1), nn.BatchNorm2d(64), nn.ReLU6(),
                  conv(64, 64, 3, padding=1, groups=64), nn.BatchNorm2d(64), nn.ReLU6(),
                  conv(64, 16, 1), nn.BatchNorm2d(16)]),
        conv(16, 64, 1), nn.BatchNorm2d(64), nn.ReLU6(),
        conv(64, 64, 3, 2, 1, groups=64), nn.BatchNorm2d(64), nn.ReLU6(),
        conv(64, 24, 1), nn.BatchNorm2d(24),
        Residual([conv(24, 96, 1), nn.BatchNorm2d(96), nn.ReLU6(),
                  conv(96, 96, 3, padding=2, dilation=2, groups=96), nn.BatchNorm2d(96), nn.ReLU6(),
                  conv(96, 24, 1), nn.BatchNorm2d(24)]),
        conv(24, 64, 1, groups=4), nn.BatchNorm2d(64), nn.Hardswish(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 32), nn.GELU(approximate="tanh"), nn.Linear(32, 10))


def strided():
    """Three stride-2 3x3 convolutions with batch-norm on 3x64x64 (3 -> 32 -> 64 -> 128), global pooling, Linear(10)."""
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 128),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))


# name -> (constructor, per-sample input shape)
NETWORKS = OrderedDict([
    ("lenet5", (lenet5, (1, 28, 28))),
    ("cifar", (cifar, (3, 32, 32))),
    ("resnet8", (resnet8, (3, 32, 32))),
    ("mobilenetv2", (mobilenetv2, (3, 32, 32))),
    ("strided", (strided, (3, 64, 64))),
])


def build(name):
    """The network with its benchmark weights (seeded: the same every call)."""
    make, shape = NETWORKS[name]
    torch.manual_seed(0)
    model = make()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    return model, shape


def write_safetensors(path, tensors):
    """tensors: OrderedDict name -> float32 or int64 tensor (the writer of tests/fixtures/make_fixtures.py)."""
    header, blobs, offset = OrderedDict(), [], 0
    header["__metadata__"] = {"origin": "benchmarks/export_onnx.py", "pytorch": torch.__version__}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.float32:
            dtype, data = "F32", t.numpy().astype("<f4", copy=False).tobytes()
        elif t.dtype == torch.int64:
            dtype, data = "I64", t.numpy().astype("<i8", copy=False).tobytes()
        else:
            raise TypeError(f"{name}: unsupported dtype {t.dtype}")
        header[name] = OrderedDict([("dtype", dtype), ("shape", list(t.shape)), ("data_offsets", [offset, offset + len(data)])])
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def export(name):
    model, shape = build(name)
    model.eval()
    base = os.path.join(HERE, "models", name)
    torch.onnx.export(model, torch.randn(1, *shape), base + ".onnx", input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17)
    write_safetensors(base + ".safetensors", model.state_dict())
    print(base + ".onnx", os.path.getsize(base + ".onnx"), "bytes;", base + ".safetensors",
          os.path.getsize(base + ".safetensors"), "bytes")


if __name__ == "__main__":
    for network in NETWORKS:
        export(network)
