// SPDX-License-Identifier: GPL-2.0
//! Soundness point 7: context slots point to the kernel crate's wrappers (which keep C objects
//! behind `Opaque`), not to raw `bindings::` structs, to which a Rust reference would assert
//! that C does not change them.
// expect: E0277
// expect: BtfType` is not satisfied

use kernel::bpf::iter::BtfPtr;

kernel::bpf_iter_context! {
    pub struct Ctx<'a> {
        file: BtfPtr<'a, kernel::bindings::file>, // FAIL
        // file: BtfPtr<'a, kernel::fs::File>, // PASS
    }
}
