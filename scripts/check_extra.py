#!/usr/bin/env python3
"""Runs MODEL.onnx in onnxruntime on INPUTS.npy (one sample at a time) and compares with OUTPUTS.npy under
|cand - ref| <= 1e-5 + 1e-4 |ref|; prints the node types and exits 0 only within tolerance."""
import sys

import numpy as np
import onnx
import onnxruntime as ort

model, inputs, outputs = sys.argv[1:4]
m = onnx.load(model)
onnx.checker.check_model(m, full_check=True)
sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
name = sess.get_inputs()[0].name
x, want = np.load(inputs), np.load(outputs)
got = np.concatenate([sess.run(None, {name: x[i : i + 1]})[0].reshape(1, -1) for i in range(len(x))])
err = np.abs(got - want.reshape(got.shape))
ok = bool(np.all(err <= 1e-5 + 1e-4 * np.abs(want.reshape(got.shape))))
print(f"{'PASS' if ok else 'FAIL'}: {model}: nodes {[n.op_type for n in m.graph.node]}, max_abs={err.max():.3e}")
sys.exit(0 if ok else 1)
