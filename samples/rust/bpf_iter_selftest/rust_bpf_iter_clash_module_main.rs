// SPDX-License-Identifier: GPL-2.0

//! A module whose open-coded iterator is named `rust_rcu_count`, as the selftest module's is
//! (not a sample).
//!
//! The kernel finds a kfunc's code by its name, in the newest module first: programs verified
//! against the selftest module's `bpf_iter_rust_rcu_count_new` would run this module's, with
//! another state size. Loading it while the selftest module is loaded must fail
//! (`kernel::bpf::iter::register_kfuncs`), driven by `tools/harness/guest.d/37-open-coded.sh`.

use kernel::bpf::iter::{self, Protection, Scope};
use kernel::{c_str, prelude::*};

/// An empty walk named `rust_rcu_count`, with a larger state than the selftest module's.
struct Clash;

impl iter::OpenIter for Clash {
    const NAME: &'static CStr = c_str!("rust_rcu_count");
    const PROTECTION: Protection = Protection::Plain;
    type Args = ();
    type State<'r> = [u64; 4];
    type Item<'r> = u32;

    fn new<'r>(_: Scope<'r, Self>, (): ()) -> Result<[u64; 4]> {
        Ok([0; 4])
    }

    fn next<'r>(_: Scope<'r, Self>, _state: &mut [u64; 4]) -> Option<u32> {
        None
    }
}

kernel::module_bpf_iter_target! {
    open_iters: [Clash],
    name: "rust_bpf_iter_clash_module",
    description: "An open-coded iterator named as another module's (not a sample)",
    license: "GPL",
}
