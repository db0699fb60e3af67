//! The reference must not share code with what it checks: no `use` or path in `src/reference/*.rs` may name
//! `lower`, `matrix`, `compose` or `infer`, nor the shared size arithmetic (`geometry`, `out_dims`).

use std::path::Path;

/// Modules the reference must not import, and the size arithmetic it must redo on its own.
const FORBIDDEN: &[&str] = &[
    "lower",
    "matrix",
    "compose",
    "infer",
    "geometry",
    "Geometry2d",
    "out_dims",
    "out_dim",
    "extent",
];

/// Source text with `//` comments and string literals removed (doc comments may mention anything).
fn code_only(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for line in src.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_str {
                if c == '"' && prev != '\\' {
                    in_str = false;
                }
            } else if c == '"' {
                in_str = true;
            } else if c == '/' && chars.peek() == Some(&'/') {
                break;
            } else {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// Identifiers and `::` separators, in order.
fn tokens(code: &str) -> Vec<String> {
    let mut toks = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            cur.push(c);
        } else {
            if !cur.is_empty() {
                toks.push(std::mem::take(&mut cur));
            }
            if c == ':' && chars.get(i + 1) == Some(&':') {
                toks.push("::".into());
                i += 1;
            } else if c == ';' || c == '(' || c == '.' {
                toks.push(c.to_string());
            }
        }
        i += 1;
    }
    if !cur.is_empty() {
        toks.push(cur);
    }
    toks
}

/// Every offending mention: an identifier of [`FORBIDDEN`] inside a `use` item, as a path segment
/// (`x::`, `::x`), or called as a function or method (`x(`, `.x(`).
fn violations(src: &str) -> Vec<String> {
    let toks = tokens(&code_only(src));
    let mut found = Vec::new();
    let mut in_use = false;
    for (i, t) in toks.iter().enumerate() {
        if t == "use" {
            in_use = true;
        } else if t == ";" {
            in_use = false;
        }
        if !FORBIDDEN.contains(&t.as_str()) {
            continue;
        }
        let next = toks.get(i + 1).map(String::as_str);
        let prev = i.checked_sub(1).map(|p| toks[p].as_str());
        let is_path = next == Some("::") || prev == Some("::");
        let is_call =
            next == Some("(") && t.contains("out_dim") || prev == Some(".") && t == "extent";
        if in_use || is_path || is_call {
            let kind = if in_use {
                "use"
            } else if is_path {
                "path"
            } else {
                "call"
            };
            found.push(format!("{kind} mentioning `{t}`"));
        }
    }
    found
}

#[test]
fn reference_imports_nothing_it_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/reference");
    let mut files = 0;
    let mut bad = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/reference") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            files += 1;
            let src = std::fs::read_to_string(&path).expect("source");
            bad.extend(
                violations(&src)
                    .into_iter()
                    .map(|v| format!("{}: {v}", path.display())),
            );
        }
    }
    assert!(
        files >= 2,
        "expected mod.rs and probe.rs in {}",
        dir.display()
    );
    assert!(
        bad.is_empty(),
        "the reference shares code it should check:\n{}",
        bad.join("\n")
    );
}

/// The scanner itself catches each kind of mention, and ignores comments and strings.
#[test]
fn scanner_catches_planted_mentions() {
    let planted = [
        "use crate::lower::toeplitz;",
        "use crate::{infer, Error};",
        "use crate::{\n    matrix::Csr,\n    Scalar,\n};",
        "let y = crate::compose::collapse(&c, s);",
        "let d = g.out_dims([h, w]);",
        "let e = g.extent(0);",
        "use crate::layer::Geometry2d;",
        "let g = crate::layer::geometry::out_dim(1, 0, 0, 1, 1);",
    ];
    for src in planted {
        assert!(!violations(src).is_empty(), "missed: {src}");
    }
    let clean = [
        "// the lowering and the matrix code are checked by this module",
        "/// uses `infer` nowhere",
        "let s = \"lower::toeplitz\";",
        "let g = c.geometry();",
        "use crate::layer::{Conv2d, Layer, Linear};",
    ];
    for src in clean {
        assert!(
            violations(src).is_empty(),
            "false alarm on {src}: {:?}",
            violations(src)
        );
    }
}
