// SPDX-License-Identifier: GPL-2.0

//! The records a target's object carries for the build: one `LayoutRecord` per target (its
//! context, placed by `bpf_iter_layout!`) and one `TypeRecord` per struct of its own that programs
//! see (`bpf_iter_btf_struct!`, with `BtfField`), from which the C of its BTF is generated and
//! checked (`scripts/rust_bpf_iter_btf.py`, `tools/harness/layout_check.py`).

use super::{ArgSpec, Context, Origin, ParamCType, Params, ParamsKind, Target, TargetVTable};
use crate::bpf::compat;

/// Size of one [`LayoutRecord`] and of one [`TypeRecord`].
pub const LAYOUT_RECORD_SIZE: usize = 1024;
const LAYOUT_MAX_SLOTS: usize = 8;
const LAYOUT_PARAMS_AT: usize = 64 + LAYOUT_SLOT_SIZE * LAYOUT_MAX_SLOTS;
const LAYOUT_SLOT_SIZE: usize = 104;
const LAYOUT_NAME_LEN: usize = 56;
const LAYOUT_TYPE_LEN: usize = 32;
const TYPE_MAX_FIELDS: usize = 11;
const TYPE_FIELD_SIZE: usize = 80;

/// A description of a target's context, placed by [`bpf_iter_layout!`] in the
/// `.rust_bpf_iter_layout` section of the object, from which the build generates the C of the
/// target's BTF (`scripts/rust_bpf_iter_btf.py`: the anchor and the context struct) and then
/// checks it against the module's BTF (`tools/harness/layout_check.py`). The section is
/// discarded from vmlinux (`patches/6.12/0020`).
///
/// Format (all records [`LAYOUT_RECORD_SIZE`] bytes, little endian): `b"RBIL"`, version 4,
/// the number of slots, two zero bytes, the target name NUL-padded to 56 bytes; then per slot
/// (at most 8) 104 bytes: kind (1 scalar, 2 BTF pointer, 3 trusted BTF pointer, 4 read-only
/// buffer), origin (0 vmlinux, 1 owner), signedness (1 for a signed scalar, else 0), a zero
/// byte, the size as `u32` (scalar or buffer bytes, size of the Rust view of a BTF type), then
/// three names NUL-padded to 32 bytes: the struct (BTF pointers), the slot, and the header that
/// defines a vmlinux struct. At 896, the link parameters ([`Target::Params`]): their kind (0
/// none, 1 task, 2 map, 3 cgroup, 4 an integer or array of the target's own, 5 a struct of the
/// target's own), three zero bytes, the number of array elements as `u32` (0 for no array),
/// the C integer type or struct name NUL-padded to 56 bytes, and the size of a parameter of the
/// target's own as `u32` (0 for the other kinds).
///
/// [`bpf_iter_layout!`]: crate::bpf_iter_layout
#[repr(C, align(8))]
#[doc(hidden)]
pub struct LayoutRecord([u8; LAYOUT_RECORD_SIZE]);

/// Writes `bytes` at `at` of a record, which must leave room for a NUL within `max` bytes (a
/// name of a record field; also used for the open iterators' records).
pub(super) const fn put(buf: &mut [u8; LAYOUT_RECORD_SIZE], at: usize, bytes: &[u8], max: usize) {
    assert!(bytes.len() < max, "name too long for the record");
    let mut i = 0;
    while i < bytes.len() {
        buf[at + i] = bytes[i];
        i += 1;
    }
}

impl LayoutRecord {
    /// The record of target `T`.
    pub const fn new<T: Target>() -> Self {
        let args = TargetVTable::<T>::ARGS;
        let names = <T::Ctx<'static> as Context>::NAMES;
        assert!(
            args.len() <= LAYOUT_MAX_SLOTS,
            "a target's context has at most 8 slots after `meta`"
        );
        assert!(names.len() == args.len());
        let mut b = [0u8; LAYOUT_RECORD_SIZE];
        put(&mut b, 0, b"RBIL", 5);
        b[4] = 4;
        b[5] = args.len() as u8;
        put(&mut b, 8, compat::cstr_bytes(T::NAME), LAYOUT_NAME_LEN);
        let mut i = 0;
        while i < args.len() {
            let at = 64 + LAYOUT_SLOT_SIZE * i;
            let mut signed = 0;
            let (kind, origin, size, name, header): (u8, u8, usize, &[u8], &str) = match args[i] {
                ArgSpec::Scalar { size, signed: s } => {
                    signed = s as u8;
                    (1, 0, size, b"", "")
                }
                ArgSpec::RdonlyBuf { size } => (4, 0, size, b"", ""),
                ArgSpec::Btf {
                    name,
                    origin,
                    size,
                    trusted,
                    header,
                } => (
                    if trusted { 3 } else { 2 },
                    match origin {
                        Origin::Vmlinux => 0,
                        Origin::Owner => 1,
                    },
                    size,
                    compat::cstr_bytes(name),
                    header,
                ),
            };
            b[at] = kind;
            b[at + 1] = origin;
            b[at + 2] = signed;
            put(&mut b, at + 4, &(size as u32).to_le_bytes(), 5);
            put(&mut b, at + 8, name, LAYOUT_TYPE_LEN);
            put(&mut b, at + 40, names[i].as_bytes(), LAYOUT_TYPE_LEN);
            put(&mut b, at + 72, header.as_bytes(), LAYOUT_TYPE_LEN);
            i += 1;
        }
        let at = LAYOUT_PARAMS_AT;
        let (kind, len, ctype): (u8, usize, &str) = match <T::Params as Params>::KIND {
            ParamsKind::None => (0, 0, ""),
            ParamsKind::Task => (1, 0, ""),
            ParamsKind::Map => (2, 0, ""),
            ParamsKind::Cgroup => (3, 0, ""),
            ParamsKind::Custom {
                ty: ParamCType::Int(name, len),
                ..
            } => (4, len, name),
            ParamsKind::Custom {
                ty: ParamCType::Struct(name),
                ..
            } => (5, 0, name),
        };
        let size = match <T::Params as Params>::KIND {
            ParamsKind::Custom { size, .. } => size,
            _ => 0,
        };
        b[at] = kind;
        put(&mut b, at + 4, &(len as u32).to_le_bytes(), 5);
        put(&mut b, at + 8, ctype.as_bytes(), LAYOUT_NAME_LEN);
        put(&mut b, at + 64, &(size as u32).to_le_bytes(), 5);
        LayoutRecord(b)
    }
}

/// Places the [`LayoutRecord`] of a target in its object, for the C of its BTF and the build-time
/// check of its context. [`module_bpf_iter_target!`] does it for its targets; code that
/// registers targets itself invokes it once per target type.
///
/// [`module_bpf_iter_target!`]: crate::module_bpf_iter_target
#[macro_export]
macro_rules! bpf_iter_layout {
    ($t:ty) => {
        const _: () = {
            #[used]
            #[link_section = ".rust_bpf_iter_layout"]
            static LAYOUT: $crate::bpf::iter::LayoutRecord =
                $crate::bpf::iter::LayoutRecord::new::<$t>();
        };
    };
}

/// Types a field of a target's own BTF struct ([`bpf_iter_btf_struct!`]) may have: integers,
/// and arrays of them.
///
/// [`bpf_iter_btf_struct!`]: crate::bpf_iter_btf_struct
pub trait BtfField {
    /// The C type (of the elements, for an array).
    const C_TYPE: &'static str;
    /// The number of elements of an array; 0 for a scalar.
    const LEN: usize;
}

/// The integers [`BtfField`] arrays may hold.
pub trait BtfInt: BtfField {}

macro_rules! btf_ints {
    ($($t:ty => $c:literal),*) => {
        $(
            impl BtfField for $t {
                const C_TYPE: &'static str = $c;
                const LEN: usize = 0;
            }
            impl BtfInt for $t {}
        )*
    };
}

btf_ints!(u8 => "__u8", u16 => "__u16", u32 => "__u32", u64 => "__u64",
          i8 => "__s8", i16 => "__s16", i32 => "__s32", i64 => "__s64");

impl<T: BtfInt, const N: usize> BtfField for [T; N] {
    const C_TYPE: &'static str = T::C_TYPE;
    const LEN: usize = N;
}

/// A description of a target's own struct ([`bpf_iter_btf_struct!`]), in the
/// `.rust_bpf_iter_types` section of the object, from which the build generates its C
/// definition for the module's BTF and checks that definition against the Rust one.
///
/// Format ([`LAYOUT_RECORD_SIZE`] bytes, little endian): `b"RBIT"`, version 1, the number of
/// fields, two zero bytes, the C struct name NUL-padded to 56 bytes, the size as `u32`, four
/// zero bytes; then per field 80 bytes: its name and C type NUL-padded to 32 bytes each, the
/// number of array elements (0 for a scalar) and the offset, as `u32`s, eight zero bytes.
///
/// [`bpf_iter_btf_struct!`]: crate::bpf_iter_btf_struct
#[repr(C, align(8))]
#[doc(hidden)]
pub struct TypeRecord([u8; LAYOUT_RECORD_SIZE]);

impl TypeRecord {
    /// The record of the struct `name` of `size` bytes, with `(name, C type, elements,
    /// offset)` for each field, in order.
    pub const fn new(name: &str, size: usize, fields: &[(&str, &str, usize, usize)]) -> Self {
        assert!(
            fields.len() <= TYPE_MAX_FIELDS,
            "too many fields for a type record"
        );
        let mut b = [0u8; LAYOUT_RECORD_SIZE];
        put(&mut b, 0, b"RBIT", 5);
        b[4] = 1;
        b[5] = fields.len() as u8;
        put(&mut b, 8, name.as_bytes(), LAYOUT_NAME_LEN);
        put(&mut b, 64, &(size as u32).to_le_bytes(), 5);
        let mut i = 0;
        while i < fields.len() {
            let at = 72 + TYPE_FIELD_SIZE * i;
            let (fname, ctype, len, offset) = fields[i];
            put(&mut b, at, fname.as_bytes(), LAYOUT_TYPE_LEN);
            put(&mut b, at + 32, ctype.as_bytes(), LAYOUT_TYPE_LEN);
            put(&mut b, at + 64, &(len as u32).to_le_bytes(), 5);
            put(&mut b, at + 68, &(offset as u32).to_le_bytes(), 5);
            i += 1;
        }
        TypeRecord(b)
    }
}

/// Declares a target's own struct that programs get pointers to ([`Origin::Owner`]): a
/// `#[repr(C)]` Rust struct of integers and arrays of them ([`BtfField`]), its [`BtfType`]
/// implementation, and the [`TypeRecord`] from which the build generates the C struct for the
/// module's BTF (`scripts/rust_bpf_iter_btf.py`), so both have one definition. The build then
/// checks the module's BTF struct against the record, field by field
/// (`tools/harness/layout_check.py`), and registration checks its size.
///
/// The struct also implements [`FromBytes`], [`AsBytes`] and [`ParamType`], so that it can be a
/// link parameter of the target's own ([`Custom`], [`LinkInfoOut::set_custom`]): every field must be
/// both (checked at compile time), and the struct may have no implicit padding (as in C UAPI
/// structs, declare it as a field; a compile-time error says so otherwise).
///
/// [`BtfType`]: super::BtfType
/// [`FromBytes`]: crate::transmute::FromBytes
/// [`AsBytes`]: crate::transmute::AsBytes
/// [`ParamType`]: super::ParamType
/// [`Custom`]: super::Custom
/// [`LinkInfoOut::set_custom`]: super::LinkInfoOut::set_custom
///
/// # Examples
///
/// ```
/// use kernel::bpf::iter::{BtfType, Custom, LinkInfo, Origin, ParamCType, Params, ParamsKind};
/// use kernel::prelude::*;
/// use kernel::transmute::{AsBytes, FromBytes};
///
/// kernel::bpf_iter_btf_struct! {
///     /// One record of a collection.
///     pub struct Record as "my_record" {
///         pub id: u64,
///         pub value: u32,
///         pub pad: u32,
///         pub name: [u8; 16],
///     }
/// }
///
/// assert_eq!(Record::NAME.to_str(), Ok("my_record"));
/// assert!(Record::ORIGIN == Origin::Owner);
/// assert_eq!(core::mem::size_of::<Record>(), 32);
///
/// // A link parameter `struct { __u32 start; __u32 count; }`, read with
/// // `type Params = Custom<Range>` and reported with `info.set_custom(&range)`.
/// kernel::bpf_iter_btf_struct! {
///     struct Range as "my_range" {
///         start: u32,
///         count: u32,
///     }
/// }
/// fn bytes<T: FromBytes + AsBytes>() -> usize {
///     core::mem::size_of::<T>()
/// }
/// assert_eq!(bytes::<Range>(), 8);
///
/// type P = Custom<Range>;
/// assert!(matches!(
///     P::KIND,
///     ParamsKind::Custom { ty: ParamCType::Struct("my_range"), size: 8 }
/// ));
/// let Custom(r) = P::from_info(&LinkInfo::from_words([3, 5, 0, 0]))?;
/// assert_eq!((r.start, r.count), (3, 5));
/// assert_eq!(P::from_info(&LinkInfo::from_words([3, 5, 1, 0])).err(), Some(EINVAL));
/// # Ok::<(), Error>(())
/// ```
#[macro_export]
macro_rules! bpf_iter_btf_struct {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident as $cname:literal {
            $($(#[$fattr:meta])* $fvis:vis $field:ident : $ty:ty),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        #[repr(C)]
        $vis struct $name {
            $($(#[$fattr])* $fvis $field: $ty),+
        }

        // SAFETY: `$name` is `#[repr(C)]` with fields of integer and integer-array types only;
        // the C struct `$cname` in the module's BTF is generated from the record below, which
        // lists the same fields in the same order, so it has the same layout. The build checks
        // the module's BTF struct against the record (`layout_check.py`), and registration its
        // size.
        unsafe impl $crate::bpf::iter::BtfType for $name {
            const NAME: &'static $crate::str::CStr = $crate::c_str!($cname);
            const ORIGIN: $crate::bpf::iter::Origin = $crate::bpf::iter::Origin::Owner;
        }

        const _: () = {
            const fn bytes<T: $crate::transmute::FromBytes + $crate::transmute::AsBytes>() {}
            $(bytes::<$ty>();)+
            ::core::assert!(
                ::core::mem::size_of::<$name>() == 0 $(+ ::core::mem::size_of::<$ty>())+,
                "bpf_iter_btf_struct!: the struct has implicit padding: declare it as a field"
            );
        };

        // SAFETY: `$name` is `#[repr(C)]` and every field is `FromBytes` (asserted above): any bit
        // pattern of each field, hence of the struct, is valid. No field has interior mutability.
        unsafe impl $crate::transmute::FromBytes for $name {}

        // SAFETY: `$name` is `#[repr(C)]` without padding (its size is the sum of its fields',
        // asserted above) and every field is `AsBytes`: a value has no uninitialized byte. No
        // field has interior mutability.
        unsafe impl $crate::transmute::AsBytes for $name {}

        impl $crate::bpf::iter::ParamType for $name {
            const C_TYPE: $crate::bpf::iter::ParamCType = $crate::bpf::iter::ParamCType::Struct($cname);
        }

        const _: () = {
            #[used]
            #[link_section = ".rust_bpf_iter_types"]
            static TYPE: $crate::bpf::iter::TypeRecord = $crate::bpf::iter::TypeRecord::new(
                $cname,
                ::core::mem::size_of::<$name>(),
                &[$((
                    ::core::stringify!($field),
                    <$ty as $crate::bpf::iter::BtfField>::C_TYPE,
                    <$ty as $crate::bpf::iter::BtfField>::LEN,
                    ::core::mem::offset_of!($name, $field),
                )),+],
            );
        };
    };
}
