// SPDX-License-Identifier: GPL-2.0
//! Soundness point 5: a helper that BPF calls with arbitrary registers can only be offered with
//! `unsafe`, under the contract of `FuncProto::scalar`.
// expect: E0133
// expect: call to unsafe function

use kernel::bpf::iter::FuncProto;

unsafe extern "C" fn deref(p: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: Not sound: BPF passes any value. This is what the API must not allow in safe code.
    unsafe { *(p as *const u64) }
}

pub static DEREF: FuncProto = FuncProto::scalar(deref, 1, true); // FAIL
// pub static DEREF: FuncProto = unsafe { FuncProto::scalar(deref, 1, true) }; // PASS
