// SPDX-License-Identifier: GPL-2.0

//! Memory management: address spaces and their mappings.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)
//!
//! [`Mm`], [`MmWithUser`], [`MmapReadGuard`] and [`virt::VmaRef`] have the names and shapes
//! of later kernels (6.15). Walks over the mappings are in `walk.rs`, which the 7.3 build
//! shares.

use crate::{
    bindings,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::{marker::PhantomData, ops::Deref, ptr::NonNull};

pub mod virt;
use virt::VmaRef;
mod walk;
pub use walk::{OwnedMmapReadGuard, VmaWalk};

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
        let vma = unsafe { bindings::vma_lookup(self.mm.as_raw(), addr) };
        // SAFETY: A non-NULL `vma` is a mapping of the locked address space, valid while the
        // lock is held, as long as `self`.
        (!vma.is_null()).then(|| unsafe { VmaRef::from_raw(vma) })
    }
}

impl Drop for MmapReadGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The guard holds the read lock (type invariant).
        unsafe { bindings::mmap_read_unlock(self.mm.as_raw()) };
    }
}
