/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rl_bpf: the example programs loaded (JIT and interpreter) and run on contexts and frames
 * built here, giving the verdicts docs/BPF.md documents; the refused programs refused with
 * their reason; --check-bpf's output. The objects come from bpf/meson.build (VG_BPF_DIR).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rl_bpf.h"

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

static void
test_allow_private(void **state)
{
	(void)state;
	for (int jit = 0; jit <= 1; jit++) {
		struct rl_bpf_prog *p = load("allow_private", jit);
		struct rl_bpf_run r;

		ctx4(&r, "192.0.2.1", "10.9.8.7", 6, 1000, 443);
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_PASS | VG_BPF_CACHE);
		ctx4(&r, "192.0.2.1", "172.31.255.1", 6, 1000, 443);
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_PASS | VG_BPF_CACHE);
		ctx4(&r, "192.0.2.1", "172.32.0.1", 6, 1000, 443);
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_DROP | VG_BPF_CACHE);
		/* A reply: the initiator's destination is this packet's source. */
		ctx4(&r, "192.168.1.1", "8.8.8.8", 6, 443, 1000);
		r.ctx.dir = 1;
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_PASS | VG_BPF_CACHE);
		r.ctx.dir = 0;
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_DROP | VG_BPF_CACHE);
		r.ctx.family = 6;
		memset(r.ctx.dst, 0, 16);
		r.ctx.dst[0] = 0xfd;
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_PASS | VG_BPF_CACHE);
		r.ctx.dst[0] = 0x20;
		r.ctx.dst[1] = 0x01;
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_DROP | VG_BPF_CACHE);
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
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_PASS);
		/* 52 bytes pass, 53 do not (alert 53). */
		memset(name, 'c', 40);
		strcpy(name + 40, ".example.com");
		dns_frame(f, name, &r);
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_PASS);
		strcpy(name + 40, ".example.comm");
		dns_frame(f, name, &r);
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_DROP | VG_BPF_ALERT(53));
		/* A name running off the frame is not a plain query name. */
		dns_frame(f, "www.example.com", &r);
		r.len = 14 + 20 + 8 + 12 + 6;
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_DROP | VG_BPF_ALERT(53));
		/* Not DNS: cached pass. An answer (from port 53): pass, run again. */
		ctx4(&r, "10.1.1.1", "10.2.2.80", 6, 40000, 80);
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_PASS | VG_BPF_CACHE);
		ctx4(&r, "10.2.2.53", "10.1.1.1", 17, 53, 5353);
		assert_int_equal(rl_bpf_exec(p, &r), VG_BPF_PASS);
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
		uint64_t va = rl_bpf_exec(p, &a);

		assert_int_equal(va, rl_bpf_exec(p, &b)); /* both directions choose alike */
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
	fclose(out);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allow_private),
		cmocka_unit_test(test_dns_qname),
		cmocka_unit_test(test_sampler_symmetric),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_check_output),
		cmocka_unit_test(test_counters_sum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
