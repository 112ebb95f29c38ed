// SPDX-License-Identifier: GPL-2.0

//! RCU support.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use crate::bindings;
use core::marker::PhantomData;

/// Evidence that the RCU read side lock is held on the current thread/CPU.
///
/// The type is explicitly not `Send` because this property is per-thread/CPU.
///
/// # Invariants
///
/// The RCU read side lock is actually held while instances of this guard exist.
pub struct Guard(PhantomData<*mut ()>);

impl Guard {
    /// Acquires the RCU read side lock and returns a guard.
    ///
    /// Always through C's `rcu_read_lock()` (soundness-2 point 7): a Rust copy of what it
    /// compiles to in some configurations (a compiler barrier) would be a second definition that
    /// nothing keeps in step with C's.
    ///
    /// # Examples
    ///
    /// Inside the guard, C's own checks see the read side held: `rcu_read_lock_held()` (real
    /// with lockdep's RCU checks, as on the debug kernel of `make check`), and the preempt count
    /// or the preemptible-RCU nesting depth, whichever the configuration keeps.
    ///
    /// ```
    /// use kernel::sync::rcu;
    ///
    /// let depth = || (rcu::preempt_count(), rcu::preempt_depth());
    /// let outside = depth();
    /// let guard = rcu::read_lock();
    /// assert!(rcu::read_lock_held());
    /// let inside = depth();
    /// if cfg!(CONFIG_PREEMPT_RCU) {
    ///     assert_eq!(inside.1, outside.1 + 1);
    /// } else if cfg!(CONFIG_PREEMPT_COUNT) {
    ///     assert_eq!(inside.0, outside.0 + 1);
    /// }
    /// drop(guard);
    /// assert_eq!(depth(), outside);
    /// ```
    #[inline]
    pub fn new() -> Self {
        // SAFETY: An FFI call with no additional requirements.
        unsafe { bindings::rcu_read_lock() };
        // INVARIANT: The RCU read side lock was just acquired above.
        Self(PhantomData)
    }

    /// Explicitly releases the RCU read side lock.
    #[inline]
    pub fn unlock(self) {}
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariants, the RCU read side lock is held, so we can unlock it.
        unsafe { bindings::rcu_read_unlock() };
    }
}

/// Acquires the RCU read side lock.
///
/// # Examples
///
/// ```
/// use kernel::sync::rcu;
///
/// let guard = rcu::read_lock();
/// drop(guard);
/// ```
#[inline]
pub fn read_lock() -> Guard {
    Guard::new()
}

/// Whether the current task is in an RCU read-side critical section, as far as C can tell
/// (`rcu_read_lock_held()`: exact with `CONFIG_DEBUG_LOCK_ALLOC`, always true without).
#[inline]
pub fn read_lock_held() -> bool {
    // SAFETY: An FFI call with no additional requirements.
    unsafe { bindings::rcu_read_lock_held() != 0 }
}

/// The current preempt count (C's `preempt_count()`), for checks such as [`Guard::new`]'s.
#[inline]
pub fn preempt_count() -> i32 {
    // SAFETY: An FFI call with no additional requirements.
    unsafe { bindings::preempt_count() }
}

/// The current task's nesting depth of preemptible RCU read-side sections (C's
/// `rcu_preempt_depth()`; 0 without `CONFIG_PREEMPT_RCU`).
#[inline]
pub fn preempt_depth() -> i32 {
    // SAFETY: An FFI call with no additional requirements.
    unsafe { bindings::rcu_preempt_depth() }
}
