"""The CIFAR networks of lesson 05: the official ResNet-34 and the fast net."""
from __future__ import annotations

import pytest
import torch

from nls_lessons.paper import resnet


def test_resnet34_shape_and_parameter_count():
    torch.manual_seed(0)
    model = resnet.resnet34(10).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    # the official CIFAR ResNet-34 (kuangliu-style) has 21,282,122 parameters for 10 classes
    assert resnet.count_parameters(model) == 21_282_122
    assert abs(resnet.count_parameters(model) / 1e6 - 21.3) < 0.05


def test_resnet34_architecture_matches_the_official_code():
    model = resnet.resnet34(100)
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [3, 4, 6, 3]
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    assert model.linear.out_features == 100


def test_fastnet_shapes_and_widths():
    model = resnet.fastnet(10, widths=(4, 8, 8, 16)).eval()
    with torch.no_grad():
        assert model(torch.randn(3, 3, 32, 32)).shape == (3, 10)
    assert resnet.count_parameters(resnet.fastnet()) == 6_573_120   # Page's ResNet-9 widths


@pytest.mark.parametrize("call, match", [
    (lambda: resnet.build_model("vgg"), "model must be one of"),
    (lambda: resnet.build_model("resnet34", widths=(1, 2, 3, 4)), "fast net only"),
    (lambda: resnet.FastNet(10, widths=(4, 8)), "four positive"),
    (lambda: resnet.ResNet(num_classes=1), "num_classes"),
    (lambda: resnet.fastnet(10, (4, 4, 4, 4))(torch.randn(2, 3, 28, 28)), "CIFAR-shaped"),
])
def test_bad_arguments_say_why(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_gpu_helpers_are_no_ops_on_cpu():
    cpu = torch.device("cpu")
    model = resnet.prepare_model(resnet.fastnet(10, (4, 4, 4, 4)), cpu)
    assert next(model.parameters()).device.type == "cpu"
    with resnet.autocast(cpu):
        assert model(torch.randn(2, 3, 32, 32)).dtype == torch.float32
    assert not resnet.grad_scaler(cpu).is_enabled()


def test_init_parameters_is_seeded_by_its_generator_only():
    import torch

    a = resnet.init_parameters(resnet.fastnet(10, (4, 8, 8, 8)), torch.Generator().manual_seed(1))
    torch.manual_seed(99)                                        # the global RNG plays no part
    b = resnet.init_parameters(resnet.fastnet(10, (4, 8, 8, 8)), torch.Generator().manual_seed(1))
    c = resnet.init_parameters(resnet.fastnet(10, (4, 8, 8, 8)), torch.Generator().manual_seed(2))
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["head.weight"], sc["head.weight"])
    w = sa["features.0.weight"]                                  # Kaiming-uniform bound 1/sqrt(fan_in)
    assert w.abs().max() <= 1 / (3 * 3 * 3) ** 0.5 + 1e-6
