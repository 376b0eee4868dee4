/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rl_bpf: the example programs loaded (JIT and interpreter) and run on contexts and frames
 * built here, giving the verdicts docs/BPF.md documents; the refused programs refused with
 * their reason; --check-bpf's output. The objects come from bpf/meson.build (VG_BPF_DIR).
 * Maps (rl_bpf_map.h): the map examples with their files, changes in force at the next run,
 * all-or-nothing batches, declaration and entry errors with their position, slots reused after
 * deletes with and without RCU. Maps live in DPDK memory: the EAL runs (no hugepages).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

/* Two lpm maps and their copies while they change: 64 MiB each (rte_lpm's and rte_lpm6's tbl24). */
#define VG_TEST_WITH_EAL
#define VG_TEST_EAL_MEM_MB "768"
#include <bpf_def.h>

#include "rl_bpf.h"
#include "rl_compile.h"
#include "rl_policy.h"
#include "vg_test.h"

static const char *
obj(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s.o", VG_BPF_DIR, name);
	return path;
}

static struct rl_bpf_prog *
load(const char *name, bool jit)
{
	char err[1536];
	struct rl_bpf_prog *p = rl_bpf_load(obj(name), 2, jit, err, sizeof(err));

	if (p == NULL)
		fail_msg("%s: %s", name, err);
	assert_int_equal(rl_bpf_jitted(p), jit);
	return p;
}

static void
ctx4(struct rl_bpf_run *r, const char *src, const char *dst, uint8_t proto, uint16_t sport,
		uint16_t dport)
{
	unsigned a, b, c, d;

	memset(r, 0, sizeof(*r));
	r->ctx.version = VG_BPF_CTX_VERSION;
	r->ctx.size = sizeof(r->ctx);
	r->ctx.family = 4;
	r->ctx.proto = proto;
	r->ctx.sport = sport;
	r->ctx.dport = dport;
	assert_int_equal(sscanf(src, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	r->ctx.src[0] = (uint8_t)a, r->ctx.src[1] = (uint8_t)b, r->ctx.src[2] = (uint8_t)c,
	r->ctx.src[3] = (uint8_t)d;
	assert_int_equal(sscanf(dst, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
	r->ctx.dst[0] = (uint8_t)a, r->ctx.dst[1] = (uint8_t)b, r->ctx.dst[2] = (uint8_t)c,
	r->ctx.dst[3] = (uint8_t)d;
}

/*
 * The parts of the context each example may read, from its instructions (rl_bpf_need.h): what
 * the worker fills. Read off each program's source; fuzz_bpf checks the answers on random
 * packets against runs on the whole context.
 */
static void
test_ctx_need(void **state)
{
	static const struct {
		const char *name;
		uint32_t need;
	} want[] = {
		{ "pass", 0 },
		{ "allow_private", RL_BPF_NEED_HDR | RL_BPF_NEED_SRC | RL_BPF_NEED_DST },
		{ "dns_qname", RL_BPF_NEED_HDR | RL_BPF_NEED_META },
		{ "sampler", RL_BPF_NEED_HDR | RL_BPF_NEED_SRC | RL_BPF_NEED_DST },
		{ "allow_list", RL_BPF_NEED_HDR | RL_BPF_NEED_SRC | RL_BPF_NEED_DST },
		{ "port_knock", RL_BPF_NEED_HDR | RL_BPF_NEED_NOW | RL_BPF_NEED_SRC },
		{ "prefilter_bogon", RL_BPF_NEED_HDR | RL_BPF_NEED_META | RL_BPF_NEED_SRC |
						     RL_BPF_NEED_DST },
		{ "test_mark_age", RL_BPF_NEED_MARK | RL_BPF_NEED_AGE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct rl_bpf_prog *p = load(want[i].name, true);

		if (rl_bpf_ctx_need(p) != want[i].need)
			fail_msg("%s: needs %#x, expected %#x", want[i].name, rl_bpf_ctx_need(p),
					want[i].need);
		rl_bpf_free(p);
	}
}

static uint32_t
need_of_name(const char *name)
{
	return strcmp(name, "reads_nothing") == 0 ? 0 : RL_BPF_NEED_ALL;
}

#define INSN(c, d, s_, o, i)                                                         \
	{                                                                            \
		.code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i) \
	}

/*
 * A helper given a buffer of the program's own instead of its context (the validator lets a
 * stack pointer of the context's size pass) reads nothing and answers VG_BPF_OOB: before, it
 * took the buffer for a run and read the frame through whatever pointer the program wrote
 * there (a segmentation fault with 0x41414141).
 */
static void
test_helper_foreign_ctx(void **state)
{
	struct ebpf_insn prog[20];
	struct rl_bpf_prog *p;
	struct rl_bpf_run r;
	static uint8_t frame[64] = { 7 };
	char err[2048];
	unsigned n = 0;

	(void)state;
	/* 96 bytes of the stack filled with 0x41414141, then vg_pkt_u8(r10 - 96, 0). */
	for (int k = 0; k < 12; k++)
		prog[n++] = (struct ebpf_insn)INSN(BPF_ST | BPF_MEM | EBPF_DW, 10, 0,
				(int16_t)(-96 + 8 * k), 0x41414141);
	prog[n++] = (struct ebpf_insn)INSN(EBPF_ALU64 | EBPF_MOV | BPF_X, 1, 10, 0, 0);
	prog[n++] = (struct ebpf_insn)INSN(EBPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -96);
	prog[n++] = (struct ebpf_insn)INSN(EBPF_ALU64 | EBPF_MOV | BPF_K, 2, 0, 0, 0);
	prog[n++] = (struct ebpf_insn)INSN(BPF_JMP | EBPF_CALL, 0, 0, 0, 0);
	prog[n++] = (struct ebpf_insn)INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
	for (int jit = 0; jit <= 1; jit++) {
		p = rl_bpf_load_insns(prog, n, jit, err, sizeof(err));
		if (p == NULL)
			fail_msg("refused: %s", err);
		memset(&r, 0, sizeof(r));
		r.data = frame;
		r.len = sizeof(frame);
		assert_true(rl_bpf_exec(p, &r, 0) == VG_BPF_OOB);
		rl_bpf_free(p);
	}
	/* The context pointer added to itself, then read through (rte_bpf's validator lets it
	 * through; it faults when it runs): vigild refuses it. */
	n = 0;
	prog[n++] = (struct ebpf_insn)INSN(EBPF_ALU64 | EBPF_MOV | BPF_X, 2, 1, 0, 0);
	prog[n++] = (struct ebpf_insn)INSN(EBPF_ALU64 | BPF_ADD | BPF_X, 2, 1, 0, 0);
	prog[n++] = (struct ebpf_insn)INSN(BPF_LDX | BPF_MEM | BPF_B, 0, 2, 0, 0);
	prog[n++] = (struct ebpf_insn)INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
	assert_null(rl_bpf_load_insns(prog, n, true, err, sizeof(err)));
	assert_non_null(strstr(err,
			"instruction 2 reaches into the context through a pointer whose "
			"offset vigild cannot tell"));

	/* A shift by 240: rte_bpf's validator lets it through and its x86 JIT makes code that
	 * faults (tests/fuzz/found/rte_bpf_jit_fault.bin); vigild refuses it, and a shift by 63
	 * loads. */
	n = 0;
	prog[n++] = (struct ebpf_insn)INSN(EBPF_ALU64 | EBPF_MOV | BPF_K, 5, 0, 0, 1);
	prog[n++] = (struct ebpf_insn)INSN(EBPF_ALU64 | BPF_RSH | BPF_K, 5, 0, 0, 240);
	prog[n++] = (struct ebpf_insn)INSN(EBPF_ALU64 | EBPF_MOV | BPF_K, 0, 0, 0, 0);
	prog[n++] = (struct ebpf_insn)INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
	assert_null(rl_bpf_load_insns(prog, n, true, err, sizeof(err)));
	assert_non_null(strstr(err, "instruction 1 shifts by a constant of at least the operand's "
				    "width"));
	prog[1].imm = 63;
	p = rl_bpf_load_insns(prog, n, true, err, sizeof(err));
	if (p == NULL)
		fail_msg("refused: %s", err);
	rl_bpf_free(p);
	prog[1].code = BPF_ALU | BPF_LSH | BPF_K;
	prog[1].imm = 32;
	assert_null(rl_bpf_load_insns(prog, n, true, err, sizeof(err)));

	/* The same call with the context reads the frame. */
	n = 0;
	prog[n++] = (struct ebpf_insn)INSN(EBPF_ALU64 | EBPF_MOV | BPF_K, 2, 0, 0, 0);
	prog[n++] = (struct ebpf_insn)INSN(BPF_JMP | EBPF_CALL, 0, 0, 0, 0);
	prog[n++] = (struct ebpf_insn)INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0);
	p = rl_bpf_load_insns(prog, n, true, err, sizeof(err));
	if (p == NULL)
		fail_msg("refused: %s", err);
	memset(&r, 0, sizeof(r));
	r.data = frame;
	r.len = sizeof(frame);
	assert_true(rl_bpf_exec(p, &r, 0) == 7);
	assert_int_equal(rl_bpf_ctx_need(p), 0);
	rl_bpf_free(p);
}

/* What the analysis cannot follow gives the whole context; what it can stays narrow. */
static void
test_ctx_need_cases(void **state)
{
	/* r2 = r1; r2 += 56; r0 = *(u8 *)(r2 + 1); exit: a byte of src. */
	const struct ebpf_insn narrow[] = { INSN(EBPF_ALU64 | EBPF_MOV | BPF_X, 2, 1, 0, 0),
		INSN(EBPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, 56),
		INSN(BPF_LDX | BPF_MEM | BPF_B, 0, 2, 1, 0),
		INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0) };
	/* *(u64 *)(r10 - 8) = r1: the pointer goes to the stack. */
	const struct ebpf_insn spill[] = { INSN(BPF_STX | BPF_MEM | EBPF_DW, 10, 1, -8, 0),
		INSN(EBPF_ALU64 | EBPF_MOV | BPF_K, 0, 0, 0, 0),
		INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0) };
	/* r2 = *(u8 *)(r1 + 4); r1 += r2; r0 = *(u8 *)(r1 + 0): an offset from the context. */
	const struct ebpf_insn unknown[] = { INSN(BPF_LDX | BPF_MEM | BPF_B, 2, 1, 4, 0),
		INSN(EBPF_ALU64 | BPF_ADD | BPF_X, 1, 2, 0, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_B, 0, 1, 0, 0),
		INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0) };
	/* if r1 == 0 goto +2; r3 = 14; goto +1; r3 = 72; r1 += r3; r0 = *(u16 *)(r1 + 0): the
	 * mark or dst, by path. */
	const struct ebpf_insn paths[] = { INSN(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 2, 0),
		INSN(EBPF_ALU64 | EBPF_MOV | BPF_K, 3, 0, 0, 14),
		INSN(BPF_JMP | BPF_JA, 0, 0, 1, 0),
		INSN(EBPF_ALU64 | EBPF_MOV | BPF_K, 3, 0, 0, 72),
		INSN(EBPF_ALU64 | BPF_ADD | BPF_X, 1, 3, 0, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_H, 0, 1, 0, 0),
		INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0) };
	/* call (r1 the context); exit: as the helper reads. */
	const struct ebpf_insn call[] = { INSN(BPF_JMP | EBPF_CALL, 0, 0, 0, -1),
		INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0) };
	/* r2 = r1; call: the context in another argument. */
	const struct ebpf_insn arg2[] = { INSN(EBPF_ALU64 | EBPF_MOV | BPF_X, 2, 1, 0, 0),
		INSN(BPF_JMP | EBPF_CALL, 0, 0, 0, -1), INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0) };
	/* goto -1: backwards. */
	const struct ebpf_insn back[] = { INSN(EBPF_ALU64 | EBPF_MOV | BPF_K, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_JA, 0, 0, -2, 0), INSN(BPF_JMP | EBPF_EXIT, 0, 0, 0, 0) };
	int64_t blind = 0;
	const struct rl_bpf_call known = { 0, "reads_nothing" }, other = { 0, "vg_whatever" },
				 known1 = { 1, "reads_nothing" };

	(void)state;
	assert_int_equal(rl_bpf_need(narrow, 4, NULL, 0, need_of_name, NULL), RL_BPF_NEED_SRC);
	assert_int_equal(rl_bpf_need(spill, 3, NULL, 0, need_of_name, NULL), RL_BPF_NEED_ALL);
	assert_int_equal(rl_bpf_need(unknown, 4, NULL, 0, need_of_name, &blind), RL_BPF_NEED_ALL);
	assert_int_equal(blind, 2); /* the load through the pointer it cannot follow */
	assert_int_equal(rl_bpf_need(spill, 3, NULL, 0, need_of_name, &blind), RL_BPF_NEED_ALL);
	assert_int_equal(blind, -1); /* a spilled pointer is not followed, nor refused */
	assert_int_equal(rl_bpf_need(paths, 7, NULL, 0, need_of_name, NULL),
			RL_BPF_NEED_MARK | RL_BPF_NEED_DST);
	assert_int_equal(rl_bpf_need(call, 2, &known, 1, need_of_name, NULL), 0);
	assert_int_equal(rl_bpf_need(call, 2, &other, 1, need_of_name, NULL), RL_BPF_NEED_ALL);
	assert_int_equal(rl_bpf_need(call, 2, NULL, 0, need_of_name, NULL), RL_BPF_NEED_ALL);
	assert_int_equal(rl_bpf_need(arg2, 3, &known1, 1, need_of_name, NULL), RL_BPF_NEED_ALL);
	assert_int_equal(rl_bpf_need(back, 3, NULL, 0, need_of_name, NULL), RL_BPF_NEED_ALL);
	/* A load past the context's end, and one that runs off the program's end. */
	assert_int_equal(rl_bpf_need_bytes(86, 4), RL_BPF_NEED_ALL);
	assert_int_equal(rl_bpf_need(narrow, 3, NULL, 0, need_of_name, NULL), RL_BPF_NEED_ALL);
}

static void
test_allow_private(void **state)
{
	(void)state;
	for (int jit = 0; jit <= 1; jit++) {
		struct rl_bpf_prog *p = load("allow_private", jit);
		struct rl_bpf_run r;

		ctx4(&r, "192.0.2.1", "10.9.8.7", 6, 1000, 443);
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_PASS | VG_BPF_CACHE);
		ctx4(&r, "192.0.2.1", "172.31.255.1", 6, 1000, 443);
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_PASS | VG_BPF_CACHE);
		ctx4(&r, "192.0.2.1", "172.32.0.1", 6, 1000, 443);
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_DROP | VG_BPF_CACHE);
		/* A reply: the initiator's destination is this packet's source. */
		ctx4(&r, "192.168.1.1", "8.8.8.8", 6, 443, 1000);
		r.ctx.dir = 1;
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_PASS | VG_BPF_CACHE);
		r.ctx.dir = 0;
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_DROP | VG_BPF_CACHE);
		r.ctx.family = 6;
		memset(r.ctx.dst, 0, 16);
		r.ctx.dst[0] = 0xfd;
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_PASS | VG_BPF_CACHE);
		r.ctx.dst[0] = 0x20;
		r.ctx.dst[1] = 0x01;
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_DROP | VG_BPF_CACHE);
		rl_bpf_free(p);
	}
}

/* A DNS query frame: Ethernet, IPv4, UDP, DNS header, the name as labels, type and class. */
static uint32_t
dns_frame(uint8_t *f, const char *name, struct rl_bpf_run *r)
{
	uint32_t off = 14 + 20 + 8 + 12, n = 0;

	memset(f, 0, 512);
	for (const char *s = name; *s != '\0';) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		f[off + n++] = (uint8_t)l;
		memcpy(f + off + n, s, l);
		n += (uint32_t)l;
		s += l + (dot != NULL);
	}
	f[off + n++] = 0;
	n += 4; /* type, class */
	ctx4(r, "10.1.1.1", "10.2.2.53", 17, 5353, 53);
	r->ctx.l3_off = 14;
	r->ctx.l4_off = 34;
	r->ctx.payload_off = 42;
	r->ctx.payload_len = 12 + n;
	r->data = f;
	r->len = off + n;
	r->ctx.pkt_len = r->len;
	return r->len;
}

static void
test_dns_qname(void **state)
{
	static uint8_t f[512];
	char name[128];

	(void)state;
	for (int jit = 0; jit <= 1; jit++) {
		struct rl_bpf_prog *p = load("dns_qname", jit);
		struct rl_bpf_run r;

		dns_frame(f, "www.example.com", &r);
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_PASS);
		/* 52 bytes pass, 53 do not (alert 53). */
		memset(name, 'c', 40);
		strcpy(name + 40, ".example.com");
		dns_frame(f, name, &r);
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_PASS);
		strcpy(name + 40, ".example.comm");
		dns_frame(f, name, &r);
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_DROP | VG_BPF_ALERT(53));
		/* A name running off the frame is not a plain query name. */
		dns_frame(f, "www.example.com", &r);
		r.len = 14 + 20 + 8 + 12 + 6;
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_DROP | VG_BPF_ALERT(53));
		/* Not DNS: cached pass. An answer (from port 53): pass, run again. */
		ctx4(&r, "10.1.1.1", "10.2.2.80", 6, 40000, 80);
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_PASS | VG_BPF_CACHE);
		ctx4(&r, "10.2.2.53", "10.1.1.1", 17, 53, 5353);
		assert_int_equal(rl_bpf_exec(p, &r, 0), VG_BPF_PASS);
		rl_bpf_free(p);
	}
}

static void
test_sampler_symmetric(void **state)
{
	struct rl_bpf_prog *p = load("sampler", true);
	unsigned picked = 0;

	(void)state;
	for (unsigned k = 0; k < 256; k++) {
		struct rl_bpf_run a, b;
		char dst[32];

		snprintf(dst, sizeof(dst), "10.2.%u.%u", k / 200, k % 200 + 1);
		ctx4(&a, "10.1.1.1", dst, 17, (uint16_t)(30000 + k), 9000);
		ctx4(&b, dst, "10.1.1.1", 17, 9000, (uint16_t)(30000 + k));
		uint64_t va = rl_bpf_exec(p, &a, 0);

		assert_int_equal(va, rl_bpf_exec(p, &b, 0)); /* both directions choose alike */
		if (va & VG_BPF_ALERT_FLAG) {
			assert_int_equal(va, VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(1) |
							     VG_BPF_ALERT(7));
			picked++;
		} else {
			assert_int_equal(va, VG_BPF_PASS | VG_BPF_CACHE);
		}
	}
	/* One in four, give or take what 256 flows allow. */
	assert_in_range(picked, 40, 90);
	rl_bpf_free(p);
}

static void
refused(const char *name, const char *why)
{
	char err[1536];

	errno = 0;
	assert_null(rl_bpf_load(obj(name), 1, true, err, sizeof(err)));
	assert_int_not_equal(errno, 0);
	if (strstr(err, why) == NULL || strstr(err, obj(name)) == NULL)
		fail_msg("%s: expected '%s' in '%s'", name, why, err);
}

static void
test_refused(void **state)
{
	char path[256];
	FILE *f;

	(void)state;
	refused("bad_loop", "validate: loops detected; loop at pc:");
	refused("bad_oob", "evaluate: memory boundary violation at pc:");
	refused("bad_helper",
			"calls 'bpf_ktime_get_ns', which is not a vigild helper (helpers: vg_pkt_u8");
	/* Not an object at all, and an object of another machine. */
	snprintf(path, sizeof(path), "/tmp/vg-bpf-test-%d.o", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("not elf\n", f);
	fclose(f);
	char err[1536];

	assert_null(rl_bpf_load(path, 1, true, err, sizeof(err)));
	assert_non_null(strstr(err, "not an ELF object"));
	unlink(path);
	assert_null(rl_bpf_load("/proc/self/exe", 1, true, err, sizeof(err)));
	assert_non_null(strstr(err, "not eBPF (247): build it with clang -target bpf"));
	assert_null(rl_bpf_load("/nonexistent/x.o", 1, true, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);

	/* Two sections named vigil (the empty program's, added again with llvm-objcopy): which
	 * one runs would be the loader's choice, and the context's analysis might read the other.
	 */
	char cmd[4096], sec[280];

	snprintf(sec, sizeof(sec), "/tmp/vg-bpf-test-%d.sec", (int)getpid());
	snprintf(cmd, sizeof(cmd),
			"llvm-objcopy --dump-section vigil=%s %s /dev/null && "
			"llvm-objcopy --add-section vigil=%s %s %s",
			sec, obj("pass"), sec, obj("pass"), path);
	assert_int_equal(system(cmd), 0);
	assert_null(rl_bpf_load(path, 1, true, err, sizeof(err)));
	assert_non_null(strstr(
			err, "2 sections \"vigil\"; a program is one function in one section"));
	unlink(path);
	unlink(sec);
}

static struct rl_bpf_map *
map_named(struct rl_bpf_prog *p, const char *name)
{
	struct rl_bpf_maps *ms = rl_bpf_maps(p);

	assert_non_null(ms);
	for (unsigned i = 0; i < ms->n; i++)
		if (strcmp(rl_bpf_map_name(ms->m[i]), name) == 0)
			return ms->m[i];
	fail_msg("no map %s", name);
	return NULL;
}

static void
put(struct rl_bpf_map *m, const char *key, uint64_t value, bool del, int want)
{
	struct rl_bpf_map_entry e;
	char err[512] = "";

	assert_int_equal(rl_bpf_map_parse(m, key, value, &e, err, sizeof(err)), 0);
	int rc = rl_bpf_map_change(m, &e, 1, del, err, sizeof(err));

	if (rc != want)
		fail_msg("%s %s: %d (%s), wanted %d", del ? "delete" : "put", key, rc, err, want);
}

static uint64_t
run_src(struct rl_bpf_prog *p, const char *src)
{
	struct rl_bpf_run r;

	if (strchr(src, ':') != NULL) {
		ctx4(&r, "0.0.0.0", "10.2.2.2", 6, 1000, 443);
		r.ctx.family = 6;
		assert_int_equal(inet_pton(AF_INET6, src, r.ctx.src), 1);
	} else {
		ctx4(&r, src, "10.2.2.2", 6, 1000, 443);
	}
	return rl_bpf_exec(p, &r, 0);
}

static void
test_allow_list(void **state)
{
	(void)state;
	for (int jit = 0; jit <= 1; jit++) {
		struct rl_bpf_prog *p = load("allow_list", jit);
		struct rl_bpf_map *m4 = map_named(p, "allowed4");
		struct rl_bpf_run r;

		/* From allow_list.v4.yaml and .v6.yaml: the longest prefix's value is the mark. */
		assert_int_equal(rl_bpf_map_count(m4), 3);
		assert_int_equal(run_src(p, "10.1.5.5"),
				VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(1));
		assert_int_equal(run_src(p, "10.1.2.9"),
				VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(2));
		assert_int_equal(run_src(p, "192.0.2.7"),
				VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(3));
		assert_int_equal(run_src(p, "192.0.2.8"), VG_BPF_DROP | VG_BPF_CACHE);
		assert_int_equal(run_src(p, "fd00:1::5"),
				VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(6));
		assert_int_equal(run_src(p, "fd00:2::5"), VG_BPF_DROP | VG_BPF_CACHE);
		/* A reply: the initiator is this packet's destination. */
		ctx4(&r, "8.8.8.8", "10.1.9.9", 6, 443, 1000);
		r.ctx.dir = 1;
		assert_int_equal(
				rl_bpf_exec(p, &r, 0), VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(1));

		/* Changes are in force at the next run, without reloading the program. */
		put(m4, "192.0.2.0/24", 9, false, 0);
		assert_int_equal(run_src(p, "192.0.2.8"),
				VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(9));
		put(m4, "10.1.2.0/24", 0, true, 0);
		assert_int_equal(run_src(p, "10.1.2.9"),
				VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(1));
		put(m4, "10.1.0.0/16", 5, false, 0); /* replaced, not added */
		assert_int_equal(rl_bpf_map_count(m4), 3);
		assert_int_equal(run_src(p, "10.1.2.9"),
				VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(5));
		put(m4, "10.1.2.0/24", 0, true, -ENOENT);
		rl_bpf_free(p);
	}
}

/* A batch is in force whole or not at all. */
static void
test_map_batch(void **state)
{
	struct rl_bpf_prog *p = load("allow_list", true);
	struct rl_bpf_map *m6 = map_named(p, "allowed6");
	struct rl_bpf_map_entry e[257];
	char err[512], k[64];

	(void)state;
	/* Deleting a present and a missing prefix: refused, the present one stays. */
	assert_int_equal(rl_bpf_map_parse(m6, "fd00:1::/32", 0, &e[0], err, sizeof(err)), 0);
	assert_int_equal(rl_bpf_map_parse(m6, "fd00:9::/32", 0, &e[1], err, sizeof(err)), 0);
	assert_int_equal(rl_bpf_map_change(m6, e, 2, true, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "entry 1: fd00:9::/32 is not in map 'allowed6'"));
	assert_int_equal(run_src(p, "fd00:1::5"), VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(6));
	/* 256 more than max_entries (256) holds: refused whole. */
	for (unsigned i = 0; i < 256; i++) {
		snprintf(k, sizeof(k), "2001:db8:%x::/48", i);
		assert_int_equal(rl_bpf_map_parse(m6, k, i, &e[i], err, sizeof(err)), 0);
	}
	assert_int_equal(rl_bpf_map_change(m6, e, 256, false, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "map 'allowed6' is full (max_entries 256)"));
	assert_int_equal(rl_bpf_map_count(m6), 1);
	assert_int_equal(run_src(p, "2001:db8:1::1"), VG_BPF_DROP | VG_BPF_CACHE);
	/* 255 fit. */
	assert_int_equal(rl_bpf_map_change(m6, e, 255, false, err, sizeof(err)), 0);
	assert_int_equal(rl_bpf_map_count(m6), 256);
	assert_int_equal(run_src(p, "2001:db8:fe::1"),
			VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(254));
	rl_bpf_free(p);
}

static void
syn(struct rl_bpf_run *r, const char *src, uint16_t dport, uint64_t t_s)
{
	ctx4(r, src, "10.2.2.2", 6, 40000, dport);
	r->ctx.tcp_flags = 0x02;
	r->ctx.now_ns = 1700000000ull * 1000000000ull + t_s * 1000000000ull;
}

static uint64_t
knock(struct rl_bpf_prog *p, const char *src, uint16_t dport, uint64_t t_s)
{
	struct rl_bpf_run r;

	syn(&r, src, dport, t_s);
	return rl_bpf_exec(p, &r, 0);
}

static void
knock_state_of(void *arg, const struct rl_bpf_map_entry *e)
{
	char **out = arg;

	if (asprintf(out, "%" PRIu64, e->value & 3) < 0)
		*out = NULL;
}

static void
test_port_knock(void **state)
{
	const uint64_t allow = VG_BPF_ALLOW | VG_BPF_CACHE, reject = VG_BPF_REJECT | VG_BPF_CACHE;
	const uint64_t pass = VG_BPF_PASS | VG_BPF_CACHE;

	(void)state;
	for (int jit = 0; jit <= 1; jit++) {
		struct rl_bpf_prog *p = load("port_knock", jit);
		struct rl_bpf_map *st = map_named(p, "knock_state");
		struct rl_bpf_run r;
		char *step = NULL;

		/* port_knock.config.yaml: 7001, 7002, 7003, then 22 within 10 s of each. */
		assert_int_equal(knock(p, "10.1.1.1", 22, 0), reject);
		assert_int_equal(knock(p, "10.1.1.1", 7001, 1), pass);
		assert_int_equal(knock(p, "10.1.1.1", 7002, 2), pass);
		assert_int_equal(knock(p, "10.1.1.1", 7003, 3), pass);
		/* The state is the program's write, seen through the map. */
		assert_int_equal(rl_bpf_map_count(st), 1);
		rl_bpf_map_walk(st, knock_state_of, &step);
		assert_string_equal(step, "3");
		free(step);
		assert_int_equal(knock(p, "10.1.1.2", 22, 4), reject); /* another source */
		assert_int_equal(knock(p, "10.1.1.1", 22, 4), allow);
		assert_int_equal(knock(p, "10.1.1.1", 80, 4), pass); /* not the program's ports */
		/* Out of order: starts again. */
		assert_int_equal(knock(p, "10.1.1.3", 7001, 10), pass);
		assert_int_equal(knock(p, "10.1.1.3", 7003, 11), pass);
		assert_int_equal(knock(p, "10.1.1.3", 7002, 12), pass);
		assert_int_equal(knock(p, "10.1.1.3", 7003, 13), pass);
		assert_int_equal(knock(p, "10.1.1.3", 22, 14), reject);
		/* Too slow: a knock 11 s after the one before does not count. */
		assert_int_equal(knock(p, "10.1.1.4", 7001, 20), pass);
		assert_int_equal(knock(p, "10.1.1.4", 7002, 31), pass);
		assert_int_equal(knock(p, "10.1.1.4", 7003, 32), pass);
		assert_int_equal(knock(p, "10.1.1.4", 22, 33), reject);
		/* Not a SYN (an ACK of a connection already allowed), or a reply: the rule decides.
		 */
		syn(&r, "10.1.1.5", 22, 40);
		r.ctx.tcp_flags = 0x10;
		assert_int_equal(rl_bpf_exec(p, &r, 0), pass);
		/* Reconfigured through the map (as the API does): the protected port is now 2222.
		 */
		put(map_named(p, "knock_config"), "3", 2222, false, 0);
		assert_int_equal(knock(p, "10.1.1.1", 22, 5), pass);
		assert_int_equal(knock(p, "10.1.1.1", 2222, 5), allow);
		rl_bpf_free(p);
	}
}

static void
test_map_parse(void **state)
{
	struct rl_bpf_prog *p = load("port_knock", true), *a = load("allow_list", true);
	struct rl_bpf_map *cfg = map_named(p, "knock_config"), *st = map_named(p, "knock_state");
	struct rl_bpf_map *m4 = map_named(a, "allowed4");
	struct rl_bpf_map_entry e;
	char err[512], k[64];

	(void)state;
	assert_int_equal(rl_bpf_map_parse(m4, "10.0.0.1/8", 1, &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(
			err, "'10.0.0.1/8' has bits set past its /8 (write the network address)");
	assert_int_equal(rl_bpf_map_parse(m4, "2001:db8::/32", 1, &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "map 'allowed4' holds IPv4 prefixes; '2001:db8::/32' is IPv6");
	assert_int_equal(rl_bpf_map_parse(m4, "10.0.0.0/33", 1, &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'10.0.0.0/33': the prefix length must be 1 to 32");
	assert_int_equal(rl_bpf_map_parse(m4, "ten", 1, &e, err, sizeof(err)), -EINVAL);
	assert_int_equal(rl_bpf_map_parse(m4, "10.0.0.0/8", 1u << 21, &e, err, sizeof(err)),
			-EINVAL);
	assert_string_equal(err, "value 2097152: an lpm map's values are 0 to 2097151");
	assert_int_equal(rl_bpf_map_parse(m4, "10.0.0.1", 1, &e, err, sizeof(err)), 0);
	rl_bpf_map_key_text(m4, &e, k, sizeof(k));
	assert_string_equal(k, "10.0.0.1/32");
	assert_int_equal(rl_bpf_map_parse(cfg, "0x10", 1, &e, err, sizeof(err)), 0);
	assert_int_equal(e.k[0], 16);
	assert_int_equal(rl_bpf_map_parse(cfg, "-1", 1, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "map 'knock_config' has number keys: '-1' is not one"));
	assert_int_equal(rl_bpf_map_parse(cfg, "1", UINT64_MAX, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "what a lookup answers for a missing key"));
	assert_int_equal(rl_bpf_map_parse(st, "10.0.0.0/8", 1, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "has address keys"));
	assert_int_equal(rl_bpf_map_parse(st, "2001:db8::1", 1, &e, err, sizeof(err)), 0);
	rl_bpf_map_key_text(st, &e, k, sizeof(k));
	assert_string_equal(k, "2001:db8::1");
	/* Helpers on an undeclared id or a map of the other kind: "none". */
	assert_true(rl_bpf_map_lookup(rl_bpf_maps(p), 0, 2, 0, 0) == VG_BPF_MAP_NONE);
	assert_true(rl_bpf_map_lpm(rl_bpf_maps(p), 0, 0, 4, e.addr) == VG_BPF_MAP_NONE);
	assert_true(rl_bpf_map_lookup(rl_bpf_maps(a), 0, 0, 0, 0) == VG_BPF_MAP_NONE);
	assert_true(rl_bpf_map_update(rl_bpf_maps(p), 0, 1, 1, 2, VG_BPF_MAP_NONE) ==
			VG_BPF_MAP_NONE);
	rl_bpf_free(p);
	rl_bpf_free(a);
}

/* Deleted hash slots are reused: without RCU at once, with it after a grace period. */
static void
test_map_reuse(void **state)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *v = rte_zmalloc(NULL, sz, RTE_CACHE_LINE_SIZE);

	(void)state;
	assert_non_null(v);
	assert_int_equal(rte_rcu_qsbr_init(v, 1), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(v, 0), 0); /* a reader, offline */
	for (int rcu = 0; rcu <= 1; rcu++) {
		rl_bpf_maps_set_qsbr(rcu ? v : NULL);
		struct rl_bpf_prog *p = load("port_knock", true);
		struct rl_bpf_maps *ms = rl_bpf_maps(p);

		for (unsigned round = 0; round < 3; round++) {
			for (uint64_t i = 0; i < 4096; i++)
				if (rl_bpf_map_update(ms, 0, 1, i, round, i) != 0)
					fail_msg("rcu %d round %u: update %" PRIu64 " failed", rcu,
							round, i);
			/* With RCU, rte_hash counts the slots awaiting their grace period too. */
			if (!rcu)
				assert_int_equal(rl_bpf_map_count(ms->m[1]), 4096);
			assert_int_equal(rl_bpf_map_lookup(ms, 0, 1, 7, round), 7);
			for (uint64_t i = 0; i < 4096; i++)
				assert_int_equal(rl_bpf_map_delete(ms, 0, 1, i, round), 0);
			assert_true(rl_bpf_map_lookup(ms, 0, 1, 7, round) == VG_BPF_MAP_NONE);
			assert_true(rl_bpf_map_delete(ms, 0, 1, 7, round) == VG_BPF_MAP_NONE);
		}
		rl_bpf_free(p);
	}
	rl_bpf_maps_set_qsbr(NULL);
	rte_free(v);
}

/* Loaded on a thread that is no EAL lcore (a policy compiles on the reload or API thread). */
static void *
load_off_lcore(void *arg)
{
	char err[1536];

	return rl_bpf_load(obj(arg), 1, true, err, sizeof(err));
}

struct writer {
	struct rl_bpf_maps *ms;
	uint64_t base;
};

/* 2000 keys put, then the odd ones deleted, by each of two threads at once. */
static void *
write_keys(void *arg)
{
	const struct writer *w = arg;

	for (uint64_t i = 0; i < 2000; i++)
		if (rl_bpf_map_update(w->ms, 0, 1, w->base + i, 0, i) != 0)
			return (void *)1;
	for (uint64_t i = 1; i < 2000; i += 2)
		if (rl_bpf_map_delete(w->ms, 0, 1, w->base + i, 0) != 0)
			return (void *)2;
	return NULL;
}

static void
test_map_writers(void **state)
{
	struct rl_bpf_prog *p;
	pthread_t t[2];
	void *rc;

	(void)state;
	assert_int_equal(pthread_create(&t[0], NULL, load_off_lcore, "allow_list"), 0);
	assert_int_equal(pthread_join(t[0], &rc), 0);
	p = rc;
	assert_non_null(p);
	assert_int_equal(run_src(p, "10.1.2.9"), VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(2));
	rl_bpf_free(p);
	assert_int_equal(pthread_create(&t[0], NULL, load_off_lcore, "port_knock"), 0);
	assert_int_equal(pthread_join(t[0], &rc), 0);
	p = rc;
	assert_non_null(p);
	assert_int_equal(rl_bpf_map_count(map_named(p, "knock_config")), 5);
	struct writer w[2] = { { rl_bpf_maps(p), 0 }, { rl_bpf_maps(p), 1u << 20 } };

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, write_keys, &w[i]), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], &rc), 0);
		assert_null(rc);
	}
	assert_int_equal(rl_bpf_map_count(map_named(p, "knock_state")), 2000);
	assert_int_equal(rl_bpf_map_lookup(rl_bpf_maps(p), 0, 1, (1u << 20) + 1998, 0), 1998);
	assert_true(rl_bpf_map_lookup(rl_bpf_maps(p), 0, 1, 1999, 0) == VG_BPF_MAP_NONE);
	rl_bpf_free(p);
}

/* run_src as worker w. */
static uint64_t
run_src_on(struct rl_bpf_prog *p, const char *src, unsigned w)
{
	struct rl_bpf_run r;

	ctx4(&r, src, "10.2.2.2", 6, 1000, 443);
	return rl_bpf_exec(p, &r, w);
}

/* The helpers' calls are counted per worker and summed. */
static void
test_map_counters(void **state)
{
	struct rl_bpf_prog *p = load("allow_list", true), *k = load("port_knock", true);
	struct rl_bpf_map_counters c;

	(void)state;
	assert_int_equal(run_src_on(p, "10.1.5.5", 0), VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(1));
	assert_int_equal(run_src_on(p, "10.1.5.6", 1), VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(1));
	assert_int_equal(run_src_on(p, "192.0.2.8", 1), VG_BPF_DROP | VG_BPF_CACHE);
	rl_bpf_map_counters_sum(map_named(p, "allowed4"), &c);
	assert_int_equal(c.lookups, 3);
	assert_int_equal(c.hits, 2);
	assert_int_equal(c.updates + c.deletes + c.full, 0);
	rl_bpf_map_counters_sum(map_named(p, "allowed6"), &c);
	assert_int_equal(c.lookups, 0);
	/* A worker past the program's (it has 2) counts as worker 0, never out of bounds. */
	assert_int_equal(run_src_on(p, "10.1.5.7", 9), VG_BPF_PASS | VG_BPF_CACHE | VG_BPF_MARK(1));
	rl_bpf_map_counters_sum(map_named(p, "allowed4"), &c);
	assert_int_equal(c.lookups, 4);
	/* The API's changes are not counted. */
	put(map_named(p, "allowed4"), "172.16.0.0/12", 4, false, 0);
	rl_bpf_map_counters_sum(map_named(p, "allowed4"), &c);
	assert_int_equal(c.updates, 0);
	/* Port knocking: three knocks write the state (2 updates after the first's), the 22
	 * that follows deletes it. */
	assert_int_equal(knock(k, "10.1.1.1", 7001, 1), VG_BPF_PASS | VG_BPF_CACHE);
	assert_int_equal(knock(k, "10.1.1.1", 7002, 2), VG_BPF_PASS | VG_BPF_CACHE);
	assert_int_equal(knock(k, "10.1.1.1", 7003, 3), VG_BPF_PASS | VG_BPF_CACHE);
	rl_bpf_map_counters_sum(map_named(k, "knock_state"), &c);
	assert_int_equal(c.updates, 3);
	assert_int_equal(c.lookups, 3);
	assert_int_equal(c.hits, 2);
	rl_bpf_map_counters_sum(map_named(k, "knock_config"), &c);
	assert_int_equal(c.lookups, c.hits);
	assert_true(c.lookups >= 3);
	rl_bpf_free(p);
	rl_bpf_free(k);
}

/* Write text to dir/name. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static struct rl_bpf_prog *
load_path(const char *path)
{
	char err[1536];
	struct rl_bpf_prog *p = rl_bpf_load(path, 2, true, err, sizeof(err));

	if (p == NULL)
		fail_msg("%s: %s", path, err);
	return p;
}

static void
carry(struct rl_bpf_prog *to, struct rl_bpf_prog *from, const char *name, int want)
{
	char err[512];
	int rc = rl_bpf_map_carry(map_named(to, name), map_named(from, name), err, sizeof(err));

	if (rc != want)
		fail_msg("carry %s: %d (%s), wanted %d", name, rc, err, want);
}

/*
 * A new version's map starts with the old one's entries: the program's own (knock state), the
 * API's, and the file's change since the old one loaded.
 */
static void
test_map_carry(void **state)
{
	const uint64_t allow = VG_BPF_ALLOW | VG_BPF_CACHE, reject = VG_BPF_REJECT | VG_BPF_CACHE;
	const uint64_t pass = VG_BPF_PASS | VG_BPF_CACHE;
	char dir[] = "/tmp/vg-bpf-carry-XXXXXX", o[512], cmd[1200];
	struct rl_bpf_prog *k1 = load("port_knock", true), *k2 = load("port_knock", true);

	(void)state;
	/* Knocks in version 1, the protected port changed through the API... */
	assert_int_equal(knock(k1, "10.1.1.1", 7001, 1), pass);
	assert_int_equal(knock(k1, "10.1.1.1", 7002, 2), pass);
	assert_int_equal(knock(k1, "10.1.1.1", 7003, 3), pass);
	put(map_named(k1, "knock_config"), "3", 2222, false, 0);
	/* ... version 2 from the same files knows neither until carried. */
	assert_int_equal(rl_bpf_map_count(map_named(k2, "knock_state")), 0);
	carry(k2, k1, "knock_state", 0);
	carry(k2, k1, "knock_config", 0);
	assert_int_equal(rl_bpf_map_count(map_named(k2, "knock_state")), 1);
	assert_int_equal(knock(k2, "10.1.1.1", 22, 4), pass); /* the API's port, not the file's */
	assert_int_equal(knock(k2, "10.1.1.1", 2222, 4), allow);
	assert_int_equal(knock(k2, "10.1.1.2", 2222, 4), reject);
	/* Copies: version 1 goes on with its own (until it is freed). */
	assert_int_equal(knock(k1, "10.1.1.9", 7001, 5), pass);
	assert_int_equal(rl_bpf_map_count(map_named(k2, "knock_state")), 1);
	/* Not the same kind of map: refused, left as its file made it. */
	char err[512];

	assert_int_equal(rl_bpf_map_carry(map_named(k2, "knock_state"),
					 map_named(k1, "knock_config"), err, sizeof(err)),
			-EXDEV);
	assert_non_null(strstr(err, "not the same kind of map"));
	assert_int_equal(rl_bpf_map_count(map_named(k2, "knock_state")), 1);
	rl_bpf_free(k1);
	rl_bpf_free(k2);

	/* lpm, with files edited between the versions. */
	assert_non_null(mkdtemp(dir));
	snprintf(o, sizeof(o), "%s/allow_list.o", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s/allow_list.v6.yaml %s", obj("allow_list"), VG_BPF_DIR,
			dir);
	assert_int_equal(system(cmd), 0);
	write_file(dir, "allow_list.maps.yaml",
			"maps:\n"
			"  - {name: allowed4, kind: lpm, family: 4, max_entries: 8, file: v4.yaml}\n"
			"  - {name: allowed6, kind: lpm, family: 6, max_entries: 8, file: allow_list.v6.yaml}\n");
	write_file(dir, "v4.yaml",
			"entries:\n"
			"  - {key: 10.1.0.0/16, value: 1}\n"
			"  - {key: 10.1.2.0/24, value: 2}\n"
			"  - {key: 192.0.2.7, value: 3}\n");
	struct rl_bpf_prog *a1 = load_path(o), *a2, *a3;

	put(map_named(a1, "allowed4"), "192.0.2.0/24", 9, false, 0); /* the API's */
	put(map_named(a1, "allowed4"), "10.1.2.0/24", 0, true, 0);   /* the file's, deleted */
	/* The file: 192.0.2.7 removed, 10.1.0.0/16 changed, 172.16.0.0/12 added. */
	write_file(dir, "v4.yaml",
			"entries:\n"
			"  - {key: 10.1.0.0/16, value: 4}\n"
			"  - {key: 10.1.2.0/24, value: 2}\n"
			"  - {key: 172.16.0.0/12, value: 8}\n");
	a2 = load_path(o);
	assert_int_equal(run_src(a2, "10.1.2.9"), pass | VG_BPF_MARK(2)); /* the file's alone */
	carry(a2, a1, "allowed4", 0);
	carry(a2, a1, "allowed6", 0);
	assert_int_equal(rl_bpf_map_count(map_named(a2, "allowed4")), 3);
	assert_int_equal(run_src(a2, "10.1.2.9"), pass | VG_BPF_MARK(4));   /* stays deleted */
	assert_int_equal(run_src(a2, "10.1.5.5"), pass | VG_BPF_MARK(4));   /* the file's change */
	assert_int_equal(run_src(a2, "192.0.2.7"), pass | VG_BPF_MARK(9));  /* the API's /24 */
	assert_int_equal(run_src(a2, "172.16.1.1"), pass | VG_BPF_MARK(8)); /* the file's new */
	assert_int_equal(run_src(a2, "fd00:1::5"), pass | VG_BPF_MARK(6));
	/*
	 * Version 3 holds at most 1: its file takes 172.16.0.0/12 away, which leaves 2 (the API's
	 * /24 and 10.1.0.0/16): not carried, its file's entries alone.
	 */
	write_file(dir, "allow_list.maps.yaml",
			"maps:\n"
			"  - {name: allowed4, kind: lpm, family: 4, max_entries: 1, file: v4.yaml}\n"
			"  - {name: allowed6, kind: lpm, family: 6, max_entries: 8, file: allow_list.v6.yaml}\n");
	write_file(dir, "v4.yaml", "entries:\n  - {key: 10.1.0.0/16, value: 4}\n");
	a3 = load_path(o);
	carry(a3, a2, "allowed4", -ENOSPC);
	assert_int_equal(rl_bpf_map_count(map_named(a3, "allowed4")), 1);
	assert_int_equal(run_src(a3, "192.0.2.7"), VG_BPF_DROP | VG_BPF_CACHE);
	assert_int_equal(run_src(a3, "10.1.5.5"), pass | VG_BPF_MARK(4));
	rl_bpf_free(a1);
	rl_bpf_free(a2);
	rl_bpf_free(a3);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* An object with a maps file written here: each mistake refused with its position. */
static void
decl_refused(const char *maps_yaml, const char *fill_yaml, const char *why)
{
	char dir[] = "/tmp/vg-bpf-maps-XXXXXX", o[512], y[512], cmd[1200], err[1536];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(o, sizeof(o), "%s/prog.o", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s", obj("port_knock"), o);
	assert_int_equal(system(cmd), 0);
	if (maps_yaml != NULL) {
		snprintf(y, sizeof(y), "%s/prog.maps.yaml", dir);
		assert_non_null(f = fopen(y, "w"));
		fputs(maps_yaml, f);
		fclose(f);
	}
	if (fill_yaml != NULL) {
		snprintf(y, sizeof(y), "%s/fill.yaml", dir);
		assert_non_null(f = fopen(y, "w"));
		fputs(fill_yaml, f);
		fclose(f);
	}
	errno = 0;
	struct rl_bpf_prog *p = rl_bpf_load(o, 1, true, err, sizeof(err));

	if (p != NULL || strstr(err, why) == NULL)
		fail_msg("expected '%s' in '%s'", why, p ? "(loaded)" : err);
	assert_int_not_equal(errno, 0);
	/* --check-bpf (no table made) refuses it alike. */
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_int_equal(rl_bpf_check(o, out), 1);
	fclose(out);
	if (strstr(buf, why) == NULL)
		fail_msg("--check-bpf: expected '%s' in '%s'", why, buf);
	free(buf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_map_decl_errors(void **state)
{
	(void)state;
	decl_refused(NULL, NULL, "prog.o: calls the map helpers but declares no map (no /tmp/");
	decl_refused("maps:\n  - {name: a, kind: lpm, max_entries: 4}\n", NULL,
			"prog.maps.yaml:2:5: map 'a': an lpm map needs 'family: 4' or 'family: 6'");
	decl_refused("maps:\n  - {name: a, kind: hash, max_entries: 4}\n", NULL,
			"prog.maps.yaml:2:5: map 'a': a hash map needs 'key: u64' or 'key: addr'");
	decl_refused("maps:\n  - {name: a, kind: tree, max_entries: 4}\n", NULL,
			"prog.maps.yaml:2:");
	decl_refused("maps:\n  - {name: a, kind: hash, key: u64, max_entries: 65537}\n", NULL,
			"prog.maps.yaml:2:");
	decl_refused("maps:\n  - {name: a, kind: hash, key: u64, max_entries: 4}\n"
		     "  - {name: a, kind: hash, key: u64, max_entries: 4}\n",
			NULL, "prog.maps.yaml:3:5: map 'a' is declared twice");
	decl_refused("maps:\n  - {name: A/b, kind: hash, key: u64, max_entries: 4}\n", NULL,
			"map 'A/b': a name is lower-case letters, digits, '_' and '-'");
	decl_refused("maps:\n  - {name: a, kind: hash, key: u64, max_entries: 4, size: 3}\n", NULL,
			"prog.maps.yaml:2:");
	decl_refused("mapz: []\n", NULL, "prog.maps.yaml:1:1: unknown key 'mapz'");
	decl_refused("maps:\n"
		     "  - {name: a, kind: hash, key: u64, max_entries: 1}\n"
		     "  - {name: b, kind: hash, key: u64, max_entries: 1}\n"
		     "  - {name: c, kind: hash, key: u64, max_entries: 1}\n"
		     "  - {name: d, kind: hash, key: u64, max_entries: 1}\n"
		     "  - {name: e, kind: hash, key: u64, max_entries: 1}\n"
		     "  - {name: f, kind: hash, key: u64, max_entries: 1}\n"
		     "  - {name: g, kind: hash, key: u64, max_entries: 1}\n"
		     "  - {name: h, kind: hash, key: u64, max_entries: 1}\n"
		     "  - {name: i, kind: hash, key: u64, max_entries: 1}\n",
			NULL, "9 maps: a program has at most 8");
	/* The fill file: its own position and the entry's reason. */
	decl_refused("maps:\n  - {name: a, kind: lpm, family: 4, max_entries: 4, file: fill.yaml}\n",
			"entries:\n  - {key: 10.0.0.0/8, value: 1}\n  - {key: 10.0.0.1/8, value: 1}\n",
			"fill.yaml:3:5: entry 1: '10.0.0.1/8' has bits set past its /8");
	decl_refused("maps:\n  - {name: a, kind: lpm, family: 4, max_entries: 1, file: fill.yaml}\n",
			"entries:\n  - {key: 10.0.0.0/8, value: 1}\n  - {key: 11.0.0.0/8, value: 1}\n",
			"fill.yaml:2:3: 2 entries: map 'a' holds at most 1 (max_entries)");
	decl_refused("maps:\n  - {name: a, kind: lpm, family: 4, max_entries: 4, file: nofile.yaml}\n",
			NULL, "nofile.yaml");
}

static void
test_check_output(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(rl_bpf_check(obj("pass"), out), 0);
	assert_int_equal(rl_bpf_check(obj("bad_loop"), out), 1);
	assert_int_equal(rl_bpf_check(obj("port_knock"), out), 0);
	fclose(out);
	assert_non_null(strstr(buf, "; map 0 knock_config (hash, at most 8 entries from "));
	assert_non_null(strstr(buf,
			"port_knock.config.yaml), map 1 knock_state (hash, at most 4096 entries)\n"));
	assert_non_null(strstr(buf, "pass.o: ok: 2 instructions, JIT, context version 1"));
	assert_non_null(strstr(buf, "bad_loop.o: refused by rte_bpf"));
	free(buf);
}

static void
test_counters_sum(void **state)
{
	struct rl_bpf_prog *p = load("pass", true);
	struct rl_bpf_counters s;

	(void)state;
	rl_bpf_counters(p, 0)->runs = 3;
	rl_bpf_counters(p, 1)->runs = 4;
	rl_bpf_counters(p, 1)->verdict[VG_BPF_DROP] = 2;
	rl_bpf_counters_sum(p, &s);
	assert_int_equal(s.runs, 7);
	assert_int_equal(s.verdict[VG_BPF_DROP], 2);
	assert_string_equal(rl_bpf_path(p), obj("pass"));
	assert_int_equal(rl_bpf_n_insns(p), 2);
	rl_bpf_free(p);
}

/*
 * The pre-filter example (prefilter_bogon.c) on frames built here: the TTL read from the IPv4
 * or IPv6 header, the source from the context.
 */
static uint64_t
run_prefilter_to(struct rl_bpf_prog *p, int family, const char *src, const char *dst, uint8_t ttl)
{
	uint8_t frame[14 + 40] = { 0 };
	struct rl_bpf_run r;

	if (family == 4) {
		ctx4(&r, src, dst, 6, 40000, 443);
		frame[14] = 0x45;
		frame[14 + 8] = ttl;
	} else {
		memset(&r, 0, sizeof(r));
		r.ctx.version = VG_BPF_CTX_VERSION;
		r.ctx.size = sizeof(r.ctx);
		r.ctx.family = 6;
		r.ctx.proto = 6;
		assert_int_equal(inet_pton(AF_INET6, src, r.ctx.src), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, r.ctx.dst), 1);
		frame[14] = 0x60;
		frame[14 + 7] = ttl;
	}
	r.ctx.l3_off = 14;
	r.ctx.l4_off = family == 4 ? 34 : 54;
	r.ctx.pkt_len = family == 4 ? 34 : 54;
	r.data = frame;
	r.len = r.ctx.pkt_len;
	return rl_bpf_exec(p, &r, 0);
}

static uint64_t
run_prefilter(struct rl_bpf_prog *p, int family, const char *src, uint8_t ttl)
{
	return run_prefilter_to(p, family, src, family == 4 ? "10.2.2.2" : "fd00::2", ttl);
}

static void
test_prefilter_bogon(void **state)
{
	(void)state;
	for (int jit = 0; jit < 2; jit++) {
		struct rl_bpf_prog *p = load("prefilter_bogon", jit);

		assert_int_equal(run_prefilter(p, 4, "10.1.1.1", 64), VG_BPF_PASS);
		assert_int_equal(run_prefilter(p, 4, "10.1.1.1", 5), VG_BPF_PASS);
		assert_int_equal(run_prefilter(p, 4, "10.1.1.1", 4),
				VG_BPF_REJECT | VG_BPF_ALERT(1));
		assert_int_equal(run_prefilter(p, 4, "127.0.0.1", 64),
				VG_BPF_DROP | VG_BPF_ALERT(2));
		assert_int_equal(run_prefilter(p, 4, "0.1.2.3", 64), VG_BPF_DROP | VG_BPF_ALERT(2));
		assert_int_equal(
				run_prefilter(p, 4, "224.0.0.5", 1), VG_BPF_DROP | VG_BPF_ALERT(2));
		assert_int_equal(run_prefilter(p, 4, "240.0.0.1", 64),
				VG_BPF_DROP | VG_BPF_ALERT(2));
		assert_int_equal(run_prefilter(p, 4, "223.255.255.255", 64), VG_BPF_PASS);
		assert_int_equal(run_prefilter(p, 6, "fd00::1", 64), VG_BPF_PASS);
		assert_int_equal(
				run_prefilter(p, 6, "fd00::1", 2), VG_BPF_REJECT | VG_BPF_ALERT(1));
		assert_int_equal(run_prefilter(p, 6, "::1", 64), VG_BPF_DROP | VG_BPF_ALERT(2));
		assert_int_equal(run_prefilter(p, 6, "::", 64), VG_BPF_DROP | VG_BPF_ALERT(2));
		assert_int_equal(run_prefilter(p, 6, "::2", 64), VG_BPF_PASS);
		assert_int_equal(run_prefilter(p, 6, "ff02::1", 64), VG_BPF_DROP | VG_BPF_ALERT(2));
		/* Multicast destinations: no TTL check (IGMP, MLD). */
		assert_int_equal(run_prefilter_to(p, 4, "10.1.1.1", "224.0.0.22", 1), VG_BPF_PASS);
		assert_int_equal(run_prefilter_to(p, 4, "10.1.1.1", "239.1.1.1", 1), VG_BPF_PASS);
		assert_int_equal(run_prefilter_to(p, 4, "10.1.1.1", "240.0.0.1", 1),
				VG_BPF_REJECT | VG_BPF_ALERT(1));
		assert_int_equal(run_prefilter_to(p, 6, "fe80::1", "ff02::16", 1), VG_BPF_PASS);
		assert_int_equal(run_prefilter_to(p, 6, "fe80::1", "fe80::2", 1),
				VG_BPF_REJECT | VG_BPF_ALERT(1));
		rl_bpf_free(p);
	}
}

static const char *const pf_ports[] = { "a", "b", "c" };

/* Load and compile a policy text with ports a, b and c; diag gets the messages. */
static struct rl_snapshot *
compile_text(const char *text, struct vg_diag *diag)
{
	const struct rl_env env = { .ports = pf_ports, .n_ports = 3 };
	struct rl_policy *pol;
	struct rl_snapshot *s;

	vg_diag_init(diag);
	pol = rl_policy_load_buf("p.yaml", text, strlen(text), &env, diag);
	if (pol == NULL)
		return NULL;
	s = rl_compile(pol, 1, 2, SOCKET_ID_ANY, diag);
	rl_policy_free(pol);
	return s;
}

static bool
diag_has(const struct vg_diag *d, const char *what)
{
	char buf[8192] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	assert_non_null(f);
	vg_diag_print(d, f);
	fclose(f);
	if (strstr(buf, what) == NULL) {
		print_message("no '%s' in:\n%s", what, buf);
		return false;
	}
	return true;
}

static void
test_prefilter_policy(void **state)
{
	char text[4096], pass[512], bogon[512], loop[512];
	struct vg_diag d;
	struct rl_snapshot *s;
	uint32_t idx = 99;

	(void)state;
	/* obj() answers in one buffer: copies for the texts that name several. */
	snprintf(pass, sizeof(pass), "%s", obj("pass"));
	snprintf(bogon, sizeof(bogon), "%s", obj("prefilter_bogon"));
	snprintf(loop, sizeof(loop), "%s", obj("bad_loop"));
	/* Two pre-filters: one on a, one on b and c. */
	snprintf(text, sizeof(text),
			"version: 1\ndefault: allow\nprefilter:\n"
			"  - {name: one, in: a, bpf: %s}\n"
			"  - {name: two, in: [b, c], bpf: %s}\n",
			bogon, pass);
	s = compile_text(text, &d);
	assert_non_null(s);
	assert_int_equal(rl_snapshot_n_prefilters(s), 2);
	assert_non_null(rl_snapshot_port_prefilter(s, 0, &idx));
	assert_int_equal(idx, 0);
	assert_string_equal(rl_bpf_path(rl_snapshot_port_prefilter(s, 0, &idx)), bogon);
	assert_ptr_equal(rl_snapshot_port_prefilter(s, 1, &idx), rl_snapshot_prefilter(s, 1)->prog);
	assert_int_equal(idx, 1);
	assert_ptr_equal(rl_snapshot_port_prefilter(s, 2, &idx), rl_snapshot_prefilter(s, 1)->prog);
	assert_null(rl_snapshot_port_prefilter(s, 3, &idx));
	assert_string_equal(rl_snapshot_prefilter(s, 1)->name, "two");
	rl_snapshot_free(s);
	vg_diag_free(&d);

	/* Whether the flow stage fetches the cold record of flows whose program runs: only when
	 * a rule's program reads the mark or the age. */
	snprintf(bogon, sizeof(bogon), "%s", obj("test_mark_age"));
	snprintf(text, sizeof(text),
			"version: 1\ndefault: allow\nrules:\n"
			"  - {name: r, proto: udp, action: allow, bpf: %s}\n",
			pass);
	s = compile_text(text, &d);
	assert_non_null(s);
	assert_false(rl_snapshot_bpf_cold(s));
	rl_snapshot_free(s);
	vg_diag_free(&d);
	snprintf(text, sizeof(text),
			"version: 1\ndefault: allow\nrules:\n"
			"  - {name: r, proto: udp, action: allow, bpf: %s}\n"
			"  - {name: m, proto: tcp, action: allow, bpf: %s}\n",
			pass, bogon);
	s = compile_text(text, &d);
	assert_non_null(s);
	assert_true(rl_snapshot_bpf_cold(s));
	rl_snapshot_free(s);
	vg_diag_free(&d);
	snprintf(bogon, sizeof(bogon), "%s", obj("prefilter_bogon"));

	/* No in: every port. */
	snprintf(text, sizeof(text),
			"version: 1\ndefault: allow\nprefilter:\n  - {name: all, bpf: %s}\n", pass);
	s = compile_text(text, &d);
	assert_non_null(s);
	for (uint16_t port = 0; port < 3; port++)
		assert_non_null(rl_snapshot_port_prefilter(s, port, &idx));
	rl_snapshot_free(s);
	vg_diag_free(&d);

	/* A program the validator refuses: the policy is refused, with the pre-filter's position
	 * and rte_bpf's reason. */
	snprintf(text, sizeof(text),
			"version: 1\ndefault: allow\nprefilter:\n  - name: looping\n    in: a\n"
			"    bpf: %s\n",
			loop);
	assert_null(compile_text(text, &d));
	assert_true(diag_has(&d, "p.yaml:4:5: error: prefilter 'looping': bpf program refused: "));
	assert_true(diag_has(&d, "bad_loop.o: refused by rte_bpf (Invalid argument): validate: "
				 "loops detected; loop at pc:"));
	vg_diag_free(&d);

	/* Mistakes in the section, each with its position. */
	snprintf(text, sizeof(text),
			"version: 1\ndefault: allow\nprefilter:\n"
			"  - {name: x, in: a, bpf: %s}\n"
			"  - {name: y, in: [c, a], bpf: %s}\n"
			"  - {name: x, in: b, bpf: %s}\n"
			"  - {name: z, in: d, bpf: %s}\n"
			"  - {name: w, in: b}\n"
			"  - {name: v, in: b, bpf: %s, action: drop}\n",
			pass, pass, pass, pass, pass);
	assert_null(compile_text(text, &d));
	assert_true(diag_has(&d,
			"p.yaml:5:5: error: prefilter 'y': a port has a pre-filter already "
			"(one per ingress port)"));
	assert_true(diag_has(&d, "p.yaml:6:12: error: prefilter 'x': the name is already taken by "
				 "the pre-filter at line 4"));
	assert_true(diag_has(&d, "prefilter 'z': 'in': no port is named 'd' (ports: a, b, c)"));
	assert_true(diag_has(&d, "prefilter 'w'"));
	assert_true(diag_has(&d, "'bpf'"));
	assert_true(diag_has(&d, "'action'"));
	vg_diag_free(&d);

	snprintf(text, sizeof(text), "version: 1\ndefault: allow\nprefilter: {name: x}\n");
	assert_null(compile_text(text, &d));
	assert_true(diag_has(&d, "p.yaml:3:12: error: prefilter: expected a list"));
	vg_diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctx_need),
		cmocka_unit_test(test_ctx_need_cases),
		cmocka_unit_test(test_helper_foreign_ctx),
		cmocka_unit_test(test_allow_private),
		cmocka_unit_test(test_dns_qname),
		cmocka_unit_test(test_sampler_symmetric),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_check_output),
		cmocka_unit_test(test_counters_sum),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_map_batch),
		cmocka_unit_test(test_port_knock),
		cmocka_unit_test(test_map_parse),
		cmocka_unit_test(test_map_reuse),
		cmocka_unit_test(test_map_writers),
		cmocka_unit_test(test_map_decl_errors),
		cmocka_unit_test(test_map_counters),
		cmocka_unit_test(test_map_carry),
		cmocka_unit_test(test_prefilter_bogon),
		cmocka_unit_test(test_prefilter_policy),
	};

	if (vg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
