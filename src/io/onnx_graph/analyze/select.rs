//! Selections: `Concat`, `Split`, `Slice`, `Gather`, `GatherElements`, `ScatterND`/`ScatterElements`
//! (folded when their inputs are constant: the shape subgraphs), with ONNX's clamping of slice bounds.

use ndarray::{ArrayD, Axis, IxDyn, Slice as NdSlice};

use super::layout::reindexed;
use super::node::{numel, Node};
use super::tensor::{Data, Tensor};
use super::Out;
use crate::Result;

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
        if dim == 0 {
            // an empty axis stays empty (and `dim - 1` below would be no bound)
            out.push(Cut {
                axis,
                start: 0,
                step: step.clamp(isize::MIN as i64, isize::MAX as i64) as isize,
                len: 0,
            });
            continue;
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
