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
//! Programs see each record through a BTF pointer (`struct rust_record`, which the build puts in
//! the module's BTF from the Rust declaration), then NULL once at the end of the walk:
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
//!   keeps between `start`/`next` and `show`/`stop` is that reference (an `Arc<Record>`), so the
//!   record the program is given stays valid, and unchanged, for as long as the program runs,
//!   even if it is deleted meanwhile; the lock is not held while the program runs, so programs
//!   may be long or sleepable ([`Target::RESCHED`](iter::Target::RESCHED) is set).
//! * Why an `Arc` item rather than [`iter::Index`] or [`KBox`]: an index would need the
//!   iterator state to hold the current reference beside it, a box would allocate per record;
//!   the item is the `Arc<Record>` itself, which the framework keeps in the iterator state
//!   for one read and hands to `next` (which replaces it) or drops at `stop`, so it can neither
//!   leak nor dangle.
//! * A walk sees, in id order, every record that exists for the whole walk, and no record twice;
//!   records added or deleted during the walk may or may not be seen. A read that ends early (a
//!   full buffer) resumes from the cursor, which `next` advances past each record shown.
//! * Links and iterators hold an [`Arc`] of the collection. The registration holds one too, its
//!   [`Target::Data`](iter::Target::Data), which the framework lends to `attach`; each debugfs
//!   file holds one, which [`debugfs`] hands to the file's write function; and the module holds
//!   one. No C: every call into C is the kernel crate's. The one static is the open-coded
//!   iterator's slot (below).
//! * No link parameters are accepted (`EINVAL`). The link's fdinfo shows how many records there
//!   were when it was attached, and how many there are now.
//!
//! # Open-coded
//!
//! The same type is the open-coded iterator `rust_records`, for sleepable programs (its walk
//! takes the collection's mutex), which yields the ids of the records in order:
//!
//! ```c
//! __u64 *id;
//!
//! bpf_for_each(rust_records, id)
//!         bpf_printk("%llu", *id);
//! ```
//!
//! A kfunc gets nothing of a registration, so the walks find the collection through a static
//! slot ([`OPEN_RECORDS`], an [`iter::OpenData`]) that `init` fills and the module's `drop`
//! empties; each walk keeps its own reference on the collection and an id cursor, as a seq_file
//! walk does.
//!
//! `rust_records_count()`, a kfunc of the module's own for sleepable programs, counts the
//! records through the same slot; it is in the module's one kfunc set with the iterator's.

use core::convert::Infallible;
use kernel::bpf::iter::{
    self, BtfPtr, KfuncContext, OpenData, OpenDataGuard, Protection, Registration, Scope,
    TargetVTable,
};
use kernel::debugfs::{self, Dir};
use kernel::rbtree::{RBTree, RBTreeNodeReservation};
use kernel::seq_file::SeqFile;
use kernel::seq_print;
use kernel::sync::{Arc, ArcBorrow, Mutex, UniqueArc};
use kernel::uaccess::UserSliceReader;
use kernel::{c_str, new_mutex, prelude::*};

/// Length of a record's name, NUL included.
const NAME_LEN: usize = 16;

/// The longest command written to a debugfs file, in bytes (plus one).
const CMD_MAX: usize = 64;

kernel::bpf_iter_btf_struct! {
    /// One record of the collection: `struct rust_record` for programs, whose C the build
    /// generates from this declaration.
    ///
    /// # Invariants
    ///
    /// `id` is in `1..u64::MAX`; `name` is NUL-terminated.
    struct Record as "rust_record" {
        id: u64,
        value: u64,
        name: [u8; NAME_LEN],
    }
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
    /// The target's registration: set from `init` to the module's `drop`, except while
    /// unregistered through the debugfs file `registered` (for a selftest that registers and
    /// unregisters the target while programs for it are verified).
    #[pin]
    reg: Mutex<Option<Registration<RecordsTarget>>>,
    /// The module, which owns the target.
    module: &'static ThisModule,
}

impl Records {
    fn new(module: &'static ThisModule) -> impl PinInit<Self> {
        pin_init!(Records {
            inner <- new_mutex!(
                Inner {
                    tree: RBTree::new(),
                    len: 0,
                    next_id: 1,
                },
                "Records::inner"
            ),
            reg <- new_mutex!(None, "Records::reg"),
            module,
        })
    }

    /// Registers (`on`) or unregisters the target; nothing if it already is (or is not).
    ///
    /// The registration lends the collection to `attach` and holds a reference on it: a cycle
    /// (collection, registration, collection) that unregistering breaks, which the module's
    /// `drop` does.
    fn set_registered(this: ArcBorrow<'_, Records>, on: bool) -> Result {
        let mut reg = this.reg.lock();
        if on && reg.is_none() {
            *reg = Some(Registration::register(&VTABLE, this.module, this.into())?);
        } else if !on {
            // Unregisters, under the lock: a concurrent `set_registered(true)` waits for it.
            *reg = None;
        }
        Ok(())
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
        let mut guard = self.inner.lock();
        // `&mut`: 6.12's `cursor_lower_bound` takes `&mut self`, later kernels' `&self`.
        let inner: &mut Inner = &mut guard;
        let cursor = inner.tree.cursor_lower_bound(&from)?;
        Some(cursor.current().1.clone())
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

/// Copies in a command written to a debugfs file: `EINVAL` if it is `CMD_MAX` bytes or longer.
fn command<'b>(reader: &mut UserSliceReader, buf: &'b mut [u8; CMD_MAX]) -> Result<&'b [u8]> {
    let len = reader.len();
    if len >= CMD_MAX {
        return Err(EINVAL);
    }
    reader.read_slice(&mut buf[..len])?;
    Ok(&buf[..len])
}

/// A write to `add`: `NAME VALUE`.
fn cmd_add(records: &Arc<Records>, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; CMD_MAX];
    let (name, value) = parse_add(command(reader, &mut buf)?)?;
    records.add(name, value).map(|_| ())
}

/// A write to `del`: `ID`.
fn cmd_del(records: &Arc<Records>, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; CMD_MAX];
    records.del(parse_u64(trim(command(reader, &mut buf)?))?)
}

/// A write to `clear`: anything.
fn cmd_clear(records: &Arc<Records>, reader: &mut UserSliceReader) -> Result {
    command(reader, &mut [0; CMD_MAX])?;
    records.clear();
    Ok(())
}

/// A write to `registered`: `0` unregisters the target, `1` registers it.
fn cmd_registered(records: &Arc<Records>, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0; CMD_MAX];
    let on = match trim(command(reader, &mut buf)?) {
        b"0" => false,
        b"1" => true,
        _ => return Err(EINVAL),
    };
    Records::set_registered(records.as_arc_borrow(), on)
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
    type Data = Arc<Records>;
    type Params = ();
    type Link = RecordsLink;
    type Iter = RecordsIter;
    type Item = Arc<Record>;

    fn attach(records: ArcBorrow<'_, Records>, (): ()) -> Result<RecordsLink> {
        let records: Arc<Records> = records.into();
        let at_attach = records.len();
        Ok(RecordsLink { records, at_attach })
    }

    fn init_iter(link: &RecordsLink) -> Result<RecordsIter> {
        Ok(RecordsIter {
            records: link.records.clone(),
            cursor: 0,
        })
    }

    fn start(it: &mut RecordsIter, _pos: u64) -> Result<Option<Arc<Record>>> {
        Ok(it.records.first_from(it.cursor))
    }

    fn next(it: &mut RecordsIter, item: &mut Option<Arc<Record>>) {
        // The record shown; its id is below `u64::MAX` (type invariant of `Record`).
        if let Some(prev) = item.take() {
            it.cursor = prev.id + 1;
        }
        *item = it.records.first_from(it.cursor);
    }

    fn ctx<'a>(_it: &'a RecordsIter, item: &'a Arc<Record>) -> RecordsCtx<'a> {
        RecordsCtx {
            rec: BtfPtr::new(item),
        }
    }

    fn show_fdinfo(link: &RecordsLink, m: &SeqFile) {
        seq_print!(m, "records_at_attach:\t{}\n", link.at_attach);
        seq_print!(m, "records_now:\t{}\n", link.records.len());
    }
}

/// The collection, for the open-coded walks (their kfuncs get no registration data).
static OPEN_RECORDS: OpenData<Arc<Records>> = OpenData::new();

/// An open-coded walk: a reference on the collection, and the id to look from.
struct OpenWalk {
    records: Arc<Records>,
    cursor: u64,
}

impl iter::OpenIter for RecordsTarget {
    const NAME: &'static CStr = c_str!("rust_records");
    // Each step takes the collection's mutex, which may sleep.
    const PROTECTION: Protection = Protection::Sleepable;

    // `bpf_iter_rust_records_new(&it)`; `next` returns a `__u64 *` to the id.
    type Args = ();
    type State<'r> = OpenWalk;
    type Item<'r> = u64;

    fn new<'r>(_: Scope<'r, Self>, (): ()) -> Result<OpenWalk> {
        Ok(OpenWalk {
            records: OPEN_RECORDS.get().ok_or(ENODEV)?,
            cursor: 0,
        })
    }

    fn next<'r>(_: Scope<'r, Self>, walk: &mut OpenWalk) -> Option<u64> {
        let rec = walk.records.first_from(walk.cursor)?;
        // Below `u64::MAX` (type invariant of `Record`).
        walk.cursor = rec.id + 1;
        Some(rec.id)
    }
}

kernel::bpf_open_iter!(RecordsTarget);

/// `s64 rust_records_count(void)`: the number of records, for sleepable programs (it takes the
/// collection's mutex), a kfunc of the module's own in the same set as the open iterator's.
struct RecordsCount;

impl iter::Kfunc for RecordsCount {
    const NAME: &'static CStr = c_str!("rust_records_count");
    // It takes the collection's mutex.
    const CONTEXT: KfuncContext = KfuncContext::Sleepable;

    type Args = ();
    type Ret = u32;

    fn call((): ()) -> Result<u32> {
        let records = OPEN_RECORDS.get().ok_or(ENODEV)?;
        u32::try_from(records.len()).map_err(|_| ERANGE)
    }
}

kernel::bpf_kfunc!(RecordsCount);

/// The module.
struct RecordsModule {
    /// The debugfs files, each with a reference on the collection: removed first.
    files: KVec<Pin<KBox<debugfs::File<Arc<Records>>>>>,
    /// The open-coded walks' slot: emptied when the module goes (no program can call the kfuncs
    /// then: each holds a reference on the module).
    _open: Option<OpenDataGuard<Arc<Records>>>,
    /// Their directory, removed once they are.
    _dir: Dir,
    records: Arc<Records>,
}

/// The target's registration data, registered (and re-registered) from the collection.
static VTABLE: TargetVTable<RecordsTarget> = TargetVTable::new();

// The context's description, checked against the module's BTF at build time.
kernel::bpf_iter_layout!(RecordsTarget);

/// A write-only debugfs file `name` in `dir` whose writes call `cmd` with the collection.
///
/// `cmd` is a function item (a type of its own, of size zero), as `kernel::debugfs` requires.
fn cmd_file<W>(
    dir: &Dir,
    name: &CStr,
    records: &Arc<Records>,
    cmd: &'static W,
) -> Result<Pin<KBox<debugfs::File<Arc<Records>>>>>
where
    W: Fn(&Arc<Records>, &mut UserSliceReader) -> Result + Send + Sync,
{
    // The data is a plain value: an initializer that cannot fail.
    let file = dir.write_callback_file::<_, Infallible, _>(name, records.clone(), cmd);
    KBox::pin_init(file, GFP_KERNEL)
}

impl kernel::Module for RecordsModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let records = Arc::pin_init(Records::new(module), GFP_KERNEL)?;
        // From here, an error drops `this`, which unregisters the target.
        let mut this = RecordsModule {
            files: KVec::new(),
            _open: None,
            _dir: Dir::new(c_str!("rust_bpf_iter_records")),
            records,
        };
        Records::set_registered(this.records.as_arc_borrow(), true)?;
        let (dir, records) = (&this._dir, &this.records);
        let files = [
            cmd_file(dir, c_str!("add"), records, &cmd_add)?,
            cmd_file(dir, c_str!("del"), records, &cmd_del)?,
            cmd_file(dir, c_str!("clear"), records, &cmd_clear)?,
            cmd_file(dir, c_str!("registered"), records, &cmd_registered)?,
        ];
        this.files.reserve(files.len(), GFP_KERNEL)?;
        for file in files {
            this.files.push(file, GFP_KERNEL)?;
        }
        this._open = Some(OPEN_RECORDS.set(this.records.clone())?);
        // Last: the module's one kfunc set stays registered until the module is freed.
        iter::register_kfuncs(module, kernel::bpf_kfunc_table!())?;
        Ok(this)
    }
}

impl Drop for RecordsModule {
    fn drop(&mut self) {
        // No debugfs writes (which could register the target again: removing a file waits for
        // its writes in progress), then no new links. Then the fields: the directory, and the
        // module's reference on the collection (links and iterators are gone: they pin the
        // module).
        drop(core::mem::take(&mut self.files));
        // Unregistering cannot fail.
        let _ = Records::set_registered(self.records.as_arc_borrow(), false);
    }
}

module! {
    type: RecordsModule,
    name: "rust_bpf_iter_records",
    description: "Rust BPF iterator target over a collection the module owns",
    license: "GPL",
}
