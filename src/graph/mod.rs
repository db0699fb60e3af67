//! Model graphs: layers in a sequence with branches, their shapes, and their maximal linear runs. Pure data:
//! this module imports only [`crate::layer`], [`crate::infer`] and the shape and error types.
//!
//! Nodes are kept in topological order; each reads the model input or earlier nodes. `Op::Layer` nodes are
//! linear, `Add` sums its inputs (residuals, RepVGG blocks), `Concat` stacks them along an axis, and
//! `Nonlinear` nodes (ReLU, GELU, MaxPool, Softmax, anything unknown) end a linear run. A `Nonlinear::Other`
//! node may read nothing (a value from outside, such as a second graph input) and may have an output shape
//! nobody knows; no linear node reads such a value.

mod runs;
mod shapes;

pub use crate::layer::Nonlinear;
pub(crate) use runs::{as_run, linear_groups, Readers, Run};
pub(crate) use shapes::op_shape;

use crate::layer::Layer;
use crate::{Error, Result, Scalar, Shape};

/// Where a node reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Src {
    /// The model's input.
    Input,
    /// The output of node `i`.
    Node(usize),
}

/// What a node computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Op<T> {
    /// A linear (affine) layer.
    Layer(Layer<T>),
    /// The sum of two or more inputs of the same shape.
    Add,
    /// Two or more inputs stacked along `axis` of the sample (0: channels), equal along every other axis.
    Concat {
        /// The axis, counted in the sample (no batch axis).
        axis: usize,
    },
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
            Op::Concat { axis: 0 } => "Concat".into(),
            Op::Concat { axis } => format!("Concat(axis {axis})"),
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

/// A model with one input and its outputs: the last node, or the values [`Model::set_outputs`] names.
#[derive(Clone, Debug, PartialEq)]
pub struct Model<T> {
    input: Shape,
    nodes: Vec<Node<T>>,
    outputs: Vec<Src>,
}

impl<T: Scalar> Model<T> {
    /// An empty model (the identity) on samples of shape `input`.
    ///
    /// ```
    /// use linear_collapse::{graph::Model, Shape};
    /// let m = Model::<f32>::new(Shape::flat(4));
    /// assert!(m.nodes().is_empty());
    /// ```
    pub fn new(input: Shape) -> Self {
        Model {
            input,
            nodes: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// A chain: each op reads the previous one.
    ///
    /// # Errors
    /// As [`Model::push`].
    ///
    /// ```
    /// use linear_collapse::graph::{Model, Nonlinear, Op};
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
    /// the op (one for layers and nonlinearities, two or more for `Add` and `Concat`, any number for
    /// `Nonlinear::Other`).
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
            Op::Add | Op::Concat { .. } => inputs.len() >= 2,
            // an op this crate does not model (`Mul` of two tensors, say) reads all it reads, or
            // nothing for a value from outside
            Op::Nonlinear(Nonlinear::Other { .. }) => true,
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

    /// Where the model's main output is read: the first of [`Model::set_outputs`], else the last node, or
    /// the input for an empty model.
    pub fn output(&self) -> Src {
        match (self.outputs.first(), self.nodes.len()) {
            (Some(&s), _) => s,
            (None, 0) => Src::Input,
            (None, n) => Src::Node(n - 1),
        }
    }

    /// Every value read from outside the model: the ones [`Model::set_outputs`] names, else the main
    /// output alone.
    ///
    /// ```
    /// use linear_collapse::graph::{Model, Nonlinear, Op};
    /// use linear_collapse::Shape;
    /// let mut m = Model::<f32>::new(Shape::flat(2));
    /// let a = m.then("a", Op::Nonlinear(Nonlinear::Relu))?;
    /// let b = m.then("b", Op::Nonlinear(Nonlinear::Tanh))?;
    /// assert_eq!(m.outputs(), vec![b]);
    /// m.set_outputs(vec![a, b])?;
    /// assert_eq!((m.output(), m.outputs()), (a, vec![a, b]));
    /// # Ok::<(), linear_collapse::Error>(())
    /// ```
    pub fn outputs(&self) -> Vec<Src> {
        if self.outputs.is_empty() {
            vec![self.output()]
        } else {
            self.outputs.clone()
        }
    }

    /// Names the values read from outside the model (a graph with several outputs); the first is the main
    /// output.
    ///
    /// # Errors
    /// [`Error::InvalidLayer`] when `outputs` is empty or names a node the model does not have.
    pub fn set_outputs(&mut self, outputs: Vec<Src>) -> Result<()> {
        let n = self.nodes.len();
        if outputs.is_empty() || outputs.iter().any(|s| matches!(s, Src::Node(i) if *i >= n)) {
            return Err(Error::invalid(
                "model outputs",
                format!("{outputs:?} must name at least one of the {n} nodes or the input"),
            ));
        }
        self.outputs = outputs;
        Ok(())
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
}
