// SPDX-License-Identifier: GPL-2.0

//! Pid namespaces.
//!
//! C headers: [`include/linux/pid_namespace.h`](srctree/include/linux/pid_namespace.h) and
//! [`include/linux/pid.h`](srctree/include/linux/pid.h)
//!
//! [`PidNamespace`] has the name and shape of `kernel::pid_namespace` in later kernels (6.13).
//! Finding tasks in a namespace is in `walk.rs`, which the 7.3 build shares.

use crate::{
    bindings,
    types::{AlwaysRefCounted, Opaque},
};
use core::ptr;

pub use walk::{ProcessCursor, ThreadCursor};
mod walk;

/// Wraps the kernel's `struct pid_namespace`. Thread safe.
///
/// Instances are reference counted: an `ARef<PidNamespace>` owns a reference, taken with
/// `get_pid_ns` and dropped with `put_pid_ns`.
///
/// # Invariants
///
/// The namespace is valid for as long as a `&PidNamespace` to it lives.
#[repr(transparent)]
pub struct PidNamespace {
    inner: Opaque<bindings::pid_namespace>,
}

impl PidNamespace {
    /// Returns a raw pointer to the inner C struct.
    #[inline]
    pub fn as_ptr(&self) -> *mut bindings::pid_namespace {
        self.inner.get()
    }

    /// Creates a reference to a [`PidNamespace`] from a valid pointer.
    ///
    /// # Safety
    ///
    /// The caller must ensure that `ptr` is a valid pid namespace that stays valid (referenced)
    /// for the duration of `'a`.
    #[inline]
    pub unsafe fn from_ptr<'a>(ptr: *const bindings::pid_namespace) -> &'a Self {
        // SAFETY: By the safety requirements `ptr` is valid for `'a`.
        // CAST: `PidNamespace` is a transparent wrapper of `struct pid_namespace`.
        unsafe { &*ptr.cast() }
    }
}

// SAFETY: A reference on a namespace may be dropped from any thread (`put_pid_ns` is thread
// safe).
unsafe impl Send for PidNamespace {}

// SAFETY: Nothing reachable from `&PidNamespace` changes without synchronisation.
unsafe impl Sync for PidNamespace {}

// SAFETY: `get_pid_ns` and `put_pid_ns` increment and decrement the namespace's reference count;
// it stays valid while the count is not zero.
unsafe impl AlwaysRefCounted for PidNamespace {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means the namespace is valid.
        unsafe { bindings::get_pid_ns(self.as_ptr()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: ptr::NonNull<PidNamespace>) {
        // SAFETY: By the safety requirements the caller owns a reference, which this drops.
        unsafe { bindings::put_pid_ns(obj.cast().as_ptr()) }
    }
}
