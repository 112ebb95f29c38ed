// SPDX-License-Identifier: GPL-2.0

//! Finding tasks in a pid namespace, and walking a thread group: the lookups of walks over
//! tasks, such as BPF iterator targets.
//!
//! The lookups run under the RCU read lock and return tasks that borrow its guard, so that none
//! is used after the lock is released without a reference taken on it (`ARef::from`); the
//! `get_*` ones take that reference themselves. `Task::pid_alive()` and equality of namespaces
//! are here too.

use super::PidNamespace;
use crate::{
    bindings,
    sync::{aref::ARef, rcu},
    task::{Pid, Task},
};
use core::ptr;

impl PidNamespace {
    /// Returns the task with thread id `tid` in this namespace (C's `find_task_by_pid_ns`).
    ///
    /// The task is valid while the RCU read lock is held: the result borrows `rcu`. Keep it
    /// longer with `ARef::from`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{sync::{aref::ARef, rcu}, task::Task};
    ///
    /// let current = kernel::current!();
    /// let ns = current.active_pid_ns().unwrap();
    /// let found: ARef<Task> = {
    ///     let rcu = rcu::read_lock();
    ///     let t = ns.find_task(current.pid_nr_ns(Some(ns)), &rcu).unwrap();
    ///     t.into()
    /// };
    /// assert!(*found == **current);
    /// // Thread ids are positive: 0 and negative ones find nothing.
    /// assert!(ns.find_task(0, &rcu::read_lock()).is_none());
    /// ```
    #[doc(alias = "find_task_by_pid_ns")]
    #[inline]
    pub fn find_task<'a>(&'a self, tid: Pid, rcu: &'a rcu::Guard) -> Option<&'a Task> {
        self.find(tid, bindings::pid_type_PIDTYPE_PID, rcu)
    }

    /// Returns the process with process id `tgid` in this namespace: its thread group leader
    /// (C's `pid_task(find_pid_ns(tgid, ns), PIDTYPE_TGID)`). `None` if `tgid` is not a
    /// process id (a thread's id, say).
    ///
    /// As for [`PidNamespace::find_task`], the task borrows `rcu`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::sync::rcu;
    ///
    /// let current = kernel::current!();
    /// let ns = current.active_pid_ns().unwrap();
    /// let rcu = rcu::read_lock();
    /// let leader = ns.find_process(current.tgid_nr_ns(Some(ns)), &rcu).unwrap();
    /// assert!(*leader == *current.group_leader());
    /// ```
    #[inline]
    pub fn find_process<'a>(&'a self, tgid: Pid, rcu: &'a rcu::Guard) -> Option<&'a Task> {
        self.find(tgid, bindings::pid_type_PIDTYPE_TGID, rcu)
    }

    /// Returns the task with the lowest thread id at or above `tid` in this namespace, and that
    /// id; `None` if there is none. A walk over every task of the namespace calls it again with
    /// the id after the one returned (C's `find_ge_pid` loop of `task_seq_get_next`): a task
    /// created or gone meanwhile may or may not be seen.
    ///
    /// As for [`PidNamespace::find_task`], the task borrows `rcu`.
    ///
    /// # Examples
    ///
    /// Counting the tasks of the current namespace, one RCU read section per task:
    ///
    /// ```
    /// use kernel::sync::rcu;
    ///
    /// let current = kernel::current!();
    /// let ns = current.active_pid_ns().unwrap();
    /// let (mut next, mut seen, mut found_self) = (1, 0, false);
    /// loop {
    ///     let rcu = rcu::read_lock();
    ///     let Some((tid, task)) = ns.find_ge_task(next, &rcu) else { break };
    ///     assert!(tid >= next);
    ///     assert_eq!(task.pid_nr_ns(Some(ns)), tid);
    ///     found_self |= *task == **current;
    ///     seen += 1;
    ///     next = tid + 1;
    /// }
    /// assert!(seen > 1 && found_self);
    /// ```
    #[inline]
    pub fn find_ge_task<'a>(&'a self, tid: Pid, rcu: &'a rcu::Guard) -> Option<(Pid, &'a Task)> {
        self.ge_pid_task(tid, rcu, |pid| {
            // SAFETY: `pid` is valid under RCU (`ge_pid_task`), which `rcu` holds for `'a`.
            unsafe { task_under_rcu(bindings::pid_task(pid, bindings::pid_type_PIDTYPE_PID)) }
        })
    }

    /// The task of type `ty` of the pid numbered `nr` in this namespace, borrowing `_rcu`.
    #[inline]
    fn find<'a>(
        &'a self,
        nr: Pid,
        ty: bindings::pid_type,
        _rcu: &'a rcu::Guard,
    ) -> Option<&'a Task> {
        // SAFETY: `self` is valid and the RCU read lock is held (`_rcu`), as `find_pid_ns`
        // requires; `pid_task` accepts the NULL it returns for an unknown id; a task found so
        // is valid while the lock is held, for `'a` (see `task_under_rcu`).
        unsafe {
            task_under_rcu(bindings::pid_task(
                bindings::find_pid_ns(nr, self.as_ptr()),
                ty,
            ))
        }
    }

    /// The task of type `ty` of the pid numbered `nr` in this namespace, with a reference.
    #[inline]
    fn get(&self, nr: Pid, ty: bindings::pid_type, _rcu: &rcu::Guard) -> Option<ARef<Task>> {
        // SAFETY: `self` is valid and the RCU read lock is held, as `find_pid_ns` requires;
        // `get_pid_task` accepts NULL, and returns NULL or a task with a reference taken for us
        // (see `owned_task`).
        unsafe {
            owned_task(bindings::get_pid_task(
                bindings::find_pid_ns(nr, self.as_ptr()),
                ty,
            ))
        }
    }

    /// The first pid numbered `tid` or more in this namespace for which `task` (given the pid,
    /// valid under the RCU read lock that `_rcu` holds) returns something, with its number.
    #[inline(always)]
    fn ge_pid_task<T>(
        &self,
        tid: Pid,
        _rcu: &rcu::Guard,
        task: impl Fn(*mut bindings::pid) -> Option<T>,
    ) -> Option<(Pid, T)> {
        let ns = self.as_ptr();
        let mut nr = tid;
        loop {
            // SAFETY: `ns` is valid, the RCU read lock is held.
            let pid = unsafe { bindings::find_ge_pid(nr, ns) };
            if pid.is_null() {
                return None;
            }
            // SAFETY: `pid` is valid under RCU, and has a number in `ns` (it was found there).
            nr = unsafe { bindings::pid_nr_ns(pid, ns) };
            if let Some(t) = task(pid) {
                return Some((nr, t));
            }
            // A pid with no task (yet, or any more): look further. Pid numbers are below
            // `PID_MAX_LIMIT`: no overflow.
            nr += 1;
        }
    }
}

impl PidNamespace {
    /// [`PidNamespace::find_task`] with a reference taken on the task (C's `get_pid_task`, one
    /// call where `find_task(..).map(ARef::from)` makes two).
    #[inline]
    pub fn get_task(&self, tid: Pid, rcu: &rcu::Guard) -> Option<ARef<Task>> {
        self.get(tid, bindings::pid_type_PIDTYPE_PID, rcu)
    }

    /// [`PidNamespace::find_process`] with a reference taken on the task.
    #[inline]
    pub fn get_process(&self, tgid: Pid, rcu: &rcu::Guard) -> Option<ARef<Task>> {
        self.get(tgid, bindings::pid_type_PIDTYPE_TGID, rcu)
    }

    /// [`PidNamespace::find_ge_task`] with a reference taken on the task: what a walk over every
    /// task keeps from one object to the next, found with the calls C's `task_seq_get_next()`
    /// makes.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::sync::rcu;
    ///
    /// let current = kernel::current!();
    /// let ns = current.active_pid_ns().unwrap();
    /// let (tid, task) = ns.get_ge_task(1, &rcu::read_lock()).unwrap();
    /// // The task outlives the RCU read section.
    /// assert_eq!(task.pid_nr_ns(Some(ns)), tid);
    /// ```
    #[inline]
    pub fn get_ge_task(&self, tid: Pid, rcu: &rcu::Guard) -> Option<(Pid, ARef<Task>)> {
        self.ge_pid_task(tid, rcu, |pid| {
            // SAFETY: `pid` is valid under RCU (`ge_pid_task`); `get_pid_task` returns NULL or
            // a task with a reference taken for us (see `owned_task`).
            unsafe { owned_task(bindings::get_pid_task(pid, bindings::pid_type_PIDTYPE_PID)) }
        })
    }
}

/// Takes over the reference on a task returned by C (`get_pid_task`), `None` for NULL.
///
/// # Safety
///
/// `t` is NULL or a valid task on which the caller owns a reference, which it hands over.
#[inline]
unsafe fn owned_task(t: *mut bindings::task_struct) -> Option<ARef<Task>> {
    // SAFETY: By the safety requirements. CAST: `Task` is transparent over `task_struct`.
    ptr::NonNull::new(t).map(|t| unsafe { ARef::from_raw(t.cast::<Task>()) })
}

/// The C task of `t`: `Task::as_ptr()`, which walks call once per object, and which is not
/// inlined across crates (`Opaque::get()` is not `#[inline]`).
#[inline(always)]
fn raw(t: &Task) -> *mut bindings::task_struct {
    // CAST: `Task` is a transparent wrapper of `Opaque<task_struct>`, itself a transparent
    // wrapper of the C struct (an `UnsafeCell`, which allows the C side to change it).
    ptr::from_ref(t).cast_mut().cast()
}

/// Turns a task found under the RCU read lock into a reference, `None` for NULL.
///
/// # Safety
///
/// `t` is NULL or a task found through a pid (`pid_task`) while the RCU read lock is held, and
/// that lock is held for the whole lifetime `'a`. (Tasks are unhashed from their pids before
/// their last reference is dropped, and that drop waits for an RCU grace period, C's
/// `put_task_struct_rcu_user`: such a task is valid, with a non-zero reference count, until the
/// lock is released.)
#[inline]
unsafe fn task_under_rcu<'a>(t: *mut bindings::task_struct) -> Option<&'a Task> {
    // SAFETY: By the safety requirements, a non-NULL `t` is valid for `'a`.
    // CAST: `Task` is a transparent wrapper of `struct task_struct`.
    (!t.is_null()).then(|| unsafe { &*t.cast::<Task>() })
}

impl Task {
    /// Returns the thread after this one in its thread group, or `None` after the last (C's
    /// `__next_thread`). The result borrows `rcu`, as for [`PidNamespace::find_task`].
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::sync::rcu;
    ///
    /// let current = kernel::current!();
    /// let rcu = rcu::read_lock();
    /// let (mut t, mut threads) = (current.group_leader(), 1);
    /// while let Some(next) = t.next_thread(&rcu) {
    ///     assert_eq!(next.tgid_nr_ns(None), current.tgid_nr_ns(None));
    ///     t = next;
    ///     threads += 1;
    /// }
    /// assert!(threads >= 1);
    /// ```
    ///
    /// A task that has been released (`release_task()`, after it exited and was reaped) is no
    /// longer in its group: `None` (C's `next_tid()` of procfs checks the same); nor is one that
    /// `fork` is still making (a hook of `fork` may see it), whose links are its parent's.
    #[doc(alias = "__next_thread")]
    #[inline]
    pub fn next_thread<'a>(&'a self, rcu: &'a rcu::Guard) -> Option<&'a Task> {
        if !self.attached(rcu) {
            return None;
        }
        // SAFETY: `self` is valid, and so is its `signal` (freed with the task); the thread
        // list is walked under RCU (`rcu`), as `__next_thread` requires. `self` was in the list
        // during this read section (`attached`), so the thread its link points to was too.
        let t = unsafe { bindings::__next_thread(raw(self)) };
        // SAFETY: A thread reached from the list during the read section is freed no earlier
        // than a grace period after its unlinking, as in `task_under_rcu`: `t` is valid while
        // `rcu` is.
        unsafe { task_under_rcu(t) }
    }

    /// Whether the task has not been released yet (C's `pid_alive`): it exited and was reaped
    /// if not. Checked under the RCU read lock, a live task's links (its next thread, its group
    /// leader) stay valid until the lock is released.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(kernel::current!().pid_alive());
    /// ```
    #[inline]
    pub fn pid_alive(&self) -> bool {
        // SAFETY: `self` is a valid task. `thread_pid` is set to NULL once, under
        // `tasklist_lock`, when the task is released; C reads it with `READ_ONCE`.
        !unsafe { ptr::addr_of!((*raw(self)).thread_pid).read_volatile() }.is_null()
    }
}

impl Task {
    /// This task for the rest of `rcu`'s read-side section, if it is in its thread group (not
    /// released yet, nor still being made by `fork`): the result outlives the borrow of `self`
    /// (an `ARef` dropped meanwhile, say), as a task found under the lock would.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::sync::{aref::ARef, rcu};
    /// use kernel::task::Task;
    ///
    /// let rcu = rcu::read_lock();
    /// let me: ARef<Task> = ARef::from(&**kernel::current!());
    /// let t = me.under_rcu(&rcu).unwrap();
    /// drop(me);
    /// assert!(t.pid_alive());
    /// ```
    #[inline]
    pub fn under_rcu<'a>(&self, rcu: &'a rcu::Guard) -> Option<&'a Task> {
        // SAFETY: A task attached to its pid during the read section is released (its pid
        // detached) no earlier than that, and freed no earlier than a grace period after its
        // release (its `rcu_users` reference is put with `call_rcu`), as in `task_under_rcu`:
        // valid while `rcu` is.
        self.attached(rcu).then(|| unsafe { &*ptr::from_ref(self) })
    }

    /// Whether the task is in its thread group now: attached to its pid (C's
    /// `pid_task(task_pid(p), PIDTYPE_PID) == p`), or `init_task`. A task being made by `fork`
    /// is not yet (though it is alive, with a copy of its parent's pid and links, which hooks
    /// of `fork` may see), a released one no longer. A new thread joins its group's list in the
    /// critical section of `tasklist_lock` that attaches its pid, before it (a new process is
    /// in its own list from `copy_signal()` on), and leaves it in the one that detaches it,
    /// after (`copy_process()`, `__unhash_process()`); `de_thread()` swaps the pids of two
    /// tasks that stay in the list (`exchange_tids()`), and a check that reads the pid before
    /// the swap and the pid's task after it says `false` for a task in the list: an empty walk,
    /// never a wrong one. What the task's links were when it was attached is visible after this
    /// returns `true`.
    fn attached(&self, _rcu: &rcu::Guard) -> bool {
        let p = raw(self);
        // `init_task` is attached to no pid (`init_struct_pid` has no tasks), and is in its list
        // for ever.
        if ptr::eq(p, ptr::addr_of!(bindings::init_task)) {
            return true;
        }
        // SAFETY: `self` is a valid task; `thread_pid` is read as C's `task_pid()` does.
        let pid = unsafe { ptr::addr_of!((*p).thread_pid).read_volatile() };
        if pid.is_null() {
            return false;
        }
        // SAFETY: A pid read from a valid task under the RCU read lock (`_rcu`) is freed no
        // earlier than a grace period after that task let go of it (`put_pid()` of a detached
        // pid, `delayed_put_pid`).
        let first = unsafe { bindings::pid_task(pid, bindings::pid_type_PIDTYPE_PID) };
        let attached = ptr::eq(first, p);
        // Orders the reads of the task's links after that of the pid's list, which
        // `attach_pid()` published (`hlist_add_head_rcu`) after setting them.
        core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
        attached
    }
}

/// A position in the kernel's list of processes (thread group leaders), from `init_task`, the
/// idle task of the boot CPU, on, as C's `for_each_process()` walks it (`next_task()`), under
/// the RCU read lock.
///
/// # Examples
///
/// ```
/// use kernel::sync::rcu;
/// use kernel::pid_namespace::ProcessCursor;
///
/// let rcu = rcu::read_lock();
/// let mut c = ProcessCursor::start(&rcu);
/// assert_eq!(c.task().pid(), 0);
/// let mut found_init = false;
/// while let Some(t) = c.advance() {
///     found_init |= t.pid() == 1;
///     assert_eq!(t.pid(), t.tgid_nr_ns(None));
/// }
/// assert!(found_init);
/// // At the end the cursor stays where it is.
/// assert!(c.advance().is_none());
/// ```
///
/// # Invariants
///
/// `task` is `init_task`, or was reached from it through the list's links (`tasks.next`) within
/// the read-side section that `'a` borrows.
#[derive(Clone, Copy)]
pub struct ProcessCursor<'a> {
    task: &'a Task,
}

impl<'a> ProcessCursor<'a> {
    /// A cursor at `init_task`, the list's head (pid 0, the first process C's iterators show).
    #[inline]
    pub fn start(_rcu: &'a rcu::Guard) -> Self {
        // SAFETY: `init_task` is a static that is never freed nor moved. CAST: `Task` is a
        // transparent wrapper of `struct task_struct`. Only its address is taken here.
        let task = unsafe { &*ptr::addr_of!(bindings::init_task).cast::<Task>() };
        // INVARIANT: `init_task`.
        ProcessCursor { task }
    }

    /// The process the cursor is at.
    #[inline]
    pub fn task(&self) -> &'a Task {
        self.task
    }

    /// A cursor over the threads of the process the cursor is at, from that process on.
    #[inline]
    pub fn threads(&self) -> ThreadCursor<'a> {
        // INVARIANT: The process was in the list of processes during the read section, so it
        // was in its thread group's list then too: a process is in its own list from
        // `copy_signal()` on, before `copy_process()` adds it to the list of processes, and
        // `__unhash_process()` removes it from both in one critical section of `tasklist_lock`;
        // `de_thread()` gives the list position to a thread already in the group.
        ThreadCursor { task: self.task }
    }

    /// Moves to the next process of the list and returns it, or `None` (staying) when the
    /// list leads back to `init_task`: its end. Processes that fork meanwhile may or may not
    /// be seen (they are added at the end), as in C.
    #[inline]
    pub fn advance(&mut self) -> Option<&'a Task> {
        let head = ptr::addr_of!(bindings::init_task);
        // SAFETY: By the type invariant `self.task` was in the list during this read section,
        // so its `tasks.next` (left as it was when it is unlinked, `list_del_rcu`) leads to a
        // task that was in the list during it too, or to the head: C's `next_task()`, whose
        // `list_entry_rcu` is a `READ_ONCE` of the link.
        let next = unsafe {
            let link = ptr::addr_of!((*raw(self.task)).tasks.next).read_volatile();
            link.byte_sub(core::mem::offset_of!(bindings::task_struct, tasks))
                .cast::<bindings::task_struct>()
        };
        if ptr::eq(next, head) {
            return None;
        }
        // SAFETY: A task reached through the list during the read section is freed no earlier
        // than a grace period after it is unlinked (`release_task()` puts its `rcu_users`
        // reference with `call_rcu`), so it is valid while the guard `'a` borrows is.
        // CAST: `Task` is transparent over `task_struct`.
        // INVARIANT: Reached through the list's link.
        self.task = unsafe { &*next.cast::<Task>() };
        Some(self.task)
    }
}

/// A position in a thread group's list of threads, as C's `for_each_thread()` walks it
/// (`__next_thread()`), under the RCU read lock: unlike [`Task::next_thread`], a step checks
/// nothing more than C does, as the cursor only ever holds threads that were in the list during
/// the read section.
///
/// # Examples
///
/// ```
/// use kernel::pid_namespace::ThreadCursor;
/// use kernel::sync::rcu;
///
/// let rcu = rcu::read_lock();
/// let me = kernel::current!();
/// let mut c = ThreadCursor::new(me.group_leader(), &rcu).unwrap();
/// let mut threads = 1;
/// while c.advance().is_some() {
///     assert_eq!(c.task().tgid_nr_ns(None), me.tgid_nr_ns(None));
///     threads += 1;
/// }
/// assert!(threads >= 1);
/// ```
///
/// # Invariants
///
/// `task` was in its thread group's list of threads at some time during the read section that
/// `'a` borrows.
#[derive(Clone, Copy)]
pub struct ThreadCursor<'a> {
    task: &'a Task,
}

impl<'a> ThreadCursor<'a> {
    /// A cursor at `task`, if it is in its thread group ([`Task::under_rcu`]). The idle tasks
    /// but `init_task` are in none (they have no pid): `None`.
    #[inline]
    pub fn new(task: &Task, rcu: &'a rcu::Guard) -> Option<Self> {
        // INVARIANT: `under_rcu` saw the task attached to its pid, which it is only while it is
        // in its group's list (`Task::attached`), or `init_task`, in its own list for ever.
        task.under_rcu(rcu).map(|task| ThreadCursor { task })
    }

    /// The thread the cursor is at.
    #[inline]
    pub fn task(&self) -> &'a Task {
        self.task
    }

    /// Moves to the next thread of the group and returns it, or `None` (staying) after the
    /// last one.
    #[inline]
    pub fn advance(&mut self) -> Option<&'a Task> {
        // SAFETY: By the type invariant the task, and so its `signal` (freed with the task),
        // is valid; its list is walked under RCU, as `__next_thread` requires.
        let t = unsafe { bindings::__next_thread(raw(self.task)) };
        // SAFETY: A thread reached from the list during the read section (the task was in it
        // then, and its link was left as it was if it was unlinked since, `list_del_rcu`) is
        // freed no earlier than a grace period after its unlinking, as in `task_under_rcu`.
        let next = unsafe { task_under_rcu(t) }?;
        // INVARIANT: Reached through the list.
        self.task = next;
        Some(next)
    }
}

impl PartialEq for PidNamespace {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        ptr::eq(self.as_ptr(), other.as_ptr())
    }
}

impl Eq for PidNamespace {}
