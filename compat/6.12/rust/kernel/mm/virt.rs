// SPDX-License-Identifier: GPL-2.0

//! Virtual memory: memory mappings (`struct vm_area_struct`).
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)

use crate::{bindings, types::Opaque};

/// A wrapper for the kernel's `struct vm_area_struct` with read-only access.
///
/// The shape of `kernel::mm::virt::VmaRef` in later kernels (6.15): the subset BPF iterator
/// targets need.
///
/// # Invariants
///
/// The caller of [`VmaRef::from_raw`] holds the mmap read lock (or the VMA read lock) of the
/// mapping's address space for as long as the reference lives, so the mapping is valid and its
/// range and flags do not change.
#[repr(transparent)]
pub struct VmaRef {
    vma: Opaque<bindings::vm_area_struct>,
}

impl VmaRef {
    /// Access a virtual memory area given a raw pointer.
    ///
    /// # Safety
    ///
    /// Callers must ensure that `vma` is valid for the duration of `'a`, and that the mmap or
    /// vma read lock (or stronger) is held for at least the duration of `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(vma: *const bindings::vm_area_struct) -> &'a Self {
        // SAFETY: The caller ensures that the invariants are satisfied for the duration of 'a.
        // CAST: `VmaRef` is `repr(transparent)` over `struct vm_area_struct`.
        unsafe { &*vma.cast() }
    }

    /// Returns a raw pointer to this area.
    #[inline]
    pub fn as_ptr(&self) -> *mut bindings::vm_area_struct {
        self.vma.get()
    }

    /// Returns the (inclusive) start address of the virtual memory area.
    #[inline]
    pub fn start(&self) -> usize {
        // SAFETY: By the type invariants, the caller holds at least the mmap read lock, so this
        // reads a field that is not changed concurrently.
        unsafe { (*self.as_ptr()).__bindgen_anon_1.__bindgen_anon_1.vm_start }
    }

    /// Returns the (exclusive) end address of the virtual memory area.
    #[inline]
    pub fn end(&self) -> usize {
        // SAFETY: As in `start`.
        unsafe { (*self.as_ptr()).__bindgen_anon_1.__bindgen_anon_1.vm_end }
    }

    /// Returns the flags associated with the virtual memory area (`VM_READ`, ...).
    #[inline]
    pub fn flags(&self) -> bindings::vm_flags_t {
        // SAFETY: As in `start`: the flags only change under the mmap write lock.
        unsafe { (*self.as_ptr()).__bindgen_anon_2.vm_flags }
    }
}
