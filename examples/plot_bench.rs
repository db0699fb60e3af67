//! Draws the benchmark curves (time against size, one line per method, log scale) as an SVG from the JSON
//! lines of `examples/compare`.
//!
//! `cargo run --release --features bench --example compare -- --size all > docs/bench.jsonl`
//! `cargo run --release --example plot_bench -- docs/bench/ours.jsonl docs/images/bench.svg [--peers peers.json]`
//!
//! `--peers` adds the `torch_probe_chunked` and `torch_adjoint` (`conv_transpose2d`) medians of
//! `probe_peers.py --json-out`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

const W: f64 = 760.0;
const H: f64 = 460.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const METHODS: [(&str, &str); 6] = [
    ("probe", "#d62728"),
    ("torch_probe_chunked", "#ff9896"),
    ("dense", "#9467bd"),
    ("sparse", "#8c564b"),
    ("torch_adjoint", "#1f77b4"),
    ("im2col", "#2ca02c"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output, peers) = match args.as_slice() {
        [i, o] => (i, o, None),
        [i, o, flag, p] if flag == "--peers" => (i, o, Some(p)),
        _ => return Err("usage: plot_bench RESULTS.jsonl OUT.svg [--peers PEERS.json]".into()),
    };
    let mut sizes: Vec<String> = Vec::new();
    let mut series: BTreeMap<String, Vec<(usize, f64)>> = BTreeMap::new();
    for line in std::fs::read_to_string(input)?
        .lines()
        .filter(|l| l.starts_with('{'))
    {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let (Some(size), Some(method), Some(t)) = (
            v["size"].as_str(),
            v["method"].as_str(),
            v["median_s"].as_f64(),
        ) else {
            continue;
        };
        if size.starts_with("gemm") {
            continue;
        }
        let x = match sizes.iter().position(|s| s == size) {
            Some(x) => x,
            None => {
                sizes.push(size.to_string());
                sizes.len() - 1
            }
        };
        series.entry(method.to_string()).or_default().push((x, t));
    }
    if let Some(path) = peers {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        for (x, size) in sizes.iter().enumerate() {
            for method in ["torch_probe_chunked", "torch_adjoint"] {
                if let Some(t) = v[size.as_str()]["methods"][method]["median_s"].as_f64() {
                    series.entry(method.to_string()).or_default().push((x, t));
                }
            }
        }
    }
    if sizes.is_empty() {
        return Err(format!("{input}: no benchmark lines").into());
    }
    let all: Vec<f64> = series.values().flatten().map(|&(_, t)| t).collect();
    let lo = all
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min)
        .log10()
        .floor();
    let hi = all.iter().cloned().fold(0.0, f64::max).log10().ceil();
    let px = |x: usize| LEFT + (x as f64 + 0.5) * (W - LEFT - RIGHT) / sizes.len() as f64;
    let py = |t: f64| TOP + (hi - t.log10()) / (hi - lo).max(1.0) * (H - TOP - BOTTOM);
    let mut svg = String::new();
    writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    )?;
    writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#)?;
    writeln!(
        svg,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">Time to collapse Conv2d -> Linear (float32, median, log scale)</text>"#,
        (W - RIGHT + LEFT) / 2.0
    )?;
    for e in lo as i32..=hi as i32 {
        let y = py(10f64.powi(e));
        writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            label(10f64.powi(e))
        )?;
    }
    for (x, s) in sizes.iter().enumerate() {
        writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{s}</text>"#,
            px(x),
            H - BOTTOM + 20.0
        )?;
    }
    writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">benchmark size (DESIGN.md section 6)</text>"#,
        (W - RIGHT + LEFT) / 2.0,
        H - 15.0
    )?;
    let mut legend = 0;
    for (method, color) in METHODS.iter().map(|&(m, c)| (m.to_string(), c)).chain(
        series
            .keys()
            .filter(|k| !METHODS.iter().any(|(m, _)| m == k))
            .map(|k| (k.clone(), "#7f7f7f")),
    ) {
        let Some(points) = series.get(&method) else {
            continue;
        };
        if method == "auto" {
            continue; // same as its chosen kernel
        }
        let path: Vec<String> = points
            .iter()
            .map(|&(x, t)| format!("{:.1},{:.1}", px(x), py(t)))
            .collect();
        writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            path.join(" ")
        )?;
        for &(x, t) in points {
            writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                px(x),
                py(t)
            )?;
        }
        let ly = TOP + 10.0 + 20.0 * legend as f64;
        writeln!(
            svg,
            r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}">{method}</text>"#,
            W - RIGHT + 10.0,
            W - RIGHT + 30.0,
            W - RIGHT + 35.0,
            ly + 4.0
        )?;
        legend += 1;
    }
    writeln!(svg, "</svg>")?;
    if let Some(dir) = std::path::Path::new(output).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(output, svg)?;
    eprintln!("wrote {output}");
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
