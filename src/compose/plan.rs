//! The planner: which order to multiply a chain's matrices in, and which kernel computes each product.
//!
//! The chain's non-trivial layers are factors `A_0 .. A_{k-1}` (applied in that order); the collapsed
//! matrix is `A_{k-1} ... A_0`. A dynamic program over split points (the matrix-chain problem) costs every
//! product with the kernels that fit its operands — GEMM for dense times dense; im2col (reverse mode),
//! the forward convolution, CSR or the dense Toeplitz matrix when one operand is a convolution — from
//! multiply-adds at a per-kernel rate plus bytes moved at memory bandwidth, under the memory budget.

use std::fmt;

use crate::layer::Layer;
use crate::memory::matrix_bytes;
use crate::{cost, infer, Error, Method, Options, Result, Scalar, Shape};

/// The kernel that computes one product `L R`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kernel {
    /// Dense `L` times dense `R`: the parallel tiled GEMM.
    Gemm,
    /// The convolution's Toeplitz matrix built densely, then GEMM (the teaching path).
    DenseToeplitz,
    /// The convolution's Toeplitz matrix in CSR, multiplied with the dense operand.
    Sparse,
    /// Dense `L` times a convolution `R`: per-row transposed convolution (GEMM + col2im fold).
    Im2col,
    /// A convolution `L` times dense `R`: the forward convolution (im2col + GEMM) of each column of `R`.
    ConvForward,
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kernel::Gemm => "gemm",
            Kernel::DenseToeplitz => "dense-toeplitz",
            Kernel::Sparse => "sparse",
            Kernel::Im2col => "im2col",
            Kernel::ConvForward => "conv-forward",
        })
    }
}

/// Which operand of a product stays a structured convolution (the other is dense).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Side {
    /// Neither: both dense.
    None,
    /// The left operand (applied last) is a convolution.
    Left,
    /// The right operand (applied first) is a convolution.
    Right,
}

/// One non-trivial layer of the chain as a matrix.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Factor {
    /// Index of the layer in the chain.
    pub(crate) layer: usize,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    /// Stored entries of its sparse matrix, for a structured layer (`None`: a Linear on a flat input,
    /// whose matrix is its dense weight).
    pub(crate) nnz: Option<u64>,
    /// Its input shape.
    pub(crate) input: Shape,
    /// Elements of one im2col column buffer; 0 for a layer that is not a convolution (no im2col kernel).
    pub(crate) col_buffer: u64,
}

/// How a sub-chain is computed: a single factor, or the product of two sub-chains.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Leaf(usize),
    Product {
        left: Box<Node>,
        right: Box<Node>,
        step: usize,
    },
}

/// One product of the plan.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Step {
    /// Chain indices of the layers in the left operand (applied last).
    pub(crate) left: (usize, usize),
    /// Chain indices of the layers in the right operand (applied first).
    pub(crate) right: (usize, usize),
    /// `(rows, inner, cols)` of the product.
    pub(crate) dims: (usize, usize, usize),
    /// The kernel.
    pub(crate) kernel: Kernel,
    /// Which operand stays a convolution.
    pub(crate) side: Side,
    /// Multiply-adds.
    pub(crate) macs: u64,
    /// Bytes read and written (operands once, result once, plus temporaries).
    pub(crate) bytes: u64,
    /// Bytes allocated by this step: its result and temporaries.
    pub(crate) alloc_bytes: u64,
}

/// The chosen order and kernels for a chain, with predicted costs.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Plan {
    pub(crate) factors: Vec<Factor>,
    pub(crate) root: Option<Node>,
    /// The products in execution order.
    pub(crate) steps: Vec<Step>,
    /// Total multiply-adds.
    pub(crate) macs: u64,
    /// Predicted peak of memory allocated at once.
    pub(crate) peak_bytes: u64,
    /// Predicted time in seconds (rough: fixed rates per kernel on a 2-core machine).
    pub(crate) predicted_seconds: f64,
    /// Input and output shapes of the chain.
    pub(crate) shapes: (Shape, Shape),
}

impl Step {
    /// Chain indices `(first, last)` of the layers in the left operand (applied last).
    pub fn left(&self) -> (usize, usize) {
        self.left
    }
    /// Chain indices `(first, last)` of the layers in the right operand (applied first).
    pub fn right(&self) -> (usize, usize) {
        self.right
    }
    /// `(rows, inner, cols)` of the product.
    pub fn dims(&self) -> (usize, usize, usize) {
        self.dims
    }
    /// The kernel.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }
    /// Which operand stays a convolution.
    pub fn side(&self) -> Side {
        self.side
    }
    /// Multiply-adds.
    pub fn macs(&self) -> u64 {
        self.macs
    }
    /// Bytes read and written (operands once, result once, plus temporaries).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
    /// Bytes allocated by this step: its result and temporaries.
    pub fn alloc_bytes(&self) -> u64 {
        self.alloc_bytes
    }
}

impl Plan {
    /// The products in execution order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
    /// Total multiply-adds.
    pub fn macs(&self) -> u64 {
        self.macs
    }
    /// Predicted peak of memory allocated at once, in bytes.
    pub fn peak_bytes(&self) -> u64 {
        self.peak_bytes
    }
    /// Predicted time in seconds (rough: fixed rates per kernel on a 2-core machine).
    pub fn predicted_seconds(&self) -> f64 {
        self.predicted_seconds
    }
    /// Input and output shapes of the chain.
    pub fn shapes(&self) -> (Shape, Shape) {
        self.shapes
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "plan for {} -> {}: {} products, {} multiply-adds, peak {} bytes, predicted {:.3} ms",
            self.shapes.0,
            self.shapes.1,
            self.steps.len(),
            self.macs,
            self.peak_bytes,
            self.predicted_seconds * 1e3
        )?;
        for (i, s) in self.steps.iter().enumerate() {
            writeln!(
                f,
                "  {i}: layers {}..={} x layers {}..={}  ({} x {} x {})  {}{}  {} MACs, {} bytes moved, {} allocated",
                s.left.0,
                s.left.1,
                s.right.0,
                s.right.1,
                s.dims.0,
                s.dims.1,
                s.dims.2,
                s.kernel,
                match s.side {
                    Side::None => "",
                    Side::Left => " (conv on the left)",
                    Side::Right => " (conv on the right)",
                },
                s.macs,
                s.bytes,
                s.alloc_bytes
            )?;
        }
        Ok(())
    }
}

/// Multiply-adds per second of each kernel for `f32` on the reference 2-core machine (`f64`: half).
fn rate(kernel: Kernel) -> f64 {
    match kernel {
        Kernel::Gemm | Kernel::DenseToeplitz => 60e9,
        Kernel::Im2col => 30e9,
        Kernel::ConvForward => 20e9,
        Kernel::Sparse => 1.5e9,
    }
}

/// Memory bandwidth assumed by the cost model, bytes per second.
const BANDWIDTH: f64 = 8e9;

/// The best way found to compute one sub-chain.
#[derive(Clone, Debug)]
struct Best {
    seconds: f64,
    peak: u64,
    /// Bytes of the sub-chain's result (0 for a leaf: it is borrowed).
    result: u64,
    node: Node,
    steps: Vec<Step>,
    feasible: bool,
}

/// Plans the collapse of `chain` at `input` under `opts` (method and memory budget).
///
/// # Errors
/// [`Error::Shape`] when the chain does not fit; [`Error::TooLarge`] when no plan fits the memory budget
/// (the message gives the bytes needed and, where one exists, a method that fits).
///
/// ```
/// use linear_collapse::{compose::explain, layer::{Conv2d, Conv2dConfig, Flatten, Layer, Linear}, Options, Shape};
/// use ndarray::{Array2, Array4};
/// let chain: Vec<Layer<f32>> = vec![
///     Conv2d::new(Array4::zeros((64, 3, 3, 3)), None, Conv2dConfig::default().padding(1))?.into(),
///     Flatten.into(),
///     Linear::new(Array2::zeros((10, 65536)), None)?.into(),
/// ];
/// let plan = explain(&chain, Shape::chw(3, 32, 32), &Options::default())?;
/// assert_eq!(plan.steps()[0].kernel().to_string(), "im2col");
/// println!("{plan}");
/// # Ok::<(), linear_collapse::Error>(())
/// ```
pub fn explain<T: Scalar>(chain: &[Layer<T>], input: Shape, opts: &Options) -> Result<Plan> {
    let shapes = infer::shapes(chain, input)?;
    let factors: Vec<Factor> = chain
        .iter()
        .enumerate()
        .filter_map(|(i, layer)| {
            let (rows, cols) = (shapes[i + 1].numel(), shapes[i].numel());
            let factor = |nnz, col_buffer| Factor {
                layer: i,
                rows,
                cols,
                nnz,
                input: shapes[i],
                col_buffer,
            };
            match layer {
                Layer::Linear(l) if l.matrix_is_weight(shapes[i]) => Some(Ok(factor(None, 0))),
                // over the last axis of a larger input: the block-diagonal kron(I, W), a sparse layer
                Layer::Linear(l) => Some(Ok(factor(
                    Some((rows as u64).saturating_mul(l.in_features() as u64)),
                    0,
                ))),
                Layer::Conv2d(c) => Some(Ok(factor(
                    Some(cost::conv_nnz(c, shapes[i])),
                    super::forward::ConvGeo::new(c, shapes[i]).col_buffer_len() as u64,
                ))),
                // Every other layer is a sparse matrix (or a re-indexing identity, which needs no
                // product); its entries are bounded from the shapes, without building it.
                other => cost::matrix_nnz(other, shapes[i], shapes[i + 1])
                    .map(|nnz| Ok(factor(Some(nnz), 0))),
            }
        })
        .collect::<Result<_>>()?;
    let elem = size_of::<T>() as u64;
    let output = *shapes.last().expect("at least the input");
    let plan = dp(
        &factors,
        opts.method,
        elem,
        opts.memory_budget,
        (input, output),
    );
    if plan.peak_bytes > opts.memory_budget {
        let hint = if opts.method != Method::Auto {
            let auto = dp(
                &factors,
                Method::Auto,
                elem,
                opts.memory_budget,
                (input, output),
            );
            if auto.peak_bytes <= opts.memory_budget {
                format!(
                    "Method::Auto fits in {} bytes ({})",
                    auto.peak_bytes,
                    kernels_of(&auto)
                )
            } else {
                String::new()
            }
        } else {
            String::new()
        };
        let layers: Vec<String> = chain
            .iter()
            .enumerate()
            .map(|(i, l)| format!("#{i} {}", l.describe()))
            .collect();
        return Err(Error::TooLarge {
            what: format!(
                "collapsing layers [{}] ({input} -> {output}) with {:?} ({})",
                layers.join(", "),
                opts.method,
                kernels_of(&plan)
            ),
            needed: plan.peak_bytes,
            budget: opts.memory_budget,
            hint: if hint.is_empty() {
                hint
            } else {
                format!("; {hint}")
            },
        });
    }
    Ok(plan)
}

fn kernels_of(plan: &Plan) -> String {
    let k: Vec<String> = plan.steps.iter().map(|s| s.kernel.to_string()).collect();
    if k.is_empty() {
        "no products".into()
    } else {
        k.join(", ")
    }
}

/// What the dynamic program fixes for one search: the factors, the method, the element size and the budget.
struct Search<'a> {
    factors: &'a [Factor],
    method: Method,
    elem: u64,
    budget: u64,
}

/// The best order and kernels for the chain of `factors` (matrix-chain dynamic program over split points).
fn dp(factors: &[Factor], method: Method, elem: u64, budget: u64, shapes: (Shape, Shape)) -> Plan {
    let k = factors.len();
    if k == 0 {
        let n = shapes.0.numel();
        return Plan {
            factors: vec![],
            root: None,
            steps: vec![],
            macs: 0,
            peak_bytes: matrix_bytes(n, n, elem as usize),
            predicted_seconds: 0.0,
            shapes,
        };
    }
    let search = Search {
        factors,
        method,
        elem,
        budget,
    };
    let mut best: Vec<Vec<Option<Best>>> = vec![vec![None; k]; k];
    for (i, row) in best.iter_mut().enumerate() {
        row[i] = Some(Best {
            seconds: 0.0,
            peak: 0,
            result: 0,
            node: Node::Leaf(i),
            steps: vec![],
            feasible: true,
        });
    }
    for len in 2..=k {
        for i in 0..=k - len {
            let j = i + len - 1;
            let cands: Vec<Best> = (i..j)
                .flat_map(|s| {
                    let l = best[s + 1][j].as_ref().expect("shorter");
                    let r = best[i][s].as_ref().expect("shorter");
                    search.splits(i, s, j, l, r)
                })
                .collect();
            // Fastest feasible plan; when none fits, the one needing the least memory (for the error).
            best[i][j] = cands
                .iter()
                .filter(|c| c.feasible)
                .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
                .or_else(|| cands.iter().min_by_key(|c| c.peak))
                .cloned();
        }
    }
    let root = best[0][k - 1].take().expect("filled");
    search.plan(root, shapes)
}

impl Search<'_> {
    /// Every kernel for the product of `l` (factors `s+1..=j`) and `r` (factors `i..=s`), as a candidate.
    fn splits(&self, i: usize, s: usize, j: usize, l: &Best, r: &Best) -> Vec<Best> {
        let f = self.factors;
        let slow = if self.elem > 4 { 2.0 } else { 1.0 };
        let dims = (f[j].rows, f[s].rows, f[i].cols);
        let left_conv = (s + 1 == j).then_some(f[j].nnz).flatten();
        let right_conv = (s == i).then_some(f[i].nnz).flatten();
        let buffers = (f[j].col_buffer, f[i].col_buffer);
        let options = product_options(self.method, dims, left_conv, right_conv, buffers, self.elem);
        let mut out_cands = Vec::with_capacity(options.len());
        for (kernel, side, macs, temp) in options {
            let out = matrix_bytes(dims.0, dims.2, self.elem as usize);
            let sum = |xs: &[u64]| xs.iter().fold(0u64, |a, &x| a.saturating_add(x));
            let moved = sum(&[l.result, r.result, out, temp, temp]);
            let seconds = l.seconds
                + r.seconds
                + slow * macs as f64 / rate(kernel)
                + moved as f64 / BANDWIDTH;
            let here = sum(&[l.result, r.result, temp, out]);
            let peak = l.peak.max(l.result.saturating_add(r.peak)).max(here);
            let step = Step {
                left: (f[s + 1].layer, f[j].layer),
                right: (f[i].layer, f[s].layer),
                dims,
                kernel,
                side,
                macs,
                bytes: moved,
                alloc_bytes: temp.saturating_add(out),
            };
            let mut steps = l.steps.clone();
            steps.extend(r.steps.iter().cloned());
            steps.push(step);
            // The right operand's step numbers count from the start of its own list.
            let node = Node::Product {
                left: Box::new(l.node.clone()),
                right: Box::new(shift(&r.node, l.steps.len())),
                step: steps.len() - 1,
            };
            out_cands.push(Best {
                seconds,
                peak,
                result: out,
                node,
                steps,
                feasible: peak <= self.budget && l.feasible && r.feasible,
            });
        }
        out_cands
    }

    /// The plan of the chosen tree, its steps in execution order.
    fn plan(&self, mut root: Best, shapes: (Shape, Shape)) -> Plan {
        // A single factor still has to be materialised as a dense matrix.
        if let Node::Leaf(f) = root.node {
            let fac = &self.factors[f];
            let bytes = matrix_bytes(fac.rows, fac.cols, self.elem as usize);
            root.peak = root.peak.max(bytes);
        }
        // Re-number the steps in execution order (post-order of the tree).
        let mut steps = Vec::new();
        let node = renumber(&root.node, &root.steps, &mut steps);
        Plan {
            factors: self.factors.to_vec(),
            root: Some(node),
            macs: steps.iter().map(|s| s.macs).sum(),
            steps,
            peak_bytes: root.peak,
            predicted_seconds: root.seconds,
            shapes,
        }
    }
}

/// `node` with every step number increased by `by`.
fn shift(node: &Node, by: usize) -> Node {
    match node {
        Node::Leaf(i) => Node::Leaf(*i),
        Node::Product { left, right, step } => Node::Product {
            left: Box::new(shift(left, by)),
            right: Box::new(shift(right, by)),
            step: step + by,
        },
    }
}

fn renumber(node: &Node, src: &[Step], out: &mut Vec<Step>) -> Node {
    match node {
        Node::Leaf(i) => Node::Leaf(*i),
        Node::Product { left, right, step } => {
            let left = renumber(left, src, out);
            let right = renumber(right, src, out);
            out.push(src[*step].clone());
            Node::Product {
                left: Box::new(left),
                right: Box::new(right),
                step: out.len() - 1,
            }
        }
    }
}

/// The kernels that can compute `L R` with `dims = (rows, inner, cols)`, as (kernel, side, MACs, temporary
/// bytes), given whether each operand is a single convolution (with its Toeplitz nnz).
fn product_options(
    method: Method,
    (rows, inner, cols): (usize, usize, usize),
    left_conv: Option<u64>,
    right_conv: Option<u64>,
    (left_buf, right_buf): (u64, u64),
    elem: u64,
) -> Vec<(Kernel, Side, u64, u64)> {
    // Every worker thread holds one im2col column buffer.
    let threads = rayon::current_num_threads() as u64;
    // saturating: a size past u64 costs u64::MAX and the memory guard refuses it
    let dense_macs = (rows as u64)
        .saturating_mul(inner as u64)
        .saturating_mul(cols as u64);
    let m = |a: u64, b: u64| a.saturating_mul(b);
    let dense_of = |r: usize, c: usize| matrix_bytes(r, c, elem as usize);
    let mut v = Vec::new();
    // `conv`: the structured operand is a convolution (the im2col kernels exist); other structured layers
    // use the CSR kernel under Method::Im2col.
    let allow = |k: Kernel, conv: bool| match (method, k) {
        (_, Kernel::Im2col | Kernel::ConvForward) if !conv => false,
        (Method::Auto, _) => true,
        (Method::Dense, k) => k == Kernel::DenseToeplitz,
        (Method::Sparse, k) => k == Kernel::Sparse,
        (Method::Im2col, k) => {
            matches!(k, Kernel::Im2col | Kernel::ConvForward) || (!conv && k == Kernel::Sparse)
        }
    };
    // Keep the right convolution structured; the left operand is dense (densified if it is a conv).
    if let Some(nnz) = right_conv {
        let left_tmp = if left_conv.is_some() {
            dense_of(rows, inner)
        } else {
            0
        };
        for k in [Kernel::Im2col, Kernel::Sparse, Kernel::DenseToeplitz] {
            if allow(k, right_buf > 0) {
                let (macs, tmp) = match k {
                    Kernel::DenseToeplitz => (dense_macs, dense_of(inner, cols)),
                    Kernel::Sparse => (m(rows as u64, nnz), m(nnz, elem + 8)),
                    _ => (m(rows as u64, nnz), m(m(threads, right_buf), elem)),
                };
                v.push((k, Side::Right, macs, tmp.saturating_add(left_tmp)));
            }
        }
    }
    if let Some(nnz) = left_conv {
        let right_tmp = if right_conv.is_some() {
            dense_of(inner, cols)
        } else {
            0
        };
        for k in [Kernel::ConvForward, Kernel::Sparse, Kernel::DenseToeplitz] {
            if allow(k, left_buf > 0) {
                let (macs, tmp) = match k {
                    Kernel::DenseToeplitz => (dense_macs, dense_of(rows, inner)),
                    Kernel::Sparse => (m(nnz, cols as u64), m(nnz, elem + 8)),
                    // the columns of R are transposed in and the result transposed out
                    _ => (
                        m(nnz, cols as u64),
                        dense_of(inner, cols)
                            .saturating_add(dense_of(rows, cols))
                            .saturating_add(m(m(threads, left_buf), elem)),
                    ),
                };
                v.push((k, Side::Left, macs, tmp.saturating_add(right_tmp)));
            }
        }
    }
    if left_conv.is_none() && right_conv.is_none() {
        v.push((Kernel::Gemm, Side::None, dense_macs, 0));
    }
    v
}
