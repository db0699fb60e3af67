//! `Identity`, `Dropout` (inference: the identity), `Add`/`Sum` of branches, `Concat` along channels.

use super::{Ctx, Mapped};
use crate::graph::{Op, Src};
use crate::io::onnx::{attr_int, NodeProto};
use crate::layer::{Identity, Layer};
use crate::{Result, Shape};

pub(super) fn identity(_: &Ctx<'_>, _: &NodeProto, _: &[Src], _: Shape) -> Result<Mapped> {
    Ok(Some(Op::Layer(Layer::Identity(Identity))))
}

pub(super) fn add(_: &Ctx<'_>, _: &NodeProto, data: &[Src], _: Shape) -> Result<Mapped> {
    Ok((data.len() >= 2).then_some(Op::Add))
}

pub(super) fn concat(_: &Ctx<'_>, node: &NodeProto, data: &[Src], _: Shape) -> Result<Mapped> {
    Ok(match attr_int(node, "axis")? {
        Some(1) if data.len() >= 2 => Some(Op::Concat),
        _ => None,
    })
}
