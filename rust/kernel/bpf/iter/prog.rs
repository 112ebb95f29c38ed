// SPDX-License-Identifier: GPL-2.0

//! The BPF programs of a target, as its callbacks get them: `Prog`, a verified program being
//! attached (or replacing the program of a link), and `VerifyingProg`, a program the verifier is
//! checking; and the helpers a target may offer them (`FuncProto`, `HelperFn`).

use crate::{bindings, types::Opaque};

/// A BPF program being attached to a target, or replacing the program of a link: verified.
///
/// # Invariants
///
/// A `&Prog` points to a valid, verified program for the lifetime of the reference.
#[repr(transparent)]
pub struct Prog(Opaque<bindings::bpf_prog>);

/// A BPF program of a target while the verifier checks it ([`Target::get_func_proto`]): what
/// the verifier finds out about it (such as [`Prog::max_rdonly_access`]) is not known yet, so
/// it is not offered here (soundness-2 point 3).
///
/// ```ignore
/// # // `compile_fail` doctests are not supported by KUnit: built by `make check` instead
/// # // (tools/harness/compile_fail/verifying_prog_access.rs).
/// fn get_func_proto(_id: u32, prog: &VerifyingProg) -> Option<&'static FuncProto> {
///     let _ = prog.max_rdonly_access(); // error[E0599]: no method named `max_rdonly_access`
///     None
/// }
/// ```
///
/// # Invariants
///
/// A `&VerifyingProg` points to a valid program, loaded and being verified, for the lifetime
/// of the reference.
///
/// [`Target::get_func_proto`]: super::Target::get_func_proto
#[repr(transparent)]
pub struct VerifyingProg(Opaque<bindings::bpf_prog>);

/// Whether `prog` is sleepable.
///
/// # Safety
///
/// `prog` is a valid program.
unsafe fn prog_sleepable(prog: *const bindings::bpf_prog) -> bool {
    // SAFETY: `prog` is valid. The bitfield accessor makes a `&bpf_prog` for the read: nothing
    // writes `struct bpf_prog` meanwhile (`sleepable` is set at load, before verification; the
    // verifier, which may write other fields of a program being verified, is the caller of a
    // `VerifyingProg`'s callback; a loaded program's struct is not written at all). What other
    // CPUs do change, the reference count, is in `aux`, to which no reference is made.
    unsafe { (*prog).sleepable() != 0 }
}

impl Prog {
    /// # Safety
    ///
    /// `ptr` is a valid, verified program for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *const bindings::bpf_prog) -> &'a Prog {
        // SAFETY: `Prog` is `repr(transparent)` over `bpf_prog`; the caller guarantees validity.
        // INVARIANT: the caller guarantees it for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Whether the program is sleepable (only allowed for targets with [`Target::RESCHED`]).
    ///
    /// [`Target::RESCHED`]: super::Target::RESCHED
    pub fn sleepable(&self) -> bool {
        // SAFETY: `self.0` is a valid program (type invariant).
        unsafe { prog_sleepable(self.0.get()) }
    }

    /// The most bytes the program reads from a read-only buffer slot.
    pub fn max_rdonly_access(&self) -> u32 {
        // SAFETY: `self.0` is a valid, verified program (type invariant): its `aux` is valid for
        // as long, and `max_rdonly_access` was set by the verifier and is not written after.
        // The field is read through raw places: a reference to the whole `aux` would assert
        // that nothing changes it, while other CPUs change its reference count (`refcnt`).
        unsafe { (*(*self.0.get()).aux).max_rdonly_access }
    }
}

impl VerifyingProg {
    /// # Safety
    ///
    /// `ptr` is a valid program being verified, for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *const bindings::bpf_prog) -> &'a VerifyingProg {
        // SAFETY: `VerifyingProg` is `repr(transparent)` over `bpf_prog`; the caller
        // guarantees validity.
        // INVARIANT: the caller guarantees it for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// Whether the program is sleepable (set when it was loaded).
    pub fn sleepable(&self) -> bool {
        // SAFETY: `self.0` is a valid program (type invariant).
        unsafe { prog_sleepable(self.0.get()) }
    }
}

/// A helper function a target offers to its programs (`struct bpf_func_proto`).
///
/// Prefer a kfunc: BPF accepts no new helper ids, so [`Target::get_func_proto`] can only give
/// programs of the target a different implementation of a helper id the kernel already has.
/// New functionality for programs is a kfunc of the module (`BTF_KFUNCS_START`,
/// `register_btf_kfunc_id_set`), whose arguments the verifier checks against its BTF
/// prototype; see `Documentation/rust/bpf_iter.rst`.
///
/// [`Target::get_func_proto`]: super::Target::get_func_proto
#[repr(transparent)]
pub struct FuncProto(pub(super) bindings::bpf_func_proto);

// SAFETY: A `bpf_func_proto` is immutable once built.
unsafe impl Sync for FuncProto {}

/// Signature of a helper: five `u64` registers in, one out.
pub type HelperFn = unsafe extern "C" fn(u64, u64, u64, u64, u64) -> u64;

impl FuncProto {
    /// A helper that takes `nargs` (at most 5) integer arguments and returns an integer.
    ///
    /// # Safety
    ///
    /// BPF programs call `func` directly, from any context a program of the target runs in
    /// (with preemption or migration disabled, under RCU), with registers the verifier only
    /// knows to be integers: `func` must be sound for every value of its first `nargs`
    /// arguments and whatever the others hold, must not sleep, and must return. The id it is
    /// offered under must be that of a helper with this prototype (integers in, integer out).
    pub const unsafe fn scalar(func: HelperFn, nargs: usize, gpl_only: bool) -> FuncProto {
        assert!(nargs <= 5);
        let mut p: bindings::bpf_func_proto = unsafe_zeroed_proto();
        p.func = Some(func);
        p.gpl_only = gpl_only;
        p.ret_type = bindings::bpf_return_type_RET_INTEGER;
        let mut i = 0;
        while i < nargs {
            // SAFETY: The five `argN_type` fields are laid out as an array in an anonymous
            // union member; writing one of them through the array view is defined.
            unsafe { p.__bindgen_anon_1.arg_type[i] = bindings::bpf_arg_type_ARG_ANYTHING };
            i += 1;
        }
        FuncProto(p)
    }
}

const fn unsafe_zeroed_proto() -> bindings::bpf_func_proto {
    // SAFETY: `struct bpf_func_proto` is integers, enums whose zero is valid
    // (`RET_INTEGER`/`ARG_DONTCARE`), booleans and nullable pointers: all-zero is valid.
    unsafe { core::mem::zeroed() }
}
