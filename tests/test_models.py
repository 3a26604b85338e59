"""nls_lessons.models: the stacked models compute exactly what the plain modules compute."""
import pytest
import torch

from nls_lessons import models


@pytest.mark.parametrize("arch, features", [("linear", 64), ("mlp", 64), ("cnn", 40)])
def test_stacked_matches_plain_modules(arch, features):
    net = models.Stacked(arch, features, 10, seeds=[0, 5], groups=3, hidden=16, channels=4)
    with torch.no_grad():                          # make the G copies of a seed differ
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    per_seed, shared = torch.randn(2, 7, features), torch.randn(9, features)
    out_per_seed, out_shared = net(per_seed), net(shared)
    assert out_per_seed.shape == (2, 3, 7, 10) and out_shared.shape == (2, 3, 9, 10)
    assert torch.equal(net.class_major(shared), out_shared.transpose(-1, -2))
    for s in range(2):
        for g in range(3):
            plain = net.module(s, g)
            torch.testing.assert_close(plain(per_seed[s]), out_per_seed[s, g], atol=1e-6, rtol=1e-5)
            torch.testing.assert_close(plain(shared), out_shared[s, g], atol=1e-6, rtol=1e-5)


def test_initialisation_is_paired_and_seeded():
    before = torch.get_rng_state()
    net = models.Stacked("mlp", 5, 3, seeds=[1, 2], groups=4, hidden=6)
    assert torch.equal(torch.get_rng_state(), before)          # the caller's RNG is untouched
    plain = models.plain_model("mlp", 5, 3, seed=2, hidden=6)
    for name, p in plain.named_parameters():
        stacked = net.params[name]
        assert stacked.shape == (2, 4, *p.shape) and stacked.is_leaf and stacked.requires_grad
        assert all(torch.equal(stacked[1, g], p) for g in range(4))     # every config of seed 2
        assert not torch.equal(stacked[0, 0], stacked[1, 0])            # seeds differ
    assert net.numel_per_model() == sum(p.numel() for p in plain.parameters())


def test_one_adam_on_the_stack_is_one_adam_per_model():
    net = models.Stacked("linear", 4, 3, seeds=[0], groups=2)
    plains = [net.module(0, g) for g in range(2)]
    x, y = torch.randn(1, 8, 4), torch.randint(0, 3, (2, 8))
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    opts = [torch.optim.Adam(p.parameters(), lr=0.1) for p in plains]
    for _ in range(3):
        logits = net(x)[0]                                                 # (G, B, K)
        loss = sum(torch.nn.functional.cross_entropy(logits[g], y[g]) for g in range(2))
        opt.zero_grad(); loss.backward(); opt.step()
        for g, (plain, o) in enumerate(zip(plains, opts)):
            o.zero_grad(); torch.nn.functional.cross_entropy(plain(x[0]), y[g]).backward(); o.step()
    for g, plain in enumerate(plains):
        torch.testing.assert_close(net.params["weight"][0, g], plain.weight)


def test_bad_architecture_and_shapes():
    with pytest.raises(ValueError, match="model must be one of"):
        models.plain_model("resnet", 4, 2, 0)
    net = models.Stacked("linear", 4, 2, seeds=[0, 1], groups=1)
    with pytest.raises(ValueError, match="x must have shape"):
        net(torch.zeros(3, 5, 4))
