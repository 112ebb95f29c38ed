// SPDX-License-Identifier: GPL-2.0
/*
 * What the primes sample's kfuncs do in NMI context, where no code of the
 * Rust type may run (its state's Drop could free memory): the generated kfuncs
 * pass in_nmi(), and there the iterator's new fails with -EOPNOTSUPP and leaves
 * an empty walk, and rust_primes_nth returns -EOPNOTSUPP.
 *
 * TCG raises no PMU NMIs; an x86 kprobe that is neither optimized nor
 * ftrace-based (no FUNCTION_TRACER in the harness' kernels) runs in the int3
 * handler, which enters NMI context (irqentry_nmi_enter). The open-coded suite
 * turns kprobe optimization off, and the same calls from the sys_enter
 * tracepoint of the same syscall, which is not NMI, are the control: 11, 0, and
 * the first 10 primes.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "primes.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_iter_rust_primes_new(struct bpf_iter_rust_primes *it, __u32 n) __ksym;
extern __u64 *bpf_iter_rust_primes_next(struct bpf_iter_rust_primes *it) __ksym;
extern void bpf_iter_rust_primes_destroy(struct bpf_iter_rust_primes *it) __ksym;
extern __s64 rust_primes_nth(__u32 n) __ksym;

#define NR_GETPGID 121 /* x86_64 */

struct result {
	__u64 calls;
	__s64 nth;
	__s64 new;
	__u64 items;
	__u64 sum;
};

struct result nmi, plain;

static __always_inline void calls(struct result *r)
{
	struct bpf_iter_rust_primes it;
	__u64 *p, items = 0, sum = 0;

	r->nth = rust_primes_nth(5);
	r->new = bpf_iter_rust_primes_new(&it, 10);
	while ((p = bpf_iter_rust_primes_next(&it))) {
		items++;
		sum += *p;
	}
	bpf_iter_rust_primes_destroy(&it);
	r->items = items;
	r->sum = sum;
	__sync_fetch_and_add(&r->calls, 1);
}

SEC("kprobe/__x64_sys_getpgid")
int BPF_KPROBE(in_int3)
{
	calls(&nmi);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(at_sys_enter, struct pt_regs *regs, long id)
{
	if (id == NR_GETPGID)
		calls(&plain);
	return 0;
}
