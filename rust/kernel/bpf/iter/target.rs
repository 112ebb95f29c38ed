// SPDX-License-Identifier: GPL-2.0

//! The `Target` trait that a BPF iterator target implements, and what it is made of: the items
//! of a walk (`Holdable`, `Index`) and the registration's data lent to `Target::attach`
//! (`DataRef`).

use super::{Context, FuncProto, LinkInfoOut, Params, Prog, VerifyingProg};
use crate::{
    build_error,
    error::Result,
    prelude::*,
    seq_file::SeqFile,
    str::CStr,
    sync::{
        aref::{ARef, AlwaysRefCounted},
        Arc,
    },
    types::ForeignOwnable,
};

/// An index into something the iterator state holds (e.g. a slice it borrows), as an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Index(pub usize);

/// Types that a [`Target::Item`] may be: values the task reading an iterator holds from the
/// `start` or `next` that made them to the `next` or `stop` that consumes them (across program
/// runs and, with [`Target::RESCHED`], rescheduling between objects), and drops there.
///
/// Implemented for [`Index`], references (`ARef<T>`, `KBox<T>` and `Arc<T>` of thread-safe
/// `T`), the walks of an address space under its mmap read lock
/// ([`OwnedMmapReadGuard`](crate::mm::OwnedMmapReadGuard), [`VmaWalk`](crate::mm::VmaWalk)),
/// and tuples of these: a target with several values per object makes its item a tuple.
///
/// # Safety
///
/// Holding a value must not make the context atomic: no spinlock or RCU read-side guard,
/// disabled preemption or interrupts (the walk may sleep between objects). Dropping it in the
/// task that made it, later in the same system call, must be sound. Values that any task may
/// drop (`Send`) and that are no such guard qualify; so do guards of sleeping locks that must be
/// released by the task that took them (not `Send`): the framework never lets an item out of
/// the read that made it.
pub unsafe trait Holdable {}

// SAFETY: An integer.
unsafe impl Holdable for Index {}

// SAFETY: A reference count, which any task may drop (`T: Send + Sync`).
unsafe impl<T: AlwaysRefCounted + Send + Sync> Holdable for ARef<T> {}

// SAFETY: An allocation of a value that any task may drop (`T: Send`); no guard of an atomic
// context is `Send`.
unsafe impl<T: Send> Holdable for KBox<T> {}

// SAFETY: A reference count on a value that any task may use and drop.
unsafe impl<T: Send + Sync> Holdable for Arc<T> {}

// SAFETY: The mmap lock is a sleeping lock, which the reading task takes in `start` or `next`
// and releases when the item is dropped, in `next` or `stop` of the same read; the user
// reference may be dropped anywhere.
unsafe impl Holdable for crate::mm::OwnedMmapReadGuard {}

// SAFETY: An `OwnedMmapReadGuard` and a pointer to a mapping it keeps valid.
unsafe impl Holdable for crate::mm::VmaWalk {}

// SAFETY: Each element is `Holdable`.
unsafe impl<A: Holdable, B: Holdable> Holdable for (A, B) {}

// SAFETY: Each element is `Holdable`.
unsafe impl<A: Holdable, B: Holdable, C: Holdable> Holdable for (A, B, C) {}

/// What [`Target::attach`] gets of the registration's data: [`ForeignOwnable::Borrowed`] of
/// [`Target::Data`] (`()` for none, `ArcBorrow<'_, T>` for `Arc<T>`, `&T` for `KBox<T>`).
pub type DataRef<'a, T> = <<T as Target>::Data as ForeignOwnable>::Borrowed<'a>;

/// A BPF iterator target.
///
/// The methods mirror `struct bpf_iter_reg` and its `seq_operations`; the framework makes the
/// BPF calls (`bpf_iter_get_info`, `bpf_iter_run_prog`) and the final call with NULL slots from
/// `stop`, maps the program's return value and `seq_file` overflow as C targets do, and manages
/// the per-link ([`Target::Link`]) and per-iterator ([`Target::Iter`]) state.
///
/// Which context calls what: [`Target::attach`], [`Target::check_prog`] and
/// [`Target::init_iter`] run in the task making the link, replacing its program or creating an
/// iterator; `start`, `next`, `ctx`, `stop` run in whichever task reads the iterator fd (any
/// task that shares it), one read at a time; the per-iterator state is dropped by the task that
/// releases the fd last, or by a kernel worker (`delayed_fput`). Hence `Iter` is [`Send`], and
/// `Link`, which all of these use at once, is [`Send`] and [`Sync`]. An item lives within one
/// read, in the reading task ([`Holdable`]). The walk
/// may reschedule between objects (and programs may sleep, with [`Target::RESCHED`]), so
/// nothing that makes the context atomic (a spinlock or RCU guard) may live in the iterator
/// state across objects; such guards are not `Send`, so the bound refuses them:
///
/// ```ignore
/// # // `compile_fail` doctests are not supported by KUnit: built by `make check` instead
/// # // (tools/harness/compile_fail/iter_state_rcu_guard.rs).
/// struct Walk {
///     _rcu: kernel::sync::rcu::Guard, // error[E0277]: `*mut ()` cannot be sent between threads
/// }
/// impl Target for MyTarget {
///     type Iter = Walk;
///     // ...
/// }
/// ```
#[vtable]
pub trait Target: Sized + 'static {
    /// The target name: programs use `SEC("iter/<NAME>")` and the C anchor is
    /// `bpf_iter_<NAME>`. Checked at compile time with [`name_is_valid`].
    ///
    /// [`name_is_valid`]: super::name_is_valid
    const NAME: &'static CStr;

    /// Whether a long walk may reschedule between objects (`BPF_ITER_RESCHED`); only such
    /// targets accept sleepable programs.
    const RESCHED: bool = false;

    /// What programs see after `meta`, borrowing from the iterator state and the item.
    type Ctx<'a>: Context;

    /// Data the [`Registration`] holds for the target, lent to [`Target::attach`]: what a
    /// target over a collection of its own walks, typically an `Arc` of it (a link keeps a
    /// clone); `()` for none. Dropped when the registration has been dropped and the last
    /// `attach` that borrowed it has returned.
    ///
    /// [`Registration`]: super::Registration
    type Data: ForeignOwnable + Send + Sync;

    /// The link parameters: `()` for none, [`TaskFilter`], [`MapRef`], `(CgroupRef,
    /// CgroupOrder)`, or [`Custom<T>`] for parameters of the target's own. The framework reads
    /// them before [`Target::attach`] and refuses a link that sets anything else; the build
    /// records the kind in the module's BTF, where `bpf-iter list` shows it.
    ///
    /// [`TaskFilter`]: super::TaskFilter
    /// [`MapRef`]: super::MapRef
    /// [`Custom<T>`]: super::Custom
    type Params: Params;

    /// Per-link state, made from the link parameters by [`Target::attach`], dropped on detach.
    type Link: Send + Sync;

    /// Per-iterator state (the `seq_file` private area), made by [`Target::init_iter`] when an
    /// iterator fd is created, dropped when it is released.
    type Iter: Send;

    /// One visited object, from the `start` or `next` that found it to the `next` or `stop` that
    /// consumes it; the framework keeps it in the iterator state in between, for `ctx` to
    /// borrow. An item never outlives the read that made it: it may hold what must stay in the
    /// reading task, such as an mmap read lock ([`Holdable`]); a read that stops on an object it
    /// did not show gets it in `stop`, to note where the next read resumes.
    type Item: Holdable;

    /// Checks the link parameters (beyond their kind, which the framework checked: that a task
    /// exists, a map's type, a range) and makes the per-link state, given the registration's
    /// data.
    ///
    /// Runs under no lock of the kernel's (soundness-2 point 5), so it may take a lock of the
    /// target's that is held around registering and unregistering it. A call that found the
    /// target registered may still be running, or start, while its [`Registration`] is dropped:
    /// `data` stays valid for it all the same.
    ///
    /// [`Registration`]: super::Registration
    fn attach(data: DataRef<'_, Self>, params: Self::Params) -> Result<Self::Link>;

    /// Checks the program of a link against its per-link state, when the link is made (after
    /// [`Target::attach`]) and when its program is replaced (`BPF_LINK_UPDATE`): every check a
    /// target makes of a program belongs here, so that an update cannot skip it. The
    /// framework checks read-only buffer slots ([`RdonlyBuf`]) itself, in both cases.
    ///
    /// [`RdonlyBuf`]: super::RdonlyBuf
    fn check_prog(_link: &Self::Link, _prog: &Prog) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Makes the state of a new iterator of `link`.
    fn init_iter(link: &Self::Link) -> Result<Self::Iter>;

    /// Returns the object a read starts at, or `None` past the end.
    ///
    /// `pos` is the `seq_file` position: 0 on the first read of an iterator, then the number of
    /// `next` calls plus one. As in C targets, a target normally keeps its own cursor in
    /// [`Target::Iter`]: a read that fills the buffer ends with [`Target::stop`] on an object it
    /// did not show, and the next read must start from that object again.
    fn start(iter: &mut Self::Iter, pos: u64) -> Result<Option<Self::Item>>;

    /// Moves `item`, the object just shown (always `Some` on entry), to the next object, or
    /// sets it to `None` past the end. In place: a target whose item is a cursor (a position
    /// in a list, a walk under a lock) advances it without moving it, and the framework keeps
    /// the result where `show` finds it.
    fn next(iter: &mut Self::Iter, item: &mut Option<Self::Item>);

    /// Called when a read ends, with the object it stopped at, if any.
    fn stop(_iter: &mut Self::Iter, _item: Option<Self::Item>) {}

    /// Fills the context for `item`. The program runs while `iter` and `item` are borrowed, so
    /// every pointer in the context is valid for the whole run.
    fn ctx<'a>(iter: &'a Self::Iter, item: &'a Self::Item) -> Self::Ctx<'a>;

    /// Prints the link parameters into `/proc/<pid>/fdinfo/<link fd>` (use
    /// [`seq_print!`](crate::seq_print)).
    fn show_fdinfo(_link: &Self::Link, _m: &SeqFile) {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Reports the link parameters to `BPF_OBJ_GET_INFO_BY_FD`.
    fn fill_link_info(_link: &Self::Link, _info: &mut LinkInfoOut<'_>) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Offers helper `func_id` to the target's programs (only ids the kernel does not already
    /// give tracing programs reach this). See [`FuncProto`]: prefer a kfunc.
    fn get_func_proto(_func_id: u32, _prog: &VerifyingProg) -> Option<&'static FuncProto> {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }
}
