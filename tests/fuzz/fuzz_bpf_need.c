/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The analysis of which parts of the context a program may read (rules/rl_bpf_need.c), on
 * programs of any shape: the input is a context (88 bytes), then eBPF instructions (8 bytes
 * each, at most 64). A program rte_bpf's validator accepts runs JIT-compiled twice on the same
 * struct at the same address (so that a program that looks at the pointer itself sees the same
 * value): once with the whole context as the input gives it, once with only the parts the
 * analysis found and every other byte poisoned. The answers must be the same; a difference is
 * a part the analysis left out, which on the worker would be a wrong verdict. A seed corpus
 * holds the example programs' instructions (gen_bpf_need_corpus.py).
 *
 * It fuzzes rte_bpf's validator as well: what the validator lets through runs. So it is not
 * among the targets tests/fuzz/run.sh fuzzes in the suite (its corpus is replayed there); run it
 * by hand: build-sanitize/tests/fuzz/fuzz_bpf_need -max_total_time=300 DIR corpus/bpf_need.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl_bpf.h"

#define MAX_INSNS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[96];
	struct rl_bpf_run *r;
	struct rl_bpf_prog *p;
	struct vg_bpf_ctx in;
	char err[2048];
	uint32_t n, need;
	uint64_t whole, parts;

	if (size < sizeof(in) + 8)
		return 0;
	memcpy(&in, data, sizeof(in));
	data += sizeof(in), size -= sizeof(in);
	n = (uint32_t)(size / 8);
	if (n > MAX_INSNS)
		n = MAX_INSNS;
	p = rl_bpf_load_insns(data, n, true, err, sizeof(err));
	if (p == NULL)
		return 0;
	need = rl_bpf_ctx_need(p);
	if (need == RL_BPF_NEED_ALL) {
		/* Nothing to compare: the whole context is filled. (Not run either: rte_bpf's
		 * validator lets some programs through that fault, e.g. one that adds two
		 * pointers and loads through the sum, which the analysis gives the whole context.)
		 */
		rl_bpf_free(p);
		return 0;
	}
	/* The frame the packet helpers read: the context's bytes again, so that it varies. */
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = ((const uint8_t *)&in)[i % sizeof(in)];
	r = malloc(sizeof(*r));
	if (r == NULL) {
		rl_bpf_free(p);
		return 0;
	}
	memset(r, 0, sizeof(*r));
	r->ctx = in;
	r->data = frame;
	r->len = sizeof(frame);
	whole = rl_bpf_exec(p, r, 0);
	memset(&r->ctx, 0xa5, sizeof(r->ctx));
	for (int64_t o = 0; o < (int64_t)sizeof(in); o++)
		if (rl_bpf_need_bytes(o, 1) & need)
			((uint8_t *)&r->ctx)[o] = ((const uint8_t *)&in)[o];
	r->data = frame;
	r->len = sizeof(frame);
	parts = rl_bpf_exec(p, r, 0);
	if (parts != whole) {
		fprintf(stderr,
				"fuzz_bpf_need: %u instructions: %#llx on the parts it needs (%#x), "
				"%#llx on the whole context\n",
				n, (unsigned long long)parts, need, (unsigned long long)whole);
		abort();
	}
	free(r);
	rl_bpf_free(p);
	return 0;
}
