//! Draws the benchmark plot as an SVG from the JSON lines of `examples/compare`: for every size, one bar
//! per method (median time, log scale), named as in the tables of `docs/benchmarks.md`.
//!
//! `cargo run --release --features bench --example compare -- --size all > docs/bench/ours.jsonl`
//! `cargo run --release --example plot_bench -- docs/bench/ours.jsonl docs/images/bench.svg [--peers peers.json]`
//!
//! `--peers` adds the `torch_probe_chunked` and `torch_adjoint` (`conv_transpose2d`) medians of
//! `probe_peers.py --json-out`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

const W: f64 = 900.0;
const H: f64 = 520.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 46.0;
const BOTTOM: f64 = 125.0;
/// The method key of the JSON, the legend entry (the name of the tables in `docs/benchmarks.md`), the colour.
const METHODS: [(&str, &str, &str); 6] = [
    ("probe", "probe (ours)", "#d62728"),
    (
        "torch_probe_chunked",
        "torch_probe_chunked (PyTorch)",
        "#ff9896",
    ),
    ("dense", "dense (ours)", "#9467bd"),
    ("sparse", "sparse (ours)", "#8c564b"),
    (
        "torch_adjoint",
        "torch_adjoint (PyTorch conv_transpose2d)",
        "#1f77b4",
    ),
    ("im2col", "im2col / auto (ours)", "#2ca02c"),
];

type Medians = BTreeMap<(String, String), f64>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output, peers) = match args.as_slice() {
        [i, o] => (i, o, None),
        [i, o, flag, p] if flag == "--peers" => (i, o, Some(p)),
        _ => return Err("usage: plot_bench RESULTS.jsonl OUT.svg [--peers PEERS.json]".into()),
    };
    let (sizes, mut medians) = read_ours(input)?;
    if let Some(path) = peers {
        read_peers(path, &sizes, &mut medians)?;
    }
    if sizes.is_empty() || medians.is_empty() {
        return Err(format!("{input}: no benchmark lines").into());
    }
    let svg = plot(&sizes, &medians)?;
    if let Some(dir) = std::path::Path::new(output).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(output, svg)?;
    eprintln!("wrote {output}");
    Ok(())
}

/// The sizes in file order and the median of every (size, method) measured.
fn read_ours(path: &str) -> Result<(Vec<String>, Medians), Box<dyn std::error::Error>> {
    let (mut sizes, mut medians) = (Vec::<String>::new(), Medians::new());
    for line in std::fs::read_to_string(path)?
        .lines()
        .filter(|l| l.starts_with('{'))
    {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let (Some(size), Some(method)) = (v["size"].as_str(), v["method"].as_str()) else {
            continue;
        };
        if size.starts_with("gemm") {
            continue;
        }
        if !sizes.iter().any(|s| s == size) {
            sizes.push(size.to_string());
        }
        if let Some(t) = v["median_s"].as_f64() {
            medians.insert((size.to_string(), method.to_string()), t);
        }
    }
    Ok((sizes, medians))
}

fn read_peers(
    path: &str,
    sizes: &[String],
    medians: &mut Medians,
) -> Result<(), Box<dyn std::error::Error>> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    for size in sizes {
        for method in ["torch_probe_chunked", "torch_adjoint"] {
            if let Some(t) = v[size.as_str()]["methods"][method]["median_s"].as_f64() {
                medians.insert((size.clone(), method.to_string()), t);
            }
        }
    }
    Ok(())
}

fn plot(sizes: &[String], medians: &Medians) -> Result<String, std::fmt::Error> {
    let methods: Vec<_> = METHODS
        .iter()
        .filter(|(key, ..)| medians.keys().any(|(_, m)| m == key))
        .collect();
    let lo = medians
        .values()
        .cloned()
        .fold(f64::INFINITY, f64::min)
        .log10()
        .floor();
    let hi = (1.5 * medians.values().cloned().fold(0.0, f64::max))
        .log10()
        .max(lo + 1.0);
    let plot_w = W - LEFT - RIGHT;
    let bottom = H - BOTTOM;
    let py = |t: f64| TOP + (hi - t.log10()) / (hi - lo) * (bottom - TOP);
    let group = plot_w / sizes.len() as f64;
    let bar = 0.8 * group / methods.len() as f64;
    let mut svg = String::new();
    writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="DejaVu Sans, sans-serif" font-size="13">"#
    )?;
    writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#)?;
    writeln!(
        svg,
        r#"<text x="{}" y="26" font-size="16" text-anchor="middle">Time to collapse Conv2d -> Flatten -> Linear (float32, median)</text>"#,
        LEFT + plot_w / 2.0
    )?;
    for e in lo as i32..=hi.floor() as i32 {
        let y = py(10f64.powi(e));
        writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 8.0,
            y + 4.0,
            label(10f64.powi(e))
        )?;
    }
    for (g, size) in sizes.iter().enumerate() {
        let x0 = LEFT + g as f64 * group + 0.1 * group;
        for (k, (key, _, colour)) in methods.iter().enumerate() {
            let x = x0 + k as f64 * bar;
            match medians.get(&(size.clone(), key.to_string())) {
                Some(&t) => writeln!(
                    svg,
                    r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{size}, {key}: {}</title></rect>"#,
                    py(t),
                    bar - 1.0,
                    bottom - py(t),
                    label(t)
                )?,
                None => writeln!(
                    svg,
                    r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#555" text-anchor="start" transform="rotate(-90 {:.1} {:.1})">skipped</text>"##,
                    x + bar / 2.0 + 3.5,
                    bottom - 4.0,
                    x + bar / 2.0 + 3.5,
                    bottom - 4.0
                )?,
            }
        }
        writeln!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{size}</text>"#,
            LEFT + (g as f64 + 0.5) * group,
            bottom + 20.0
        )?;
    }
    writeln!(
        svg,
        r#"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{bottom}" stroke="black"/><line x1="{LEFT}" x2="{}" y1="{bottom}" y2="{bottom}" stroke="black"/>"#,
        W - RIGHT
    )?;
    writeln!(
        svg,
        r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="14">benchmark size</text>"#,
        LEFT + plot_w / 2.0,
        bottom + 44.0
    )?;
    let mid = (TOP + bottom) / 2.0;
    writeln!(
        svg,
        r#"<text x="22" y="{mid:.1}" text-anchor="middle" font-size="14" transform="rotate(-90 22 {mid:.1})">median time (s, log scale)</text>"#
    )?;
    legend(&mut svg, &methods, bottom + 66.0)?;
    writeln!(svg, "</svg>")?;
    Ok(svg)
}

/// The legend in two columns under the axis label, each entry well inside the picture.
fn legend(svg: &mut String, methods: &[&(&str, &str, &str)], top: f64) -> std::fmt::Result {
    let column = (W - LEFT - RIGHT) / 2.0;
    for (k, (_, name, colour)) in methods.iter().enumerate() {
        let x = LEFT + (k % 2) as f64 * column;
        let y = top + 22.0 * (k / 2) as f64;
        writeln!(
            svg,
            r#"<rect x="{x:.1}" y="{:.1}" width="14" height="14" fill="{colour}"/><text x="{:.1}" y="{:.1}">{name}</text>"#,
            y - 11.0,
            x + 20.0,
            y
        )?;
    }
    Ok(())
}

fn label(t: f64) -> String {
    if t >= 1.0 {
        format!("{t:.0} s")
    } else if t >= 1e-3 {
        format!("{:.0} ms", t * 1e3)
    } else {
        format!("{:.0} µs", t * 1e6)
    }
}
