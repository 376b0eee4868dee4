/* SPDX-License-Identifier: BSD-3-Clause */
/* The application layer's core: the arena allocator, protocol detection, the tables. */
#include "vg_test.h"

#include "al.h"
#include "al_mem.h"
#include "al_pcap.h"

static void
test_mem_split_merge(void **state)
{
	(void)state;
	struct al_mem *m = al_mem_create(2u << 20);
	void *p[64];

	assert_non_null(m);
	assert_int_equal(al_mem_capacity(m), 2u << 20);
	/* Small blocks split a large one; freeing all merges it back into whole 1 MiB blocks. */
	for (int i = 0; i < 64; i++) {
		p[i] = al_mem_alloc(m, 40);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], i, 40);
	}
	assert_int_equal(al_mem_used(m), 64 * 64);
	for (int i = 0; i < 64; i++)
		al_mem_release(m, p[i]);
	assert_int_equal(al_mem_used(m), 0);
	void *a = al_mem_alloc(m, (1u << 20) - 16);
	void *b = al_mem_alloc(m, (1u << 20) - 16);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(al_mem_alloc(m, 1));	/* full */
	assert_null(al_mem_alloc(m, 1u << 20)); /* larger than any block */
	al_mem_release(m, a);
	al_mem_release(m, b);
	al_mem_free_all(m);
}

static void
test_mem_realloc(void **state)
{
	(void)state;
	struct al_mem *m = al_mem_create(1u << 20);
	uint8_t *p = al_mem_alloc(m, 10);

	memcpy(p, "0123456789", 10);
	p = al_mem_realloc(m, p, 5000);
	assert_non_null(p);
	assert_memory_equal(p, "0123456789", 10);
	assert_int_equal(al_mem_used(m), 8192);
	p = al_mem_realloc(m, p, 20);
	assert_memory_equal(p, "0123456789", 10);
	assert_int_equal(al_mem_used(m), 64);
	assert_null(al_mem_realloc(m, p, 2u << 20));
	assert_memory_equal(p, "0123456789", 10); /* unchanged on failure */
	al_mem_release(m, p);
	assert_int_equal(al_mem_used(m), 0);
	al_mem_free_all(m);
}

/* Random sizes, random order: every byte handed out stays ours until freed. */
static void
test_mem_random(void **state)
{
	(void)state;
	struct al_mem *m = al_mem_create(4u << 20);
	uint8_t *p[512] = { 0 };
	size_t n[512] = { 0 };
	unsigned seed = 12345;

	for (int round = 0; round < 20000; round++) {
		seed = seed * 1103515245 + 12345;
		unsigned i = (seed >> 8) % 512;

		if (p[i] != NULL) {
			for (size_t k = 0; k < n[i]; k++)
				assert_int_equal(p[i][k], (uint8_t)i);
			al_mem_release(m, p[i]);
			p[i] = NULL;
			continue;
		}
		n[i] = 1 + (seed >> 12) % (1u << ((seed >> 4) % 17));
		p[i] = al_mem_alloc(m, n[i]);
		if (p[i] != NULL)
			memset(p[i], (uint8_t)i, n[i]);
	}
	for (int i = 0; i < 512; i++)
		al_mem_release(m, p[i]);
	assert_int_equal(al_mem_used(m), 0);
	assert_non_null(al_mem_alloc(m, (1u << 20) - 16)); /* merged back whole */
	al_mem_free_all(m);
}

#define PROBE(s, tcp, dir, sp, dp, more) \
	al_probe((const uint8_t *)(s), sizeof(s) - 1, (tcp), (dir), (sp), (dp), (more))

static void
test_probe(void **state)
{
	(void)state;
	bool more;

	assert_int_equal(PROBE("GET / HTTP/1.1\r\n", true, 0, 40000, 8888, &more), AL_PROTO_HTTP);
	assert_int_equal(PROBE("HTTP/1.1 200 OK\r\n", true, 1, 40000, 81, &more), AL_PROTO_HTTP);
	assert_int_equal(PROBE("GE", true, 0, 40000, 80, &more), AL_PROTO_NONE);
	assert_true(more);
	assert_int_equal(PROBE("GETX / HTTP/1.1", true, 0, 40000, 80, &more), AL_PROTO_NONE);
	assert_false(more);
	assert_int_equal(
			PROBE("\x16\x03\x01\x02\x00\x01", true, 0, 40000, 80, &more), AL_PROTO_TLS);
	assert_int_equal(PROBE("SSH-2.0-OpenSSH_8.4\r\n", true, 1, 40000, 2222, &more),
			AL_PROTO_SSH);
	assert_int_equal(PROBE("220 mx.example.org ESMTP Postfix\r\n", true, 1, 40000, 2500, &more),
			AL_PROTO_SMTP);
	assert_int_equal(
			PROBE("220 (vsFTPd 3.0.3)\r\n", true, 1, 40000, 2100, &more), AL_PROTO_FTP);
	/* a bare greeting: the port decides, else the client's command */
	assert_int_equal(PROBE("220 welcome\r\n", true, 1, 40000, 21, &more), AL_PROTO_FTP);
	assert_int_equal(PROBE("220 welcome\r\n", true, 1, 40000, 9999, &more), AL_PROTO_NONE);
	assert_true(more);
	assert_int_equal(PROBE("EHLO client\r\n", true, 0, 40000, 9999, &more), AL_PROTO_SMTP);
	assert_int_equal(PROBE("USER anonymous\r\n", true, 0, 40000, 9999, &more), AL_PROTO_FTP);
	/* DNS over UDP: a query for www.example.com A IN */
	static const char q[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
				"\x03www\x07"
				"example\x03"
				"com\x00\x00\x01\x00\x01";
	assert_int_equal(PROBE(q, false, 0, 40000, 53, &more), AL_PROTO_DNS);
	assert_int_equal(PROBE(q, false, 0, 40000, 9999, &more), AL_PROTO_DNS);
	assert_int_equal(PROBE("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d", false, 0,
					 40000, 9999, &more),
			AL_PROTO_NONE);
	/* DNS over TCP: the length prefix, on DNS's port */
	static const char tq[] = "\x00\x21\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
				 "\x03www\x07"
				 "example\x03"
				 "com\x00\x00\x01\x00\x01";
	assert_int_equal(PROBE(tq, true, 0, 40000, 53, &more), AL_PROTO_DNS);
	assert_int_equal(PROBE("\x01\x02garbage", true, 0, 40000, 9999, &more), AL_PROTO_NONE);
}

static void
test_flow_detection(void **state)
{
	(void)state;
	struct al_limits l;
	struct al_ctx *c;
	struct al_flow *f;

	al_limits_default(&l);
	l.memcap = 2u << 20;
	l.max_flows = 2;
	c = al_ctx_create(&l);
	assert_non_null(c);
	/* Neither direction is a protocol: detection fails once both said no. */
	f = al_flow_new(c, true, 40000, 80);
	assert_non_null(f);
	assert_int_equal(al_feed(c, f, 0, (const uint8_t *)"\x01\x02\x03\x04", 4, NULL, NULL), 0);
	assert_int_equal(al_flow_proto(f), AL_PROTO_NONE);
	assert_int_equal(al_feed(c, f, 1, (const uint8_t *)"\x05\x06\x07\x08", 4, NULL, NULL), -1);
	assert_int_equal(al_flow_proto(f), AL_PROTO_FAILED);
	assert_int_equal(al_ctx_counter(c, AL_CTR_DETECT_FAIL), 1);
	/* limits: max_flows */
	struct al_flow *g = al_flow_new(c, true, 1, 2);
	assert_non_null(g);
	assert_null(al_flow_new(c, true, 1, 2));
	assert_int_equal(al_ctx_counter(c, AL_CTR_NO_FLOW), 1);
	al_flow_free(c, f);
	al_flow_free(c, g);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* A real capture: the flows' protocols are detected from their bytes. */
static void
test_replay_detects(void **state)
{
	(void)state;
	struct al_ctx *c = al_ctx_create(NULL);
	const char *path = VIGIL_TESTDATA "/suricata-verify/ssh-newkeys/input.pcap";
	FILE *probe = fopen(path, "rb");

	if (probe == NULL) {
		printf("skipped: %s is absent\n", path);
		al_ctx_free(c);
		return;
	}
	fclose(probe);
	assert_true(alp_replay_file(c, path, NULL, NULL) > 0);
	assert_true(al_ctx_proto_flows(c, AL_PROTO_SSH) >= 1);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static void
test_tables(void **state)
{
	(void)state;
	enum al_proto p;

	for (unsigned b = AL_BUF_NONE + 1; b < AL_BUF__COUNT; b++) {
		const struct al_buf_info *bi = al_buf_info((enum al_buf)b);

		assert_non_null(bi);
		assert_non_null(bi->name);
		assert_true(bi->proto > AL_PROTO_NONE && bi->proto < AL_PROTO_FAILED);
		assert_true(bi->dir <= 1);
		assert_true(bi->stage != 0 && (bi->stage & (bi->stage - 1)) == 0);
	}
	for (unsigned n = AL_NUM_NONE + 1; n < AL_NUM__COUNT; n++) {
		const struct al_num_info *ni = al_num_info((enum al_num)n);

		assert_non_null(ni);
		assert_non_null(ni->name);
		assert_true(ni->stage != 0);
	}
	assert_null(al_buf_info(AL_BUF__COUNT));
	assert_int_equal(al_proto_from_name("ssl", &p), 0);
	assert_int_equal(p, AL_PROTO_TLS);
	assert_int_equal(al_proto_from_name("HTTP1", &p), 0);
	assert_int_equal(p, AL_PROTO_HTTP);
	assert_int_equal(al_proto_from_name("modbus", &p), -ENOENT);
	assert_string_equal(al_proto_name(AL_PROTO_DNS), "dns");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_split_merge),
		cmocka_unit_test(test_mem_realloc),
		cmocka_unit_test(test_mem_random),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_flow_detection),
		cmocka_unit_test(test_replay_detects),
		cmocka_unit_test(test_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
