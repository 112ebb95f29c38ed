// SPDX-License-Identifier: GPL-2.0

//! BPF.
//!
//! C header: [`include/linux/bpf.h`](srctree/include/linux/bpf.h)
//!
//! Written against the kernel crate of 7.3; `compat.rs` (one per kernel, from `compat/<kernel>/`
//! of this repository) has the few calls that differ on 6.12.

pub mod btf;
mod compat;
pub mod iter;
