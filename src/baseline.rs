//! The fair probing baseline: the forum method done the way a framework would do it.
//!
//! `b = f(0)`, and column `i` of `W` is `f(e_i) - b`, where the one-hot inputs go through the chain in
//! batches with the fast forward pass (im2col + GEMM per convolution, GEMM per Linear), in chunks sized to
//! the memory budget. This is what "against probing" means in the benchmarks; the slow, independent probe
//! used for checking lives in [`crate::reference`].

use ndarray::{Array2, Axis};

use crate::compose::forward_batch;
use crate::layer::{Layer, Linear};
use crate::memory::{self, matrix_bytes};
use crate::{infer, Options, Result, Scalar, Shape};

/// Largest chunk of one-hot inputs, in bytes of the widest activation (as PyTorch users chunk by hand).
const CHUNK_BYTES: u64 = 256 << 20;

/// Probes `chain` at `input` with batched forward passes: `n_in + 1` inputs in chunks.
///
/// # Errors
/// [`crate::Error::Shape`] when the chain does not fit; [`crate::Error::TooLarge`] when `W` plus one chunk
/// exceeds `opts.memory_budget`.
///
/// ```
/// use linear_collapse::{baseline::probe_batched, layer::{Layer, Linear}, Options, Shape};
/// use ndarray::array;
/// let chain: Vec<Layer<f32>> = vec![Linear::new(array![[1.0, 2.0]], Some(array![3.0]))?.into()];
/// let fc = probe_batched(&chain, Shape::flat(2), &Options::default())?;
/// assert_eq!(fc.weight(), &array![[1.0, 2.0]]);
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn probe_batched<T: Scalar>(
    chain: &[Layer<T>],
    input: Shape,
    opts: &Options,
) -> Result<Linear<T>> {
    let shapes = infer::shapes(chain, input)?;
    let n_in = input.numel();
    let n_out = shapes.last().expect("input").numel();
    let elem = size_of::<T>();
    let widest = shapes.iter().map(Shape::numel).max().unwrap_or(1) as u64 * elem as u64;
    let chunk = (CHUNK_BYTES.min(opts.memory_budget / 4) / (2 * widest).max(1))
        .clamp(1, n_in as u64) as usize;
    let w_bytes = matrix_bytes(n_out, n_in, elem);
    let needed = w_bytes.saturating_add(2 * widest * chunk as u64);
    memory::check(
        || {
            format!(
                "probing {input} -> {} in chunks of {chunk}",
                shapes.last().expect("input")
            )
        },
        needed,
        opts.memory_budget,
        "Method::Im2col needs only the result",
    )?;
    let zero = Array2::<T>::zeros((1, n_in));
    let b = forward_batch(chain, input, zero.view(), opts.par)?
        .row(0)
        .to_owned();
    let mut w = Array2::<T>::zeros((n_out, n_in));
    for start in (0..n_in).step_by(chunk) {
        let len = chunk.min(n_in - start);
        let mut x = Array2::<T>::zeros((len, n_in));
        for r in 0..len {
            x[[r, start + r]] = T::one();
        }
        let y = forward_batch(chain, input, x.view(), opts.par)?;
        for (r, row) in y.axis_iter(Axis(0)).enumerate() {
            w.column_mut(start + r).assign(&(&row - &b));
        }
    }
    Linear::new(w, Some(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::probe;
    use crate::sizes::Size;
    use crate::verify::Comparison;

    #[test]
    fn batched_probe_matches_the_reference_probe_in_small_chunks() {
        let size = Size {
            name: "t",
            c_in: 2,
            hw: [7, 6],
            c_out: 3,
            k: 3,
            stride: 2,
            padding: 1,
            fc_out: 4,
        };
        let chain = size.chain::<f64>(3).unwrap();
        // A budget that forces many chunks.
        let opts = Options {
            memory_budget: 40_000,
            ..Options::default()
        };
        let fast = probe_batched(&chain, size.input(), &opts).unwrap();
        let slow = probe(&chain, size.input()).unwrap();
        assert!(
            Comparison::of(fast.weight().view(), slow.weight.view())
                .unwrap()
                .max_abs
                < 1e-12
        );
        assert!(
            Comparison::of(fast.bias().unwrap().view(), slow.bias.view())
                .unwrap()
                .max_abs
                < 1e-12
        );
    }

    #[test]
    fn batched_probe_refuses_a_budget_below_its_result() {
        let chain = Size::named("cifar").unwrap().chain::<f32>(0).unwrap();
        let opts = Options {
            memory_budget: 100_000,
            ..Options::default()
        };
        let err = probe_batched(&chain, Size::named("cifar").unwrap().input(), &opts).unwrap_err();
        assert!(err.to_string().contains("bytes"), "{err}");
    }
}
