//! Graph shape inference: every node's output shape from its inputs'.

use super::{Model, Node, Nonlinear, Op, Src};
use crate::{infer, Error, Result, Scalar, Shape};

impl<T: Scalar> Model<T> {
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
