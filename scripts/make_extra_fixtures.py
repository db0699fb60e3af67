#!/usr/bin/env python3
"""Hand-written ONNX graphs for corner cases of the rewrite that the exporters produce only inside large
models, with inputs and onnxruntime's outputs beside each:

    python3 scripts/make_extra_fixtures.py tests/data/extra      # needs onnx, onnxruntime, numpy (pip)

- shape_of_internal: a `Shape` of a value inside a linear run, read by a node outside it (LeViT's
  `reshape_as`): MatMul -> Mul -> MatMul, with Reshape(Relu(.), Shape(first MatMul)).
- shared_bias: two Linear layers sharing one zero bias initializer (the legacy exporter keeps one copy of
  equal tensors): Add(shift) -> MatMul -> Add(zero) -> Relu -> MatMul -> Add(zero). Folding the shift
  into the first Linear writes a new bias while the shared zero one stays for the second: the file would
  grow, so the default keeps the run.
"""
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)


def tensor(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def shape_of_internal():
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["t"]),
        helper.make_node("Mul", ["t", "c"], ["u"]),
        helper.make_node("MatMul", ["u", "W2"], ["v"]),
        helper.make_node("Shape", ["t"], ["s"]),
        helper.make_node("Relu", ["v"], ["r"]),
        helper.make_node("Reshape", ["r", "s"], ["y"]),
    ]
    inits = [
        tensor("W1", rng.standard_normal((6, 6))),
        tensor("W2", rng.standard_normal((6, 6))),
        tensor("c", [0.5]),
    ]
    return nodes, inits, [1, 4, 6], [1, 4, 6]


def shared_bias():
    nodes = [
        helper.make_node("Add", ["x", "shift"], ["a"]),
        helper.make_node("MatMul", ["a", "W1"], ["b"]),
        helper.make_node("Add", ["b", "zero"], ["c"]),
        helper.make_node("Relu", ["c"], ["d"]),
        helper.make_node("MatMul", ["d", "W2"], ["e"]),
        helper.make_node("Add", ["e", "zero"], ["y"]),
    ]
    inits = [
        tensor("shift", rng.standard_normal(8)),
        tensor("W1", rng.standard_normal((8, 16))),
        tensor("W2", rng.standard_normal((16, 16))),
        tensor("zero", np.zeros(16)),
    ]
    return nodes, inits, [1, 4, 8], [1, 4, 16]


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, make in [("shape_of_internal", shape_of_internal), ("shared_bias", shared_bias)]:
        nodes, inits, x_shape, y_shape = make()
        graph = helper.make_graph(
            nodes,
            name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, y_shape)],
            inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(model)
        path = out / f"{name}.onnx"
        onnx.save(model, path)
        x = rng.standard_normal(x_shape).astype(np.float32)
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        np.save(out / f"{name}.inputs.npy", x)
        np.save(out / f"{name}.outputs.npy", sess.run(None, {"x": x})[0])
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/extra")
