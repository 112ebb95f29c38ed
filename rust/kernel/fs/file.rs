// SPDX-License-Identifier: GPL-2.0

//! Files and file descriptors.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h) and
//! [`include/linux/file.h`](srctree/include/linux/file.h)
//!
//! The subset of `kernel::fs::File` of later kernels (6.13) that BPF iterator targets need,
//! with the same names, so that code moves forward unchanged.

use crate::{
    bindings,
    sync::rcu,
    task::Task,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::ptr::{self, NonNull};

/// Wraps the kernel's `struct file`. Thread safe.
///
/// Instances are reference counted (`f_count`): an `ARef<File>` owns one reference, dropped
/// with `fput`.
///
/// # Invariants
///
/// The `struct file` is valid for as long as a `&File` to it lives: either a reference is held
/// on it for that long, or the caller of [`File::from_raw_file`] guarantees it otherwise.
#[repr(transparent)]
pub struct File {
    inner: Opaque<bindings::file>,
}

// SAFETY: The file's reference count may be taken and dropped from any thread (`get_file` and
// `fput` are thread safe), and what `&File` gives access to is safe to use from any thread.
unsafe impl Send for File {}

// SAFETY: All methods of `&File` read immutable fields or are thread safe C calls.
unsafe impl Sync for File {}

// SAFETY: `get_file` and `fput` increment and decrement the reference count of a valid file, as
// the trait requires; a file stays valid while its count is not zero.
unsafe impl AlwaysRefCounted for File {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means the file is valid (type invariant).
        unsafe { bindings::get_file(self.as_ptr()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: ptr::NonNull<File>) {
        // SAFETY: By the safety requirements of `dec_ref` the caller owns a reference, which
        // `fput` drops. `File` is `repr(transparent)` over `struct file`.
        unsafe { bindings::fput(obj.cast().as_ptr()) }
    }
}

impl File {
    /// Creates a reference to a [`File`] from a valid pointer.
    ///
    /// # Safety
    ///
    /// The caller must ensure that `ptr` points at a valid file and that the file's refcount is
    /// positive for the duration of `'a`.
    pub unsafe fn from_raw_file<'a>(ptr: *const bindings::file) -> &'a File {
        // SAFETY: The caller guarantees that the pointer is valid for `'a`.
        //
        // INVARIANT: The caller guarantees that the file is valid for `'a`.
        // CAST: `File` is `repr(transparent)` over `struct file`.
        unsafe { &*ptr.cast() }
    }

    /// Returns a raw pointer to the inner C struct.
    #[inline]
    pub fn as_ptr(&self) -> *mut bindings::file {
        self.inner.get()
    }

    /// Returns the flags associated with the file (`O_RDONLY`, `O_APPEND`, ...).
    pub fn flags(&self) -> u32 {
        // SAFETY: The file is valid (type invariant). `f_flags` is only changed by `fcntl`, with
        // a plain store: reading it races benignly, as C's readers do.
        unsafe { ptr::addr_of!((*self.as_ptr()).f_flags).read_volatile() }
    }
}

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
    /// `task_lookup_next_fdget_rcu()`, which this wraps.
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
        let file = {
            let _rcu = rcu::read_lock();
            // SAFETY: `self` is a valid task, for the duration of the call; the RCU read lock
            // is held, as the function requires. It takes the task's lock itself.
            unsafe { bindings::task_lookup_next_fdget_rcu(self.as_ptr(), &mut fd) }
        };
        // SAFETY: A non-NULL result is a valid file on which a reference was taken for us, at
        // descriptor `fd`. `File` is `repr(transparent)` over `struct file`.
        NonNull::new(file).map(|f| (fd, unsafe { ARef::from_raw(f.cast::<File>()) }))
    }
}
