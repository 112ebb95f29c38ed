// SPDX-License-Identifier: GPL-2.0

//! Rust BPF iterator target sample.
//!
//! Registers `rust_sample` (built as a module) or `rust_sample_builtin` (built in): a target
//! that walks a table of records owned by the module. (Built with `--cfg rust_sample_twin`, as
//! `rust_bpf_iter_sample_twin.ko` for a selftest, the target is `rust_sample_twin`.) Programs
//! see each record through a BTF pointer, its index as an integer and its name as a read-only
//! buffer:
//!
//! ```c
//! SEC("iter/rust_sample")
//! int dump(struct bpf_iter__rust_sample *ctx)
//! {
//!         if (ctx->rec)
//!                 BPF_SEQ_PRINTF(ctx->meta->seq, "%u %s\n", ctx->index, ctx->name);
//!         return 0;
//! }
//! ```
//!
//! The same type is an open-coded iterator of the same name, which yields the records
//! themselves (`struct rust_sample_record *`), in any program and context:
//!
//! ```c
//! struct rust_sample_record *rec;
//!
//! bpf_for_each(rust_sample_builtin, rec)
//!         bpf_printk("%u %s", rec->id, rec->name);
//! ```

use core::sync::atomic::{AtomicU64, Ordering};
use kernel::bpf::iter::{self, BtfPtr, Index, Protection, RdonlyBuf, Scalar, Scope};
use kernel::{c_str, prelude::*, seq_file::SeqFile, seq_print};

/// Length of a record's name.
const NAME_LEN: usize = 16;

kernel::bpf_iter_btf_struct! {
    /// One record of the table: `struct rust_sample_record` for programs, whose C the build
    /// generates from this declaration.
    struct Record as "rust_sample_record" {
        id: u32,
        flags: u32,
        value: u64,
        name: [u8; NAME_LEN],
    }
}

const fn record(id: u32, value: u64, name: &str) -> Record {
    let mut n = [0u8; NAME_LEN];
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() && i < NAME_LEN - 1 {
        n[i] = b[i];
        i += 1;
    }
    Record {
        id,
        flags: 0,
        value,
        name: n,
    }
}

/// The records the target walks: fixed, so that tests know what to expect.
static RECORDS: [Record; 5] = [
    record(1, 10, "alpha"),
    record(2, 200, "beta"),
    record(3, 3000, "gamma"),
    record(4, 40000, "delta"),
    record(5, 500000, "epsilon"),
];

kernel::bpf_iter_context! {
    /// What programs see after `meta` (`struct bpf_iter__rust_sample`).
    struct SampleCtx<'a> {
        rec: BtfPtr<'a, Record>,
        index: Scalar<u32>,
        name: RdonlyBuf<'a, NAME_LEN>,
    }
}

/// Per-link state: a serial number, shown in the link's fdinfo.
struct SampleLink {
    serial: u64,
}

/// Per-iterator state: the table being walked and where the walk is. A read that fills the
/// buffer stops at an object it has not shown; the next read starts from it again.
struct SampleIter {
    records: &'static [Record],
    cursor: usize,
}

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

struct Sample;

#[vtable]
impl iter::Target for Sample {
    #[cfg(all(MODULE, not(rust_sample_twin)))]
    const NAME: &'static CStr = c_str!("rust_sample");
    #[cfg(all(MODULE, rust_sample_twin))]
    const NAME: &'static CStr = c_str!("rust_sample_twin");
    #[cfg(not(MODULE))]
    const NAME: &'static CStr = c_str!("rust_sample_builtin");

    type Ctx<'a> = SampleCtx<'a>;
    type Data = ();
    type Params = ();
    type Link = SampleLink;
    type Iter = SampleIter;
    type Item = Index;

    fn attach(_data: (), (): ()) -> Result<SampleLink> {
        Ok(SampleLink {
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
        })
    }

    fn init_iter(_link: &SampleLink) -> Result<SampleIter> {
        Ok(SampleIter {
            records: &RECORDS,
            cursor: 0,
        })
    }

    fn start(it: &mut SampleIter, _pos: u64) -> Result<Option<Index>> {
        Ok((it.cursor < it.records.len()).then_some(Index(it.cursor)))
    }

    fn next(it: &mut SampleIter, item: &mut Option<Index>) {
        it.cursor += 1;
        *item = (it.cursor < it.records.len()).then_some(Index(it.cursor));
    }

    fn ctx<'a>(it: &'a SampleIter, item: &'a Index) -> SampleCtx<'a> {
        let r = &it.records[item.0];
        SampleCtx {
            rec: BtfPtr::new(r),
            index: Scalar::new(item.0 as u32),
            name: RdonlyBuf::new(&r.name),
        }
    }

    fn show_fdinfo(link: &SampleLink, m: &SeqFile) {
        seq_print!(m, "rust_sample_serial:\t{}\n", link.serial);
    }
}

impl iter::OpenIter for Sample {
    // The target's name: kfuncs `bpf_iter_rust_sample_builtin_new`, ... when built in.
    const NAME: &'static CStr = <Sample as iter::Target>::NAME;
    // The records are `'static`: nothing to hold.
    const PROTECTION: Protection = Protection::Plain;

    type Args = ();
    // The index of the next record.
    type State<'r> = usize;
    // `next` returns the record itself, valid for as long as the module is loaded, which a
    // program that calls the kfuncs keeps it.
    type Item<'r> = &'r Record;

    fn new<'r>(_: Scope<'r, Self>, (): ()) -> Result<usize> {
        Ok(0)
    }

    fn next<'r>(_: Scope<'r, Self>, at: &mut usize) -> Option<&'r Record> {
        let rec = RECORDS.get(*at)?;
        *at += 1;
        Some(rec)
    }
}

#[cfg(not(rust_sample_twin))]
kernel::module_bpf_iter_target! {
    targets: [Sample],
    open_iters: [Sample],
    name: "rust_bpf_iter_sample",
    description: "Rust BPF iterator target sample",
    license: "GPL",
}

#[cfg(rust_sample_twin)]
kernel::module_bpf_iter_target! {
    targets: [Sample],
    open_iters: [Sample],
    name: "rust_bpf_iter_sample_twin",
    description: "Rust BPF iterator target sample",
    license: "GPL",
}
