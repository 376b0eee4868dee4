/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vg-pktgen as a user sees it: run the binary, read the pcap back with libpcap and check it with
 * a parser and checksum code of this file's own (not the generator's): packet and flow counts,
 * sizes, checksums, TCP handshake order and sequence numbers, exact match and deny shares,
 * determinism, and that bad options exit 2 naming the option. --app http captures are
 * reassembled and every flow's streams split into HTTP/1.1 requests and responses (bodies of
 * exactly Content-Length bytes); --app dns captures are read as DNS queries and the answers that
 * echo them. The option and pattern parsers are also called directly for
 * their error positions.
 */
#include "vg_test.h"

#include <ctype.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "vg_pktgen_flow.h"
#include "vg_pktgen_opt.h"

extern char **environ;

static char tmpdir[] = "/tmp/vg-pktgen-test.XXXXXX";
static const char *bin;

/* ---- running the generator ---- */

struct run {
	int status; /* exit code, or -1 when it did not exit normally */
	char *out;
	char *err;
	json_t *summary;
};

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF) {
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 256;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		buf[n++] = (char)c;
	}
	fclose(f);
	if (buf == NULL)
		buf = calloc(1, 1);
	buf[n] = '\0';
	return buf;
}

/* Run vg-pktgen with the NULL-terminated arguments. */
static void
run_argv(struct run *r, const char *const *args)
{
	const char *argv[64];
	char out[128], err[128];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int n = 0, st;

	argv[n++] = bin;
	for (; *args != NULL; args++) {
		assert_true(n < 62);
		argv[n++] = *args;
	}
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/stdout", tmpdir);
	snprintf(err, sizeof(err), "%s/stderr", tmpdir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->out = slurp(out);
	r->err = slurp(err);
	r->summary = r->status == 0 ? json_loads(r->out, 0, NULL) : NULL;
}

#define RUN(r, ...) run_argv((r), (const char *const[]){ __VA_ARGS__, NULL })

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	json_decref(r->summary);
}

static long long
sum_int(const struct run *r, const char *key)
{
	json_t *v = json_object_get(r->summary, key);

	if (!json_is_integer(v))
		fail_msg("summary has no integer \"%s\": %s", key, r->out);
	return json_integer_value(v);
}

/* Run and require success; path is tmpdir/name. */
static void
gen_ok(struct run *r, char *path, size_t path_len, const char *name, const char *const *args)
{
	const char *all[64];
	int n = 0;

	snprintf(path, path_len, "%s/%s", tmpdir, name);
	all[n++] = "-o";
	all[n++] = path;
	for (; *args != NULL; args++)
		all[n++] = *args;
	all[n] = NULL;
	run_argv(r, all);
	if (r->status != 0)
		fail_msg("vg-pktgen exited %d: %s", r->status, r->err);
	assert_non_null(r->summary);
	assert_string_equal(json_string_value(json_object_get(r->summary, "file")), path);
}

#define GEN(r, path, name, ...) \
	gen_ok((r), (path), sizeof(path), (name), (const char *const[]){ __VA_ARGS__, NULL })

/* ---- reading the capture ---- */

struct pkt {
	uint8_t *data;
	uint32_t len;
	uint64_t ts_us;
};

struct cap {
	struct pkt *v;
	size_t n;
	uint64_t bytes;
};

static void
cap_load(const char *path, struct cap *c)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t cap = 0;
	int rc;

	if (p == NULL)
		fail_msg("%s: %s", path, errbuf);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	memset(c, 0, sizeof(*c));
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		assert_int_equal(h->caplen, h->len);
		if (c->n == cap) {
			cap = cap ? cap * 2 : 1024;
			c->v = realloc(c->v, cap * sizeof(*c->v));
			assert_non_null(c->v);
		}
		c->v[c->n].data = malloc(h->caplen);
		assert_non_null(c->v[c->n].data);
		memcpy(c->v[c->n].data, data, h->caplen);
		c->v[c->n].len = h->caplen;
		c->v[c->n].ts_us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
		c->bytes += h->caplen;
		c->n++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	pcap_close(p);
}

static void
cap_free(struct cap *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].data);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ---- an independent parser ---- */

struct parsed {
	int vlan; /* -1: untagged */
	int family;
	uint8_t src[16], dst[16];
	const uint8_t *smac, *dmac;
	uint8_t proto;
	uint16_t sport, dport; /* ICMP: the echo identifier on the requester's side, 0 on the other
				*/
	uint8_t flags;
	uint32_t seq, ack;
	uint8_t icmp_type;
	uint16_t icmp_seq;
	const uint8_t *payload;
	size_t plen;
	bool ip_ok, l4_ok;
};

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071, the plain way: 16-bit words, odd byte padded. */
static uint32_t
sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static bool
sum_ok(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* Fails the test on any malformed frame: lengths must agree exactly, padding only to 60. */
static void
parse(const struct pkt *k, struct parsed *o)
{
	const uint8_t *p = k->data, *l4 = NULL;
	size_t len = k->len, l3_off = 14, l4_len = 0, l3_end = 0;
	uint16_t et;
	uint32_t ps = 0;

	memset(o, 0, sizeof(*o));
	assert_true(len >= 60);
	o->dmac = p;
	o->smac = p + 6;
	et = rd16(p + 12);
	o->vlan = -1;
	if (et == 0x8100) {
		o->vlan = rd16(p + 14) & 0xfff;
		et = rd16(p + 16);
		l3_off = 18;
	}
	p += l3_off;
	if (et == 0x0800) {
		size_t tot = rd16(p + 2);

		o->family = 4;
		assert_int_equal(p[0], 0x45);
		assert_true(l3_off + tot <= len);
		l3_end = l3_off + tot;
		o->ip_ok = sum_ok(sum16(0, p, 20));
		o->proto = p[9];
		memcpy(o->src, p + 12, 4);
		memcpy(o->dst, p + 16, 4);
		l4 = p + 20;
		l4_len = tot - 20;
		ps = sum16(sum16(0, p + 12, 8), (const uint8_t[]){ 0, p[9] }, 2) + (uint32_t)l4_len;
	} else if (et == 0x86dd) {
		size_t pl = rd16(p + 4);

		o->family = 6;
		assert_int_equal(p[0] >> 4, 6);
		assert_true(l3_off + 40 + pl <= len);
		l3_end = l3_off + 40 + pl;
		o->ip_ok = true;
		o->proto = p[6];
		memcpy(o->src, p + 8, 16);
		memcpy(o->dst, p + 24, 16);
		l4 = p + 40;
		l4_len = pl;
		ps = sum16(sum16(0, p + 8, 32), (const uint8_t[]){ 0, p[6] }, 2) + (uint32_t)l4_len;
	} else {
		fail_msg("ethertype 0x%04x", et);
	}
	/* Bytes after the IP packet are Ethernet padding, only in minimum-size frames. */
	if (l3_end != len) {
		assert_int_equal(len, 60);
		for (size_t i = l3_end; i < len; i++)
			assert_int_equal(k->data[i], 0);
	}
	switch (o->proto) {
	case 6: {
		size_t off = (size_t)(l4[12] >> 4) * 4;

		assert_true(off >= 20 && off <= l4_len);
		o->sport = rd16(l4);
		o->dport = rd16(l4 + 2);
		o->seq = rd32(l4 + 4);
		o->ack = rd32(l4 + 8);
		o->flags = l4[13];
		o->payload = l4 + off;
		o->plen = l4_len - off;
		o->l4_ok = sum_ok(sum16(ps, l4, l4_len));
		break;
	}
	case 17:
		assert_int_equal(rd16(l4 + 4), l4_len);
		o->sport = rd16(l4);
		o->dport = rd16(l4 + 2);
		o->payload = l4 + 8;
		o->plen = l4_len - 8;
		o->l4_ok = rd16(l4 + 6) != 0 && sum_ok(sum16(ps, l4, l4_len));
		break;
	case 1:
	case 58: {
		bool request = l4[0] == 8 || l4[0] == 128;

		assert_true(o->proto == 1 ? (l4[0] == 8 || l4[0] == 0)
					  : (l4[0] == 128 || l4[0] == 129));
		assert_true(o->family == (o->proto == 1 ? 4 : 6));
		o->icmp_type = l4[0];
		o->sport = request ? rd16(l4 + 4) : 0;
		o->dport = request ? 0 : rd16(l4 + 4);
		o->icmp_seq = rd16(l4 + 6);
		o->payload = l4 + 8;
		o->plen = l4_len - 8;
		o->l4_ok = sum_ok(sum16(o->proto == 58 ? ps : 0, l4, l4_len));
		break;
	}
	default:
		fail_msg("IP protocol %u", o->proto);
	}
}

/* ---- flows ---- */

/* Canonical 5-tuple: the lower (address, port) end first. */
struct key {
	uint8_t family, proto;
	uint8_t a[16], b[16];
	uint16_t pa, pb;
};

struct entry {
	struct key key;
	size_t idx; /* packet index in the file */
};

static void
key_of(const struct parsed *p, struct key *k)
{
	int c = memcmp(p->src, p->dst, 16);

	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)p->family;
	k->proto = p->proto == 58 ? 1 : p->proto;
	if (c < 0 || (c == 0 && p->sport <= p->dport)) {
		memcpy(k->a, p->src, 16);
		memcpy(k->b, p->dst, 16);
		k->pa = p->sport;
		k->pb = p->dport;
	} else {
		memcpy(k->a, p->dst, 16);
		memcpy(k->b, p->src, 16);
		k->pa = p->dport;
		k->pb = p->sport;
	}
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int c = memcmp(&a->key, &b->key, sizeof(a->key));

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Packets grouped by flow, each group in file order. */
struct flows {
	struct entry *e;
	size_t n;      /* entries (packets) */
	size_t *start; /* group g is e[start[g]] .. e[start[g + 1] - 1] */
	size_t n_groups;
};

static void
flows_build(const struct cap *c, struct flows *f)
{
	f->e = calloc(c->n, sizeof(*f->e));
	f->start = calloc(c->n + 1, sizeof(*f->start));
	assert_non_null(f->e);
	assert_non_null(f->start);
	for (size_t i = 0; i < c->n; i++) {
		struct parsed p;

		parse(&c->v[i], &p);
		key_of(&p, &f->e[i].key);
		f->e[i].idx = i;
	}
	f->n = c->n;
	qsort(f->e, f->n, sizeof(*f->e), entry_cmp);
	f->n_groups = 0;
	for (size_t i = 0; i < f->n; i++)
		if (i == 0 || memcmp(&f->e[i].key, &f->e[i - 1].key, sizeof(struct key)) != 0)
			f->start[f->n_groups++] = i;
	f->start[f->n_groups] = f->n;
}

static void
flows_free(struct flows *f)
{
	free(f->e);
	free(f->start);
}

/* ---- checks ---- */

static const uint8_t mac1[6] = { 2, 0, 0, 0, 0, 1 }, mac2[6] = { 2, 0, 0, 0, 0, 2 };

static void
check_all_checksums(const struct cap *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct parsed p;

		parse(&c->v[i], &p);
		if (!p.ip_ok || !p.l4_ok)
			fail_msg("packet %zu: bad %s checksum", i + 1,
					p.ip_ok ? "L4" : "IPv4 header");
	}
}

/* Direction of p in a flow whose client is the sender of packet first. */
static int
dir_of(const struct parsed *first, const struct parsed *p)
{
	bool fwd = memcmp(p->src, first->src, 16) == 0 && p->sport == first->sport;

	/* MACs: 02:..:01 is the client side, swapped in reply. */
	assert_memory_equal(p->smac, fwd ? mac1 : mac2, 6);
	assert_memory_equal(p->dmac, fwd ? mac2 : mac1, 6);
	return fwd ? 0 : 1;
}

/*
 * One TCP flow in handshake mode: SYN, SYN-ACK, ACK, data alternating from the client, then
 * FIN-ACK, FIN-ACK, ACK when closed; every seq and ack follows from the bytes before it.
 */
static void
check_tcp_handshake(const struct cap *c, const struct flows *f, size_t g, bool close)
{
	size_t n = f->start[g + 1] - f->start[g];
	uint32_t nxt[2] = { 0 };
	struct parsed first;

	parse(&c->v[f->e[f->start[g]].idx], &first);
	assert_true(n >= (close ? 7u : 4u));
	for (size_t j = 0; j < n; j++) {
		struct parsed p;
		uint8_t want_flags;
		int want_dir, d;

		parse(&c->v[f->e[f->start[g] + j].idx], &p);
		d = dir_of(&first, &p);
		if (j == 0) {
			want_flags = 0x02, want_dir = 0;
		} else if (j == 1) {
			want_flags = 0x12, want_dir = 1;
		} else if (j == 2) {
			want_flags = 0x10, want_dir = 0;
		} else if (close && j == n - 3) {
			want_flags = 0x11, want_dir = 0;
		} else if (close && j == n - 2) {
			want_flags = 0x11, want_dir = 1;
		} else if (close && j == n - 1) {
			want_flags = 0x10, want_dir = 0;
		} else {
			want_flags = 0x18, want_dir = (int)((j - 3) & 1);
		}
		if (p.flags != want_flags || d != want_dir)
			fail_msg("flow %zu packet %zu: flags 0x%02x dir %d, want 0x%02x dir %d", g,
					j, p.flags, d, want_flags, want_dir);
		if (want_flags == 0x18)
			assert_true(p.plen > 0);
		else
			assert_int_equal(p.plen, 0);
		if (j == 0) {
			nxt[0] = p.seq + 1;
			continue;
		}
		if (j == 1) {
			assert_int_equal(p.ack, nxt[0]);
			nxt[1] = p.seq + 1;
			continue;
		}
		if (p.seq != nxt[d] || p.ack != nxt[!d])
			fail_msg("flow %zu packet %zu: seq %u ack %u, want %u %u", g, j, p.seq,
					p.ack, nxt[d], nxt[!d]);
		nxt[d] += (uint32_t)p.plen + (p.flags & 1);
	}
}

/* Midstream: only PSH-ACK data, alternating from the client, numbers continuous. */
static void
check_tcp_midstream(const struct cap *c, const struct flows *f, size_t g)
{
	size_t n = f->start[g + 1] - f->start[g];
	uint32_t nxt[2] = { 0 };
	bool seen[2] = { false, false };
	struct parsed first;

	parse(&c->v[f->e[f->start[g]].idx], &first);
	for (size_t j = 0; j < n; j++) {
		struct parsed p;
		int d;

		parse(&c->v[f->e[f->start[g] + j].idx], &p);
		d = dir_of(&first, &p);
		assert_int_equal(d, (int)(j & 1));
		assert_int_equal(p.flags, 0x18);
		assert_true(p.plen > 0);
		if (seen[d])
			assert_int_equal(p.seq, nxt[d]);
		if (seen[!d])
			assert_int_equal(p.ack, nxt[!d]);
		else
			nxt[!d] = p.ack; /* the peer's first segment must start there */
		if (!seen[d] && j > 0)
			assert_int_equal(p.seq, nxt[d]);
		seen[d] = true;
		nxt[d] = p.seq + (uint32_t)p.plen;
	}
}

static size_t
count_groups_with(const struct cap *c, const struct flows *f, bool v6)
{
	size_t n = 0;

	for (size_t g = 0; g < f->n_groups; g++) {
		struct parsed p;

		parse(&c->v[f->e[f->start[g]].idx], &p);
		n += (p.family == 6) == v6;
	}
	return n;
}

static size_t
count_groups_proto(const struct cap *c, const struct flows *f, uint8_t proto)
{
	size_t n = 0;

	for (size_t g = 0; g < f->n_groups; g++) {
		struct parsed p;

		parse(&c->v[f->e[f->start[g]].idx], &p);
		n += (p.proto == 58 ? 1 : p.proto) == proto;
	}
	return n;
}

/* ---- tests ---- */

static void
test_handshake_rr(void **state)
{
	struct run r;
	struct cap c;
	struct flows f;
	char path[256];

	(void)state;
	GEN(&r, path, "hs.pcap", "--flows", "40", "--per-flow", "10", "--seed", "7");
	assert_int_equal(sum_int(&r, "packets"), 400);
	assert_int_equal(sum_int(&r, "flows"), 40);
	assert_int_equal(sum_int(&r, "seed"), 7);
	assert_int_equal(sum_int(&r, "matching_flows"), 0);
	assert_int_equal(sum_int(&r, "denied_flows"), 0);
	cap_load(path, &c);
	assert_int_equal(c.n, 400);
	assert_int_equal(sum_int(&r, "bytes"), c.bytes);
	check_all_checksums(&c);
	flows_build(&c, &f);
	assert_int_equal(f.n_groups, 40);
	for (size_t g = 0; g < f.n_groups; g++) {
		assert_int_equal(f.start[g + 1] - f.start[g], 10);
		check_tcp_handshake(&c, &f, g, true);
	}
	/* Round robin: the first 40 packets are the 40 SYNs, in flow order. */
	for (size_t i = 0; i < 40; i++) {
		struct parsed p;

		parse(&c.v[i], &p);
		assert_int_equal(p.flags, 0x02);
	}
	flows_free(&f);
	cap_free(&c);
	run_free(&r);
}

static void
test_mixed_shuffle_vlan(void **state)
{
	struct run r;
	struct cap c;
	struct flows f;
	char path[256];

	(void)state;
	GEN(&r, path, "mix.pcap", "--flows", "300", "--per-flow", "8", "--family", "mixed",
			"--proto", "mix", "--order", "shuffle", "--vlan", "42", "--size", "imix");
	cap_load(path, &c);
	assert_int_equal(c.n, 2400);
	check_all_checksums(&c);
	flows_build(&c, &f);
	assert_int_equal(f.n_groups, 300);
	/* Exact shares: 30% IPv6, tcp=80,udp=15,icmp=5. */
	assert_int_equal(count_groups_with(&c, &f, true), 90);
	assert_int_equal(sum_int(&r, "ipv6_flows"), 90);
	assert_int_equal(count_groups_proto(&c, &f, 6), 240);
	assert_int_equal(count_groups_proto(&c, &f, 17), 45);
	assert_int_equal(count_groups_proto(&c, &f, 1), 15);
	assert_int_equal(sum_int(&r, "tcp_flows"), 240);
	for (size_t g = 0; g < f.n_groups; g++) {
		struct parsed p;

		parse(&c.v[f.e[f.start[g]].idx], &p);
		if (p.proto == 6) {
			check_tcp_handshake(&c, &f, g, true);
		} else {
			/* UDP and ICMP alternate request/response; echo numbers pair up. */
			for (size_t j = 0; j < f.start[g + 1] - f.start[g]; j++) {
				struct parsed q;

				parse(&c.v[f.e[f.start[g] + j].idx], &q);
				assert_int_equal(dir_of(&p, &q), (int)(j & 1));
				if (q.proto != 17)
					assert_int_equal(q.icmp_seq, j / 2 + 1);
			}
		}
	}
	for (size_t i = 0; i < c.n; i++) {
		struct parsed p;

		parse(&c.v[i], &p);
		assert_int_equal(p.vlan, 42);
	}
	/* Shuffled, not round robin (where the first 300 packets open 300 different flows): a
	 * seeded pick among active flows repeats flows early (about 190 distinct expected). */
	{
		struct key k[300];
		size_t distinct = 0;

		for (size_t i = 0; i < 300; i++) {
			struct parsed p;
			bool dup = false;

			parse(&c.v[i], &p);
			key_of(&p, &k[i]);
			for (size_t m = 0; m < i && !dup; m++)
				dup = memcmp(&k[m], &k[i], sizeof(k[i])) == 0;
			distinct += !dup;
		}
		assert_true(distinct < 250);
	}
	flows_free(&f);
	cap_free(&c);
	run_free(&r);
}

static void
size_histogram(const struct cap *c, uint32_t len, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < c->n; i++)
		*n += c->v[i].len == len;
}

static void
test_sizes(void **state)
{
	struct run r;
	struct cap c;
	char path[256];
	size_t n64, n576, n1500, n;

	(void)state;
	/* IMIX 7:4:1 over data packets: exact in every block of 12. Sizes include the FCS. */
	GEN(&r, path, "imix.pcap", "--flows", "7", "--packets", "1200", "--proto", "udp", "--size",
			"imix");
	cap_load(path, &c);
	assert_int_equal(c.n, 1200);
	size_histogram(&c, 60, &n64);
	size_histogram(&c, 572, &n576);
	size_histogram(&c, 1496, &n1500);
	assert_int_equal(n64, 700);
	assert_int_equal(n576, 400);
	assert_int_equal(n1500, 100);
	cap_free(&c);
	run_free(&r);

	GEN(&r, path, "s64.pcap", "--flows", "5", "--per-flow", "4", "--tcp-mode", "midstream");
	cap_load(path, &c);
	size_histogram(&c, 60, &n);
	assert_int_equal(n, 20);
	cap_free(&c);
	run_free(&r);

	GEN(&r, path, "s1500.pcap", "--flows", "5", "--per-flow", "4", "--tcp-mode", "midstream",
			"--size", "1500", "--vlan", "3");
	cap_load(path, &c);
	size_histogram(&c, 1496, &n);
	assert_int_equal(n, 20);
	cap_free(&c);
	run_free(&r);

	GEN(&r, path, "list.pcap", "--flows", "3", "--packets", "400", "--proto", "icmp", "--size",
			"128:1,256:3");
	cap_load(path, &c);
	size_histogram(&c, 124, &n64);
	size_histogram(&c, 252, &n576);
	assert_int_equal(n64, 100);
	assert_int_equal(n576, 300);
	cap_free(&c);
	run_free(&r);

	/* IPv6 TCP headers (74 bytes) do not fit in 64: the frame grows to one payload byte. */
	GEN(&r, path, "v6min.pcap", "--family", "6", "--per-flow", "2", "--tcp-mode", "midstream");
	cap_load(path, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.v[0].len, 75);
	cap_free(&c);
	run_free(&r);
}

static void
test_packets_spread(void **state)
{
	struct run r;
	struct cap c;
	struct flows f;
	char path[256];
	size_t n101 = 0, n100 = 0;

	(void)state;
	GEN(&r, path, "spread.pcap", "--flows", "10", "--packets", "1003", "--tcp-mode",
			"midstream", "--size", "64,1500");
	cap_load(path, &c);
	assert_int_equal(c.n, 1003);
	flows_build(&c, &f);
	assert_int_equal(f.n_groups, 10);
	for (size_t g = 0; g < f.n_groups; g++) {
		size_t n = f.start[g + 1] - f.start[g];

		n101 += n == 101;
		n100 += n == 100;
		check_tcp_midstream(&c, &f, g);
	}
	assert_int_equal(n101, 3);
	assert_int_equal(n100, 7);
	flows_free(&f);
	cap_free(&c);
	run_free(&r);
}

static void
test_no_close(void **state)
{
	struct run r;
	struct cap c;
	struct flows f;
	char path[256];

	(void)state;
	GEN(&r, path, "open.pcap", "--flows", "20", "--per-flow", "6", "--no-close", "--family",
			"6");
	cap_load(path, &c);
	flows_build(&c, &f);
	assert_int_equal(f.n_groups, 20);
	for (size_t g = 0; g < f.n_groups; g++)
		check_tcp_handshake(&c, &f, g, false);
	for (size_t i = 0; i < c.n; i++) {
		struct parsed p;

		parse(&c.v[i], &p);
		assert_int_equal(p.flags & 0x01, 0);
	}
	flows_free(&f);
	cap_free(&c);
	run_free(&r);
}

/* Flows of the file holding one of pats in a direction's reassembled payload (any case). */
static size_t
flows_matching(const struct cap *c, const struct flows *f, const struct vg_pktgen_pattern *pats,
		size_t n_pats, size_t *in_first_packet)
{
	size_t n = 0;

	*in_first_packet = 0;
	for (size_t g = 0; g < f->n_groups; g++) {
		uint8_t *stream[2] = { NULL, NULL };
		size_t len[2] = { 0, 0 };
		struct parsed first, p;
		bool hit = false, first_hit = false, first_data = true;

		parse(&c->v[f->e[f->start[g]].idx], &first);
		for (size_t j = f->start[g]; j < f->start[g + 1]; j++) {
			int d;

			parse(&c->v[f->e[j].idx], &p);
			d = dir_of(&first, &p);
			if (p.plen == 0)
				continue;
			stream[d] = realloc(stream[d], len[d] + p.plen);
			assert_non_null(stream[d]);
			for (size_t b = 0; b < p.plen; b++)
				stream[d][len[d] + b] = (uint8_t)tolower(p.payload[b]);
			if (d == 0 && first_data) {
				for (size_t k = 0; k < n_pats; k++)
					first_hit |= memmem(p.payload, p.plen, pats[k].bytes,
								     pats[k].len) != NULL;
				first_data = false;
			}
			len[d] += p.plen;
		}
		for (size_t k = 0; k < n_pats; k++) {
			uint8_t low[VG_PKTGEN_MAX_PATTERN];

			for (size_t b = 0; b < pats[k].len; b++)
				low[b] = (uint8_t)tolower(pats[k].bytes[b]);
			for (int d = 0; d < 2; d++)
				if (stream[d] != NULL &&
						memmem(stream[d], len[d], low, pats[k].len))
					hit = true;
		}
		n += hit;
		*in_first_packet += first_hit;
		free(stream[0]);
		free(stream[1]);
	}
	return n;
}

static void
test_match_share_exact(void **state)
{
	struct vg_pktgen_pattern pats[3];
	char path[256], pfile[256], msg[128];
	struct run r;
	struct cap c;
	struct flows f;
	size_t col, first;
	FILE *pf;

	(void)state;
	assert_int_equal(vg_pktgen_pattern_parse("Evil", 4, &pats[0], &col, msg, sizeof(msg)), 0);
	assert_int_equal(vg_pktgen_pattern_parse(
					 "|de ad|x|00|", 12, &pats[1], &col, msg, sizeof(msg)),
			0);
	assert_int_equal(vg_pktgen_pattern_parse("A", 1, &pats[2], &col, msg, sizeof(msg)), 0);

	/* 3% of 1000 flows, TCP streams across packets, mixed protocols and families. */
	GEN(&r, path, "match.pcap", "--flows", "1000", "--per-flow", "9", "--size", "imix",
			"--proto", "mix", "--family", "mixed", "--order", "shuffle",
			"--match-share", "0.03", "--match-pattern", "Evil", "--match-pattern",
			"|de ad|x|00|");
	assert_int_equal(sum_int(&r, "matching_flows"), 30);
	cap_load(path, &c);
	check_all_checksums(&c);
	flows_build(&c, &f);
	assert_int_equal(flows_matching(&c, &f, pats, 2, &first), 30);
	assert_int_equal(first, 30);
	flows_free(&f);
	cap_free(&c);
	run_free(&r);

	/* A one-byte pattern still gives an exact count: the filler avoids it in either case. */
	snprintf(pfile, sizeof(pfile), "%s/patterns.txt", tmpdir);
	pf = fopen(pfile, "w");
	assert_non_null(pf);
	fputs("# one per line\n\nA\n", pf);
	fclose(pf);
	GEN(&r, path, "match1.pcap", "--flows", "200", "--per-flow", "4", "--tcp-mode", "midstream",
			"--size", "1500", "--match-share", "0.05", "--match-file", pfile);
	assert_int_equal(sum_int(&r, "matching_flows"), 10);
	cap_load(path, &c);
	flows_build(&c, &f);
	assert_int_equal(flows_matching(&c, &f, &pats[2], 1, &first), 10);
	assert_int_equal(first, 10);
	flows_free(&f);
	cap_free(&c);
	run_free(&r);
	for (int i = 0; i < 3; i++)
		free(pats[i].bytes);
}

static void
test_deny_share_exact(void **state)
{
	struct run r;
	struct cap c;
	struct flows f;
	char path[256];
	size_t denied = 0;

	(void)state;
	GEN(&r, path, "deny.pcap", "--flows", "500", "--per-flow", "8", "--proto", "mix",
			"--deny-share", "0.1", "--deny-dport", "2323", "--match-share", "0.1",
			"--match-pattern", "xyz");
	assert_int_equal(sum_int(&r, "denied_flows"), 50);
	assert_int_equal(sum_int(&r, "matching_flows"), 50);
	cap_load(path, &c);
	flows_build(&c, &f);
	assert_int_equal(f.n_groups, 500);
	for (size_t g = 0; g < f.n_groups; g++) {
		struct parsed first;
		bool deny;

		parse(&c.v[f.e[f.start[g]].idx], &first);
		if (first.proto == 1 || first.proto == 58)
			continue; /* an echo identifier is not a port */
		deny = first.dport == 2323;
		denied += deny;
		/* No other packet of the file touches the port, in either direction. */
		for (size_t j = f.start[g]; j < f.start[g + 1]; j++) {
			struct parsed p;

			parse(&c.v[f.e[j].idx], &p);
			if (deny)
				assert_true(p.dport == 2323 || p.sport == 2323);
			else
				assert_true(p.dport != 2323 && p.sport != 2323);
		}
	}
	assert_int_equal(denied, 50);
	flows_free(&f);
	cap_free(&c);
	run_free(&r);
}

static bool
files_equal(const char *a, const char *b)
{
	char *x = slurp(a), *y = slurp(b);
	struct stat sa, sb;
	bool eq;

	assert_int_equal(stat(a, &sa), 0);
	assert_int_equal(stat(b, &sb), 0);
	eq = sa.st_size == sb.st_size && memcmp(x, y, (size_t)sa.st_size) == 0;
	free(x);
	free(y);
	return eq;
}

static void
test_determinism_and_timestamps(void **state)
{
	char a[256], b[256], s2[256];
	struct run r;
	struct cap c;

#define ARGS                                                                                    \
	"--flows", "100", "--per-flow", "8", "--family", "mixed", "--proto", "mix", "--order",  \
			"shuffle", "--size", "imix", "--match-share", "0.1", "--match-pattern", \
			"abc", "--timestamps", "1600000000.5,10"
	(void)state;
	GEN(&r, a, "det-a.pcap", ARGS);
	run_free(&r);
	GEN(&r, b, "det-b.pcap", ARGS);
	run_free(&r);
	GEN(&r, s2, "det-s2.pcap", ARGS, "--seed", "2");
	run_free(&r);
#undef ARGS
	assert_true(files_equal(a, b));
	assert_false(files_equal(a, s2));

	cap_load(a, &c);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.v[i].ts_us, 1600000000500000ull + 10 * i);
	cap_free(&c);

	/* Default: 1700000000 s, one microsecond apart. */
	GEN(&r, a, "ts.pcap", "--per-flow", "7");
	cap_load(a, &c);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.v[i].ts_us, 1700000000000000ull + i);
	cap_free(&c);
	run_free(&r);
}

static int
u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static void
test_many_flows_distinct(void **state)
{
	struct run r;
	struct cap c;
	struct flows f;
	char path[256];

	(void)state;
	GEN(&r, path, "many.pcap", "--flows", "100k", "--per-flow", "1", "--proto", "udp",
			"--family", "mixed", "--v6-share", "0.5", "--order", "shuffle");
	cap_load(path, &c);
	assert_int_equal(c.n, 100000);
	flows_build(&c, &f);
	assert_int_equal(f.n_groups, 100000);
	assert_int_equal(count_groups_with(&c, &f, true), 50000);
	/* Each flow has a client address of its own (IPv6 clients embed the IPv4 host bits). */
	{
		uint32_t *host = calloc(f.n_groups, sizeof(*host));
		size_t distinct = 0;

		assert_non_null(host);
		for (size_t g = 0; g < f.n_groups; g++) {
			struct parsed p;
			const uint8_t *a;

			parse(&c.v[f.e[f.start[g]].idx], &p);
			a = p.family == 4 ? p.src : p.src + 12;
			assert_int_equal(a[0], 10);
			host[g] = rd32(a);
		}
		qsort(host, f.n_groups, sizeof(*host), u32_cmp);
		for (size_t g = 0; g < f.n_groups; g++)
			distinct += g == 0 || host[g] != host[g - 1];
		assert_int_equal(distinct, f.n_groups);
		free(host);
	}
	flows_free(&f);
	cap_free(&c);
	run_free(&r);
}

/* ---- HTTP conversations (--app http) ---- */

/* A header's value in a message head (case-insensitive name), or NULL. */
static const char *
http_header(const char *head, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(head, "\r\n") + 2; l != NULL && strncmp(l, "\r\n", 2) != 0;
			l = strstr(l, "\r\n") + 2) {
		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			*vlen = (size_t)(e - v);
			return v;
		}
	}
	return NULL;
}

struct http_msg {
	char *head; /* start line and headers, NUL-terminated, ending in the empty line */
	size_t body_len;
	char first[16]; /* method, or status code */
	char conn[16];	/* Connection value */
};

/*
 * Split a reassembled stream into HTTP/1.1 messages, failing the test on anything malformed:
 * start line, "Name: value" lines, the empty line, and (where the head says so) a body of
 * exactly Content-Length bytes; the stream ends where the last message does.
 */
static size_t
http_split(const uint8_t *s, size_t n, bool requests, struct http_msg *m, size_t max)
{
	size_t at = 0, count = 0;

	while (at < n) {
		const uint8_t *end = memmem(s + at, n - at, "\r\n\r\n", 4);
		struct http_msg *x = &m[count];
		const char *v, *sp;
		size_t hl, vl = 0;

		assert_true(count < max);
		if (end == NULL)
			fail_msg("%s %zu: no end of head", requests ? "request" : "response",
					count);
		hl = (size_t)(end - (s + at)) + 4;
		x->head = malloc(hl + 1);
		assert_non_null(x->head);
		memcpy(x->head, s + at, hl);
		x->head[hl] = '\0';
		for (size_t i = 0; i < hl; i++)
			if (x->head[i] == '\0' ||
					((unsigned char)x->head[i] < 0x20 && x->head[i] != '\r' &&
							x->head[i] != '\n'))
				fail_msg("control byte in head: %s", x->head);
		/* Every header line is "Name: value". */
		for (const char *l = strstr(x->head, "\r\n") + 2; strncmp(l, "\r\n", 2) != 0;
				l = strstr(l, "\r\n") + 2) {
			const char *colon = strchr(l, ':');

			if (colon == NULL || colon > strstr(l, "\r\n") || colon == l)
				fail_msg("bad header line in: %s", x->head);
		}
		sp = strchr(x->head, ' ');
		assert_non_null(sp);
		if (requests) {
			const char *sp2 = strchr(sp + 1, ' ');

			assert_non_null(sp2);
			assert_true((size_t)(sp - x->head) < sizeof(x->first));
			memcpy(x->first, x->head, (size_t)(sp - x->head));
			x->first[sp - x->head] = '\0';
			assert_true(strcmp(x->first, "GET") == 0 || strcmp(x->first, "POST") == 0);
			assert_int_equal(sp[1], '/');
			assert_memory_equal(sp2, " HTTP/1.1\r\n", 11);
			assert_non_null(http_header(x->head, "Host", &vl));
			assert_non_null(http_header(x->head, "User-Agent", &vl));
		} else {
			assert_memory_equal(x->head, "HTTP/1.1 ", 9);
			memcpy(x->first, x->head + 9, 3);
			x->first[3] = '\0';
			for (int i = 0; i < 3; i++)
				assert_true(isdigit((unsigned char)x->first[i]));
			assert_int_equal(x->head[12], ' ');
			assert_non_null(http_header(x->head, "Content-Type", &vl));
		}
		v = http_header(x->head, "Content-Length", &vl);
		x->body_len = 0;
		if (v != NULL) {
			for (size_t i = 0; i < vl; i++) {
				assert_true(isdigit((unsigned char)v[i]));
				x->body_len = x->body_len * 10 + (size_t)(v[i] - '0');
			}
		} else {
			/* Only GET requests go without; every response says how long it is. */
			assert_true(requests && strcmp(x->first, "GET") == 0);
		}
		if (requests && strcmp(x->first, "POST") == 0) {
			v = http_header(x->head, "Content-Type", &vl);
			assert_non_null(v);
			assert_memory_equal(v, "application/x-www-form-urlencoded", 33);
			assert_true(x->body_len > 0);
		}
		v = http_header(x->head, "Connection", &vl);
		assert_non_null(v);
		assert_true(vl < sizeof(x->conn));
		memcpy(x->conn, v, vl);
		x->conn[vl] = '\0';
		at += hl;
		if (x->body_len > n - at)
			fail_msg("%s %zu: Content-Length %zu, %zu bytes left in the stream",
					requests ? "request" : "response", count, x->body_len,
					n - at);
		at += x->body_len;
		count++;
	}
	return count;
}

struct http_totals {
	size_t requests, keepalive, posts, statuses[6], client_closes, server_closes;
	size_t small, medium, full; /* frames: <= 128, between, >= 1400 */
};

/*
 * One flow of an --app http capture: SYN, SYN-ACK, ACK, then exact sequence and
 * acknowledgement numbers up to a FIN teardown; each request is one segment, no segment beyond
 * the MSS; the client's stream is valid requests and the server's as many valid responses, and
 * a flow either keeps its connection (several requests, client closes) or makes one request
 * with Connection: close (server closes).
 */
static void
check_http_flow(const struct cap *c, const struct flows *f, size_t g, struct http_totals *t)
{
	size_t n = f->start[g + 1] - f->start[g], client_segments = 0, nm[2];
	uint8_t *stream[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	struct http_msg msg[2][128];
	uint32_t nxt[2] = { 0 };
	struct parsed first, p;
	int closer = -1;

	parse(&c->v[f->e[f->start[g]].idx], &first);
	assert_int_equal(first.proto, 6);
	for (size_t j = 0; j < n; j++) {
		const struct pkt *k = &c->v[f->e[f->start[g] + j].idx];
		size_t mss = first.family == 6 ? 1440 : 1460;
		int d;

		parse(k, &p);
		d = dir_of(&first, &p);
		if (k->len <= 128)
			t->small++;
		else if (k->len >= 1400)
			t->full++;
		else
			t->medium++;
		assert_true(k->len <= 1514 + (p.vlan >= 0 ? 4 : 0));
		assert_true(p.plen <= mss);
		if (j == 0) {
			assert_int_equal(p.flags, 0x02);
			nxt[0] = p.seq + 1;
			continue;
		}
		if (j == 1) {
			assert_int_equal(p.flags, 0x12);
			assert_int_equal(d, 1);
			assert_int_equal(p.ack, nxt[0]);
			nxt[1] = p.seq + 1;
			continue;
		}
		if (p.seq != nxt[d] || p.ack != nxt[!d])
			fail_msg("flow %zu packet %zu: seq %u ack %u, want %u %u", g, j, p.seq,
					p.ack, nxt[d], nxt[!d]);
		assert_true((p.flags & 0x10) != 0);
		assert_int_equal(p.flags & ~(0x10 | 0x08 | 0x01), 0);
		if (j >= n - 3) {
			/* The teardown: FIN-ACK, FIN-ACK from the other side, ACK. */
			if (j == n - 3)
				closer = d;
			assert_int_equal(d, j == n - 2 ? !closer : closer);
			assert_int_equal(p.flags, j == n - 1 ? 0x10 : 0x11);
			assert_int_equal(p.plen, 0);
		} else {
			assert_int_equal(p.flags & 0x01, 0);
		}
		nxt[d] += (uint32_t)p.plen + (p.flags & 1);
		if (p.plen == 0)
			continue;
		client_segments += d == 0;
		stream[d] = realloc(stream[d], len[d] + p.plen);
		assert_non_null(stream[d]);
		memcpy(stream[d] + len[d], p.payload, p.plen);
		len[d] += p.plen;
	}
	nm[0] = http_split(stream[0], len[0], true, msg[0], 128);
	nm[1] = http_split(stream[1], len[1], false, msg[1], 128);
	if (nm[0] != nm[1] || nm[0] == 0)
		fail_msg("flow %zu: %zu requests, %zu responses", g, nm[0], nm[1]);
	assert_int_equal(client_segments, nm[0]);
	for (size_t i = 0; i < nm[0]; i++) {
		bool keep = nm[0] > 1;
		static const char *const codes[] = { "200", "201", "301", "302", "404" };
		bool known = false;

		assert_string_equal(msg[0][i].conn, keep ? "keep-alive" : "close");
		assert_string_equal(msg[1][i].conn, keep ? "keep-alive" : "close");
		t->posts += strcmp(msg[0][i].first, "POST") == 0;
		for (size_t s = 0; s < 5; s++)
			if (strcmp(msg[1][i].first, codes[s]) == 0) {
				t->statuses[s]++;
				known = true;
			}
		assert_true(known);
		free(msg[0][i].head);
		free(msg[1][i].head);
	}
	/* A keep-alive client closes when it is done; otherwise the server closes. */
	assert_int_equal(closer, nm[0] > 1 ? 0 : 1);
	t->client_closes += closer == 0;
	t->server_closes += closer == 1;
	t->keepalive += nm[0] > 1;
	t->requests += nm[0];
	free(stream[0]);
	free(stream[1]);
}

static void
test_http_exchanges(void **state)
{
	struct http_totals t = { 0 };
	char path[256], again[256], seed2[256];
	struct run r;
	struct cap c;
	struct flows f;

	(void)state;
	GEN(&r, path, "http.pcap", "--app", "http", "--flows", "300", "--family", "mixed",
			"--order", "shuffle", "--requests", "5", "--keepalive-share", "0.4",
			"--vlan", "9", "--seed", "3");
	assert_int_equal(sum_int(&r, "flows"), 300);
	assert_int_equal(sum_int(&r, "tcp_flows"), 300);
	assert_int_equal(sum_int(&r, "http_keepalive_flows"), 120);
	cap_load(path, &c);
	assert_int_equal(sum_int(&r, "packets"), c.n);
	assert_int_equal(sum_int(&r, "bytes"), c.bytes);
	check_all_checksums(&c);
	flows_build(&c, &f);
	assert_int_equal(f.n_groups, 300);
	for (size_t g = 0; g < f.n_groups; g++)
		check_http_flow(&c, &f, g, &t);
	assert_int_equal(t.keepalive, 120);
	assert_int_equal(t.client_closes, 120);
	assert_int_equal(t.server_closes, 180);
	assert_int_equal(t.requests, sum_int(&r, "http_requests"));
	/* 180 single requests and 120 flows of 2 to 5. */
	assert_true(t.requests >= 180 + 240 && t.requests <= 180 + 600);
	/* Varied: POST forms and every status, frames from ACKs to full segments. */
	assert_true(t.posts > 0 && t.posts < t.requests / 4);
	for (size_t s = 0; s < 5; s++)
		assert_true(t.statuses[s] > 0);
	assert_true(t.statuses[0] > t.requests / 2);
	assert_true(t.small > c.n / 3);
	assert_true(t.medium > c.n / 10);
	assert_true(t.full > c.n / 10);
	flows_free(&f);
	cap_free(&c);
	run_free(&r);

	/* The same seed gives the same bytes; another seed other conversations. */
	GEN(&r, again, "http-again.pcap", "--app", "http", "--flows", "300", "--family", "mixed",
			"--order", "shuffle", "--requests", "5", "--keepalive-share", "0.4",
			"--vlan", "9", "--seed", "3");
	run_free(&r);
	GEN(&r, seed2, "http-seed4.pcap", "--app", "http", "--flows", "300", "--family", "mixed",
			"--order", "shuffle", "--requests", "5", "--keepalive-share", "0.4",
			"--vlan", "9", "--seed", "4");
	run_free(&r);
	assert_true(files_equal(path, again));
	assert_false(files_equal(path, seed2));

	/* Defaults, round robin: half the flows keep their connection, ports 80 and 8080. */
	memset(&t, 0, sizeof(t));
	GEN(&r, path, "http-rr.pcap", "--app", "http", "--flows", "200");
	assert_int_equal(sum_int(&r, "http_keepalive_flows"), 100);
	cap_load(path, &c);
	flows_build(&c, &f);
	assert_int_equal(f.n_groups, 200);
	for (size_t g = 0; g < f.n_groups; g++) {
		struct parsed p;

		parse(&c.v[f.e[f.start[g]].idx], &p);
		assert_true(p.dport == 80 || p.dport == 8080);
		check_http_flow(&c, &f, g, &t);
	}
	assert_int_equal(t.requests, sum_int(&r, "http_requests"));
	/* Round robin: the first 200 packets are the 200 SYNs. */
	for (size_t i = 0; i < 200; i++) {
		struct parsed p;

		parse(&c.v[i], &p);
		assert_int_equal(p.flags, 0x02);
	}
	flows_free(&f);
	cap_free(&c);
	run_free(&r);

	/* --requests 1: one request per connection, every server closes. */
	memset(&t, 0, sizeof(t));
	GEN(&r, path, "http-one.pcap", "--app", "http", "--flows", "50", "--requests", "1");
	assert_int_equal(sum_int(&r, "http_requests"), 50);
	assert_int_equal(sum_int(&r, "http_keepalive_flows"), 0);
	cap_load(path, &c);
	flows_build(&c, &f);
	for (size_t g = 0; g < f.n_groups; g++)
		check_http_flow(&c, &f, g, &t);
	assert_int_equal(t.server_closes, 50);
	flows_free(&f);
	cap_free(&c);
	run_free(&r);
}

/* ---- DNS exchanges (--app dns) ---- */

/*
 * One DNS message: RFC 1035's header and question, read with this file's own code. Returns the
 * question's end (header + QNAME + QTYPE + QCLASS), with the name's length as written in
 * *written, or fails.
 */
static size_t
dns_question(const uint8_t *m, size_t n, size_t *written)
{
	size_t off = 12, labels = 0;

	assert_true(n >= 12 + 1 + 4);
	*written = 0;
	while (m[off] != 0) {
		size_t len = m[off];

		assert_true(len >= 1 && len <= 63); /* a plain label: no pointer in a question */
		assert_true(off + 1 + len < n);
		for (size_t i = 1; i <= len; i++)
			assert_true(isalnum(m[off + i]) && !isupper(m[off + i]));
		*written += len + (labels > 0);
		labels++;
		off += 1 + len;
	}
	assert_true(labels >= 2 && labels <= 5);
	assert_true(*written <= 253);
	off++;
	assert_true(off + 4 <= n);
	assert_int_equal(rd16(m + off), 1);	/* QTYPE A */
	assert_int_equal(rd16(m + off + 2), 1); /* QCLASS IN */
	return off + 4;
}

/*
 * One flow of an --app dns capture: the client's query to port 53, then the server's answer
 * echoing its ID and question with one A record for that name. Returns the name's length.
 */
static size_t
check_dns_flow(const struct cap *c, const struct flows *f, size_t g)
{
	struct parsed q, a;
	size_t written, qend, aend, w2;
	const uint8_t *rr;

	assert_int_equal(f->start[g + 1] - f->start[g], 2);
	assert_true(f->e[f->start[g]].idx < f->e[f->start[g] + 1].idx);
	parse(&c->v[f->e[f->start[g]].idx], &q);
	parse(&c->v[f->e[f->start[g] + 1].idx], &a);
	assert_int_equal(q.proto, 17);
	assert_int_equal(q.dport, 53);
	assert_int_equal(a.sport, 53);
	assert_int_equal(a.dport, q.sport);
	assert_true(q.sport >= 1024);
	qend = dns_question(q.payload, q.plen, &written);
	assert_int_equal(qend, q.plen);
	assert_int_equal(rd16(q.payload + 2), 0x0100); /* a query, recursion desired */
	assert_int_equal(rd16(q.payload + 4), 1);
	assert_int_equal(rd16(q.payload + 6), 0);
	assert_int_equal(rd16(q.payload + 8), 0);
	assert_int_equal(rd16(q.payload + 10), 0);

	aend = dns_question(a.payload, a.plen, &w2);
	assert_int_equal(aend, qend);
	assert_memory_equal(a.payload + 12, q.payload + 12, qend - 12); /* the question echoed */
	assert_int_equal(rd16(a.payload), rd16(q.payload));		/* same ID */
	assert_int_equal(rd16(a.payload + 2), 0x8180); /* response, RD, RA, NOERROR */
	assert_int_equal(rd16(a.payload + 4), 1);
	assert_int_equal(rd16(a.payload + 6), 1);
	assert_int_equal(a.plen, aend + 16);
	rr = a.payload + aend;
	assert_int_equal(rd16(rr), 0xc00c); /* the question's name */
	assert_int_equal(rd16(rr + 2), 1);
	assert_int_equal(rd16(rr + 4), 1);
	assert_int_equal(rd16(rr + 10), 4);
	assert_true((rr[12] == 198 && rr[13] == 51 && rr[14] == 100) ||
			(rr[12] == 203 && rr[13] == 0 && rr[14] == 113));
	return written;
}

static void
test_dns_exchanges(void **state)
{
	char path[256], again[256], seed2[256];
	size_t lens[110] = { 0 }, over = 0, lo = 999, hi = 0;
	struct run r;
	struct cap c;
	struct flows f;

	(void)state;
	GEN(&r, path, "dns.pcap", "--app", "dns", "--flows", "500", "--family", "mixed", "--order",
			"shuffle", "--vlan", "9", "--seed", "3");
	assert_int_equal(sum_int(&r, "flows"), 500);
	assert_int_equal(sum_int(&r, "udp_flows"), 500);
	assert_int_equal(sum_int(&r, "tcp_flows"), 0);
	assert_int_equal(sum_int(&r, "packets"), 1000);
	assert_int_equal(sum_int(&r, "dns_queries"), 500);
	cap_load(path, &c);
	assert_int_equal(c.n, 1000);
	assert_int_equal(sum_int(&r, "bytes"), c.bytes);
	check_all_checksums(&c);
	flows_build(&c, &f);
	assert_int_equal(f.n_groups, 500);
	for (size_t g = 0; g < f.n_groups; g++) {
		size_t w = check_dns_flow(&c, &f, g);

		assert_true(w < sizeof(lens) / sizeof(lens[0]));
		lens[w]++;
		over += w > 52;
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
	}
	/* Names on both sides of dns_qname.c's limit of 52, as the summary counts them. */
	assert_int_equal(over, sum_int(&r, "dns_names_over_52"));
	assert_true(over > 500 / 10 && over < 500 / 2);
	assert_true(lo <= 15 && hi >= 80);
	flows_free(&f);
	cap_free(&c);
	run_free(&r);

	/* The same seed gives the same bytes; another seed other names. */
	GEN(&r, again, "dns-again.pcap", "--app", "dns", "--flows", "500", "--family", "mixed",
			"--order", "shuffle", "--vlan", "9", "--seed", "3");
	run_free(&r);
	GEN(&r, seed2, "dns-seed4.pcap", "--app", "dns", "--flows", "500", "--family", "mixed",
			"--order", "shuffle", "--vlan", "9", "--seed", "4");
	run_free(&r);
	assert_true(files_equal(path, again));
	assert_false(files_equal(path, seed2));

	/* Round robin: the 100 queries, then the 100 answers; --ports sets the server port. */
	GEN(&r, path, "dns-rr.pcap", "--app", "dns", "--flows", "100", "--ports", "5353");
	cap_load(path, &c);
	for (size_t i = 0; i < c.n; i++) {
		struct parsed p;

		parse(&c.v[i], &p);
		assert_int_equal(i < 100 ? p.dport : p.sport, 5353);
	}
	cap_free(&c);
	run_free(&r);
}

static void
test_bad_options(void **state)
{
	static const struct {
		const char *args[6];
		const char *want;
	} cases[] = {
		{ { "--flows", "0" }, "--flows '0': expected an integer from 1 to 10000000" },
		{ { "--seed", "9223372036854775808" }, "--seed '9223372036854775808'" },
		{ { "--flows", "11M" }, "--flows '11M'" },
		{ { "--family", "5" }, "--family '5': expected 4, 6 or mixed" },
		{ { "--proto", "sctp" }, "--proto 'sctp': expected tcp, udp, icmp or mix" },
		{ { "--size", "63" }, "--size '63': item 1" },
		{ { "--size", "64,abc" }, "--size '64,abc': item 2" },
		{ { "--mix", "tcp=1,foo=2" }, "--mix 'tcp=1,foo=2'" },
		{ { "--order", "random" }, "--order 'random': expected rr or shuffle" },
		{ { "--tcp-mode", "x" }, "--tcp-mode 'x': expected handshake or midstream" },
		{ { "--match-share", "2", "--match-pattern", "a" }, "--match-share '2'" },
		{ { "--match-share", "0.1", "--match-pattern", "ab|4" },
				"--match-pattern 'ab|4': column 5" },
		{ { "--match-share", "0.1" }, "--match-share 0.1 needs --match-pattern" },
		{ { "--match-pattern", "x" }, "without --match-share" },
		{ { "--vlan", "4095" }, "--vlan '4095'" },
		{ { "--timestamps", "x" }, "--timestamps 'x'" },
		{ { "--per-flow", "5" }, "--per-flow 5: handshake mode needs at least 7" },
		{ { "--packets", "10", "--per-flow", "2" }, "--packets and --per-flow" },
		{ { "--deny-share", "0.1", "--deny-dport", "80" },
				"--deny-dport 80 is also in --ports" },
		{ { "--deny-share", "0.6", "--match-share", "0.6", "--match-pattern", "x" },
				"exceed --flows" },
		{ { "--proto", "icmp", "--deny-share", "1" }, "--deny-share needs TCP or UDP" },
		{ { "--v6-share", "0.5" }, "--v6-share applies to --family mixed" },
		{ { "--bogus" }, "unknown option '--bogus'" },
		{ { "--flows" }, "--flows needs a value" },
		{ { "stray" }, "unexpected argument 'stray'" },
		{ { "--app", "ftp" }, "--app 'ftp': expected none, http or dns" },
		{ { "--app", "dns", "--proto", "tcp" }, "--app dns needs --proto udp" },
		{ { "--app", "dns", "--per-flow", "4" }, "--packets and --per-flow do not apply" },
		{ { "--app", "dns", "--size", "1500" }, "--app dns: messages decide" },
		{ { "--app", "dns", "--deny-share", "0.1" }, "--app dns: --deny-share" },
		{ { "--app", "dns", "--requests", "2" }, "--requests applies to --app http only" },
		{ { "--app", "http", "--proto", "udp" }, "--app http needs --proto tcp" },
		{ { "--app", "http", "--tcp-mode", "midstream" },
				"--app http needs --tcp-mode handshake" },
		{ { "--app", "http", "--no-close" }, "--no-close does not apply" },
		{ { "--app", "http", "--per-flow", "10" },
				"--packets and --per-flow do not apply" },
		{ { "--app", "http", "--size", "imix" }, "--size does not apply" },
		{ { "--app", "http", "--deny-share", "0.1" },
				"--deny-share and --deny-dport do not" },
		{ { "--app", "http", "--requests", "0" },
				"--requests '0': expected an integer from 1" },
		{ { "--app", "http", "--requests", "1", "--keepalive-share", "0.5" },
				"--keepalive-share 0.5 needs --requests 2 or more" },
		{ { "--requests", "3" }, "--requests applies to --app http only" },
		{ { "--keepalive-share", "0.2" }, "--keepalive-share applies to --app http only" },
	};
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.pcap", tmpdir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[10] = { "-o", path };
		struct run r;
		int n = 2;

		for (int k = 0; k < 6 && cases[i].args[k] != NULL; k++)
			argv[n++] = cases[i].args[k];
		argv[n] = NULL;
		run_argv(&r, argv);
		if (r.status != 2 || strstr(r.err, cases[i].want) == NULL)
			fail_msg("case %zu: exit %d, stderr \"%s\", want exit 2 and \"%s\"", i,
					r.status, r.err, cases[i].want);
		assert_int_equal(access(path, F_OK), -1); /* nothing written */
		run_free(&r);
	}
	{
		struct run r;

		RUN(&r, "--flows", "3");
		assert_int_equal(r.status, 2);
		assert_non_null(strstr(r.err, "-o/--output FILE is required"));
		run_free(&r);
		RUN(&r, "--help");
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, "usage: vg-pktgen"));
		run_free(&r);
	}
}

static void
test_pattern_syntax(void **state)
{
	static const struct {
		const char *text;
		size_t col;
		const char *want; /* NULL: valid, bytes in want_bytes */
		const char *want_bytes;
		size_t want_len;
	} cases[] = {
		{ "abc", 0, NULL, "abc", 3 },
		{ "a|41 42|c", 0, NULL, "aABc", 4 },
		{ "|00|x", 0, NULL, "\0x", 2 },
		{ "|0d0a|", 0, NULL, "\r\n", 2 },
		{ "\\|\\\\", 0, NULL, "|\\", 2 },
		{ "ab|4", 5, "two digits", NULL, 0 },
		{ "ab|zz|", 4, "'z' is not a hex digit", NULL, 0 },
		{ "ab|41", 3, "unterminated", NULL, 0 },
		{ "x||", 2, "empty |hex| run", NULL, 0 },
		{ "", 1, "empty pattern", NULL, 0 },
		{ "a\\b", 2, "backslash", NULL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vg_pktgen_pattern p;
		char msg[160] = "";
		size_t col = 0;
		int rc = vg_pktgen_pattern_parse(
				cases[i].text, strlen(cases[i].text), &p, &col, msg, sizeof(msg));

		if (cases[i].want == NULL) {
			assert_int_equal(rc, 0);
			assert_int_equal(p.len, cases[i].want_len);
			assert_memory_equal(p.bytes, cases[i].want_bytes, p.len);
			free(p.bytes);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_int_equal(col, cases[i].col);
			if (strstr(msg, cases[i].want) == NULL)
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i, msg, cases[i].want);
		}
	}
}

static void
test_match_file_errors(void **state)
{
	struct vg_pktgen_pattern *v = NULL;
	struct vg_diag d;
	char path[256];
	size_t n = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad-patterns.txt", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("good\n# comment\nbad|4x|\n\nalso|00|\r\nopen|41\n", f);
	fclose(f);
	vg_diag_init(&d);
	assert_int_equal(vg_pktgen_patterns_load(path, &v, &n, &d), -EINVAL);
	assert_int_equal(d.errors, 2);
	assert_diag(&d, 3, 6, "need two digits");
	assert_diag(&d, 6, 5, "unterminated");
	assert_int_equal(n, 2); /* good, also\0 */
	assert_int_equal(v[1].len, 5);
	vg_diag_free(&d);
	for (size_t i = 0; i < n; i++)
		free(v[i].bytes);
	free(v);

	vg_diag_init(&d);
	n = 0;
	v = NULL;
	assert_int_equal(vg_pktgen_patterns_load("/nonexistent/p.txt", &v, &n, &d), -ENOENT);
	assert_diag(&d, 0, 0, "cannot open");
	vg_diag_free(&d);
}

static void
test_permutation_is_bijective(void **state)
{
	static const uint64_t sizes[] = { 1, 2, 3, 17, 1000, 4096, 5000 };

	(void)state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint64_t n = sizes[s];
		uint8_t *seen = calloc(n, 1);
		struct vg_pktgen_perm p;
		size_t fixed = 0;

		assert_non_null(seen);
		vg_pktgen_perm_init(&p, n, 12345 + s);
		for (uint64_t x = 0; x < n; x++) {
			uint64_t y = vg_pktgen_perm_apply(&p, x);

			assert_true(y < n);
			assert_false(seen[y]);
			seen[y] = 1;
			fixed += y == x;
		}
		if (n >= 1000)
			assert_true(fixed < n / 50); /* it does permute */
		free(seen);
	}
}

static int
setup(void **state)
{
	(void)state;
	bin = getenv("VG_PKTGEN");
	if (bin == NULL) {
		fprintf(stderr, "VG_PKTGEN must name the vg-pktgen binary\n");
		return -1;
	}
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_rr),
		cmocka_unit_test(test_mixed_shuffle_vlan),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_packets_spread),
		cmocka_unit_test(test_no_close),
		cmocka_unit_test(test_match_share_exact),
		cmocka_unit_test(test_deny_share_exact),
		cmocka_unit_test(test_determinism_and_timestamps),
		cmocka_unit_test(test_many_flows_distinct),
		cmocka_unit_test(test_http_exchanges),
		cmocka_unit_test(test_dns_exchanges),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_pattern_syntax),
		cmocka_unit_test(test_match_file_errors),
		cmocka_unit_test(test_permutation_is_bijective),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
