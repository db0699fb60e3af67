#!/usr/bin/env python3
"""Writes src/io/onnx/operators.rs: every version of every operator of the default (ai.onnx) operator
set, with the numbers of inputs and outputs it takes, from the installed onnx package's schemas.

    python scripts/make_operator_table.py      # then cargo fmt
"""
import os

import onnx
import onnx.defs

rows = sorted(
    {
        (s.name, s.since_version, s.min_input, s.max_input, s.min_output, s.max_output)
        for s in onnx.defs.get_all_schemas_with_history()
        if s.domain in ("", "ai.onnx")
    }
)

out = os.path.join(os.path.dirname(__file__), "..", "src", "io", "onnx", "operators.rs")
with open(out, "w") as f:
    f.write(
        "//! Every version of every operator of the default (`ai.onnx`) operator set and how many inputs\n"
        f"//! and outputs it takes, from onnx {onnx.__version__}'s schemas (`scripts/make_operator_table.py`\n"
        "//! writes this file).\n\n"
        "/// One version of an operator.\n"
        "pub(crate) struct Operator {\n"
        "    pub(crate) name: &'static str,\n"
        "    /// The operator-set version this definition starts at.\n"
        "    pub(crate) since: i64,\n"
        "    pub(crate) inputs: (usize, usize),\n"
        "    pub(crate) outputs: (usize, usize),\n"
        "}\n\n"
        "const fn op(name: &'static str, since: i64, inputs: (usize, usize), outputs: (usize, usize)) -> Operator {\n"
        "    Operator { name, since, inputs, outputs }\n"
        "}\n\n"
        "/// Sorted by name, then version.\n"
        "pub(crate) const OPERATORS: &[Operator] = &[\n"
    )
    for name, since, lo, hi, olo, ohi in rows:
        f.write(f'    op("{name}", {since}, ({lo}, {hi}), ({olo}, {ohi})),\n')
    f.write("];\n")
print(f"{len(rows)} operator versions -> {os.path.normpath(out)}")
