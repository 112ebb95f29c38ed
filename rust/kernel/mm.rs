// SPDX-License-Identifier: GPL-2.0

//! Memory management: address spaces and their mappings.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)
//!
//! [`Mm`], [`MmWithUser`], [`MmapReadGuard`] and [`virt::VmaRef`] have the names and shapes
//! of later kernels (6.15). For walks that keep their place across calls (a BPF iterator
//! target's `next`), [`OwnedMmapReadGuard`] holds the lock together with its reference on the
//! address space, and [`VmaWalk`] a position in the mappings under it.

use crate::{
    bindings,
    error::{code::EINTR, Result},
    task::Task,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::{marker::PhantomData, ops::Deref, ptr::NonNull};

pub mod virt;
use virt::VmaRef;

/// Wraps the kernel's `struct mm_struct`: the address space of a user process.
///
/// An `ARef<Mm>` holds an `mmgrab` reference: the struct stays, but its mappings may already
/// be torn down. [`MmWithUser`] is the address space while `mm_users` is not zero.
///
/// # Invariants
///
/// Instances are valid `mm_struct`s, reference counted with `mmgrab`/`mmdrop`.
#[repr(transparent)]
pub struct Mm {
    mm: Opaque<bindings::mm_struct>,
}

// SAFETY: An `mmgrab` reference may be dropped (`mmdrop`) from any thread.
unsafe impl Send for Mm {}
// SAFETY: All methods of `&Mm` may be called from several threads at once.
unsafe impl Sync for Mm {}

// SAFETY: `mmgrab` and `mmdrop` increment and decrement `mm_count`, which keeps the struct.
unsafe impl AlwaysRefCounted for Mm {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means the struct is valid.
        unsafe { bindings::mmgrab(self.as_raw()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference, which this drops.
        unsafe { bindings::mmdrop(obj.cast().as_ptr()) };
    }
}

impl Mm {
    /// Returns a raw pointer to the inner `mm_struct`.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::mm_struct {
        self.mm.get()
    }

    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is a valid `mm_struct` that is not freed during `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::mm_struct) -> &'a Mm {
        // SAFETY: By the safety requirements. CAST: `Mm` is transparent over `mm_struct`.
        unsafe { &*ptr.cast() }
    }

    /// Takes a user reference (`mm_users`) if the address space still has users.
    #[inline]
    pub fn mmget_not_zero(&self) -> Option<ARef<MmWithUser>> {
        // SAFETY: `self` is valid.
        if unsafe { bindings::mmget_not_zero(self.as_raw()) } {
            // SAFETY: We just took a user reference, which the `ARef` owns.
            Some(unsafe { ARef::from_raw(NonNull::new_unchecked(self.as_raw().cast())) })
        } else {
            None
        }
    }
}

/// Wraps the kernel's `struct mm_struct` while its `mm_users` is not zero: its mappings can be
/// looked at, under the mmap lock ([`MmWithUser::mmap_read_lock`]).
///
/// An `ARef<MmWithUser>` holds an `mmget` reference; dropping it (`mmput`) may sleep.
///
/// # Invariants
///
/// Instances are reference counted with `mmget`/`mmput`; `mm_users` is not zero.
#[repr(transparent)]
pub struct MmWithUser {
    mm: Mm,
}

// SAFETY: A user reference may be dropped (`mmput`) from any thread.
unsafe impl Send for MmWithUser {}
// SAFETY: All methods of `&MmWithUser` may be called from several threads at once.
unsafe impl Sync for MmWithUser {}

// SAFETY: `mmget` and `mmput` increment and decrement `mm_users`.
unsafe impl AlwaysRefCounted for MmWithUser {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means `mm_users` is not zero.
        unsafe { bindings::mmget(self.as_raw()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a user reference, which this drops.
        unsafe { bindings::mmput(obj.cast().as_ptr()) };
    }
}

impl Deref for MmWithUser {
    type Target = Mm;

    #[inline]
    fn deref(&self) -> &Mm {
        &self.mm
    }
}

impl MmWithUser {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is a valid `mm_struct` whose `mm_users` stays above zero during `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::mm_struct) -> &'a MmWithUser {
        // SAFETY: By the safety requirements. CAST: transparent over `mm_struct`.
        unsafe { &*ptr.cast() }
    }

    /// Takes the mmap lock for reading.
    #[inline]
    pub fn mmap_read_lock(&self) -> MmapReadGuard<'_> {
        // SAFETY: `self` is valid.
        unsafe { bindings::mmap_read_lock(self.as_raw()) };
        // INVARIANT: We just took the lock.
        MmapReadGuard {
            mm: self,
            _not_send: PhantomData,
        }
    }

    /// Takes the mmap lock for reading if that needs no wait.
    #[inline]
    pub fn mmap_read_trylock(&self) -> Option<MmapReadGuard<'_>> {
        // SAFETY: `self` is valid.
        if unsafe { bindings::mmap_read_trylock(self.as_raw()) } {
            // INVARIANT: We just took the lock.
            Some(MmapReadGuard {
                mm: self,
                _not_send: PhantomData,
            })
        } else {
            None
        }
    }
}

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

/// A guard of the mmap read lock, borrowing the address space.
///
/// # Invariants
///
/// The guard holds the mmap read lock of `mm`, taken by the task that holds the guard (it is
/// not `Send`: the lock is released where it was taken).
pub struct MmapReadGuard<'a> {
    mm: &'a MmWithUser,
    _not_send: PhantomData<*mut ()>,
}

impl MmapReadGuard<'_> {
    /// Returns the mapping that contains `addr`, if any.
    #[inline]
    pub fn vma_lookup(&self, addr: usize) -> Option<&VmaRef> {
        // SAFETY: The mmap lock is held (type invariant) while `self` lives.
        unsafe { vma_lookup_locked(self.mm, addr) }
    }

    /// Returns the first mapping that ends after `addr` (C's `find_vma`), if any.
    #[inline]
    pub fn find_vma(&self, addr: usize) -> Option<&VmaRef> {
        // SAFETY: The mmap lock is held (type invariant) while `self` lives.
        unsafe { find_vma_locked(self.mm, addr) }
    }
}

/// [`MmapReadGuard::vma_lookup`], for both guards.
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

/// [`MmapReadGuard::find_vma`], for both guards.
///
/// # Safety
///
/// The mmap read lock of `mm` is held for `'a`.
#[inline]
unsafe fn find_vma_locked<'a>(mm: &'a MmWithUser, addr: usize) -> Option<&'a VmaRef> {
    // SAFETY: The mmap lock is held (safety requirement).
    let vma = unsafe { bindings::find_vma(mm.as_raw(), addr) };
    // SAFETY: As in `vma_lookup_locked`.
    (!vma.is_null()).then(|| unsafe { VmaRef::from_raw(vma) })
}

impl Drop for MmapReadGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The guard holds the read lock (type invariant).
        unsafe { bindings::mmap_read_unlock(self.mm.as_raw()) };
    }
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
