// SPDX-License-Identifier: GPL-2.0

//! Seq file bindings.
//!
//! C header: [`include/linux/seq_file.h`](srctree/include/linux/seq_file.h)
//!
//! The shape of this module is that of `kernel::seq_file` in later kernels (6.13), so that code
//! written against it moves forward unchanged.

use crate::{bindings, c_str, types::Opaque};

/// A utility for generating the contents of a seq file.
///
/// # Invariants
///
/// A `&SeqFile` points to a valid `struct seq_file` that only the current thread uses while
/// the reference lives.
#[repr(transparent)]
pub struct SeqFile {
    inner: Opaque<bindings::seq_file>,
}

impl SeqFile {
    /// Creates a new [`SeqFile`] from a raw pointer.
    ///
    /// # Safety
    ///
    /// The caller must ensure that for the duration of `'a` the following is satisfied:
    /// * The pointer points at a valid `struct seq_file`.
    /// * The `struct seq_file` is not accessed from any other thread.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::seq_file) -> &'a SeqFile {
        // SAFETY: The caller ensures that the reference is valid for 'a. There's no way to
        // trigger a data race by using the `&SeqFile` since this is the only thread accessing
        // the seq_file (`Opaque` is not `Sync`, so neither is `SeqFile`: a `&SeqFile` stays in
        // this thread).
        //
        // CAST: The layout of `struct seq_file` and `SeqFile` is compatible.
        unsafe { &*ptr.cast() }
    }

    /// Used by the [`seq_print`] macro.
    ///
    /// [`seq_print`]: crate::seq_print
    pub fn call_printf(&self, args: core::fmt::Arguments<'_>) {
        // SAFETY: Passing a void pointer to `Arguments` is valid for `%pA`; the seq_file is
        // valid and used by this thread only (type invariants).
        unsafe {
            bindings::seq_printf(
                self.inner.get(),
                c_str!("%pA").as_char_ptr(),
                core::ptr::from_ref(&args).cast::<crate::ffi::c_void>(),
            );
        }
    }
}

/// Write to a [`SeqFile`] with the ordinary Rust formatting syntax.
///
/// # Examples
///
/// ```ignore
/// # // A seq_file comes from the kernel only; see `kernel::bpf::iter::Target::show_fdinfo`.
/// kernel::seq_print!(m, "serial:\t{}\n", link.serial);
/// ```
#[macro_export]
macro_rules! seq_print {
    ($m:expr, $($arg:tt)+) => (
        $m.call_printf(format_args!($($arg)+))
    );
}
