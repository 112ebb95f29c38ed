// SPDX-License-Identifier: GPL-2.0

//! RCU support.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use crate::bindings;
use core::marker::PhantomData;
use core::sync::atomic::{compiler_fence, Ordering};

/// Whether `rcu_read_lock()` and `rcu_read_unlock()` are a compiler barrier and nothing else.
///
/// They are without preemptible RCU, a preempt count, lockdep or strict grace periods
/// (`include/linux/rcupdate.h`: `__rcu_read_lock()` is `preempt_disable()`, which is `barrier()`
/// without `CONFIG_PREEMPT_COUNT`; `rcu_lock_acquire()` and `RCU_LOCKDEP_WARN()` are empty
/// without `CONFIG_DEBUG_LOCK_ALLOC`). There the guard does the same inline: the C helpers would
/// cost two calls per lock and unlock, which a walk over kernel objects (a BPF iterator target)
/// pays once per object. Any other configuration calls the C functions.
const BARRIER_ONLY: bool = !cfg!(any(
    CONFIG_PREEMPT_RCU,
    CONFIG_PREEMPT_COUNT,
    CONFIG_DEBUG_LOCK_ALLOC,
    CONFIG_RCU_STRICT_GRACE_PERIOD
));

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
    #[inline]
    pub fn new() -> Self {
        if BARRIER_ONLY {
            compiler_fence(Ordering::SeqCst);
        } else {
            // SAFETY: An FFI call with no additional requirements.
            unsafe { bindings::rcu_read_lock() };
        }
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
        if BARRIER_ONLY {
            compiler_fence(Ordering::SeqCst);
        } else {
            // SAFETY: By the type invariants, the RCU read side lock is held, so we can unlock
            // it.
            unsafe { bindings::rcu_read_unlock() };
        }
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
