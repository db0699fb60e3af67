#!/usr/bin/env python3
"""Writes src/io/onnx/operators.rs: every operator of the default (ai.onnx) operator set with the first
version that has it, from the installed onnx package's schemas.

    python scripts/make_operator_table.py      # then cargo fmt
"""
import os

import onnx
import onnx.defs

first = {}
for s in onnx.defs.get_all_schemas_with_history():
    if s.domain in ("", "ai.onnx"):
        first[s.name] = min(first.get(s.name, s.since_version), s.since_version)

out = os.path.join(os.path.dirname(__file__), "..", "src", "io", "onnx", "operators.rs")
with open(out, "w") as f:
    f.write(
        "//! Every operator of the default (`ai.onnx`) operator set and the first version that has it,\n"
        f"//! from onnx {onnx.__version__}'s schemas (`scripts/make_operator_table.py` writes this file).\n\n"
        "/// `(op type, first version)`, sorted by op type.\n"
        "pub(crate) const OPERATORS: &[(&str, i64)] = &[\n"
    )
    for name in sorted(first):
        f.write(f'    ("{name}", {first[name]}),\n')
    f.write("];\n")
print(f"{len(first)} operators -> {os.path.normpath(out)}")
