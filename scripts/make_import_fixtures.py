#!/usr/bin/env python3
"""Small PyTorch modules that use the ops real networks use around their linear runs, exported with both
PyTorch exporters (`dynamo=True`, the default, and the legacy TorchScript one, `dynamo=False`), with inputs
and onnxruntime's outputs beside each model. They are the golden cases of the ONNX importer:
`make onnx-check` collapses each with the command line and compares the result in onnxruntime.

    python3 scripts/make_import_fixtures.py tests/data/import      # needs torch, onnx, onnxruntime (pip)

What each module exercises (how the exporters spell it):
- gap_head: Conv -> BatchNorm -> ReLU -> global average pool -> flatten -> Linear (legacy:
  GlobalAveragePool + Flatten; dynamo: ReduceMean with axes as an input, keepdims 0/1, Reshape);
- mean_head: torch.mean over (2, 3) with keepdim=False -> Linear (ReduceMean keepdims 0);
- squeeze_excite: x * sigmoid(fc(mean(x))) (a Mul of two tensors of different shapes: a boundary that
  broadcasts) between two linear runs;
- conv_pool_conv: Conv -> AdaptiveAvgPool2d(1) -> Conv 1x1 -> flatten (a run through a global pool).
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn


def bn(c):
    """A BatchNorm2d with non-trivial statistics."""
    m = nn.BatchNorm2d(c)
    with torch.no_grad():
        m.running_mean.uniform_(-0.5, 0.5)
        m.running_var.uniform_(0.5, 2.0)
        m.weight.uniform_(0.5, 1.5)
        m.bias.uniform_(-0.2, 0.2)
    return m


class GapHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(3, 8, 3, padding=1), bn(8)
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(8, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.bn(self.conv(x)))), 1))


class MeanHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 6, 3, stride=2), nn.Linear(6, 4)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


class SqueezeExcite(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1), bn(8)
        self.fc1, self.fc2 = nn.Conv2d(8, 4, 1), nn.Conv2d(4, 8, 1)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 1), bn(8)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(y.mean((2, 3), keepdim=True)))))
        return self.bn2(self.conv2(y * s))


class ConvPoolConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.pool, self.conv2 = nn.Conv2d(2, 6, 3), nn.AdaptiveAvgPool2d(1), nn.Conv2d(6, 3, 1)

    def forward(self, x):
        return torch.flatten(self.conv2(self.pool(self.conv1(x))), 1)


CASES = {
    "gap_head": (GapHead, (3, 10, 10)),
    "mean_head": (MeanHead, (3, 9, 9)),
    "squeeze_excite": (SqueezeExcite, (3, 8, 8)),
    "conv_pool_conv": (ConvPoolConv, (2, 7, 7)),
}


def export(model, x, path, dynamo):
    kwargs = dict(input_names=["input"], output_names=["output"], dynamo=dynamo)
    if dynamo:
        kwargs["dynamic_shapes"] = {"x": {0: torch.export.Dim("N", min=1, max=64)}}
    else:
        kwargs["dynamic_axes"] = {"input": {0: "N"}, "output": {0: "N"}}
        kwargs["opset_version"] = 13
    torch.onnx.export(model, (x,), str(path), **kwargs)


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name, (cls, shape) in CASES.items():
        torch.manual_seed(0)
        model = cls().eval()
        x = torch.randn(4, *shape)
        np.save(out / f"{name}.inputs.npy", x.numpy())
        for exporter, dynamo in [("dynamo", True), ("legacy", False)]:
            path = out / f"{name}.{exporter}.onnx"
            export(model, x, path, dynamo)
            sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
            with torch.no_grad():
                want = model(x).numpy()
            assert np.allclose(got, want, atol=1e-5, rtol=1e-4), (name, exporter)
            np.save(out / f"{name}.{exporter}.outputs.npy", got)
            manifest[f"{name}.{exporter}"] = {"input_shape": list(shape), "torch": torch.__version__}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/import"))
