// SPDX-License-Identifier: GPL-2.0

//! What `kernel::bpf` does differently on this kernel's crate (7.3) than on 6.12's.
//!
//! `kernel::bpf` is written against this crate; `compat/6.12/` has the other side. Each
//! function here is what the code would call directly if it served 7.3 only.

use crate::{ffi::c_char, str::CStr, types::ForeignOwnable};
use core::ffi::c_void;

/// The bytes of `c` without the NUL, also in constant context.
#[inline]
pub(crate) const fn cstr_bytes(c: &CStr) -> &[u8] {
    c.to_bytes()
}

/// `c` as a C string pointer, also in constant context.
#[inline]
pub(crate) const fn cstr_ptr(c: &CStr) -> *const c_char {
    crate::str::as_char_ptr_in_const_context(c)
}

/// [`ForeignOwnable::into_foreign`]: the `*mut` pointer that C stores.
#[inline]
pub(crate) fn into_foreign<T: ForeignOwnable>(value: T) -> *mut c_void {
    value.into_foreign()
}
