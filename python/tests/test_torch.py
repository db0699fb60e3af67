"""linear_collapse.torch: collapse nn.Modules and whole models (torch from pip in the test venv)."""

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from linear_collapse.torch import Reshape, collapse, collapse_layers, inspect

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
SEED = DATA / "seed_conv_fc"


def params(m):
    return sum(p.numel() for p in m.parameters())


def macs(m, x):
    """Multiply-adds of convolutions and matrix products, as PyTorch's own counter counts them."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        m(x)
    return counter.get_total_flops() // 2


def randomize_bn(model, seed=1):
    """Non-trivial BatchNorm statistics and affine parameters (a fresh model's are 0, 1, 1, 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) * 0.5 + 0.75)
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.75)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return model


def rel_error(a, b):
    return ((a.double() - b.double()).abs().max() / b.double().abs().max()).item()


# ---------------------------------------------------------------------------------------------- seed


def seed_layers():
    from safetensors.torch import load_file

    w = load_file(str(SEED / "weights.safetensors"))
    conv2 = nn.Conv2d(5, w["0.weight"].shape[0], w["0.weight"].shape[2], stride=2)
    fc1 = nn.Linear(w["2.weight"].shape[1], w["2.weight"].shape[0])
    conv2.load_state_dict({"weight": w["0.weight"], "bias": w["0.bias"]})
    fc1.load_state_dict({"weight": w["2.weight"], "bias": w["2.bias"]})
    return conv2, fc1


def test_seed_is_the_forum_fcnew_and_matches_pytorch_float64():
    conv2, fc1 = seed_layers()
    fcnew = collapse_layers([conv2, nn.Flatten(), fc1], input_shape=(5, 13, 13))
    assert type(fcnew) is nn.Linear
    assert (fcnew.in_features, fcnew.out_features) == (845, fc1.out_features)
    w64 = np.load(SEED / "full.W_f64.npy")
    b64 = np.load(SEED / "full.b_f64.npy")
    assert np.abs(fcnew.weight.detach().double().numpy() - w64).max() <= 1e-6
    assert np.abs(fcnew.bias.detach().double().numpy() - b64).max() <= 1e-6
    # the forum's recipe: probe with one-hot images; its fcnew's weights equal ours within 1e-6, and on
    # random inputs both are float32 answers, ours the nearer to the float64 one
    with torch.no_grad():
        eye = torch.eye(845).view(845, 5, 13, 13)
        bias = fc1(torch.flatten(conv2(torch.zeros(1, 5, 13, 13)), 1))[0]
        weight = (fc1(torch.flatten(conv2(eye), 1)) - bias).T
        x = torch.randn(64, 5, 13, 13, generator=torch.Generator().manual_seed(0))
        forum = torch.flatten(x, 1) @ weight.T + bias
        ours = fcnew(torch.flatten(x, 1))
        truth = torch.flatten(x, 1).double() @ torch.from_numpy(w64).T + torch.from_numpy(b64)
    assert torch.allclose(fcnew.weight, weight, atol=1e-6) and torch.allclose(fcnew.bias, bias, atol=1e-6)
    assert torch.allclose(ours, forum, atol=1e-5)
    assert (ours.double() - truth).abs().max() <= (forum.double() - truth).abs().max()
    # the layers themselves are untouched and nn.Sequential is accepted too
    again = collapse_layers(nn.Sequential(conv2, nn.Flatten(), fc1), (5, 13, 13))
    assert torch.equal(again.weight, fcnew.weight)
    assert conv2.training and fc1.training


def test_linear_linear_becomes_one_linear():
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(64, 128), nn.Linear(128, 32)).eval()
    one = collapse_layers(seq, (64,))
    assert type(one) is nn.Linear and (one.in_features, one.out_features) == (64, 32)
    x = torch.randn(8, 64)
    assert torch.allclose(one(x), seq(x), atol=1e-5)
    # as a whole model, with the default policy: one Linear, fewer multiply-adds
    gm = collapse(seq, x)
    linears = [m for m in gm.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 1 and macs(gm, x) < macs(seq, x)
    assert torch.allclose(gm(x), seq(x), atol=1e-5)


def test_a_chain_that_is_one_convolution_gives_a_conv2d():
    torch.manual_seed(0)
    chain = [nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16).eval(), nn.Conv2d(16, 8, 1)]
    randomize_bn(chain[1])
    one = collapse_layers(chain, (3, 12, 12))
    assert type(one) is nn.Conv2d and one.kernel_size == (3, 3) and one.padding == (1, 1)
    x = torch.randn(4, 3, 12, 12)
    with torch.no_grad():
        assert rel_error(one(x), nn.Sequential(*chain).eval()(x)) < 1e-5


def test_a_nonlinear_layer_stops_collapse_layers():
    with pytest.raises(ValueError, match="do not collapse into one"):
        collapse_layers([nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4)], (4,))


# --------------------------------------------------------------------------------------- whole models


class ExpandNet(nn.Module):
    """ExpandNets (Guo et al.): a kxk conv expanded into 1x1 -> kxk -> 1x1, all linear. The first 1x1
    has no bias: the kxk conv's zero padding would meet it at the border, and no single conv equals
    that (the bias-at-the-border case below)."""

    def __init__(self):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv2d(3, 24, 1, bias=False), nn.Conv2d(24, 24, 3, padding=1),
                                    nn.Conv2d(24, 8, 1))
        self.head = nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(8, 10), nn.Linear(10, 10))

    def forward(self, x):
        return self.head(self.expand(x))


class ACBlock(nn.Module):
    """ACNet (Ding et al.): 3x3 + 1x3 + 3x1 branches, each with its BatchNorm, summed."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.square = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                                    nn.BatchNorm2d(c_out))
        self.hor = nn.Sequential(nn.Conv2d(c_in, c_out, (1, 3), padding=(0, 1), bias=False),
                                 nn.BatchNorm2d(c_out))
        self.ver = nn.Sequential(nn.Conv2d(c_in, c_out, (3, 1), padding=(1, 0), bias=False),
                                 nn.BatchNorm2d(c_out))

    def forward(self, x):
        return F.relu(self.square(x) + self.hor(x) + self.ver(x))


@pytest.mark.parametrize("model,shape,convs", [
    (ExpandNet(), (2, 3, 16, 16), 1),
    (nn.Sequential(ACBlock(3, 16), ACBlock(16, 16)), (2, 3, 16, 16), 2),
])
def test_expandnets_and_acnet_become_one_conv_per_block(model, shape, convs):
    torch.manual_seed(0)
    model = randomize_bn(model).eval()
    x = torch.randn(shape)
    gm = collapse(model, x)
    assert sum(isinstance(m, nn.Conv2d) for m in gm.modules()) == convs
    assert not any(isinstance(m, nn.BatchNorm2d) for m in gm.modules())
    assert params(gm) < params(model) and macs(gm, x) < macs(model, x)
    with torch.no_grad():
        assert rel_error(gm(x), model(x)) < 1e-5
    # another batch size and fresh inputs: nothing is tied to the example
    x2 = torch.randn(5, *shape[1:])
    with torch.no_grad():
        assert rel_error(gm(x2), model(x2)) < 1e-5


def test_a_bias_before_a_zero_padded_conv_is_no_single_conv():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 24, 1), nn.Conv2d(24, 24, 3, padding=1),
                          nn.Conv2d(24, 8, 1)).eval()
    x = torch.randn(2, 3, 16, 16)
    gm = collapse(model, x)
    # the 1x1 with its bias stays; the rest is one conv; a forced collapse is one Linear
    assert [type(m) for m in gm.children()] == [nn.Conv2d, nn.Conv2d]
    forced = collapse(model, x, force=True)
    assert any(isinstance(m, nn.Linear) for m in forced.modules())
    with torch.no_grad():
        assert rel_error(gm(x), model(x)) < 1e-5 and rel_error(forced(x), model(x)) < 1e-5


def test_the_model_is_not_modified_and_dtype_and_mode_are_kept():
    model = randomize_bn(nn.Sequential(ACBlock(3, 8))).eval().double()
    before = copy.deepcopy(model.state_dict())
    x = torch.randn(2, 3, 10, 10, dtype=torch.float64)
    gm = collapse(model, x)
    assert isinstance(gm, torch.fx.GraphModule) and not gm.training
    assert all(p.dtype == torch.float64 for p in gm.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    with torch.no_grad():
        assert rel_error(gm(x), model(x)) < 1e-6


class ShapeBranch(nn.Module):
    """``if`` on a size: symbolic tracing fails here, torch.export follows it."""

    def __init__(self):
        super().__init__()
        self.a, self.bn, self.b = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.Conv2d(8, 8, 1)

    def forward(self, x):
        if x.shape[-1] > 4:
            x = self.b(self.bn(self.a(x)))
        return x.relu()


def test_torch_export_takes_over_where_symbolic_tracing_fails():
    model = randomize_bn(ShapeBranch()).eval()
    x = torch.randn(2, 3, 8, 8)
    gm = collapse(model, x)
    assert gm.collapse_report.tracer == "torch.export"
    assert sum(isinstance(m, nn.Conv2d) for m in gm.modules()) == 1
    with torch.no_grad():
        assert rel_error(gm(x), model(x)) < 1e-5


def test_inspect_prints_the_table_and_builds_nothing():
    model = randomize_bn(ExpandNet()).eval()
    report = inspect(model, torch.randn(1, 3, 16, 16))
    text = str(report)
    assert "Conv2d" in text and "total:" in text and "traced with torch.fx" in text
    assert report.runs[0]["form"] == "Conv2d" and report.runs[0]["max_error"] is None
    assert report.totals["macs"][1] < report.totals["macs"][0]


class Custom(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


def test_an_unsupported_module_ends_the_run():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 1), nn.Conv2d(8, 8, 1), Custom(), nn.Conv2d(8, 8, 1),
                          nn.Conv2d(8, 4, 1)).eval()
    x = torch.randn(2, 3, 6, 6)
    gm = collapse(model, x)
    assert sum(isinstance(m, nn.Conv2d) for m in gm.modules()) == 2
    assert len([r for r in gm.collapse_report.runs if r["form"] == "Conv2d"]) == 2
    with torch.no_grad():
        assert rel_error(gm(x), model(x)) < 1e-5


# ------------------------------------------------------------------------------------------- errors


def test_training_mode_is_refused():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    with pytest.raises(ValueError, match="training mode.*exact only in eval mode.*model.eval()"):
        collapse(model, torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match="training mode"):
        collapse_layers([nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)], (3, 8, 8))


def test_an_example_that_does_not_fit_is_refused():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.Linear(4, 2)).eval()
    with pytest.raises(ValueError, match=r"example input of shape \(1, 13\) does not fit"):
        collapse(model, torch.randn(1, 13))


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:
            return self.a(x)
        return self.b(x)


def test_a_model_neither_tracer_can_follow_is_refused():
    with pytest.raises(ValueError, match="cannot trace the model: torch.fx.symbolic_trace failed"):
        collapse(DataDependent().eval(), torch.randn(2, 4))


def test_bad_arguments():
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        collapse(lambda x: x, torch.randn(1, 4))
    with pytest.raises(TypeError, match="example_input"):
        collapse(nn.Linear(4, 4).eval(), [1, 2, 3])
    with pytest.raises(ValueError, match="objective"):
        collapse(nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4)).eval(), torch.randn(1, 4),
                 objective="speed")


def test_reshape_module_keeps_the_batch():
    assert Reshape((2, 3))(torch.zeros(5, 6)).shape == (5, 2, 3)


# ----------------------------------------------------------------------- models this project did not write

TIMM = ["repvgg_a0", "mobileone_s0", "repghostnet_050", "fastvit_t8", "repvit_m0_9"]


@pytest.mark.parametrize("name", TIMM)
def test_timm_models_equal_timms_own_fusion_and_are_no_larger(name):
    import timm
    from timm.utils.model import reparameterize_model

    torch.manual_seed(0)
    model = randomize_bn(timm.create_model(name, pretrained=False)).eval()
    x = torch.randn(1, 3, 224, 224)
    ours = collapse(model, x)
    theirs = reparameterize_model(copy.deepcopy(model))
    with torch.no_grad():
        y, yo, yt = model(x), ours(x), theirs(x)
    assert rel_error(yo, yt) < 1e-4 and rel_error(yo, y) < 1e-4
    assert params(ours) <= params(theirs)
    assert macs(ours, x) <= macs(theirs, x)


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_torchvision_models_keep_their_outputs_and_never_cost_more(name):
    import torchvision

    torch.manual_seed(0)
    model = randomize_bn(getattr(torchvision.models, name)(weights=None)).eval()
    x = torch.randn(2, 3, 224, 224)
    gm = collapse(model, x)
    with torch.no_grad():
        assert rel_error(gm(x), model(x)) < 1e-4
    assert params(gm) <= params(model) and macs(gm, x) <= macs(model, x)
    # every BatchNorm after a conv is folded; nothing else is merged where it would cost more
    assert not any(isinstance(m, nn.BatchNorm2d) for m in gm.modules())
    report = gm.collapse_report
    assert all(r["macs"][1] <= r["macs"][0] for r in report.runs)


# ------------------------------------------------------------------------------ every linear operation


class Scaled(nn.Module):
    """timm's LayerScale: a product by a parameter, then a residual sum with a constant."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.gamma = nn.Parameter(torch.rand(4, 1, 1) + 0.5)

    def forward(self, x):
        return x + self.conv(x) * self.gamma * 0.5 - 1.0


class Branches(nn.Module):
    """Concatenated and split branches, a permute round trip, a mean and a slice."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(4, 6, 1), nn.Conv2d(4, 2, 3, padding=1)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x)], dim=1)
        y = self.fc(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        p, q = torch.split(y, [5, 3], dim=1)
        s = q[:, :, ::2, 1:].sum(dim=(2, 3))
        return p.mean(dim=(2, 3)) + torch.cat([s, s[:, :2]], dim=1)


def mlp_head():
    return nn.Sequential(nn.Flatten(), nn.Linear(48, 32), nn.BatchNorm1d(32), nn.Dropout(0.3),
                         nn.Linear(32, 10))


def up_down():
    return nn.Sequential(nn.ConvTranspose2d(4, 4, 2, stride=2), nn.Conv2d(4, 4, 3, padding=1),
                         nn.AvgPool2d(2), nn.ZeroPad2d((1, 0, 1, 0)), nn.Conv2d(4, 2, 2))


def pooled():
    return nn.Sequential(nn.Conv2d(4, 8, 1), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, 5))


@pytest.mark.parametrize("make,shape", [
    (Scaled, (2, 4, 6, 6)),
    (Branches, (2, 4, 6, 6)),
    (mlp_head, (2, 3, 4, 4)),
    (up_down, (2, 4, 5, 5)),
    (pooled, (2, 4, 6, 6)),
], ids=["layer-scale", "branches", "mlp-head", "transpose-conv-pool-pad", "adaptive-pool"])
@pytest.mark.parametrize("force", [False, True], ids=["macs", "force"])
def test_every_linear_operation_collapses_exactly(make, shape, force):
    torch.manual_seed(0)
    model = randomize_bn(make()).eval()
    x = torch.randn(shape)
    gm = collapse(model, x, force=force)
    report = gm.collapse_report
    replaced = [r for r in report.runs if r["form"] != "unchanged"]
    if force:
        # one run, no nonlinearity: the whole model is one form, and nothing was left a boundary
        assert len(report.runs) == 1 and len(replaced) == 1 and not report.skipped, report
    else:
        assert params(gm) <= params(model) and macs(gm, x) <= macs(model, x)
    x2 = torch.randn(3, *shape[1:])
    with torch.no_grad():
        assert rel_error(gm(x2), model(x2)) < 1e-5


def test_a_non_finite_weight_is_refused_naming_the_module():
    model = torch.nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 1)).eval()
    with torch.no_grad():
        model[1].weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"fx node '_1' \(module '1'\).*non-finite value \(NaN\)"):
        collapse(model, torch.randn(1, 3, 8, 8))
    with pytest.raises(TypeError, match=r"layers\[1\] is a str"):
        collapse_layers([nn.Linear(4, 4), "relu"], (4,))
