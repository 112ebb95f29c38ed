// SPDX-License-Identifier: GPL-2.0
//! A scope is invariant in its iterator type: a plain iterator's scope cannot pass for that of
//! an RCU-protected supertype, whose `Scope::rcu` would then give a guard without a section.
// expect: E0308

use core::marker::PhantomData;
use kernel::bpf::iter::{OpenIter, Protection, Scope};
use kernel::{c_str, prelude::*};

struct W<X>(PhantomData<X>);
// `for<'a> fn(&'a ())` is a subtype of `fn(&'static ())`.
type Plain = W<for<'a> fn(&'a ())>;
type Rcu = W<fn(&'static ())>;

#[allow(coherence_leak_check)]
impl OpenIter for Plain {
    const NAME: &'static CStr = c_str!("compile_fail");
    const PROTECTION: Protection = Protection::Plain;
    type Args = ();
    type State<'r> = ();
    type Item<'r> = u32;
    fn new<'r>(scope: Scope<'r, Self>, (): ()) -> Result {
        let s: Scope<'r, Rcu> = scope; // FAIL
        // let s: Scope<'r, Self> = scope; // PASS
        let _ = s;
        Ok(())
    }
    fn next<'r>(_: Scope<'r, Self>, _: &mut ()) -> Option<u32> {
        None
    }
}

#[allow(coherence_leak_check)]
impl OpenIter for Rcu {
    const NAME: &'static CStr = c_str!("compile_fail_rcu");
    const PROTECTION: Protection = Protection::Rcu;
    type Args = ();
    type State<'r> = ();
    type Item<'r> = u32;
    fn new<'r>(scope: Scope<'r, Self>, (): ()) -> Result {
        let _ = scope.rcu();
        Ok(())
    }
    fn next<'r>(_: Scope<'r, Self>, _: &mut ()) -> Option<u32> {
        None
    }
}

kernel::bpf_open_iter!(Plain);
kernel::bpf_open_iter!(Rcu);
