// SPDX-License-Identifier: GPL-2.0

//! A BPF iterator target over a computed sequence: `rust_primes` shows the first `n` primes,
//! `n` given per link (a `u32` link parameter: `bpf-iter run PROG.o --param u32=10`). The same
//! type is an open-coded iterator too, which any program walks in a loop of its own.
//!
//! Programs see each prime and its index; on the final call both are zero, which no prime is:
//!
//! ```c
//! SEC("iter/rust_primes")
//! int show(struct bpf_iter__rust_primes *ctx)
//! {
//!         if (ctx->prime)
//!                 BPF_SEQ_PRINTF(ctx->meta->seq, "%u %llu\n", ctx->index, ctx->prime);
//!         return 0;
//! }
//! ```
//!
//! The open-coded iterator yields the first `n` primes to a loop in any program, in any
//! context (it neither sleeps nor allocates):
//!
//! ```c
//! __u64 *p;
//!
//! bpf_for_each(rust_primes, p, 10)
//!         bpf_printk("%llu", *p);
//! ```
//!
//! And a kfunc of the module's own gives any program the `n`th prime (up to the 1000th), in the
//! same kfunc set:
//!
//! ```c
//! extern s64 rust_primes_nth(__u32 n) __ksym;
//!
//! bpf_printk("%lld", rust_primes_nth(10)); // 29
//! ```
//!
//! This file is the example of `Documentation/rust/bpf_iter.rst`, shown there whole.

use kernel::bpf::iter::{
    self, Custom, Index, KfuncContext, LinkInfoOut, Protection, Scalar, Scope,
};
use kernel::{c_str, prelude::*, seq_file::SeqFile, seq_print};

/// The most primes a link may ask for.
const MAX_PRIMES: u32 = 1_000_000;

/// The most primes one open-coded walk may ask for: a program's loop runs in one go, without
/// rescheduling, so it is kept short.
const MAX_OPEN_PRIMES: u32 = 10_000;

kernel::bpf_iter_context! {
    /// What programs see after `meta`: scalars only, zero on the final call.
    struct PrimesCtx {
        index: Scalar<u32>,
        prime: Scalar<u64>,
    }
}

/// Per-link state: how many primes to show.
struct PrimesLink {
    n: u32,
}

/// Per-iterator state: the prime the walk is at, and its index (the cursor). A read that stops
/// on a prime it did not show starts from it again.
struct PrimesIter {
    n: u32,
    index: u32,
    prime: u64,
}

/// The smallest prime above `p`.
fn next_prime(p: u64) -> u64 {
    let mut c = p + 1;
    while c < 2 || (2..).take_while(|d| d * d <= c).any(|d| c % d == 0) {
        c += 1;
    }
    c
}

struct RustPrimes;

#[vtable]
impl iter::Target for RustPrimes {
    const NAME: &'static CStr = c_str!("rust_primes");
    // A walk of up to a million objects: let the core reschedule between them.
    const RESCHED: bool = true;

    type Ctx<'a> = PrimesCtx;
    type Data = ();
    // `n`, a `u32` over the start of the link parameters; the other 12 bytes must be zero.
    type Params = Custom<u32>;
    type Link = PrimesLink;
    type Iter = PrimesIter;
    // The walk's own cursor is the object: the item only says "there is one".
    type Item = Index;

    fn attach(_data: (), Custom(n): Custom<u32>) -> Result<PrimesLink> {
        // `n` is required, 1 to `MAX_PRIMES`.
        match n {
            1..=MAX_PRIMES => Ok(PrimesLink { n }),
            _ => Err(EINVAL),
        }
    }

    fn init_iter(link: &PrimesLink) -> Result<PrimesIter> {
        Ok(PrimesIter {
            n: link.n,
            index: 0,
            prime: 2,
        })
    }

    fn start(it: &mut PrimesIter, _pos: u64) -> Result<Option<Index>> {
        Ok((it.index < it.n).then_some(Index(0)))
    }

    fn next(it: &mut PrimesIter, item: &mut Option<Index>) {
        it.index += 1;
        it.prime = next_prime(it.prime);
        *item = (it.index < it.n).then_some(Index(0));
    }

    fn ctx<'a>(it: &'a PrimesIter, _item: &'a Index) -> PrimesCtx {
        PrimesCtx {
            index: Scalar::new(it.index),
            prime: Scalar::new(it.prime),
        }
    }

    fn show_fdinfo(link: &PrimesLink, m: &SeqFile) {
        seq_print!(m, "n:\t{}\n", link.n);
    }

    fn fill_link_info(link: &PrimesLink, info: &mut LinkInfoOut<'_>) -> Result {
        info.set_custom(&link.n);
        Ok(())
    }
}

/// The state of an open-coded walk, in the program's stack: the primes left, and the last one.
struct PrimesWalk {
    left: u32,
    prime: u64,
}

impl iter::OpenIter for RustPrimes {
    const NAME: &'static CStr = c_str!("rust_primes");
    const PROTECTION: Protection = Protection::Plain;
    const ARG_NAMES: &'static [&'static str] = &["n"];

    // `bpf_iter_rust_primes_new(&it, n)`: `n` from 0 to `MAX_OPEN_PRIMES`.
    type Args = (u32,);
    type State<'r> = PrimesWalk;
    // `bpf_iter_rust_primes_next(&it)` returns a `__u64 *` to it.
    type Item<'r> = u64;

    fn new<'r>(_: Scope<'r, Self>, (n,): (u32,)) -> Result<PrimesWalk> {
        if n > MAX_OPEN_PRIMES {
            return Err(EINVAL);
        }
        Ok(PrimesWalk { left: n, prime: 1 })
    }

    fn next<'r>(_: Scope<'r, Self>, walk: &mut PrimesWalk) -> Option<u64> {
        walk.left = walk.left.checked_sub(1)?;
        walk.prime = next_prime(walk.prime);
        Some(walk.prime)
    }
}

/// How many primes `rust_primes_nth` knows.
const MAX_NTH: usize = 1000;

/// The first `MAX_NTH` primes, each found by trial division by those before it, at compile time:
/// a call of the kfunc costs a lookup.
static NTH_PRIMES: [u32; MAX_NTH] = {
    let mut table = [0u32; MAX_NTH];
    let (mut found, mut candidate) = (0, 2);
    while found < MAX_NTH {
        let mut prime = true;
        let mut i = 0;
        while i < found && table[i] * table[i] <= candidate {
            if candidate % table[i] == 0 {
                prime = false;
                break;
            }
            i += 1;
        }
        if prime {
            table[found] = candidate;
            found += 1;
        }
        candidate += 1;
    }
    table
};

/// `s64 rust_primes_nth(__u32 n)`: the `n`th prime, from 1 (2) to `MAX_NTH` (7919), in any
/// context but NMI; `-EINVAL` for any other `n`.
struct PrimesNth;

impl iter::Kfunc for PrimesNth {
    const NAME: &'static CStr = c_str!("rust_primes_nth");
    // It reads a table and nothing else, so it may run wherever a program does.
    const CONTEXT: KfuncContext = KfuncContext::Atomic;
    const ARG_NAMES: &'static [&'static str] = &["n"];

    type Args = (u32,);
    type Ret = u32;

    fn call((n,): (u32,)) -> Result<u32> {
        let at = usize::try_from(n).map_err(|_| EINVAL)?.checked_sub(1);
        at.and_then(|at| NTH_PRIMES.get(at)).copied().ok_or(EINVAL)
    }
}

kernel::module_bpf_iter_target! {
    targets: [RustPrimes],
    open_iters: [RustPrimes],
    kfuncs: [PrimesNth],
    name: "rust_bpf_iter_primes",
    description: "A BPF iterator target and open-coded iterator over the first n primes",
    license: "GPL",
}
