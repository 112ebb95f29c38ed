// SPDX-License-Identifier: GPL-2.0

//! Rust BPF iterator target over a collection the module owns.
//!
//! Registers `rust_records`: a target that walks, in id order, the records of a collection that
//! userspace changes at runtime through write-only debugfs files:
//!
//! ```sh
//! D=/sys/kernel/debug/rust_bpf_iter_records
//! echo "alpha 10" >$D/add     # a record named alpha, value 10; ids count from 1
//! echo 1 >$D/del              # deletes record 1 (ENOENT if there is none)
//! echo >$D/clear              # deletes every record
//! ```
//!
//! Programs see each record through a BTF pointer (`struct rust_record`, declared in the
//! module's C file so that it is in the module's BTF), then NULL once at the end of the walk:
//!
//! ```c
//! SEC("iter/rust_records")
//! int dump(struct bpf_iter__rust_records *ctx)
//! {
//!         if (ctx->rec)
//!                 BPF_SEQ_PRINTF(ctx->meta->seq, "%llu\n", ctx->rec->id);
//!         return 0;
//! }
//! ```
//!
//! # Design
//!
//! * The collection ([`Records`]) is a red-black tree from id to [`Arc<Record>`] under a
//!   [`Mutex`]. Records are immutable once added, and ids are never reused.
//! * A walk keeps no pointer into the tree between calls: the iterator state holds an id
//!   *cursor*, and `start`/`next` take the lock, find the first record with an id at or after the
//!   cursor, take a reference on it (an [`Arc`] clone) and drop the lock. The item the framework
//!   keeps between `start`/`next` and `show`/`stop` is that reference ([`RecordRef`]), so the
//!   record the program is given stays valid, and unchanged, for as long as the program runs,
//!   even if it is deleted meanwhile; the lock is not held while the program runs, so programs
//!   may be long or sleepable ([`Target::RESCHED`](iter::Target::RESCHED) is set).
//! * Why a newtype item rather than [`iter::Index`] or [`KBox`]: an index would need the
//!   iterator state to hold the current reference beside it, a box would allocate per record;
//!   [`RecordRef`] hands the reference itself to the framework, which gives it back to `next` (which
//!   consumes it) or `stop` (which drops it), so it can neither leak nor dangle.
//! * A walk sees, in id order, every record that exists for the whole walk, and no record twice;
//!   records added or deleted during the walk may or may not be seen. A read that ends early (a
//!   full buffer) resumes from the cursor, which `next` advances past each record shown.
//! * Links and iterators hold an [`Arc`] of the collection; the module holds one more, reachable
//!   from the debugfs callbacks and from `attach` through [`COLLECTION`].
//! * No link parameters are accepted (`EINVAL`). The link's fdinfo shows how many records there
//!   were when it was attached, and how many there are now.

use core::fmt::Write;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bpf::iter::{
    self, BtfPtr, BtfType, Item, LinkInfo, Origin, Prog, Registration, SeqFile, TargetVTable,
};
use kernel::error::{from_result, to_result};
use kernel::ffi::{c_int, c_uint, c_void};
use kernel::rbtree::{RBTree, RBTreeNodeReservation};
use kernel::sync::{Arc, ArcBorrow, Mutex, UniqueArc};
use kernel::{c_str, new_mutex, prelude::*};

/// Length of a record's name, NUL included: `RUST_RECORD_NAME_LEN` in the C header.
const NAME_LEN: usize = 16;

/// The operations of the debugfs files, `enum rust_records_op` in the C header.
const OP_ADD: c_uint = 1;
const OP_DEL: c_uint = 2;
const OP_CLEAR: c_uint = 3;

/// The Rust view of `struct rust_record` (`rust_bpf_iter_records.h`).
///
/// # Invariants
///
/// `id` is in `1..u64::MAX`; `name` is NUL-terminated.
#[repr(C)]
struct Record {
    id: u64,
    value: u64,
    name: [u8; NAME_LEN],
}

// SAFETY: `Record` is `#[repr(C)]` with the fields of `struct rust_record`, declared in this
// module's C file (registration checks the size against BTF).
unsafe impl BtfType for Record {
    const NAME: &'static CStr = c_str!("rust_record");
    const ORIGIN: Origin = Origin::Owner;
}

/// What [`Records::inner`] protects.
///
/// # Invariants
///
/// Each record of `tree` is under its own id; `len` is the number of records; every id in the
/// tree is below `next_id`, and `next_id` is at most `u64::MAX`.
struct Inner {
    tree: RBTree<u64, Arc<Record>>,
    len: usize,
    next_id: u64,
}

/// The collection the target walks.
#[pin_data]
struct Records {
    #[pin]
    inner: Mutex<Inner>,
}

impl Records {
    fn new() -> impl PinInit<Self> {
        pin_init!(Records {
            inner <- new_mutex!(
                Inner {
                    tree: RBTree::new(),
                    len: 0,
                    next_id: 1,
                },
                "Records::inner"
            ),
        })
    }

    /// Adds a record named `name` (at most `NAME_LEN - 1` bytes) and returns its id.
    fn add(&self, name: &[u8], value: u64) -> Result<u64> {
        if name.len() >= NAME_LEN {
            return Err(EINVAL);
        }
        let mut rec = UniqueArc::new(
            Record {
                id: 0,
                value,
                name: [0; NAME_LEN],
            },
            GFP_KERNEL,
        )?;
        rec.name[..name.len()].copy_from_slice(name);
        // Allocate everything before taking the lock: the critical section is short and can
        // only fail by running out of ids, so failed adds leave no gaps in the ids, and ids
        // enter the tree in increasing order.
        let node = RBTreeNodeReservation::new(GFP_KERNEL)?;
        let mut inner = self.inner.lock();
        let id = inner.next_id;
        if id == u64::MAX {
            return Err(ENOSPC);
        }
        inner.next_id = id + 1;
        rec.id = id;
        // No record has this id: every id in the tree is below the old `next_id`.
        inner.tree.insert(node.into_node(id, rec.into()));
        inner.len += 1;
        Ok(id)
    }

    /// Deletes record `id`; `ENOENT` if there is none. A walk that holds it keeps it alive.
    fn del(&self, id: u64) -> Result {
        let mut inner = self.inner.lock();
        let rec = inner.tree.remove(&id).ok_or(ENOENT)?;
        inner.len -= 1;
        drop(inner);
        drop(rec);
        Ok(())
    }

    /// Deletes every record.
    fn clear(&self) {
        let old = {
            let mut inner = self.inner.lock();
            inner.len = 0;
            core::mem::take(&mut inner.tree)
        };
        // Free the nodes, and the records no walk holds, without the lock.
        drop(old);
    }

    /// The number of records.
    fn len(&self) -> usize {
        self.inner.lock().len
    }

    /// A reference on the record with the lowest id at or after `from`, if any.
    fn first_from(&self, from: u64) -> Option<Arc<Record>> {
        let mut inner = self.inner.lock();
        let cursor = inner.tree.cursor_lower_bound(&from)?;
        Some(cursor.current().1.clone())
    }
}

/// The collection, for the debugfs callbacks and `attach`: NULL, or a pointer from
/// [`Arc::into_raw`] that owns one reference.
///
/// # Invariants
///
/// Set by [`RecordsModule::init`] before the debugfs files are created and the target is
/// registered, cleared (and its reference dropped) by [`RecordsModule`]'s `drop` after both are
/// gone, and by `init` if it fails; never changed in between.
static COLLECTION: AtomicPtr<Records> = AtomicPtr::new(ptr::null_mut());

/// A new reference on the collection.
///
/// # Safety
///
/// The caller is a debugfs write handler of this module, or `attach` of the target: either the
/// module's `drop` has not removed the debugfs files yet (`debugfs_remove` waits for handlers
/// that are running), or a program verified against the target exists, which holds a reference
/// on the module so that its `drop` has not begun.
unsafe fn collection() -> Result<Arc<Records>> {
    let p = COLLECTION.load(Ordering::Acquire);
    if p.is_null() {
        return Err(ENODEV);
    }
    // SAFETY: `p` comes from `Arc::into_raw` and, by the type invariant of `COLLECTION` and the
    // safety requirement, its reference is not dropped while we clone it.
    let borrowed = unsafe { ArcBorrow::from_raw(p) };
    Ok(borrowed.into())
}

/// Drops the module's reference on the collection, if it holds one.
fn drop_collection() {
    let p = COLLECTION.swap(ptr::null_mut(), Ordering::AcqRel);
    if !p.is_null() {
        // SAFETY: `p` comes from `Arc::into_raw` (type invariant), and we took it out of
        // `COLLECTION`, so this is the one `from_raw` for it.
        drop(unsafe { Arc::from_raw(p) });
    }
}

/// Removes leading and trailing spaces and newlines.
fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\n', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\n'] = b {
        b = rest;
    }
    b
}

/// Parses a decimal `u64`.
fn parse_u64(b: &[u8]) -> Result<u64> {
    if b.is_empty() {
        return Err(EINVAL);
    }
    b.iter().try_fold(0u64, |acc, &c| {
        if !c.is_ascii_digit() {
            return Err(EINVAL);
        }
        acc.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or(ERANGE)
    })
}

/// Parses `NAME VALUE`: a name of 1 to `NAME_LEN - 1` printable, non-space ASCII characters,
/// one or more spaces, a decimal value.
fn parse_add(cmd: &[u8]) -> Result<(&[u8], u64)> {
    let cmd = trim(cmd);
    let sp = cmd.iter().position(|&c| c == b' ').ok_or(EINVAL)?;
    let (name, value) = (&cmd[..sp], trim(&cmd[sp..]));
    if name.len() >= NAME_LEN || !name.iter().all(|c| c.is_ascii_graphic()) {
        return Err(EINVAL);
    }
    Ok((name, parse_u64(value)?))
}

/// Runs the command `buf[..len]` written to the debugfs file of `op`; 0 or a negative errno.
///
/// # Safety
///
/// Called only by the module's debugfs write handler, with `buf` valid for reading `len` bytes.
#[no_mangle]
unsafe extern "C" fn rust_bpf_iter_records_cmd(op: c_uint, buf: *const u8, len: usize) -> c_int {
    // SAFETY: By the safety requirement `buf` is valid for `len` bytes, for this call.
    let cmd = unsafe { core::slice::from_raw_parts(buf, len) };
    from_result(|| {
        // SAFETY: We are the module's debugfs write handler.
        let records = unsafe { collection() }?;
        match op {
            OP_ADD => {
                let (name, value) = parse_add(cmd)?;
                records.add(name, value)?;
            }
            OP_DEL => records.del(parse_u64(trim(cmd))?)?,
            OP_CLEAR => records.clear(),
            _ => return Err(EINVAL),
        }
        Ok(0)
    })
}

extern "C" {
    /// Creates the debugfs files (`rust_bpf_iter_records_btf.c`).
    fn rust_bpf_iter_records_debugfs_init() -> c_int;
    /// Removes them, waiting for writes in progress.
    fn rust_bpf_iter_records_debugfs_exit();
}

/// A reference on a record: what the framework keeps between `start`/`next` and `show`/`stop`.
struct RecordRef(Arc<Record>);

// SAFETY: `into_ptr` gives the non-NULL data pointer of `Arc::into_raw`, which owns the
// reference, and `from_ptr` takes it back with `Arc::from_raw`.
unsafe impl Item for RecordRef {
    fn into_ptr(self) -> NonNull<c_void> {
        let p = Arc::into_raw(self.0);
        // SAFETY: `Arc::into_raw` returns a pointer into a live allocation, never NULL.
        unsafe { NonNull::new_unchecked(p.cast_mut().cast()) }
    }

    unsafe fn from_ptr(p: NonNull<c_void>) -> Self {
        // SAFETY: By the safety requirement `p` comes from `into_ptr`, hence `Arc::into_raw`, and
        // is taken back once only.
        RecordRef(unsafe { Arc::from_raw(p.as_ptr().cast::<Record>()) })
    }
}

kernel::bpf_iter_context! {
    /// What programs see after `meta` (`struct bpf_iter__rust_records`).
    struct RecordsCtx<'a> {
        rec: BtfPtr<'a, Record>,
    }
}

/// Per-link state.
struct RecordsLink {
    records: Arc<Records>,
    /// The number of records when the link was made, for its fdinfo.
    at_attach: usize,
}

/// Per-iterator state.
///
/// # Invariants
///
/// Every record with an id below `cursor` has been shown by this iterator, or did not exist
/// when the walk passed its id.
struct RecordsIter {
    records: Arc<Records>,
    cursor: u64,
}

struct RecordsTarget;

#[vtable]
impl iter::Target for RecordsTarget {
    const NAME: &'static CStr = c_str!("rust_records");
    const RESCHED: bool = true;

    type Ctx<'a> = RecordsCtx<'a>;
    type Link = RecordsLink;
    type Iter = RecordsIter;
    type Item = RecordRef;

    fn attach(_prog: &Prog, info: &LinkInfo<'_>) -> Result<RecordsLink> {
        info.none()?;
        // SAFETY: We are `attach`.
        let records = unsafe { collection() }?;
        let at_attach = records.len();
        Ok(RecordsLink { records, at_attach })
    }

    fn init_iter(link: &RecordsLink) -> Result<RecordsIter> {
        Ok(RecordsIter {
            records: link.records.clone(),
            cursor: 0,
        })
    }

    fn start(it: &mut RecordsIter, _pos: u64) -> Result<Option<RecordRef>> {
        Ok(it.records.first_from(it.cursor).map(RecordRef))
    }

    fn next(it: &mut RecordsIter, prev: RecordRef) -> Option<RecordRef> {
        // `prev` was shown. Its id is below `u64::MAX` (type invariant of `Record`).
        it.cursor = prev.0.id + 1;
        drop(prev);
        it.records.first_from(it.cursor).map(RecordRef)
    }

    fn ctx<'a>(_it: &'a RecordsIter, item: &'a RecordRef) -> RecordsCtx<'a> {
        RecordsCtx {
            rec: BtfPtr::new(&item.0),
        }
    }

    fn show_fdinfo(link: &RecordsLink, m: &mut SeqFile) {
        let _ = writeln!(m, "records_at_attach:\t{}", link.at_attach);
        let _ = writeln!(m, "records_now:\t{}", link.records.len());
    }
}

struct RecordsModule {
    /// `None` only while dropping.
    reg: Option<Registration<RecordsTarget>>,
}

// The context's description, checked against the module's BTF at build time.
kernel::bpf_iter_layout!(RecordsTarget);

impl kernel::Module for RecordsModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        static VTABLE: TargetVTable<RecordsTarget> = TargetVTable::new();

        let records = Arc::pin_init(Records::new(), GFP_KERNEL)?;
        COLLECTION.store(Arc::into_raw(records).cast_mut(), Ordering::Release);
        // SAFETY: Plain FFI call; the collection the handlers use is set.
        if let Err(e) = to_result(unsafe { rust_bpf_iter_records_debugfs_init() }) {
            drop_collection();
            return Err(e);
        }
        match Registration::register(&VTABLE, module) {
            Ok(reg) => Ok(RecordsModule { reg: Some(reg) }),
            Err(e) => {
                // SAFETY: Plain FFI call, after a successful `debugfs_init`.
                unsafe { rust_bpf_iter_records_debugfs_exit() };
                drop_collection();
                Err(e)
            }
        }
    }
}

impl Drop for RecordsModule {
    fn drop(&mut self) {
        // Init in reverse: no new links, then no debugfs writes, then the module's reference
        // on the collection (links and iterators are gone: they pin the module).
        drop(self.reg.take());
        // SAFETY: Plain FFI call, after a successful `debugfs_init`.
        unsafe { rust_bpf_iter_records_debugfs_exit() };
        drop_collection();
    }
}

module! {
    type: RecordsModule,
    name: "rust_bpf_iter_records",
    author: "rust-bpf-iter developers",
    description: "Rust BPF iterator target over a collection the module owns",
    license: "GPL",
}
