// SPDX-License-Identifier: GPL-2.0

//! Walks over the mappings of an address space: `Task::get_mm()` and
//! `MmapReadGuard::find_vma()`; [`OwnedMmapReadGuard`], which holds the mmap read lock together
//! with its reference on the address space, for a walk that keeps its place across calls (a
//! BPF iterator target's `next`); and [`VmaWalk`], a position in the mappings under it.

use super::{virt::VmaRef, MmWithUser, MmapReadGuard};
use crate::{
    bindings,
    error::{code::EINTR, Result},
    sync::aref::ARef,
    task::Task,
};
use core::{marker::PhantomData, ptr::NonNull};

impl Task {
    /// Returns the task's address space with a user reference on it (C's `get_task_mm`);
    /// `None` for kernel threads and tasks that have exited.
    ///
    /// # Examples
    ///
    /// ```
    /// let mm = kernel::current!().get_mm();
    /// // KUnit runs in a kernel thread, which has no address space of its own.
    /// assert!(mm.is_none());
    /// ```
    #[doc(alias = "get_task_mm")]
    #[inline]
    pub fn get_mm(&self) -> Option<ARef<MmWithUser>> {
        // SAFETY: `self` is a valid task; `get_task_mm` returns its mm with a user reference
        // taken for us, or NULL.
        let mm = unsafe { bindings::get_task_mm(self.as_ptr()) };
        // SAFETY: A non-NULL `mm` has a user reference that the `ARef` now owns.
        // CAST: `MmWithUser` is transparent over `mm_struct`.
        NonNull::new(mm).map(|mm| unsafe { ARef::from_raw(mm.cast::<MmWithUser>()) })
    }
}

impl MmapReadGuard<'_> {
    /// Returns the first mapping that ends after `addr` (C's `find_vma`), if any.
    #[inline]
    pub fn find_vma(&self, addr: usize) -> Option<&VmaRef> {
        // SAFETY: The mmap lock is held (type invariant) while `self` lives.
        unsafe { find_vma_locked(self.mm, addr) }
    }
}

/// [`OwnedMmapReadGuard::vma_lookup`].
///
/// # Safety
///
/// The mmap read lock of `mm` is held for `'a`.
#[inline]
unsafe fn vma_lookup_locked<'a>(mm: &'a MmWithUser, addr: usize) -> Option<&'a VmaRef> {
    // SAFETY: The mmap lock is held (safety requirement).
    let vma = unsafe { bindings::vma_lookup(mm.as_raw(), addr) };
    // SAFETY: A non-NULL `vma` is a mapping of the locked address space, valid while the lock
    // is held, for `'a`.
    (!vma.is_null()).then(|| unsafe { VmaRef::from_raw(vma) })
}

/// [`MmapReadGuard::find_vma`], for both guards (the owned one below).
///
/// # Safety
///
/// The mmap read lock of `mm` is held for `'a`.
#[inline]
unsafe fn find_vma_locked<'a>(mm: &'a MmWithUser, addr: usize) -> Option<&'a VmaRef> {
    // SAFETY: The mmap lock is held (safety requirement).
    let vma = unsafe { bindings::find_vma(mm.as_raw(), addr) };
    // SAFETY: A non-NULL `vma` is a mapping of the locked address space, valid while the lock
    // is held, for `'a`.
    (!vma.is_null()).then(|| unsafe { VmaRef::from_raw(vma) })
}

/// The mmap read lock of an address space, held with a user reference on it: an owned
/// [`MmapReadGuard`], for a walk that keeps the lock across calls (a BPF iterator target holds
/// it from `start` to `stop` of a read, as C's `task_vma` target does) and so cannot borrow
/// the address space from its caller.
///
/// Dropping it releases the lock, then the reference.
///
/// # Invariants
///
/// The mmap read lock of `mm` is held, taken by the task that holds this object (it is not
/// `Send`).
pub struct OwnedMmapReadGuard {
    mm: ARef<MmWithUser>,
    _not_send: PhantomData<*mut ()>,
}

impl OwnedMmapReadGuard {
    /// Takes the mmap read lock of `mm`, waiting if needed; fails with `EINTR` (dropping the
    /// reference) if a fatal signal comes first.
    ///
    /// # Examples
    ///
    /// The mappings of the current process, from a system call (KUnit has no address space):
    ///
    /// ```
    /// # fn f() -> Result {
    /// use kernel::mm::OwnedMmapReadGuard;
    ///
    /// if let Some(mm) = kernel::current!().get_mm() {
    ///     let lock = OwnedMmapReadGuard::lock_killable(mm)?;
    ///     let mut addr = 0;
    ///     while let Some(vma) = lock.find_vma(addr) {
    ///         addr = vma.end();
    ///     }
    ///     let _mm = lock.unlock();
    /// }
    /// # Ok(()) }
    /// # f().unwrap();
    /// ```
    #[inline]
    pub fn lock_killable(mm: ARef<MmWithUser>) -> Result<Self> {
        // SAFETY: `mm` is valid.
        if unsafe { bindings::mmap_read_lock_killable(mm.as_raw()) } != 0 {
            return Err(EINTR);
        }
        // INVARIANT: We just took the lock.
        Ok(Self {
            mm,
            _not_send: PhantomData,
        })
    }

    /// The locked address space.
    #[inline]
    pub fn mm(&self) -> &MmWithUser {
        &self.mm
    }

    /// Returns the mapping that contains `addr`, if any.
    #[inline]
    pub fn vma_lookup(&self, addr: usize) -> Option<&VmaRef> {
        // SAFETY: The mmap lock is held (type invariant) while `self` lives.
        unsafe { vma_lookup_locked(&self.mm, addr) }
    }

    /// Returns the first mapping that ends after `addr` (C's `find_vma`), if any.
    #[inline]
    pub fn find_vma(&self, addr: usize) -> Option<&VmaRef> {
        // SAFETY: The mmap lock is held (type invariant) while `self` lives.
        unsafe { find_vma_locked(&self.mm, addr) }
    }

    /// Whether a task waits for the lock (C's `mmap_lock_is_contended`): a long walk should
    /// let it in ([`OwnedMmapReadGuard::unlock`], then lock again).
    #[inline]
    pub fn is_contended(&self) -> bool {
        // SAFETY: `mm` is valid.
        unsafe { bindings::mmap_lock_is_contended(self.mm.as_raw()) }
    }

    /// Releases the lock, keeping the reference.
    #[inline]
    pub fn unlock(self) -> ARef<MmWithUser> {
        let me = core::mem::ManuallyDrop::new(self);
        // SAFETY: The lock is held (type invariant); `me` is not dropped, so this is the one
        // release.
        unsafe { bindings::mmap_read_unlock(me.mm.as_raw()) };
        // SAFETY: `me.mm` is read once, and `me` is never used or dropped again.
        unsafe { core::ptr::read(&me.mm) }
    }
}

impl Drop for OwnedMmapReadGuard {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The lock is held (type invariant). The reference is dropped after this.
        unsafe { bindings::mmap_read_unlock(self.mm.as_raw()) };
    }
}

/// A position in the mappings of an address space, under its mmap read lock: a walk that keeps
/// its place (the current mapping) between calls without looking it up again.
///
/// # Invariants
///
/// `vma` is a mapping of the address space `lock` holds locked: valid while `lock` is.
pub struct VmaWalk {
    lock: OwnedMmapReadGuard,
    vma: NonNull<bindings::vm_area_struct>,
}

impl VmaWalk {
    /// A walk at the first mapping that ends after `addr` (C's `find_vma`); gives the lock back
    /// if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn f() -> Result {
    /// use kernel::mm::{OwnedMmapReadGuard, VmaWalk};
    ///
    /// if let Some(mm) = kernel::current!().get_mm() {
    ///     let lock = OwnedMmapReadGuard::lock_killable(mm)?;
    ///     if let Ok(mut walk) = VmaWalk::new(lock, 0) {
    ///         let mut end = walk.vma().end();
    ///         while walk.advance() {
    ///             assert!(walk.vma().start() >= end);
    ///             end = walk.vma().end();
    ///         }
    ///     }
    /// }
    /// # Ok(()) }
    /// # f().unwrap();
    /// ```
    #[inline]
    pub fn new(lock: OwnedMmapReadGuard, addr: usize) -> Result<Self, OwnedMmapReadGuard> {
        let vma = lock.find_vma(addr).map(|v| NonNull::from(v).cast());
        match vma {
            // INVARIANT: `vma` was found in the address space `lock` holds locked.
            Some(vma) => Ok(Self { lock, vma }),
            None => Err(lock),
        }
    }

    /// The current mapping.
    #[inline]
    pub fn vma(&self) -> &VmaRef {
        // SAFETY: `vma` is valid while `lock` is held (type invariant), which it is for as long
        // as `self` is borrowed.
        unsafe { VmaRef::from_raw(self.vma.as_ptr()) }
    }

    /// Moves to the mapping after the current one; `false`, staying, if there is none.
    #[inline]
    pub fn advance(&mut self) -> bool {
        let end = self.vma().end();
        match self.lock.find_vma(end) {
            Some(v) => {
                // INVARIANT: `v` was found under `lock`.
                self.vma = NonNull::from(v).cast();
                true
            }
            None => false,
        }
    }

    /// The lock the walk holds.
    #[inline]
    pub fn lock(&self) -> &OwnedMmapReadGuard {
        &self.lock
    }

    /// Ends the walk, keeping the lock.
    #[inline]
    pub fn into_lock(self) -> OwnedMmapReadGuard {
        self.lock
    }
}
