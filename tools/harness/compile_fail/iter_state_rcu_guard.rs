// SPDX-License-Identifier: GPL-2.0
//! Soundness point 4: an RCU guard cannot live in the per-iterator state, which crosses objects
//! (the walk may reschedule between them) and tasks (any task sharing the fd reads it).
// expect: E0277
// expect: cannot be sent between threads safely

use kernel::bpf::iter::{self, Index};
use kernel::{c_str, prelude::*};

kernel::bpf_iter_context! { struct Ctx<'a> { n: iter::Scalar<u32>, _p: iter::RdonlyBuf<'a, 8> } }

struct Walk {
    _rcu: kernel::sync::rcu::Guard, // FAIL
    // _rcu: u64, // PASS
}

struct T;

#[vtable]
impl iter::Target for T {
    const NAME: &'static CStr = c_str!("compile_fail");
    type Ctx<'a> = Ctx<'a>;
    type Data = ();
    type Params = ();
    type Link = ();
    type Iter = Walk;
    type Item = Index;
    fn attach(_: (), (): ()) -> Result {
        Ok(())
    }
    fn init_iter(_: &()) -> Result<Walk> {
        Err(EINVAL)
    }
    fn start(_: &mut Walk, _: u64) -> Result<Option<Index>> {
        Ok(None)
    }
    fn next(_: &mut Walk, item: &mut Option<Index>) {
        *item = None;
    }
    fn ctx<'a>(_: &'a Walk, _: &'a Index) -> Ctx<'a> {
        <Ctx<'a> as iter::Context>::NULL
    }
}

pub static VTABLE: iter::TargetVTable<T> = iter::TargetVTable::new();
