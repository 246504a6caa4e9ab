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


# The zoo's third-sweep designs (CnnGen.Benchmarks/ZooSweep3.cs) up to 3x64x64, layer for layer.
def basic_block(cin, cout, stride=1):
    """ResNet's post-activation basic block and its ReLU after the join; a 1x1 projection when the shape changes."""
    body = nn.Sequential(*conv_bn(cin, cout, 3, stride, 1), nn.ReLU(), *conv_bn(cout, cout, 3, 1, 1))
    shortcut = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if stride != 1 or cin != cout else None
    return [Residual(body, shortcut), nn.ReLU()]


def inverted_residual(cin, expanded, cout, kernel, stride, activation):
    """MobileNetV2's block: 1x1 expansion, depthwise, linear 1x1 projection; residual when the shape is kept."""
    layers = conv_bn(cin, expanded, 1) + [activation()] + conv_bn(expanded, expanded, kernel, stride, kernel // 2, expanded)
    layers += [activation()] + conv_bn(expanded, cout, 1)
    return [Residual(nn.Sequential(*layers))] if stride == 1 and cin == cout else layers


def preact_block(channels):
    """The pre-activation block with the identity shortcut."""
    return Residual(nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels), nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1, bias=False)))


def preact_down(cin, cout, stride):
    """A stage's first pre-activation block, on the input the preceding BatchNorm and ReLU pre-activated; a 1x1 projection shortcut."""
    body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False))
    # A one-layer Sequential all the same: the keys are CnnGen's ({i}.shortcut.0.weight), so its weight files load.
    return Residual(body, nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False)))


def head(channels):
    """Global average, Flatten and Linear onto the 10 classes."""
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10)]


def resnet20():
    layers = conv_bn(3, 16, 3, padding=1) + [nn.ReLU()]
    layers += basic_block(16, 16) + basic_block(16, 16) + basic_block(16, 16)
    layers += basic_block(16, 32, 2) + basic_block(32, 32) + basic_block(32, 32)
    layers += basic_block(32, 64, 2) + basic_block(64, 64) + basic_block(64, 64)
    return nn.Sequential(*layers, *head(64)), (3, 32, 32)


def mobilenet_v2_cifar():
    layers = conv_bn(3, 32, 3, padding=1) + [nn.ReLU6()] + conv_bn(32, 32, 3, 1, 1, 32) + [nn.ReLU6()] + conv_bn(32, 16, 1)
    layers += inverted_residual(16, 96, 24, 3, 1, nn.ReLU6) + inverted_residual(24, 144, 24, 3, 1, nn.ReLU6)
    layers += inverted_residual(24, 144, 32, 3, 2, nn.ReLU6) + inverted_residual(32, 192, 32, 3, 1, nn.ReLU6)
    layers += inverted_residual(32, 192, 64, 3, 2, nn.ReLU6) + inverted_residual(64, 384, 64, 3, 1, nn.ReLU6)
    layers += inverted_residual(64, 384, 96, 3, 1, nn.ReLU6) + conv_bn(96, 320, 1) + [nn.ReLU6()]
    return nn.Sequential(*layers, *head(320)), (3, 32, 32)


def all_cnn():
    layers = [nn.Conv2d(3, 96, 3, padding=1), nn.ReLU(), nn.Conv2d(96, 96, 3, padding=1), nn.ReLU(), nn.Conv2d(96, 96, 3, 2, 1), nn.ReLU(),
              nn.Conv2d(96, 192, 3, padding=1), nn.ReLU(), nn.Conv2d(192, 192, 3, padding=1), nn.ReLU(), nn.Conv2d(192, 192, 3, 2, 1), nn.ReLU(),
              nn.Conv2d(192, 192, 3), nn.ReLU(), nn.Conv2d(192, 192, 1), nn.ReLU(), nn.Conv2d(192, 10, 1), nn.ReLU()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten()), (3, 32, 32)


def vgg13_half():
    def conv(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
    layers = []
    for cin, cout in ((3, 32), (32, 64), (64, 128), (128, 256), (256, 256)):
        layers += conv(cin, cout) + conv(cout, cout) + [nn.MaxPool2d(2)]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)), (3, 32, 32)


def convnext_block(channels):
    return Residual(nn.Sequential(nn.Conv2d(channels, channels, 7, padding=3, groups=channels), nn.BatchNorm2d(channels),
                                  nn.Conv2d(channels, 4 * channels, 1), nn.GELU(), nn.Conv2d(4 * channels, channels, 1)))


def convnext(patch=2, size=32):
    layers = [nn.Conv2d(3, 48, patch, stride=patch), nn.BatchNorm2d(48), convnext_block(48), convnext_block(48)]
    layers += [nn.BatchNorm2d(48), nn.Conv2d(48, 96, 2, stride=2), convnext_block(96), convnext_block(96), nn.BatchNorm2d(96)]
    return nn.Sequential(*layers, *head(96)), (3, size, size)


def convnext14():
    return convnext(patch=4, size=56)


def yolo_tiny():
    layers = []
    for cin, cout in ((3, 16), (16, 32), (32, 64), (64, 128)):
        layers += conv_bn(cin, cout, 3, padding=1) + [nn.LeakyReLU(0.1), nn.MaxPool2d(2)]
    layers += conv_bn(128, 256, 3, padding=1) + [nn.LeakyReLU(0.1)] + conv_bn(256, 128, 1) + [nn.LeakyReLU(0.1)]
    return nn.Sequential(*layers, *head(128)), (3, 64, 64)


def efficientnet_lite():
    layers = conv_bn(3, 32, 3, padding=1) + [nn.SiLU()] + conv_bn(32, 32, 3, 1, 1, 32) + [nn.SiLU()] + conv_bn(32, 16, 1)
    layers += inverted_residual(16, 64, 24, 3, 2, nn.SiLU) + inverted_residual(24, 96, 24, 3, 1, nn.SiLU)
    layers += inverted_residual(24, 96, 48, 3, 2, nn.SiLU) + inverted_residual(48, 192, 48, 3, 1, nn.SiLU)
    layers += inverted_residual(48, 192, 96, 3, 2, nn.SiLU) + conv_bn(96, 384, 1) + [nn.SiLU()]
    return nn.Sequential(*layers, *head(384)), (3, 32, 32)


def lenet_1998():
    layers = [nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
              nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10)]
    return nn.Sequential(*layers), (1, 32, 32)


def strided_bn4():
    layers = []
    for cin, cout in ((3, 32), (32, 64), (64, 128), (128, 256)):
        layers += conv_bn(cin, cout, 3, 2, 1) + [nn.ReLU()]
    return nn.Sequential(*layers, *head(256)), (3, 32, 32)


def strided_bias4():
    layers = []
    for cin, cout in ((3, 16), (16, 32), (32, 64), (64, 128)):
        layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.ReLU()]
    return nn.Sequential(*layers, *head(128)), (3, 64, 64)


def resnet14():
    layers = conv_bn(3, 32, 3, padding=1) + [nn.ReLU()] + basic_block(32, 32) + basic_block(32, 32)
    layers += basic_block(32, 64, 2) + basic_block(64, 64) + basic_block(64, 128, 2) + basic_block(128, 128)
    return nn.Sequential(*layers, *head(128)), (3, 32, 32)


def mobilenet_v1_no_bn():
    def separable(cin, cout, stride):
        return [nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin), nn.ReLU(), nn.Conv2d(cin, cout, 1), nn.ReLU()]
    layers = [nn.Conv2d(3, 32, 3, padding=1), nn.ReLU()] + separable(32, 64, 1) + separable(64, 128, 2) + separable(128, 128, 1)
    layers += separable(128, 256, 2) + separable(256, 256, 1)
    return nn.Sequential(*layers, *head(256)), (3, 32, 32)


def keras_cifar():
    layers = [nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
              nn.Flatten(), nn.Linear(64 * 6 * 6, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10)]
    return nn.Sequential(*layers), (3, 32, 32)


def torch_tutorial():
    layers = [nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
              nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)]
    return nn.Sequential(*layers), (3, 32, 32)


def vgg_bn_after_relu():
    def conv(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(cout)]
    layers = conv(3, 32) + conv(32, 32) + [nn.MaxPool2d(2)] + conv(32, 64) + conv(64, 64) + [nn.MaxPool2d(2)]
    layers += conv(64, 128) + [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 10)]
    return nn.Sequential(*layers), (3, 32, 32)


def preact_resnet():
    layers = [nn.Conv2d(3, 32, 3, padding=1, bias=False), preact_block(32), preact_block(32), nn.BatchNorm2d(32), nn.ReLU()]
    layers += [preact_down(32, 64, 2), preact_block(64), nn.BatchNorm2d(64), nn.ReLU()]
    layers += [preact_down(64, 128, 2), preact_block(128), nn.BatchNorm2d(128), nn.ReLU()]
    return nn.Sequential(*layers, *head(128)), (3, 32, 32)


def wide_resnet16_4():
    layers = conv_bn(3, 16, 3, padding=1) + [nn.ReLU(), preact_down(16, 64, 1), preact_block(64), nn.BatchNorm2d(64), nn.ReLU()]
    layers += [preact_down(64, 128, 2), preact_block(128), nn.BatchNorm2d(128), nn.ReLU()]
    layers += [preact_down(128, 256, 2), preact_block(256), nn.BatchNorm2d(256), nn.ReLU()]
    return nn.Sequential(*layers, *head(256)), (3, 32, 32)


def mnasnet():
    layers = conv_bn(3, 32, 3, 2, 1) + [nn.ReLU()] + conv_bn(32, 32, 3, 1, 1, 32) + [nn.ReLU()] + conv_bn(32, 16, 1)
    layers += inverted_residual(16, 48, 24, 3, 2, nn.ReLU) + inverted_residual(24, 72, 24, 3, 1, nn.ReLU)
    layers += inverted_residual(24, 72, 40, 5, 2, nn.ReLU) + inverted_residual(40, 120, 40, 5, 1, nn.ReLU)
    layers += inverted_residual(40, 240, 80, 5, 2, nn.ReLU) + inverted_residual(80, 480, 80, 5, 1, nn.ReLU)
    layers += conv_bn(80, 320, 1) + [nn.ReLU()]
    return nn.Sequential(*layers, *head(320)), (3, 64, 64)

def resnet18_cifar():
    """The zoo's ResNet-18 for CIFAR (CnnGen.Benchmarks/ZooNetworks.cs): a 3x3 stem, four stages of two basic blocks."""
    layers = conv_bn(3, 64, 3, padding=1) + [nn.ReLU()] + basic_block(64, 64) + basic_block(64, 64)
    for cin, cout in ((64, 128), (128, 256), (256, 512)):
        layers += basic_block(cin, cout, 2) + basic_block(cout, cout)
    return nn.Sequential(*layers, *head(512)), (3, 32, 32)


# The zoo's fourth-sweep designs (CnnGen.Benchmarks/ZooSweep4.cs) with a classifier's output, layer for layer.
def alexnet():
    layers = [nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
              nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
              nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
              nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
              nn.Flatten(), nn.Dropout(), nn.Linear(256, 512), nn.ReLU(), nn.Dropout(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)]
    return nn.Sequential(*layers), (3, 64, 64)


def network_in_network():
    layers = [nn.Conv2d(3, 192, 5, padding=2), nn.ReLU(), nn.Conv2d(192, 160, 1), nn.ReLU(), nn.Conv2d(160, 96, 1), nn.ReLU(),
              nn.MaxPool2d(3, 2, 1), nn.Dropout(),
              nn.Conv2d(96, 192, 5, padding=2), nn.ReLU(), nn.Conv2d(192, 192, 1), nn.ReLU(), nn.Conv2d(192, 192, 1), nn.ReLU(),
              nn.AvgPool2d(3, 2, 1), nn.Dropout(),
              nn.Conv2d(192, 192, 3, padding=1), nn.ReLU(), nn.Conv2d(192, 192, 1), nn.ReLU(), nn.Conv2d(192, 10, 1), nn.ReLU(),
              nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), (3, 32, 32)


def conv_mixer():
    layers = [nn.Conv2d(3, 128, 2, stride=2), nn.GELU(), nn.BatchNorm2d(128)]
    for _ in range(4):
        layers += [Residual(nn.Sequential(nn.Conv2d(128, 128, 5, padding=2, groups=128), nn.GELU(), nn.BatchNorm2d(128))),
                   nn.Conv2d(128, 128, 1), nn.GELU(), nn.BatchNorm2d(128)]
    return nn.Sequential(*layers, *head(128)), (3, 32, 32)


def dcgan_discriminator():
    # DCGAN's discriminator on 3x64x64 (ZooSweep4.cs): 4x4 stride-2 convolutions with batch-norm and LeakyReLU(0.2), a 4x4
    # convolution onto one logit, sigmoid.
    def block(cin, cout, batch_norm=True):
        layers = [nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=False)]
        return layers + ([nn.BatchNorm2d(cout)] if batch_norm else []) + [nn.LeakyReLU(0.2)]
    layers = block(3, 64, batch_norm=False) + block(64, 128) + block(128, 256) + block(256, 512)
    return nn.Sequential(*layers, nn.Conv2d(512, 1, 4, bias=False), nn.Sigmoid(), nn.Flatten()), (3, 64, 64)


def dcgan_generator():
    # DCGAN's generator (ZooSweep4.cs): a 100-value code through 4x4 transposed convolutions, batch-norm, ReLU, tanh, onto
    # 3x64x64 (the loss, as train-loop's: cross-entropy over the 3 channels at each pixel, a label per pixel).
    def block(cin, cout, stride, padding):
        return [nn.ConvTranspose2d(cin, cout, 4, stride=stride, padding=padding, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    layers = block(100, 512, 1, 0) + block(512, 256, 2, 1) + block(256, 128, 2, 1) + block(128, 64, 2, 1)
    return nn.Sequential(*layers, nn.ConvTranspose2d(64, 3, 4, stride=2, padding=1, bias=False), nn.Tanh()), (100, 1, 1)


def mnist_resnet():
    layers = conv_bn(1, 32, 3, padding=1) + [nn.ReLU()] + basic_block(32, 32) + basic_block(32, 64, 2) + basic_block(64, 64)
    return nn.Sequential(*layers, *head(64)), (1, 28, 28)


NETWORKS = {"vgg": vgg, "vgg5": vgg5, "vgg11": vgg11, "mobilenet-v1": mobilenet_v1, "dilated": dilated, "gray": gray_wide_kernels, "resnet-stem": resnet_stem,
            "resnext": resnext, "mobilenet-v3": mobilenet_v3, "mobilenet-112": mobilenet_112, "bottlenecks": bottlenecks, "inception": inception,
            "densenet": densenet, "resnet-downsample": resnet_downsample,
            "resnet20": resnet20, "mbv2-cifar": mobilenet_v2_cifar, "allcnn": all_cnn, "vgg13-half": vgg13_half, "convnext": convnext,
            "convnext14": convnext14, "yolo-tiny": yolo_tiny, "efficientnet-lite": efficientnet_lite, "lenet1998": lenet_1998,
            "strided-bn4": strided_bn4, "strided-bias4": strided_bias4, "resnet14": resnet14, "mbv1-nobn": mobilenet_v1_no_bn,
            "keras-cifar": keras_cifar, "tutorial": torch_tutorial, "vgg-bn-after-relu": vgg_bn_after_relu, "preact": preact_resnet,
            "wrn16-4": wide_resnet16_4, "mnasnet": mnasnet, "resnet18": resnet18_cifar,
            "alexnet": alexnet, "nin": network_in_network, "convmixer": conv_mixer, "mnist-resnet": mnist_resnet, "dcgan": dcgan_discriminator,
            "dcgan-generator": dcgan_generator}


def train(name, threads, seconds=4.0):
    torch.manual_seed(0)
    model, shape = NETWORKS[name]()
    model.train()
    x = torch.randn(64, *shape)
    # As CnnGen's train-loop: a label among the network's outputs (DCGAN's one logit: class 0, the same work either way).
    out = model(x[:2])
    labels = torch.randint(0, out.shape[1], (64,) + tuple(out.shape[2:]))  # an image out: a label per pixel
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
