"""Tests of the Python bindings: golden data from PyTorch, a naive NumPy convolution, errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import linear_collapse as lc

DATA = Path(__file__).resolve().parent.parent.parent / "tests" / "data"
SEED = DATA / "seed_conv_fc"


# --------------------------------------------------------------------------------------------------
# an independent reference: naive NumPy layers


def conv2d_naive(x, w, b, stride, padding, dilation, groups):
    """x (C, H, W); w (O, C/g, kh, kw); padding [top, left, bottom, right]."""
    c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    t, l, btm, r = padding
    xp = np.zeros((c, h + t + btm, wd + l + r), dtype=np.float64)
    xp[:, t : t + h, l : l + wd] = x
    sh, sw = stride
    dh, dw = dilation
    oh = (xp.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[2] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((o, oh, ow))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(oh):
            for j in range(ow):
                acc = 0.0
                for ci in range(cg):
                    for ki in range(kh):
                        for kj in range(kw):
                            acc += w[oc, ci, ki, kj] * xp[g * cg + ci, i * sh + ki * dh, j * sw + kj * dw]
                y[oc, i, j] = acc + (0.0 if b is None else b[oc])
    return y


def probe_naive(f, n_in):
    b = f(np.zeros(n_in))
    cols = [f(np.eye(n_in)[i]) - b for i in range(n_in)]
    return np.stack(cols, axis=1), b


# --------------------------------------------------------------------------------------------------
# the seed case against PyTorch's float64 W, b


def load_seed_weights():
    try:
        from safetensors.numpy import load_file

        return load_file(str(SEED / "weights.safetensors"))
    except ImportError:  # pragma: no cover - safetensors is in the test requirements
        pytest.skip("safetensors is not installed")


@pytest.mark.parametrize("method", ["auto", "dense", "sparse", "im2col"])
@pytest.mark.parametrize("accumulate", ["f32", "f64"])
def test_seed_matches_pytorch(method, accumulate):
    t = load_seed_weights()
    layers = [
        lc.Conv2d(t["0.weight"], t["0.bias"], stride=2),
        lc.Flatten(),
        lc.Linear(t["2.weight"], t["2.bias"]),
    ]
    single = lc.collapse(layers, (5, 13, 13), method=method, accumulate=accumulate)
    want_w = np.load(SEED / "full.W_f64.npy")
    want_b = np.load(SEED / "full.b_f64.npy")
    assert single.weight.shape == (100, 845) and single.weight.dtype == np.float32
    assert single.bias.shape == (100,) and single.bias.dtype == np.float32
    assert single.output_shape == (100,)
    assert np.abs(single.weight.astype(np.float64) - want_w).max() < 1e-6
    assert np.abs(single.bias.astype(np.float64) - want_b).max() < 1e-6
    assert "plan for (5, 13, 13) -> (100)" in single.report
    # the collapsed layer reproduces onnxruntime's outputs of the original model
    x = np.load(SEED / "inputs.npy")
    y = np.load(SEED / "outputs.npy")
    assert np.allclose(single(x), y.reshape(len(x), -1), atol=1e-4, rtol=1e-4)


def test_seed_verify_and_probe():
    t = load_seed_weights()
    layers = [
        lc.Conv2d(t["0.weight"], t["0.bias"], stride=2),
        lc.Flatten(),
        lc.Linear(t["2.weight"], t["2.bias"]),
    ]
    single = lc.collapse(layers, (5, 13, 13), accumulate="f64")
    v = lc.verify(layers, (5, 13, 13), single)
    assert v["weight_vs_probe"]["rel_fro"] < 1e-6
    assert v["outputs_vs_forward"]["rel_fro"] < 1e-6
    assert v["rank"] == 100
    w, b = lc.probe(layers, (5, 13, 13))
    assert w.dtype == np.float64 and w.shape == (100, 845) and b.shape == (100,)
    assert np.abs(w - np.load(SEED / "full.W_f64.npy")).max() < 1e-6
    # a (weight, bias) pair works as well as a Collapsed
    v2 = lc.verify(layers, (5, 13, 13), (single.weight, single.bias))
    assert v2["weight_vs_probe"]["max_abs"] == v["weight_vs_probe"]["max_abs"]


# --------------------------------------------------------------------------------------------------
# property tests: random geometries against the naive NumPy convolution


def random_conv(rng, c_in, dtype):
    groups = int(rng.choice([g for g in (1, 2, 3) if c_in % g == 0]))
    c_out = groups * int(rng.integers(1, 3))
    kh, kw = (int(k) for k in rng.integers(1, 4, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 3, size=2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, size=2))
    padding = tuple(int(p) for p in rng.integers(0, 3, size=4))
    w = rng.standard_normal((c_out, c_in // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype) if rng.random() < 0.7 else None
    return w, b, stride, padding, dilation, groups


@pytest.mark.parametrize("case", range(24))
def test_random_chains_match_naive_numpy(case):
    rng = np.random.default_rng(1000 + case)
    dtype = np.float64 if case % 2 else np.float32
    c, h, wd = int(rng.integers(1, 4)) * 2, int(rng.integers(6, 10)), int(rng.integers(6, 10))
    n_convs = 1 + case % 3 // 2  # one or two convolutions
    layers, steps, shape = [], [], (c, h, wd)
    for _ in range(n_convs):
        w, b, stride, padding, dilation, groups = random_conv(rng, shape[0], dtype)
        y_shape = conv2d_naive(np.zeros(shape), w, b, stride, padding, dilation, groups).shape
        if min(y_shape[1:]) < 1:
            break
        layers.append(lc.Conv2d(w, b, stride=stride, padding=padding, dilation=dilation, groups=groups))
        steps.append(lambda x, w=w, b=b, s=stride, p=padding, d=dilation, g=groups: conv2d_naive(x, w, b, s, p, d, g))
        shape = y_shape
    n_mid = int(np.prod(shape))
    fc_w = rng.standard_normal((int(rng.integers(1, 6)), n_mid)).astype(dtype)
    fc_b = rng.standard_normal(fc_w.shape[0]).astype(dtype)
    layers += [lc.Flatten(), lc.Linear(fc_w, fc_b)]

    def forward(x_flat):
        x = x_flat.reshape(c, h, wd).astype(np.float64)
        for step in steps:
            x = step(x)
        return fc_w.astype(np.float64) @ x.reshape(-1) + fc_b

    want_w, want_b = probe_naive(forward, c * h * wd)
    method = ["auto", "dense", "sparse", "im2col"][case % 4]
    single = lc.collapse(layers, (c, h, wd), method=method)
    assert single.weight.dtype == dtype
    tol = 1e-10 if dtype == np.float64 else 1e-4
    scale = max(1.0, np.abs(want_w).max())
    np.testing.assert_allclose(single.weight, want_w, atol=tol * scale, rtol=0)
    np.testing.assert_allclose(single.bias, want_b, atol=tol * max(1.0, np.abs(want_b).max()), rtol=0)
    x = rng.standard_normal((c, h, wd))
    np.testing.assert_allclose(single(x), forward(x.reshape(-1)), atol=tol * 100 * scale, rtol=tol * 100)


@pytest.mark.parametrize("case", range(12))
def test_toeplitz_dense_csr_and_naive_agree(case):
    rng = np.random.default_rng(2000 + case)
    dtype = np.float32 if case % 2 else np.float64
    c, h, wd = int(rng.integers(1, 3)) * 2, int(rng.integers(5, 9)), int(rng.integers(5, 9))
    w, b, stride, padding, dilation, groups = random_conv(rng, c, dtype)
    conv = lc.Conv2d(w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    dense = lc.toeplitz(conv, (c, h, wd))
    data, indices, indptr, shape = lc.toeplitz(conv, (c, h, wd), dense=False)
    assert dense.shape == shape and dense.dtype == dtype and data.dtype == dtype
    assert len(indptr) == shape[0] + 1 and len(indices) == len(data) == indptr[-1]
    from_csr = np.zeros(shape, dtype=dtype)
    for r in range(shape[0]):
        from_csr[r, indices[indptr[r] : indptr[r + 1]]] += data[indptr[r] : indptr[r + 1]]
    np.testing.assert_array_equal(from_csr, dense)
    try:
        import scipy.sparse

        np.testing.assert_array_equal(scipy.sparse.csr_matrix((data, indices, indptr), shape=shape).toarray(), dense)
    except ImportError:
        pass
    x = rng.standard_normal((c, h, wd))
    y = conv2d_naive(x, w.astype(np.float64), None, stride, padding, dilation, groups)
    np.testing.assert_allclose(dense.astype(np.float64) @ x.reshape(-1), y.reshape(-1), atol=1e-4)


def test_other_layers_against_probe():
    rng = np.random.default_rng(7)
    c = 3
    layers = [
        lc.Pad((1, 0, 2, 1), mode="reflect"),
        lc.Conv2d(rng.standard_normal((4, c, 3, 3)), rng.standard_normal(4), padding=(1, 1)),
        lc.BatchNorm(rng.standard_normal(4), rng.random(4) + 0.5, eps=1e-5, weight=rng.standard_normal(4), bias=rng.standard_normal(4)),
        lc.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
        lc.Flatten(),
        lc.Linear(rng.standard_normal((5, 4 * 10 * 7))),
    ]
    single = lc.collapse(layers, (c, 6, 5))
    w, b = lc.probe(layers, (c, 6, 5))
    np.testing.assert_allclose(single.weight, w, atol=1e-10)
    np.testing.assert_allclose(single.bias, b, atol=1e-10)
    v = lc.verify(layers, (c, 6, 5), single)
    assert v["outputs_vs_forward"]["max_abs"] < 1e-9


def test_conv1d_and_its_toeplitz():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 2, 3)).astype(np.float32)
    conv = lc.Conv1d(w, None, stride=2, padding=(1, 2), groups=1)
    layers = [conv, lc.Flatten(), lc.Linear(rng.standard_normal((3, 4 * 6)).astype(np.float32))]
    single = lc.collapse(layers, (2, 11))
    pw, pb = lc.probe(layers, (2, 11))
    np.testing.assert_allclose(single.weight, pw, atol=1e-4)
    t = lc.toeplitz(conv, (2, 11))
    x = rng.standard_normal((2, 1, 11))
    y = conv2d_naive(x, w[:, :, None, :].astype(np.float64), None, (1, 2), (0, 1, 0, 2), (1, 1), 1)
    np.testing.assert_allclose(t @ x.reshape(-1), y.reshape(-1), atol=1e-4)


# --------------------------------------------------------------------------------------------------
# errors


def test_channel_mismatch_names_the_layer():
    conv = lc.Conv2d(np.zeros((8, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"layer #0 \(Conv2d\(3->8"):
        lc.collapse([conv, lc.Flatten()], (4, 8, 8))


def test_linear_size_mismatch_names_the_layer():
    conv = lc.Conv2d(np.zeros((2, 1, 3, 3), np.float32))
    fc = lc.Linear(np.zeros((3, 10), np.float32))
    with pytest.raises(ValueError, match=r"layer #2 \(Linear\(10->3\)\)"):
        lc.collapse([conv, lc.Flatten(), fc], (1, 5, 5))


@pytest.mark.parametrize(
    "build",
    [
        lambda: lc.Conv2d(np.zeros((4, 3, 3, 3)), stride=0),
        lambda: lc.Conv2d(np.zeros((4, 3, 3, 3)), groups=3),
        lambda: lc.Conv2d(np.zeros((4, 3, 3))),
        lambda: lc.Conv2d(np.zeros((4, 3, 3, 3)), padding=-1),
        lambda: lc.Conv2d(np.zeros((4, 3, 3, 3)), padding=(1, 2, 3)),
        lambda: lc.Linear(np.full((2, 2), np.nan)),
        lambda: lc.Linear(np.zeros((2, 2)), np.zeros(3)),
        lambda: lc.BatchNorm(np.zeros(2), -np.ones(2)),
        lambda: lc.Pad(1, mode="wrap"),
    ],
)
def test_bad_layers_raise_value_error(build):
    with pytest.raises(ValueError):
        build()


def test_bad_arguments():
    fc = lc.Linear(np.ones((2, 3)))
    with pytest.raises(ValueError, match="method"):
        lc.collapse([fc], (3,), method="magic")
    with pytest.raises(ValueError, match="accumulate"):
        lc.collapse([fc], (3,), accumulate="f16")
    with pytest.raises(ValueError, match="input_shape"):
        lc.collapse([fc], (1, 1, 1, 1, 1, 1, 1, 3))
    # a Linear applies over the last axis of any sample, as nn.Linear does
    assert lc.collapse([fc], (1, 1, 1, 3)).weight.shape == (2, 3)
    with pytest.raises(TypeError, match=r"layers\[1\]"):
        lc.collapse([fc, "relu"], (3,))
    with pytest.raises(TypeError):
        lc.toeplitz(fc, (3,))


def test_identity_for_empty_chain_and_float64_promotion():
    single = lc.collapse([], (2, 2))
    np.testing.assert_array_equal(single.weight, np.eye(4))
    mixed = lc.collapse([lc.Linear(np.ones((2, 3), np.float32)), lc.Linear(np.ones((1, 2), np.float64))], (3,))
    assert mixed.weight.dtype == np.float64


# --------------------------------------------------------------------------------------------------
# ONNX


def test_collapse_onnx(tmp_path):
    out = tmp_path / "seed.onnx"
    reports = lc.collapse_onnx(SEED / "model.onnx", out)
    assert len(reports) == 1 and "params 131400 -> 84600" in reports[0]
    assert out.stat().st_size > 0
    with pytest.raises(OSError):
        lc.collapse_onnx(tmp_path / "missing.onnx", tmp_path / "x.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises((RuntimeError, ValueError)):
        lc.collapse_onnx(tmp_path / "bad.onnx", tmp_path / "x.onnx")
    assert not os.path.exists(tmp_path / "x.onnx")


def test_plan_over_budget_is_memory_error():
    n = 1000 * 1000
    layers = [lc.Conv2d(np.ones((1, 1, 1, 1), np.float32)), lc.Flatten(), lc.Linear(np.ones((2, n), np.float32))]
    with pytest.raises(MemoryError, match="memory budget"):
        lc.collapse(layers, (1, 1000, 1000), method="dense")


def test_collapsed_call_on_sample_and_batch():
    single = lc.collapse([lc.Flatten(), lc.Linear(np.arange(12.0).reshape(3, 4), np.ones(3))], (1, 2, 2))
    x = np.arange(4.0).reshape(1, 2, 2)
    assert single(x).shape == (3,)
    assert single(x[None]).shape == (1, 3)
    np.testing.assert_allclose(single(np.stack([x, x])), np.stack([single(x)] * 2))
