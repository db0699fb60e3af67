//! The chapter pictures: `draw::chapters` writes every one of them, each a non-empty, valid PNG or SVG.
//! (The chapters' code blocks themselves run as doc-tests, through `Guide01`..`Guide09` in `src/lib.rs`;
//! their Python blocks run in `python/tests/test_docs.py`.)

#[cfg(feature = "draw")]
#[test]
fn chapter_pictures_are_valid_png_or_svg() {
    let dir = std::env::temp_dir().join(format!("linear_collapse_docs_{}", std::process::id()));
    let written = linear_collapse::draw::chapters(&dir).expect("pictures drawn");
    assert!(written.len() >= 5, "{written:?}");
    for path in &written {
        let bytes = std::fs::read(path).expect("readable");
        assert!(bytes.len() > 100, "{} is nearly empty", path.display());
        assert!(bytes.len() < 300_000, "{} is over 300 KB", path.display());
        match path.extension().and_then(|e| e.to_str()) {
            Some("png") => {
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
                assert_eq!(&bytes[12..16], b"IHDR", "{}", path.display());
                assert_eq!(&bytes[bytes.len() - 8..bytes.len() - 4], b"IEND");
            }
            Some("svg") => {
                let text = String::from_utf8(bytes).expect("utf-8");
                assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
            }
            other => panic!("unexpected picture type {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Every chapter is listed in `docs/README.md` and compiled as a doc-test in `src/lib.rs`.
#[test]
fn chapters_are_indexed_and_compiled() {
    let root = env!("CARGO_MANIFEST_DIR");
    let index = std::fs::read_to_string(format!("{root}/docs/README.md")).expect("index");
    let lib = std::fs::read_to_string(format!("{root}/src/lib.rs")).expect("lib.rs");
    let mut chapters: Vec<String> = std::fs::read_dir(format!("{root}/docs"))
        .expect("docs/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with('0') && n.ends_with(".md"))
        .collect();
    chapters.sort();
    assert_eq!(chapters.len(), 9, "{chapters:?}");
    for name in &chapters {
        assert!(
            index.contains(&format!("({name})")),
            "{name} is not in docs/README.md"
        );
        assert!(
            lib.contains(&format!("include_str!(\"../docs/{name}\")")),
            "{name} is not a doc-test in src/lib.rs"
        );
    }
}

/// No page of the documentation points outside the repository (the design notes it once cited live in
/// `docs/conventions.md` now).
#[test]
fn docs_are_self_contained() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut pages = vec![format!("{root}/README.md")];
    for e in std::fs::read_dir(format!("{root}/docs")).expect("docs/") {
        let path = e.expect("entry").path();
        if path.extension().is_some_and(|x| x == "md" || x == "svg") {
            pages.push(path.display().to_string());
        }
    }
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("readable");
        for outside in ["DESIGN.md", "../shared", "STYLE.md"] {
            assert!(!text.contains(outside), "{page} refers to {outside}");
        }
    }
}
