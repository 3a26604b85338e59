"""Small models, in two forms: a plain ``nn.Module`` and a *stacked* version that trains
many copies at once. Lessons 02-04 (linear softmax, MLP on digits and the 2-D toys),
lesson 04 (1-D CNN on mnist1d).

Stacking. A sweep trains S seeds x G configurations (noise rate, smooth rate) of one
architecture. :class:`Stacked` keeps every parameter of the plain module with two extra
leading axes, ``(S, G, *shape)``, so model (s, g) is ``{name: p[s, g]}``. All G models of a
seed see the same mini-batch, so the first layer multiplies each seed's batch once with the
weights of all its G models (one ``baddbmm`` per layer for every model of the grid). The
parameters are ordinary leaf tensors: ``torch.optim.Adam(stacked.parameters())`` updates
every element independently, which is exactly one Adam per model.

Initialisation: model (s, g) starts from PyTorch's default initialisation of the plain
module (kaiming-uniform weights and uniform biases, as ``nn.Linear`` / ``nn.Conv1d``), drawn
from an explicit ``torch.Generator`` seeded with s (see :func:`plain_model`), the same for
every g. No global random state is read or written, so models built in threads or on Dask
workers are the ones built alone, bit for bit.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ARCHITECTURES = ("linear", "mlp", "cnn")
DEFAULT_HIDDEN = 128      # MLP hidden units
DEFAULT_CHANNELS = 32     # CNN channels per layer
_KERNEL = 5


def check_architecture(model: str) -> str:
    if not isinstance(model, str) or model not in ARCHITECTURES:
        raise ValueError(f"model must be one of {ARCHITECTURES}, got {model!r}")
    return model


def _check_int(value, name: str, low: int) -> int:
    from .checks import check_integer

    return check_integer(value, name, low)


def _check_sizes(in_features, num_classes, hidden, channels) -> None:
    _check_int(in_features, "in_features", 1)
    _check_int(num_classes, "num_classes", 2)
    _check_int(hidden, "hidden", 1)
    _check_int(channels, "channels", 1)


def _check_seed(seed, name: str = "seed") -> int:
    from .checks import check_seed
    return check_seed(seed, name)


def _cnn_lengths(length: int) -> tuple[int, int, int]:
    """Sequence lengths after the three conv layers (stride 1, 2, 2; kernel 5, padding 2)."""
    l2 = (length - 1) // 2 + 1
    return length, l2, (l2 - 1) // 2 + 1


def plain_model(model: str, in_features: int, num_classes: int, seed: int, *,
                hidden: int = DEFAULT_HIDDEN, channels: int = DEFAULT_CHANNELS) -> nn.Module:
    """One model as an ordinary ``nn.Module`` on the CPU, initialised as PyTorch's defaults
    but drawn from an explicit ``torch.Generator`` seeded with ``seed``.

    Args:
        model: "linear" (softmax regression, ``nn.Linear(D, K)``), "mlp" (one hidden
            ReLU layer of ``hidden`` units) or "cnn" (three 1-D conv layers of ``channels``
            channels, kernel 5, strides 1, 2, 2, then a linear layer; input (N, D) is read
            as a 1-channel sequence of length D, e.g. mnist1d's 40).
        in_features: D >= 1, the number of input features.
        num_classes: K >= 2.
        seed: initialisation seed, an integer >= 0.

    Maps (N, D) float inputs to (N, K) logits. Every layer is initialised in order as
    ``nn.Linear``/``nn.Conv1d`` do (weights kaiming-uniform with a = sqrt(5), i.e. uniform in
    +-1/sqrt(fan_in), biases uniform in +-1/sqrt(fan_in)), from one generator: the numbers
    equal PyTorch's default initialisation under ``torch.manual_seed(seed)``, without touching
    the global random state (safe in threads).
    """
    check_architecture(model)
    _check_sizes(in_features, num_classes, hidden, channels)
    gen = torch.Generator().manual_seed(_check_seed(seed))
    net = _skeleton(model, in_features, num_classes, hidden, channels).to_empty(device="cpu")
    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, (nn.Linear, nn.Conv1d)):
                # nn.Linear.reset_parameters / nn.Conv1d.reset_parameters, with a generator
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=gen)
                bound = 1 / math.sqrt(layer.weight[0].numel())          # 1 / sqrt(fan_in)
                nn.init.uniform_(layer.bias, -bound, bound, generator=gen)
    return net


def _skeleton(model: str, in_features: int, num_classes: int, hidden: int, channels: int) -> nn.Module:
    """The architecture with uninitialised parameters (built on the meta device: no RNG draws)."""
    meta = torch.device("meta")
    if model == "linear":
        return nn.Linear(in_features, num_classes, device=meta)
    if model == "mlp":
        return nn.Sequential(nn.Linear(in_features, hidden, device=meta), nn.ReLU(),
                             nn.Linear(hidden, num_classes, device=meta))
    c, l3 = channels, _cnn_lengths(in_features)[2]
    return nn.Sequential(
        nn.Unflatten(1, (1, in_features)),
        nn.Conv1d(1, c, _KERNEL, padding=2, device=meta), nn.ReLU(),
        nn.Conv1d(c, c, _KERNEL, stride=2, padding=2, device=meta), nn.ReLU(),
        nn.Conv1d(c, c, _KERNEL, stride=2, padding=2, device=meta), nn.ReLU(),
        nn.Flatten(), nn.Linear(c * l3, num_classes, device=meta),
    )


def _dense_shared(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """A linear layer of G models per seed applied to their seed's shared batch.

    x: (S, B, D); weight: (S, G, O, D); bias: (S, G, O) -> (S, G, O, B), class-major.
    One ``baddbmm`` per seed: [W_1; ...; W_G] @ x^T.
    """
    s, g, o, d = weight.shape
    out = torch.baddbmm(bias.reshape(s, g * o, 1), weight.reshape(s, g * o, d), x.transpose(1, 2))
    return out.view(s, g, o, x.shape[1])


def _dense(h: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """A linear layer per model: h (S, G, D, B); weight (S, G, O, D); bias (S, G, O) -> (S, G, O, B)."""
    s, g, o, d = weight.shape
    out = torch.baddbmm(bias.reshape(s * g, o, 1), weight.reshape(s * g, o, d), h.reshape(s * g, d, -1))
    return out.view(s, g, o, -1)


class Stacked:
    """S x G models of one architecture as stacked leaf tensors (lesson 04's sweep engine).

    Args:
        model, in_features, num_classes, hidden, channels: as :func:`plain_model`.
        seeds: the S initialisation seeds (a non-empty sequence of integers >= 0).
        groups: G >= 1, the number of models that share each seed (its configurations).
        device: where the parameters live (they are drawn on the CPU, then moved, so every
            device starts from the same numbers).

    Call it on a batch ``x`` of shape (S, B, D) (one batch per seed, shared by that seed's
    G models) or (B, D) (one batch for every model, e.g. the test set) to get logits of
    shape (S, G, B, K). :meth:`class_major` gives the same numbers laid out (S, G, K, B),
    the layout the sweep engine computes in (on CPU a softmax over a short *last* axis is
    about 20x slower than over the middle one). ``parameters()`` gives the leaf tensors for a ``torch.optim``
    optimiser; ``module(s, g)`` copies model (s, g) out into a plain ``nn.Module``.
    """

    def __init__(self, model: str, in_features: int, num_classes: int, seeds, groups: int, *,
                 device="cpu", hidden: int = DEFAULT_HIDDEN, channels: int = DEFAULT_CHANNELS):
        check_architecture(model)
        _check_sizes(in_features, num_classes, hidden, channels)
        if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
            raise ValueError(f"seeds must be a non-empty sequence of integers >= 0, got {seeds!r}")
        seeds = [_check_seed(s, "seeds") for s in seeds]
        if not seeds:
            raise ValueError("seeds must be a non-empty sequence of integers >= 0, got an empty one")
        self.model, self.in_features, self.num_classes = model, int(in_features), int(num_classes)
        self.seeds, self.groups = seeds, _check_int(groups, "groups", 1)
        self.hidden, self.channels = int(hidden), int(channels)
        plains = [self._plain(s) for s in self.seeds]
        self.params: dict[str, Tensor] = {}
        for name, first in plains[0].named_parameters():
            per_seed = torch.stack([dict(p.named_parameters())[name].detach() for p in plains])
            stacked = per_seed.unsqueeze(1).expand(len(self.seeds), self.groups, *first.shape)
            self.params[name] = stacked.to(device, copy=True).contiguous().requires_grad_(True)

    def _plain(self, seed: int) -> nn.Module:
        return plain_model(self.model, self.in_features, self.num_classes, seed,
                           hidden=self.hidden, channels=self.channels)

    @property
    def shape(self) -> tuple[int, int]:
        """(S, G)."""
        return len(self.seeds), self.groups

    def parameters(self) -> list[Tensor]:
        return list(self.params.values())

    def __call__(self, x: Tensor) -> Tensor:
        return self.class_major(x).transpose(-1, -2)

    def class_major(self, x: Tensor) -> Tensor:
        """Logits of shape (S, G, K, B) for x of shape (S, B, D) or (B, D)."""
        s = len(self.seeds)
        if x.dim() == 2:                      # one batch for all seeds
            x = x.unsqueeze(0).expand(s, *x.shape)
        if x.dim() != 3 or x.shape[0] != s or x.shape[2] != self.in_features:
            raise ValueError(f"x must have shape (S={s}, B, D={self.in_features}) or (B, D), "
                             f"got {tuple(x.shape)}")
        p = self.params
        if self.model == "linear":
            return _dense_shared(x, p["weight"], p["bias"])
        if self.model == "mlp":
            h = torch.relu(_dense_shared(x, p["0.weight"], p["0.bias"]))
            return _dense(h, p["2.weight"], p["2.bias"])
        return self._cnn(x)

    def _cnn(self, x: Tensor) -> Tensor:
        """Grouped convolutions: seed s's batch is input channel s; model (s, g)'s filters
        are output group s*G + g. x (S, B, L) -> logits (S, G, K, B)."""
        s, g = self.shape
        p, c = self.params, self.channels
        h = x.transpose(0, 1)                                           # (B, S, L)
        for i, (layer, stride) in enumerate(((1, 1), (3, 2), (5, 2))):
            w, b = p[f"{layer}.weight"], p[f"{layer}.bias"]
            h = F.conv1d(h, w.reshape(s * g * c, w.shape[-2], _KERNEL), b.reshape(-1), stride=stride,
                         padding=2, groups=s if i == 0 else s * g)
            h = torch.relu(h)                                           # (B, S*G*C, L_i)
        h = h.reshape(h.shape[0], s * g, -1).permute(1, 2, 0)           # (S*G, C*L_3, B)
        return _dense(h.reshape(s, g, *h.shape[1:]), p["8.weight"], p["8.bias"])

    def module(self, s: int, g: int) -> nn.Module:
        """Model (s, g) as a plain ``nn.Module`` (a copy, on the stacked parameters' device)."""
        device = next(iter(self.params.values())).device
        net = _skeleton(self.model, self.in_features, self.num_classes, self.hidden,
                        self.channels).to_empty(device=device)
        with torch.no_grad():
            for name, q in net.named_parameters():
                q.copy_(self.params[name][s, g])
        return net

    def numel_per_model(self) -> int:
        return sum(math.prod(p.shape[2:]) for p in self.params.values())


def activations_per_sample(model: str, in_features: int, num_classes: int, *,
                           hidden: int = DEFAULT_HIDDEN, channels: int = DEFAULT_CHANNELS) -> int:
    """Rough number of floats one model keeps per sample during a training step
    (forward activations, their gradients, the loss's softmax buffers); the sweep sizes
    its chunks with it."""
    check_architecture(model)
    logits = 6 * num_classes
    if model == "linear":
        return logits
    if model == "mlp":
        return logits + 4 * hidden
    return logits + 4 * channels * sum(_cnn_lengths(in_features))
