/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark, not a test: cycles per run of each eBPF program given on the command line, JIT and
 * interpreted, on one context and frame (a DNS query from 10.1.1.1 to 192.168.2.53), against an
 * empty loop. Each figure is the smallest of 15 batches of 100k runs (the least disturbed on a
 * shared machine), in TSC cycles per run. No EAL needed.
 *
 *   rl_bpf_bench build/bpf/pass.o build/bpf/allow_private.o ...
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "rl_bpf.h"

#define BATCH	100000u
#define BATCHES 15

static const uint8_t frame[] = {
	/* Ethernet */
	2,
	0,
	0,
	0,
	2,
	2,
	2,
	0,
	0,
	0,
	1,
	1,
	0x08,
	0x00,
	/* IPv4, UDP 5353 -> 53 */
	0x45,
	0,
	0,
	61,
	0,
	1,
	0,
	0,
	64,
	17,
	0,
	0,
	10,
	1,
	1,
	1,
	192,
	168,
	2,
	53,
	0x14,
	0xe9,
	0,
	53,
	0,
	41,
	0,
	0,
	/* DNS: id 1, RD, one question: www.example.com A IN */
	0,
	1,
	1,
	0,
	0,
	1,
	0,
	0,
	0,
	0,
	0,
	0,
	3,
	'w',
	'w',
	'w',
	7,
	'e',
	'x',
	'a',
	'm',
	'p',
	'l',
	'e',
	3,
	'c',
	'o',
	'm',
	0,
	0,
	1,
	0,
	1,
};

static void
ctx_init(struct rl_bpf_run *r)
{
	memset(r, 0, sizeof(*r));
	r->ctx.version = VG_BPF_CTX_VERSION;
	r->ctx.size = sizeof(r->ctx);
	r->ctx.family = 4;
	r->ctx.proto = 17;
	r->ctx.sport = 5353;
	r->ctx.dport = 53;
	r->ctx.l3_off = 14;
	r->ctx.l4_off = 34;
	r->ctx.payload_off = 42;
	r->ctx.payload_len = sizeof(frame) - 42;
	r->ctx.pkt_len = sizeof(frame);
	memcpy(r->ctx.src, (const uint8_t[]){ 10, 1, 1, 1 }, 4);
	memcpy(r->ctx.dst, (const uint8_t[]){ 192, 168, 2, 53 }, 4);
	r->data = frame;
	r->len = sizeof(frame);
}

static double
per_run(const struct rl_bpf_prog *p, uint64_t *rc)
{
	uint64_t best = UINT64_MAX;
	struct rl_bpf_run r;

	ctx_init(&r);
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t = rte_rdtsc_precise(), acc = 0;

		for (unsigned i = 0; i < BATCH; i++) {
			if (p != NULL)
				acc += rl_bpf_exec(p, &r, 0);
			__asm__ volatile("" : "+r"(acc)::"memory");
		}
		t = rte_rdtsc_precise() - t;
		if (t < best)
			best = t;
		*rc = acc / BATCH;
	}
	return (double)best / BATCH;
}

int
main(int argc, char **argv)
{
	uint64_t rc;
	double empty = per_run(NULL, &rc);

	printf("{\"benchmark\": \"rl_bpf_bench\", \"runs_per_batch\": %u, \"batches\": %u, "
	       "\"empty_loop_cycles\": %.2f, \"programs\": [",
			BATCH, BATCHES, empty);
	for (int i = 1; i < argc; i++) {
		char err[1536];
		double c[2];
		uint32_t n = 0;

		for (int jit = 0; jit <= 1; jit++) {
			struct rl_bpf_prog *p = rl_bpf_load(argv[i], 1, jit, err, sizeof(err));

			if (p == NULL) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			n = rl_bpf_n_insns(p);
			c[jit] = per_run(p, &rc);
			rl_bpf_free(p);
		}
		printf("%s\n  {\"file\": \"%s\", \"instructions\": %u, \"return\": %llu, "
		       "\"jit_cycles_per_run\": %.2f, \"interpreter_cycles_per_run\": %.2f}",
				i > 1 ? "," : "", argv[i], n, (unsigned long long)rc, c[1] - empty,
				c[0] - empty);
	}
	printf("\n]}\n");
	return 0;
}
