//! Random layers for the property tests: a [`Spec`] is one layer's hyper-parameters (its weights come from
//! a seed when it is built), drawn for the shape that reaches it, so every chain is valid by construction.
//!
//! [`Spec::out`] computes the output shape with PyTorch's formulas written out here, a third opinion next to
//! `infer` and the reference's own arithmetic.

use linear_collapse::layer::{
    AvgPool1d, AvgPool1dConfig, AvgPool2d, AvgPool2dConfig, BatchNorm, Conv1d, Conv1dConfig,
    ConvTranspose2d, ConvTranspose2dConfig, Dropout, Flatten, Identity, Layer, Linear, Pad,
    PadMode, Permute, Reshape, Upsample,
};
use linear_collapse::Shape;
use ndarray::{Array1, Array2, Array3, Array4};
use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::props::{build_conv, conv_params, rand_array, ConvParams};
use crate::tensor_specs::{
    depth_to_space_spec, expand_spec, linear_spec, reduce_spec, resize_spec, scale_shift_spec,
    slice_spec, space_to_depth_spec, TensorSpec,
};

/// One layer without its weights.
#[derive(Clone, Debug)]
pub(crate) enum Spec {
    Conv2d(ConvParams),
    Conv1d {
        c_out: usize,
        groups: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        padding: [usize; 2],
        bias: bool,
    },
    ConvTranspose2d {
        c_out: usize,
        groups: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 4],
        output_padding: [usize; 2],
        dilation: [usize; 2],
        bias: bool,
    },
    /// Statistics and affine parameters are drawn at build time.
    BatchNorm {
        affine: bool,
        eps: f64,
    },
    AvgPool2d {
        kernel: [usize; 2],
        /// `None`: PyTorch's default, the kernel.
        stride: Option<[usize; 2]>,
        padding: [usize; 4],
        ceil_mode: bool,
        count_include_pad: bool,
    },
    AvgPool1d {
        kernel: usize,
        stride: Option<usize>,
        padding: [usize; 2],
        ceil_mode: bool,
        count_include_pad: bool,
    },
    /// `[top, left, bottom, right]`; `[0, l, 0, r]` on a `(C, L)` input.
    Pad {
        padding: [usize; 4],
        mode: PadMode<f32>,
    },
    Upsample([usize; 2]),
    Identity,
    Dropout(f64),
    Reshape(Shape),
    Permute(Vec<usize>),
    /// A layer of any rank (`crate::tensor_specs`).
    Tensor(TensorSpec),
}

/// `floor((n + lo + hi - d*(k-1) - 1) / s) + 1`, `None` when not positive.
fn conv_len(n: usize, [lo, hi]: [usize; 2], k: usize, s: usize, d: usize) -> Option<usize> {
    let num = (n + lo + hi) as i64 - (d * (k - 1)) as i64 - 1;
    let out = num.div_euclid(s as i64) + 1;
    (out > 0).then_some(out as usize)
}

/// PyTorch's `pooling_output_shape_pad_lr`: with `ceil_mode`, round up, then drop the last window if it
/// would start at or past `n + lo`.
fn pool_len(n: usize, [lo, hi]: [usize; 2], k: usize, s: usize, ceil_mode: bool) -> Option<usize> {
    let (n, lo, hi, k, s) = (n as i64, lo as i64, hi as i64, k as i64, s as i64);
    let num = n + lo + hi - k + if ceil_mode { s - 1 } else { 0 };
    let mut out = num.div_euclid(s) + 1;
    if ceil_mode && (out - 1) * s >= n + lo {
        out -= 1;
    }
    (out > 0).then_some(out as usize)
}

/// `(n - 1)*s - lo - hi + d*(k - 1) + output_padding + 1` (PyTorch's `ConvTranspose2d` docs).
fn transposed_len(
    n: usize,
    [lo, hi]: [usize; 2],
    k: usize,
    s: usize,
    d: usize,
    op: usize,
) -> Option<usize> {
    let out =
        (n as i64 - 1) * s as i64 - lo as i64 - hi as i64 + (d * (k - 1)) as i64 + op as i64 + 1;
    (out > 0).then_some(out as usize)
}

/// `[c, h, w]` of an image, `[c, 1, l]` of a sequence.
fn spatial(s: Shape) -> Option<[usize; 3]> {
    match s {
        Shape::Chw { c, h, w } => Some([c, h, w]),
        Shape::Cl { c, l } => Some([c, 1, l]),
        Shape::Flat(_) | Shape::Nd(_) => None,
    }
}

/// The same kind of shape as `like` with these dimensions.
fn like(like: Shape, [c, h, w]: [usize; 3]) -> Shape {
    match like {
        Shape::Cl { .. } => Shape::cl(c, w),
        _ => Shape::chw(c, h, w),
    }
}

impl Spec {
    /// The output shape for `input`, by PyTorch's formulas; `None` when the layer does not fit.
    pub(crate) fn out(&self, input: Shape) -> Option<Shape> {
        let dims = spatial(input);
        Some(match self {
            Spec::Conv2d(p) => {
                let Shape::Chw { c, h, w } = input else {
                    return None;
                };
                let [c, h, w] = p.out_shape([c, h, w]);
                Shape::chw(c, h, w)
            }
            Spec::Conv1d {
                c_out,
                kernel,
                stride,
                dilation,
                padding,
                ..
            } => {
                let Shape::Cl { l, .. } = input else {
                    return None;
                };
                Shape::cl(*c_out, conv_len(l, *padding, *kernel, *stride, *dilation)?)
            }
            Spec::ConvTranspose2d {
                c_out,
                kernel: k,
                stride: s,
                padding: p,
                output_padding: op,
                dilation: d,
                ..
            } => {
                let Shape::Chw { h, w, .. } = input else {
                    return None;
                };
                let oh = transposed_len(h, [p[0], p[2]], k[0], s[0], d[0], op[0])?;
                let ow = transposed_len(w, [p[1], p[3]], k[1], s[1], d[1], op[1])?;
                Shape::chw(*c_out, oh, ow)
            }
            Spec::BatchNorm { .. } | Spec::Identity | Spec::Dropout(_) => input,
            Spec::AvgPool2d {
                kernel: k,
                stride,
                padding: p,
                ceil_mode,
                ..
            } => {
                let Shape::Chw { c, h, w } = input else {
                    return None;
                };
                let s = stride.unwrap_or(*k);
                let oh = pool_len(h, [p[0], p[2]], k[0], s[0], *ceil_mode)?;
                let ow = pool_len(w, [p[1], p[3]], k[1], s[1], *ceil_mode)?;
                Shape::chw(c, oh, ow)
            }
            Spec::AvgPool1d {
                kernel,
                stride,
                padding,
                ceil_mode,
                ..
            } => {
                let Shape::Cl { c, l } = input else {
                    return None;
                };
                let s = stride.unwrap_or(*kernel);
                Shape::cl(c, pool_len(l, *padding, *kernel, s, *ceil_mode)?)
            }
            Spec::Pad { padding: p, .. } => {
                let [c, h, w] = dims?;
                like(input, [c, h + p[0] + p[2], w + p[1] + p[3]])
            }
            Spec::Upsample([sh, sw]) => {
                let [c, h, w] = dims?;
                like(input, [c, h * sh, w * sw])
            }
            Spec::Reshape(target) => *target,
            Spec::Tensor(t) => t.out(input)?,
            Spec::Permute(d) => {
                let s = input.dims();
                if s.len() != d.len() {
                    return None;
                }
                Shape::from_dims(&d.iter().map(|&a| s[a]).collect::<Vec<_>>())?
            }
        })
    }

    /// The layer for `input`, with weights uniform in `[-1, 1)` from `rng`.
    pub(crate) fn build(&self, input: Shape, rng: &mut StdRng) -> Layer<f32> {
        let c_in = input_channels(input);
        match self {
            Spec::Conv2d(p) => build_conv(p, c_in, rng).into(),
            Spec::Conv1d {
                c_out,
                groups,
                kernel,
                stride,
                dilation,
                padding,
                bias,
            } => {
                let weight: Array3<f32> =
                    rand_array(rng, ndarray::Dim((*c_out, c_in / groups, *kernel)));
                let bias = bias.then(|| rand_array(rng, ndarray::Dim(*c_out)));
                let config = Conv1dConfig {
                    stride: *stride,
                    dilation: *dilation,
                    padding: *padding,
                    groups: *groups,
                };
                Conv1d::new(weight, bias, config)
                    .expect("valid by construction")
                    .into()
            }
            Spec::ConvTranspose2d {
                c_out,
                groups,
                kernel,
                stride,
                padding,
                output_padding,
                dilation,
                bias,
            } => {
                let shape = (c_in, c_out / groups, kernel[0], kernel[1]);
                let weight: Array4<f32> = rand_array(rng, ndarray::Dim(shape));
                let bias = bias.then(|| rand_array(rng, ndarray::Dim(*c_out)));
                let config = ConvTranspose2dConfig {
                    stride: *stride,
                    padding: *padding,
                    output_padding: *output_padding,
                    dilation: *dilation,
                    groups: *groups,
                };
                ConvTranspose2d::new(weight, bias, config)
                    .expect("valid by construction")
                    .into()
            }
            Spec::BatchNorm { affine, eps } => {
                let n = c_in;
                let mean: Array1<f32> = rand_array(rng, ndarray::Dim(n));
                let var = Array1::from_shape_simple_fn(n, || rng.gen_range(0.05f32..2.0));
                let (weight, bias) = if *affine {
                    let g = Array1::from_shape_simple_fn(n, || rng.gen_range(-1.5f32..1.5));
                    (Some(g), Some(rand_array(rng, ndarray::Dim(n))))
                } else {
                    (None, None)
                };
                BatchNorm::new(mean, var, *eps, weight, bias)
                    .expect("valid by construction")
                    .into()
            }
            Spec::AvgPool2d {
                kernel,
                stride,
                padding,
                ceil_mode,
                count_include_pad,
            } => {
                let config = AvgPool2dConfig {
                    stride: *stride,
                    padding: *padding,
                    ceil_mode: *ceil_mode,
                    count_include_pad: *count_include_pad,
                };
                AvgPool2d::new(*kernel, config)
                    .expect("valid by construction")
                    .into()
            }
            Spec::AvgPool1d {
                kernel,
                stride,
                padding,
                ceil_mode,
                count_include_pad,
            } => {
                let config = AvgPool1dConfig {
                    stride: *stride,
                    padding: *padding,
                    ceil_mode: *ceil_mode,
                    count_include_pad: *count_include_pad,
                };
                AvgPool1d::new(*kernel, config)
                    .expect("valid by construction")
                    .into()
            }
            Spec::Pad { padding, mode } => Pad::new(*padding, *mode).expect("finite").into(),
            Spec::Upsample(scale) => Upsample::new(*scale).expect("positive").into(),
            Spec::Identity => Identity.into(),
            Spec::Dropout(p) => Dropout::new(*p).expect("in [0, 1]").into(),
            Spec::Reshape(s) => Reshape::new(*s).expect("no zero dimension").into(),
            Spec::Permute(d) => Permute::new(d).expect("a permutation").into(),
            Spec::Tensor(t) => t.build(input, rng),
        }
    }

    /// Rough multiply-adds of one forward pass (what each of the probe's `n_in` passes costs).
    fn cost(&self, input: Shape, output: Shape) -> usize {
        let taps = match self {
            Spec::Conv2d(p) => input_channels(input) / p.groups * p.kernel[0] * p.kernel[1],
            Spec::Conv1d { groups, kernel, .. } => input_channels(input) / groups * kernel,
            Spec::ConvTranspose2d {
                c_out,
                groups,
                kernel,
                ..
            } => return input.numel() * c_out / groups * kernel[0] * kernel[1],
            Spec::AvgPool2d { kernel, .. } => kernel[0] * kernel[1],
            Spec::AvgPool1d { kernel, .. } => *kernel,
            Spec::Tensor(t) => return t.cost(input, output),
            _ => 1,
        };
        output.numel() * taps
    }
}

fn input_channels(s: Shape) -> usize {
    s.dims().first().copied().unwrap_or(1)
}

fn divisors(n: usize) -> Vec<usize> {
    (1..=n).filter(|d| n.is_multiple_of(*d)).collect()
}

fn pad_mode() -> impl Strategy<Value = PadMode<f32>> {
    prop_oneof![
        Just(PadMode::Constant(0.0)),
        (-1.0f32..1.0).prop_map(PadMode::Constant),
        Just(PadMode::Reflect),
        Just(PadMode::Replicate),
        Just(PadMode::Circular),
    ]
}

/// Padding of a `(c, h, w)` image (or, with `one_d`, of a sequence of length `w`) within the mode's
/// limits: reflect `< n`, circular `<= n`, at most 3 per side.
pub(crate) fn pad_spec(input: Shape) -> BoxedStrategy<Spec> {
    let [_, h, w] = spatial(input).expect("a spatial input");
    let one_d = matches!(input, Shape::Cl { .. });
    pad_mode()
        .prop_flat_map(move |mode| {
            let limit = |n: usize| match mode {
                PadMode::Reflect => n - 1,
                PadMode::Circular => n,
                _ => 3,
            };
            let lh = if one_d { 0 } else { limit(h).min(3) };
            let lw = limit(w).min(3);
            (0..=lh, 0..=lw, 0..=lh, 0..=lw).prop_map(move |(t, l, b, r)| Spec::Pad {
                padding: [t, l, b, r],
                mode,
            })
        })
        .boxed()
}

pub(crate) fn batchnorm_spec() -> BoxedStrategy<Spec> {
    (any::<bool>(), prop::sample::select(vec![1e-5, 1e-3, 0.1]))
        .prop_map(|(affine, eps)| Spec::BatchNorm { affine, eps })
        .boxed()
}

/// An AvgPool2d whose output is not empty: kernel 1..=4, stride 1..=3 (or the default), padding at most
/// half the kernel on each side, either rounding mode and divisor.
pub(crate) fn avgpool2d_spec(input: Shape) -> BoxedStrategy<Spec> {
    (
        prop::array::uniform2(1..=4usize),
        prop::option::of(prop::array::uniform2(1..=3usize)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(kernel, stride, ceil_mode, count_include_pad)| {
            let (ph, pw) = (0..=kernel[0] / 2, 0..=kernel[1] / 2);
            (ph.clone(), pw.clone(), ph, pw).prop_map(move |(t, l, b, r)| Spec::AvgPool2d {
                kernel,
                stride,
                padding: [t, l, b, r],
                ceil_mode,
                count_include_pad,
            })
        })
        .prop_filter("no window fits", move |s| s.out(input).is_some())
        .boxed()
}

pub(crate) fn avgpool1d_spec(input: Shape) -> BoxedStrategy<Spec> {
    (
        1..=4usize,
        prop::option::of(1..=3usize),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(kernel, stride, ceil_mode, count_include_pad)| {
            (0..=kernel / 2, 0..=kernel / 2).prop_map(move |(l, r)| Spec::AvgPool1d {
                kernel,
                stride,
                padding: [l, r],
                ceil_mode,
                count_include_pad,
            })
        })
        .prop_filter("no window fits", move |s| s.out(input).is_some())
        .boxed()
}

/// A Conv1d that fits a `(c, l)` input: kernel 1..=5 within the padded length, groups dividing `c`.
pub(crate) fn conv1d_spec(input: Shape) -> BoxedStrategy<Spec> {
    let Shape::Cl { c, l } = input else {
        panic!("a sequence input")
    };
    (
        prop::sample::select(divisors(c)),
        1..=3usize,
        1..=3usize,
        1..=2usize,
        prop::array::uniform2(0..=2usize),
        any::<bool>(),
    )
        .prop_flat_map(move |(groups, m, stride, dilation, padding, bias)| {
            let k_max = ((l + padding[0] + padding[1] - 1) / dilation + 1).min(5);
            (1..=k_max).prop_map(move |kernel| Spec::Conv1d {
                c_out: groups * m,
                groups,
                kernel,
                stride,
                dilation,
                padding,
                bias,
            })
        })
        .boxed()
}

/// A ConvTranspose2d with a non-empty output: output padding below the stride or the dilation.
pub(crate) fn conv_transpose2d_spec(input: Shape) -> BoxedStrategy<Spec> {
    let Shape::Chw { c, .. } = input else {
        panic!("an image input")
    };
    (
        prop::sample::select(divisors(c)),
        1..=2usize,
        prop::array::uniform2(1..=3usize),
        prop::array::uniform2(1..=3usize),
        prop::array::uniform2(1..=2usize),
        any::<bool>(),
    )
        .prop_flat_map(move |(groups, m, kernel, stride, dilation, bias)| {
            let op = |a: usize| 0..stride[a].max(dilation[a]);
            (prop::array::uniform4(0..=2usize), op(0), op(1)).prop_map(move |(padding, oh, ow)| {
                Spec::ConvTranspose2d {
                    c_out: groups * m,
                    groups,
                    kernel,
                    stride,
                    padding,
                    output_padding: [oh, ow],
                    dilation,
                    bias,
                }
            })
        })
        .prop_filter("the padding crops everything", move |s| {
            s.out(input).is_some()
        })
        .boxed()
}

pub(crate) fn upsample_spec(input: Shape) -> BoxedStrategy<Spec> {
    let sh = if matches!(input, Shape::Cl { .. }) {
        1..=1usize
    } else {
        1..=2
    };
    (sh, 1..=3usize)
        .prop_map(|(sh, sw)| Spec::Upsample([sh, sw]))
        .boxed()
}

/// Any permutation of the axes of `input`.
pub(crate) fn permute_spec(input: Shape) -> BoxedStrategy<Spec> {
    Just((0..input.rank()).collect::<Vec<usize>>())
        .prop_shuffle()
        .prop_map(Spec::Permute)
        .boxed()
}

/// A reshape to another shape with as many elements: transposed sizes, merged axes, a sequence or flat.
pub(crate) fn reshape_spec(input: Shape, images_only: bool) -> BoxedStrategy<Spec> {
    let [c, h, w] = spatial(input).unwrap_or([input.numel(), 1, 1]);
    let mut targets = vec![
        Shape::chw(c, w, h),
        Shape::chw(1, c * h, w),
        Shape::chw(h, c, w),
    ];
    if !images_only {
        targets.extend([Shape::cl(c * h, w), Shape::flat(c * h * w)]);
    }
    prop::sample::select(targets)
        .prop_map(Spec::Reshape)
        .boxed()
}

pub(crate) fn identity_or_dropout() -> BoxedStrategy<Spec> {
    prop_oneof![Just(Spec::Identity), (0.0..=1.0f64).prop_map(Spec::Dropout)].boxed()
}

/// Any layer from the menu that fits a `(c, h, w)` image, Conv2d included.
fn image_layer(input: Shape) -> BoxedStrategy<Spec> {
    let Shape::Chw { c, h, w } = input else {
        panic!("an image input")
    };
    prop_oneof![
        2 => conv_params([c, h, w]).prop_map(Spec::Conv2d),
        2 => batchnorm_spec(),
        2 => avgpool2d_spec(input),
        2 => pad_spec(input),
        2 => conv_transpose2d_spec(input),
        1 => upsample_spec(input),
        1 => identity_or_dropout(),
        1 => permute_spec(input),
        1 => reshape_spec(input, true),
        1 => linear_spec(),
        1 => slice_spec(input),
        1 => scale_shift_spec(input),
        1 => expand_spec(input),
        1 => reduce_spec(input),
        1 => depth_to_space_spec(input),
        1 => space_to_depth_spec(input),
        1 => resize_spec(input),
    ]
    .boxed()
}

/// Any layer from the menu that fits a `(c, l)` sequence.
fn sequence_layer(input: Shape) -> BoxedStrategy<Spec> {
    prop_oneof![
        3 => conv1d_spec(input),
        2 => batchnorm_spec(),
        2 => avgpool1d_spec(input),
        2 => pad_spec(input),
        1 => upsample_spec(input),
        1 => identity_or_dropout(),
        1 => linear_spec(),
        1 => slice_spec(input),
        1 => scale_shift_spec(input),
        1 => reduce_spec(input),
        1 => resize_spec(input),
    ]
    .boxed()
}

/// Any layer from the menu that fits a sample of another rank: flat, no axis, or 4 to 7 axes.
fn tensor_layer(input: Shape) -> BoxedStrategy<Spec> {
    let mut menu = vec![
        (1, scale_shift_spec(input)),
        (1, expand_spec(input)),
        (1, identity_or_dropout()),
    ];
    if input.rank() > 0 {
        menu.extend([
            (2, linear_spec()),
            (2, slice_spec(input)),
            (1, permute_spec(input)),
            (1, batchnorm_spec()),
            (1, reshape_spec(input, false)),
            (1, reduce_spec(input)),
            (1, resize_spec(input)),
        ]);
    }
    prop::strategy::Union::new_weighted(menu).boxed()
}

/// Keeps the chains small: at most 10 per axis, 8 channels, 400 elements.
fn small(s: Shape) -> bool {
    s.numel() <= 400
        && s.dims().iter().all(|&d| d <= 10)
        && s.dims().first().is_none_or(|&c| c <= 8)
}

/// `depth` layers, each drawn for the shape the one before outputs.
fn layers(depth: usize, input: Shape) -> BoxedStrategy<Vec<Spec>> {
    if depth == 0 {
        return Just(Vec::new()).boxed();
    }
    let layer = match input {
        Shape::Cl { .. } => sequence_layer(input),
        Shape::Chw { .. } => image_layer(input),
        Shape::Flat(_) | Shape::Nd(_) => tensor_layer(input),
    };
    layer
        .prop_filter("too large", move |s| s.out(input).is_some_and(small))
        .prop_flat_map(move |s| {
            let next = s.out(input).expect("filtered");
            layers(depth - 1, next).prop_map(move |mut rest| {
                rest.insert(0, s.clone());
                rest
            })
        })
        .boxed()
}

/// A chain: 1 to 3 layers on an image or a sequence, Flatten, then 1 or 2 Linears `(out_features, bias)`
/// with an optional BatchNorm1d over the features after the first.
#[derive(Clone, Debug)]
pub(crate) struct ChainSpec {
    pub(crate) input: Shape,
    pub(crate) layers: Vec<Spec>,
    pub(crate) linears: Vec<(usize, bool)>,
    pub(crate) feature_norm: Option<Spec>,
    pub(crate) seed: u64,
}

impl ChainSpec {
    /// Shapes along the spatial part: the input, then each layer's output.
    pub(crate) fn shapes(&self) -> Vec<Shape> {
        let mut s = vec![self.input];
        for l in &self.layers {
            let next = l
                .out(*s.last().expect("non-empty"))
                .expect("valid by construction");
            s.push(next);
        }
        s
    }

    /// The f32 chain with seeded weights, and its input shape.
    pub(crate) fn build(&self) -> (Vec<Layer<f32>>, Shape) {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let shapes = self.shapes();
        let mut chain: Vec<Layer<f32>> = self
            .layers
            .iter()
            .zip(&shapes)
            .map(|(l, &s)| l.build(s, &mut rng))
            .collect();
        chain.push(Flatten.into());
        let mut n = shapes.last().expect("non-empty").numel();
        for (i, &(out, bias)) in self.linears.iter().enumerate() {
            let w: Array2<f32> = rand_array(&mut rng, ndarray::Dim((out, n)));
            let b = bias.then(|| rand_array(&mut rng, ndarray::Dim(out)));
            chain.push(Linear::new(w, b).expect("valid").into());
            n = out;
            if let (0, Some(norm)) = (i, &self.feature_norm) {
                chain.push(norm.build(Shape::flat(n), &mut rng));
            }
        }
        (chain, self.input)
    }

    /// Multiply-adds of the probe: `n_in` forward passes.
    fn probe_cost(&self) -> usize {
        let shapes = self.shapes();
        let mut cost: usize = self
            .layers
            .iter()
            .zip(shapes.windows(2))
            .map(|(l, s)| l.cost(s[0], s[1]))
            .sum();
        let mut n = shapes.last().expect("non-empty").numel();
        for &(out, _) in &self.linears {
            cost += n * out;
            n = out;
        }
        cost * self.input.numel()
    }
}

/// Largest probe cost a chain may have, to keep the suite fast.
const MAX_PROBE_COST: usize = 2_000_000;

/// Chains on a `(c, h, w)` image (`one_d == false`) or a `(c, l)` sequence.
pub(crate) fn chains(one_d: bool) -> impl Strategy<Value = ChainSpec> {
    let input = if one_d {
        (1..=3usize, 1..=12usize)
            .prop_map(|(c, l)| Shape::cl(c, l))
            .boxed()
    } else {
        (1..=3usize, 1..=7usize, 1..=7usize)
            .prop_map(|(c, h, w)| Shape::chw(c, h, w))
            .boxed()
    };
    (input, 1..=3usize)
        .prop_flat_map(|(input, depth)| {
            (
                layers(depth, input),
                prop::collection::vec((1..=5usize, any::<bool>()), 1..=2),
                prop::option::of(batchnorm_spec()),
                any::<u64>(),
            )
                .prop_map(move |(layers, linears, feature_norm, seed)| ChainSpec {
                    input,
                    layers,
                    linears,
                    feature_norm,
                    seed,
                })
        })
        .prop_filter("probe too costly", |p| p.probe_cost() <= MAX_PROBE_COST)
}
