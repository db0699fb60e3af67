//! Explicit, deterministic parallelism.
//!
//! Kernels split their output into blocks whose boundaries depend only on the problem's shape, never on the
//! number of threads, and each block is computed by the same sequential code. [`Par::Seq`] runs the blocks
//! one after another; [`Par::Rayon`] hands them to the current rayon pool (use `ThreadPool::install` to pick
//! the thread count). Both give the same bits.

use rayon::prelude::*;

/// How a kernel may use threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Par {
    /// One thread: the calling one.
    Seq,
    /// The blocks are spread over the current rayon thread pool.
    #[default]
    Rayon,
}

impl Par {
    /// Runs `f(i)` for every `i in 0..n`, in parallel or not; `f` must only write to block `i`'s own output.
    ///
    /// ```
    /// use linear_collapse::Par;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// let sum = AtomicUsize::new(0);
    /// Par::Rayon.for_each(10, |i| { sum.fetch_add(i, Ordering::Relaxed); });
    /// assert_eq!(sum.into_inner(), 45);
    /// ```
    pub fn for_each(self, n: usize, f: impl Fn(usize) + Sync + Send) {
        match self {
            Par::Seq => (0..n).for_each(f),
            Par::Rayon => (0..n).into_par_iter().for_each(f),
        }
    }

    /// Applies `f` to each mutable chunk of `data` of `chunk` elements (the last may be shorter), with the
    /// chunk's index.
    ///
    /// ```
    /// use linear_collapse::Par;
    /// let mut v = vec![0usize; 10];
    /// Par::Seq.for_each_chunk(&mut v, 4, |i, c| c.iter_mut().for_each(|x| *x = i));
    /// assert_eq!(v, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
    /// ```
    pub fn for_each_chunk<T: Send>(
        self,
        data: &mut [T],
        chunk: usize,
        f: impl Fn(usize, &mut [T]) + Sync + Send,
    ) {
        let chunk = chunk.max(1);
        match self {
            Par::Seq => data
                .chunks_mut(chunk)
                .enumerate()
                .for_each(|(i, c)| f(i, c)),
            Par::Rayon => data
                .par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(i, c)| f(i, c)),
        }
    }

    /// Like [`Par::for_each_chunk`] over two buffers at once: chunk `i` of `a` (`ca` elements) with chunk
    /// `i` of `b` (`cb` elements).
    ///
    /// ```
    /// use linear_collapse::Par;
    /// let (mut a, mut b) = (vec![0; 4], vec![0; 2]);
    /// Par::Rayon.for_each_chunk_pair(&mut a, 2, &mut b, 1, |i, x, y| { x.fill(i); y[0] = 10 + i; });
    /// assert_eq!((a, b), (vec![0, 0, 1, 1], vec![10, 11]));
    /// ```
    pub fn for_each_chunk_pair<A: Send, B: Send>(
        self,
        a: &mut [A],
        ca: usize,
        b: &mut [B],
        cb: usize,
        f: impl Fn(usize, &mut [A], &mut [B]) + Sync + Send,
    ) {
        let (ca, cb) = (ca.max(1), cb.max(1));
        match self {
            Par::Seq => a
                .chunks_mut(ca)
                .zip(b.chunks_mut(cb))
                .enumerate()
                .for_each(|(i, (x, y))| f(i, x, y)),
            Par::Rayon => a
                .par_chunks_mut(ca)
                .zip(b.par_chunks_mut(cb))
                .enumerate()
                .for_each(|(i, (x, y))| f(i, x, y)),
        }
    }
}
