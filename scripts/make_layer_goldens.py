#!/usr/bin/env python3
"""Writes tests/data/layers/cases.json: the layers of any rank (Linear over the last axis, Permute, Slice,
ScaleShift, Expand, Reduce, Resize, DepthToSpace, SpaceToDepth) run by an implementation that is not ours.

Each ONNX case is a one-node model (batch axis 1 in front of the sample) run in onnxruntime; each PyTorch
case calls torch.nn / torch.nn.functional. Inputs are seeded float32; outputs are float32 as the runtime
gave them. The Rust test (tests/it/golden_layers.rs) builds the same layer from the JSON description and
checks both its lowered matrix and the reference forward pass against `y`.

    python3 scripts/make_layer_goldens.py   # needs numpy, onnx, onnxruntime, torch
"""
import json
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "layers" / "cases.json"
rng = np.random.default_rng(0)
QUIET = ort.SessionOptions()
QUIET.log_severity_level = 3  # the outputs' shapes are left for the runtime to infer


def run_onnx(op, sample, attrs, consts):
    """One `op` node on X of shape (1, *sample) and the constant inputs `consts` (name -> array or None for
    an empty optional input), returning the output without its batch axis."""
    x = rng.uniform(-1, 1, (1, *sample)).astype(np.float32)
    inits, names = [], ["X"]
    for name, value in consts:
        if value is None:
            names.append("")
            continue
        inits.append(numpy_helper.from_array(value, name))
        names.append(name)
    node = helper.make_node(op, names, ["Y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    sess = ort.InferenceSession(model.SerializeToString(), QUIET, providers=["CPUExecutionProvider"])
    y = sess.run(None, {"X": x})[0]
    return x[0], y[0]


def case(name, layer, x, y, oracle):
    return {
        "name": name,
        "oracle": oracle,
        "layer": layer,
        "input_shape": list(x.shape),
        "x": [float(v) for v in x.ravel()],
        "output_shape": list(y.shape),
        "y": [float(v) for v in np.asarray(y, dtype=np.float32).ravel()],
    }


def onnx_resize():
    out = []
    modes = [
        ("linear", None),
        ("nearest", "round_prefer_floor"),
        ("nearest", "round_prefer_ceil"),
        ("nearest", "floor"),
        ("nearest", "ceil"),
    ]
    coords = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "half_pixel_symmetric"]
    targets = [
        ("scales", (2, 3, 4), [1.0, 2.0, 1.5]),
        ("scales", (2, 5, 4), [1.0, 0.6, 0.75]),
        ("scales", (1, 3, 5), [1.0, 1.7, 0.5]),  # n*s not integers: 5.1 and 2.5
        ("sizes", (2, 3, 4), [2, 7, 1]),
        ("sizes", (2, 4, 4), [2, 1, 6]),
        ("sizes", (3, 5), [3, 2]),
        ("scales", (6,), [1.5]),
    ]
    for mode, nearest in modes:
        for coord in coords:
            for kind, sample, target in targets:
                attrs = {"mode": mode, "coordinate_transformation_mode": coord}
                if nearest:
                    attrs["nearest_mode"] = nearest
                full = [1] + list(target) if kind == "sizes" else [1.0] + list(target)
                arr = np.array(full, dtype=np.int64 if kind == "sizes" else np.float32)
                consts = [("roi", None), ("scales", arr)] if kind == "scales" else [("roi", None), ("scales", None), ("sizes", arr)]
                x, y = run_onnx("Resize", sample, attrs, consts)
                layer = {"type": "Resize", "mode": mode, "nearest_mode": nearest, "coordinate": coord}
                # the scales as float32 exactly as the runtime read them
                layer[kind] = [float(np.float32(v)) for v in target] if kind == "scales" else list(target)
                out.append(case(f"Resize {mode} {nearest} {coord} {kind} {target} on {sample}", layer, x, y, "onnxruntime"))
    return out


def onnx_others():
    out = []
    for mode in ["DCR", "CRD"]:
        for sample, b in [((8, 2, 3), 2), ((9, 1, 2), 3), ((4, 2, 2), 1)]:
            x, y = run_onnx("DepthToSpace", sample, {"blocksize": b, "mode": mode}, [])
            out.append(case(f"DepthToSpace {mode} b{b} on {sample}", {"type": "DepthToSpace", "block": b, "mode": mode}, x, y, "onnxruntime"))
    for sample, b in [((2, 4, 6), 2), ((1, 3, 6), 3)]:
        x, y = run_onnx("SpaceToDepth", sample, {"blocksize": b}, [])
        out.append(case(f"SpaceToDepth b{b} on {sample}", {"type": "SpaceToDepth", "block": b}, x, y, "onnxruntime"))
    # Slice: (sample, axis, start, end, step) in ONNX terms, and our (start, step, len) resolved here
    for sample, axis, start, end, step in [
        ((3, 5), 1, 4, -6, -2),
        ((3, 5), 0, 0, 3, 2),
        ((2, 3, 4), 2, -1, -5, -1),
        ((2, 3, 4), 1, 1, 100, 1),
        ((6,), 0, 5, 0, -3),
    ]:
        consts = [(n, np.array([v], dtype=np.int64)) for n, v in [("starts", start), ("ends", end), ("axes", axis + 1), ("steps", step)]]
        x, y = run_onnx("Slice", sample, {}, consts)
        picked = list(range(sample[axis]))[slice(start, end if end >= -sample[axis] else None, step)]
        layer = {"type": "Slice", "axis": axis, "start": picked[0], "step": step, "len": len(picked)}
        out.append(case(f"Slice axis {axis} {start}:{end}:{step} on {sample}", layer, x, y, "onnxruntime"))
    for sample, target in [((3, 1), (2, 3, 6)), ((1, 4), (3, 4)), ((2, 1, 3), (2, 2, 2, 3)), ((1,), (2, 2))]:
        x, y = run_onnx("Expand", sample, {}, [("shape", np.array([1, *target], dtype=np.int64))])
        out.append(case(f"Expand {sample} to {target}", {"type": "Expand", "shape": list(target)}, x, y, "onnxruntime"))
    for op in ["ReduceMean", "ReduceSum"]:
        for sample, axes, keep in [((3, 2, 2), [1], 1), ((3, 2, 2), [0, 2], 0), ((2, 3), [0, 1], 0), ((2, 1, 3, 2), [3, 1], 1)]:
            # opset 18+: the axes are an input of both
            consts = [("axes", np.array([a + 1 for a in axes], dtype=np.int64))]
            x, y = run_onnx(op, sample, {"keepdims": keep}, consts)
            layer = {"type": "Reduce", "op": op[6:], "axes": axes, "keepdims": bool(keep)}
            out.append(case(f"{op} {axes} keepdims {keep} on {sample}", layer, x, y, "onnxruntime"))
    # Mul then Add by constants broadcast to the sample: y = x * scale + shift
    for sample, scale_shape, shift_shape in [((3, 2, 2), (3, 1, 1), ()), ((2, 3), (3,), (2, 1)), ((2, 2, 1, 3), None, (2, 1, 1, 1))]:
        x = rng.uniform(-1, 1, (1, *sample)).astype(np.float32)
        scale = None if scale_shape is None else rng.uniform(-2, 2, scale_shape).astype(np.float32)
        shift = None if shift_shape is None else rng.uniform(-1, 1, shift_shape).astype(np.float32)
        nodes, inits, cur = [], [], "X"
        if scale is not None:
            inits.append(numpy_helper.from_array(scale, "s"))
            nodes.append(helper.make_node("Mul", [cur, "s"], ["M"]))
            cur = "M"
        if shift is not None:
            inits.append(numpy_helper.from_array(shift, "b"))
            nodes.append(helper.make_node("Add", [cur, "b"], ["A"]))
            cur = "A"
        nodes.append(helper.make_node("Identity", [cur], ["Y"]))
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
                                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [])], initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
        model.ir_version = 9
        y = ort.InferenceSession(model.SerializeToString(), QUIET, providers=["CPUExecutionProvider"]).run(None, {"X": x})[0]
        layer = {"type": "ScaleShift",
                 "scale": None if scale is None else {"shape": list(scale.shape), "values": [float(v) for v in scale.ravel()]},
                 "shift": None if shift is None else {"shape": list(shift.shape), "values": [float(v) for v in shift.ravel()]}}
        out.append(case(f"Mul/Add {scale_shape} {shift_shape} on {sample}", layer, x[0], y[0], "onnxruntime"))
    # Transpose of any rank (the batch axis stays first)
    for sample, perm in [((2, 3, 4, 5), [3, 1, 0, 2]), ((2, 3), [1, 0]), ((1, 2, 3, 2, 2), [4, 0, 3, 1, 2])]:
        x, y = run_onnx("Transpose", sample, {"perm": [0] + [p + 1 for p in perm]}, [])
        out.append(case(f"Transpose {perm} on {sample}", {"type": "Permute", "dims": perm}, x, y, "onnxruntime"))
    return out


def torch_cases():
    out = []
    torch.manual_seed(0)
    # nn.Linear on (2, 3, 4): over the last axis
    fc = torch.nn.Linear(4, 3)
    x = torch.rand(1, 2, 3, 4) * 2 - 1
    with torch.no_grad():
        y = fc(x)
    layer = {"type": "Linear", "weight": fc.weight.detach().numpy().ravel().tolist(), "out": 3, "in": 4,
             "bias": fc.bias.detach().numpy().tolist()}
    out.append(case("nn.Linear(4, 3) on (2, 3, 4)", layer, x[0].numpy(), y[0].numpy(), "pytorch"))
    # F.interpolate: bilinear (align_corners False and True), nearest
    x = torch.rand(1, 2, 3, 4) * 2 - 1
    for size in [(5, 7), (2, 3), (6, 8)]:
        for align in [False, True]:
            y = torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=align)
            coord = "align_corners" if align else "pytorch_half_pixel"
            layer = {"type": "Resize", "mode": "linear", "nearest_mode": None, "coordinate": coord, "sizes": [2, *size]}
            out.append(case(f"F.interpolate bilinear align_corners={align} size {size}", layer, x[0].numpy(), y[0].numpy(), "pytorch"))
        y = torch.nn.functional.interpolate(x, size=size, mode="nearest")
        layer = {"type": "Resize", "mode": "nearest", "nearest_mode": "floor", "coordinate": "asymmetric", "sizes": [2, *size]}
        out.append(case(f"F.interpolate nearest size {size}", layer, x[0].numpy(), y[0].numpy(), "pytorch"))
    # pixel_shuffle is DepthToSpace CRD; pixel_unshuffle its inverse
    x = torch.rand(1, 8, 2, 3) * 2 - 1
    y = torch.nn.functional.pixel_shuffle(x, 2)
    out.append(case("F.pixel_shuffle(2) on (8, 2, 3)", {"type": "DepthToSpace", "block": 2, "mode": "CRD"}, x[0].numpy(), y[0].numpy(), "pytorch"))
    # x.mean over dims, x.flip, x.expand
    x = torch.rand(1, 2, 3, 4) * 2 - 1
    y = x.mean(dim=(1, 3), keepdim=True)
    out.append(case("x.mean((1, 3), keepdim=True)", {"type": "Reduce", "op": "Mean", "axes": [0, 2], "keepdims": True}, x[0].numpy(), y[0].numpy(), "pytorch"))
    y = x.flip(2)
    out.append(case("x.flip(2)", {"type": "Slice", "axis": 1, "start": 2, "step": -1, "len": 3}, x[0].numpy(), y[0].numpy(), "pytorch"))
    return out


def main():
    cases = onnx_resize() + onnx_others() + torch_cases()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"generator": "scripts/make_layer_goldens.py", "onnxruntime": ort.__version__,
                               "torch": torch.__version__, "cases": cases}, indent=None))
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
