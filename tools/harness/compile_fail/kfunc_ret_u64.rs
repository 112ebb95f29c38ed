// SPDX-License-Identifier: GPL-2.0
//! A kfunc cannot return a `u64`: it returns `s64`, the value or a negative errno, and a value
//! above `i64::MAX` would read as an errno.
// expect: E0277
// expect: the trait bound `u64: KfuncRet` is not satisfied

use kernel::bpf::iter::{Kfunc, KfuncContext};
use kernel::{c_str, prelude::*};

struct K;

impl Kfunc for K {
    const NAME: &'static CStr = c_str!("compile_fail");
    const CONTEXT: KfuncContext = KfuncContext::Atomic;
    type Args = (u64,);
    type Ret = u64; // FAIL
    // type Ret = u32; // PASS
    fn call((n,): (u64,)) -> Result<Self::Ret> {
        Ok(n as _)
    }
}

kernel::bpf_kfunc!(K);
