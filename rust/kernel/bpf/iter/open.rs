// SPDX-License-Identifier: GPL-2.0

//! Open-coded iterators: the kfunc triple `bpf_iter_<name>_{new,next,destroy}` that a BPF
//! program calls in a loop (`bpf_for_each(<name>, ...)`), with the iterator's state in the
//! program's stack.
//!
//! C header: [`include/linux/btf.h`](srctree/include/linux/btf.h)
//!
//! A type implements [`OpenIter`]; [`bpf_open_iter!`] makes its three `extern "C"` functions
//! and the record from which the build generates the C kfuncs around them (pahole makes no BTF
//! of Rust functions), the `struct bpf_iter_<name>` of the state's size, and the module's one
//! kfunc set (`scripts/rust_bpf_iter_btf.py`). [`register_kfuncs`] registers that set, after
//! checking that each kfunc's name leads to this module's function. The same type may also be
//! a seq_file [`Target`](super::Target): [`module_bpf_iter_target!`] takes both lists.
//!
//! What the verifier guarantees, and the framework relies on (6.12's `verifier.c`,
//! `process_iter_arg()`, `process_iter_next_call()`): `new` gets slots that hold no iterator;
//! `next` and `destroy` get slots that `new` initialized and that nothing else wrote since (the
//! program cannot read them; a write makes them plain stack, and `next` and `destroy` are then
//! refused); `destroy` is called at most once. Each path of the program that ends calls it (a
//! leaked iterator is an unreleased reference, refused at load), but a tail call from a
//! subprogram ends the program without it: the state is then forgotten, not dropped, so a
//! state's `Drop` must not be needed for soundness (a leak is safe).
//! What the verifier assumes, and the framework therefore enforces: once `next` returned NULL it
//! returns NULL for ever (the verifier treats the result of a drained iterator as zero), and a
//! failed `new` leaves an iterator whose `next` returns NULL. The framework also bounds every
//! walk ([`OpenIter::MAX_ITEMS`]), so that a `next` that never ends cannot hold a program in
//! its loop for ever.
//!
//! [`bpf_open_iter!`]: crate::bpf_open_iter
//! [`module_bpf_iter_target!`]: crate::module_bpf_iter_target

use super::{name_is_valid, records::put, BtfInt, ScalarType, MAX_NAME_LEN};
use crate::{
    bindings,
    bpf::compat,
    error::{code::*, Result},
    ffi::{c_char, c_int, c_void},
    prelude::*,
    str::CStr,
    ThisModule,
};
use core::{
    marker::PhantomData,
    mem::{align_of, size_of, MaybeUninit},
    ptr,
    sync::atomic::{AtomicBool, Ordering},
};

/// The most bytes an iterator's state may take in the program's stack (512 bytes in all).
pub const MAX_STATE_SIZE: usize = 64;

/// The most arguments of `new` after the iterator (a kfunc takes at most five).
pub const MAX_NEW_ARGS: usize = 4;

/// `BPF_MAX_LOOPS`: the most iterations the kernel's own open-coded loops allow.
pub const BPF_MAX_LOOPS: u32 = 8 * 1024 * 1024;

/// In which contexts an iterator's functions may run, which sets its kfunc flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// Any program may use the iterator, in any context the program runs in: process, softirq,
    /// hardirq (a `tp_btf` program). Its code, the state's `Drop` included, must not sleep and
    /// may allocate with `GFP_ATOMIC` only. In NMI (a `perf_event` program) `new` fails with
    /// `EOPNOTSUPP` and none of its code runs. No flag.
    Plain,
    /// As [`Protection::Plain`], and the program must be in an RCU read-side critical section
    /// from `new` to `destroy`: non-sleepable programs always are, sleepable ones between
    /// `bpf_rcu_read_lock()` and `bpf_rcu_read_unlock()` (`KF_RCU_PROTECTED`; the verifier
    /// refuses `next` and `destroy` of such an iterator after the unlock).
    Rcu,
    /// Only sleepable programs may use the iterator (`KF_SLEEPABLE`), so its code may sleep and
    /// allocate with `GFP_KERNEL`.
    Sleepable,
}

impl Protection {
    const fn code(self) -> u8 {
        match self {
            Protection::Plain => 0,
            Protection::Rcu => 1,
            Protection::Sleepable => 2,
        }
    }
}

/// The type of an argument of `new` after the iterator: an integer, given by the program as
/// the C type [`BtfField::C_TYPE`](super::BtfField::C_TYPE).
pub trait NewArg: ScalarType + BtfInt {}

impl<T: ScalarType + BtfInt> NewArg for T {}

/// The arguments of `new` after the iterator: `()` or a tuple of up to [`MAX_NEW_ARGS`]
/// [`NewArg`]s.
pub trait NewArgs: Sized + private::Sealed {
    /// The C type of each argument.
    const C_TYPES: &'static [&'static str];
    /// The arguments, from what the C kfunc passed on (each widened to 64 bits as its C type
    /// converts to `u64`).
    fn from_raw(raw: [u64; MAX_NEW_ARGS]) -> Self;
}

mod private {
    pub trait Sealed {}
}

impl private::Sealed for () {}
impl NewArgs for () {
    const C_TYPES: &'static [&'static str] = &[];
    fn from_raw(_raw: [u64; MAX_NEW_ARGS]) -> Self {}
}

macro_rules! new_args {
    ($(($($a:ident $i:tt),+)),+) => {$(
        impl<$($a: NewArg),+> private::Sealed for ($($a,)+) {}
        impl<$($a: NewArg),+> NewArgs for ($($a,)+) {
            const C_TYPES: &'static [&'static str] = &[$(<$a as super::BtfField>::C_TYPE),+];
            fn from_raw(raw: [u64; MAX_NEW_ARGS]) -> Self {
                ($(<$a as ScalarType>::from_slot(raw[$i]),)+)
            }
        }
    )+};
}
new_args!((A 0), (A 0, B 1), (A 0, B 1, C 2), (A 0, B 1, C 2, D 3));

/// What `next` yields, and how the kfunc returns it.
///
/// # Safety
///
/// [`Yield::C_RET`] is the C return type of `next`, and [`Yield::ret`] returns a pointer that is
/// valid as that type for as long as the verifier lets the program use it: a pointer to a
/// scalar lives until `destroy` (the verifier drops it there), so it must point into the
/// iterator's state, never to memory that a later `next` may free.
pub unsafe trait Yield: Sized {
    /// Where the value lives in the iterator's state between `next` and `destroy`.
    type Slot;
    /// The C type that `next` returns a pointer to.
    const C_RET: &'static str;
    /// Stores the value in `slot` if need be and returns the pointer `next` returns.
    fn ret(self, slot: &mut MaybeUninit<Self::Slot>) -> *mut c_void;
}

// SAFETY: The value is written to the slot in the iterator's state, which lives in the program's
// stack until `destroy`; the pointer to it is the `T *` the kfunc returns (the verifier lets the
// program read `sizeof(T)` bytes through it, and not write them, until `destroy`).
unsafe impl<T: BtfInt + ScalarType> Yield for T {
    type Slot = T;
    const C_RET: &'static str = <T as super::BtfField>::C_TYPE;
    #[inline]
    fn ret(self, slot: &mut MaybeUninit<T>) -> *mut c_void {
        ptr::from_mut(slot.write(self)).cast()
    }
}

/// An open-coded BPF iterator.
///
/// A program walks it with the kfuncs `bpf_iter_<NAME>_new(&it, args...)`,
/// `bpf_iter_<NAME>_next(&it)` and `bpf_iter_<NAME>_destroy(&it)`; `bpf_for_each(<NAME>, p,
/// args...)` does all three. [`OpenIter::new`] makes the state, [`OpenIter::next`] yields each
/// item, and the state's [`Drop`] is `destroy`.
///
/// Which context calls what: all three run in the program, in one task, one after another,
/// in the contexts [`OpenIter::PROTECTION`] allows (never in NMI). The state lives in the
/// program's stack, in slots the program cannot read, from `new` to `destroy`, which the
/// verifier makes every path that ends call (a tail call from a subprogram forgets the state
/// instead: a leak). Between two calls the program runs, and with [`Protection::Sleepable`] it
/// may sleep: the state is [`Send`], which keeps guards (spinlock, RCU) out of it, though all
/// three calls are in one task.
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::{OpenIter, Protection};
/// use kernel::c_str;
/// use kernel::prelude::*;
///
/// /// `bpf_for_each(countdown, v, 3)` yields 3, 2, 1.
/// struct Countdown;
///
/// impl OpenIter for Countdown {
///     const NAME: &'static CStr = c_str!("countdown");
///     const PROTECTION: Protection = Protection::Plain;
///     type Args = (u32,);
///     type State = u32;
///     type Item = u32;
///
///     fn new((from,): (u32,)) -> Result<u32> {
///         Ok(from)
///     }
///
///     fn next(left: &mut u32) -> Option<u32> {
///         let v = *left;
///         *left = left.checked_sub(1)?;
///         (v > 0).then_some(v)
///     }
/// }
/// ```
pub trait OpenIter: 'static {
    /// The iterator's name: the kfuncs are `bpf_iter_<NAME>_new`, `_next` and `_destroy`, the
    /// state `struct bpf_iter_<NAME>`. Checked at compile time with
    /// [`name_is_valid`](super::name_is_valid), and at registration against every other kfunc
    /// name of the kernel ([`register_kfuncs`]). A type that is also a
    /// [`Target`](super::Target) usually gives both the same name.
    const NAME: &'static CStr;

    /// Where the functions may run; sets the kfunc flags.
    const PROTECTION: Protection;

    /// The most items one walk yields: `next` returns NULL after that many, whatever
    /// [`OpenIter::next`] would say. `1..=`[`BPF_MAX_LOOPS`].
    const MAX_ITEMS: u32 = BPF_MAX_LOOPS;

    /// The names of `new`'s arguments after the iterator, as C shows them (`bpftool btf dump`);
    /// `argN` if empty. Checked at compile time: one per argument, C identifiers without `__`
    /// (the verifier gives meaning to suffixes such as `__sz` and `__k`).
    const ARG_NAMES: &'static [&'static str] = &[];

    /// The arguments of `new` after the iterator.
    type Args: NewArgs;

    /// The iterator's state, from `new` to `destroy` (its `Drop`). At most [`MAX_STATE_SIZE`]
    /// bytes with the framework's own (checked at compile time), aligned to at most 8.
    type State: Send;

    /// What `next` yields: an integer, which the program reads through the pointer `next`
    /// returns until `destroy`.
    type Item: Yield;

    /// Makes the state. On error, `new` returns the error code to the program and `next`
    /// returns NULL; the program must still call `destroy`.
    fn new(args: Self::Args) -> Result<Self::State>;

    /// Yields the next item, or `None` at the end: `next` then returns NULL, and does so for
    /// ever after without calling this again.
    fn next(state: &mut Self::State) -> Option<Self::Item>;
}

/// The iterator's slots in the program's stack: `struct bpf_iter_<NAME>`.
#[repr(C, align(8))]
struct Raw<T: OpenIter> {
    /// Items `next` may still yield: [`OpenIter::MAX_ITEMS`] after `new`, 0 once the walk has
    /// ended (or `new` failed).
    budget: u32,
    /// The last item, which `next`'s pointer points to.
    slot: MaybeUninit<<T::Item as Yield>::Slot>,
    /// `None` if `new` failed.
    state: Option<T::State>,
}

/// The `extern "C"` functions behind an [`OpenIter`]'s kfuncs (called through the C kfuncs that
/// the build generates, see [`bpf_open_iter!`](crate::bpf_open_iter)).
#[doc(hidden)]
pub struct OpenAdapter<T: OpenIter>(PhantomData<T>);

impl<T: OpenIter> OpenAdapter<T> {
    /// The size of the state in 8-byte words, checked at compile time (the generated C struct
    /// `bpf_iter_<NAME>` has this many `__u64`).
    pub const WORDS: usize = {
        assert!(
            name_is_valid(compat::cstr_bytes(T::NAME)),
            "OpenIter::NAME must be 1 to 48 bytes of [A-Za-z0-9_], not starting with a digit"
        );
        assert!(
            align_of::<Raw<T>>() == 8,
            "an open iterator's state must be aligned to at most 8 bytes"
        );
        assert!(
            size_of::<Raw<T>>() <= MAX_STATE_SIZE,
            "an open iterator's state is too large for the BPF stack (MAX_STATE_SIZE)"
        );
        assert!(
            T::MAX_ITEMS > 0 && T::MAX_ITEMS <= BPF_MAX_LOOPS,
            "OpenIter::MAX_ITEMS must be 1..=BPF_MAX_LOOPS"
        );
        assert!(
            T::Args::C_TYPES.len() <= MAX_NEW_ARGS,
            "new takes at most four arguments"
        );
        assert!(
            T::ARG_NAMES.is_empty() || T::ARG_NAMES.len() == T::Args::C_TYPES.len(),
            "OpenIter::ARG_NAMES must name every argument of new, or none"
        );
        let mut i = 0;
        while i < T::ARG_NAMES.len() {
            assert!(
                arg_name_is_valid(T::ARG_NAMES[i].as_bytes()),
                "an argument name must be a C identifier of at most 31 bytes, without `__`"
            );
            i += 1;
        }
        size_of::<Raw<T>>() / 8
    };

    /// `bpf_iter_<NAME>_new`.
    ///
    /// In NMI context (`nmi` non-zero: a `perf_event` program, or a tracing one on a path of
    /// NMI code) no code of the iterator's runs, [`OpenIter::new`] nor the state's `Drop`: the
    /// iterator is made empty and `new` returns `EOPNOTSUPP`. Safe code may allocate and free
    /// (with `GFP_ATOMIC` in any other context), which the allocators do not allow in NMI.
    ///
    /// # Safety
    ///
    /// Only called by the generated C kfunc `bpf_iter_<NAME>_new`, with the slots the verifier
    /// gave it (`size_of::<Raw<T>>()` bytes, aligned to 8, holding no iterator), `in_nmi()` and
    /// its arguments widened to `u64`.
    #[inline]
    pub unsafe fn kfunc_new(it: *mut c_void, nmi: u64, raw: [u64; MAX_NEW_ARGS]) -> c_int {
        let _ = Self::WORDS;
        let (state, ret) = if nmi != 0 {
            (None, -(bindings::EOPNOTSUPP as c_int))
        } else {
            match T::new(T::Args::from_raw(raw)) {
                Ok(s) => (Some(s), 0),
                Err(e) => (None, e.to_errno()),
            }
        };
        let budget = if state.is_some() { T::MAX_ITEMS } else { 0 };
        // SAFETY: By the safety requirements `it` is valid for writes of a `Raw<T>` and holds
        // none (the verifier gives `new` only uninitialized slots), so nothing is overwritten
        // that needed a drop.
        unsafe {
            ptr::write(
                it.cast::<Raw<T>>(),
                Raw {
                    budget,
                    slot: MaybeUninit::uninit(),
                    state,
                },
            )
        };
        ret
    }

    /// `bpf_iter_<NAME>_next`.
    ///
    /// # Safety
    ///
    /// Only called by the generated C kfunc `bpf_iter_<NAME>_next`, with the slots of an
    /// iterator that `new` initialized and `destroy` has not dropped (the verifier checks it).
    #[inline]
    pub unsafe fn kfunc_next(it: *mut c_void) -> *mut c_void {
        // SAFETY: By the safety requirements `it` is a `Raw<T>` made by `new`, which only this
        // call uses while it runs (the program cannot touch the slots).
        let raw = unsafe { &mut *it.cast::<Raw<T>>() };
        if raw.budget == 0 {
            return ptr::null_mut();
        }
        let Some(state) = raw.state.as_mut() else {
            return ptr::null_mut();
        };
        match T::next(state) {
            Some(item) => {
                raw.budget -= 1;
                item.ret(&mut raw.slot)
            }
            None => {
                // The verifier takes a drained iterator's `next` to return NULL from now on.
                raw.budget = 0;
                ptr::null_mut()
            }
        }
    }

    /// `bpf_iter_<NAME>_destroy`.
    ///
    /// # Safety
    ///
    /// Only called by the generated C kfunc `bpf_iter_<NAME>_destroy`, with the slots of an
    /// iterator that `new` initialized and that no `destroy` dropped yet (the verifier checks
    /// it, and releases the slots after this call).
    #[inline]
    pub unsafe fn kfunc_destroy(it: *mut c_void) {
        // SAFETY: By the safety requirements `it` is a `Raw<T>` made by `new`, dropped here
        // once; the slot holds a `Copy` integer or nothing, which needs no drop.
        unsafe { ptr::drop_in_place(it.cast::<Raw<T>>()) };
    }
}

/// An argument name of `new`: a C identifier of at most 31 bytes without `__` (the verifier
/// reads suffixes such as `__sz`, `__k` and `__nullable` as annotations).
const fn arg_name_is_valid(name: &[u8]) -> bool {
    if name.len() >= 32 || !name_is_valid(name) {
        return false;
    }
    let mut i = 1;
    while i < name.len() {
        if name[i] == b'_' && name[i - 1] == b'_' {
            return false;
        }
        i += 1;
    }
    true
}

/// The size of an [`OpenRecord`].
const RECORD_SIZE: usize = super::LAYOUT_RECORD_SIZE;
const IDENT_LEN: usize = 32;
const CTYPE_LEN: usize = 32;

/// The description of an open iterator for the build, placed by [`bpf_open_iter!`] in the
/// object's `.rust_bpf_iter_layout` section beside the targets' records (and discarded from
/// vmlinux with them): `scripts/rust_bpf_iter_btf.py` generates from it the C kfuncs, the state
/// struct and the module's kfunc set.
///
/// Format ([`LAYOUT_RECORD_SIZE`](super::LAYOUT_RECORD_SIZE) bytes, little endian): `b"RBOI"`,
/// version 1, the number of arguments of `new`, the protection (0 plain, 1 RCU, 2 sleepable), a
/// zero byte; the name NUL-padded to 56 bytes; the Rust type's identifier (the functions are
/// `__rust_bpf_open_iter_<ident>_{new,next,destroy}`) NUL-padded to 32 bytes; the state's size
/// in 8-byte words as `u32`; the C type `next` returns a pointer to, NUL-padded to 32 bytes;
/// four zero bytes; then per argument its C type and name, NUL-padded to 32 bytes each.
///
/// [`bpf_open_iter!`]: crate::bpf_open_iter
#[repr(C, align(8))]
#[doc(hidden)]
pub struct OpenRecord([u8; RECORD_SIZE]);

impl OpenRecord {
    /// The record of `T`, whose Rust identifier is `ident`.
    ///
    /// # Safety
    ///
    /// The functions `__rust_bpf_open_iter_<ident>_{new,next,destroy}` are those that
    /// [`bpf_open_iter!`] makes for `T` (the generated kfuncs call them with `T`'s state size).
    pub const unsafe fn new<T: OpenIter>(ident: &str) -> Self {
        let words = OpenAdapter::<T>::WORDS;
        let types = T::Args::C_TYPES;
        let mut b = [0u8; RECORD_SIZE];
        put(&mut b, 0, b"RBOI", 5);
        b[4] = 1;
        b[5] = types.len() as u8;
        b[6] = T::PROTECTION.code();
        put(&mut b, 8, compat::cstr_bytes(T::NAME), MAX_NAME_LEN + 8);
        put(&mut b, 64, ident.as_bytes(), IDENT_LEN);
        put(&mut b, 96, &(words as u32).to_le_bytes(), 5);
        put(&mut b, 100, <T::Item as Yield>::C_RET.as_bytes(), CTYPE_LEN);
        let mut i = 0;
        while i < types.len() {
            let at = 136 + 64 * i;
            put(&mut b, at, types[i].as_bytes(), CTYPE_LEN);
            if T::ARG_NAMES.is_empty() {
                put(&mut b, at + 32, b"arg", IDENT_LEN);
                b[at + 35] = b'1' + i as u8;
            } else {
                put(&mut b, at + 32, T::ARG_NAMES[i].as_bytes(), IDENT_LEN);
            }
            i += 1;
        }
        OpenRecord(b)
    }
}

/// Makes the three `extern "C"` functions of an [`OpenIter`] and its record, from which the
/// build generates the C kfuncs that call them (see the module documentation).
/// [`module_bpf_iter_target!`](crate::module_bpf_iter_target) does it for its `open_iters`;
/// a module that registers by hand invokes it once per type, at the crate's root, and calls
/// [`register_kfuncs`] with [`bpf_kfunc_table!`](crate::bpf_kfunc_table).
#[macro_export]
macro_rules! bpf_open_iter {
    ($t:ident) => {
        const _: () = {
            #[used]
            #[link_section = ".rust_bpf_iter_layout"]
            // SAFETY: The functions of `$t` are made below, named after the same identifier.
            static RECORD: $crate::bpf::iter::OpenRecord = unsafe {
                $crate::bpf::iter::OpenRecord::new::<$t>(::core::stringify!($t))
            };
        };

        $crate::macros::paste! {
            /// # Safety
            ///
            /// Only called by the generated C kfunc `bpf_iter_<NAME>_new`.
            #[no_mangle]
            #[allow(non_snake_case)]
            unsafe extern "C" fn [<__rust_bpf_open_iter_ $t _new>](
                it: *mut $crate::ffi::c_void,
                nmi: u64,
                a0: u64,
                a1: u64,
                a2: u64,
                a3: u64,
            ) -> $crate::ffi::c_int {
                // SAFETY: Called by that kfunc only (the symbol is named for it), which passes
                // the verifier's slots and its arguments.
                unsafe { $crate::bpf::iter::OpenAdapter::<$t>::kfunc_new(it, nmi, [a0, a1, a2, a3]) }
            }

            /// # Safety
            ///
            /// Only called by the generated C kfunc `bpf_iter_<NAME>_next`.
            #[no_mangle]
            #[allow(non_snake_case)]
            unsafe extern "C" fn [<__rust_bpf_open_iter_ $t _next>](
                it: *mut $crate::ffi::c_void,
            ) -> *mut $crate::ffi::c_void {
                // SAFETY: Called by that kfunc only, with an iterator made by `new`.
                unsafe { $crate::bpf::iter::OpenAdapter::<$t>::kfunc_next(it) }
            }

            /// # Safety
            ///
            /// Only called by the generated C kfunc `bpf_iter_<NAME>_destroy`.
            #[no_mangle]
            #[allow(non_snake_case)]
            unsafe extern "C" fn [<__rust_bpf_open_iter_ $t _destroy>](
                it: *mut $crate::ffi::c_void,
            ) {
                // SAFETY: Called by that kfunc only, with an iterator made by `new`, once.
                unsafe { $crate::bpf::iter::OpenAdapter::<$t>::kfunc_destroy(it) }
            }
        }
    };
}

/// One kfunc of a [`KfuncTable`]: its name and address.
#[repr(C)]
struct Kfunc {
    name: *const c_char,
    addr: *const c_void,
}

/// The kfuncs of a module (or of a built-in object) as the build generated them
/// (`scripts/rust_bpf_iter_btf.py`): the `btf_kfunc_id_set` and each kfunc's name and address.
/// The C struct `__rust_bpf_kfuncs` of the generated file has this layout (`registered` is a
/// `_Bool` there, zero until registered, which Rust alone reads and writes).
#[repr(C)]
#[doc(hidden)]
pub struct KfuncTable {
    set: *const bindings::btf_kfunc_id_set,
    len: usize,
    /// Set by the first [`register_kfuncs`] of the table: the kernel takes one set per module.
    registered: AtomicBool,
    funcs: [Kfunc; 0],
}

/// The [`KfuncTable`] that the build generated for this object, for [`register_kfuncs`].
#[macro_export]
macro_rules! bpf_kfunc_table {
    () => {{
        extern "C" {
            static __rust_bpf_kfuncs: $crate::bpf::iter::KfuncTable;
        }
        // SAFETY: `__rust_bpf_kfuncs` is defined, with `KfuncTable`'s layout, by the C file
        // that the build generates from this object's records (`X.btf.c`), which the module
        // links in; it lives as long as the module. Only its address is taken here.
        unsafe {
            $crate::bpf::iter::KfuncTable::from_static(::core::ptr::addr_of!(__rust_bpf_kfuncs))
        }
    }};
}

/// A [`KfuncTable`] that is known to be one the build generated.
///
/// # Invariants
///
/// The pointer is the address of a generated `__rust_bpf_kfuncs` (see
/// [`KfuncTable::from_static`]), whose provenance covers its `len` trailing entries.
#[derive(Clone, Copy)]
pub struct Kfuncs(*const KfuncTable);

impl KfuncTable {
    /// # Safety
    ///
    /// `table` is the address of the `__rust_bpf_kfuncs` of a C file generated by
    /// `scripts/rust_bpf_iter_btf.py` (taken without a reference, so that it covers the whole C
    /// object), which lives for as long as the caller's module: `len` entries follow it, with
    /// NUL-terminated names and function addresses, `set` is its kfunc set, and only
    /// [`register_kfuncs`] writes it (its flag).
    #[doc(hidden)]
    pub const unsafe fn from_static(table: *const KfuncTable) -> Kfuncs {
        // INVARIANT: By the safety requirements.
        Kfuncs(table)
    }
}

/// Registers the kfuncs that the build generated for `module` (its open iterators'), with every
/// program type, from `init`: the kernel publishes a module's kfunc set without a lock, before
/// programs may use the module (`EINVAL` once `module` is live). A module has one kfunc set (the
/// kernel refuses a second one on a program type, and then frees the module's sets: `EBUSY` if
/// the table was registered before), kept until the module is unloaded, so call this after
/// everything in `init` that may fail.
///
/// The kernel finds a kfunc's code by its name, in vmlinux first, then in the modules, the
/// newest first (`kallsyms_lookup_name()`). A name that vmlinux or another loaded module has
/// too would send programs verified against one BTF to the other's code: `EEXIST` (logged).
/// What this cannot see is a module loaded later with such a symbol and no such check, which
/// would shadow this module's kfuncs for programs loaded after it.
pub fn register_kfuncs(module: &'static ThisModule, kfuncs: Kfuncs) -> Result {
    let m = module.as_ptr();
    // SAFETY: A non-NULL `THIS_MODULE` is the calling module's, which is loaded.
    if !m.is_null() && unsafe { (*m).state } != bindings::module_state_MODULE_STATE_COMING {
        return Err(EINVAL);
    }
    let table = kfuncs.0;
    // SAFETY: By the type invariant `table` is a live generated table; `registered` is within
    // the Rust view of it, and atomic.
    let registered = unsafe { &(*table).registered };
    if registered.swap(true, Ordering::AcqRel) {
        return Err(EBUSY);
    }
    // SAFETY: As above; this call holds the flag.
    unsafe { register_table(table) }.inspect_err(|_| registered.store(false, Ordering::Release))
}

/// A symbol search of [`register_table`]: the kfuncs' names and addresses, and the first other
/// symbol found with one of those names.
struct Search<'a> {
    funcs: &'a [Kfunc],
    clash: Option<usize>,
}

impl Search<'_> {
    /// Notes `addr` if it has `name`, one of the kfuncs' names, and is not that kfunc: whether to
    /// stop.
    fn see(&mut self, name: &CStr, addr: usize) -> bool {
        for (i, f) in self.funcs.iter().enumerate() {
            // SAFETY: `f.name` is a NUL-terminated string of the generated table.
            let fname = unsafe { CStr::from_char_ptr(f.name) };
            if compat::cstr_bytes(fname) == compat::cstr_bytes(name) && f.addr as usize != addr {
                self.clash = Some(i);
                return true;
            }
        }
        false
    }
}

/// `module_kallsyms_on_each_symbol()`'s callback.
///
/// # Safety
///
/// `data` is a `Search`, used by nothing else during the call; `name` is a C string.
unsafe extern "C" fn module_symbol(
    data: *mut c_void,
    name: *const c_char,
    addr: crate::ffi::c_ulong,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (search, name) = unsafe { (&mut *data.cast::<Search<'_>>(), CStr::from_char_ptr(name)) };
    c_int::from(search.see(name, addr))
}

/// `kallsyms_on_each_match_symbol()`'s callback: a symbol of vmlinux with the name searched for.
///
/// # Safety
///
/// `data` is a `(Search, index)`: the search and the kfunc whose name is searched for, used by
/// nothing else during the call.
unsafe extern "C" fn vmlinux_symbol(data: *mut c_void, addr: crate::ffi::c_ulong) -> c_int {
    // SAFETY: By the safety requirements.
    let (search, i) = unsafe { &mut *data.cast::<(Search<'_>, usize)>() };
    if search.funcs[*i].addr as usize != addr {
        search.clash = Some(*i);
        return 1;
    }
    0
}

/// The checks and the registration of [`register_kfuncs`].
///
/// # Safety
///
/// `table` is as the invariant of [`Kfuncs`] says, and the caller holds its flag.
unsafe fn register_table(table: *const KfuncTable) -> Result {
    // SAFETY: By the safety requirements `len` entries follow the table, within the provenance
    // of `table`; nothing writes them.
    let funcs = unsafe {
        core::slice::from_raw_parts(ptr::addr_of!((*table).funcs).cast::<Kfunc>(), (*table).len)
    };
    // Every symbol of vmlinux with a kfunc's name (built-in code: other than the kfunc), then
    // every other symbol of a loaded module with one.
    let mut search = Search { funcs, clash: None };
    for (i, f) in funcs.iter().enumerate() {
        let mut one = (search, i);
        // SAFETY: `one` is what `vmlinux_symbol` expects, and lives across the call; the name
        // is a C string.
        unsafe {
            bindings::kallsyms_on_each_match_symbol(
                Some(vmlinux_symbol),
                f.name,
                ptr::from_mut(&mut one).cast(),
            )
        };
        search = one.0;
        if search.clash.is_some() {
            break;
        }
    }
    if search.clash.is_none() {
        // SAFETY: `search` is what `module_symbol` expects, and lives across the call. Without
        // modules (or kallsyms) this returns `EOPNOTSUPP`, and there is nothing to search.
        unsafe {
            bindings::module_kallsyms_on_each_symbol(
                ptr::null(),
                Some(module_symbol),
                ptr::from_mut(&mut search).cast(),
            )
        };
    }
    if let Some(i) = search.clash {
        // SAFETY: `name` is a NUL-terminated string of the generated table.
        let name = unsafe { CStr::from_char_ptr(funcs[i].name) };
        pr_err!(
            "bpf: kfunc {}: the name is taken by other code (vmlinux or another module), \
             which programs calling it would reach\n",
            name.to_str().unwrap_or("<not UTF-8>")
        );
        return Err(EEXIST);
    }
    // SAFETY: `set` is the generated kfunc set, constant and as long-lived as its module, whose
    // BTF ids `resolve_btfids` filled in.
    crate::error::to_result(unsafe {
        bindings::register_btf_kfunc_id_set(
            bindings::bpf_prog_type_BPF_PROG_TYPE_UNSPEC,
            (*table).set,
        )
    })
}
