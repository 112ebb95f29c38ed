// SPDX-License-Identifier: GPL-2.0

//! What `kernel::bpf` does differently on this kernel's crate (6.12) than on later ones.
//!
//! `kernel::bpf` is written against the kernel crate of 7.3. Where the crate of 6.12 lacks a
//! module that 7.3 has, `compat/6.12/` adds it with 7.3's names and shapes; what is left are
//! the few calls whose signatures differ, here, one function each.

use crate::{ffi::c_char, str::CStr, types::ForeignOwnable};
use core::ffi::c_void;

/// The bytes of `c` without the NUL, also in constant context.
///
/// 6.12's `CStr::as_bytes` is not `const`; `as_bytes_with_nul` is.
#[inline]
pub(crate) const fn cstr_bytes(c: &CStr) -> &[u8] {
    match c.as_bytes_with_nul().split_last() {
        Some((_, bytes)) => bytes,
        None => &[],
    }
}

/// `c` as a C string pointer, also in constant context.
#[inline]
pub(crate) const fn cstr_ptr(c: &CStr) -> *const c_char {
    c.as_char_ptr()
}

/// [`ForeignOwnable::into_foreign`], as the `*mut` pointer that C stores: 6.12's returns a
/// `*const` one.
#[inline]
pub(crate) fn into_foreign<T: ForeignOwnable>(value: T) -> *mut c_void {
    value.into_foreign().cast_mut()
}
