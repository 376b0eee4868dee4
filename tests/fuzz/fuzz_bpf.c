/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every example program of bpf/examples (and bpf/test/mark_age.c) on random packets: the first byte
 * picks the direction and whether the context comes from the dataplane's parser (as vigild builds
 * it) or straight from the input's next bytes (any values a program could be handed); the rest is
 * the frame. Each program runs JIT-compiled and interpreted: both must agree and return a verdict
 * vigild accepts (dp_bpf_rc_valid). No crash, no read past the frame (ASan sees the copy's end).
 * The map examples (allow_list, port_knock) run with their maps as their files fill them; the
 * JIT's and the interpreter's copies each have their own maps, which see the same inputs in the
 * same order (port_knock writes its state) and so stay alike. Maps need the EAL (no hugepages).
 *
 * A third copy (JIT) runs on a context of which only the parts the program's analysis says it
 * may read (rl_bpf_ctx_need) are filled, over a poisoned struct (filled by the dataplane's
 * dp_bpf_ctx_fill as vigild does, or copied from the input's context): it must answer as the
 * JIT did on the whole context, or the analysis left out a part the program reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <rte_eal.h>

#include "dp_bpf_ctx.h"
#include "dp_parse.h"
#include "rl_bpf.h"
#include "vg_eal_cleanup.h"

static const char *const examples[] = { "pass", "allow_private", "dns_qname", "sampler",
	"allow_list", "port_knock", "prefilter_bogon", "test_mark_age" };
#define N_EX (sizeof(examples) / sizeof(examples[0]))

static struct rl_bpf_prog *progs[N_EX][3]; /* [interpreter, JIT, JIT on a partial context] */

static void
load_all(void)
{
	char prefix[64];

	/* Three copies of allow_list's two lpm maps: 64 MiB each. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=vgfuzzbpf%d", (int)getpid());
	char *argv[] = { "fuzz", "--no-huge", "-m", "640", "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0", "--log-level=lib.eal:error", prefix, NULL };
	if (rte_eal_init(11, argv) < 0) {
		fprintf(stderr, "fuzz_bpf: EAL init failed\n");
		abort();
	}
	atexit(vg_eal_cleanup);
	for (size_t i = 0; i < N_EX; i++)
		for (int jit = 0; jit <= 2; jit++) {
			char path[512], err[1536];

			snprintf(path, sizeof(path), "%s/%s.o", VG_BPF_DIR, examples[i]);
			progs[i][jit] = rl_bpf_load(path, 1, jit > 0, err, sizeof(err));
			if (progs[i][jit] == NULL) {
				fprintf(stderr, "fuzz_bpf: %s\n", err);
				abort();
			}
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_bpf_run r;
	struct dp_pkt p;
	uint8_t *frame;
	uint32_t len;

	if (progs[0][0] == NULL)
		load_all();
	if (size < 1)
		return 0;
	const uint8_t mode = data[0];

	data++, size--;
	memset(&r, 0, sizeof(r));
	if (mode & 0x80) {
		/* Context from the input as it is, frame after it. */
		size_t n = size < sizeof(r.ctx) ? size : sizeof(r.ctx);

		memcpy(&r.ctx, data, n);
		data += n, size -= n;
	}
	len = size > 65535 ? 65535 : (uint32_t)size;
	frame = malloc(len ? len : 1); /* exactly len bytes: ASan flags any read beyond */
	if (frame == NULL)
		return 0;
	memcpy(frame, data, len);
	const struct dp_bpf_flow_facts fl = { .rule = mode & 7,
		.dir = (mode >> 3) & 1,
		.mark = mode >> 4,
		.pkts = 1u + (mode & 0x3f),
		.first_ns = 1,
		.now_ns = 2 };

	if (!(mode & 0x80)) {
		if (dp_parse(frame, len, &p, NULL) != 0 || p.l3 == DP_L3_NONE) {
			free(frame);
			return 0;
		}
		dp_bpf_ctx_fill(&r, &p, frame, len, &fl, RL_BPF_NEED_ALL);
	} else {
		r.data = frame;
		r.len = len;
	}
	for (size_t i = 0; i < N_EX; i++) {
		struct rl_bpf_run a = r, b = r;
		uint64_t ri = rl_bpf_exec(progs[i][0], &a, 0);
		uint64_t rj = rl_bpf_exec(progs[i][1], &b, 0);

		if (ri != rj || !dp_bpf_rc_valid(ri)) {
			fprintf(stderr, "fuzz_bpf: %s: interpreter %#llx, JIT %#llx\n", examples[i],
					(unsigned long long)ri, (unsigned long long)rj);
			abort();
		}
		{
			const uint32_t need = rl_bpf_ctx_need(progs[i][2]);
			struct rl_bpf_run c;
			uint64_t rk;

			memset(&c, 0xa5 ^ mode, sizeof(c));
			if (!(mode & 0x80)) {
				dp_bpf_ctx_fill(&c, &p, frame, len, &fl, need);
			} else {
				/* The input's context: only the bytes of the parts it needs. */
				for (int64_t o = 0; o < (int64_t)sizeof(c.ctx); o++)
					if (rl_bpf_need_bytes(o, 1) & need)
						((uint8_t *)&c.ctx)[o] =
								((const uint8_t *)&r.ctx)[o];
				c.data = frame;
				c.len = len;
			}
			rk = rl_bpf_exec(progs[i][2], &c, 0);
			if (rk != rj) {
				fprintf(stderr,
						"fuzz_bpf: %s: %#llx on the parts it needs (%#x), "
						"%#llx on the whole context\n",
						examples[i], (unsigned long long)rk, need,
						(unsigned long long)rj);
				abort();
			}
		}
	}
	free(frame);
	return 0;
}
