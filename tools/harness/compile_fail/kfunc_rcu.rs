// SPDX-License-Identifier: GPL-2.0
//! A kfunc is plain or sleepable: `Protection::Rcu` (`KF_RCU_PROTECTED`) means something for
//! an iterator's `new` only, and would promise the kfunc an RCU section it does not have.
// expect: E0080
// expect: a kfunc is Plain or Sleepable

use kernel::bpf::iter::{Kfunc, Protection};
use kernel::{c_str, prelude::*};

struct K;

impl Kfunc for K {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Rcu; // FAIL
    // const PROTECTION: Protection = Protection::Plain; // PASS
    type Args = ();
    type Ret = ();
    fn call((): ()) -> Result {
        Ok(())
    }
}

kernel::bpf_kfunc!(K);
