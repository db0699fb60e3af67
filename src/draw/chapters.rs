//! Every picture of the chapters, from the same small examples the chapters compute.

use std::path::{Path, PathBuf};

use ndarray::{array, Array1, Array2, Array4};

use super::im2col::im2col_picture;
use super::{difference_map, sparsity, toeplitz_heatmap, toeplitz_pair};
use crate::layer::{Conv2d, Conv2dConfig, Layer};
use crate::lower::toeplitz;
use crate::{reference, Error, Result, Shape};

/// Draws every picture of `docs/0*.md` into `dir` (created if missing) and returns the paths written:
///
/// - `02-toeplitz-1ch.png`: the 9x16 Toeplitz matrix of the 2x2 kernel `[[1, 2], [3, 4]]` on a 4x4 input,
///   values in the cells;
/// - `02-toeplitz-stride2-pad1.png`: a 3x3 kernel on a 4x4 input with stride 2 and padding 1 (4x16);
/// - `02-toeplitz-stride1-vs-stride2.png`: the same kernel and input with padding 1, stride 1 (16x16) and
///   stride 2 (4x16) side by side in one colour scale;
/// - `02-toeplitz-2ch.png`: two input and two output channels, a 2x2 grid of doubly block Toeplitz blocks;
/// - `03-sparsity-seed.png`: the sparsity pattern of the seed convolution (5 -> 50, k5, stride 2, on
///   5x13x13; 1250x845) at one entry per pixel, with its channel blocks and a magnified block;
/// - `04-border.png`: the border effect of chapter 04 (exact output, naive merged conv, difference);
/// - `07-im2col-col2im.png`: im2col of a 4x4 image for a 2x2 kernel, and col2im of all ones.
///
/// (The benchmark plot of chapter 03, `bench.svg`, is drawn by `examples/plot_bench.rs` from measured
/// data.)
///
/// # Errors
/// [`Error::Io`] when `dir` cannot be created; [`Error::Format`] when a picture cannot be written.
///
/// ```
/// let dir = std::env::temp_dir().join("linear_collapse_chapters_doc");
/// let written = linear_collapse::draw::chapters(&dir)?;
/// assert!(written.iter().all(|p| std::fs::metadata(p).unwrap().len() > 0));
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn chapters(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let mut out = |name: &str| {
        let p = dir.join(name);
        written.push(p.clone());
        p
    };

    // 02: one channel, 4x4 input, 2x2 kernel -> the 9x16 matrix of the chapter.
    let k = array![[1.0f32, 2.0], [3.0, 4.0]]
        .into_shape_with_order((1, 1, 2, 2))
        .expect("4 values");
    let one = Conv2d::new(k, None, Conv2dConfig::default())?;
    toeplitz_heatmap(&one, Shape::chw(1, 4, 4), out("02-toeplitz-1ch.png"))?;
    // 02: stride 2 and padding 1 with a 3x3 kernel.
    let k3 = Array4::from_shape_fn((1, 1, 3, 3), |(_, _, a, b)| (3 * a + b + 1) as f32);
    let strided = Conv2d::new(k3, None, Conv2dConfig::default().stride(2).padding(1))?;
    toeplitz_heatmap(
        &strided,
        Shape::chw(1, 4, 4),
        out("02-toeplitz-stride2-pad1.png"),
    )?;
    // 02: the same kernel and padding with stride 1 next to stride 2.
    let unit = Conv2d::new(
        strided.weight().clone(),
        None,
        Conv2dConfig::default().padding(1),
    )?;
    toeplitz_pair(
        "Toeplitz matrices of a 3x3 kernel on a 4x4 input, padding 1: stride 1 against stride 2"
            .into(),
        (&unit, Shape::chw(1, 4, 4), "stride 1"),
        (
            &strided,
            Shape::chw(1, 4, 4),
            "stride 2 (rows 0, 2, 8, 10 of stride 1)",
        ),
        &out("02-toeplitz-stride1-vs-stride2.png"),
    )?;
    // 02: two input and two output channels: a 2x2 grid of doubly block Toeplitz blocks.
    let k2 = Array4::from_shape_fn((2, 2, 2, 2), |(o, c, a, b)| {
        (1 + 2 * a + b) as f32 * if o == c { 1.0 } else { -0.5 }
    });
    let two = Conv2d::new(k2, None, Conv2dConfig::default())?;
    toeplitz_heatmap(&two, Shape::chw(2, 4, 4), out("02-toeplitz-2ch.png"))?;

    // 03: the sparsity of the seed convolution (5 -> 50, k5, stride 2, on 5x13x13).
    let seed = Conv2d::new(
        Array4::from_elem((50, 5, 5, 5), 1.0f32),
        None,
        Conv2dConfig::default().stride(2),
    )?;
    let t = toeplitz(&seed, Shape::chw(5, 13, 13))?;
    sparsity(&t, out("03-sparsity-seed.png"))?;

    // 04: conv(3x3) then conv(3x3, padding 1), against the naively merged 5x5 conv with padding 1.
    let (exact, naive) = border_example()?;
    difference_map(
        exact.view(),
        naive.view(),
        ("exact: conv2(conv1(x))", "naive merged 5x5 conv"),
        out("04-border.png"),
    )?;
    // 07: im2col and col2im of a 4x4 image for a 2x2 kernel.
    im2col_picture(&out("07-im2col-col2im.png"))?;
    Ok(written)
}

/// The example of chapter 04: the exact output of `conv2 ∘ conv1` on a 12x12 input, and the output of
/// the 5x5 conv obtained by composing the kernels as if conv2 did not pad.
fn border_example() -> Result<(Array2<f64>, Array2<f64>)> {
    let k1 = array![[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]];
    let k2 = array![[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]];
    let (b1, b2) = (0.5, 0.0);
    let conv = |k: &Array2<f64>, b: f64, pad: usize| {
        let (kh, kw) = k.dim();
        let w = k
            .clone()
            .into_shape_with_order((1, 1, kh, kw))
            .expect("same size");
        Conv2d::new(w, Some(array![b]), Conv2dConfig::default().padding(pad))
    };
    let mut merged = Array2::<f64>::zeros((5, 5));
    for ((a, b), &v) in k1.indexed_iter() {
        for ((c, d), &u) in k2.indexed_iter() {
            merged[[a + c, b + d]] += u * v;
        }
    }
    let merged_bias = b2 + k2.sum() * b1;
    let input = Shape::chw(1, 12, 12);
    let x: Vec<f64> = (0..144)
        .map(|i| ((i / 12) as f64 * 0.5).sin() + ((i % 12) as f64 * 0.3).cos())
        .collect();
    let exact_chain: Vec<Layer<f64>> = vec![conv(&k1, b1, 0)?.into(), conv(&k2, b2, 1)?.into()];
    let naive_chain: Vec<Layer<f64>> = vec![conv(&merged, merged_bias, 1)?.into()];
    let (e, _) = reference::forward(&exact_chain, input, &x)?;
    let (n, _) = reference::forward(&naive_chain, input, &x)?;
    let grid = |v: Vec<f64>| {
        Array1::from(v)
            .into_shape_with_order((10, 10))
            .expect("10x10")
    };
    Ok((grid(e), grid(n)))
}
