//! Models: a small graph of layers (a sequence with branches), split at nonlinearities into linear runs.
//!
//! Nodes are kept in topological order; each reads the model input or earlier nodes. `Op::Layer` nodes are
//! linear, `Add` sums its inputs (residuals, RepVGG blocks), `Concat` stacks them along channels, and
//! `Nonlinear` nodes (ReLU, GELU, MaxPool, Softmax, anything unknown) end a linear run.

mod collapse;
mod eval;
mod runs;

pub use collapse::{
    collapse_model, collapse_model_with, collapse_runs, CollapsedRun, Form, Policy, RunReport,
};
pub use eval::forward as forward_reference;

use crate::layer::{Geometry2d, Layer};
use crate::{infer, Error, Result, Scalar, Shape};

/// Where a node reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Src {
    /// The model's input.
    Input,
    /// The output of node `i`.
    Node(usize),
}

/// An operation that is not affine: it ends a linear run.
#[derive(Clone, Debug, PartialEq)]
pub enum Nonlinear {
    /// `max(x, 0)`.
    Relu,
    /// `x` if positive, else `slope * x`.
    LeakyRelu(f64),
    /// `x * Phi(x)` (the exact, erf-based GELU).
    Gelu,
    /// `x * sigmoid(x)`.
    Silu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// Softmax over the whole (flat) sample.
    Softmax,
    /// Max pooling over `(C, H, W)` with this geometry.
    MaxPool2d(Geometry2d),
    /// Anything else; `output` is its output shape (`None`: same as its input).
    Other {
        /// Name of the operation, for reports.
        name: String,
        /// Output shape, if it differs from the input's.
        output: Option<Shape>,
    },
}

/// What a node computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Op<T> {
    /// A linear (affine) layer.
    Layer(Layer<T>),
    /// The sum of two or more inputs of the same shape.
    Add,
    /// Two or more `(C, H, W)` (or `(C, L)`, or flat) inputs stacked along channels.
    Concat,
    /// A nonlinearity: a boundary between linear runs.
    Nonlinear(Nonlinear),
}

impl<T: Scalar> Op<T> {
    /// True for the operations a linear run may contain.
    pub fn is_linear(&self) -> bool {
        !matches!(self, Op::Nonlinear(_))
    }

    /// Short description.
    pub fn describe(&self) -> String {
        match self {
            Op::Layer(l) => l.describe(),
            Op::Add => "Add".into(),
            Op::Concat => "Concat".into(),
            Op::Nonlinear(Nonlinear::Other { name, .. }) => name.clone(),
            Op::Nonlinear(n) => format!("{n:?}"),
        }
    }
}

/// One node of a [`Model`].
#[derive(Clone, Debug, PartialEq)]
pub struct Node<T> {
    /// A name for reports (e.g. the PyTorch module path or ONNX node name).
    pub name: String,
    /// What it computes.
    pub op: Op<T>,
    /// What it reads, in order.
    pub inputs: Vec<Src>,
}

/// A model with one input and one output (the last node).
#[derive(Clone, Debug, PartialEq)]
pub struct Model<T> {
    input: Shape,
    nodes: Vec<Node<T>>,
}

impl<T: Scalar> Model<T> {
    /// An empty model (the identity) on samples of shape `input`.
    ///
    /// ```
    /// use linear_collapse::{model::Model, Shape};
    /// let m = Model::<f32>::new(Shape::flat(4));
    /// assert!(m.nodes().is_empty());
    /// ```
    pub fn new(input: Shape) -> Self {
        Model {
            input,
            nodes: Vec::new(),
        }
    }

    /// A chain: each op reads the previous one.
    ///
    /// # Errors
    /// As [`Model::push`].
    ///
    /// ```
    /// use linear_collapse::model::{Model, Nonlinear, Op};
    /// use linear_collapse::layer::{Layer, Linear};
    /// use linear_collapse::Shape;
    /// use ndarray::Array2;
    /// let fc = || Op::Layer(Layer::Linear(Linear::new(Array2::<f32>::eye(3), None).unwrap()));
    /// let m = Model::sequential(Shape::flat(3), vec![fc(), Op::Nonlinear(Nonlinear::Relu), fc()])?;
    /// assert_eq!(m.nodes().len(), 3);
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn sequential(input: Shape, ops: Vec<Op<T>>) -> Result<Self> {
        let mut m = Model::new(input);
        for (i, op) in ops.into_iter().enumerate() {
            m.then(i.to_string(), op)?;
        }
        Ok(m)
    }

    /// Appends a node reading `inputs`; returns where its output can be read.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when an input refers to a later node, or the number of inputs does not fit
    /// the op (one for layers and nonlinearities, two or more for `Add` and `Concat`).
    pub fn push(&mut self, name: impl Into<String>, op: Op<T>, inputs: Vec<Src>) -> Result<Src> {
        let name = name.into();
        let n = self.nodes.len();
        if let Some(bad) = inputs.iter().find(|s| matches!(s, Src::Node(i) if *i >= n)) {
            return Err(Error::invalid(
                format!("node '{name}'"),
                format!("reads {bad:?}, which does not come before it"),
            ));
        }
        let arity_ok = match op {
            Op::Add | Op::Concat => inputs.len() >= 2,
            _ => inputs.len() == 1,
        };
        if !arity_ok {
            return Err(Error::invalid(
                format!("node '{name}' ({})", op.describe()),
                format!("{} inputs given", inputs.len()),
            ));
        }
        self.nodes.push(Node { name, op, inputs });
        Ok(Src::Node(n))
    }

    /// Appends a node reading the current output (the last node, or the input).
    ///
    /// # Errors
    /// As [`Model::push`].
    pub fn then(&mut self, name: impl Into<String>, op: Op<T>) -> Result<Src> {
        let src = self.output();
        self.push(name, op, vec![src])
    }

    /// The input shape.
    pub fn input_shape(&self) -> Shape {
        self.input
    }

    /// The nodes, in topological order.
    pub fn nodes(&self) -> &[Node<T>] {
        &self.nodes
    }

    /// Where the model's output is read: the last node, or the input for an empty model.
    pub fn output(&self) -> Src {
        match self.nodes.len() {
            0 => Src::Input,
            n => Src::Node(n - 1),
        }
    }

    /// Total parameter count.
    pub fn num_params(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                Op::Layer(l) => l.num_params(),
                _ => 0,
            })
            .sum()
    }

    /// Replaces the op of node `k` by one with the same input and output shapes (a bias folded into a
    /// Linear, say); the caller guarantees the shapes.
    pub(crate) fn replace_op(&mut self, k: usize, op: Op<T>) {
        self.nodes[k].op = op;
    }

    /// The output shape of node `k`, given the shapes of the nodes before it.
    pub(crate) fn node_shape(&self, k: usize, before: &[Shape]) -> Result<Shape> {
        let node = &self.nodes[k];
        let ins: Vec<Shape> = node
            .inputs
            .iter()
            .map(|s| self.shape_of(*s, before))
            .collect();
        node_shape(k, node, &ins)
    }

    /// The output shape of every node.
    ///
    /// # Errors
    /// [`Error::Shape`] naming the node (its index) when a layer does not fit what reaches it, or
    /// [`Error::InvalidLayer`] when the inputs of an `Add` or `Concat` do not agree.
    pub fn shapes(&self) -> Result<Vec<Shape>> {
        let mut out: Vec<Shape> = Vec::with_capacity(self.nodes.len());
        for (i, node) in self.nodes.iter().enumerate() {
            let ins: Vec<Shape> = node
                .inputs
                .iter()
                .map(|s| self.shape_of(*s, &out))
                .collect();
            out.push(node_shape(i, node, &ins)?);
        }
        Ok(out)
    }

    fn shape_of(&self, s: Src, shapes: &[Shape]) -> Shape {
        match s {
            Src::Input => self.input,
            Src::Node(i) => shapes[i],
        }
    }
}

/// The output shape of node `i` given its input shapes.
fn node_shape<T: Scalar>(i: usize, node: &Node<T>, ins: &[Shape]) -> Result<Shape> {
    let bad = |reason: String| {
        Error::invalid(
            format!("node #{i} '{}' ({})", node.name, node.op.describe()),
            reason,
        )
    };
    match &node.op {
        Op::Layer(l) => infer::output_shape(i, l, ins[0]),
        Op::Add => {
            if ins.iter().any(|s| *s != ins[0]) {
                return Err(bad(format!("adds inputs of different shapes {ins:?}")));
            }
            Ok(ins[0])
        }
        Op::Concat => concat_shape(ins)
            .ok_or_else(|| bad(format!("cannot concatenate {ins:?} along channels"))),
        Op::Nonlinear(Nonlinear::MaxPool2d(g)) => match ins[0] {
            Shape::Chw { c, h, w } => g
                .out_dims([h, w])
                .map(|[oh, ow]| Shape::chw(c, oh, ow))
                .ok_or_else(|| bad(format!("the pooling window does not fit {}", ins[0]))),
            other => Err(bad(format!("MaxPool2d takes (C, H, W), got {other}"))),
        },
        Op::Nonlinear(Nonlinear::Other {
            output: Some(s), ..
        }) => Ok(*s),
        Op::Nonlinear(_) => Ok(ins[0]),
    }
}

/// Channel concatenation: equal spatial dimensions, channels summed.
pub(crate) fn concat_shape(ins: &[Shape]) -> Option<Shape> {
    let first = *ins.first()?;
    ins.iter()
        .skip(1)
        .try_fold(first, |acc, s| match (acc, *s) {
            (
                Shape::Chw { c, h, w },
                Shape::Chw {
                    c: c2,
                    h: h2,
                    w: w2,
                },
            ) if (h, w) == (h2, w2) => Some(Shape::chw(c + c2, h, w)),
            (Shape::Cl { c, l }, Shape::Cl { c: c2, l: l2 }) if l == l2 => {
                Some(Shape::cl(c + c2, l))
            }
            (Shape::Flat(a), Shape::Flat(b)) => Some(Shape::flat(a + b)),
            _ => None,
        })
}
