// SPDX-License-Identifier: GPL-2.0

//! Memory management.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)
//!
//! Only [`virt::VmaRef`] so far, with the name and shape it has in later kernels (6.15).

pub mod virt;
