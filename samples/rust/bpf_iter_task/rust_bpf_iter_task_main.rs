// SPDX-License-Identifier: GPL-2.0

//! Rust twins of the kernel's task iterator targets.
//!
//! Registers `rust_task`, `rust_task_file` and `rust_task_vma`, written with
//! [`kernel::bpf::iter`], twins of the C targets `task`, `task_file` and `task_vma` of
//! `kernel/bpf/task_iter.c`: the same contexts (so a program for a C target runs against its
//! twin by changing only `SEC("iter/...")`), the same parameters (`tid`, `pid`, `pid_fd` or
//! none, in the pid namespace of whoever creates the iterator) and the same walk:
//!
//! - `rust_task`: every task of the namespace, the threads of one process, or one thread.
//! - `rust_task_file`: every open file of those tasks, as `(task, fd, file)`. Threads that share
//!   their leader's file table are skipped, so a process' files are shown once.
//! - `rust_task_vma`: every memory mapping of those tasks, as `(task, vma)`, skipping threads
//!   that share their leader's file table as C does (threads share the address space, so with
//!   `tid` one sees the mappings of the whole process).
//!
//! The one documented difference: a `tid` or `pid` that does not exist is refused at attach
//! with `ESRCH` ([`TaskFilter::check_exists`]); the C targets accept it and show nothing.
//!
//! As in C, a read that fills the user's buffer stops on an object it did not show; the cursor
//! (`tid`, and `fd` or the last mapping's range) stays in the iterator state and the next read
//! starts from that object again.

use core::ptr::{self, NonNull};
use kernel::bindings;
use kernel::bpf::iter::{
    self, BtfPtr, Index, LinkInfo, LinkInfoOut, Scalar, TaskFilter, TrustedBtfPtr,
};
use kernel::ffi::c_int;
use kernel::fs::File;
use kernel::mm::virt::VmaRef;
use kernel::seq_file::SeqFile;
use kernel::seq_print;
use kernel::sync::rcu;
use kernel::task::Task;
use kernel::types::ARef;
use kernel::{c_str, prelude::*};

// C glue in rust_bpf_iter_task_btf.c, for static inline functions of the kernel headers that
// the kernel crate does not wrap yet.
//
// The kernel structs are only passed by pointer; some of their members are empty structs that
// the `improper_ctypes` lint flags.
#[allow(improper_ctypes)]
extern "C" {
    fn rust_bpf_iter_task_put_pid_ns(ns: *mut bindings::pid_namespace);
    fn rust_bpf_iter_task_next_thread(t: *mut bindings::task_struct) -> *mut bindings::task_struct;
    fn rust_bpf_iter_task_mmap_read_lock_killable(mm: *mut bindings::mm_struct) -> c_int;
    fn rust_bpf_iter_task_mmap_lock_is_contended(mm: *mut bindings::mm_struct) -> bool;
}

/// The C pointer of a task.
fn task_ptr(t: &Task) -> *mut bindings::task_struct {
    // `Task` is a transparent wrapper of `struct task_struct`.
    ptr::from_ref(t).cast_mut().cast()
}

/// Takes ownership of a task reference returned by C (`get_pid_task()`), if any.
///
/// # Safety
///
/// `t` is NULL or a valid task on which the caller owns a reference, which it hands over.
unsafe fn owned_task(t: *mut bindings::task_struct) -> Option<ARef<Task>> {
    // SAFETY: By the safety requirements a non-NULL `t` is a task whose reference we now own.
    NonNull::new(t).map(|t| unsafe { ARef::from_raw(t.cast::<Task>()) })
}

/// Whether `t` is a thread other than its group leader that shares the leader's file table:
/// the `skip_if_dup_files` test of `task_seq_get_next()`.
///
/// `t` is valid (a reference); its group leader is valid under the RCU read lock that `_rcu`
/// proves (task structs are freed after a grace period).
fn dup_files(t: &Task, _rcu: &rcu::Guard) -> bool {
    let leader = t.group_leader();
    // SAFETY: `t` and its leader are valid tasks. `exit_signal` and `files` are read without
    // their locks, as C's `task_seq_get_next()` does: a stale value only decides whether a
    // thread is skipped. (These reads are correct only because the bindings lay out
    // `task_struct` as C does: `tools/harness/bindings_check.py` checks it at build time.)
    unsafe {
        let (tp, lp) = (task_ptr(t), task_ptr(leader));
        (*tp).exit_signal < 0 && (*tp).files == (*lp).files
    }
}

/// The walk over tasks that the three targets share (C's `struct bpf_iter_seq_task_common`
/// and `task_seq_get_next()`).
///
/// # Invariants
///
/// `ns` is a valid pid namespace on which this object holds a reference.
struct TaskWalk {
    ns: NonNull<bindings::pid_namespace>,
    filter: TaskFilter,
    /// The cursor: the tid (in `ns`) of the current task, or where to look for the next one.
    tid: u32,
    /// With [`TaskFilter::Tgid`], the tid of the thread being visited (C's `pid_visiting`).
    pid_visiting: u32,
}

impl TaskWalk {
    /// A walk in the pid namespace of the current task (the creator of the iterator).
    fn new(filter: TaskFilter) -> Result<Self> {
        let current = kernel::current!();
        // SAFETY: `current` is a valid task for the duration of the call; its active pid
        // namespace is valid while it runs, and `get_pid_ns` takes a reference on it (or
        // returns it unchanged without `CONFIG_PID_NS`, where namespaces are never freed).
        let ns = unsafe { bindings::get_pid_ns(bindings::task_active_pid_ns(task_ptr(current))) };
        // INVARIANT: `ns` is valid and referenced.
        let ns = NonNull::new(ns).ok_or(ESRCH)?;
        Ok(TaskWalk {
            ns,
            filter,
            tid: 0,
            pid_visiting: 0,
        })
    }

    /// Whether the walk is over one thread (`tid` parameter).
    fn one_thread(&self) -> bool {
        matches!(self.filter, TaskFilter::Tid(_))
    }

    /// Returns the task at or after the cursor `tid` and moves the cursor to it, or `None`
    /// when there is none. With `skip_dup_files`, threads sharing their leader's file table
    /// are skipped (as for C's task_file and task_vma).
    fn next_task(&mut self, skip_dup_files: bool) -> Option<ARef<Task>> {
        let ns = self.ns.as_ptr();
        match self.filter {
            TaskFilter::Tid(pid) => {
                if self.tid != 0 && self.tid != pid {
                    return None;
                }
                let nr = i32::try_from(pid).ok()?;
                let _rcu = rcu::read_lock();
                // SAFETY: `ns` is valid (type invariant); `find_pid_ns` is called under RCU.
                let p = unsafe { bindings::find_pid_ns(nr, ns) };
                if p.is_null() {
                    return None;
                }
                self.tid = pid;
                // SAFETY: `p` is valid under RCU; `get_pid_task` returns a referenced task or
                // NULL, and we take over the reference.
                unsafe { owned_task(bindings::get_pid_task(p, bindings::pid_type_PIDTYPE_PID)) }
            }
            TaskFilter::Tgid(pid) => {
                let rcu = rcu::read_lock();
                self.group_next(pid, skip_dup_files, &rcu)
            }
            TaskFilter::All => {
                let rcu = rcu::read_lock();
                loop {
                    let nr = i32::try_from(self.tid).ok()?;
                    // SAFETY: `ns` is valid (type invariant); called under RCU.
                    let p = unsafe { bindings::find_ge_pid(nr, ns) };
                    if p.is_null() {
                        return None;
                    }
                    // SAFETY: `p` is a valid pid under RCU, `ns` a valid namespace.
                    self.tid = unsafe { bindings::pid_nr_ns(p, ns) } as u32;
                    // SAFETY: As in the `Tid` case.
                    let task = unsafe {
                        owned_task(bindings::get_pid_task(p, bindings::pid_type_PIDTYPE_PID))
                    };
                    if let Some(t) = task {
                        if !(skip_dup_files && dup_files(&t, &rcu)) {
                            return Some(t);
                        }
                    }
                    self.tid += 1;
                }
            }
        }
    }

    /// The threads of process `pid`: C's `task_group_seq_get_next()`.
    fn group_next(
        &mut self,
        pid: u32,
        skip_dup_files: bool,
        rcu: &rcu::Guard,
    ) -> Option<ARef<Task>> {
        let ns = self.ns.as_ptr();
        if self.tid == 0 {
            // The first call: the process itself (its leader).
            let nr = i32::try_from(pid).ok()?;
            // SAFETY: `ns` is valid, we are under RCU (`rcu`); `get_pid_task` accepts a NULL
            // pid and returns a referenced task or NULL, whose reference we take over.
            let task = unsafe {
                owned_task(bindings::get_pid_task(
                    bindings::find_pid_ns(nr, ns),
                    bindings::pid_type_PIDTYPE_TGID,
                ))
            }?;
            self.tid = pid;
            self.pid_visiting = pid;
            return Some(task);
        }
        let visiting = i32::try_from(self.pid_visiting).ok()?;
        if self.tid == self.pid_visiting {
            // A new read resumes at the thread the previous one stopped at.
            // SAFETY: As above.
            return unsafe {
                owned_task(bindings::get_pid_task(
                    bindings::find_pid_ns(visiting, ns),
                    bindings::pid_type_PIDTYPE_PID,
                ))
            };
        }
        // SAFETY: As above; `pid_task` returns the task without a reference, valid under RCU.
        let mut t = unsafe {
            bindings::pid_task(
                bindings::find_pid_ns(visiting, ns),
                bindings::pid_type_PIDTYPE_PID,
            )
        };
        if t.is_null() {
            return None;
        }
        loop {
            // SAFETY: `t` is a valid task under RCU, as is the next thread of its group.
            t = unsafe { rust_bpf_iter_task_next_thread(t) };
            if t.is_null() {
                return None;
            }
            // SAFETY: `t` and `ns` are valid.
            let tid = unsafe { bindings::__task_pid_nr_ns(t, bindings::pid_type_PIDTYPE_PID, ns) };
            if tid == 0 {
                continue;
            }
            // SAFETY: `t` is a valid task under RCU (`rcu`), for longer than this borrow.
            if skip_dup_files && dup_files(unsafe { &*t.cast::<Task>() }, rcu) {
                continue;
            }
            self.tid = tid as u32;
            self.pid_visiting = tid as u32;
            // SAFETY: `t` is a valid task under RCU; `ARef::from` takes a reference on it.
            return Some(ARef::from(unsafe { &*t.cast::<Task>() }));
        }
    }
}

// SAFETY: The walk holds a reference on a pid namespace, which may be dropped from any task,
// and a cursor of integers: nothing tied to the task that made it.
unsafe impl Send for TaskWalk {}

impl Drop for TaskWalk {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own a reference on `ns`.
        unsafe { rust_bpf_iter_task_put_pid_ns(self.ns.as_ptr()) };
    }
}

/// Per-link state of the three targets: the parameters, copied by each iterator.
struct TaskLink {
    filter: TaskFilter,
}

fn attach_task(info: &LinkInfo) -> Result<TaskLink> {
    Ok(TaskLink {
        filter: info.task()?.check_exists()?,
    })
}

/// Prints the parameters as C's `bpf_iter_task_show_fdinfo()` does.
fn show_task_fdinfo(link: &TaskLink, m: &SeqFile) {
    let (kind, nr) = match link.filter {
        TaskFilter::All => ("ALL", None),
        TaskFilter::Tid(tid) => ("TID", Some(("tid", tid))),
        TaskFilter::Tgid(pid) => ("PID", Some(("pid", pid))),
    };
    seq_print!(m, "task_type:\t{}\n", kind);
    if let Some((name, nr)) = nr {
        seq_print!(m, "{}:\t{}\n", name, nr);
    }
}

// ---------------------------------------------------------------------------------------------
// rust_task
// ---------------------------------------------------------------------------------------------

kernel::bpf_iter_context! {
    /// What `rust_task` programs see after `meta` (as C's `struct bpf_iter__task`).
    struct TaskCtx<'a> {
        task: TrustedBtfPtr<'a, Task>,
    }
}

/// Per-iterator state of `rust_task`: the walk; each item holds its task.
struct TaskIter {
    walk: TaskWalk,
}

struct RustTask;

#[vtable]
impl iter::Target for RustTask {
    const NAME: &'static CStr = c_str!("rust_task");
    const RESCHED: bool = true;

    type Ctx<'a> = TaskCtx<'a>;
    type Data = ();
    type Link = TaskLink;
    type Iter = TaskIter;
    type Item = ARef<Task>;

    fn attach(_data: (), info: &LinkInfo) -> Result<TaskLink> {
        attach_task(info)
    }

    fn init_iter(link: &TaskLink) -> Result<TaskIter> {
        Ok(TaskIter {
            walk: TaskWalk::new(link.filter)?,
        })
    }

    fn start(it: &mut TaskIter, _pos: u64) -> Result<Option<ARef<Task>>> {
        // The cursor is at the task the previous read stopped at (or at the start).
        Ok(it.walk.next_task(false))
    }

    #[inline]
    fn next(it: &mut TaskIter, prev: ARef<Task>) -> Option<ARef<Task>> {
        drop(prev);
        it.walk.tid += 1;
        it.walk.next_task(false)
    }

    fn ctx<'a>(_it: &'a TaskIter, task: &'a &Task) -> TaskCtx<'a> {
        TaskCtx {
            task: TrustedBtfPtr::new(*task),
        }
    }

    fn show_fdinfo(link: &TaskLink, m: &SeqFile) {
        show_task_fdinfo(link, m)
    }

    fn fill_link_info(link: &TaskLink, info: &mut LinkInfoOut<'_>) -> Result {
        info.set_task(link.filter);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// rust_task_file
// ---------------------------------------------------------------------------------------------

kernel::bpf_iter_context! {
    /// What `rust_task_file` programs see after `meta` (as C's `struct bpf_iter__task_file`).
    struct TaskFileCtx<'a> {
        task: BtfPtr<'a, Task>,
        fd: Scalar<u32>,
        file: BtfPtr<'a, File>,
    }
}

/// The object a `rust_task_file` iterator is at: a task and its open file `fd`.
struct FileCursor {
    task: ARef<Task>,
    file: ARef<File>,
}

/// Per-iterator state of `rust_task_file` (C's `struct bpf_iter_seq_task_file_info`).
///
/// The item is the fd ([`Index`]); the task and file references live here, from the `start`
/// or `next` that found them to the `next` or `stop` that leaves them, so walking needs no
/// allocation per object.
///
/// # Invariants
///
/// If `cur` is set, its file is the one at `fd` of its task.
struct TaskFileIter {
    walk: TaskWalk,
    cur: Option<FileCursor>,
    /// The fd of the current file, or where to look for the next one in the current task.
    fd: u32,
}

impl TaskFileIter {
    /// Finds the first file at or after the cursor in the next task from the walk's cursor:
    /// C's `task_file_seq_get_next()`. `next` finds the rest of a task's files itself.
    fn advance(&mut self) -> Option<Index> {
        loop {
            let saved_tid = self.walk.tid;
            let task = self.walk.next_task(true)?;
            // The same tid again: a new read resumes at the fd the last one stopped at;
            // another task starts at fd 0.
            if saved_tid != self.walk.tid {
                self.fd = 0;
            }
            if let Some((fd, file)) = task.next_file(self.fd) {
                self.fd = fd;
                // INVARIANT: `file` is the file at `fd` of `task`.
                self.cur = Some(FileCursor { task, file });
                return Some(Index(fd as usize));
            }
            if !self.task_done(task) {
                return None;
            }
        }
    }

    /// Leaves a task whose files have all been seen; whether the walk goes on.
    fn task_done(&mut self, task: ARef<Task>) -> bool {
        drop(task);
        if self.walk.one_thread() {
            return false;
        }
        self.fd = 0;
        self.walk.tid += 1;
        true
    }
}

struct RustTaskFile;

#[vtable]
impl iter::Target for RustTaskFile {
    const NAME: &'static CStr = c_str!("rust_task_file");
    const RESCHED: bool = true;

    type Ctx<'a> = TaskFileCtx<'a>;
    type Data = ();
    type Link = TaskLink;
    type Iter = TaskFileIter;
    type Item = Index;

    fn attach(_data: (), info: &LinkInfo) -> Result<TaskLink> {
        attach_task(info)
    }

    fn init_iter(link: &TaskLink) -> Result<TaskFileIter> {
        Ok(TaskFileIter {
            walk: TaskWalk::new(link.filter)?,
            cur: None,
            fd: 0,
        })
    }

    fn start(it: &mut TaskFileIter, _pos: u64) -> Result<Option<Index>> {
        // `stop` left nothing held; the cursor (`tid`, `fd`) is where the last read stopped.
        it.cur = None;
        Ok(it.advance())
    }

    #[inline]
    fn next(it: &mut TaskFileIter, _prev: Index) -> Option<Index> {
        let Some(cur) = &mut it.cur else {
            // Not reached: an item is only out while its cursor is held.
            return it.advance();
        };
        // The fd of an open file is below `INT_MAX` (`sysctl_nr_open`): no overflow.
        let from = it.fd.wrapping_add(1);
        // Most files are followed by another of the same task: find it here, in place (as C's
        // `task_file_seq_get_next()` does, inline), and put the file shown.
        if let Some((fd, file)) = cur.task.next_file(from) {
            it.fd = fd;
            // INVARIANT: `file` is the file at `fd` of the cursor's task.
            cur.file = file;
            return Some(Index(fd as usize));
        }
        // The task has no more: put the file shown, and the task.
        if let Some(FileCursor { task, .. }) = it.cur.take() {
            if !it.task_done(task) {
                return None;
            }
        }
        it.advance()
    }

    fn stop(it: &mut TaskFileIter, _item: Option<Index>) {
        // Stopped on an unshown file (or at the end, where nothing is held): drop both
        // references; `tid` and `fd` stay, so the next read finds the same file again.
        it.cur = None;
    }

    fn ctx<'a>(it: &'a TaskFileIter, _fd: &'a Index) -> TaskFileCtx<'a> {
        match &it.cur {
            Some(c) => TaskFileCtx {
                task: BtfPtr::new(&c.task),
                fd: Scalar::new(it.fd),
                file: BtfPtr::new(&c.file),
            },
            // Not reached: an item is only shown while its cursor is held.
            None => <TaskFileCtx<'a> as iter::Context>::NULL,
        }
    }

    fn show_fdinfo(link: &TaskLink, m: &SeqFile) {
        show_task_fdinfo(link, m)
    }

    fn fill_link_info(link: &TaskLink, info: &mut LinkInfoOut<'_>) -> Result {
        info.set_task(link.filter);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// rust_task_vma
// ---------------------------------------------------------------------------------------------

kernel::bpf_iter_context! {
    /// What `rust_task_vma` programs see after `meta` (as C's `struct bpf_iter__task_vma`).
    struct TaskVmaCtx<'a> {
        task: BtfPtr<'a, Task>,
        vma: BtfPtr<'a, VmaRef>,
    }
}

/// A user reference on an address space (`get_task_mm`), dropped with `mmput`.
///
/// # Invariants
///
/// `self.0` is a valid mm on which this object owns a user reference (`mm_users`).
struct MmRef(NonNull<bindings::mm_struct>);

impl MmRef {
    /// The address space of `task`, or `None` for kernel threads and exited tasks.
    fn of_task(task: &Task) -> Option<MmRef> {
        // SAFETY: `task` is valid; `get_task_mm` returns an mm with a user reference for us,
        // or NULL.
        let mm = unsafe { bindings::get_task_mm(task_ptr(task)) };
        // INVARIANT: as just said.
        NonNull::new(mm).map(MmRef)
    }

    /// Read-locks the address space; `None` (with the reference dropped) if a fatal signal
    /// interrupted the wait.
    fn read_lock_killable(self) -> Option<MmReadLocked> {
        // SAFETY: By the type invariant the mm is valid.
        if unsafe { rust_bpf_iter_task_mmap_read_lock_killable(self.0.as_ptr()) } != 0 {
            return None;
        }
        // INVARIANT: we hold the read lock.
        Some(MmReadLocked(self))
    }
}

impl Drop for MmRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own a user reference.
        unsafe { bindings::mmput(self.0.as_ptr()) };
    }
}

/// A referenced address space whose `mmap_lock` this object holds for reading.
///
/// # Invariants
///
/// The read lock of `self.0`'s mm is held, by this object, on behalf of the current read.
struct MmReadLocked(MmRef);

impl MmReadLocked {
    fn as_ptr(&self) -> *mut bindings::mm_struct {
        self.0 .0.as_ptr()
    }

    /// The first mapping that ends after `addr` (`find_vma`): valid while `self` holds the
    /// lock.
    fn find_vma(&self, addr: usize) -> Option<NonNull<bindings::vm_area_struct>> {
        // SAFETY: The mm is valid and read-locked (type invariants), as `find_vma` requires.
        NonNull::new(unsafe { bindings::find_vma(self.as_ptr(), addr) })
    }

    /// Whether a writer waits for the lock.
    fn is_contended(&self) -> bool {
        // SAFETY: The mm is valid.
        unsafe { rust_bpf_iter_task_mmap_lock_is_contended(self.as_ptr()) }
    }

    /// Releases the lock, keeping the reference.
    fn unlock(self) -> MmRef {
        let me = core::mem::ManuallyDrop::new(self);
        // SAFETY: By the type invariant we hold the read lock, released once here: `me` is
        // not dropped.
        unsafe { bindings::mmap_read_unlock(me.as_ptr()) };
        // SAFETY: `me.0` is moved out once and `me` is forgotten.
        unsafe { ptr::read(&me.0) }
    }
}

impl Drop for MmReadLocked {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold the read lock. The reference is dropped after
        // this, with the field.
        unsafe { bindings::mmap_read_unlock(self.as_ptr()) };
    }
}

/// `(vm_start, vm_end)` of a mapping.
///
/// # Safety
///
/// `vma` is valid: its mm is read-locked.
unsafe fn vma_range(vma: NonNull<bindings::vm_area_struct>) -> (usize, usize) {
    // SAFETY: By the safety requirements `vma` is valid; the range does not change while the
    // mm is read-locked.
    let r = unsafe { &vma.as_ref().__bindgen_anon_1.__bindgen_anon_1 };
    (r.vm_start, r.vm_end)
}

/// The object a `rust_task_vma` iterator is at.
///
/// # Invariants
///
/// `vma` is a mapping of `mm`, which is `task`'s address space; it stays valid while `mm`
/// holds the lock.
///
/// Fields drop in order: the lock and the mm reference go before the task reference.
struct VmaCursor {
    mm: MmReadLocked,
    task: ARef<Task>,
    vma: NonNull<bindings::vm_area_struct>,
}

// SAFETY: A cursor holds an mmap read lock, which must be released by the task that took it.
// It exists only from the `start` or `next` of a read to the `stop` of the same read (`stop`
// takes it out of the iterator state), all in the one task doing the read: it never reaches
// another task. What else it holds (task and mm references) may be dropped anywhere.
unsafe impl Send for VmaCursor {}

/// Per-iterator state of `rust_task_vma` (C's `struct bpf_iter_seq_task_vma_info`).
///
/// While an item is out (from the `start` or `next` that returned it to the following `next`
/// or `stop`), `cur` holds its task, a reference on the address space and its `mmap_lock`
/// for reading, as C does. `stop` releases all of them, both on an unshown mapping and at
/// the end; between reads nothing is held, and `prev_vm_start`/`prev_vm_end` say where to
/// resume.
struct TaskVmaIter {
    walk: TaskWalk,
    cur: Option<VmaCursor>,
    prev_vm_start: usize,
    prev_vm_end: usize,
}

impl TaskVmaIter {
    /// Finds the first mapping of the next task from the walk's cursor: C's
    /// `task_vma_seq_get_next()` for a new task. If that task is `resume_tid` (the one the
    /// last read stopped in), the walk resumes after `prev_vm_start..prev_vm_end` instead.
    fn first_vma(&mut self, resume_tid: Option<u32>) -> Option<Index> {
        loop {
            let Some(task) = self.walk.next_task(true) else {
                self.walk.tid += 1;
                return None;
            };
            let Some(mm) = MmRef::of_task(&task) else {
                if self.walk.one_thread() {
                    return None;
                }
                drop(task);
                self.walk.tid += 1;
                continue;
            };
            let mm = mm.read_lock_killable()?;
            let vma = if resume_tid == Some(self.walk.tid) {
                self.resume_vma(&mm)
            } else {
                mm.find_vma(0)
            };
            match vma {
                Some(vma) => return Some(self.show(task, mm, vma)),
                None => {
                    if !self.task_done(task, mm) {
                        return None;
                    }
                }
            }
        }
    }

    /// The mapping after `prev_vm_start..prev_vm_end` of the current task, the lock having
    /// been dropped since that range was seen.
    fn resume_vma(&self, mm: &MmReadLocked) -> Option<NonNull<bindings::vm_area_struct>> {
        let prev = (self.prev_vm_start, self.prev_vm_end);
        let v = mm.find_vma(prev.1.wrapping_sub(1));
        // SAFETY: `mm` holds the lock that keeps `v` valid.
        if v.is_some_and(|v| unsafe { vma_range(v) } == prev) {
            // Already shown: take the one after it.
            mm.find_vma(prev.1)
        } else {
            // Gone or changed: show what covers the range now.
            v
        }
    }

    /// Makes `vma` of `task` the current object; `mm` is `task`'s address space, read-locked.
    fn show(
        &mut self,
        task: ARef<Task>,
        mm: MmReadLocked,
        vma: NonNull<bindings::vm_area_struct>,
    ) -> Index {
        // INVARIANT: `vma` was found in `mm`, `task`'s address space, under its lock, which the
        // cursor keeps.
        self.cur = Some(VmaCursor { task, mm, vma });
        Index(self.walk.tid as usize)
    }

    /// Leaves a task whose mappings have all been seen (unlocks and drops its mm); whether
    /// the walk goes on.
    fn task_done(&mut self, task: ARef<Task>, mm: MmReadLocked) -> bool {
        drop(mm);
        if self.walk.one_thread() {
            return false;
        }
        drop(task);
        self.walk.tid += 1;
        true
    }

    /// The rest of `next` when the current task's next mapping is not found with the lock
    /// kept: a writer waits, or the task has no more.
    fn next_slow(&mut self, contended: bool) -> Option<Index> {
        let VmaCursor { task, mm, vma } = self.cur.take()?;
        if contended {
            // Let the writer in; find our place again afterwards.
            // SAFETY: `mm` still holds the lock that keeps `vma` valid.
            let (start, end) = unsafe { vma_range(vma) };
            self.prev_vm_start = start;
            self.prev_vm_end = end;
            let mm = mm.unlock().read_lock_killable()?;
            if let Some(vma) = self.resume_vma(&mm) {
                return Some(self.show(task, mm, vma));
            }
            if !self.task_done(task, mm) {
                return None;
            }
        } else if !self.task_done(task, mm) {
            return None;
        }
        self.first_vma(None)
    }
}

struct RustTaskVma;

#[vtable]
impl iter::Target for RustTaskVma {
    const NAME: &'static CStr = c_str!("rust_task_vma");
    const RESCHED: bool = true;

    type Ctx<'a> = TaskVmaCtx<'a>;
    type Data = ();
    type Link = TaskLink;
    type Iter = TaskVmaIter;
    type Item = Index;

    fn attach(_data: (), info: &LinkInfo) -> Result<TaskLink> {
        attach_task(info)
    }

    fn init_iter(link: &TaskLink) -> Result<TaskVmaIter> {
        Ok(TaskVmaIter {
            walk: TaskWalk::new(link.filter)?,
            cur: None,
            prev_vm_start: 0,
            prev_vm_end: 0,
        })
    }

    fn start(it: &mut TaskVmaIter, _pos: u64) -> Result<Option<Index>> {
        it.cur = None;
        Ok(it.first_vma(Some(it.walk.tid)))
    }

    #[inline]
    fn next(it: &mut TaskVmaIter, _prev: Index) -> Option<Index> {
        let Some(cur) = &mut it.cur else {
            // Not reached: an item is only out while its cursor is held.
            return it.first_vma(None);
        };
        // Most mappings are followed by another of the same task: find it here, with the lock
        // kept, as C's `task_vma_seq_get_next()` does.
        let contended = cur.mm.is_contended();
        if !contended {
            // SAFETY: `cur.mm` still holds the lock that keeps `cur.vma` valid.
            let (_, end) = unsafe { vma_range(cur.vma) };
            if let Some(vma) = cur.mm.find_vma(end) {
                // INVARIANT: `vma` was found in the cursor's mm, under the lock it keeps.
                cur.vma = vma;
                return Some(Index(it.walk.tid as usize));
            }
        }
        it.next_slow(contended)
    }

    fn stop(it: &mut TaskVmaIter, _item: Option<Index>) {
        if let Some(c) = it.cur.take() {
            // Stopped on a mapping the program has not seen: the next read must find it
            // again, so resume at its end without skipping it (no start matches `!0`).
            // SAFETY: `c.mm` still holds the lock.
            let (_, end) = unsafe { vma_range(c.vma) };
            drop(c);
            it.prev_vm_start = usize::MAX;
            it.prev_vm_end = end;
        }
    }

    fn ctx<'a>(it: &'a TaskVmaIter, _item: &'a Index) -> TaskVmaCtx<'a> {
        match &it.cur {
            Some(c) => TaskVmaCtx {
                task: BtfPtr::new(&c.task),
                // SAFETY: `c.vma` is valid while `c.mm` holds the mmap read lock, which it does
                // for as long as the item is out, past the program run (`'a`).
                vma: BtfPtr::new(unsafe { VmaRef::from_raw(c.vma.as_ptr()) }),
            },
            // Not reached: an item is only shown while its cursor is held.
            None => <TaskVmaCtx<'a> as iter::Context>::NULL,
        }
    }

    fn show_fdinfo(link: &TaskLink, m: &SeqFile) {
        show_task_fdinfo(link, m)
    }

    fn fill_link_info(link: &TaskLink, info: &mut LinkInfoOut<'_>) -> Result {
        info.set_task(link.filter);
        Ok(())
    }
}

kernel::module_bpf_iter_target! {
    targets: [RustTask, RustTaskFile, RustTaskVma],
    name: "rust_bpf_iter_task",
    author: "rust-bpf-iter developers",
    description: "Rust twins of the task, task_file and task_vma BPF iterator targets",
    license: "GPL",
}
