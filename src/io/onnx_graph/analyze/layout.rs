//! Re-indexing ops that keep every element: `Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`, `Transpose`,
//! `Expand`, `Tile`; and the folding helpers the selections ([`super::select`]) share. Each folds
//! constant inputs (the shape subgraphs) and otherwise computes the output dims, and says whether the
//! batch stays on the first axis.

use ndarray::{ArrayD, IxDyn};

use super::dims::broadcast;
use super::node::{numel, Node};
use super::tensor::{Data, Tensor};
use super::Out;
use crate::Result;

/// Applies `f` to a constant input 0's values (same function for both element types).
macro_rules! map_data {
    ($t:expr, |$a:ident| $body:expr) => {
        Tensor {
            dtype: $t.dtype,
            data: match &$t.data {
                Data::F32($a) => Data::F32($body),
                Data::I64($a) => Data::I64($body),
            },
        }
    };
}

/// The output of a re-indexing op: input 0 folded by `fold` when it is a constant, else a runtime value
/// with `dims` (batched when `keeps_batch` and input 0 is batched).
pub(super) fn reindexed(
    n: &Node<'_, '_>,
    dims: Vec<usize>,
    keeps_batch: bool,
    fold: impl FnOnce(&Tensor) -> Option<Tensor>,
) -> Result<Out> {
    if let (true, Some(t)) = (n.all_const(), n.tensor(0)?) {
        n.reserve(numel(&dims).unwrap_or(usize::MAX))?;
        if let Some(folded) = fold(&t) {
            return Ok(Out::Const(folded));
        }
    }
    Ok(n.act(Some(dims), keeps_batch && n.batched(0)))
}

/// A constant's values in a new shape (same C-order index).
fn reshaped(t: &Tensor, dims: &[usize]) -> Option<Tensor> {
    Some(map_data!(t, |a| a
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(dims))
        .ok()?))
}

/// The dims `Reshape(x, shape)` gives: `0` copies the input's dim (unless `allowzero`), one `-1` takes
/// what is left.
fn reshape_dims(
    n: &Node<'_, '_>,
    x: &[usize],
    target: &[i64],
    allowzero: bool,
) -> Result<Vec<usize>> {
    let total = numel(x).ok_or_else(|| n.err("the input's size overflows"))?;
    if target.iter().filter(|&&d| d == -1).count() > 1 {
        return Err(n.err(format!("the target shape {target:?} has more than one -1")));
    }
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &d) in target.iter().enumerate() {
        out.push(match d {
            -1 => {
                infer = Some(i);
                1
            }
            0 if !allowzero => *x.get(i).ok_or_else(|| {
                n.err(format!(
                    "the target shape {target:?} copies axis {i}, which the input {x:?} lacks"
                ))
            })?,
            d => n.size("a target dimension", d, false)?,
        });
    }
    let known =
        numel(&out).ok_or_else(|| n.err(format!("the target shape {target:?} overflows")))?;
    if let Some(i) = infer {
        if known == 0 || total % known != 0 {
            return Err(n.err(format!(
                "the input {x:?} ({total} values) cannot take the shape {target:?}"
            )));
        }
        out[i] = total / known;
    } else if known != total {
        return Err(n.err(format!(
            "the input {x:?} has {total} values, the target shape {target:?} {known}"
        )));
    }
    Ok(out)
}

/// `Reshape(x, shape)`; batched when the first dim stays the batch's.
pub(super) fn reshape(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(x), Some(target)) = (n.dims(0), n.ints_from("shape", 1)?) else {
        return Ok(vec![n.act(None, false)]);
    };
    let allowzero = n.attr_int("allowzero")?.unwrap_or(0) != 0;
    let dims = reshape_dims(n, &x, &target, allowzero)?;
    let keeps = !dims.is_empty() && x.first() == dims.first();
    Ok(vec![reindexed(n, dims.clone(), keeps, |t| {
        reshaped(t, &dims)
    })?])
}

/// `Flatten(x, axis)`: `(prod(dims[..axis]), prod(dims[axis..]))`.
pub(super) fn flatten(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let axis = n.attr_int("axis")?.unwrap_or(1);
    let r = x.len() as i64;
    if axis < -r || axis > r {
        return Err(n.err(format!("axis {axis} is out of range for {r} axes")));
    }
    let axis = if axis < 0 { axis + r } else { axis } as usize;
    let over = || n.err("the flattened size overflows");
    let dims = vec![
        numel(&x[..axis]).ok_or_else(over)?,
        numel(&x[axis..]).ok_or_else(over)?,
    ];
    Ok(vec![reindexed(n, dims.clone(), axis == 1, |t| {
        reshaped(t, &dims)
    })?])
}

/// `Squeeze(x, axes)`: the listed size-1 axes (all size-1 axes when none are listed) removed.
pub(super) fn squeeze(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let axes = match n.ints_from("axes", 1)? {
        Some(a) => n.axes("axes", &a, x.len())?,
        None if n.input(1).is_some() => return Ok(vec![n.act(None, false)]),
        None => (0..x.len()).filter(|&i| x[i] == 1).collect(),
    };
    if let Some(&a) = axes.iter().find(|&&a| x[a] != 1) {
        return Err(n.err(format!("axis {a} of {x:?} has size {}, not 1", x[a])));
    }
    let dims: Vec<usize> = (0..x.len())
        .filter(|i| !axes.contains(i))
        .map(|i| x[i])
        .collect();
    Ok(vec![reindexed(n, dims.clone(), !axes.contains(&0), |t| {
        reshaped(t, &dims)
    })?])
}

/// `Unsqueeze(x, axes)`: size-1 axes inserted at `axes` of the output.
pub(super) fn unsqueeze(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(x), Some(axes)) = (n.dims(0), n.ints_from("axes", 1)?) else {
        return Ok(vec![n.act(None, false)]);
    };
    let rank = x.len() + axes.len();
    let axes = n.axes("axes", &axes, rank)?;
    let mut rest = x.iter();
    let dims: Vec<usize> = (0..rank)
        .map(|i| {
            if axes.contains(&i) {
                1
            } else {
                *rest.next().expect("counted")
            }
        })
        .collect();
    Ok(vec![reindexed(n, dims.clone(), !axes.contains(&0), |t| {
        reshaped(t, &dims)
    })?])
}

/// `Transpose(x, perm)` (the reverse order when `perm` is absent).
pub(super) fn transpose(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let perm: Vec<usize> = match n.attr_ints("perm")? {
        Some(p) => {
            let mut seen = vec![false; x.len()];
            let perm = p
                .iter()
                .map(|&a| match a {
                    ..0 => Err(n.err(format!(
                        "perm {p:?} has {a}; its entries must be 0 to {}",
                        x.len().saturating_sub(1)
                    ))),
                    _ => n.axis("a perm entry", a, x.len()),
                })
                .collect::<Result<Vec<_>>>()?;
            for &a in &perm {
                seen[a] = true;
            }
            if perm.len() != x.len() || seen.contains(&false) {
                return Err(n.err(format!(
                    "perm {p:?} is not a permutation of the {} axes of {x:?}",
                    x.len()
                )));
            }
            perm
        }
        None => (0..x.len()).rev().collect(),
    };
    let dims: Vec<usize> = perm.iter().map(|&a| x[a]).collect();
    let keeps = perm.first() == Some(&0);
    Ok(vec![reindexed(n, dims, keeps, |t| {
        Some(map_data!(t, |a| a
            .view()
            .permuted_axes(IxDyn(&perm))
            .as_standard_layout()
            .into_owned()))
    })?])
}

/// `Expand(x, shape)`: `x` broadcast with `shape`.
pub(super) fn expand(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(x), Some(shape)) = (n.dims(0), n.ints(1)?) else {
        return Ok(vec![n.act(None, false)]);
    };
    let shape = shape
        .iter()
        .map(|&d| n.size("a dimension of the shape", d, false))
        .collect::<Result<Vec<_>>>()?;
    let dims = broadcast(&[&x, &shape])
        .ok_or_else(|| n.err(format!("{x:?} does not broadcast with {shape:?}")))?;
    let keeps = dims.len() == x.len() && dims.first() == x.first();
    Ok(vec![reindexed(n, dims.clone(), keeps, |t| {
        Some(map_data!(t, |a| a.broadcast(IxDyn(&dims))?.to_owned()))
    })?])
}

/// `Tile(x, repeats)`.
pub(super) fn tile(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(x), Some(reps)) = (n.dims(0), n.ints(1)?) else {
        return Ok(vec![n.act(None, false)]);
    };
    if reps.len() != x.len() {
        return Err(n.err(format!(
            "repeats {reps:?} must have one entry per axis of {x:?}"
        )));
    }
    let reps = reps
        .iter()
        .map(|&r| n.size("a repeat", r, false))
        .collect::<Result<Vec<_>>>()?;
    let dims = x
        .iter()
        .zip(&reps)
        .map(|(&d, &r)| {
            d.checked_mul(r)
                .ok_or_else(|| n.err("the tiled size overflows"))
        })
        .collect::<Result<Vec<_>>>()?;
    let keeps = reps.first() == Some(&1);
    Ok(vec![reindexed(n, dims.clone(), keeps, |t| {
        Some(map_data!(t, |a| ArrayD::from_shape_fn(IxDyn(&dims), |i| {
            let j: Vec<usize> = (0..a.ndim()).map(|k| i[k] % a.shape()[k]).collect();
            a[IxDyn(&j)]
        })))
    })?])
}
