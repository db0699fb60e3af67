//! Network ops: convolutions and pools (window geometry from `pads` or `auto_pad`), `Gemm` and `MatMul`,
//! reductions, `ArgMax`/`ArgMin`, `TopK` and `Attention`.

use super::dims::{broadcast, per_axis, window_out, window_pads};
use super::node::Node;
use super::tensor::dtype;
use super::{Act, Out};
use crate::Result;

/// `Conv(X, W, B)`: `(N, C, *spatial)` and `(M, C/group, *kernel)` give `(N, M, *out)`.
pub(super) fn conv(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(x), Some(w)) = (n.dims(0), n.dims(1)) else {
        return Ok(vec![n.act(None, false)]);
    };
    if x.len() < 3 || w.len() != x.len() {
        return Err(n.err(format!(
            "input {x:?} and weight {w:?} must both be (N, C, spatial...) of the same rank, at least 3"
        )));
    }
    let group = n.size("group", n.attr_int("group")?.unwrap_or(1), true)?;
    if w[1].checked_mul(group) != Some(x[1]) || w[0] % group != 0 {
        return Err(n.err(format!(
            "the weight {w:?} with group {group} does not fit {} input channels",
            x[1]
        )));
    }
    let kernel = kernel_of(n, &w[2..])?;
    let out = windows(n, &x[2..], &kernel, false)?;
    if let Some(b) = n.dims(2) {
        if b != [w[0]] {
            return Err(n.err(format!("the bias {b:?} must be ({},)", w[0])));
        }
    }
    let dims = [vec![x[0], w[0]], out].concat();
    Ok(vec![n.act(Some(dims), n.batched(0))])
}

/// The kernel size: `kernel_shape` when present (it must agree with the weight), else the weight's.
fn kernel_of(n: &Node<'_, '_>, weight: &[usize]) -> Result<Vec<usize>> {
    if let Some(ks) = n.attr_ints("kernel_shape")? {
        let ks = ks
            .iter()
            .map(|&v| n.size("kernel_shape", v, true))
            .collect::<Result<Vec<_>>>()?;
        if ks != weight {
            return Err(n.err(format!(
                "kernel_shape {ks:?} contradicts the weight's kernel {weight:?}"
            )));
        }
    }
    Ok(weight.to_vec())
}

/// Output sizes of a window op over `spatial` with `kernel`: strides, dilations and pads or auto_pad.
fn windows(
    n: &Node<'_, '_>,
    spatial: &[usize],
    kernel: &[usize],
    ceil: bool,
) -> Result<Vec<usize>> {
    let k = spatial.len();
    let strides = per_axis(n, "strides", k, 1)?;
    let dilations = per_axis(n, "dilations", k, 1)?;
    let extent: Vec<usize> = (0..k)
        .map(|a| {
            dilations[a]
                .checked_mul(kernel[a].saturating_sub(1))
                .and_then(|e| e.checked_add(1))
                .ok_or_else(|| n.err("the dilated kernel overflows"))
        })
        .collect::<Result<_>>()?;
    let pads = window_pads(n, spatial, &extent, &strides)?;
    (0..k)
        .map(|a| {
            window_out(spatial[a], extent[a], strides[a], (pads[a], pads[k + a]), ceil).ok_or_else(
                || {
                    n.err(format!(
                        "the window {} (dilated) is larger than the padded input {} on spatial axis {a}",
                        extent[a],
                        spatial[a].saturating_add(pads[a]).saturating_add(pads[k + a])
                    ))
                },
            )
        })
        .collect()
}

/// `ConvTranspose(X, W, B)`: `W` is `(C, M/group, *kernel)`; the output size from `output_shape` or
/// `stride*(in-1) + output_padding + extent - pads`.
pub(super) fn conv_transpose(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(x), Some(w)) = (n.dims(0), n.dims(1)) else {
        return Ok(vec![n.act(None, false)]);
    };
    if x.len() < 3 || w.len() != x.len() || w[0] != x[1] {
        return Err(n.err(format!(
            "the weight {w:?} does not fit the input {x:?} (its first axis is the input channels)"
        )));
    }
    let k = x.len() - 2;
    let group = n.size("group", n.attr_int("group")?.unwrap_or(1), true)?;
    if x[1] % group != 0 {
        return Err(n.err(format!("group {group} does not divide {} channels", x[1])));
    }
    let kernel = kernel_of(n, &w[2..])?;
    let strides = per_axis(n, "strides", k, 1)?;
    let dilations = per_axis(n, "dilations", k, 1)?;
    let out_pad = match n.attr_ints("output_padding")? {
        None => vec![0; k],
        Some(p) if p.len() == k => p
            .iter()
            .map(|&v| n.size("output_padding", v, false))
            .collect::<Result<_>>()?,
        Some(p) => return Err(n.err(format!("output_padding has {} values, not {k}", p.len()))),
    };
    let spatial: Vec<usize> = if let Some(shape) = n.attr_ints("output_shape")? {
        let shape = &shape[shape.len().saturating_sub(k)..];
        shape
            .iter()
            .map(|&v| n.size("output_shape", v, true))
            .collect::<Result<_>>()?
    } else {
        let auto = n.attr_string("auto_pad")?.unwrap_or("NOTSET");
        let pads = match (auto, n.attr_ints("pads")?) {
            ("NOTSET", Some(p)) if p.len() == 2 * k => p
                .iter()
                .map(|&v| n.size("a pad", v, false))
                .collect::<Result<Vec<_>>>()?,
            ("NOTSET", Some(p)) => {
                return Err(n.err(format!("pads has {} values, not {}", p.len(), 2 * k)))
            }
            ("NOTSET" | "VALID", None) => vec![0; 2 * k],
            ("SAME_UPPER" | "SAME_LOWER", _) => {
                // the output is input * stride; pads are whatever that needs
                return Ok(vec![n.act(
                    Some(
                        [
                            vec![x[0], w[1] * group],
                            (0..k).map(|a| x[2 + a] * strides[a]).collect(),
                        ]
                        .concat(),
                    ),
                    n.batched(0),
                )]);
            }
            (other, _) => return Err(n.err(format!("auto_pad {other:?} is not valid"))),
        };
        (0..k)
            .map(|a| {
                let full =
                    strides[a] * (x[2 + a] - 1) + out_pad[a] + dilations[a] * (kernel[a] - 1) + 1;
                full.checked_sub(pads[a] + pads[k + a])
                    .filter(|&o| o > 0)
                    .ok_or_else(|| n.err(format!("the pads crop the whole output on axis {a}")))
            })
            .collect::<Result<_>>()?
    };
    let dims = [vec![x[0], w[1] * group], spatial].concat();
    Ok(vec![n.act(Some(dims), n.batched(0))])
}

/// `MaxPool`, `AveragePool`, `LpPool`: windows over the spatial axes, `ceil_mode`; `MaxPool`'s indices
/// like its values.
pub(super) fn pool(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false), indices(None, false)]);
    };
    let kernel = n
        .attr_ints("kernel_shape")?
        .ok_or_else(|| n.err("it has no kernel_shape"))?
        .iter()
        .map(|&v| n.size("kernel_shape", v, true))
        .collect::<Result<Vec<_>>>()?;
    if x.len() != kernel.len() + 2 {
        return Err(n.err(format!(
            "kernel_shape {kernel:?} does not fit the input {x:?} (N, C and one size per kernel axis)"
        )));
    }
    let ceil = n.attr_int("ceil_mode")?.unwrap_or(0) != 0;
    let out = windows(n, &x[2..], &kernel, ceil)?;
    let dims = Some([vec![x[0], x[1]], out].concat());
    let b = n.batched(0);
    Ok(vec![n.act(dims.clone(), b), indices(dims, b)])
}

fn indices(dims: Option<Vec<usize>>, batched: bool) -> Out {
    Out::Act(Act {
        dims,
        dtype: dtype::INT64,
        batched,
    })
}

/// `GlobalAveragePool` and friends: every spatial axis becomes 1.
pub(super) fn global_pool(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let dims = n.dims(0).map(|x| {
        x.iter()
            .enumerate()
            .map(|(i, &d)| if i < 2 { d } else { 1 })
            .collect()
    });
    Ok(vec![n.act(dims, n.batched(0))])
}

/// `Gemm(A, B, C)`: `(M, K) x (K, N)` with `transA`, `transB`; `C` broadcasts to `(M, N)`.
pub(super) fn gemm(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(a), Some(b)) = (n.dims(0), n.dims(1)) else {
        return Ok(vec![n.act(None, false)]);
    };
    let (&[a0, a1], &[b0, b1]) = (a.as_slice(), b.as_slice()) else {
        return Err(n.err(format!("A {a:?} and B {b:?} must be matrices")));
    };
    let ta = n.attr_int("transA")?.unwrap_or(0) != 0;
    let tb = n.attr_int("transB")?.unwrap_or(0) != 0;
    let (m, k) = if ta { (a1, a0) } else { (a0, a1) };
    let (k2, cols) = if tb { (b1, b0) } else { (b0, b1) };
    if k != k2 {
        return Err(n.err(format!(
            "A {a:?} (transA {}) and B {b:?} (transB {}) do not share an inner size",
            ta as u8, tb as u8
        )));
    }
    if let Some(c) = n.dims(2) {
        if broadcast(&[&c, &[m, cols]]).as_deref() != Some(&[m, cols][..]) {
            return Err(n.err(format!("C {c:?} does not broadcast to ({m}, {cols})")));
        }
    }
    Ok(vec![n.act(Some(vec![m, cols]), n.batched(0) && !ta)])
}

/// `MatMul(A, B)`: NumPy's matmul (1-d operands promoted, leading axes broadcast).
pub(super) fn matmul(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(a), Some(b)) = (n.dims(0), n.dims(1)) else {
        return Ok(vec![n.act(None, false)]);
    };
    if a.is_empty() || b.is_empty() {
        return Err(n.err("MatMul takes no scalars"));
    }
    let a2 = if a.len() == 1 {
        vec![1, a[0]]
    } else {
        a.clone()
    };
    let b2 = if b.len() == 1 {
        vec![b[0], 1]
    } else {
        b.clone()
    };
    let (ra, rb) = (a2.len(), b2.len());
    if a2[ra - 1] != b2[rb - 2] {
        return Err(n.err(format!("A {a:?} and B {b:?} do not share an inner size")));
    }
    let lead = broadcast(&[&a2[..ra - 2], &b2[..rb - 2]]).ok_or_else(|| {
        n.err(format!(
            "the leading axes of {a:?} and {b:?} do not broadcast"
        ))
    })?;
    let mut dims = lead;
    if a.len() > 1 {
        dims.push(a2[ra - 2]);
    }
    if b.len() > 1 {
        dims.push(b2[rb - 1]);
    }
    // batched when the batch stays outside the contraction: a runtime `A` of rank 2 or more (its first
    // axis is a row of the product), or a runtime `B` of rank 3 or more, the other operand a constant
    // that does not vary along the batch; or both runtime of rank 3 or more
    let (ra, rb, r) = (a.len(), b.len(), dims.len());
    // a constant's leading (broadcast) axes are all but its last two; on the batch axis it must be 1
    let flat = |d: &[usize]| d.len() <= 2 || d.len() < r || d.first() == Some(&1);
    let batched = match (n.input(0), n.input(1)) {
        (Some(super::Value::Act(_)), Some(super::Value::Const(_))) => {
            n.batched(0) && ra >= 2 && r == ra && flat(&b)
        }
        (Some(super::Value::Const(_)), Some(super::Value::Act(_))) => {
            n.batched(1) && rb >= 3 && r == rb && flat(&a)
        }
        _ => n.batched(0) && n.batched(1) && ra >= 3 && ra == rb && r == ra,
    };
    Ok(vec![n.act(Some(dims), batched)])
}

/// The reductions: `axes` as an attribute, or as an input (`ReduceSum` from opset 13, the others from
/// 18); `keepdims`; no axes reduce all unless `noop_with_empty_axes`.
pub(super) fn reduce(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![n.act(None, false)]);
    };
    let axes = match n.ints_from("axes", 1)? {
        Some(a) if !a.is_empty() => n.axes("axes", &a, x.len())?,
        _ if n.input(1).is_some() && n.ints(1)?.is_none() => {
            return Ok(vec![n.act(None, false)]); // axes computed at run time
        }
        _ if n.attr_int("noop_with_empty_axes")?.unwrap_or(0) != 0 => {
            return Ok(vec![n.act(Some(x), n.batched(0))]);
        }
        _ => (0..x.len()).collect(),
    };
    let keep = n.attr_int("keepdims")?.unwrap_or(1) != 0;
    let dims = reduced(&x, &axes, keep);
    let batched = n.batched(0) && !axes.contains(&0);
    Ok(vec![n.act(Some(dims), batched)])
}

fn reduced(x: &[usize], axes: &[usize], keep: bool) -> Vec<usize> {
    x.iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keep) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// `ArgMax`, `ArgMin`: one axis reduced, INT64.
pub(super) fn arg_reduce(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let Some(x) = n.dims(0) else {
        return Ok(vec![indices(None, false)]);
    };
    let axis = n.axis("axis", n.attr_int("axis")?.unwrap_or(0), x.len())?;
    let keep = n.attr_int("keepdims")?.unwrap_or(1) != 0;
    Ok(vec![indices(
        Some(reduced(&x, &[axis], keep)),
        n.batched(0) && axis != 0,
    )])
}

/// `TopK(X, K)`: values and indices with `K` along `axis`.
pub(super) fn top_k(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    let (Some(mut x), Some(k)) = (n.dims(0), n.ints(1)?) else {
        return Ok(vec![n.act(None, false), indices(None, false)]);
    };
    let axis = n.axis("axis", n.attr_int("axis")?.unwrap_or(-1), x.len())?;
    let k = n.size("K", k.first().copied().unwrap_or(-1), false)?;
    if k > x[axis] {
        return Err(n.err(format!("K is {k} but axis {axis} has {}", x[axis])));
    }
    x[axis] = k;
    let b = n.batched(0) && axis != 0;
    Ok(vec![n.act(Some(x.clone()), b), indices(Some(x), b)])
}

/// `Attention` (opset 23) on 4-d `(B, heads, L, E)` queries: `(B, heads, L, Ev)`.
pub(super) fn attention(n: &Node<'_, '_>) -> Result<Vec<Out>> {
    match (n.dims(0), n.dims(2)) {
        (Some(q), Some(v)) if q.len() == 4 && v.len() == 4 => {
            let dims = vec![q[0], q[1], q[2], v[3]];
            Ok(vec![n.act(Some(dims), false)])
        }
        _ => Ok(vec![n.act(None, false)]),
    }
}
