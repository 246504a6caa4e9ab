"""PyTorch 1.13 training the zoo's networks (CnnGen.Benchmarks/ZooNetworks.cs) at batch 64, SGD with momentum, against
`CnnGen.Benchmarks -- train-loop NAME THREADS SECONDS`.

Run with /usr/bin/python3 benchmarks/pytorch_zoo_train.py [name ...]. For each network and thread count: images/s by the
wall clock (median of rounds) and CPU µs per image of this process (best round), the second comparable on a busy machine.
"""
import sys
import time

import torch
import torch.nn as nn


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def vgg():
    layers = conv_bn_relu(3, 64) + conv_bn_relu(64, 64) + [nn.MaxPool2d(2)]
    layers += conv_bn_relu(64, 128) + conv_bn_relu(128, 128) + [nn.MaxPool2d(2)]
    layers += conv_bn_relu(128, 256) + [nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 10)]
    return nn.Sequential(*layers), (3, 32, 32)


def vgg5():
    layers = conv_bn_relu(3, 32) + conv_bn_relu(32, 32) + [nn.MaxPool2d(2)]
    layers += conv_bn_relu(32, 64) + conv_bn_relu(64, 64) + [nn.MaxPool2d(2)]
    layers += conv_bn_relu(64, 128) + [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128 * 4 * 4, 10)]
    return nn.Sequential(*layers), (3, 32, 32)


def vgg11():
    layers = conv_bn_relu(3, 64) + [nn.MaxPool2d(2)] + conv_bn_relu(64, 128) + [nn.MaxPool2d(2)]
    layers += conv_bn_relu(128, 256) + conv_bn_relu(256, 256) + [nn.MaxPool2d(2)]
    layers += conv_bn_relu(256, 512) + conv_bn_relu(512, 512) + [nn.MaxPool2d(2)]
    layers += conv_bn_relu(512, 512) + conv_bn_relu(512, 512) + [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers), (3, 32, 32)


class Residual(nn.Module):
    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x):
        return self.body(x) + (x if self.shortcut is None else self.shortcut(x))


def resnet_stem():
    block1 = Residual(nn.Sequential(*conv_bn_relu(64, 64), nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64)))
    block2 = Residual(
        nn.Sequential(nn.Conv2d(64, 128, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
                      nn.Conv2d(128, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128)),
        nn.Sequential(nn.Conv2d(64, 128, 1, stride=2, bias=False), nn.BatchNorm2d(128)))
    layers = [nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
              block1, nn.ReLU(), block2, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10)]
    return nn.Sequential(*layers), (3, 64, 64)


def mobilenet_v1():
    def separable(cin, cout, stride):
        return [nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    layers = conv_bn_relu(3, 32) + separable(32, 64, 1) + separable(64, 128, 2) + separable(128, 128, 1)
    layers += separable(128, 256, 2) + separable(256, 256, 1) + [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 10)]
    return nn.Sequential(*layers), (3, 32, 32)


def dilated():
    layers = [nn.Conv2d(3, 32, 3, padding=1), nn.SiLU(), nn.Conv2d(32, 32, 3, padding=2, dilation=2), nn.SiLU(),
              nn.Conv2d(32, 64, 3, padding=4, dilation=4), nn.SiLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers), (3, 32, 32)


def gray_wide_kernels():
    layers = [nn.Conv2d(1, 16, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(16), nn.Tanh(),
              nn.Conv2d(16, 32, 5, stride=2, padding=2, bias=False), nn.BatchNorm2d(32), nn.Tanh(),
              nn.Conv2d(32, 64, 5, padding=2, bias=False), nn.BatchNorm2d(64), nn.Tanh(), nn.MaxPool2d(2),
              nn.Flatten(), nn.Linear(64 * 8 * 8, 10)]
    return nn.Sequential(*layers), (1, 64, 64)


NETWORKS = {"vgg": vgg, "vgg5": vgg5, "vgg11": vgg11, "mobilenet-v1": mobilenet_v1, "dilated": dilated, "gray": gray_wide_kernels, "resnet-stem": resnet_stem}


def train(name, threads, seconds=4.0):
    torch.manual_seed(0)
    model, shape = NETWORKS[name]()
    model.train()
    x = torch.randn(64, *shape)
    labels = torch.randint(0, 10, (64,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    torch.set_num_threads(threads)

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), labels).backward()
        optimizer.step()

    for _ in range(3):
        step()
    rates, cpus = [], []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        wall, cpu, steps = time.perf_counter(), time.process_time(), 0
        while time.perf_counter() - wall < 0.5:
            step()
            steps += 1
        rates.append(steps * 64 / (time.perf_counter() - wall))
        cpus.append((time.process_time() - cpu) / (steps * 64))
    rates.sort()
    print(f"{name} train step, {threads} thread(s): {rates[len(rates) // 2]:.0f} images/s (median round), {min(cpus) * 1e6:.1f} us CPU per image (best round)")


if __name__ == "__main__":
    for name in sys.argv[1:] or NETWORKS:
        for threads in (1, 2):
            train(name, threads)
