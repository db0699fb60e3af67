//! Property tests of the layers beyond Conv2d, Flatten and Linear: for each layer alone, and for random
//! short chains mixing them with Conv2d and Linear, the lowered map, the direct forward pass, the probe and
//! the collapse (every method) agree, and `infer` agrees with PyTorch's output-size formulas.

use linear_collapse::compose::forward_batch;
use linear_collapse::layer::Layer;
use linear_collapse::{infer, lower, reference, Par, Scalar, Shape};
use ndarray::Array2;
use proptest::prelude::*;
use rand::{rngs::StdRng, SeedableRng};

use crate::common::{abs_chain, assert_close, Tol};
use crate::props::{check_chain, config};
use crate::specs::{self, chains, Spec};
use crate::tensor_specs;

fn max_abs<'a>(v: impl IntoIterator<Item = &'a f64>) -> f64 {
    v.into_iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// The lowered matrix and bias of `layer` in `T` against the probe's columns and `f(0)`.
fn assert_lowered_is_probe<T: Scalar>(
    layer: &Layer<T>,
    input: Shape,
    probe: &reference::Probe,
    tol: Tol,
) {
    let map = lower::lower(layer, input).expect("lowers");
    let what = format!("{} in {}", layer.describe(), T::NAME);
    let dense = map.matrix.to_dense().unwrap();
    assert_close(
        dense.view(),
        probe.weight.view(),
        tol,
        &format!("{what}: lowered vs probe"),
    );
    assert_close(
        map.bias.view(),
        probe.bias.view(),
        tol,
        &format!("{what}: bias vs f(0)"),
    );
}

/// Everything checked for one layer: shapes by `infer`, the reference and PyTorch's formula; the lowered map
/// against the probe in `f32` and `f64`; then [`check_chain`] on the one-layer chain.
fn check_spec(spec: &Spec, input: Shape, seed: u64) {
    let expect = spec.out(input).expect("valid by construction");
    let layer = spec.build(input, &mut StdRng::seed_from_u64(seed));
    let chain = vec![layer.clone()];
    let shapes = infer::shapes(&chain, input).expect("fits by construction");
    assert_eq!(shapes[1], expect, "infer vs PyTorch's formula for {spec:?}");
    let probe = reference::probe(&chain, input).expect("probe");
    assert_eq!(probe.output_shape, expect, "reference vs PyTorch's formula");
    let mag = reference::probe(&abs_chain(&chain), input).expect("probe of |layer|");
    let m = max_abs(mag.weight.iter()) + max_abs(mag.bias.iter());
    let n = input.numel() + expect.numel();
    assert_lowered_is_probe(
        &layer,
        input,
        &probe,
        Tol::eps_scaled::<f32>(n).magnitude(m),
    );
    let wide: Layer<f64> = layer.cast().expect("widens");
    assert_lowered_is_probe(&wide, input, &probe, Tol::eps_scaled::<f64>(n).magnitude(m));
    // the fast batched pass (the probing baseline's) agrees with the reference
    let x = Array2::from_shape_fn((2, input.numel()), |(r, c)| {
        ((r * 7 + c * 3) % 11) as f64 / 5.0 - 1.0
    });
    let y = forward_batch(std::slice::from_ref(&wide), input, x.view(), Par::Seq).expect("batch");
    for (xr, yr) in x.outer_iter().zip(y.outer_iter()) {
        let (want, _) = reference::forward(&chain, input, &xr.to_vec()).expect("forward");
        let tol = Tol::eps_scaled::<f64>(n).magnitude(2.0 * m);
        assert_close(
            yr,
            ndarray::ArrayView1::from(&want),
            tol,
            "forward_batch vs reference",
        );
    }
    check_chain(&chain, input, seed);
}

fn image() -> impl Strategy<Value = Shape> {
    (1..=4usize, 1..=8usize, 1..=8usize).prop_map(|(c, h, w)| Shape::chw(c, h, w))
}

fn sequence() -> impl Strategy<Value = Shape> {
    (1..=4usize, 1..=16usize).prop_map(|(c, l)| Shape::cl(c, l))
}

fn any_shape() -> impl Strategy<Value = Shape> {
    prop_oneof![image(), sequence(), (1..=16usize).prop_map(Shape::flat)]
}

/// A sample of 1 to 5 axes (so [`Shape::Nd`] too), each 1 to 4 long, at most 240 elements.
fn nd_shape() -> impl Strategy<Value = Shape> {
    prop::collection::vec(1..=4usize, 1..=5)
        .prop_filter("too large", |d| d.iter().product::<usize>() <= 240)
        .prop_map(|d| Shape::from_dims(&d).expect("at most 5 axes"))
}

/// `(input, spec, seed)` with the spec drawn for the input.
fn case<S: Strategy<Value = Spec>>(
    input: impl Strategy<Value = Shape>,
    spec: impl Fn(Shape) -> S,
) -> impl Strategy<Value = (Shape, Spec, u64)> {
    input.prop_flat_map(move |s| (Just(s), spec(s), any::<u64>()))
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn batchnorm((input, spec, seed) in case(any_shape(), |_| specs::batchnorm_spec())) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn avgpool2d((input, spec, seed) in case(image(), specs::avgpool2d_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn avgpool1d((input, spec, seed) in case(sequence(), specs::avgpool1d_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn pad_image((input, spec, seed) in case(image(), specs::pad_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn pad_sequence((input, spec, seed) in case(sequence(), specs::pad_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn conv1d((input, spec, seed) in case(sequence(), specs::conv1d_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn conv_transpose2d((input, spec, seed) in case(image(), specs::conv_transpose2d_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn upsample((input, spec, seed) in case(prop_oneof![image(), sequence()], specs::upsample_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn identity_and_dropout((input, spec, seed) in case(any_shape(), |_| specs::identity_or_dropout())) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn reshape((input, spec, seed) in case(any_shape(), |s| specs::reshape_spec(s, false))) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn permute((input, spec, seed) in case(nd_shape(), specs::permute_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn slice((input, spec, seed) in case(nd_shape(), tensor_specs::slice_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn scale_shift((input, spec, seed) in case(prop_oneof![nd_shape(), any_shape()], tensor_specs::scale_shift_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn expand((input, spec, seed) in case(nd_shape(), tensor_specs::expand_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn reduce((input, spec, seed) in case(prop_oneof![nd_shape(), any_shape()], tensor_specs::reduce_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn depth_to_space(
        (input, spec, seed) in (1..=3usize, 1..=3usize, 1..=4usize, 1..=4usize)
            .prop_map(|(b, k, h, w)| Shape::chw(k * b * b, h, w))
            .prop_flat_map(|s| (Just(s), tensor_specs::depth_to_space_spec(s), any::<u64>()))
    ) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn space_to_depth(
        (input, spec, seed) in (1..=3usize, 1..=3usize, 1..=3usize, 1..=3usize)
            .prop_map(|(b, c, h, w)| Shape::chw(c, h * b, w * b))
            .prop_flat_map(|s| (Just(s), tensor_specs::space_to_depth_spec(s), any::<u64>()))
    ) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn resize((input, spec, seed) in case(prop_oneof![nd_shape(), any_shape()], tensor_specs::resize_spec)) {
        check_spec(&spec, input, seed);
    }

    #[test]
    fn linear_over_the_last_axis((input, spec, seed) in case(nd_shape(), |_| tensor_specs::linear_spec())) {
        check_spec(&spec, input, seed);
    }
}

/// A convolution then a per-channel ScaleShift collapses to one convolution computing the same map.
fn check_fold(input: Shape, conv: &crate::props::ConvParams, spec: &Spec, seed: u64) {
    use linear_collapse::form::Form;
    use linear_collapse::graph::{Model, Op};
    let mut rng = StdRng::seed_from_u64(seed);
    let c = crate::props::build_conv(conv, input.dims()[0], &mut rng);
    let mid = infer::output_shape(0, &Layer::Conv2d(c.clone()), input).expect("fits");
    let ops: Vec<Op<f64>> = [c.into(), spec.build(mid, &mut rng)]
        .iter()
        .map(|l| Op::Layer(l.cast().expect("widens")))
        .collect();
    let m = Model::sequential(input, ops).expect("valid");
    let force = linear_collapse::Options {
        policy: linear_collapse::Policy::Force,
        ..Default::default()
    };
    let (small, reports) = linear_collapse::collapse_model(&m, &force).expect("collapses");
    // one conv, or the Linear when a tiny image makes that cheaper still
    assert!(
        matches!(reports[0].form, Form::Conv2d | Form::Linear),
        "{}",
        reports[0]
    );
    let x: Vec<f64> = (0..input.numel())
        .map(|i| ((i * 7) % 5) as f64 - 2.0)
        .collect();
    let a = linear_collapse::verify::forward_model(&m, &x).expect("forward");
    let b = linear_collapse::verify::forward_model(&small, &x).expect("forward");
    let tol = Tol::eps_scaled::<f64>(input.numel()).magnitude(max_abs(&a) + 10.0);
    assert_close(
        ndarray::ArrayView1::from(&b),
        ndarray::ArrayView1::from(&a),
        tol,
        "folded",
    );
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn per_channel_scale_shift_folds_into_a_conv(
        (input, conv, spec, seed) in image()
            .prop_flat_map(|s| {
                let [c, h, w] = [s.dims()[0], s.dims()[1], s.dims()[2]];
                (Just(s), crate::props::conv_params([c, h, w]))
            })
            .prop_flat_map(|(s, p)| {
                let [c, h, w] = p.out_shape([s.dims()[0], s.dims()[1], s.dims()[2]]);
                (Just(s), Just(p), tensor_specs::per_channel_spec(Shape::chw(c, h, w)), any::<u64>())
            })
    ) {
        check_fold(input, &conv, &spec, seed);
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn image_chains_collapse_to_the_probe(p in chains(false)) {
        let (chain, input) = p.build();
        let shapes = infer::shapes(&chain, input).expect("valid by construction");
        prop_assert_eq!(&shapes[..p.layers.len() + 1], &p.shapes()[..]);
        check_chain(&chain, input, p.seed);
    }

    #[test]
    fn sequence_chains_collapse_to_the_probe(p in chains(true)) {
        let (chain, input) = p.build();
        let shapes = infer::shapes(&chain, input).expect("valid by construction");
        prop_assert_eq!(&shapes[..p.layers.len() + 1], &p.shapes()[..]);
        check_chain(&chain, input, p.seed);
    }
}
