// SPDX-License-Identifier: GPL-2.0

//! Reference-counted pointers: [`ARef`] and [`AlwaysRefCounted`] where later kernels have them
//! (7.3 does). In 6.12 they live in `kernel::types`; this module re-exports them.

pub use crate::types::{ARef, AlwaysRefCounted};
