// SPDX-License-Identifier: GPL-2.0
/*
 * The open-coded rust_primes iterator (Protection::Plain) walked from hard
 * interrupt context: at each expiry of an hrtimer (the tick among them), the
 * first 10 primes are summed (129). hits counts the walks, bad those that
 * summed to something else, hard those at the expiry of a timer that is not
 * soft: those expire in hard interrupt context (soft ones in the hrtimer
 * softirq). The open-coded suite reads them from .bss, and the debug kernel's
 * lockdep and KASAN watch the walks.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "primes.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_iter_rust_primes_new(struct bpf_iter_rust_primes *it, __u32 n) __ksym;
extern __u64 *bpf_iter_rust_primes_next(struct bpf_iter_rust_primes *it) __ksym;
extern void bpf_iter_rust_primes_destroy(struct bpf_iter_rust_primes *it) __ksym;

__u64 hits, bad, hard;

SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(on_hrtimer, struct hrtimer *timer, ktime_t *now)
{
	__u64 *p, sum = 0;

	bpf_for_each(rust_primes, p, 10)
		sum += *p;
	if (sum == 129)
		__sync_fetch_and_add(&hits, 1);
	else
		__sync_fetch_and_add(&bad, 1);
	if (!timer->is_soft)
		__sync_fetch_and_add(&hard, 1);
	return 0;
}
