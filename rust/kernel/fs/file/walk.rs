// SPDX-License-Identifier: GPL-2.0

//! A task's open files, for walks over them (BPF iterator targets over files).

use super::File;
use crate::{
    bindings,
    sync::{aref::ARef, rcu},
    task::Task,
};
use core::ptr::{self, NonNull};

impl Task {
    /// Whether this task is a thread, other than its group leader, that shares the leader's
    /// file table: a walk over the open files of processes skips such threads, whose files
    /// are the leader's (C's `task_seq_get_next()` test for `skip_if_dup_files`).
    ///
    /// The fields are read without the task lock, as C does: a thread that execs or unshares
    /// its table meanwhile may be seen either way. A released task (exited and reaped) is not
    /// skipped: its leader may be gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let current = kernel::current!();
    /// let rcu = kernel::sync::rcu::read_lock();
    /// // A group leader is never skipped.
    /// assert!(!current.group_leader().shares_files_with_leader(&rcu));
    /// ```
    #[inline]
    pub fn shares_files_with_leader(&self, _rcu: &rcu::Guard) -> bool {
        if !self.pid_alive() {
            return false;
        }
        let t = self.as_ptr();
        // SAFETY: `t` is a valid task. `exit_signal`, `group_leader` and `files` change only
        // under locks this does not take (as C's readers do not); the reads are volatile, so
        // a concurrent change gives an old or new value and nothing else. `exit_signal < 0`
        // is C's `!thread_group_leader(t)`.
        let (leader, files) = unsafe {
            if ptr::addr_of!((*t).exit_signal).read_volatile() >= 0 {
                return false;
            }
            (
                ptr::addr_of!((*t).group_leader).read_volatile(),
                ptr::addr_of!((*t).files).read_volatile(),
            )
        };
        // SAFETY: The task was alive during this read section (`pid_alive`), so its group
        // leader then was too: a leader is released after its last thread or, replaced by an
        // exec, with the exec; either way it is freed a grace period after that, not before
        // `_rcu` is released.
        files == unsafe { ptr::addr_of!((*leader).files).read_volatile() }
    }

    /// Returns the open file of this task with the lowest descriptor at or above `fd`, and that
    /// descriptor; `None` if there is none (or the task has exited and has no file table).
    ///
    /// A walk over a task's files calls it again with the descriptor after the one returned. A
    /// file opened or closed meanwhile may or may not be seen, as for C's
    /// `fget_task_next()`, which this wraps (on 6.12, a helper of that name over
    /// `task_lookup_next_fdget_rcu()`).
    ///
    /// The file is another task's: that task may be inside a `read()`, `write()` or `lseek()`
    /// of it whose `fdget_pos()` skipped `f_pos_lock` (a single-threaded process holding the
    /// only reference). 7.3's [`File`] says no such call is active; here one may be. What that
    /// rule protects is `f_pos`, and nothing reachable through a `File` reads or writes it, as
    /// C's `task_file` iterator, which hands the same files to programs, does not either.
    ///
    /// # Examples
    ///
    /// Every open file of the current task, in descriptor order:
    ///
    /// ```
    /// let task = kernel::current!();
    /// let mut next = 0;
    /// while let Some((fd, file)) = task.next_file(next) {
    ///     assert!(fd >= next);
    ///     let _flags = file.flags();
    ///     next = fd + 1;
    /// }
    /// ```
    #[inline]
    pub fn next_file(&self, fd: u32) -> Option<(u32, ARef<File>)> {
        let mut fd = fd;
        // SAFETY: `self` is a valid task, for the duration of the call. The function takes the
        // task's lock and the RCU read lock itself.
        let file = unsafe { bindings::fget_task_next(self.as_ptr(), &mut fd) };
        // SAFETY: A non-NULL result is a valid file on which a reference was taken for us, at
        // descriptor `fd`. `File` is `repr(transparent)` over `struct file`.
        // INVARIANT: The reference is counted in `f_count`. An `fdget_pos()` of the owning task
        // that skipped `f_pos_lock` may be active (see above); `File` offers nothing that
        // touches `f_pos`, which is what that part of 7.3's invariant guards.
        NonNull::new(file).map(|f| (fd, unsafe { ARef::from_raw(f.cast::<File>()) }))
    }
}
