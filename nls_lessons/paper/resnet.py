"""CIFAR networks for the paper-scale lesson: the official ResNet-34 and a fast ResNet-9.

Lesson 05 (paper scale).

* :class:`ResNet` / :func:`resnet34` is the network of the official code
  (``UCSC-REAL/negative-label-smoothing``, itself the widely used CIFAR ResNet of
  kuangliu/pytorch-cifar): BasicBlock stages [3, 4, 6, 3] with 64/128/256/512 channels,
  a 3x3 stride-1 stem, **no** max-pool, a 4x4 average pool and one linear layer.
  About 21.3 M parameters for 10 classes.
* :class:`FastNet` / :func:`fastnet` is a small ResNet-style net in the spirit of the fast
  CIFAR-10 training literature (Page's DAWNBench ResNet-9, hlb-CIFAR10, airbench):
  conv -> max-pool -> BatchNorm -> GELU groups, two residual groups, a global max-pool and a
  scaled linear head. It trains to useful accuracy in a handful of epochs; its width is a
  parameter so that the same recipe runs as a toy on a CPU.

Both take ``(N, 3, 32, 32)`` float images and return ``(N, num_classes)`` logits; both
work with ``channels_last`` and autocast (see :func:`prepare_model`).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MODELS = ("resnet34", "fastnet")


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm and a (projected) identity shortcut."""

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """CIFAR ResNet: 3x3 stride-1 stem, four BasicBlock stages, 4x4 average pool, linear."""

    def __init__(self, num_blocks=(3, 4, 6, 3), num_classes: int = 10):
        super().__init__()
        _check_classes(num_classes)
        if len(num_blocks) != 4 or any(int(b) < 1 for b in num_blocks):
            raise ValueError(f"num_blocks must be four positive integers, got {num_blocks!r}")
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._make_layer(64, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(128, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(256, num_blocks[2], stride=2)
        self.layer4 = self._make_layer(512, num_blocks[3], stride=2)
        self.linear = nn.Linear(512 * BasicBlock.expansion, num_classes)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (int(blocks) - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes * BasicBlock.expansion
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.flatten(1))


def resnet34(num_classes: int = 10) -> ResNet:
    """The official code's ``ResNet34(num_classes)``: BasicBlock [3, 4, 6, 3] (~21.3 M params)."""
    return ResNet((3, 4, 6, 3), num_classes)


def _conv_bn(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.GELU()]


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(*_conv_bn(channels, channels), *_conv_bn(channels, channels))

    def forward(self, x):
        return x + self.body(x)


class FastNet(nn.Module):
    """A ResNet-9-style CIFAR net (DAWNBench / hlb-CIFAR10 / airbench family).

    prep conv (w0) -> [conv, max-pool, BN, GELU] (w1) + residual -> [conv, pool] (w2)
    -> [conv, pool] (w3) + residual -> global max-pool -> linear (scaled by ``head_scale``).

    Args:
        num_classes: K.
        widths: the four channel widths (w0, w1, w2, w3). The default (64, 128, 256, 512) is
            Page's ResNet-9 (6.6 M parameters); ``(16, 32, 64, 128)`` is a CPU toy.
        head_scale: multiplies the logits (0.125 in the ResNet-9 recipe), which keeps the
            initial softmax soft and lets large learning rates work.
    """

    def __init__(self, num_classes: int = 10, widths=(64, 128, 256, 512), head_scale: float = 0.125):
        super().__init__()
        _check_classes(num_classes)
        if len(widths) != 4 or any(int(w) < 1 for w in widths):
            raise ValueError(f"widths must be four positive integers, got {widths!r}")
        w0, w1, w2, w3 = (int(w) for w in widths)

        def group(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.MaxPool2d(2),
                    nn.BatchNorm2d(c_out), nn.GELU()]

        self.features = nn.Sequential(
            *_conv_bn(3, w0),
            *group(w0, w1), _Residual(w1),
            *group(w1, w2),
            *group(w2, w3), _Residual(w3),
            nn.AdaptiveMaxPool2d(1), nn.Flatten(),
        )
        self.head = nn.Linear(w3, num_classes, bias=False)
        self.head_scale = float(head_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x)
        return self.head(self.features(x)) * self.head_scale


def fastnet(num_classes: int = 10, widths=(64, 128, 256, 512)) -> FastNet:
    """The fast protocol's network (see :class:`FastNet`)."""
    return FastNet(num_classes, widths)


def build_model(name: str, num_classes: int = 10, widths=None) -> nn.Module:
    """``"resnet34"`` or ``"fastnet"`` (``widths`` only applies to the fast net)."""
    if name == "resnet34":
        if widths is not None:
            raise ValueError("widths applies to the fast net only; ResNet-34 has fixed widths")
        return resnet34(num_classes)
    if name == "fastnet":
        return fastnet(num_classes, widths or (64, 128, 256, 512))
    raise ValueError(f"model must be one of {MODELS}, got {name!r}")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def prepare_model(model: nn.Module, device: torch.device, channels_last: bool = False) -> nn.Module:
    """Move to ``device``; with ``channels_last`` on CUDA also switch to the channels-last
    memory format (faster convolutions with tensor cores; the ``fast`` protocol's default,
    opt-in for the official recipes, which run in the default layout). On CPU the model is
    always left in the default layout."""
    model = model.to(device)
    if channels_last and device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    return model


def init_parameters(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-initialise ``model`` in place from ``generator``, with PyTorch's default scheme.

    Conv2d / Linear weights: Kaiming-uniform with ``a = sqrt(5)`` (bound ``1/sqrt(fan_in)``),
    biases uniform in ``±1/sqrt(fan_in)``; BatchNorm: weight 1, bias 0, fresh running
    statistics. The same distribution as ``nn.Module`` construction, but drawn from an explicit
    generator, so models built in threads never share torch's global random state. Returns
    ``model``.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
                if m.bias is not None:
                    fan_in = m.weight[0].numel()
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()
    return model


def autocast(device: torch.device, enabled: bool = True):
    """Mixed precision on CUDA (bf16 where supported, else fp16); a no-op on CPU.

    Use as ``with autocast(device): loss = ...``. fp16 needs a gradient scaler
    (:func:`grad_scaler`); bf16 does not.
    """
    if device.type != "cuda" or not enabled:
        return torch.autocast("cpu", enabled=False)
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


def grad_scaler(device: torch.device, enabled: bool = True):
    """A ``torch.amp.GradScaler`` that is active only for fp16 autocast on CUDA."""
    active = device.type == "cuda" and enabled and not torch.cuda.is_bf16_supported()
    return torch.amp.GradScaler("cuda" if device.type == "cuda" else "cpu", enabled=active)


def _check_classes(num_classes) -> None:
    if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")


def _check_images(x: torch.Tensor) -> None:
    if x.dim() != 4 or x.shape[1] != 3 or x.shape[-2:] != (32, 32):
        raise ValueError(f"expected CIFAR-shaped images (N, 3, 32, 32), got {tuple(x.shape)}")
