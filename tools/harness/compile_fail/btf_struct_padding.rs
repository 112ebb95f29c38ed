// SPDX-License-Identifier: GPL-2.0
//! A target's own struct has no implicit padding: it is `AsBytes` (a link parameter reported
//! back to userspace, [`kernel::bpf::iter::LinkInfoOut::set_custom`]), and padding bytes are
//! uninitialized.
// expect: E0080
// expect: the struct has implicit padding: declare it as a field

kernel::bpf_iter_btf_struct! {
    pub struct Param as "compile_fail_param" {
        pub count: u32,
        pub limit: u64, // FAIL
        // pub pad: u32, // PASS
        // pub limit: u64, // PASS
    }
}
