// SPDX-License-Identifier: GPL-2.0

//! Files and file descriptors.
//!
//! C headers: [`include/linux/fs.h`](srctree/include/linux/fs.h) and
//! [`include/linux/file.h`](srctree/include/linux/file.h)
//!
//! The subset of `kernel::fs::File` of later kernels (6.13) that BPF iterator targets need,
//! with the same names, so that code moves forward unchanged. A task's files are walked in
//! `walk.rs`, which the 7.3 build shares. 7.3's `File` also says that no `fdget_pos()` that
//! skipped `f_pos_lock` is active on it; this one does not, and nothing here touches `f_pos`.

use crate::{
    bindings,
    types::{AlwaysRefCounted, Opaque},
};
use core::ptr;

mod walk;

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
