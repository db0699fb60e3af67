//! `Flatten`, `Reshape`, `Squeeze`/`Unsqueeze` and `Transpose`: re-indexing that keeps the batch axis.

use super::attrs::node_err;
use super::{Ctx, Mapped};
use crate::graph::{Op, Src};
use crate::io::onnx::{attr_int, attr_ints, tensor_i64, NodeProto};
use crate::layer::{Flatten, Layer, Permute, Reshape};
use crate::{Result, Shape};

pub(super) fn flatten(_: &Ctx<'_>, node: &NodeProto, _: &[Src], _: Shape) -> Result<Mapped> {
    Ok(match attr_int(node, "axis")?.unwrap_or(1) {
        1 => Some(Op::Layer(Layer::Flatten(Flatten))),
        _ => None,
    })
}

pub(super) fn reshape(ctx: &Ctx<'_>, node: &NodeProto, _: &[Src], shape: Shape) -> Result<Mapped> {
    let Some(t) = ctx.input(node, 1) else {
        return Ok(None);
    };
    let target = tensor_i64(t)?;
    reshape_target(&target, shape)
        .map(|s| Reshape::new(s).map(|r| Op::Layer(Layer::Reshape(r))))
        .transpose()
        .map_err(|e| node_err(node, e))
}

pub(super) fn squeeze(ctx: &Ctx<'_>, node: &NodeProto, _: &[Src], shape: Shape) -> Result<Mapped> {
    let axes: Vec<i64> = match (attr_ints(node, "axes")?, ctx.input(node, 1)) {
        (Some(a), _) => a.to_vec(),
        (None, Some(t)) => tensor_i64(t)?,
        _ => return Ok(None),
    };
    squeeze_target(&node.op_type, &axes, shape)
        .map(|s| Reshape::new(s).map(|r| Op::Layer(Layer::Reshape(r))))
        .transpose()
        .map_err(|e| node_err(node, e))
}

pub(super) fn transpose(_: &Ctx<'_>, node: &NodeProto, _: &[Src], shape: Shape) -> Result<Mapped> {
    Ok(match attr_ints(node, "perm")? {
        Some([0, a, b, c]) if matches!(shape, Shape::Chw { .. }) => {
            // per-sample axis = ONNX axis - 1; an axis below 1 (the batch, or negative) becomes an
            // out-of-range index that `Permute::new` rejects, never an underflow
            let axis = |a: &i64| {
                a.checked_sub(1)
                    .and_then(|a| usize::try_from(a).ok())
                    .unwrap_or(usize::MAX)
            };
            let p = Permute::new(&[axis(a), axis(b), axis(c)]).map_err(|e| node_err(node, e))?;
            Some(Op::Layer(Layer::Permute(p)))
        }
        _ => None,
    })
}

/// The per-sample shape of `Reshape(x, target)` when the batch axis is kept (`0` or `-1` first).
fn reshape_target(target: &[i64], input: Shape) -> Option<Shape> {
    let (first, rest) = target.split_first()?;
    if !matches!(first, 0 | -1) || (*first == -1 && rest.contains(&-1)) {
        return None;
    }
    let n = input.numel() as i64;
    let in_dims = input.dims();
    let mut dims: Vec<i64> = rest
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if d == 0 {
                in_dims.get(i).map_or(-2, |&x| x as i64)
            } else {
                d
            }
        })
        .collect();
    if dims.iter().any(|&d| d < -1 || d == 0) {
        return None;
    }
    if let Some(pos) = dims.iter().position(|&d| d == -1) {
        let known: i64 = dims.iter().filter(|&&d| d != -1).product();
        if known == 0 || n % known != 0 {
            return None;
        }
        dims[pos] = n / known;
    }
    let dims: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    (dims.iter().product::<usize>() as i64 == n)
        .then(|| Shape::from_dims(&dims))
        .flatten()
}

/// The per-sample shape after `Squeeze`/`Unsqueeze` on axes that do not touch the batch.
fn squeeze_target(op: &str, axes: &[i64], input: Shape) -> Option<Shape> {
    let mut dims: Vec<usize> = std::iter::once(1).chain(input.dims()).collect();
    let rank = dims.len() as i64
        + if op == "Unsqueeze" {
            axes.len() as i64
        } else {
            0
        };
    let mut axes: Vec<usize> = axes
        .iter()
        .map(|&a| {
            if a < 0 {
                (a + rank) as usize
            } else {
                a as usize
            }
        })
        .collect();
    if axes.contains(&0) {
        return None;
    }
    axes.sort_unstable();
    if op == "Squeeze" {
        for &a in axes.iter().rev() {
            if dims.get(a) != Some(&1) {
                return None;
            }
            dims.remove(a);
        }
    } else {
        for &a in &axes {
            if a > dims.len() {
                return None;
            }
            dims.insert(a, 1);
        }
    }
    Shape::from_dims(&dims[1..])
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::io::onnx::AttributeProto;

    fn transpose_node(perm: &[i64]) -> NodeProto {
        NodeProto {
            op_type: "Transpose".into(),
            name: "t".into(),
            attribute: vec![AttributeProto {
                name: "perm".into(),
                r#type: 7, // INTS
                ints: perm.to_vec(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// Bug: `perm = [0, 0, 1, 2]` computed `0usize - 1` (a panic in debug builds) before `Permute::new`
    /// could reject it; a perm naming the batch axis or a negative one is now a clear error.
    #[test]
    fn transpose_of_the_batch_axis_is_an_error_not_a_panic() {
        let inits = HashMap::new();
        let ctx = Ctx { inits: &inits };
        let s = Shape::chw(2, 3, 4);
        for perm in [
            [0, 0, 1, 2],
            [0, -1, 1, 2],
            [0, i64::MIN, 1, 2],
            [0, 1, 2, 4],
        ] {
            let e = transpose(&ctx, &transpose_node(&perm), &[], s).unwrap_err();
            assert!(e.to_string().contains("permutation of [0, 1, 2]"), "{e}");
        }
        let Some(Op::Layer(Layer::Permute(p))) =
            transpose(&ctx, &transpose_node(&[0, 1, 3, 2]), &[], s).unwrap()
        else {
            panic!("a Permute")
        };
        assert_eq!(p.dims(), [0, 2, 1]);
    }
}
