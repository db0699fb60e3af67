//! Re-indexing ops: `Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`, `Transpose`, `Concat`, `Split`,
//! `Slice`, `Gather`, `GatherElements`, `Expand`, `Tile`, `Pad`, `DepthToSpace`, `SpaceToDepth`,
//! `Resize`/`Upsample`. Each folds constant inputs (the shape subgraphs) and otherwise computes the
//! output dims, and says whether the batch stays on the first axis.

use ndarray::{ArrayD, Axis, IxDyn, Slice as NdSlice};

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
fn reindexed(
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
                .map(|&a| n.axis("a perm entry", a, x.len()))
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

/// `Concat(inputs, axis)`: equal dims except along `axis`.
pub(super) fn concat(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let all: Option<Vec<Vec<usize>>> = (0..n.arity()).map(|i| n.dims(i)).collect();
    let Some(all) = all.filter(|a| !a.is_empty()) else {
        return Ok(vec![n.act(None, false)]);
    };
    let rank = all[0].len();
    let axis = n.axis("axis", n.attr_int("axis")?.unwrap_or(0), rank)?;
    let mut dims = all[0].clone();
    for d in &all[1..] {
        let fits = d.len() == rank && (0..rank).all(|a| a == axis || d[a] == dims[a]);
        if !fits {
            return Err(n.err(format!("inputs {all:?} differ off axis {axis}")));
        }
        dims[axis] = dims[axis].saturating_add(d[axis]);
    }
    let batched = axis != 0
        && (0..n.arity()).any(|i| n.batched(i))
        && (0..n.arity()).all(|i| n.batched(i) || all[i].first() == Some(&1));
    if n.all_const() {
        n.reserve(numel(&dims).unwrap_or(usize::MAX))?;
        let ts = (0..n.arity())
            .map(|i| n.tensor(i).map(|t| t.expect("all constant")))
            .collect::<Result<Vec<_>>>()?;
        let data = if ts.iter().all(|t| matches!(t.data, Data::I64(_))) {
            let v: Vec<ArrayD<i64>> = ts.iter().map(|t| t.to_i64()).collect();
            let views: Vec<_> = v.iter().map(|a| a.view()).collect();
            Data::I64(ndarray::concatenate(Axis(axis), &views).expect("dims checked"))
        } else {
            let v: Vec<ArrayD<f32>> = ts.iter().map(|t| t.to_f32()).collect();
            let views: Vec<_> = v.iter().map(|a| a.view()).collect();
            Data::F32(ndarray::concatenate(Axis(axis), &views).expect("dims checked"))
        };
        return Ok(vec![Out::Const(Tensor {
            dtype: ts[0].dtype,
            data,
        })]);
    }
    Ok(vec![n.act(Some(dims), batched)])
}

/// The pieces `Split` cuts `len` into: `split` (attribute before opset 13, input after), else
/// `num_outputs` (opset 18) or the number of outputs, equal with a shorter last piece.
pub(crate) fn split_sizes(n: &Node<'_, '_>, len: usize) -> Result<Option<Vec<usize>>> {
    let outputs = n.proto().output.len();
    if let Some(split) = n.ints_from("split", 1)? {
        let sizes = split
            .iter()
            .map(|&s| n.size("a split size", s, false))
            .collect::<Result<Vec<_>>>()?;
        if sizes.iter().sum::<usize>() != len || sizes.len() != outputs {
            return Err(n.err(format!(
                "split {sizes:?} must have {outputs} sizes summing to {len}"
            )));
        }
        return Ok(Some(sizes));
    }
    if n.input(1).is_some() {
        return Ok(None); // sizes computed at run time
    }
    let parts = match n.attr_int("num_outputs")? {
        Some(k) => n.size("num_outputs", k, true)?,
        None => outputs.max(1),
    };
    if parts != outputs {
        return Err(n.err(format!(
            "num_outputs is {parts} but the node has {outputs} outputs"
        )));
    }
    let piece = len.div_ceil(parts);
    let sizes: Vec<usize> = (0..parts)
        .map(|i| piece.min(len.saturating_sub(i * piece)))
        .collect();
    if n.attr_int("num_outputs")?.is_none() && !len.is_multiple_of(parts) {
        return Err(n.err(format!("{len} does not split into {parts} equal parts")));
    }
    Ok(Some(sizes))
}

/// `Split(x, split)`: pieces along `axis`.
pub(super) fn split(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![]);
    };
    let axis = n.axis("axis", n.attr_int("axis")?.unwrap_or(0), x.len())?;
    let Some(sizes) = split_sizes(n, x[axis])? else {
        return Ok(vec![]);
    };
    let mut start = 0;
    sizes
        .iter()
        .map(|&s| {
            let mut dims = x.clone();
            dims[axis] = s;
            let from = start;
            start += s;
            reindexed(n, dims, axis != 0, |t| {
                Some(map_data!(t, |a| a
                    .slice_axis(Axis(axis), NdSlice::from(from..from + s))
                    .to_owned()))
            })
        })
        .collect()
}

/// One axis of a `Slice`: `start`, `step` and the number of elements taken, clamped as ONNX does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cut {
    pub(crate) axis: usize,
    pub(crate) start: usize,
    pub(crate) step: isize,
    pub(crate) len: usize,
}

/// The cuts of a `Slice` over dims `x` (starts, ends, axes, steps as attributes before opset 10, inputs
/// after); `None` when they are computed at run time.
pub(crate) fn slice_cuts(n: &Node<'_, '_>, x: &[usize]) -> Result<Option<Vec<Cut>>> {
    let (starts, ends) = match (n.ints_from("starts", 1)?, n.ints_from("ends", 2)?) {
        (Some(s), Some(e)) => (s, e),
        _ => return Ok(None),
    };
    let axes = match n.ints_from("axes", 3)? {
        Some(a) => Some(a),
        None if n.input(3).is_some() => return Ok(None),
        None => None,
    };
    let steps = match n.ints(4)? {
        Some(s) => Some(s),
        None if n.input(4).is_some() => return Ok(None),
        None => None,
    };
    cuts(x, &starts, &ends, axes.as_deref(), steps.as_deref())
        .map(Some)
        .map_err(|e| n.err(e))
}

/// ONNX `Slice`'s clamping: each `(start, end, step)` on its axis of `x` (all axes in order when `axes`
/// is absent, step 1 when `steps` is), negative values counted from the end.
///
/// # Errors
/// When the lists differ in length, an axis is out of range or repeats, or a step is 0.
pub(crate) fn cuts(
    x: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> std::result::Result<Vec<Cut>, String> {
    let all: Vec<i64> = (0..starts.len() as i64).collect();
    let axes = axes.unwrap_or(&all);
    let ones = vec![1; starts.len()];
    let steps = steps.unwrap_or(&ones);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(format!(
            "starts {starts:?}, ends {ends:?}, axes {axes:?} and steps {steps:?} differ in length"
        ));
    }
    let r = x.len() as i64;
    let mut seen = vec![false; x.len()];
    let mut out = Vec::with_capacity(axes.len());
    for k in 0..axes.len() {
        let a = axes[k];
        if a < -r || a >= r {
            return Err(format!("axis {a} is out of range for {r} axes"));
        }
        let axis = (if a < 0 { a + r } else { a }) as usize;
        if std::mem::replace(&mut seen[axis], true) {
            return Err(format!("axes {axes:?} repeat axis {axis}"));
        }
        let dim = x[axis] as i64;
        let step = steps[k];
        if step == 0 {
            return Err("a step is 0".into());
        }
        let clamp = |v: i64, lo: i64, hi: i64| {
            let v = if v < 0 { v.saturating_add(dim) } else { v };
            v.clamp(lo, hi)
        };
        let (start, end) = if step > 0 {
            (clamp(starts[k], 0, dim), clamp(ends[k], 0, dim))
        } else {
            (clamp(starts[k], 0, dim - 1), clamp(ends[k], -1, dim - 1))
        };
        let span = if step > 0 { end - start } else { start - end };
        let len = (span.max(0) as u64).div_ceil(step.unsigned_abs());
        out.push(Cut {
            axis,
            start: start.max(0) as usize,
            step: step.clamp(isize::MIN as i64, isize::MAX as i64) as isize,
            len: len as usize,
        });
    }
    Ok(out)
}

/// `Slice(x, starts, ends, axes, steps)`.
pub(super) fn slice(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let Some(cuts) = slice_cuts(n, &x)? else {
        return Ok(vec![n.act(None, false)]);
    };
    let mut dims = x.clone();
    for c in &cuts {
        dims[c.axis] = c.len;
    }
    let keeps = cuts
        .iter()
        .all(|c| c.axis != 0 || (c.len == x[0] && c.step == 1));
    Ok(vec![reindexed(n, dims, keeps, |t| {
        Some(map_data!(t, |a| {
            let mut v = a.view();
            for c in &cuts {
                v = cut_view(v, c);
            }
            v.to_owned()
        }))
    })?])
}

/// The elements `start + i*step` (`i < len`) of `a` along the cut's axis.
fn cut_view<'v, A>(a: ndarray::ArrayViewD<'v, A>, c: &Cut) -> ndarray::ArrayViewD<'v, A> {
    if c.len == 0 {
        return a.slice_axis_move(Axis(c.axis), NdSlice::new(0, Some(0), 1));
    }
    let last = c.start as isize + c.step * (c.len as isize - 1);
    let (lo, hi) = if c.step > 0 {
        (c.start as isize, last + 1)
    } else {
        (last, c.start as isize + 1)
    };
    a.slice_axis_move(Axis(c.axis), NdSlice::new(lo, Some(hi), c.step))
}

/// `Gather(data, indices, axis)`: `data[..axis] + indices + data[axis+1..]`.
pub(super) fn gather(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(x), Some(idx)) = (n.dims(0), n.dims(1)) else {
        return Ok(vec![n.act(None, false)]);
    };
    let axis = n.axis("axis", n.attr_int("axis")?.unwrap_or(0), x.len())?;
    let dims: Vec<usize> = [&x[..axis], &idx[..], &x[axis + 1..]].concat();
    let Some(indices) = n.ints(1)? else {
        return Ok(vec![n.act(Some(dims), false)]);
    };
    let len = x[axis] as i64;
    let flat: Vec<usize> = indices
        .iter()
        .map(|&i| {
            let j = if i < 0 { i + len } else { i };
            if (0..len).contains(&j) {
                Ok(j as usize)
            } else {
                Err(n.err(format!(
                    "index {i} is out of range for axis {axis} of {x:?}"
                )))
            }
        })
        .collect::<Result<_>>()?;
    Ok(vec![reindexed(n, dims.clone(), axis != 0, |t| {
        Some(map_data!(t, |a| a
            .select(Axis(axis), &flat)
            .into_shape_with_order(IxDyn(&dims))
            .ok()?))
    })?])
}

/// `GatherElements(data, indices)`: the indices' dims.
pub(super) fn gather_elements(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    Ok(vec![n.act(n.dims(1), false)])
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

/// The pads of a `Pad` over `rank` axes (`pads` attribute before opset 11, input after; `axes` from
/// opset 18): `(begin, end)` per axis, negative values crop.
pub(crate) fn pad_amounts(n: &Node<'_, '_>, rank: usize) -> Result<Option<Vec<(i64, i64)>>> {
    let Some(pads) = n.ints_from("pads", 1)? else {
        return Ok(None);
    };
    let axes = match n.ints(3)? {
        Some(a) => n.axes("axes", &a, rank)?,
        None if n.input(3).is_some() => return Ok(None),
        None => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(n.err(format!(
            "pads has {} values; {} axes need {}",
            pads.len(),
            axes.len(),
            2 * axes.len()
        )));
    }
    let mut out = vec![(0, 0); rank];
    for (k, &a) in axes.iter().enumerate() {
        out[a] = (pads[k], pads[axes.len() + k]);
    }
    Ok(Some(out))
}

/// `Pad(x, pads, value, axes)`.
pub(super) fn pad(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let Some(pads) = pad_amounts(n, x.len())? else {
        return Ok(vec![n.act(None, false)]);
    };
    let dims = x
        .iter()
        .zip(&pads)
        .enumerate()
        .map(|(a, (&d, &(lo, hi)))| {
            let out = (d as i64).checked_add(lo).and_then(|v| v.checked_add(hi));
            match out {
                Some(v) if v >= 0 => Ok(v as usize),
                _ => Err(n.err(format!(
                    "pads ({lo}, {hi}) on axis {a} of size {d} leave no elements"
                ))),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(vec![n.act(Some(dims), n.batched(0) && pads[0] == (0, 0))])
}

/// `DepthToSpace(x, blocksize)`: `(N, C, H, W)` to `(N, C/b², H*b, W*b)`.
pub(super) fn depth_to_space(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    space(n, true)
}

/// `SpaceToDepth(x, blocksize)`: `(N, C, H, W)` to `(N, C*b², H/b, W/b)`.
pub(super) fn space_to_depth(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    space(n, false)
}

fn space(n: &Node<'_, '_>, to_space: bool) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let b = n.size(
        "blocksize",
        n.attr_int("blocksize")?
            .ok_or_else(|| n.err("it has no blocksize"))?,
        true,
    )?;
    let &[batch, c, h, w] = x.as_slice() else {
        return Err(n.err(format!("it takes (N, C, H, W), got {x:?}")));
    };
    let bb = b
        .checked_mul(b)
        .ok_or_else(|| n.err("blocksize overflows"))?;
    let dims = if to_space {
        if c % bb != 0 {
            return Err(n.err(format!(
                "{c} channels are not a multiple of blocksize² {bb}"
            )));
        }
        vec![batch, c / bb, h.saturating_mul(b), w.saturating_mul(b)]
    } else {
        if h % b != 0 || w % b != 0 {
            return Err(n.err(format!("{h}x{w} is not a multiple of blocksize {b}")));
        }
        vec![batch, c.saturating_mul(bb), h / b, w / b]
    };
    Ok(vec![n.act(Some(dims), n.batched(0))])
}

/// The output dims of `Resize` (opset 10 on, with `scales` or `sizes`, and `axes` from 18) or `Upsample`
/// (`scales` attribute before opset 9, input after); `None` when they are computed at run time.
pub(crate) fn resize_dims(n: &Node<'_, '_>, x: &[usize]) -> Result<Option<(Vec<usize>, Vec<f64>)>> {
    let upsample = n.proto().op_type == "Upsample";
    let scales_at = if upsample || n.opset() < 11 { 1 } else { 2 };
    let axes: Vec<usize> = match n.attr_ints("axes")? {
        Some(a) => n.axes("axes", a, x.len())?,
        None => (0..x.len()).collect(),
    };
    let scales: Option<Vec<f32>> = match n.proto().attribute.iter().find(|a| a.name == "scales") {
        Some(a) => Some(a.floats.clone()),
        None => match n.tensor(scales_at)? {
            Some(t) if t.len() > 0 => Some(t.to_f32().iter().copied().collect()),
            _ => None,
        },
    };
    let sizes = if upsample { None } else { n.ints(3)? };
    if let Some(sizes) = sizes.filter(|s| !s.is_empty()) {
        if sizes.len() != axes.len() {
            return Err(n.err(format!(
                "sizes {sizes:?} must have one entry per resized axis"
            )));
        }
        let mut dims = x.to_vec();
        let mut sc = vec![1.0; x.len()];
        let policy = n
            .attr_string("keep_aspect_ratio_policy")?
            .unwrap_or("stretch");
        let wanted: Vec<usize> = sizes
            .iter()
            .map(|&s| n.size("a size", s, true))
            .collect::<Result<_>>()?;
        let ratio = |k: usize| wanted[k] as f64 / x[axes[k]] as f64;
        let common = match policy {
            "stretch" => None,
            "not_larger" => Some((0..axes.len()).map(ratio).fold(f64::INFINITY, f64::min)),
            "not_smaller" => Some((0..axes.len()).map(ratio).fold(0.0, f64::max)),
            other => return Err(n.err(format!("keep_aspect_ratio_policy {other:?} is not valid"))),
        };
        for (k, &a) in axes.iter().enumerate() {
            match common {
                None => {
                    dims[a] = wanted[k];
                    sc[a] = ratio(k);
                }
                Some(r) => {
                    dims[a] = (x[a] as f64 * r).round() as usize;
                    sc[a] = r;
                }
            }
        }
        return Ok(Some((dims, sc)));
    }
    let Some(scales) = scales else {
        return Ok(None);
    };
    if scales.len() != axes.len() {
        return Err(n.err(format!(
            "scales {scales:?} must have one entry per resized axis"
        )));
    }
    let mut dims = x.to_vec();
    let mut sc = vec![1.0; x.len()];
    for (k, &a) in axes.iter().enumerate() {
        let s = scales[k] as f64;
        if !(s.is_finite() && s > 0.0) {
            return Err(n.err(format!("scale {s} must be positive")));
        }
        // onnxruntime multiplies in f32: 10 x 0.7f32 is 7, not 6.99...
        let d = (x[a] as f32 * scales[k]).floor() as f64;
        if !(1.0..=u32::MAX as f64).contains(&d) {
            return Err(n.err(format!("scale {s} gives {d} elements on axis {a}")));
        }
        dims[a] = d as usize;
        sc[a] = s;
    }
    Ok(Some((dims, sc)))
}

/// `Resize` and `Upsample`.
pub(super) fn resize(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    match resize_dims(n, &x)? {
        Some((dims, _)) => {
            let keeps = dims.first() == x.first();
            Ok(vec![n.act(Some(dims), keeps && n.batched(0))])
        }
        None => Ok(vec![n.act(None, false)]),
    }
}

/// `ScatterND(data, indices, updates)` (no reduction folded), `ScatterElements`: `data`'s dims.
pub(super) fn scatter(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let plain = n.attr_string("reduction")?.unwrap_or("none") == "none";
    if let (true, true, "ScatterND") = (n.all_const(), plain, n.proto().op_type.as_str()) {
        let (Some(d), Some(i), Some(u)) = (n.tensor(0)?, n.tensor(1)?, n.tensor(2)?) else {
            unreachable!("all constant")
        };
        if let Some(t) = scatter_nd(&d, &i.to_i64(), &u) {
            return Ok(vec![Out::Const(t)]);
        }
        return Err(n.err("its indices or updates do not fit the data"));
    }
    Ok(vec![n.act(Some(x), n.batched(0))])
}

/// ONNX `ScatterND`: each index tuple (the last axis of `indices`) picks a slice of `data` that the
/// matching slice of `updates` replaces.
fn scatter_nd(data: &Tensor, indices: &ArrayD<i64>, updates: &Tensor) -> Option<Tensor> {
    let shape = data.shape().to_vec();
    let k = *indices.shape().last()?;
    let tuples = indices.len() / k.max(1);
    let slice: usize = shape.get(k..)?.iter().product();
    let starts: Vec<usize> = indices
        .as_standard_layout()
        .as_slice()?
        .chunks(k.max(1))
        .map(|t| {
            t.iter().zip(&shape).try_fold(0usize, |acc, (&i, &d)| {
                let j = if i < 0 { i + d as i64 } else { i };
                (0..d as i64).contains(&j).then(|| acc * d + j as usize)
            })
        })
        .map(|s| s.map(|s| s * slice))
        .collect::<Option<_>>()?;
    if updates.len() != tuples * slice {
        return None;
    }
    fn put<A: Copy>(d: &ArrayD<A>, u: &ArrayD<A>, starts: &[usize], slice: usize) -> ArrayD<A> {
        let mut out = d.as_standard_layout().into_owned();
        let u = u.as_standard_layout();
        let (o, u) = (
            out.as_slice_mut().expect("standard"),
            u.as_slice().expect("standard"),
        );
        for (t, &s) in starts.iter().enumerate() {
            o[s..s + slice].copy_from_slice(&u[t * slice..(t + 1) * slice]);
        }
        out
    }
    Some(Tensor {
        dtype: data.dtype,
        data: match (&data.data, &updates.data) {
            (Data::F32(d), _) => Data::F32(put(d, &updates.to_f32(), &starts, slice)),
            (Data::I64(d), _) => Data::I64(put(d, &updates.to_i64(), &starts, slice)),
        },
    })
}
