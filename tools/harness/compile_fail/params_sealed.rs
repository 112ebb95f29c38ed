// SPDX-License-Identifier: GPL-2.0
//! A target's parameters cannot be of a kind of its own: `Params` is sealed, so the kind the
//! build records for tools is the kind the framework reads.
// expect: E0277
// expect: Sealed` is not satisfied

use kernel::bpf::iter::{self, LinkInfo, TaskFilter};
use kernel::prelude::*;

/// Recorded as "no parameters", read as task parameters.
pub struct Lying(pub TaskFilter);

#[allow(dead_code)]
impl iter::Params for Lying { // FAIL
// impl Lying { // PASS
    const KIND: iter::ParamsKind = iter::ParamsKind::None;
    fn from_info(info: &LinkInfo) -> Result<Self> {
        info.task().map(Lying)
    }
}
