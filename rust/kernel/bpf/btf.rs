// SPDX-License-Identifier: GPL-2.0

//! BPF Type Format (BTF) of the kernel and of modules.
//!
//! C header: [`include/linux/btf.h`](srctree/include/linux/btf.h)
//!
//! Only what registering a BPF iterator target needs: the BTF of a module (or of vmlinux), type
//! lookups by name and a walk over types, read according to the BTF format of
//! [`include/uapi/linux/btf.h`](srctree/include/uapi/linux/btf.h).

use crate::{bindings, c_str, error::code::*, prelude::*, str::CStr, ThisModule};
use core::ptr::NonNull;

/// Kinds of BTF types (`BTF_KIND_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// Integer.
    Int = 1,
    /// Pointer.
    Ptr = 2,
    /// Array.
    Array = 3,
    /// Struct.
    Struct = 4,
    /// Union.
    Union = 5,
    /// Enumeration of up to 32-bit values.
    Enum = 6,
    /// Forward declaration.
    Fwd = 7,
    /// Typedef.
    Typedef = 8,
    /// Volatile modifier.
    Volatile = 9,
    /// Const modifier.
    Const = 10,
    /// Restrict modifier.
    Restrict = 11,
    /// Function.
    Func = 12,
    /// Function prototype.
    FuncProto = 13,
    /// Variable.
    Var = 14,
    /// Section.
    Datasec = 15,
    /// Floating point.
    Float = 16,
    /// Declaration tag.
    DeclTag = 17,
    /// Type tag.
    TypeTag = 18,
    /// Enumeration of up to 64-bit values.
    Enum64 = 19,
}

impl Kind {
    fn from_info(info: u32) -> Option<Kind> {
        let k = (info >> 24) & 0x1f;
        if (1..=19).contains(&k) {
            // SAFETY: `Kind` is `repr(u32)` with every value in `1..=19` a variant.
            Some(unsafe { core::mem::transmute::<u32, Kind>(k) })
        } else {
            None
        }
    }
}

/// A reference to the BTF of vmlinux or of a module.
///
/// # Invariants
///
/// `self.0` points to a valid `struct btf` on which this object holds a reference.
pub struct Btf(NonNull<bindings::btf>);

// SAFETY: A `struct btf` is immutable once published and its reference count is atomic.
unsafe impl Send for Btf {}
// SAFETY: All `&self` methods only read the immutable type information.
unsafe impl Sync for Btf {}

impl Btf {
    /// Returns the BTF of `module`, or of vmlinux for built-in code.
    ///
    /// Fails with `ENOENT` when the kernel or the module has no BTF.
    pub fn of_module(module: &'static ThisModule) -> Result<Btf> {
        // SAFETY: `module.as_ptr()` is the module itself (or NULL for built-in code), live while
        // `&'static ThisModule` is.
        let btf = unsafe { bindings::btf_get_module_btf(module.as_ptr()) };
        let btf = crate::error::from_err_ptr(btf)?;
        // INVARIANT: `btf_get_module_btf` returned a valid BTF with a reference taken for us,
        // or NULL.
        NonNull::new(btf).map(Btf).ok_or(ENOENT)
    }

    /// Returns the BTF of vmlinux.
    pub fn vmlinux() -> Result<Btf> {
        // SAFETY: NULL asks for vmlinux' BTF, which is never freed.
        let btf = unsafe { bindings::btf_get_module_btf(core::ptr::null()) };
        let btf = crate::error::from_err_ptr(btf)?;
        // INVARIANT: as in `of_module`.
        NonNull::new(btf).map(Btf).ok_or(ENOENT)
    }

    /// Returns the raw pointer, valid while `self` lives.
    pub(crate) fn as_ptr(&self) -> *mut bindings::btf {
        self.0.as_ptr()
    }

    /// Whether this is the BTF of a module (not of vmlinux).
    pub fn is_module(&self) -> bool {
        // SAFETY: By the type invariant `self.0` is valid.
        unsafe { bindings::btf_is_module(self.0.as_ptr()) }
    }

    /// Finds the id of the type called `name` of kind `kind`, in this BTF or its base.
    pub fn find(&self, name: &CStr, kind: Kind) -> Result<u32> {
        // SAFETY: By the type invariant `self.0` is valid, `name` is NUL-terminated.
        let id = unsafe {
            bindings::btf_find_by_name_kind(self.0.as_ptr(), name.as_char_ptr(), kind as u8)
        };
        if id < 0 {
            return Err(Error::from_errno(id));
        }
        Ok(id as u32)
    }

    /// Returns the type with id `id`.
    pub fn type_by_id(&self, id: u32) -> Option<Type<'_>> {
        // SAFETY: By the type invariant `self.0` is valid; an out of range id gives NULL.
        let t = unsafe { bindings::btf_type_by_id(self.0.as_ptr(), id) };
        // SAFETY: A non-NULL result points into the type section of `self`, which lives as long
        // as `self`.
        let t = unsafe { t.as_ref() }?;
        Some(Type { btf: self, t, id })
    }
}

impl Clone for Btf {
    fn clone(&self) -> Btf {
        // SAFETY: By the type invariant `self.0` is valid; the new object owns the new reference.
        unsafe { bindings::btf_get(self.0.as_ptr()) };
        Btf(self.0)
    }
}

impl Drop for Btf {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own one reference.
        unsafe { bindings::btf_put(self.0.as_ptr()) };
    }
}

/// One type of a [`Btf`].
#[derive(Clone, Copy)]
pub struct Type<'a> {
    btf: &'a Btf,
    t: &'a bindings::btf_type,
    id: u32,
}

impl<'a> Type<'a> {
    /// The type id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The kind, or `None` for a kind this kernel does not know.
    pub fn kind(&self) -> Option<Kind> {
        Kind::from_info(self.t.info)
    }

    /// The number of members, parameters or enumerators.
    pub fn vlen(&self) -> u16 {
        (self.t.info & 0xffff) as u16
    }

    /// The name, empty for anonymous types.
    pub fn name(&self) -> &'a CStr {
        // SAFETY: The BTF is valid; an offset into its string section gives a NUL-terminated
        // string that lives as long as the BTF (an invalid offset gives NULL).
        let p = unsafe { bindings::btf_name_by_offset(self.btf.as_ptr(), self.t.name_off) };
        if p.is_null() {
            return c_str!("");
        }
        // SAFETY: As above, `p` is a NUL-terminated string valid for `'a`.
        unsafe { CStr::from_char_ptr(p) }
    }

    /// The size in bytes of an integer, struct, union or enum.
    pub fn size(&self) -> u32 {
        // SAFETY: `size` and `type` share a union; reading it as a number is always defined.
        unsafe { self.t.__bindgen_anon_1.size }
    }

    /// Whether an integer or enum is signed (`BTF_INT_SIGNED`, or an enum's `kind_flag`); false
    /// for any other kind.
    pub fn is_signed(&self) -> bool {
        match self.kind() {
            Some(Kind::Int) => {
                // SAFETY: A `BTF_KIND_INT` type is followed by its `u32` encoding, within the
                // type section validated when the BTF was loaded.
                let enc = unsafe {
                    core::ptr::from_ref(self.t)
                        .add(1)
                        .cast::<u32>()
                        .read_unaligned()
                };
                (enc >> 24) & bindings::BTF_INT_SIGNED != 0
            }
            Some(Kind::Enum | Kind::Enum64) => self.t.info >> 31 != 0,
            _ => false,
        }
    }

    /// The type a pointer, modifier, typedef, function or variable refers to.
    pub fn referenced(&self) -> Option<Type<'a>> {
        // SAFETY: As in `size`.
        let id = unsafe { self.t.__bindgen_anon_1.type_ };
        self.btf.type_by_id(id)
    }

    /// The type behind any typedefs and modifiers.
    pub fn skip_modifiers(self) -> Option<Type<'a>> {
        let mut t = self;
        for _ in 0..32 {
            match t.kind()? {
                Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                    t = t.referenced()?
                }
                _ => return Some(t),
            }
        }
        None
    }

    /// The type of parameter `i` of a function prototype.
    pub fn param(&self, i: u16) -> Option<Type<'a>> {
        if self.kind()? != Kind::FuncProto || i >= self.vlen() {
            return None;
        }
        // SAFETY: A `BTF_KIND_FUNC_PROTO` type is followed by `vlen` `struct btf_param`s, all
        // within the type section validated when the BTF was loaded.
        let p = unsafe {
            &*core::ptr::from_ref(self.t)
                .add(1)
                .cast::<bindings::btf_param>()
                .add(i as usize)
        };
        self.btf.type_by_id(p.type_)
    }

    /// Whether `self` and `other` are the same type object.
    pub fn same(&self, other: &Type<'_>) -> bool {
        core::ptr::eq(self.t, other.t)
    }
}
