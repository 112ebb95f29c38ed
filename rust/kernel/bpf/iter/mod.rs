// SPDX-License-Identifier: GPL-2.0

//! BPF iterator targets.
//!
//! C header: [`include/linux/bpf.h`](srctree/include/linux/bpf.h)
//!
//! A BPF iterator *target* lets a BPF program run once per kernel object and print what it finds
//! through a `seq_file` (see [`Documentation/bpf/bpf_iterators.rst`] and
//! [`Documentation/rust/bpf_iter.rst`]). In C a target fills a `struct bpf_iter_reg` and calls
//! `bpf_iter_reg_target()`. Here a target implements [`Target`]; [`TargetVTable::new`] builds
//! the `struct bpf_iter_reg` and its `seq_operations` at compile time, and a [`Registration`]
//! registers it, unregistering it when dropped.
//!
//! What a program sees is declared once, with [`bpf_iter_context!`]: a `#[repr(C)]` struct of
//! 8-byte slots. The framework derives `ctx_arg_info` from it, and at registration checks it,
//! slot by slot, against the `bpf_iter_<target>` anchor in BTF that programs are verified
//! against: a mismatch fails the registration with `EINVAL` before any program can see it.
//!
//! A type may also offer an open-coded iterator, the kfuncs `bpf_iter_<name>_{new,next,destroy}`
//! that any program calls in a loop: see [`OpenIter`]. A module's other functions for programs
//! are kfuncs too ([`Kfunc`]), in the same generated kfunc set.
//!
//! Lifetimes: each program verified against a target of a module holds a reference on that
//! module (the kernel takes it, see `bpf_iter_prog_supported()`); links and iterator fds hold the
//! program. `rmmod` is therefore refused while any of them exists, and the target's code and
//! statics outlive every caller. Per-link state ([`Target::Link`]) is freed on detach,
//! per-iterator state ([`Target::Iter`]) when the iterator fd is released.
//!
//! [`bpf_iter_context!`]: crate::bpf_iter_context
//! [`Documentation/bpf/bpf_iterators.rst`]: srctree/Documentation/bpf/bpf_iterators.rst
//! [`Documentation/rust/bpf_iter.rst`]: srctree/Documentation/rust/bpf_iter.rst

use crate::bindings;

mod ctx;
mod kfunc;
mod link;
mod open;
mod prog;
mod records;
mod registration;
mod target;

pub use ctx::{
    ArgSpec, BtfPtr, BtfType, Context, RdonlyBuf, Scalar, ScalarType, Slot, TrustedBtfPtr,
};
pub use kfunc::{Kfunc, KfuncContext, KfuncRet};
#[doc(hidden)]
pub use kfunc::{KfuncAdapter, KfuncRecord};
#[cfg(CONFIG_CGROUPS)]
pub use link::{CgroupOrder, CgroupRef};
pub use link::{
    Custom, LinkInfo, LinkInfoOut, MapRef, ParamCType, ParamType, Params, ParamsKind, TaskFilter,
    LINK_INFO_WORDS,
};
pub use open::{
    register_kfuncs, ArgDesc, CType, KfuncTable, Kfuncs, NewArg, NewArgs, OpenData, OpenDataGuard,
    OpenIter, Protection, Scope, Yield, BPF_MAX_LOOPS, MAX_NEW_ARGS, MAX_STATE_SIZE,
};
#[doc(hidden)]
pub use open::{OpenAdapter, OpenRecord};
pub use prog::{FuncProto, HelperFn, Prog, VerifyingProg};
pub use records::{BtfField, BtfInt, LayoutRecord, TypeRecord, LAYOUT_RECORD_SIZE};
pub use registration::{Registration, TargetVTable};
pub use target::{DataRef, Holdable, Index, Target};

/// The prefix of the BTF function a program names to attach to a target.
pub const ANCHOR_PREFIX: &str = "bpf_iter_";

/// The longest target name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 48;

/// The most context arguments with a register type (`BPF_ITER_CTX_ARG_MAX`).
pub const MAX_TYPED_ARGS: usize = bindings::BPF_ITER_CTX_ARG_MAX as usize;

/// Checks a target name at compile time: 1 to [`MAX_NAME_LEN`] bytes of `[A-Za-z0-9_]`, not
/// starting with a digit, as it must be part of the C identifier `bpf_iter_<name>`.
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::name_is_valid;
///
/// assert!(name_is_valid(b"rust_task"));
/// assert!(!name_is_valid(b""));
/// assert!(!name_is_valid(b"1task"));
/// assert!(!name_is_valid(b"task-file"));
/// assert!(!name_is_valid(&[b'a'; 49]));
/// ```
pub const fn name_is_valid(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > MAX_NAME_LEN || name[0].is_ascii_digit() {
        return false;
    }
    let mut i = 0;
    while i < name.len() {
        let c = name[i];
        if !(c.is_ascii_alphanumeric() || c == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

/// Where the BTF of a type that a program sees lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// vmlinux' BTF (`task_struct`, `file`, ...).
    Vmlinux,
    /// The BTF of whoever registers the target: its module, or vmlinux for built-in code. The
    /// type is declared in a C file of that module, as is the anchor.
    Owner,
}
