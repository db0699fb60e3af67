//! Property tests over random geometries: the collapse (every method, f32 and f64, native and f64
//! accumulation), the probe, the direct forward pass and the lowered maps applied one after another all
//! compute the same affine map.
//!
//! Strategies are valid by construction: each conv's geometry is drawn given the size that reaches it, so
//! the dilated kernel always fits the padded input (`prop_flat_map`), and groups divide both channel counts.

use linear_collapse::layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear};
use linear_collapse::reference::Probe;
use linear_collapse::{
    collapse, infer, lower, reference, Accumulate, Method, Options, Scalar, Shape,
};
use ndarray::{Array1, Array2, Array4};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::common::{abs_chain, affine_apply, assert_close, uniform, Tol};

/// One convolution's hyper-parameters (the input channel count comes from the layer before).
#[derive(Clone, Debug)]
pub(crate) struct ConvParams {
    pub(crate) c_out: usize,
    pub(crate) groups: usize,
    pub(crate) kernel: [usize; 2],
    pub(crate) stride: [usize; 2],
    pub(crate) dilation: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub(crate) padding: [usize; 4],
    pub(crate) bias: bool,
}

/// A chain: input `(c, h, w)`, 1 to 3 convs, Flatten, 1 or 2 Linears `(out_features, bias)`, and the seed
/// of the weights.
#[derive(Clone, Debug)]
struct ChainParams {
    input: [usize; 3],
    convs: Vec<ConvParams>,
    linears: Vec<(usize, bool)>,
    seed: u64,
}

/// One axis of the output size, written out here as a third opinion next to `infer` and the reference.
fn out_len(n: usize, lo: usize, hi: usize, k: usize, s: usize, d: usize) -> usize {
    (n + lo + hi - d * (k - 1) - 1) / s + 1
}

impl ConvParams {
    pub(crate) fn out_shape(&self, [_, h, w]: [usize; 3]) -> [usize; 3] {
        let p = &self.padding;
        let axis = |a: usize, n: usize, lo: usize, hi: usize| {
            out_len(n, lo, hi, self.kernel[a], self.stride[a], self.dilation[a])
        };
        [self.c_out, axis(0, h, p[0], p[2]), axis(1, w, p[1], p[3])]
    }
}

impl ChainParams {
    /// Shapes of the conv part: the input, then each conv's output.
    fn conv_shapes(&self) -> Vec<[usize; 3]> {
        let mut s = vec![self.input];
        for c in &self.convs {
            s.push(c.out_shape(*s.last().expect("non-empty")));
        }
        s
    }

    /// Multiply-adds of one forward pass (what each of the probe's `n_in` passes costs).
    fn forward_cost(&self) -> usize {
        let shapes = self.conv_shapes();
        let mut cost = 0;
        for (i, c) in self.convs.iter().enumerate() {
            let [c_out, oh, ow] = shapes[i + 1];
            cost += c_out * oh * ow * (shapes[i][0] / c.groups) * c.kernel[0] * c.kernel[1];
        }
        let mut n = shapes.last().map_or(0, |s| s[0] * s[1] * s[2]);
        for (out, _) in &self.linears {
            cost += n * out;
            n = *out;
        }
        cost
    }
}

fn divisors(n: usize) -> Vec<usize> {
    (1..=n).filter(|d| n.is_multiple_of(*d)).collect()
}

/// Hyper-parameters of a conv that fits a `(c, h, w)` input: kernel 1..=5, stride 1..=3, dilation 1..=3
/// per axis, padding 0..=3 per side, groups dividing `c` and `c_out`, `c_out <= 8`.
pub(crate) fn conv_params([c, h, w]: [usize; 3]) -> impl Strategy<Value = ConvParams> {
    (
        prop::sample::select(divisors(c)),
        prop::array::uniform4(0..=3usize),
        prop::array::uniform2(1..=3usize),
        prop::array::uniform2(1..=3usize),
        any::<bool>(),
    )
        .prop_flat_map(move |(groups, padding, stride, dilation, bias)| {
            // largest k with d*(k-1)+1 <= padded size
            let k_max = |n: usize, d: usize| ((n - 1) / d + 1).min(5);
            let kh = 1..=k_max(h + padding[0] + padding[2], dilation[0]);
            let kw = 1..=k_max(w + padding[1] + padding[3], dilation[1]);
            (kh, kw, 1..=(8 / groups).max(1)).prop_map(move |(kh, kw, m)| ConvParams {
                c_out: groups * m,
                groups,
                kernel: [kh, kw],
                stride,
                dilation,
                padding,
                bias,
            })
        })
}

/// `depth` convs, each drawn for the shape the previous one outputs.
fn convs(depth: usize, input: [usize; 3]) -> BoxedStrategy<Vec<ConvParams>> {
    if depth == 0 {
        return Just(Vec::new()).boxed();
    }
    conv_params(input)
        .prop_flat_map(move |p| {
            let next = p.out_shape(input);
            convs(depth - 1, next).prop_map(move |mut rest| {
                rest.insert(0, p.clone());
                rest
            })
        })
        .boxed()
}

/// Largest probe cost (`n_in` forward passes) a case may have, to keep the suite fast.
const MAX_PROBE_COST: usize = 4_000_000;

fn chains() -> impl Strategy<Value = ChainParams> {
    (1..=3usize, 1..=4usize, 1..=12usize, 1..=12usize)
        .prop_flat_map(|(depth, c, h, w)| {
            let input = [c, h, w];
            (
                convs(depth, input),
                prop::collection::vec((1..=6usize, any::<bool>()), 1..=2),
                any::<u64>(),
            )
                .prop_map(move |(convs, linears, seed)| ChainParams {
                    input,
                    convs,
                    linears,
                    seed,
                })
        })
        .prop_filter("probe too costly", |p| {
            p.input.iter().product::<usize>() * p.forward_cost() <= MAX_PROBE_COST
        })
}

pub(crate) fn rand_array<D: ndarray::Dimension>(
    rng: &mut StdRng,
    shape: D,
) -> ndarray::Array<f32, D> {
    ndarray::Array::from_shape_simple_fn(shape, || rng.gen_range(-1.0..1.0))
}

pub(crate) fn build_conv(p: &ConvParams, c_in: usize, rng: &mut StdRng) -> Conv2d<f32> {
    let shape = (p.c_out, c_in / p.groups, p.kernel[0], p.kernel[1]);
    let weight: Array4<f32> = rand_array(rng, ndarray::Dim(shape));
    let bias = p.bias.then(|| rand_array(rng, ndarray::Dim(p.c_out)));
    let config = Conv2dConfig {
        stride: p.stride,
        dilation: p.dilation,
        padding: p.padding,
        groups: p.groups,
    };
    Conv2d::new(weight, bias, config).expect("valid by construction")
}

/// The f32 chain with seeded random weights in `[-1, 1)`, and its input shape.
fn build(p: &ChainParams) -> (Vec<Layer<f32>>, Shape) {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut chain: Vec<Layer<f32>> = Vec::new();
    let mut c_in = p.input[0];
    for cp in &p.convs {
        chain.push(build_conv(cp, c_in, &mut rng).into());
        c_in = cp.c_out;
    }
    chain.push(Flatten.into());
    let last = p.conv_shapes().last().copied().expect("non-empty");
    let mut n = last.iter().product::<usize>();
    for &(out, bias) in &p.linears {
        let w: Array2<f32> = rand_array(&mut rng, ndarray::Dim((out, n)));
        let b: Option<Array1<f32>> = bias.then(|| rand_array(&mut rng, ndarray::Dim(out)));
        chain.push(Linear::new(w, b).expect("valid").into());
        n = out;
    }
    let [c, h, w] = p.input;
    (chain, Shape::chw(c, h, w))
}

/// Sum of the sizes along the chain: a bound on the length of the sums behind each collapsed entry.
fn inner_size(shapes: &[Shape]) -> usize {
    shapes.iter().map(Shape::numel).sum()
}

/// The lowered maps of `chain` applied one after another to `x`.
fn apply_lowered<T: Scalar>(chain: &[Layer<T>], shapes: &[Shape], x: &[f64]) -> Array1<f64> {
    let mut y: Array1<T> = x.iter().map(|&v| T::narrow(v)).collect();
    for (layer, &shape) in chain.iter().zip(shapes) {
        let map = lower::lower(layer, shape).expect("lowers");
        y = map.apply(&y);
    }
    y.mapv(|v| v.widen())
}

/// Every way to compute the products.
const METHODS: [Method; 4] = [Method::Auto, Method::Dense, Method::Sparse, Method::Im2col];

fn opts(method: Method, accumulate: Accumulate) -> Options {
    Options {
        method,
        accumulate,
        ..Options::default()
    }
}

/// Asserts that a collapsed layer's weight and bias are within `tw` and `tb` of the probe.
fn assert_close_to_probe<T: Scalar>(fc: &Linear<T>, probe: &Probe, tw: Tol, tb: Tol, what: &str) {
    let w = format!("{what}: W");
    assert_close(fc.weight().view(), probe.weight.view(), tw, &w);
    let b = format!("{what}: b");
    assert_close(fc.bias_or_zeros().view(), probe.bias.view(), tb, &b);
}

/// Everything the property checks, for one chain.
pub(crate) fn check_chain(chain: &[Layer<f32>], input: Shape, seed: u64) {
    let shapes = infer::shapes(chain, input).expect("valid by construction");
    let n = inner_size(&shapes);
    let probe = reference::probe(chain, input).expect("probe");
    // |W_k|...|W_1| and the biases carried through it: the scale of the rounding errors
    let abs = abs_chain(chain);
    let mag = reference::probe(&abs, input).expect("probe of |chain|");
    let (w_mag, b_mag) = (max_abs(mag.weight.iter()), max_abs(mag.bias.iter()));
    let chain64: Vec<Layer<f64>> = chain.iter().map(|l| l.cast().expect("widens")).collect();
    let (t32, t64) = (Tol::eps_scaled::<f32>(n), Tol::eps_scaled::<f64>(n));
    // the probe's columns are differences f(e_i) - f(0): in f64 they carry the rounding of f(0) too
    let (t64w, t64b) = (t64.magnitude(w_mag + b_mag), t64.magnitude(b_mag));
    // Accumulate::F64 promises the f32 rounding of the exact map: half an ulp plus the f64 error
    let once = |m: f64| Tol::elementwise(2.0 * t64.rel * m, 0.5 * f32::EPSILON as f64);

    let mut collapsed32 = Vec::new();
    for method in METHODS {
        for acc in [Accumulate::Native, Accumulate::F64] {
            let fc = collapse(chain, input, &opts(method, acc)).expect("collapse f32");
            let what = format!("f32 {method:?} {acc:?}");
            let (tw, tb) = (t32.magnitude(w_mag), t32.magnitude(b_mag));
            assert_close_to_probe(&fc, &probe, tw, tb, &what);
            if acc == Accumulate::F64 {
                let (tw, tb) = (once(w_mag + b_mag), once(b_mag));
                assert_close_to_probe(&fc, &probe, tw, tb, &format!("{what}, rounded once"));
            }
            collapsed32.push((what, fc));
        }
        let fc = collapse(&chain64, input, &opts(method, Accumulate::Native)).expect("f64");
        assert_close_to_probe(&fc, &probe, t64w, t64b, &format!("f64 {method:?}"));
    }

    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    for _ in 0..2 {
        let x = uniform(&mut rng, input.numel());
        let (want, out_shape) = reference::forward(chain, input, &x).expect("forward");
        assert_eq!(Some(&out_shape), shapes.last());
        let want = Array1::from(want);
        let x_abs: Vec<f64> = x.iter().map(|v| v.abs()).collect();
        let (y_mag, _) = reference::forward(&abs, input, &x_abs).expect("forward of |chain|");
        let (t32, t64) = (
            t32.magnitude(max_abs(&y_mag)),
            t64.magnitude(max_abs(&y_mag)),
        );
        let by_probe = affine_apply(&probe.weight, &probe.bias, &x);
        assert_close(by_probe.view(), want.view(), t64, "probe vs forward");
        let lowered64 = apply_lowered(&chain64, &shapes, &x);
        assert_close(lowered64.view(), want.view(), t64, "lowered f64 vs forward");
        let lowered32 = apply_lowered(chain, &shapes, &x);
        assert_close(lowered32.view(), want.view(), t32, "lowered f32 vs forward");
        for (what, fc) in &collapsed32 {
            let y = affine_apply(fc.weight(), &fc.bias_or_zeros(), &x);
            assert_close(
                y.view(),
                want.view(),
                t32,
                &format!("{what}: W x + b vs forward"),
            );
        }
    }
}

fn max_abs<'a>(v: impl IntoIterator<Item = &'a f64>) -> f64 {
    v.into_iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Deterministic by default (CI); `PROPTEST_RNG_SEED` and `PROPTEST_CASES` still explore further.
pub(crate) fn config(cases: u32) -> Config {
    let mut c = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    if c.rng_seed == RngSeed::Random {
        c.rng_seed = RngSeed::Fixed(0x11_c011_a95e);
    }
    c.max_global_rejects = 10 * c.cases;
    c
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn collapse_equals_probe_forward_and_lowered(p in chains()) {
        let (chain, input) = build(&p);
        let shapes = infer::shapes(&chain, input).expect("valid by construction");
        // infer agrees with the strategy's own size arithmetic
        for (s, [c, h, w]) in shapes.iter().zip(p.conv_shapes()) {
            prop_assert_eq!(*s, Shape::chw(c, h, w));
        }
        check_chain(&chain, input, p.seed);
    }

    #[test]
    fn toeplitz_equals_probe_of_the_conv(
        (input, cp, seed) in (1..=4usize, 1..=9usize, 1..=9usize)
            .prop_flat_map(|(c, h, w)| (Just([c, h, w]), conv_params([c, h, w]), any::<u64>()))
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let conv = build_conv(&cp, input[0], &mut rng);
        let shape = Shape::chw(input[0], input[1], input[2]);
        let t = lower::toeplitz(&conv, shape).expect("fits by construction");
        let [c, h, w] = cp.out_shape(input);
        prop_assert_eq!(t.output_shape, Shape::chw(c, h, w));
        let chain: Vec<Layer<f32>> = vec![conv.clone().into()];
        let probe = reference::probe(&chain, shape).expect("probe");
        let taps = conv.weight().len() / conv.c_out();
        let tol = Tol::eps_scaled::<f64>(taps);
        assert_close(t.to_dense().unwrap().view(), probe.weight.view(), tol, "dense Toeplitz vs probe");
        assert_close(t.bias.view(), probe.bias.view(), tol, "Toeplitz bias vs probe");
        // DESIGN.md section 2: nnz(T) <= C_out*OH*OW*(C_in/g)*kh*kw
        prop_assert!(t.matrix.nnz() <= c * h * w * taps);
    }
}

/// The properties' images are small (at most 12x12 plus padding), so every conv kernel works in one tile of
/// output rows; here the first conv has 30x27 = 810 output positions, more than one im2col tile (512).
#[test]
fn conv_kernels_over_several_row_tiles() {
    let p = ChainParams {
        input: [1, 30, 27],
        convs: vec![
            ConvParams {
                c_out: 2,
                groups: 1,
                kernel: [3, 3],
                stride: [1, 1],
                dilation: [1, 1],
                padding: [1, 1, 1, 1],
                bias: true,
            },
            ConvParams {
                c_out: 2,
                groups: 2,
                kernel: [2, 3],
                stride: [1, 2],
                dilation: [2, 1],
                padding: [0, 2, 1, 0],
                bias: true,
            },
        ],
        linears: vec![(4, true)],
        seed: 7,
    };
    assert_eq!(p.conv_shapes()[1..], [[2, 30, 27], [2, 29, 14]]);
    let (chain, input) = build(&p);
    check_chain(&chain, input, p.seed);
}

// Named regressions: each reproduces a bug the properties found, with a one-line note on the bug.

/// A plan whose root multiplies two products, `(A3 A2)(A1 A0)`, as for a bottleneck in the middle.
fn balanced_split_chain() -> (Vec<Layer<f32>>, Shape) {
    let conv = |c_out, c_in, k| {
        let w = Array4::from_shape_fn((c_out, c_in, k, k), |(o, c, y, x)| {
            (1 + o + 2 * c + 3 * y + 5 * x) as f32 * 0.05
        });
        Conv2d::new(w, None, Conv2dConfig::default()).expect("valid")
    };
    let fc = |out, inp| {
        let w = Array2::from_shape_fn((out, inp), |(i, j)| (i as f32 - j as f32) * 0.1);
        Linear::new(w, None).expect("valid")
    };
    let chain = vec![
        conv(4, 1, 3).into(),
        conv(2, 4, 2).into(),
        Flatten.into(),
        fc(5, 2).into(),
        fc(6, 5).into(),
    ];
    (chain, Shape::chw(1, 4, 4))
}

/// Bug: `plan::dp` stores the right operand's step indices relative to its own step list, then appends
/// that list after the left operand's, so the right subtree runs (and `explain` prints) the left
/// subtree's steps: here step 1 repeats step 0 and the conv-conv product runs as a dense GEMM.
#[test]

fn plan_of_balanced_split_has_distinct_steps() {
    let (chain, input) = balanced_split_chain();
    for method in METHODS {
        let plan =
            linear_collapse::compose::explain(&chain, input, &opts(method, Accumulate::Native))
                .expect("plan");
        let mut seen: Vec<((usize, usize), (usize, usize))> = Vec::new();
        for s in plan.steps() {
            assert!(
                !seen.contains(&(s.left(), s.right())),
                "{method:?}: step repeated:\n{plan}"
            );
            seen.push((s.left(), s.right()));
        }
        let last = plan.steps().last().expect("products");
        assert_eq!(
            (last.right().0, last.left().1),
            (0, 4),
            "{method:?}:\n{plan}"
        );
        check_chain(&chain, input, 0);
    }
}

/// Bug (same as above): with `Method::Sparse` the misplaced step says the convolution is on one side when
/// that operand is a dense product, and `compose::product` panics with "the planner put a convolution on
/// the left". Found by `collapse_equals_probe_forward_and_lowered`.
#[test]

fn conv3_fc2_sparse_balanced_split_panics() {
    let conv = |c_out, groups, kernel, stride, dilation, padding, bias| ConvParams {
        c_out,
        groups,
        kernel,
        stride,
        dilation,
        padding,
        bias,
    };
    let p = ChainParams {
        input: [4, 10, 2],
        convs: vec![
            conv(6, 2, [2, 2], [3, 3], [2, 3], [0, 3, 1, 1], true),
            conv(2, 1, [4, 5], [2, 3], [1, 1], [2, 3, 1, 1], false),
            conv(2, 2, [4, 2], [1, 2], [1, 3], [1, 2, 1, 1], false),
        ],
        linears: vec![(5, false), (6, false)],
        seed: 8678015923732937804,
    };
    let (chain, input) = build(&p);
    check_chain(&chain, input, p.seed);
}
