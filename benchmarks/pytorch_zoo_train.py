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


def conv_bn(cin, cout, kernel, stride=1, padding=0, groups=1):
    return [nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, groups=groups, bias=False), nn.BatchNorm2d(cout)]


class Concat(nn.Module):
    """Branches over the same input, concatenated along channels (CnnGen's [Concat] [Branch] ... [End]); an empty branch is x."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], dim=1)


# The zoo's second-sweep designs (CnnGen.Benchmarks/ZooSweep2.cs, ZooSharedNetworks.cs), layer for layer.
def resnext():
    def block(cin, width, cout, groups, stride=1):
        body = nn.Sequential(*conv_bn(cin, width, 1), nn.ReLU(), *conv_bn(width, width, 3, stride, 1, groups), nn.ReLU(),
                             *conv_bn(width, cout, 1))
        shortcut = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if stride != 1 or cin != cout else None
        return [Residual(body, shortcut), nn.ReLU()]
    layers = conv_bn(3, 64, 3, padding=1) + [nn.ReLU()] + block(64, 128, 64, 32) + block(64, 128, 128, 8, 2) + block(128, 128, 128, 4)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10)), (3, 32, 32)


def mobilenet_v3():
    layers = conv_bn(3, 16, 3, 2, 1) + [nn.Hardswish()]
    layers += [Residual(nn.Sequential(*conv_bn(16, 16, 3, 1, 1, 16), nn.ReLU6(), *conv_bn(16, 16, 1)))]
    layers += conv_bn(16, 72, 1) + [nn.ReLU6()] + conv_bn(72, 72, 5, 2, 2, 72) + [nn.ReLU6()] + conv_bn(72, 40, 1)
    layers += [Residual(nn.Sequential(*conv_bn(40, 120, 1), nn.Hardswish(), *conv_bn(120, 120, 5, 1, 2, 120), nn.Hardswish(), *conv_bn(120, 40, 1)))]
    layers += conv_bn(40, 240, 1) + [nn.Hardswish()] + conv_bn(240, 240, 5, 2, 2, 240) + [nn.Hardswish()] + conv_bn(240, 80, 1)
    layers += conv_bn(80, 480, 1) + [nn.Hardswish(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(480, 128), nn.Hardswish(), nn.Linear(128, 10)]
    return nn.Sequential(*layers), (3, 64, 64)


def mobilenet_112():
    def separable(cin, cout, stride):
        return conv_bn(cin, cin, 3, stride, 1, cin) + [nn.ReLU()] + conv_bn(cin, cout, 1) + [nn.ReLU()]
    layers = conv_bn(3, 16, 3, 2, 1) + [nn.ReLU()] + separable(16, 32, 1) + separable(32, 64, 2) + separable(64, 128, 2)
    layers += separable(128, 128, 1) + separable(128, 256, 2) + separable(256, 256, 1)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 10)), (3, 112, 112)


def bottlenecks():
    first = Residual(nn.Sequential(*conv_bn(256, 64, 1), nn.ReLU(), *conv_bn(64, 64, 3, 1, 1), nn.ReLU(), *conv_bn(64, 256, 1)))
    second = Residual(nn.Sequential(*conv_bn(256, 128, 1), nn.ReLU(), *conv_bn(128, 128, 3, 2, 1), nn.ReLU(), *conv_bn(128, 512, 1)),
                      nn.Sequential(*conv_bn(256, 512, 1, 2)))
    layers = [first, nn.ReLU(), second, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Conv2d(512, 128, 1), nn.ReLU(), nn.Flatten(), nn.Linear(128, 10)]
    return nn.Sequential(*layers), (256, 14, 14)


def inception():
    def block(cin, ones, reduce3, out3, reduce5, out5, pooled):
        return Concat(nn.Sequential(nn.Conv2d(cin, ones, 1), nn.ReLU()),
                      nn.Sequential(nn.Conv2d(cin, reduce3, 1), nn.ReLU(), nn.Conv2d(reduce3, out3, (1, 3), padding=(0, 1)), nn.ReLU(),
                                    nn.Conv2d(out3, out3, (3, 1), padding=(1, 0)), nn.ReLU()),
                      nn.Sequential(nn.Conv2d(cin, reduce5, 1), nn.ReLU(), nn.Conv2d(reduce5, out5, 5, padding=2), nn.ReLU()),
                      nn.Sequential(nn.AvgPool2d(3, 1, 1), nn.Conv2d(cin, pooled, 1), nn.ReLU()))
    layers = conv_bn(3, 32, 3, padding=1) + [nn.ReLU(), block(32, 16, 16, 24, 8, 16, 16), nn.MaxPool2d(2), block(72, 32, 32, 48, 16, 32, 32)]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(144, 10)), (3, 32, 32)


def densenet():
    def grow(cin):
        return Concat(nn.Identity(), nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, 48, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU(),
                                                   nn.Conv2d(48, 12, 3, padding=1, bias=False)))
    layers = [nn.Conv2d(3, 24, 3, padding=1, bias=False), grow(24), grow(36), grow(48)]
    layers += [nn.BatchNorm2d(60), nn.ReLU(), nn.Conv2d(60, 30, 1, bias=False), nn.AvgPool2d(2), grow(30), grow(42)]
    return nn.Sequential(*layers, nn.BatchNorm2d(54), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(54, 10)), (3, 32, 32)


def resnet_downsample():
    block1 = Residual(nn.Sequential(*conv_bn(32, 32, 3, 1, 1), nn.ReLU(), *conv_bn(32, 32, 3, 1, 1)))
    block2 = Residual(nn.Sequential(*conv_bn(32, 64, 3, 2, 1), nn.ReLU(), *conv_bn(64, 64, 3, 1, 1)), nn.Sequential(*conv_bn(32, 64, 1, 2)))
    layers = conv_bn(3, 32, 7, 2, 3) + [nn.ReLU(), nn.MaxPool2d(3, 2, 1), block1, nn.ReLU(), block2, nn.ReLU()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)), (3, 112, 112)


NETWORKS = {"vgg": vgg, "vgg5": vgg5, "vgg11": vgg11, "mobilenet-v1": mobilenet_v1, "dilated": dilated, "gray": gray_wide_kernels, "resnet-stem": resnet_stem,
            "resnext": resnext, "mobilenet-v3": mobilenet_v3, "mobilenet-112": mobilenet_112, "bottlenecks": bottlenecks, "inception": inception,
            "densenet": densenet, "resnet-downsample": resnet_downsample}


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
    print(f"{name} train step, {threads} thread(s): {rates[len(rates) // 2]:.0f} images/s (median round), {min(cpus) * 1e6:.1f} us CPU per image (best round), "
          f"{sum(p.numel() for p in model.parameters())} parameters")


if __name__ == "__main__":
    for name in sys.argv[1:] or NETWORKS:
        for threads in (1, 2):
            train(name, threads)
