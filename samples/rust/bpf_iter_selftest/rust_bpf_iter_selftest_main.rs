// SPDX-License-Identifier: GPL-2.0

//! The module of the soundness selftests of `kernel::bpf::iter` (not a sample).
//!
//! Targets that safe code may register, in sequences that the kernel must make safe on its own,
//! driven by `tools/harness/guest.d/45-soundness.sh` through a write-only debugfs file:
//!
//! ```sh
//! D=/sys/kernel/debug/rust_bpf_iter_selftest
//! echo trusted >$D/same_name   # rust_same_name, its task slot a trusted pointer
//! echo plain >$D/same_name     # rust_same_name, its task slot an untrusted pointer
//! echo none >$D/same_name      # neither registered
//! echo >$D/leak                # registers rust_leaked and leaks the registration
//! echo 1 >$D/locked            # registers rust_locked (0: unregisters it)
//! echo >$D/kfuncs              # registers the kfunc set again: EINVAL after init
//! ```
//!
//! soundness-2 point 6: `rust_signed`, registered while the module is loaded, gives three objects
//! with negative values in signed slots of each size; its programs must read them as negative.
//!
//! soundness-2 point 4: `rust_leaked` is registered and its [`Registration`] forgotten (safe
//! code may leak it, with `mem::forget` or a reference cycle): the module then goes away with the
//! target registered, and the core must unregister it then (with a WARN naming the module), or
//! the next registration or program load reads freed module memory.
//!
//! soundness-2 point 2: `rust_thread` holds, per link, a reference on the thread its link
//! parameter names (`tid`), and gives programs a trusted pointer to it: the thread's process may
//! exit and be reaped meanwhile, and the pointer stays valid, since it is made from that held
//! reference ([`TrustedBtfPtr::new`] takes an `&ARef`; a task's group leader, which a held
//! thread does not keep alive, is no longer reachable from another task).
//!
//! soundness-2 point 5: `rust_locked` is registered and unregistered under a mutex of the
//! module's, which its `attach` takes too: the core must hold no lock of its own across
//! `attach` (or the two deadlock, ABBA), nor wait for `attach` while unregistering.
//!
//! soundness-2 point 1: both targets are named `rust_same_name`, in one module, so they have one
//! BTF anchor (generated from [`TrustedTarget`]'s record; [`PlainTarget`] registers without one,
//! which is how two types of one name get past the build's check). A program verified while
//! one is registered must not be attached to, or replace the program of a link of, the other.
//!
//! Open-coded iterators (`tools/harness/guest.d/37-open-coded.sh`): `rust_rcu_count`
//! ([`Protection::Rcu`]) and `rust_sleep_count` ([`Protection::Sleepable`], whose state is an
//! allocation) count from 1 to `n`. The verifier must refuse their programs where their
//! protection does not hold; the module registers their kfuncs by hand
//! ([`iter::register_kfuncs`]), after everything else.

use core::convert::Infallible;
use kernel::bpf::iter::{
    self, BtfPtr, Index, Protection, Registration, Scalar, Scope, TargetVTable, TaskFilter,
    TrustedBtfPtr,
};
use kernel::debugfs::{self, Dir};
use kernel::sync::aref::ARef;
use kernel::sync::{rcu, Arc, ArcBorrow, Mutex};
use kernel::task::{Pid, Task};
use kernel::uaccess::UserSliceReader;
use kernel::{c_str, new_mutex, prelude::*};

kernel::bpf_iter_context! {
    /// `rust_same_name` as [`TrustedTarget`] declares it.
    struct TrustedCtx<'a> {
        task: TrustedBtfPtr<'a, Task>,
    }
}

kernel::bpf_iter_context! {
    /// `rust_same_name` as [`PlainTarget`] declares it: the same C type, not trusted.
    struct PlainCtx<'a> {
        task: BtfPtr<'a, Task>,
    }
}

/// The task that created the iterator, its one object.
struct OneTask {
    task: ARef<Task>,
    done: bool,
}

/// The targets over [`OneTask`]: `$t` named `$name`, whose programs see `$ctx` with the task in
/// a `$slot`, and whose `attach` is `$attach` given the registration's `$data`.
macro_rules! one_task_target {
    ($(#[$attr:meta])* $t:ident, $name:literal, $ctx:ident, $slot:ident, $data:ty, $attach:expr) => {
        $(#[$attr])*
        struct $t;

        #[vtable]
        impl iter::Target for $t {
            const NAME: &'static CStr = c_str!($name);
            type Ctx<'a> = $ctx<'a>;
            type Data = $data;
            type Params = ();
            type Link = ();
            type Iter = OneTask;
            type Item = Index;

            fn attach(data: iter::DataRef<'_, Self>, (): ()) -> Result {
                $attach(data)
            }

            fn init_iter((): &()) -> Result<OneTask> {
                Ok(OneTask {
                    task: ARef::from(&**kernel::current!()),
                    done: false,
                })
            }

            fn start(it: &mut OneTask, _pos: u64) -> Result<Option<Index>> {
                Ok((!it.done).then_some(Index(0)))
            }

            fn next(it: &mut OneTask, item: &mut Option<Index>) {
                it.done = true;
                *item = None;
            }

            fn ctx<'a>(it: &'a OneTask, _: &'a Index) -> $ctx<'a> {
                $ctx {
                    task: $slot::new(&it.task),
                }
            }
        }
    };
}

fn attach_none((): ()) -> Result {
    Ok(())
}

one_task_target!(
    /// `rust_same_name` with a trusted task pointer.
    TrustedTarget,
    "rust_same_name",
    TrustedCtx,
    TrustedBtfPtr,
    (),
    attach_none
);

one_task_target!(
    /// `rust_same_name` with an untrusted task pointer.
    PlainTarget,
    "rust_same_name",
    PlainCtx,
    BtfPtr,
    (),
    attach_none
);

static TRUSTED: TargetVTable<TrustedTarget> = TargetVTable::new();
static PLAIN: TargetVTable<PlainTarget> = TargetVTable::new();

// The anchor `bpf_iter_rust_same_name` is generated from this record only.
kernel::bpf_iter_layout!(TrustedTarget);

kernel::bpf_iter_context! {
    /// What `rust_signed` programs see: one value in signed slots of each size.
    struct SignedCtx {
        v8: Scalar<i8>,
        v16: Scalar<i16>,
        v32: Scalar<i32>,
        v64: Scalar<i64>,
    }
}

/// `rust_signed`: objects -3, -2 and -1, scaled to each slot.
struct SignedTarget;

#[vtable]
impl iter::Target for SignedTarget {
    const NAME: &'static CStr = c_str!("rust_signed");
    type Ctx<'a> = SignedCtx;
    type Data = ();
    type Params = ();
    type Link = ();
    type Iter = i32;
    type Item = Index;

    fn attach((): (), (): ()) -> Result {
        Ok(())
    }

    fn init_iter((): &()) -> Result<i32> {
        Ok(-3)
    }

    fn start(v: &mut i32, _pos: u64) -> Result<Option<Index>> {
        Ok((*v < 0).then_some(Index(0)))
    }

    fn next(v: &mut i32, item: &mut Option<Index>) {
        *v += 1;
        *item = (*v < 0).then_some(Index(0));
    }

    fn ctx<'a>(v: &'a i32, _: &'a Index) -> SignedCtx {
        SignedCtx {
            v8: Scalar::new((*v * 40) as i8),
            v16: Scalar::new((*v * 10_000) as i16),
            v32: Scalar::new(*v * 700_000_000),
            v64: Scalar::new(i64::from(*v) * 1_000_000_000_000),
        }
    }
}

static SIGNED: TargetVTable<SignedTarget> = TargetVTable::new();
kernel::bpf_iter_layout!(SignedTarget);

one_task_target!(
    /// `rust_leaked`: the walk and context of [`PlainTarget`], a name of its own.
    LeakedTarget,
    "rust_leaked",
    PlainCtx,
    BtfPtr,
    (),
    attach_none
);

static LEAKED: TargetVTable<LeakedTarget> = TargetVTable::new();
kernel::bpf_iter_layout!(LeakedTarget);

fn cmd_leak(state: &Arc<SameNameState>, reader: &mut UserSliceReader) -> Result {
    if reader.len() >= CMD_MAX {
        return Err(EINVAL);
    }
    core::mem::forget(Registration::register(&LEAKED, state.module, ())?);
    Ok(())
}

/// Registers the module's kfunc set again, after `init`: the kernel publishes a set without a
/// lock, so `register_kfuncs` must refuse (`EINVAL`) rather than race with program loads.
fn cmd_kfuncs(state: &Arc<SameNameState>, reader: &mut UserSliceReader) -> Result {
    if reader.len() >= CMD_MAX {
        return Err(EINVAL);
    }
    iter::register_kfuncs(state.module, kernel::bpf_kfunc_table!())
}

kernel::bpf_iter_context! {
    /// What `rust_thread` programs see: the thread the link holds.
    struct ThreadCtx<'a> {
        task: TrustedBtfPtr<'a, Task>,
    }
}

/// `rust_thread`: one object, the thread named by the link's `tid`, held by the link.
struct ThreadTarget;

#[vtable]
impl iter::Target for ThreadTarget {
    const NAME: &'static CStr = c_str!("rust_thread");
    type Ctx<'a> = ThreadCtx<'a>;
    type Data = ();
    // Only `Tid`: anything else is refused with `EINVAL`.
    type Params = TaskFilter;
    type Link = ARef<Task>;
    type Iter = OneTask;
    type Item = Index;

    fn attach((): (), filter: TaskFilter) -> Result<ARef<Task>> {
        let TaskFilter::Tid(tid) = filter else {
            return Err(EINVAL);
        };
        let tid = Pid::try_from(tid).map_err(|_| ESRCH)?;
        let current = kernel::current!();
        let ns = current.active_pid_ns().ok_or(ESRCH)?;
        let rcu = rcu::read_lock();
        ns.get_task(tid, &rcu).ok_or(ESRCH)
    }

    fn init_iter(thread: &ARef<Task>) -> Result<OneTask> {
        Ok(OneTask {
            task: thread.clone(),
            done: false,
        })
    }

    fn start(it: &mut OneTask, _pos: u64) -> Result<Option<Index>> {
        Ok((!it.done).then_some(Index(0)))
    }

    fn next(it: &mut OneTask, item: &mut Option<Index>) {
        it.done = true;
        *item = None;
    }

    fn ctx<'a>(it: &'a OneTask, _: &'a Index) -> ThreadCtx<'a> {
        ThreadCtx {
            task: TrustedBtfPtr::new(&it.task),
        }
    }
}

static THREAD: TargetVTable<ThreadTarget> = TargetVTable::new();
kernel::bpf_iter_layout!(ThreadTarget);

/// `rust_locked`'s registration, under the lock its `attach` takes.
#[pin_data]
struct Locked {
    #[pin]
    reg: Mutex<Option<Registration<LockedTarget>>>,
    module: &'static ThisModule,
}

/// `rust_locked`'s `attach`: takes the lock held around registering and unregistering it.
fn attach_locked(locked: ArcBorrow<'_, Locked>) -> Result {
    let _reg = locked.reg.lock();
    Ok(())
}

one_task_target!(
    /// `rust_locked`: the walk and context of [`PlainTarget`]; `attach` takes [`Locked::reg`].
    LockedTarget,
    "rust_locked",
    PlainCtx,
    BtfPtr,
    Arc<Locked>,
    attach_locked
);

static LOCKED: TargetVTable<LockedTarget> = TargetVTable::new();
kernel::bpf_iter_layout!(LockedTarget);

fn cmd_locked(locked: &Arc<Locked>, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; CMD_MAX];
    let len = reader.len();
    if len >= CMD_MAX {
        return Err(EINVAL);
    }
    reader.read_slice(&mut buf[..len])?;
    let mut reg = locked.reg.lock();
    match buf[..len].strip_suffix(b"\n").unwrap_or(&buf[..len]) {
        b"0" => *reg = None,
        b"1" if reg.is_none() => {
            *reg = Some(Registration::register(
                &LOCKED,
                locked.module,
                locked.clone(),
            )?)
        }
        b"1" => (),
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// Which of the two is registered, and the module that registers them.
#[pin_data]
struct SameNameState {
    #[pin]
    reg: Mutex<SameName>,
    module: &'static ThisModule,
}

/// Which of the two is registered.
enum SameName {
    None,
    Trusted(#[allow(dead_code)] Registration<TrustedTarget>),
    Plain(#[allow(dead_code)] Registration<PlainTarget>),
}

const CMD_MAX: usize = 16;

fn cmd_same_name(state: &Arc<SameNameState>, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; CMD_MAX];
    let len = reader.len();
    if len >= CMD_MAX {
        return Err(EINVAL);
    }
    reader.read_slice(&mut buf[..len])?;
    let cmd = buf[..len].strip_suffix(b"\n").unwrap_or(&buf[..len]);
    let module = state.module;
    let mut state = state.reg.lock();
    // Unregister first: both have one name.
    *state = SameName::None;
    *state = match cmd {
        b"none" => SameName::None,
        b"trusted" => SameName::Trusted(Registration::register(&TRUSTED, module, ())?),
        b"plain" => SameName::Plain(Registration::register(&PLAIN, module, ())?),
        _ => return Err(EINVAL),
    };
    Ok(())
}

/// A count from 1 to `n`: the state of both open-coded iterators.
struct Count {
    last: u32,
    n: u32,
}

impl Count {
    fn next(&mut self) -> Option<u32> {
        (self.last < self.n).then(|| {
            self.last += 1;
            self.last
        })
    }
}

/// `bpf_for_each(rust_rcu_count, v, n)`: 1 to `n`, in an RCU read-side critical section.
struct RcuCount;

impl iter::OpenIter for RcuCount {
    const NAME: &'static CStr = c_str!("rust_rcu_count");
    const PROTECTION: Protection = Protection::Rcu;
    const ARG_NAMES: &'static [&'static str] = &["n"];
    type Args = (u32,);
    type State<'r> = Count;
    type Item<'r> = u32;

    fn new<'r>(_: Scope<'r, Self>, (n,): (u32,)) -> Result<Count> {
        Ok(Count { last: 0, n })
    }

    fn next<'r>(_: Scope<'r, Self>, count: &mut Count) -> Option<u32> {
        count.next()
    }
}

/// `bpf_for_each(rust_sleep_count, v, n)`: 1 to `n`, from sleepable programs only, so its state
/// may be allocated with `GFP_KERNEL` (and is freed by `destroy`).
struct SleepCount;

impl iter::OpenIter for SleepCount {
    const NAME: &'static CStr = c_str!("rust_sleep_count");
    const PROTECTION: Protection = Protection::Sleepable;
    const ARG_NAMES: &'static [&'static str] = &["n"];
    type Args = (u32,);
    type State<'r> = KBox<Count>;
    type Item<'r> = u32;

    fn new<'r>(_: Scope<'r, Self>, (n,): (u32,)) -> Result<KBox<Count>> {
        Ok(KBox::new(Count { last: 0, n }, GFP_KERNEL)?)
    }

    fn next<'r>(_: Scope<'r, Self>, count: &mut KBox<Count>) -> Option<u32> {
        count.next()
    }
}

/// `bpf_for_each(rust_relapse, v)`: 1, 2, 3, then the end; asked again, its `next` would go on
/// with 4, 5, ...: the framework must not ask (the verifier takes a drained iterator to stay
/// drained).
struct Relapse;

impl iter::OpenIter for Relapse {
    const NAME: &'static CStr = c_str!("rust_relapse");
    const PROTECTION: Protection = Protection::Plain;
    type Args = ();
    type State<'r> = u32;
    type Item<'r> = u32;

    fn new<'r>(_: Scope<'r, Self>, (): ()) -> Result<u32> {
        Ok(0)
    }

    fn next<'r>(_: Scope<'r, Self>, n: &mut u32) -> Option<u32> {
        *n += 1;
        (*n != 4).then_some(*n)
    }
}

/// `bpf_for_each(rust_forever, v)`: 1, 2, 3, ... without end, but for the framework's bound of
/// [`MAX_ITEMS`](iter::OpenIter::MAX_ITEMS) items.
struct Forever;

impl iter::OpenIter for Forever {
    const NAME: &'static CStr = c_str!("rust_forever");
    const PROTECTION: Protection = Protection::Plain;
    const MAX_ITEMS: u32 = 1000;
    type Args = ();
    type State<'r> = u32;
    type Item<'r> = u32;

    fn new<'r>(_: Scope<'r, Self>, (): ()) -> Result<u32> {
        Ok(0)
    }

    fn next<'r>(_: Scope<'r, Self>, n: &mut u32) -> Option<u32> {
        *n = n.wrapping_add(1);
        Some(*n)
    }
}

kernel::bpf_open_iter!(RcuCount);
kernel::bpf_open_iter!(SleepCount);
kernel::bpf_open_iter!(Relapse);
kernel::bpf_open_iter!(Forever);

/// The module's debugfs files of `rust_same_name` and of the leak.
type SameNameFiles = KVec<Pin<KBox<debugfs::File<Arc<SameNameState>>>>>;

struct SelftestModule {
    _signed: Registration<SignedTarget>,
    _thread: Registration<ThreadTarget>,
    locked_file: Option<Pin<KBox<debugfs::File<Arc<Locked>>>>>,
    locked: Arc<Locked>,
    files: SameNameFiles,
    _dir: Dir,
    same_name: Arc<SameNameState>,
}

/// A write-only debugfs file `name` in `dir` whose writes call `cmd` (a function item, as
/// `kernel::debugfs` requires) with `data`.
fn cmd_file<T, W>(
    dir: &Dir,
    name: &CStr,
    data: &Arc<T>,
    cmd: &'static W,
) -> Result<Pin<KBox<debugfs::File<Arc<T>>>>>
where
    T: Send + Sync + 'static,
    W: Fn(&Arc<T>, &mut UserSliceReader) -> Result + Send + Sync,
{
    // The data is a plain value: an initializer that cannot fail.
    let file = dir.write_callback_file::<_, Infallible, _>(name, data.clone(), cmd);
    KBox::pin_init(file, GFP_KERNEL)
}

impl kernel::Module for SelftestModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let same_name = Arc::pin_init(
            pin_init!(SameNameState {
                reg <- new_mutex!(SameName::None),
                module,
            }),
            GFP_KERNEL,
        )?;
        let mut this = SelftestModule {
            _signed: Registration::register(&SIGNED, module, ())?,
            _thread: Registration::register(&THREAD, module, ())?,
            locked_file: None,
            locked: Arc::pin_init(
                pin_init!(Locked {
                    reg <- new_mutex!(None),
                    module,
                }),
                GFP_KERNEL,
            )?,
            files: KVec::new(),
            _dir: Dir::new(c_str!("rust_bpf_iter_selftest")),
            same_name,
        };
        let (dir, state) = (&this._dir, &this.same_name);
        let files = [
            cmd_file(dir, c_str!("same_name"), state, &cmd_same_name)?,
            cmd_file(dir, c_str!("leak"), state, &cmd_leak)?,
            cmd_file(dir, c_str!("kfuncs"), state, &cmd_kfuncs)?,
        ];
        this.files.reserve(files.len(), GFP_KERNEL)?;
        for file in files {
            this.files.push(file, GFP_KERNEL)?;
        }
        this.locked_file = Some(cmd_file(
            &this._dir,
            c_str!("locked"),
            &this.locked,
            &cmd_locked,
        )?);
        // Last: the kernel keeps the module's kfunc set until the module is unloaded.
        iter::register_kfuncs(module, kernel::bpf_kfunc_table!())?;
        Ok(this)
    }
}

impl Drop for SelftestModule {
    fn drop(&mut self) {
        // No more writes (removing a file waits for those in progress), then unregister.
        drop(core::mem::take(&mut self.files));
        drop(self.locked_file.take());
        *self.same_name.reg.lock() = SameName::None;
        // Unregisters, and breaks the cycle through the registration's data.
        *self.locked.reg.lock() = None;
    }
}

module! {
    type: SelftestModule,
    name: "rust_bpf_iter_selftest",
    description: "Soundness selftests of kernel::bpf::iter (not a sample)",
    license: "GPL",
}
