//! Every collapse method on one benchmark size, side by side in one process, one JSON object per line.
//!
//! `cargo run --release --features bench --example compare -- --size NAME|all [--methods a,b] [--min-time SECONDS] [--peak]`
//!
//! Methods: `probe` (the batched probing baseline), `dense`, `sparse`, `im2col`, `auto`. Each line gives the
//! median time, the number of runs, the peak extra heap bytes (a counting allocator), the multiply-adds the
//! plan performs, and the relative Frobenius error against a float64 collapse. `--peak` adds a line with the
//! parallel GEMM's float32 rate on 2000x2000 matrices, the machine's GEMM peak for this crate.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use linear_collapse::baseline::probe_batched;
use linear_collapse::compose::explain;
use linear_collapse::layer::{Layer, Linear};
use linear_collapse::sizes::{Size, SIZES};
use linear_collapse::verify::Comparison;
use linear_collapse::{collapse, matrix::gemm, Accumulate, Error, Method, Options, Par};
use ndarray::Array2;

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const METHODS: [&str; 5] = ["probe", "dense", "sparse", "im2col", "auto"];

/// Prints one line; a closed pipe (`| head`) ends the program quietly.
fn emit(line: String) {
    use std::io::Write as _;
    if writeln!(std::io::stdout().lock(), "{line}").is_err() {
        std::process::exit(0);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let size = get("--size")
        .ok_or("usage: compare --size seed|mnist|cifar|wide|big|all [--min-time S] [--peak]")?;
    let min_time = Duration::from_secs_f64(get("--min-time").map_or(Ok(1.0), |s| s.parse())?);
    let sizes: Vec<Size> = if size == "all" {
        SIZES.to_vec()
    } else {
        vec![Size::named(&size).ok_or_else(|| format!("unknown size {size}"))?]
    };
    if args.iter().any(|a| a == "--peak") {
        gemm_peak(min_time);
    }
    let methods: Vec<&str> = match get("--methods") {
        Some(list) => METHODS
            .into_iter()
            .filter(|m| list.split(',').any(|x| x == *m))
            .collect(),
        None => METHODS.to_vec(),
    };
    for s in sizes {
        run_size(s, min_time, &methods)?;
    }
    Ok(())
}

fn run_size(
    s: Size,
    min_time: Duration,
    methods: &[&str],
) -> Result<(), Box<dyn std::error::Error>> {
    let chain = s.chain::<f32>(0)?;
    let wide: Vec<Layer<f64>> = chain.iter().map(Layer::cast).collect::<Result<_, _>>()?;
    let reference = collapse(
        &wide,
        s.input(),
        &Options {
            method: Method::Sparse,
            ..Options::default()
        },
    )?;
    for name in METHODS
        .into_iter()
        .filter(|m| methods.is_empty() || methods.contains(m))
    {
        let opts = Options {
            method: method(name),
            accumulate: Accumulate::Native,
            ..Options::default()
        };
        let macs = if name == "probe" {
            probe_macs(&chain, s)?
        } else {
            match explain(&chain, s.input(), &opts) {
                Ok(plan) => plan.macs(),
                Err(e @ Error::TooLarge { .. }) => {
                    emit(format!(
                        "{{\"size\":\"{}\",\"method\":\"{name}\",\"skipped\":\"{}\"}}",
                        s.name,
                        e.to_string().replace('"', "'")
                    ));
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let run = || {
            if name == "probe" {
                probe_batched(&chain, s.input(), &opts)
            } else {
                collapse(&chain, s.input(), &opts)
            }
        };
        let (times, peak, result) = measure(run, min_time)?;
        let err = Comparison::of(result.weight().view(), reference.weight().view())?.rel_fro;
        emit(format!(
            "{{\"size\":\"{}\",\"method\":\"{name}\",\"median_s\":{:.6e},\"runs\":{},\"peak_extra_bytes\":{peak},\"macs\":{macs},\"rel_err_vs_f64\":{err:.3e}}}",
            s.name,
            median(times.clone()),
            times.len()
        ));
    }
    Ok(())
}

fn method(name: &str) -> Method {
    match name {
        "dense" => Method::Dense,
        "sparse" => Method::Sparse,
        "im2col" => Method::Im2col,
        _ => Method::Auto,
    }
}

/// Probing's multiply-adds: `n_in` forward passes, each `nnz(T) + n_mid*F` (the im2col forward does the
/// full `C_out*OH*OW*C_in*k*k` per pass).
fn probe_macs(chain: &[Layer<f32>], s: Size) -> Result<u64, Error> {
    let plan = explain(
        chain,
        s.input(),
        &Options {
            method: Method::Dense,
            memory_budget: u64::MAX,
            ..Options::default()
        },
    )?;
    let n_in = s.input().numel() as u64;
    let (f, n_mid, _) = plan.steps()[0].dims();
    let conv = s.c_out as u64 * n_mid as u64 / s.c_out as u64 * (s.c_in * s.k * s.k) as u64;
    Ok(n_in * (conv + n_mid as u64 * f as u64))
}

/// Runs `f` until `min_time` has passed (at least 3 runs, at most 200), returning times, the largest
/// extra heap seen over a run, and the last result.
fn measure(
    f: impl Fn() -> Result<Linear<f32>, Error>,
    min_time: Duration,
) -> Result<(Vec<f64>, usize, Linear<f32>), Error> {
    let mut times = Vec::new();
    let mut peak = 0;
    let start = Instant::now();
    let mut last = None;
    while times.len() < 3 || (start.elapsed() < min_time && times.len() < 200) {
        drop(last.take());
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let t = Instant::now();
        let r = f()?;
        times.push(t.elapsed().as_secs_f64());
        peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
        last = Some(r);
    }
    Ok((times, peak, last.expect("ran at least once")))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn gemm_peak(min_time: Duration) {
    let n = 2000;
    let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j) % 13) as f32 * 0.1);
    let (times, _, _) = measure(
        || {
            let c = gemm(a.view(), a.view(), Par::Rayon);
            Linear::new(c.slice(ndarray::s![..1, ..1]).to_owned(), None)
        },
        min_time,
    )
    .expect("gemm");
    let t = median(times.clone());
    emit(format!(
        "{{\"size\":\"gemm2000\",\"method\":\"gemm\",\"median_s\":{t:.6e},\"runs\":{},\"gflops\":{:.1}}}",
        times.len(),
        2.0 * (n as f64).powi(3) / t / 1e9
    ));
}
