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
//! `rust_task` is also an open-coded iterator, the twin of C's `bpf_iter_task_{new,next,destroy}`
//! (`bpf_for_each(rust_task, t, task, flags)`): every process, every thread, or the threads of
//! one process, from `init_task` on, in the program's RCU read-side critical section.
//!
//! As in C, a read that fills the user's buffer stops on an object it did not show; the cursor
//! (`tid`, and `fd` or the last mapping's range) stays in the iterator state and the next read
//! starts from that object again.

use kernel::bpf::iter::{
    self, BtfPtr, LinkInfoOut, Protection, Scalar, Scope, TaskFilter, TrustedBtfPtr,
};
use kernel::fs::File;
use kernel::mm::{virt::VmaRef, OwnedMmapReadGuard, VmaWalk};
use kernel::pid_namespace::{PidNamespace, ProcessCursor, ThreadCursor};
use kernel::seq_file::SeqFile;
use kernel::seq_print;
use kernel::sync::aref::ARef;
use kernel::sync::rcu;
use kernel::task::Task;
use kernel::{c_str, prelude::*};

/// The walk over tasks that the three targets share (C's `struct bpf_iter_seq_task_common`
/// and `task_seq_get_next()`).
struct TaskWalk {
    ns: ARef<PidNamespace>,
    filter: TaskFilter,
    /// The cursor: the tid (in `ns`) of the current task, or where to look for the next one.
    tid: u32,
    /// With [`TaskFilter::Tgid`], the tid of the thread being visited (C's `pid_visiting`).
    pid_visiting: u32,
}

impl TaskWalk {
    /// A walk in the pid namespace of the current task (the creator of the iterator).
    fn new(filter: TaskFilter) -> Result<Self> {
        Ok(TaskWalk {
            ns: kernel::current!().active_pid_ns().ok_or(ESRCH)?.into(),
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
    /// are skipped (as for C's task_file and task_vma). Always inline: `rust_task`'s `next`
    /// is this and little else, once per object, and a call costs as much as the rest of it.
    #[inline(always)]
    fn next_task(&mut self, skip_dup_files: bool) -> Option<ARef<Task>> {
        let rcu = rcu::read_lock();
        let ns = &*self.ns;
        match self.filter {
            TaskFilter::Tid(pid) => {
                if self.tid != 0 && self.tid != pid {
                    return None;
                }
                let task = ns.get_task(i32::try_from(pid).ok()?, &rcu)?;
                self.tid = pid;
                Some(task)
            }
            TaskFilter::Tgid(pid) => self.group_next(pid, skip_dup_files, &rcu),
            TaskFilter::All => loop {
                let (tid, task) = ns.get_ge_task(i32::try_from(self.tid).ok()?, &rcu)?;
                self.tid = tid as u32;
                if !(skip_dup_files && task.shares_files_with_leader(&rcu)) {
                    return Some(task);
                }
                self.tid += 1;
            },
        }
    }

    /// The threads of process `pid`: C's `task_group_seq_get_next()`. Not inline, so that
    /// [`TaskWalk::next_task`] stays small enough to be.
    #[inline(never)]
    fn group_next(
        &mut self,
        pid: u32,
        skip_dup_files: bool,
        rcu: &rcu::Guard,
    ) -> Option<ARef<Task>> {
        let ns = &*self.ns;
        if self.tid == 0 {
            // The first call: the process itself (its leader).
            let task = ns.get_process(i32::try_from(pid).ok()?, rcu)?;
            self.tid = pid;
            self.pid_visiting = pid;
            return Some(task);
        }
        let visiting = i32::try_from(self.pid_visiting).ok()?;
        if self.tid == self.pid_visiting {
            // A new read resumes at the thread the previous one stopped at.
            return ns.get_task(visiting, rcu);
        }
        let mut task = ns.find_task(visiting, rcu)?;
        loop {
            task = task.next_thread(rcu)?;
            let tid = task.pid_nr_ns(Some(ns));
            if tid == 0 || (skip_dup_files && task.shares_files_with_leader(rcu)) {
                continue;
            }
            self.tid = tid as u32;
            self.pid_visiting = tid as u32;
            return Some(task.into());
        }
    }
}

/// Per-link state of the three targets: the parameters, copied by each iterator.
struct TaskLink {
    filter: TaskFilter,
}

/// The three targets' `attach`: a thread or process asked for must exist.
fn attach_task(filter: TaskFilter) -> Result<TaskLink> {
    Ok(TaskLink {
        filter: filter.check_exists()?,
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

struct RustTask;

#[vtable]
impl iter::Target for RustTask {
    const NAME: &'static CStr = c_str!("rust_task");
    const RESCHED: bool = true;

    type Ctx<'a> = TaskCtx<'a>;
    type Data = ();
    type Params = TaskFilter;
    type Link = TaskLink;
    type Iter = TaskWalk;
    type Item = ARef<Task>;

    fn attach(_data: (), filter: TaskFilter) -> Result<TaskLink> {
        attach_task(filter)
    }

    fn init_iter(link: &TaskLink) -> Result<TaskWalk> {
        TaskWalk::new(link.filter)
    }

    fn start(walk: &mut TaskWalk, _pos: u64) -> Result<Option<ARef<Task>>> {
        // The cursor is at the task the previous read stopped at (or at the start).
        Ok(walk.next_task(false))
    }

    #[inline]
    fn next(walk: &mut TaskWalk, task: &mut Option<ARef<Task>>) {
        walk.tid += 1;
        // Drops the task shown.
        *task = walk.next_task(false);
    }

    fn ctx<'a>(_walk: &'a TaskWalk, task: &'a ARef<Task>) -> TaskCtx<'a> {
        TaskCtx {
            task: TrustedBtfPtr::new(task),
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

/// What `bpf_iter_rust_task_new`'s `flags` ask for: C's `enum bpf_iter_task_type`.
const ALL_PROCS: u32 = 0;
const ALL_THREADS: u32 = 1;
const PROC_THREADS: u32 = 2;

/// An open-coded `rust_task` walk (C's `struct bpf_iter_task_kern`): the list of processes
/// (`None` for the threads of one process), and the thread `next` yields next (`None` at the
/// end).
struct OpenTasks<'r> {
    procs: Option<ProcessCursor<'r>>,
    pos: Option<ThreadCursor<'r>>,
    all_procs: bool,
}

impl iter::OpenIter for RustTask {
    const NAME: &'static CStr = c_str!("rust_task");
    const PROTECTION: Protection = Protection::Rcu;
    const ARG_NAMES: &'static [&'static str] = &["task", "flags"];

    // `bpf_iter_rust_task_new(&it, task__nullable, flags)`, as C's `bpf_iter_task_new`.
    type Args = (Option<ARef<Task>>, u32);
    type State<'r> = OpenTasks<'r>;
    type Item<'r> = &'r Task;

    fn new<'r>(
        scope: Scope<'r, Self>,
        (task, flags): (Option<ARef<Task>>, u32),
    ) -> Result<OpenTasks<'r>> {
        let rcu = scope.rcu();
        let (procs, pos) = match (flags, task) {
            (ALL_PROCS | ALL_THREADS, _) => {
                let procs = ProcessCursor::start(rcu);
                (Some(procs), Some(procs.threads()))
            }
            // A task that has been released has no threads to walk: an empty walk.
            (PROC_THREADS, Some(task)) => (None, ThreadCursor::new(&task, rcu)),
            _ => return Err(EINVAL),
        };
        Ok(OpenTasks {
            procs,
            pos,
            all_procs: flags == ALL_PROCS,
        })
    }

    #[inline]
    fn next<'r>(_: Scope<'r, Self>, walk: &mut OpenTasks<'r>) -> Option<&'r Task> {
        let pos = walk.pos.as_mut()?;
        let task = pos.task();
        if walk.all_procs || pos.advance().is_none() {
            // The next process, or (the threads of one process) the end.
            walk.pos = walk
                .procs
                .as_mut()
                .and_then(|p| p.advance().map(|_| p.threads()));
        }
        Some(task)
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

/// The object a `rust_task_file` iterator is at: a task and its open file at the iterator's
/// `fd`. The references live from the `start` or `next` that found them to the `next` or
/// `stop` that leaves them, so walking needs no allocation per object.
type FileItem = (ARef<Task>, ARef<File>);

/// Per-iterator state of `rust_task_file` (C's `struct bpf_iter_seq_task_file_info`).
struct TaskFileIter {
    walk: TaskWalk,
    /// The fd of the current file, or where to look for the next one in the current task.
    fd: u32,
}

impl TaskFileIter {
    /// Finds the first file at or after the cursor in the next task from the walk's cursor:
    /// C's `task_file_seq_get_next()`. `next` finds the rest of a task's files itself.
    fn advance(&mut self) -> Option<FileItem> {
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
                return Some((task, file));
            }
            if !self.task_done(task) {
                return None;
            }
        }
    }

    /// The rest of `next` when the task has no more files: the first file of the next task.
    fn next_slow(&mut self, item: &mut Option<FileItem>) {
        if let Some((task, file)) = item.take() {
            drop(file);
            if !self.task_done(task) {
                return;
            }
        }
        *item = self.advance();
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
    type Params = TaskFilter;
    type Link = TaskLink;
    type Iter = TaskFileIter;
    type Item = FileItem;

    fn attach(_data: (), filter: TaskFilter) -> Result<TaskLink> {
        attach_task(filter)
    }

    fn init_iter(link: &TaskLink) -> Result<TaskFileIter> {
        Ok(TaskFileIter {
            walk: TaskWalk::new(link.filter)?,
            fd: 0,
        })
    }

    fn start(it: &mut TaskFileIter, _pos: u64) -> Result<Option<FileItem>> {
        // The cursor (`tid`, `fd`) is where the last read stopped, on a file it did not show.
        Ok(it.advance())
    }

    #[inline]
    fn next(it: &mut TaskFileIter, item: &mut Option<FileItem>) {
        // Most files are followed by another of the same task: find it here, in place (as C's
        // `task_file_seq_get_next()` does, inline). The fd of an open file is below `INT_MAX`
        // (`sysctl_nr_open`): no overflow.
        if let Some((task, file)) = item {
            if let Some((fd, next)) = task.next_file(it.fd.wrapping_add(1)) {
                it.fd = fd;
                // Drops the file shown.
                *file = next;
                return;
            }
        }
        it.next_slow(item)
    }

    fn ctx<'a>(it: &'a TaskFileIter, (task, file): &'a FileItem) -> TaskFileCtx<'a> {
        TaskFileCtx {
            task: BtfPtr::new(task),
            fd: Scalar::new(it.fd),
            file: BtfPtr::new(file),
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

/// The object a `rust_task_vma` iterator is at: a mapping, under its address space's mmap read
/// lock (with a reference on the address space), and its task, as C holds them from the
/// `start` or `next` that found the mapping to the `next` or `stop` that leaves it. Tuple
/// elements drop in order: the lock and the mm reference go before the task reference.
type VmaItem = (VmaWalk, ARef<Task>);

/// Per-iterator state of `rust_task_vma` (C's `struct bpf_iter_seq_task_vma_info`). Between
/// reads nothing is held: `prev_vm_start`/`prev_vm_end` say where to resume.
struct TaskVmaIter {
    walk: TaskWalk,
    prev_vm_start: usize,
    prev_vm_end: usize,
}

impl TaskVmaIter {
    /// Finds the first mapping of the next task from the walk's cursor: C's
    /// `task_vma_seq_get_next()` for a new task. If that task is `resume_tid` (the one the
    /// last read stopped in), the walk resumes after `prev_vm_start..prev_vm_end` instead.
    fn first_vma(&mut self, resume_tid: Option<u32>) -> Option<VmaItem> {
        loop {
            let Some(task) = self.walk.next_task(true) else {
                self.walk.tid += 1;
                return None;
            };
            let Some(mm) = task.get_mm() else {
                if !self.task_done(task) {
                    return None;
                }
                continue;
            };
            let lock = OwnedMmapReadGuard::lock_killable(mm).ok()?;
            let found = if resume_tid == Some(self.walk.tid) {
                self.resume_vma(lock)
            } else {
                VmaWalk::new(lock, 0)
            };
            match found {
                Ok(vmas) => return Some((vmas, task)),
                Err(lock) => {
                    drop(lock);
                    if !self.task_done(task) {
                        return None;
                    }
                }
            }
        }
    }

    /// The mapping after `prev_vm_start..prev_vm_end` of the current task, the lock having
    /// been dropped since that range was seen; the lock back if there is none.
    fn resume_vma(&self, lock: OwnedMmapReadGuard) -> Result<VmaWalk, OwnedMmapReadGuard> {
        let (start, end) = (self.prev_vm_start, self.prev_vm_end);
        let same = lock
            .find_vma(end.wrapping_sub(1))
            .is_some_and(|v| v.start() == start && v.end() == end);
        // Already shown: take the one after it. Gone or changed: show what covers the range
        // now.
        VmaWalk::new(lock, if same { end } else { end.wrapping_sub(1) })
    }

    /// Leaves a task whose mappings have all been seen (its mm already unlocked and dropped);
    /// whether the walk goes on.
    fn task_done(&mut self, task: ARef<Task>) -> bool {
        drop(task);
        if self.walk.one_thread() {
            return false;
        }
        self.walk.tid += 1;
        true
    }

    /// The rest of `next` when the task's next mapping is not found with the lock kept: a
    /// writer waits, or the task has no more.
    fn next_slow(&mut self, item: &mut Option<VmaItem>, contended: bool) {
        let Some((vmas, task)) = item.take() else {
            return;
        };
        if contended {
            // Let the writer in; find our place again afterwards.
            self.prev_vm_start = vmas.vma().start();
            self.prev_vm_end = vmas.vma().end();
            let Ok(lock) = OwnedMmapReadGuard::lock_killable(vmas.into_lock().unlock()) else {
                return;
            };
            match self.resume_vma(lock) {
                Ok(vmas) => {
                    *item = Some((vmas, task));
                    return;
                }
                Err(lock) => drop(lock),
            }
        } else {
            drop(vmas);
        }
        if self.task_done(task) {
            *item = self.first_vma(None);
        }
    }
}

struct RustTaskVma;

#[vtable]
impl iter::Target for RustTaskVma {
    const NAME: &'static CStr = c_str!("rust_task_vma");
    const RESCHED: bool = true;

    type Ctx<'a> = TaskVmaCtx<'a>;
    type Data = ();
    type Params = TaskFilter;
    type Link = TaskLink;
    type Iter = TaskVmaIter;
    type Item = VmaItem;

    fn attach(_data: (), filter: TaskFilter) -> Result<TaskLink> {
        attach_task(filter)
    }

    fn init_iter(link: &TaskLink) -> Result<TaskVmaIter> {
        Ok(TaskVmaIter {
            walk: TaskWalk::new(link.filter)?,
            prev_vm_start: 0,
            prev_vm_end: 0,
        })
    }

    fn start(it: &mut TaskVmaIter, _pos: u64) -> Result<Option<VmaItem>> {
        Ok(it.first_vma(Some(it.walk.tid)))
    }

    #[inline]
    fn next(it: &mut TaskVmaIter, item: &mut Option<VmaItem>) {
        // Most mappings are followed by another of the same task: find it here, in place, with
        // the lock kept, as C's `task_vma_seq_get_next()` does.
        let Some((vmas, _task)) = item else {
            return;
        };
        let contended = vmas.lock().is_contended();
        if contended || !vmas.advance() {
            it.next_slow(item, contended);
        }
    }

    fn stop(it: &mut TaskVmaIter, item: Option<VmaItem>) {
        if let Some((vmas, _task)) = item {
            // Stopped on a mapping the program has not seen: the next read must find it
            // again, so resume at its end without skipping it (no start matches `!0`).
            it.prev_vm_start = usize::MAX;
            it.prev_vm_end = vmas.vma().end();
        }
    }

    fn ctx<'a>(_it: &'a TaskVmaIter, (vmas, task): &'a VmaItem) -> TaskVmaCtx<'a> {
        TaskVmaCtx {
            task: BtfPtr::new(task),
            vma: BtfPtr::new(vmas.vma()),
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
    open_iters: [RustTask],
    name: "rust_bpf_iter_task",
    description: "Rust twins of the task, task_file and task_vma BPF iterator targets",
    license: "GPL",
}
