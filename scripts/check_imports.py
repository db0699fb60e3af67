#!/usr/bin/env python3
"""Imports go one way: no cycle between the crate's top-level modules.

Reads every file under src/ (the binary in src/bin/ aside), finds each `crate::` path (in `use` trees and in
code) and each `super::` path that climbs to the crate root, maps names re-exported by src/lib.rs back to
their modules, and fails with the cycle when the module graph has one. Prints the layers, lowest first.

    python3 scripts/check_imports.py [SRC_DIR]       # exit 1 on a cycle
    python3 scripts/check_imports.py --self-test     # proves it finds a planted cycle
"""
import re
import sys
import tempfile
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def code_only(text):
    """Source without comments and string literals."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    return re.sub(r"//[^\n]*", "", text)


def top_items(tree):
    """The first path segment of each branch of a use tree body `a::b, c, d::{e, f}`."""
    items, depth, cur = [], 0, ""
    for ch in tree:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return [m.group(0) for m in (re.match(IDENT, i.strip()) for i in items) if m]


def root_names(code, depth):
    """Names a file reaches at the crate root: `crate::x`, `crate::{x, y}`, and `super::` climbing `depth`+1."""
    names = []
    up = r"(?:super\s*::\s*){%d}" % (depth + 1) if depth >= 0 else None
    prefixes = [r"\bcrate\s*::\s*"] + ([r"(?<![\w:])" + up] if up else [])
    for prefix in prefixes:
        for m in re.finditer(prefix + r"(\{|" + IDENT + ")", code):
            if m.group(1) == "{":
                start, level, i = m.end(), 1, m.end()
                while i < len(code) and level:
                    level += {"{": 1, "}": -1}.get(code[i], 0)
                    i += 1
                names += top_items(code[start : i - 1])
            else:
                names.append(m.group(1))
    return names


def modules(src):
    """Top-level module name -> its files with their depth below the module (root file: 0)."""
    mods = {}
    for path in sorted(src.glob("*.rs")):
        if path.name != "lib.rs":
            mods[path.stem] = [(path, 0)]
    for d in sorted(p for p in src.iterdir() if p.is_dir() and p.name != "bin"):
        files = []
        for f in sorted(d.rglob("*.rs")):
            rel = f.relative_to(d).parts
            depth = len(rel) - (1 if f.name == "mod.rs" else 0)
            files.append((f, depth))
        mods[d.name] = files
    return mods


def reexports(lib_text):
    """Names src/lib.rs re-exports, mapped to the module they come from."""
    out = {}
    for m in re.finditer(r"pub\s+use\s+(" + IDENT + r")\s*::\s*(\{[^}]*\}|" + IDENT + ")", lib_text):
        mod, body = m.group(1), m.group(2)
        for name in top_items(body.strip("{}")) if body.startswith("{") else [body]:
            out[name] = mod
    return out


def graph(src):
    mods = modules(src)
    alias = reexports(code_only((src / "lib.rs").read_text()))
    edges = {m: set() for m in mods}
    for mod, files in mods.items():
        for path, depth in files:
            for name in root_names(code_only(path.read_text()), depth):
                target = name if name in mods else alias.get(name)
                if target and target != mod:
                    edges[mod].add(target)
    return edges


def find_cycle(edges):
    """One cycle as a list of modules, or None (depth-first search with colours)."""
    colour, stack = {m: 0 for m in edges}, []

    def visit(m):
        colour[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if colour[n] == 1:
                return stack[stack.index(n) :] + [n]
            if colour[n] == 0:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        colour[m] = 2
        return None

    for m in sorted(edges):
        if colour[m] == 0:
            found = visit(m)
            if found:
                return found
    return None


def layers(edges):
    """Modules grouped by height: a module sits one above the highest module it imports."""
    height = {}

    def h(m):
        if m not in height:
            height[m] = 1 + max((h(n) for n in edges[m]), default=-1)
        return height[m]

    out = {}
    for m in edges:
        out.setdefault(h(m), []).append(m)
    return [sorted(out[k]) for k in sorted(out)]


def check(src):
    edges = graph(src)
    cycle = find_cycle(edges)
    if cycle:
        print("import cycle between top-level modules: " + " -> ".join(cycle))
        return 1
    for i, layer in enumerate(layers(edges)):
        print(f"layer {i}: {', '.join(layer)}")
    print(f"no import cycle between {len(edges)} top-level modules")
    return 0


def self_test():
    with tempfile.TemporaryDirectory() as d:
        src = Path(d)
        (src / "lib.rs").write_text("pub mod a;\npub mod b;\npub use b::Thing;\n")
        (src / "a").mkdir()
        (src / "a" / "mod.rs").write_text("mod x;\n")
        (src / "a" / "x.rs").write_text("use super::super::Thing;\n")
        (src / "b.rs").write_text("// crate::a is only named in a comment\npub struct Thing;\n")
        assert check(src) == 0, "false alarm"
        (src / "b.rs").write_text("use crate::{a::X, Thing};\npub struct Thing;\n")
        assert check(src) == 1, "missed the cycle a -> b -> a"
    print("self-test passed")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "src"
    sys.exit(check(root))
