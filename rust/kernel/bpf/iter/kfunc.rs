// SPDX-License-Identifier: GPL-2.0

//! Kfuncs of a module's own: functions that BPF programs call by name (declared `extern ...
//! __ksym` in the program), in the module's one kfunc set beside its open-coded iterators'.
//!
//! C header: [`include/linux/btf.h`](srctree/include/linux/btf.h)
//!
//! A type implements [`Kfunc`]; [`bpf_kfunc!`] makes its `extern "C"` function and the record
//! from which the build generates the C kfunc that calls it, with the prototype programs see in
//! the module's BTF (pahole makes no BTF of Rust functions), and adds it to the module's kfunc
//! set (`scripts/rust_bpf_iter_btf.py`). [`register_kfuncs`] registers the set, after checking
//! that every kfunc's name, this one's too, leads to this module's function.
//!
//! The verifier checks each argument a program passes against the C prototype: integers are
//! what the program had in a register, converted as C converts them; a task is a trusted
//! pointer ([`NewArg`](super::NewArg)). It checks nothing of the result: `s64`, the value or a
//! negative errno.
//!
//! [`bpf_kfunc!`]: crate::bpf_kfunc
//! [`register_kfuncs`]: super::register_kfuncs

use super::{
    name_is_valid,
    open::{check_args, put_args},
    records::put,
    NewArgs, MAX_NAME_LEN, MAX_NEW_ARGS,
};
use crate::{bpf::compat, error::Result, str::CStr};
use core::marker::PhantomData;

/// Where a [`Kfunc`] may run, which sets its flags.
///
/// The module's kfunc set is registered for every program type, so a kfunc runs wherever a
/// program may: a `tp_btf`, `fentry` or `kprobe` program runs at any point of the kernel, in
/// hard interrupts, with locks held (a runqueue's, an allocator's, the module's own spinlocks'),
/// and may re-enter the kfunc on the same CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KfuncContext {
    /// Any context but NMI. The kfunc must not sleep, nor take a lock or allocate from a pool
    /// that code it may interrupt holds or uses (only `try_lock`, and only of its own locks);
    /// best, as `rust_primes_nth`, it touches nothing shared. In NMI (a `perf_event` program, or
    /// a `kprobe` one on x86 where the probe is an `int3`) [`Kfunc::call`] does not run and the
    /// kfunc returns `-EOPNOTSUPP`. No flag.
    Atomic,
    /// Only sleepable programs may call it (`KF_SLEEPABLE`), outside RCU, preemption-disabled
    /// and lock sections (the verifier checks), so it may sleep, take mutexes and allocate with
    /// `GFP_KERNEL`.
    Sleepable,
}

/// What a [`Kfunc`] returns besides an error: nothing, or an unsigned integer of at most 32
/// bits. The C kfunc returns `s64`: the value, or a negative errno, which no value can be
/// mistaken for.
pub trait KfuncRet: private::Sealed {
    /// The value as the C kfunc returns it, at least zero.
    fn into_s64(self) -> i64;
}

mod private {
    pub trait Sealed {}
}

impl private::Sealed for () {}
impl KfuncRet for () {
    #[inline]
    fn into_s64(self) -> i64 {
        0
    }
}

macro_rules! kfunc_rets {
    ($($t:ty),*) => {$(
        impl private::Sealed for $t {}
        impl KfuncRet for $t {
            #[inline]
            fn into_s64(self) -> i64 {
                i64::from(self)
            }
        }
    )*};
}
kfunc_rets!(u8, u16, u32);

/// A function of the module's own that BPF programs call: a kfunc.
///
/// Programs of every type may call it (the module's set is registered for all of them), in
/// whatever context they run, as [`Kfunc::CONTEXT`] allows (see [`KfuncContext`]).
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::{Kfunc, KfuncContext};
/// use kernel::{c_str, prelude::*};
///
/// /// `s64 rust_doc_double(__u16 n)`: `2 * n`, from any context.
/// struct Double;
///
/// impl Kfunc for Double {
///     const NAME: &'static CStr = c_str!("rust_doc_double");
///     const CONTEXT: KfuncContext = KfuncContext::Atomic;
///     const ARG_NAMES: &'static [&'static str] = &["n"];
///     type Args = (u16,);
///     type Ret = u32;
///
///     fn call((n,): (u16,)) -> Result<u32> {
///         Ok(2 * u32::from(n))
///     }
/// }
///
/// assert_eq!(Double::call((21,)), Ok(42));
/// ```
pub trait Kfunc: 'static {
    /// The kfunc's name, as programs declare it: 1 to 48 bytes of `[A-Za-z0-9_]`, not starting
    /// with a digit ([`name_is_valid`](super::name_is_valid), at compile time). At registration
    /// it is checked against every other function of the kernel, as an open iterator's kfuncs
    /// are ([`register_kfuncs`](super::register_kfuncs)).
    const NAME: &'static CStr;

    /// Where it may run.
    const CONTEXT: KfuncContext;

    /// The C names of the arguments, each a C identifier of at most 31 bytes without `__` (the
    /// verifier reads suffixes such as `__nullable` as annotations): all, or none for `arg1`,
    /// `arg2`, ...
    const ARG_NAMES: &'static [&'static str] = &[];

    /// The arguments: `()` or a tuple of up to [`MAX_NEW_ARGS`] [`NewArg`](super::NewArg)s
    /// (integers, tasks).
    type Args: NewArgs;

    /// What it returns when it succeeds.
    type Ret: KfuncRet;

    /// Runs the kfunc; an error is returned to the program as a negative errno.
    fn call(args: Self::Args) -> Result<Self::Ret>;
}

/// The `extern "C"` side of a [`Kfunc`] (called by the C kfunc the build generates, see
/// [`bpf_kfunc!`](crate::bpf_kfunc)).
#[doc(hidden)]
pub struct KfuncAdapter<T: Kfunc>(PhantomData<T>);

impl<T: Kfunc> KfuncAdapter<T> {
    /// The compile-time checks of `T`.
    const CHECK: () = {
        assert!(
            name_is_valid(compat::cstr_bytes(T::NAME)),
            "Kfunc::NAME must be 1 to 48 bytes of [A-Za-z0-9_], not starting with a digit"
        );
        check_args(T::Args::DESCS, T::ARG_NAMES);
    };

    /// The kfunc: `T::call` with the arguments, its result as `s64`.
    ///
    /// # Safety
    ///
    /// Only called by the C kfunc generated for `T`, with `in_nmi()` and the arguments the
    /// verifier let the program pass, widened to `u64` (the unused ones zero).
    #[inline]
    pub unsafe fn call(nmi: u64, raw: [u64; MAX_NEW_ARGS]) -> i64 {
        #[allow(clippy::let_unit_value)]
        let () = Self::CHECK;
        if nmi != 0 {
            // Safe code may allocate, and take locks that the interrupted code may hold.
            return -i64::from(crate::bindings::EOPNOTSUPP);
        }
        // SAFETY: By the safety requirements the arguments are what the verifier let the
        // program pass, during this call.
        match unsafe { T::Args::from_raw(raw) }.and_then(T::call) {
            Ok(v) => v.into_s64(),
            Err(e) => e.to_errno().into(),
        }
    }
}

/// The size of a [`KfuncRecord`].
const RECORD_SIZE: usize = super::LAYOUT_RECORD_SIZE;
const IDENT_LEN: usize = 32;

/// The description of a kfunc for the build, placed by [`bpf_kfunc!`] in the object's
/// `.rust_bpf_iter_layout` section beside the targets' and open iterators' records:
/// `scripts/rust_bpf_iter_btf.py` generates from it the C kfunc and its entry in the module's
/// kfunc set.
///
/// Format ([`LAYOUT_RECORD_SIZE`](super::LAYOUT_RECORD_SIZE) bytes, little endian): `b"RBKF"`,
/// version 1, the number of arguments, the context (0 atomic, 2 sleepable), a zero byte; the
/// name NUL-padded to 56 bytes; the Rust type's identifier (the function is
/// `__rust_bpf_kfunc_<ident>`) NUL-padded to 32 bytes; then, as in an open iterator's record,
/// from 136 per argument its C type and its C name NUL-padded to 32 bytes each, and at
/// `432 + 32 * i` the header that defines argument `i`'s type.
///
/// [`bpf_kfunc!`]: crate::bpf_kfunc
#[repr(C, align(8))]
#[doc(hidden)]
pub struct KfuncRecord([u8; RECORD_SIZE]);

impl KfuncRecord {
    /// The record of `T`, whose Rust identifier is `ident`.
    ///
    /// # Safety
    ///
    /// `__rust_bpf_kfunc_<ident>` is the function that [`bpf_kfunc!`](crate::bpf_kfunc) makes
    /// for `T`.
    pub const unsafe fn new<T: Kfunc>(ident: &str) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = KfuncAdapter::<T>::CHECK;
        let args = T::Args::DESCS;
        let mut b = [0u8; RECORD_SIZE];
        put(&mut b, 0, b"RBKF", 5);
        b[4] = 1;
        b[5] = args.len() as u8;
        b[6] = match T::CONTEXT {
            KfuncContext::Atomic => 0,
            KfuncContext::Sleepable => 2,
        };
        put(&mut b, 8, compat::cstr_bytes(T::NAME), MAX_NAME_LEN + 8);
        put(&mut b, 64, ident.as_bytes(), IDENT_LEN);
        put_args(&mut b, args, T::ARG_NAMES);
        KfuncRecord(b)
    }
}

/// Makes the `extern "C"` function of a [`Kfunc`] and its record, from which the build
/// generates the C kfunc that calls it (see the module documentation).
/// [`module_bpf_iter_target!`](crate::module_bpf_iter_target) does it for its `kfuncs`; a
/// module that registers by hand invokes it once per type, at the crate's root, and calls
/// [`register_kfuncs`](super::register_kfuncs) with [`bpf_kfunc_table!`](crate::bpf_kfunc_table).
#[macro_export]
macro_rules! bpf_kfunc {
    ($t:ident) => {
        const _: () = {
            #[used]
            #[link_section = ".rust_bpf_iter_layout"]
            // SAFETY: The function of `$t` is made below, named after the same identifier.
            static RECORD: $crate::bpf::iter::KfuncRecord =
                unsafe { $crate::bpf::iter::KfuncRecord::new::<$t>(::core::stringify!($t)) };
        };

        $crate::macros::paste! {
            /// # Safety
            ///
            /// Only called by the generated C kfunc named `NAME`.
            #[no_mangle]
            #[allow(non_snake_case)]
            unsafe extern "C" fn [<__rust_bpf_kfunc_ $t>](
                nmi: u64,
                a0: u64,
                a1: u64,
                a2: u64,
                a3: u64,
            ) -> i64 {
                // SAFETY: Called by that kfunc only (the symbol is named for it), which passes
                // `in_nmi()` and its arguments.
                unsafe { $crate::bpf::iter::KfuncAdapter::<$t>::call(nmi, [a0, a1, a2, a3]) }
            }
        }
    };
}
