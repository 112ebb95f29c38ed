// SPDX-License-Identifier: GPL-2.0

//! Traits for transmuting types: [`FromBytes`] and [`AsBytes`] where later kernels have them
//! (7.3 does). In 6.12 they live in `kernel::types`; this module re-exports them.

pub use crate::types::{AsBytes, FromBytes};
