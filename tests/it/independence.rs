//! The reference must not share code with what it checks. Every file under `src/reference/` (subfolders
//! too) may name, of this crate, only an allow-list: `layer`, `Error`, `Result`, `Scalar`, `Shape`, and its
//! own submodules. Anything else (`use`, `pub use` re-exports, or a `crate::`/`super::` path in the code)
//! fails the test, and so does the shared size arithmetic (`geometry`, `out_dims`, `extent`) even through
//! `layer`, and the layers' index helpers (`Slice::input_index`, `ScaleShift::per_channel`, ...).

use std::path::{Path, PathBuf};

/// What a file under `src/reference/` may name at the crate root.
const ALLOWED: &[&str] = &["layer", "Error", "Result", "Scalar", "Shape", "reference"];

/// Size arithmetic the reference must redo on its own, whatever path reaches it.
const ARITHMETIC: &[&str] = &["geometry", "Geometry2d", "out_dims", "out_dim", "extent"];

/// The layers' helpers that compute indices or values the reference must work out itself: called as a
/// method or function, they are offences too.
const HELPERS: &[&str] = &[
    "out_dims",
    "out_dim",
    "extent",
    "input_index",
    "input_range",
    "per_channel",
    "matrix_is_weight",
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

/// Identifiers, `::`, and the punctuation that shapes paths and use trees.
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
            } else if ";(.{},*".contains(c) {
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

/// The paths of one use tree starting at `toks[*i]`, each prefixed with `prefix`; stops after the tree.
fn use_tree(toks: &[String], i: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    while *i < toks.len() {
        match toks[*i].as_str() {
            "::" => *i += 1,
            "{" => {
                *i += 1;
                while *i < toks.len() && toks[*i] != "}" {
                    use_tree(toks, i, &path, out);
                    if toks.get(*i).map(String::as_str) == Some(",") {
                        *i += 1;
                    }
                }
                *i += 1; // the closing brace
                return;
            }
            "," | "}" | ";" => break,
            "as" => {
                *i += 2; // `as name`
                break;
            }
            seg => {
                path.push(seg.to_string());
                *i += 1;
            }
        }
    }
    out.push(path);
}

/// Every path a file names: the leaves of its use trees, and the `crate::`/`super::` paths in its code.
fn paths(src: &str) -> Vec<Vec<String>> {
    let toks = tokens(&code_only(src));
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i] == "use" {
            i += 1;
            use_tree(&toks, &mut i, &[], &mut out);
            continue;
        }
        let starts_path = (toks[i] == "crate" || toks[i] == "super")
            && toks.get(i + 1).map(String::as_str) == Some("::")
            && (i == 0 || toks[i - 1] != "::");
        if starts_path {
            let mut p = vec![toks[i].clone()];
            let mut j = i + 1;
            while toks.get(j).map(String::as_str) == Some("::") && j + 1 < toks.len() {
                p.push(toks[j + 1].clone());
                j += 2;
            }
            out.push(p);
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// Why `path`, named in a file `depth` modules below `reference`, is not allowed (`None`: it is).
fn offence(path: &[String], depth: usize) -> Option<String> {
    let text = path.join("::");
    if let Some(a) = path.iter().find(|s| ARITHMETIC.contains(&s.as_str())) {
        return Some(format!("`{text}` names the shared size arithmetic `{a}`"));
    }
    let supers = path.iter().take_while(|s| *s == "super").count();
    let root_item = match path.first().map(String::as_str) {
        Some("crate") => path.get(1),
        Some("super") if supers > depth => path.get(supers),
        _ => return None, // own submodules, `self`, and other crates
    };
    match root_item {
        Some(item) if supers <= depth + 1 && ALLOWED.contains(&item.as_str()) => None,
        _ => Some(format!("`{text}` reaches outside the allow-list")),
    }
}

/// Every violation in one source file `depth` modules below `reference`: paths outside the allow-list,
/// and calls of the shared size arithmetic as methods or functions (`g.out_dims(..)`, `out_dim(..)`).
fn violations(src: &str, depth: usize) -> Vec<String> {
    let mut found: Vec<String> = paths(src)
        .iter()
        .filter_map(|p| offence(p, depth))
        .collect();
    let toks = tokens(&code_only(src));
    for w in toks.windows(2) {
        if HELPERS.contains(&w[0].as_str()) && w[1] == "(" {
            found.push(format!("calls the shared size arithmetic `{}`", w[0]));
        }
    }
    found
}

/// Every `.rs` file under `dir`, with its module depth below `reference` (`mod.rs` of `dir` is 0).
fn sources(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, usize)>) {
    for entry in std::fs::read_dir(dir).expect("a directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, depth + 1, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let is_mod = path.file_name().is_some_and(|n| n == "mod.rs");
            out.push((path, if is_mod { depth } else { depth + 1 }));
        }
    }
}

/// Every violation of every file under `dir`.
fn scan(dir: &Path) -> (usize, Vec<String>) {
    let mut files = Vec::new();
    sources(dir, 0, &mut files);
    let bad = files
        .iter()
        .flat_map(|(path, depth)| {
            let src = std::fs::read_to_string(path).expect("source");
            violations(&src, *depth)
                .into_iter()
                .map(move |v| format!("{}: {v}", path.display()))
        })
        .collect();
    (files.len(), bad)
}

#[test]
fn reference_imports_only_the_allow_list() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/reference");
    let (files, bad) = scan(&dir);
    assert!(
        files >= 6,
        "expected the reference's files in {}",
        dir.display()
    );
    assert!(
        bad.is_empty(),
        "the reference shares code it should check:\n{}",
        bad.join("\n")
    );
}

/// The scanner catches each kind of mention, and ignores comments, strings and allowed names.
#[test]
fn scanner_catches_planted_mentions() {
    let planted = [
        ("use crate::lower::toeplitz;", 1),
        ("use crate::{infer, Error};", 1),
        ("use crate::{\n    matrix::Csr,\n    Scalar,\n};", 1),
        ("pub use crate::compose::collapse;", 0),
        ("let y = crate::compose::collapse(&c, s);", 1),
        ("let d = crate::verify::allclose(a, b);", 2),
        ("use super::super::infer;", 1),
        ("use super::infer;", 0),
        ("use super::super::super::layer::Layer;", 1),
        ("use crate::layer::Geometry2d;", 1),
        ("let g = crate::layer::geometry::out_dim(1, 0, 0, 1, 1);", 1),
        ("use crate::{layer::{Layer, geometry::out_dim}, Shape};", 1),
        ("let d = g.out_dims([h, w]);", 1),
        ("let e = g.extent(0);", 1),
        ("let k = s.input_index(i);", 1),
        ("let (scale, shift) = s.per_channel(shape)?;", 1),
    ];
    for (src, depth) in planted {
        assert!(!violations(src, depth).is_empty(), "missed: {src}");
    }
    let clean = [
        (
            "// the lowering and the matrix code are checked by this module",
            1,
        ),
        ("/// uses `infer` nowhere", 1),
        ("let s = \"crate::lower::toeplitz\";", 1),
        ("use crate::layer::{Conv2d, Layer, Linear};", 1),
        ("use crate::{Error, Result, Scalar, Shape};", 0),
        ("use super::{forward, wrong};", 1),
        ("use super::super::layer::Layer;", 1),
        ("use ndarray::{Array1, Array2};\nuse rayon::prelude::*;", 1),
        ("pub use probe::{probe, Probe};", 0),
        ("let g = c.geometry();", 1),
    ];
    for (src, depth) in clean {
        assert!(
            violations(src, depth).is_empty(),
            "false alarm on {src}: {:?}",
            violations(src, depth)
        );
    }
}

/// The directory scan recurses: a planted file two folders down is found.
#[test]
fn scan_finds_a_planted_file_in_a_subfolder() {
    let dir = std::env::temp_dir().join(format!("lc-independence-{}", std::process::id()));
    let deep = dir.join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(dir.join("mod.rs"), "use crate::Shape;\n").unwrap();
    std::fs::write(deep.join("planted.rs"), "use crate::compose::collapse;\n").unwrap();
    let (files, bad) = scan(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(files, 2);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("planted.rs"), "{bad:?}");
}
