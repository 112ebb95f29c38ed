// SPDX-License-Identifier: GPL-2.0
//! Soundness point 4: an item must be `Send`, like the iterator state it is handed between.
// expect: E0277
// expect: cannot be sent between threads safely

use kernel::bpf::iter::{self, LinkInfo};
use kernel::{c_str, prelude::*};

kernel::bpf_iter_context! { struct Ctx { n: iter::Scalar<u32> } }

struct NotSend(#[allow(dead_code)] *mut u8); // FAIL
// struct NotSend(#[allow(dead_code)] usize); // PASS

struct T;

#[vtable]
impl iter::Target for T {
    const NAME: &'static CStr = c_str!("compile_fail");
    type Ctx<'a> = Ctx;
    type Data = ();
    type Link = ();
    type Iter = ();
    type Item = KBox<NotSend>;
    fn attach(_: (), info: &LinkInfo) -> Result {
        info.none()
    }
    fn init_iter(_: &()) -> Result {
        Ok(())
    }
    fn start(_: &mut (), _: u64) -> Result<Option<KBox<NotSend>>> {
        Ok(None)
    }
    fn next(_: &mut (), _: KBox<NotSend>) -> Option<KBox<NotSend>> {
        None
    }
    fn ctx<'a>(_: &'a (), _: &'a &NotSend) -> Ctx {
        <Ctx as iter::Context>::NULL
    }
}

pub static VTABLE: iter::TargetVTable<T> = iter::TargetVTable::new();
