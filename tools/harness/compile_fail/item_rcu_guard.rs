// SPDX-License-Identifier: GPL-2.0
//! Soundness point 4: an item cannot hold an RCU guard. Items are held from `start` to `stop`
//! of a read, across program runs and rescheduling between objects ([`iter::Holdable`]).
// expect: E0277
// expect: the trait bound `kernel::sync::rcu::Guard: Holdable` is not satisfied

use kernel::bpf::iter::{self, Index};
use kernel::sync::rcu;
use kernel::{c_str, prelude::*};

kernel::bpf_iter_context! { struct Ctx { n: iter::Scalar<u32> } }

type Item = (Index, rcu::Guard); // FAIL
// type Item = (Index, Index); // PASS

struct T;

#[vtable]
impl iter::Target for T {
    const NAME: &'static CStr = c_str!("compile_fail");
    type Ctx<'a> = Ctx;
    type Data = ();
    type Params = ();
    type Link = ();
    type Iter = ();
    type Item = Item;
    fn attach(_: (), (): ()) -> Result {
        Ok(())
    }
    fn init_iter(_: &()) -> Result {
        Ok(())
    }
    fn start(_: &mut (), _: u64) -> Result<Option<Item>> {
        Ok(None)
    }
    fn next(_: &mut (), item: &mut Option<Item>) {
        *item = None;
    }
    fn ctx<'a>(_: &'a (), _: &'a Item) -> Ctx {
        <Ctx as iter::Context>::NULL
    }
}

pub static VTABLE: iter::TargetVTable<T> = iter::TargetVTable::new();
