//! Shared helpers: tolerances, `assert_close`, the golden-case loader, seeded random data, and an allocation
//! tracker for the memory-guard tests.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};

use linear_collapse::io::{npy, safetensors::Weights};
use linear_collapse::layer::{
    AvgPool2d, AvgPool2dConfig, BatchNorm, Conv1d, Conv1dConfig, Conv2d, Conv2dConfig,
    ConvTranspose2d, Flatten, Layer, Linear, Pad, PadMode, ScaleShift,
};
use linear_collapse::verify::Comparison;
use linear_collapse::{Scalar, Shape};
use ndarray::{Array1, Array2, ArrayD, ArrayView, Dimension, Ix1, Ix2, Ix3, Ix4, IxDyn};
use rand::{rngs::StdRng, Rng};
use serde_json::Value;

/// How close a candidate must be to a reference.
///
/// With [`Scale::Magnitude`] the bound is `max |cand - ref| <= abs + rel * max(max |ref|, m)`: the rounding
/// error of a sum of products grows with the magnitude of its terms, so entries made small by cancellation
/// are judged against the scale of the whole computation. `m` is that scale when the caller knows it (for a
/// chain: the same chain with absolute weights applied to `|x|`, the classic `|W_k|...|W_1||x|` bound), else
/// 0. With [`Scale::Elementwise`] it is NumPy's `|cand - ref| <= abs + rel * |ref|` for every element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tol {
    /// Absolute part.
    pub abs: f64,
    /// Relative part.
    pub rel: f64,
    /// What `rel` multiplies.
    pub scale: Scale,
}

/// See [`Tol`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// `rel` times the larger of the largest reference magnitude and the given magnitude.
    Magnitude(f64),
    /// `rel` times each reference element's magnitude.
    Elementwise,
}

impl Tol {
    /// The rounding error to expect from sums of `n` products computed in `T`: `rel = 4 eps(T) sqrt(n)`
    /// relative to the reference's largest magnitude, plus a tiny absolute floor for all-zero references.
    pub fn eps_scaled<T: Scalar>(n: usize) -> Tol {
        let rel = 4.0 * T::EPSILON.widen() * (n.max(1) as f64).sqrt();
        Tol {
            abs: rel * 1e-6,
            rel,
            scale: Scale::Magnitude(0.0),
        }
    }

    /// The same tolerance, relative to at least `m` (the magnitude of the terms summed, see [`Tol`]).
    pub fn magnitude(self, m: f64) -> Tol {
        Tol {
            scale: Scale::Magnitude(m),
            ..self
        }
    }

    /// NumPy's `allclose(cand, ref, rtol, atol)` rule, element by element.
    pub fn elementwise(atol: f64, rtol: f64) -> Tol {
        Tol {
            abs: atol,
            rel: rtol,
            scale: Scale::Elementwise,
        }
    }

    /// `Ok` when the comparison is within bounds, else the bound and the index of the first element over it.
    fn check<A: Scalar, B: Scalar, D: Dimension>(
        &self,
        cand: &ArrayView<A, D>,
        reference: &ArrayView<B, D>,
        cmp: &Comparison,
    ) -> Result<(), String> {
        match self.scale {
            Scale::Magnitude(m) => {
                let scale = cmp.ref_max.max(m);
                let bound = self.abs + self.rel * scale;
                if !within(cmp.max_abs, bound) {
                    return Err(format!(
                        "max abs error exceeds {bound:.3e} = {:.1e} + {:.3e} * scale {scale:.3e} \
                         (max|ref| {:.3e}, magnitude {m:.3e})",
                        self.abs, self.rel, cmp.ref_max
                    ));
                }
            }
            Scale::Elementwise => {
                // the element that breaks the rule by the largest factor
                let mut worst: Option<(f64, String, f64, f64)> = None;
                for ((idx, r), c) in reference.indexed_iter().zip(cand.iter()) {
                    let (c, r) = (c.widen(), r.widen());
                    let bound = self.abs + self.rel * r.abs();
                    if !within((c - r).abs(), bound) {
                        let excess = (c - r).abs() / bound;
                        if worst.as_ref().is_none_or(|w| !within(excess, w.0)) {
                            worst = Some((excess, format!("{idx:?}"), c, r));
                        }
                    }
                }
                if let Some((excess, idx, c, r)) = worst {
                    return Err(format!(
                        "|cand - ref| <= {:.1e} + {:.1e} |ref| broken by {excess:.2}x at {idx} \
                         ({c:.9} vs {r:.9})",
                        self.abs, self.rel
                    ));
                }
            }
        }
        Ok(())
    }
}

/// `err <= bound`, false for a NaN error.
fn within(err: f64, bound: f64) -> bool {
    err <= bound
}

/// Panics, printing max-abs, relative Frobenius error and the worst index, unless `cand` is within `tol` of
/// `reference`. `what` names the quantity in the message.
#[track_caller]
pub fn assert_close<A: Scalar, B: Scalar, D: Dimension>(
    cand: ArrayView<A, D>,
    reference: ArrayView<B, D>,
    tol: Tol,
    what: &str,
) {
    let cmp = Comparison::of(cand.view(), reference.view())
        .unwrap_or_else(|e| panic!("{what}: cannot compare: {e}"));
    // `TOL_STATS=1 cargo test -- --nocapture` prints how much of each tolerance was used
    if let (Some(_), Scale::Magnitude(m)) = (std::env::var_os("TOL_STATS"), tol.scale) {
        let b = tol.abs + tol.rel * cmp.ref_max.max(m);
        eprintln!("TOLSTAT {:.4} {what}", cmp.max_abs / b);
    }
    if let Err(why) = tol.check(&cand, &reference, &cmp) {
        panic!(
            "{what}: not close: {why}\n  {cmp}\n  (max abs {:.3e}, rel Frobenius {:.3e}, worst index {:?})",
            cmp.max_abs, cmp.rel_fro, cmp.worst
        );
    }
}

/// `W x + b` in `f64` for a weight and bias of any precision.
pub fn affine_apply<T: Scalar>(w: &Array2<T>, b: &Array1<T>, x: &[f64]) -> Array1<f64> {
    w.mapv(|v| v.widen()).dot(&Array1::from(x.to_vec())) + b.mapv(|v| v.widen())
}

/// The chain with every weight and bias replaced by its absolute value, in `f64`: applied to `|x|` it
/// gives the magnitude of the terms behind each output (the scale of the rounding error).
pub fn abs_chain<T: Scalar>(chain: &[Layer<T>]) -> Vec<Layer<f64>> {
    let abs = |v: &T| v.widen().abs();
    chain
        .iter()
        .map(|l| match l {
            Layer::Linear(l) => Linear::new(l.weight().map(abs), l.bias().map(|b| b.map(abs)))
                .expect("valid")
                .into(),
            Layer::Conv2d(c) => Conv2d::new(
                c.weight().map(abs),
                c.bias().map(|b| b.map(abs)),
                c.config(),
            )
            .expect("valid")
            .into(),
            Layer::Conv1d(c) => Conv1d::new(
                c.weight().map(abs),
                c.bias().map(|b| b.map(abs)),
                c.config(),
            )
            .expect("valid")
            .into(),
            Layer::ConvTranspose2d(c) => ConvTranspose2d::new(
                c.weight().map(abs),
                c.bias().map(|b| b.map(abs)),
                c.config(),
            )
            .expect("valid")
            .into(),
            // |gamma| (x + |mean|) / sqrt(var + eps) + |beta|: the terms x*s, mean*s and beta, in magnitude
            Layer::BatchNorm(b) => BatchNorm::new(
                b.running_mean().map(|m| -abs(m)),
                b.running_var().map(|v| v.widen()),
                b.eps(),
                b.weight().map(|g| g.map(abs)),
                b.bias().map(|g| g.map(abs)),
            )
            .expect("valid")
            .into(),
            Layer::Pad(p) => {
                let mode = match p.mode() {
                    PadMode::Constant(v) => PadMode::Constant(abs(&v)),
                    PadMode::Reflect => PadMode::Reflect,
                    PadMode::Replicate => PadMode::Replicate,
                    PadMode::Circular => PadMode::Circular,
                };
                Pad::new(p.padding(), mode).expect("valid").into()
            }
            Layer::ScaleShift(s) => {
                ScaleShift::new(s.scale().map(|a| a.map(abs)), s.shift().map(|a| a.map(abs)))
                    .expect("valid")
                    .into()
            }
            // the rest have non-negative coefficients and no bias
            other => other.cast().expect("widens"),
        })
        .collect()
}

/// `n` values uniform in `[-1, 1)`.
pub fn uniform(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// Root of the golden cases.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// One golden case: the chain rebuilt from `case.json` and `weights.safetensors`.
pub struct Case {
    /// Folder of the case.
    pub dir: PathBuf,
    /// The layers, in order.
    pub chain: Vec<Layer<f32>>,
    /// Per-sample input shape.
    pub input: Shape,
}

impl Case {
    /// Loads `tests/data/<name>`. Supports the layer types Conv2d, Conv1d, BatchNorm1d/2d (eval), AvgPool2d,
    /// ConstantPad2d, Flatten and Linear.
    ///
    /// # Panics
    /// On a missing or malformed file, or an unsupported layer type (it is a test fixture).
    pub fn load(name: &str) -> Case {
        let dir = data_dir().join(name);
        let text = std::fs::read_to_string(dir.join("case.json"))
            .unwrap_or_else(|e| panic!("{name}/case.json: {e}"));
        let json: Value = serde_json::from_str(&text).expect("case.json is JSON");
        let weights = Weights::read(dir.join("weights.safetensors")).expect("weights");
        let chain = json["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .map(|l| layer_from_json(l, &weights))
            .collect();
        let input = Shape::from_dims(&usizes(&json["input"]["per_sample_shape"])).expect("shape");
        Case { dir, chain, input }
    }

    /// A float64 `.npy` of the case.
    pub fn npy_f64<D: Dimension>(&self, file: &str) -> ndarray::Array<f64, D> {
        npy::read(self.dir.join(file)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The float32 samples (`inputs.npy` or `outputs.npy`) as `(count, numel)` rows.
    pub fn samples(&self, file: &str) -> Array2<f32> {
        let a: ArrayD<f32> = npy::read::<f32, IxDyn>(self.dir.join(file)).expect("samples");
        let n = a.shape()[0];
        let per = a.len() / n;
        a.into_shape_with_order((n, per)).expect("C order")
    }
}

/// A JSON array of non-negative integers.
pub(crate) fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|x| x.as_u64().expect("a non-negative integer") as usize)
        .collect()
}

fn pair(v: &Value) -> [usize; 2] {
    match usizes(v)[..] {
        [a, b] => [a, b],
        ref other => panic!("expected two values, got {other:?}"),
    }
}

fn tensor<D: Dimension>(w: &Weights, name: &Value, shape: &[usize]) -> ndarray::Array<f32, D> {
    let name = name.as_str().expect("tensor name");
    let t = w
        .tensor_shaped::<f32>(name, shape)
        .unwrap_or_else(|e| panic!("{e}"));
    t.into_dimensionality::<D>().expect("rank")
}

fn single(v: &Value) -> usize {
    match usizes(v)[..] {
        [a] => a,
        ref other => panic!("expected one value, got {other:?}"),
    }
}

fn float(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

pub fn layer_from_json(l: &Value, w: &Weights) -> Layer<f32> {
    let p = &l["params"];
    let has_bias = p["bias"].as_bool().unwrap_or(false);
    match l["type"].as_str().expect("type") {
        // "BatchNorm2d (eval)", "BatchNorm1d (eval)"
        t if t.starts_with("BatchNorm") => {
            let n = p["num_features"].as_u64().expect("num_features") as usize;
            let v = |key: &str| tensor::<Ix1>(w, &l["weights"][key], &[n]);
            let (weight, bias) = (Some(v("weight")), Some(v("bias")));
            BatchNorm::new(
                v("running_mean"),
                v("running_var"),
                float(&p["eps"]),
                weight,
                bias,
            )
            .expect("valid BatchNorm")
            .into()
        }
        "AvgPool2d" => {
            let [ph, pw] = pair(&p["padding"]);
            let config = AvgPool2dConfig {
                stride: Some(pair(&p["stride"])),
                padding: [ph, pw, ph, pw],
                ceil_mode: p["ceil_mode"].as_bool().expect("ceil_mode"),
                count_include_pad: p["count_include_pad"].as_bool().expect("count_include_pad"),
            };
            AvgPool2d::new(pair(&p["kernel_size"]), config)
                .expect("valid AvgPool2d")
                .into()
        }
        "ConstantPad2d" => {
            // PyTorch's order is (left, right, top, bottom); ours is ONNX's [top, left, bottom, right]
            let [left, right, top, bottom] = match usizes(&p["padding_left_right_top_bottom"])[..] {
                [a, b, c, d] => [a, b, c, d],
                ref other => panic!("expected four pads, got {other:?}"),
            };
            let value = float(&p["value"]) as f32;
            Pad::new([top, left, bottom, right], PadMode::Constant(value))
                .expect("valid Pad")
                .into()
        }
        "Conv1d" => {
            let (c_in, c_out) = (p["in_channels"].as_u64(), p["out_channels"].as_u64());
            let (c_in, c_out) = (c_in.expect("c_in") as usize, c_out.expect("c_out") as usize);
            let groups = p["groups"].as_u64().expect("groups") as usize;
            let pad = single(&p["padding"]);
            let config = Conv1dConfig {
                stride: single(&p["stride"]),
                dilation: single(&p["dilation"]),
                padding: [pad, pad],
                groups,
            };
            let shape = [c_out, c_in / groups, single(&p["kernel_size"])];
            let weight = tensor::<Ix3>(w, &l["weights"]["weight"], &shape);
            let bias = has_bias.then(|| tensor::<Ix1>(w, &l["weights"]["bias"], &[c_out]));
            Conv1d::new(weight, bias, config)
                .expect("valid Conv1d")
                .into()
        }
        "Flatten" => Flatten.into(),
        "Linear" => {
            let (i, o) = (p["in_features"].as_u64(), p["out_features"].as_u64());
            let (i, o) = (i.expect("in") as usize, o.expect("out") as usize);
            let weight = tensor::<Ix2>(w, &l["weights"]["weight"], &[o, i]);
            let bias = has_bias.then(|| tensor::<Ix1>(w, &l["weights"]["bias"], &[o]));
            Linear::new(weight, bias).expect("valid Linear").into()
        }
        "Conv2d" => {
            let (c_in, c_out) = (p["in_channels"].as_u64(), p["out_channels"].as_u64());
            let (c_in, c_out) = (c_in.expect("c_in") as usize, c_out.expect("c_out") as usize);
            let groups = p["groups"].as_u64().expect("groups") as usize;
            let [kh, kw] = pair(&p["kernel_size"]);
            let [ph, pw] = pair(&p["padding"]);
            let config = Conv2dConfig {
                stride: pair(&p["stride"]),
                dilation: pair(&p["dilation"]),
                // PyTorch's padding (p, q) pads top and bottom by p, left and right by q
                padding: [ph, pw, ph, pw],
                groups,
            };
            let shape = [c_out, c_in / groups, kh, kw];
            let weight = tensor::<Ix4>(w, &l["weights"]["weight"], &shape);
            let bias = has_bias.then(|| tensor::<Ix1>(w, &l["weights"]["bias"], &[c_out]));
            Conv2d::new(weight, bias, config)
                .expect("valid Conv2d")
                .into()
        }
        other => panic!("the fixture loader does not support layer type {other}"),
    }
}

/// A global allocator that records, per thread, the largest single allocation during
/// [`largest_allocation`].
pub struct Tracking;

thread_local! {
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: allocations during thread teardown must not panic
    let _ = PEAK.try_with(|p| p.set(p.get().max(size)));
}

// SAFETY: forwards to `System`, only recording sizes.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` and returns its result with the largest single allocation the calling thread made meanwhile.
pub fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    PEAK.with(|p| p.set(0));
    let r = f();
    (r, PEAK.with(Cell::get))
}
