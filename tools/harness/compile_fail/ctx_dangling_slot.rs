// SPDX-License-Identifier: GPL-2.0
//! A context slot cannot point to a local of `ctx`: slots borrow from the iterator state and
//! the item, which outlive the program run.
// expect: E0515
// expect: returns a value referencing data owned by the current function

use kernel::bpf::iter::{self, Index, RdonlyBuf};
use kernel::{c_str, prelude::*};

kernel::bpf_iter_context! { struct Ctx<'a> { buf: RdonlyBuf<'a, 4> } }

struct T;

static BUF: [u8; 4] = [1, 2, 3, 4];

#[vtable]
impl iter::Target for T {
    const NAME: &'static CStr = c_str!("compile_fail");
    type Ctx<'a> = Ctx<'a>;
    type Data = ();
    type Params = ();
    type Link = ();
    type Iter = ();
    type Item = Index;
    fn attach(_: (), (): ()) -> Result {
        Ok(())
    }
    fn init_iter(_: &()) -> Result {
        Ok(())
    }
    fn start(_: &mut (), _: u64) -> Result<Option<Index>> {
        Ok(None)
    }
    fn next(_: &mut (), item: &mut Option<Index>) {
        *item = None;
    }
    fn ctx<'a>(_: &'a (), _: &'a Index) -> Ctx<'a> {
        let local = BUF;
        Ctx { buf: RdonlyBuf::new(&local) } // FAIL
        // Ctx { buf: RdonlyBuf::new(&BUF) } // PASS
    }
}

pub static VTABLE: iter::TargetVTable<T> = iter::TargetVTable::new();
