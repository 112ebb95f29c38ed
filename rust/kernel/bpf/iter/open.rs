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

use super::{name_is_valid, records::put, BtfType, ScalarType, MAX_NAME_LEN};
use crate::{
    bindings,
    bpf::compat,
    error::{code::*, Result},
    ffi::{c_char, c_int, c_void},
    prelude::*,
    str::CStr,
    sync::{aref::ARef, rcu},
    task::Task,
    types::ForeignOwnable,
    ThisModule,
};
use core::{
    marker::PhantomData,
    mem::{align_of, size_of, MaybeUninit},
    ptr::{self, NonNull},
    sync::atomic::{AtomicBool, AtomicPtr, Ordering},
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

/// A C type of a kfunc's argument or of what `next` returns a pointer to.
#[derive(Clone, Copy, Debug)]
pub enum CType {
    /// An integer: its C type (`__u32`).
    Int(&'static str),
    /// A struct: its name without `struct`, and the header that defines it (empty for a
    /// target's own structs, which the generated C file defines).
    Struct(&'static CStr, &'static str),
}

/// The type of an argument of `new` after the iterator.
///
/// Integers ([`ScalarType`]s), and tasks: [`ARef<Task>`] for a `struct task_struct *` that the
/// program must pass, `Option<ARef<Task>>` for one it may pass as NULL (`__nullable`). The
/// verifier accepts only a pointer that is referenced or trusted (`KF_TRUSTED_ARGS`), which
/// keeps the object's memory valid for the call, but not always its count above zero (a hook
/// on an object being freed gets a trusted pointer to it): the framework takes a reference only
/// if the count is not zero, and `new` fails with `ESRCH` otherwise, without calling
/// [`OpenIter::new`].
///
/// # Safety
///
/// [`NewArg::from_raw`] makes a valid `Self` from any value the verifier lets a program pass
/// for an argument of C type [`NewArg::C_TYPE`] (NULL too, unless [`NewArg::NULLABLE`]: refused
/// by the verifier, refused again by `from_raw`).
pub unsafe trait NewArg: Sized {
    /// The argument's C type: the integer's, or the object's struct (the kfunc takes a pointer).
    const C_TYPE: CType;
    /// Whether the program may pass NULL (the C parameter's name ends in `__nullable`).
    const NULLABLE: bool = false;
    /// The argument, from what the C kfunc passed on (widened to `u64` as C converts it).
    ///
    /// # Safety
    ///
    /// `raw` is what the verifier let the program pass, during this call: for an object, NULL or
    /// a pointer to an object whose memory is valid for the call.
    unsafe fn from_raw(raw: u64) -> Result<Self>;
}

macro_rules! int_new_args {
    ($($t:ty),*) => {$(
        // SAFETY: Every `u64` converts to a `$t`.
        unsafe impl NewArg for $t {
            const C_TYPE: CType = CType::Int(<$t as super::BtfField>::C_TYPE);
            #[inline]
            unsafe fn from_raw(raw: u64) -> Result<Self> {
                Ok(<$t as ScalarType>::from_slot(raw))
            }
        }
    )*};
}
int_new_args!(u8, u16, u32, u64, i8, i16, i32, i64);

// SAFETY: A non-NULL pointer is to a task whose memory is valid for the call (the safety
// requirements); `tryget_task_struct` takes a reference on it unless its count is zero, and
// only then does an `ARef` (and a `&Task`, which promises a live count) exist. NULL is refused.
unsafe impl NewArg for ARef<Task> {
    const C_TYPE: CType = CType::Struct(<Task as BtfType>::NAME, <Task as BtfType>::C_HEADER);
    #[inline]
    unsafe fn from_raw(raw: u64) -> Result<Self> {
        let p = raw as usize as *mut bindings::task_struct;
        if p.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: `p` points to a task whose memory is valid for the call.
        let t = NonNull::new(unsafe { bindings::tryget_task_struct(p) }).ok_or(ESRCH)?;
        // SAFETY: `tryget_task_struct` took a reference on the task for us, which the `ARef`
        // owns. CAST: `Task` is a transparent wrapper of `struct task_struct`.
        Ok(unsafe { ARef::from_raw(t.cast::<Task>()) })
    }
}

// SAFETY: As for `ARef<Task>`, with NULL as `None`.
unsafe impl NewArg for Option<ARef<Task>> {
    const C_TYPE: CType = <ARef<Task> as NewArg>::C_TYPE;
    const NULLABLE: bool = true;
    #[inline]
    unsafe fn from_raw(raw: u64) -> Result<Self> {
        if raw == 0 {
            return Ok(None);
        }
        // SAFETY: By the safety requirements, which are `ARef<Task>`'s.
        Ok(Some(unsafe { <ARef<Task> as NewArg>::from_raw(raw) }?))
    }
}

/// An argument of `new` as the build records it.
#[derive(Clone, Copy, Debug)]
pub struct ArgDesc {
    /// [`NewArg::C_TYPE`].
    pub ty: CType,
    /// [`NewArg::NULLABLE`].
    pub nullable: bool,
}

/// The arguments of `new` after the iterator: `()` or a tuple of up to [`MAX_NEW_ARGS`]
/// [`NewArg`]s.
pub trait NewArgs: Sized + private::Sealed {
    /// Each argument.
    const DESCS: &'static [ArgDesc];
    /// The arguments, from what the C kfunc passed on.
    ///
    /// # Safety
    ///
    /// As for [`NewArg::from_raw`], for each argument (the unused ones are zero).
    unsafe fn from_raw(raw: [u64; MAX_NEW_ARGS]) -> Result<Self>;
}

mod private {
    pub trait Sealed {}
}

impl private::Sealed for () {}
impl NewArgs for () {
    const DESCS: &'static [ArgDesc] = &[];
    unsafe fn from_raw(_raw: [u64; MAX_NEW_ARGS]) -> Result<Self> {
        Ok(())
    }
}

macro_rules! new_args {
    ($(($($a:ident $i:tt),+)),+) => {$(
        impl<$($a: NewArg),+> private::Sealed for ($($a,)+) {}
        impl<$($a: NewArg),+> NewArgs for ($($a,)+) {
            const DESCS: &'static [ArgDesc] =
                &[$(ArgDesc { ty: <$a as NewArg>::C_TYPE, nullable: <$a as NewArg>::NULLABLE }),+];
            unsafe fn from_raw(raw: [u64; MAX_NEW_ARGS]) -> Result<Self> {
                // SAFETY: By the safety requirements, for each argument.
                Ok(($(unsafe { <$a as NewArg>::from_raw(raw[$i]) }?,)+))
            }
        }
    )+};
}
new_args!((A 0), (A 0, B 1), (A 0, B 1, C 2), (A 0, B 1, C 2, D 3));

/// What `next` yields, and how the kfunc returns it.
///
/// An integer is kept in the iterator's state, and `next` returns a pointer to it, which the
/// verifier lets the program read until `destroy` (a `T *` that carries the iterator's
/// reference). A kernel object `&'r O` is returned as the `struct O *` it is, which the verifier
/// lets the program use after `destroy` too: until the end of the program, or with
/// [`Protection::Rcu`] until the end of its RCU read-side critical section (`MEM_RCU`). `'r` is
/// the lifetime that [`Scope`] gives, which lasts that long: only [`Scope::rcu`] gives objects
/// of that lifetime, and everything else a walk may borrow from is shorter (its state) or
/// `'static`.
///
/// # Safety
///
/// [`Yield::C_RET`] is the C type `next` returns a pointer to, and [`Yield::ret`] returns a
/// pointer that is valid as that type for as long as the verifier lets the program use it, as
/// above: a scalar's must point into the state (in `slot`), never to memory that a later
/// `next` may free; an object's must be valid for `'r`.
pub unsafe trait Yield: Sized {
    /// Where the value lives in the iterator's state between `next` and `destroy` (`()` for an
    /// object). Its layout does not depend on lifetimes.
    type Slot: 'static;
    /// The C type that `next` returns a pointer to.
    const C_RET: CType;
    /// Stores the value in `slot` if need be and returns the pointer `next` returns.
    fn ret(self, slot: &mut MaybeUninit<Self::Slot>) -> *mut c_void;
}

macro_rules! int_yields {
    ($($t:ty),*) => {$(
        // SAFETY: The value is written to the slot in the iterator's state, which lives in the
        // program's stack until `destroy`; the pointer to it is the `T *` the kfunc returns (the
        // verifier lets the program read `sizeof(T)` bytes through it, and not write them,
        // until `destroy`).
        unsafe impl Yield for $t {
            type Slot = $t;
            const C_RET: CType = CType::Int(<$t as super::BtfField>::C_TYPE);
            #[inline]
            fn ret(self, slot: &mut MaybeUninit<$t>) -> *mut c_void {
                ptr::from_mut(slot.write(self)).cast()
            }
        }
    )*};
}
int_yields!(u8, u16, u32, u64, i8, i16, i32, i64);

// SAFETY: `O` is the Rust view of `struct O::NAME` (`BtfType`), so the reference is a valid
// `struct O *`, for `'r`: the time the verifier lets the program use it (see the trait).
unsafe impl<'r, O: BtfType> Yield for &'r O {
    type Slot = ();
    const C_RET: CType = CType::Struct(O::NAME, O::C_HEADER);
    #[inline]
    fn ret(self, _slot: &mut MaybeUninit<()>) -> *mut c_void {
        ptr::from_ref(self).cast_mut().cast()
    }
}

/// The walk that `new`, `next` and the state's `Drop` are part of, from `new` to `destroy`:
/// what the state and the items may borrow for `'r`.
///
/// With [`Protection::Rcu`] the program is in one RCU read-side critical section from before
/// `new` to after `destroy` (the verifier refuses `next` and `destroy` after an unlock), so the
/// walk may use objects that RCU keeps alive, for `'r`: [`Scope::rcu`]. Otherwise it gives
/// nothing, and all a walk may keep for `'r` is its own state and `'static` data.
pub struct Scope<'r, T: ?Sized> {
    // `&'r rcu::Guard`: not `Send` (nor is a reference to a guard), so no state keeps a scope.
    _rcu: PhantomData<&'r rcu::Guard>,
    // Invariant in `T`: a scope of one iterator type is never one of another (a supertype),
    // whose protection `Scope::rcu` would check instead.
    _t: PhantomData<*mut T>,
}

impl<T: ?Sized> Clone for Scope<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Scope<'_, T> {}

// `rcu::Guard` only says that the RCU read lock is held while it lives: no bytes.
const _: () = assert!(size_of::<rcu::Guard>() == 0);

/// `Scope::rcu` only for [`Protection::Rcu`].
struct RcuOnly<T: ?Sized>(PhantomData<T>);

impl<T: OpenIter + ?Sized> RcuOnly<T> {
    const CHECK: () = assert!(
        matches!(T::PROTECTION, Protection::Rcu),
        "Scope::rcu() is for iterators of Protection::Rcu only"
    );
}

impl<'r, T: OpenIter + ?Sized> Scope<'r, T> {
    /// Made by the kfuncs only, and passed to `T`'s methods, which are generic over `'r`: what
    /// they can do with the scope is the same for every `'r`, and only the kfuncs, which
    /// keep the state and the items within the walk, see the lifetime they stand for it.
    fn new() -> Self {
        Scope {
            _rcu: PhantomData,
            _t: PhantomData,
        }
    }

    /// The program's RCU read-side critical section, which lasts for the whole walk and beyond:
    /// lookups under it ([`PidNamespace::find_task`], [`Task::next_thread`],
    /// [`ProcessCursor`]) give objects that live for `'r`, which the state may keep and `next`
    /// may yield. Only for [`Protection::Rcu`] (a build error otherwise).
    ///
    /// [`PidNamespace::find_task`]: crate::pid_namespace::PidNamespace::find_task
    /// [`Task::next_thread`]: crate::task::Task::next_thread
    /// [`ProcessCursor`]: crate::pid_namespace::ProcessCursor
    #[inline]
    pub fn rcu(self) -> &'r rcu::Guard {
        let () = RcuOnly::<T>::CHECK;
        // SAFETY: `Guard` has no bytes (asserted above), so a dangling, aligned pointer is a
        // valid reference to one. What a guard means, that the RCU read lock is held while it
        // lives, holds for `'r`: with `Protection::Rcu` (checked above) the kfuncs are
        // `KF_RCU_PROTECTED`, and the verifier lets a program call `new` only in an RCU
        // read-side critical section (7.3) or refuses `next` and `destroy` after one that did
        // not (6.12, which marks such an iterator untrusted: as every path of a program must
        // call `destroy`, a program whose `new` ran outside a section does not load), and so a
        // program it loads runs the walk from `new` to `destroy`, and uses the items, within one
        // section. No guard is dropped for it (a reference), so nothing unlocks.
        unsafe { NonNull::<rcu::Guard>::dangling().as_ref() }
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
/// use kernel::bpf::iter::{OpenIter, Protection, Scope};
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
///     type State<'r> = u32;
///     type Item<'r> = u32;
///
///     fn new<'r>(_: Scope<'r, Self>, (from,): (u32,)) -> Result<u32> {
///         Ok(from)
///     }
///
///     fn next<'r>(_: Scope<'r, Self>, left: &mut u32) -> Option<u32> {
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

    /// The iterator's state, from `new` to `destroy` (its `Drop`), which may borrow for the
    /// walk's [`Scope`] `'r`. At most [`MAX_STATE_SIZE`] bytes with the framework's own
    /// (checked at compile time), aligned to at most 8.
    type State<'r>: Send;

    /// What `next` yields ([`Yield`]): an integer, which the program reads through the pointer
    /// `next` returns until `destroy`, or a kernel object `&'r O` of the walk's [`Scope`].
    type Item<'r>: Yield;

    /// Makes the state. On error, `new` returns the error code to the program and `next`
    /// returns NULL; the program must still call `destroy`.
    fn new<'r>(scope: Scope<'r, Self>, args: Self::Args) -> Result<Self::State<'r>>;

    /// Yields the next item, or `None` at the end: `next` then returns NULL, and does so for
    /// ever after without calling this again.
    fn next<'r>(scope: Scope<'r, Self>, state: &mut Self::State<'r>) -> Option<Self::Item<'r>>;
}

/// The iterator's slots in the program's stack: `struct bpf_iter_<NAME>`.
///
/// # Invariants
///
/// `state` is `Some` while `budget` is not 0.
#[repr(C, align(8))]
struct Raw<T: OpenIter> {
    /// Items `next` may still yield: [`OpenIter::MAX_ITEMS`] after `new`, 0 once the walk has
    /// ended (or `new` failed).
    budget: u32,
    /// The last item, which `next`'s pointer points to.
    slot: MaybeUninit<<T::Item<'static> as Yield>::Slot>,
    /// `None` if `new` failed. Its lifetime is the walk's ([`Scope`]), for which `'static`
    /// stands here: `T`'s methods are generic over it, so they cannot tell, and only the kfuncs
    /// see the state and its items, within the walk.
    state: Option<T::State<'static>>,
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
        check_args(T::Args::DESCS, T::ARG_NAMES);
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
            // SAFETY: By the safety requirements the arguments are what the verifier let the
            // program pass.
            match unsafe { T::Args::from_raw(raw) }.and_then(|args| Self::make(args)) {
                Ok(s) => (Some(s), 0),
                Err(e) => (None, e.to_errno()),
            }
        };
        // INVARIANT: A budget only with a state.
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

    /// [`OpenIter::new`] in a walk, whose lifetime `'static` stands for (see [`Raw::state`]).
    #[inline]
    fn make(args: T::Args) -> Result<T::State<'static>> {
        T::new(Scope::new(), args)
    }

    /// [`OpenIter::next`] on the state of a walk, as in [`Self::make`].
    #[inline]
    fn step(
        state: &mut T::State<'static>,
        slot: &mut MaybeUninit<<T::Item<'static> as Yield>::Slot>,
    ) -> Option<*mut c_void> {
        T::next(Scope::new(), state).map(|item| item.ret(slot))
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
        let Some(budget) = raw.budget.checked_sub(1) else {
            return ptr::null_mut();
        };
        raw.budget = budget;
        let Some(state) = raw.state.as_mut() else {
            // SAFETY: `new` leaves a budget only with a state (the type invariant of `Raw`),
            // and only `destroy` drops the state.
            unsafe { core::hint::unreachable_unchecked() }
        };
        match Self::step(state, &mut raw.slot) {
            Some(ret) => ret,
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

/// Checks at compile time the arguments of a kfunc (an open iterator's `new`, or a
/// [`Kfunc`](super::Kfunc)) and their names: at most [`MAX_NEW_ARGS`], and each named, or none.
pub(super) const fn check_args(args: &[ArgDesc], names: &[&str]) {
    assert!(
        args.len() <= MAX_NEW_ARGS,
        "a kfunc takes at most four arguments (after an iterator)"
    );
    assert!(
        names.is_empty() || names.len() == args.len(),
        "ARG_NAMES must name every argument, or none"
    );
    let mut i = 0;
    while i < names.len() {
        assert!(
            arg_name_is_valid(names[i].as_bytes()),
            "an argument name must be a C identifier of at most 31 bytes, without `__`"
        );
        assert!(
            !args[i].nullable || names[i].len() <= 31 - NULLABLE.len(),
            "the name of an argument that may be NULL takes `__nullable`: 21 bytes at most"
        );
        i += 1;
    }
}

/// Writes the arguments of a kfunc into its record (an [`OpenRecord`] or a
/// [`KfuncRecord`](super::KfuncRecord)): from 136, per argument its C type and its C name
/// (`arg<i + 1>` if `names` is empty, `__nullable` appended for one that may be NULL), and at
/// `432 + 32 * i` the header of its type. The arguments passed [`check_args`].
pub(super) const fn put_args(b: &mut [u8; RECORD_SIZE], args: &[ArgDesc], names: &[&str]) {
    let mut i = 0;
    while i < args.len() {
        let at = 136 + 64 * i;
        put_ctype(b, at, 432 + 32 * i, args[i].ty, true);
        let name_len = if names.is_empty() {
            put(b, at + 32, b"arg", IDENT_LEN);
            b[at + 35] = b'1' + i as u8;
            4
        } else {
            put(b, at + 32, names[i].as_bytes(), IDENT_LEN);
            names[i].len()
        };
        if args[i].nullable {
            put(
                b,
                at + 32 + name_len,
                NULLABLE.as_bytes(),
                NULLABLE.len() + 1,
            );
        }
        i += 1;
    }
}

/// An argument name of a kfunc: a C identifier of at most 31 bytes without `__` (the verifier
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
/// The suffix of the name of an argument that may be NULL, which the verifier reads.
const NULLABLE: &str = "__nullable";

/// The description of an open iterator for the build, placed by [`bpf_open_iter!`] in the
/// object's `.rust_bpf_iter_layout` section beside the targets' records (and discarded from
/// vmlinux with them): `scripts/rust_bpf_iter_btf.py` generates from it the C kfuncs, the state
/// struct and the module's kfunc set.
///
/// Format ([`LAYOUT_RECORD_SIZE`](super::LAYOUT_RECORD_SIZE) bytes, little endian): `b"RBOI"`,
/// version 2, the number of arguments of `new`, the protection (0 plain, 1 RCU, 2 sleepable), a
/// zero byte; the name NUL-padded to 56 bytes; the Rust type's identifier (the functions are
/// `__rust_bpf_open_iter_<ident>_{new,next,destroy}`) NUL-padded to 32 bytes; the state's size
/// in 8-byte words as `u32`; the C type `next` returns a pointer to, NUL-padded to 32 bytes;
/// four zero bytes; then per argument its C type (`struct task_struct *` for an object) and
/// its C name (with `__nullable` if it may be NULL), NUL-padded to 32 bytes each. At 400, the
/// header that defines the type `next` returns, and at `432 + 32 * i` argument `i`'s, each
/// NUL-padded to 32 bytes (empty for integers and a target's own structs).
///
/// [`bpf_open_iter!`]: crate::bpf_open_iter
#[repr(C, align(8))]
#[doc(hidden)]
pub struct OpenRecord([u8; RECORD_SIZE]);

/// Writes `t` (`*` after a struct for a pointer) at `at`, and its header at `header`.
const fn put_ctype(b: &mut [u8; RECORD_SIZE], at: usize, header: usize, t: CType, ptr: bool) {
    match t {
        CType::Int(name) => put(b, at, name.as_bytes(), CTYPE_LEN),
        CType::Struct(name, h) => {
            let name = compat::cstr_bytes(name);
            assert!(
                name.len() + 9 < CTYPE_LEN && h.len() < CTYPE_LEN,
                "a struct's name or header is too long for an open iterator's record"
            );
            put(b, at, b"struct ", CTYPE_LEN);
            put(b, at + 7, name, CTYPE_LEN - 7);
            if ptr {
                put(b, at + 7 + name.len(), b" *", 3);
            }
            put(b, header, h.as_bytes(), CTYPE_LEN);
        }
    }
}

impl OpenRecord {
    /// The record of `T`, whose Rust identifier is `ident`.
    ///
    /// # Safety
    ///
    /// The functions `__rust_bpf_open_iter_<ident>_{new,next,destroy}` are those that
    /// [`bpf_open_iter!`] makes for `T` (the generated kfuncs call them with `T`'s state size).
    pub const unsafe fn new<T: OpenIter>(ident: &str) -> Self {
        let words = OpenAdapter::<T>::WORDS;
        let args = T::Args::DESCS;
        let mut b = [0u8; RECORD_SIZE];
        put(&mut b, 0, b"RBOI", 5);
        b[4] = 2;
        b[5] = args.len() as u8;
        b[6] = T::PROTECTION.code();
        put(&mut b, 8, compat::cstr_bytes(T::NAME), MAX_NAME_LEN + 8);
        put(&mut b, 64, ident.as_bytes(), IDENT_LEN);
        put(&mut b, 96, &(words as u32).to_le_bytes(), 5);
        put_ctype(&mut b, 100, 400, <T::Item<'static> as Yield>::C_RET, false);
        put_args(&mut b, args, T::ARG_NAMES);
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

/// What an open iterator's walks reach of their module: a collection of its own, say.
///
/// A kfunc is called with nothing of its registration (a target's callbacks get its
/// [`Target::Data`](super::Target::Data)), so a module's iterators find their data through a
/// `static` slot: [`OpenData::set`] from `init` fills it, and the [`OpenDataGuard`] it returns,
/// which the module keeps, empties it when dropped. [`OpenData::get`] gives the value's owned
/// form (an `Arc` clone for an `Arc`), which a walk keeps in its state: it lives as long as the
/// walk needs it, whatever the slot does meanwhile.
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::OpenData;
/// use kernel::sync::Arc;
/// use kernel::prelude::*;
///
/// static SLOT: OpenData<Arc<u32>> = OpenData::new();
///
/// assert!(SLOT.get().is_none());
/// let guard = SLOT.set(Arc::new(7, GFP_KERNEL)?)?;
/// assert_eq!(SLOT.set(Arc::new(8, GFP_KERNEL)?).err(), Some(EBUSY));
/// let held = SLOT.get().unwrap();
/// drop(guard);
/// assert!(SLOT.get().is_none());
/// // A walk's handle outlives the slot's value.
/// assert_eq!(*held, 7);
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// `ptr` is NULL, or came from [`ForeignOwnable::into_foreign`] of a `D` that only the
/// [`OpenDataGuard`] of this slot converts back, after emptying the slot and an RCU grace
/// period.
pub struct OpenData<D: ForeignOwnable + Send + Sync> {
    ptr: AtomicPtr<c_void>,
    _d: PhantomData<D>,
}

// SAFETY: The slot hands out `D`s (`get`, from any thread) and drops one (from the thread that
// drops the guard): `D` is `Send` and `Sync`.
unsafe impl<D: ForeignOwnable + Send + Sync> Sync for OpenData<D> {}

impl<D: ForeignOwnable + Send + Sync> Default for OpenData<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D: ForeignOwnable + Send + Sync> OpenData<D> {
    /// An empty slot.
    pub const fn new() -> Self {
        // INVARIANT: NULL.
        OpenData {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _d: PhantomData,
        }
    }

    /// Stores `data` until the returned guard is dropped; `EBUSY` (dropping `data`) if the slot
    /// holds a value already.
    pub fn set(&'static self, data: D) -> Result<OpenDataGuard<D>> {
        let p = compat::into_foreign(data);
        // INVARIANT: `p` comes from `into_foreign`, and only the guard returned converts it back.
        if self
            .ptr
            .compare_exchange(ptr::null_mut(), p, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // SAFETY: `p` came from `into_foreign` above and was not stored.
            drop(unsafe { D::from_foreign(p) });
            return Err(EBUSY);
        }
        Ok(OpenDataGuard { slot: self })
    }

    /// The value's owned form (an `Arc` clone), or `None` if the slot is empty. From any
    /// context but NMI (the kfuncs run none of an iterator's code there).
    pub fn get(&self) -> Option<D>
    where
        for<'a> D::Borrowed<'a>: Into<D>,
    {
        let _rcu = rcu::read_lock();
        let p = self.ptr.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: By the type invariant `p` came from `into_foreign`, and the guard converts it
        // back only an RCU grace period after emptying the slot: after this read section,
        // during which the borrow is turned into an owned value.
        Some(unsafe { D::borrow(p) }.into())
    }
}

/// Keeps an [`OpenData`] slot's value; dropping it empties the slot, waits for an RCU grace
/// period (so that no [`OpenData::get`] still borrows the value) and drops the value. Kept by
/// the module (dropped by its `Drop`), it outlives every program that may call the kfuncs
/// (they hold a reference on the module).
pub struct OpenDataGuard<D: ForeignOwnable + Send + Sync + 'static> {
    slot: &'static OpenData<D>,
}

impl<D: ForeignOwnable + Send + Sync> Drop for OpenDataGuard<D> {
    fn drop(&mut self) {
        let p = self.slot.ptr.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: Called from a context that may sleep (a guard is dropped where a module's
        // state is, never by the kfuncs).
        unsafe { bindings::synchronize_rcu() };
        if !p.is_null() {
            // SAFETY: By the type invariant of `OpenData`, `p` came from `into_foreign`; no
            // `get` borrows it any longer (a grace period has passed since the slot was
            // emptied), and only this guard converts it back.
            drop(unsafe { D::from_foreign(p) });
        }
    }
}

/// One kfunc of a [`KfuncTable`]: its name and address.
#[repr(C)]
struct KfuncEntry {
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
    funcs: [KfuncEntry; 0],
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

/// Registers the kfuncs that the build generated for `module` (its open iterators' and its own
/// [`Kfunc`](super::Kfunc)s), with every program type, from `init`: the kernel publishes a
/// module's kfunc set without a lock, before programs may use the module (`EINVAL` once `module`
/// is live). A module has one kfunc set per hook (the kernel refuses a second one on the common
/// hook, and then frees the module's sets: `EBUSY` if the table was registered before), kept
/// until the module is unloaded, so call this after everything in `init` that may fail.
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
    funcs: &'a [KfuncEntry],
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
        core::slice::from_raw_parts(
            ptr::addr_of!((*table).funcs).cast::<KfuncEntry>(),
            (*table).len,
        )
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
