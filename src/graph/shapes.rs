//! Graph shape inference: every node's output shape from its inputs'.

use super::{Model, Node, Nonlinear, Op, Src};
use crate::{infer, Error, Result, Scalar, Shape};

impl<T: Scalar> Model<T> {
    /// The output shape of node `k`, given the shapes of the nodes before it (`None`: not known).
    pub(crate) fn node_shape(&self, k: usize, before: &[Option<Shape>]) -> Result<Option<Shape>> {
        let node = &self.nodes[k];
        let ins: Vec<Option<Shape>> = node
            .inputs
            .iter()
            .map(|s| self.shape_of(*s, before))
            .collect();
        node_shape(k, node, &ins)
    }

    /// The output shape of every node.
    ///
    /// # Errors
    /// [`Error::Shape`] naming the node (its index) when a layer does not fit what reaches it,
    /// [`Error::InvalidLayer`] when the inputs of an `Add` or `Concat` do not agree or a node's shape is
    /// not known (see [`Model::value_shapes`]).
    pub fn shapes(&self) -> Result<Vec<Shape>> {
        self.value_shapes()?
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                s.ok_or_else(|| {
                    Error::invalid(
                        format!("node #{i} '{}'", self.nodes[i].name),
                        "its output shape is not known",
                    )
                })
            })
            .collect()
    }

    /// The output shape of every node, `None` where it is not known (a boundary whose shape the file does
    /// not give, and the nonlinearities that read it).
    ///
    /// # Errors
    /// As [`Model::shapes`], except for unknown shapes.
    pub fn value_shapes(&self) -> Result<Vec<Option<Shape>>> {
        let mut out: Vec<Option<Shape>> = Vec::with_capacity(self.nodes.len());
        for (i, node) in self.nodes.iter().enumerate() {
            let ins: Vec<Option<Shape>> = node
                .inputs
                .iter()
                .map(|s| self.shape_of(*s, &out))
                .collect();
            out.push(node_shape(i, node, &ins)?);
        }
        Ok(out)
    }

    fn shape_of(&self, s: Src, shapes: &[Option<Shape>]) -> Option<Shape> {
        match s {
            Src::Input => Some(self.input),
            Src::Node(i) => shapes[i],
        }
    }
}

/// The output shape of node `i` given its input shapes.
fn node_shape<T: Scalar>(i: usize, node: &Node<T>, ins: &[Option<Shape>]) -> Result<Option<Shape>> {
    op_shape(i, &node.name, &node.op, ins)
}

/// The output shape of `op` (node `i`, named `name` in errors) given its input shapes.
pub(crate) fn op_shape<T: Scalar>(
    i: usize,
    name: &str,
    op: &Op<T>,
    ins: &[Option<Shape>],
) -> Result<Option<Shape>> {
    let bad =
        |reason: String| Error::invalid(format!("node #{i} '{name}' ({})", op.describe()), reason);
    if let Op::Nonlinear(Nonlinear::Other { output, .. }) = op {
        return Ok(*output);
    }
    let known: Option<Vec<Shape>> = ins.iter().copied().collect();
    let Some(ins) = known else {
        return match op {
            Op::Nonlinear(_) => Ok(None),
            _ => Err(bad("it reads a value whose shape is not known".into())),
        };
    };
    Ok(Some(match op {
        Op::Layer(l) => infer::output_shape(i, l, ins[0])?,
        Op::Add => {
            if ins.iter().any(|s| *s != ins[0]) {
                return Err(bad(format!("adds inputs of different shapes {ins:?}")));
            }
            ins[0]
        }
        Op::Concat { axis } => concat_shape(&ins, *axis)
            .ok_or_else(|| bad(format!("cannot concatenate {ins:?} along axis {axis}")))?,
        Op::Nonlinear(Nonlinear::MaxPool2d(g)) => match ins[0] {
            Shape::Chw { c, h, w } => g
                .out_dims([h, w])
                .map(|[oh, ow]| Shape::chw(c, oh, ow))
                .ok_or_else(|| bad(format!("the pooling window does not fit {}", ins[0])))?,
            other => return Err(bad(format!("MaxPool2d takes (C, H, W), got {other}"))),
        },
        Op::Nonlinear(_) => ins[0],
    }))
}

/// Concatenation along `axis`: equal ranks and equal dims off the axis, the axis summed.
pub(crate) fn concat_shape(ins: &[Shape], axis: usize) -> Option<Shape> {
    let first = ins.first()?.dims();
    if axis >= first.len() {
        return None;
    }
    let mut dims = first.clone();
    for s in &ins[1..] {
        let d = s.dims();
        let fits = d.len() == first.len() && (0..d.len()).all(|a| a == axis || d[a] == first[a]);
        if !fits {
            return None;
        }
        dims[axis] = dims[axis].checked_add(d[axis])?;
    }
    Shape::from_dims(&dims)
}
