/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * suricata-verify cases replayed through the signature engine: the capture is read with
 * libpcap, TCP payload goes in order per direction through the stream API (a small
 * reassembler in this file follows the sequence numbers, first copy wins on overlaps, a gap
 * restarts the stream at the end of the capture as Suricata flushes at flow timeout), every
 * packet goes through det_scan_packet, and the alerts per sid are compared with what the
 * case's test.yaml expects. Where Vigil's semantics differ on purpose, the table says so.
 *
 * Cases not replayed here need what the signature engine does not do: application-layer
 * parsing (http body/uri buffers, flowbits-free protocol direction fix-ups), tunnel decap,
 * IPv6 defragmentation, threshold configuration files; see docs/SIGNATURES.md.
 */
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include "det_test.h"

#define SV_DIR	    VIGIL_TESTDATA "/suricata-verify"
#define MAX_FLOWS   64
#define MAX_PENDING 32
#define MAX_SIDS    32

struct seg {
	uint32_t seq;
	uint32_t len;
	uint8_t data[2048];
};

struct dir {
	bool seen;   /* a packet went this way */
	bool syn;    /* sequence numbers known */
	bool opened; /* stream state opened */
	uint32_t next;
	void *state;
	struct seg pending[MAX_PENDING];
	unsigned n_pending;
};

struct flow {
	uint8_t proto;
	uint8_t family;
	uint8_t a[16], b[16]; /* a: initiator */
	uint16_t ap, bp;
	bool syn_a, synack_b, established;
	bool passed;
	struct dir d[2];
};

struct counts {
	uint32_t sid[MAX_SIDS];
	unsigned n[MAX_SIDS];
	unsigned used;
	unsigned drops;
};

struct replay {
	struct tdet t;
	struct flow flows[MAX_FLOWS];
	unsigned n_flows;
	struct counts c;
	size_t state_size;
};

static void
count(struct replay *r, const struct det_match *m, int n, struct flow *f)
{
	for (int i = 0; i < n; i++) {
		uint32_t sid = det_engine_rule_info(r->t.e, m[i].rule)->sid;
		unsigned k;

		if (m[i].action == DET_ACT_PASS && (m[i].flags & DET_M_FLOW))
			f->passed = true;
		if (m[i].action == DET_ACT_DROP)
			r->c.drops++;
		if (!(m[i].flags & DET_M_ALERT))
			continue;
		for (k = 0; k < r->c.used; k++)
			if (r->c.sid[k] == sid)
				break;
		if (k == r->c.used) {
			assert_true(k < MAX_SIDS);
			r->c.sid[k] = sid;
			r->c.used++;
		}
		r->c.n[k]++;
	}
}

static unsigned
alerts(const struct replay *r, uint32_t sid)
{
	for (unsigned k = 0; k < r->c.used; k++)
		if (r->c.sid[k] == sid)
			return r->c.n[k];
	return 0;
}

static struct flow *
flow_get(struct replay *r, const struct det_pkt *p, int *dir)
{
	unsigned alen = p->family == 4 ? 4 : 16;

	for (unsigned i = 0; i < r->n_flows; i++) {
		struct flow *f = &r->flows[i];

		if (f->proto != p->proto || f->family != p->family)
			continue;
		if (!memcmp(f->a, p->src, alen) && !memcmp(f->b, p->dst, alen) &&
				f->ap == p->sport && f->bp == p->dport) {
			*dir = 0;
			return f;
		}
		if (!memcmp(f->a, p->dst, alen) && !memcmp(f->b, p->src, alen) &&
				f->ap == p->dport && f->bp == p->sport) {
			*dir = 1;
			return f;
		}
	}
	assert_true(r->n_flows < MAX_FLOWS);
	struct flow *f = &r->flows[r->n_flows++];

	memset(f, 0, sizeof(*f));
	f->proto = p->proto;
	f->family = p->family;
	memcpy(f->a, p->src, 16);
	memcpy(f->b, p->dst, 16);
	f->ap = p->sport;
	f->bp = p->dport;
	*dir = 0;
	return f;
}

static void
stream_deliver(struct replay *r, struct flow *f, struct det_pkt p, int dir, const uint8_t *data,
		uint32_t len)
{
	struct dir *d = &f->d[dir];
	struct det_match m[16];
	int n;

	if (!d->opened) {
		d->state = aligned_alloc(64, (r->state_size + 63) & ~(size_t)63);
		assert_non_null(d->state);
		assert_int_equal(det_stream_open(r->t.w, d->state, r->state_size, &p), 0);
		d->opened = true;
	}
	d->next += len;
	if (f->passed)
		return;
	p.payload = data;
	p.len = len;
	n = det_stream_scan(r->t.w, d->state, &p, m, 16);
	assert_true(n >= 0);
	count(r, m, n, f);
}

static void
stream_close(struct replay *r, struct flow *f, struct det_pkt p, int dir)
{
	struct dir *d = &f->d[dir];
	struct det_match m[16];
	int n;

	if (!d->opened)
		return;
	n = det_stream_close(r->t.w, d->state, &p, m, 16);
	assert_true(n >= 0);
	if (!f->passed)
		count(r, m, n, f);
	d->opened = false;
	free(d->state);
	d->state = NULL;
}

/* Deliver what is now in order among the held segments. */
static void
drain(struct replay *r, struct flow *f, const struct det_pkt *p, int dir)
{
	struct dir *d = &f->d[dir];
	bool progress = true;

	while (progress) {
		progress = false;
		for (unsigned i = 0; i < d->n_pending; i++) {
			struct seg *s = &d->pending[i];
			int32_t rel = (int32_t)(s->seq - d->next);

			if (rel > 0)
				continue;
			if ((uint32_t)-rel < s->len)
				stream_deliver(r, f, *p, dir, s->data + -rel,
						s->len - (uint32_t)-rel);
			*s = d->pending[--d->n_pending];
			progress = true;
			break;
		}
	}
}

static void
tcp_segment(struct replay *r, struct flow *f, const struct det_pkt *p, int dir, uint32_t seq)
{
	struct dir *d = &f->d[dir];
	int32_t rel;

	if (p->tcp_flags & 0x02) {
		if (!d->syn) {
			d->syn = true;
			d->next = seq + 1;
		}
		seq++;
	}
	if (p->len == 0)
		return;
	if (!d->syn) {
		/* picked up mid-stream */
		d->syn = true;
		d->next = seq;
	}
	rel = (int32_t)(seq - d->next);
	if (rel > 0) {
		struct seg *s;

		assert_true(d->n_pending < MAX_PENDING && p->len <= sizeof(s->data));
		s = &d->pending[d->n_pending++];
		s->seq = seq;
		s->len = p->len;
		memcpy(s->data, p->payload, p->len);
		return;
	}
	/* the first copy of a byte wins: skip what was delivered already */
	if ((uint32_t)-rel < p->len)
		stream_deliver(r, f, *p, dir, p->payload + -rel, p->len - (uint32_t)-rel);
	drain(r, f, p, dir);
}

static void
handle(struct replay *r, struct det_pkt *p, uint32_t seq)
{
	int dir;
	struct flow *f = flow_get(r, p, &dir);
	struct det_match m[16];
	int n;

	p->flags = dir == 0 ? DET_PKT_TO_SERVER : DET_PKT_TO_CLIENT;
	if (!f->d[dir].seen)
		p->flags |= DET_PKT_FIRST;
	f->d[dir].seen = true;
	if (p->proto == IPPROTO_TCP) {
		/* the three-way handshake makes the flow established */
		if (dir == 0 && (p->tcp_flags & 0x12) == 0x02)
			f->syn_a = true;
		else if (dir == 1 && (p->tcp_flags & 0x12) == 0x12 && f->syn_a)
			f->synack_b = true;
		else if (dir == 0 && (p->tcp_flags & 0x12) == 0x10 && f->synack_b)
			f->established = true;
	} else if (f->d[0].seen && f->d[1].seen) {
		f->established = true;
	}
	if (f->established)
		p->flags |= DET_PKT_ESTABLISHED;
	if (f->passed)
		return;
	n = det_scan_packet(r->t.w, p, m, 16);
	count(r, m, n, f);
	if (p->proto == IPPROTO_TCP)
		tcp_segment(r, f, p, dir, seq);
}

/* Minimal decoding: Ethernet (VLAN tags), raw IP, Linux cooked, BSD loopback. */
static bool
decode(int dlt, const uint8_t *b, uint32_t caplen, struct det_pkt *p, uint8_t *src, uint8_t *dst,
		uint32_t *seq)
{
	uint32_t off = 0, l4, l4_start, end;
	uint16_t et = 0;
	uint8_t proto;

	p->n_vlan = 0;

	if (dlt == DLT_EN10MB) {
		if (caplen < 14)
			return false;
		et = (uint16_t)(b[12] << 8 | b[13]);
		off = 14;
		while ((et == 0x8100 || et == 0x88a8) && caplen >= off + 4) {
			if (p->n_vlan < 3)
				p->vlan[p->n_vlan] = (uint16_t)((b[off] & 0x0f) << 8 | b[off + 1]);
			p->n_vlan++;
			et = (uint16_t)(b[off + 2] << 8 | b[off + 3]);
			off += 4;
		}
	} else if (dlt == DLT_LINUX_SLL) {
		if (caplen < 16)
			return false;
		et = (uint16_t)(b[14] << 8 | b[15]);
		off = 16;
	} else if (dlt == DLT_NULL) {
		if (caplen < 4)
			return false;
		off = 4;
		et = (b[off] >> 4) == 6 ? 0x86dd : 0x0800;
	} else if (dlt == DLT_RAW || dlt == 12 || dlt == 14) {
		et = caplen > 0 && (b[0] >> 4) == 6 ? 0x86dd : 0x0800;
	} else {
		return false;
	}
	memset(src, 0, 16);
	memset(dst, 0, 16);
	if (et == 0x0800) {
		uint32_t ihl;

		if (caplen < off + 20 || (b[off] >> 4) != 4)
			return false;
		ihl = (b[off] & 15u) * 4;
		if ((b[off + 6] & 0x3f) != 0 || b[off + 7] != 0)
			return false; /* fragments: not decoded here */
		end = off + ((uint32_t)b[off + 2] << 8 | b[off + 3]);
		proto = b[off + 9];
		memcpy(src, b + off + 12, 4);
		memcpy(dst, b + off + 16, 4);
		p->family = 4;
		l4 = off + ihl;
	} else if (et == 0x86dd) {
		if (caplen < off + 40)
			return false;
		proto = b[off + 6];
		end = off + 40 + ((uint32_t)b[off + 4] << 8 | b[off + 5]);
		memcpy(src, b + off + 8, 16);
		memcpy(dst, b + off + 24, 16);
		p->family = 6;
		l4 = off + 40;
		while ((proto == 0 || proto == 43 || proto == 60) && caplen >= l4 + 8) {
			proto = b[l4];
			l4 += 8 + b[l4 + 1] * 8u;
		}
	} else {
		return false;
	}
	if (end > caplen)
		end = caplen;
	l4_start = l4;
	p->proto = proto;
	p->src = src;
	p->dst = dst;
	p->sport = p->dport = 0;
	p->tcp_flags = 0;
	if (proto == IPPROTO_TCP) {
		if (end < l4 + 20)
			return false;
		p->sport = (uint16_t)(b[l4] << 8 | b[l4 + 1]);
		p->dport = (uint16_t)(b[l4 + 2] << 8 | b[l4 + 3]);
		*seq = (uint32_t)b[l4 + 4] << 24 | (uint32_t)b[l4 + 5] << 16 |
		       (uint32_t)b[l4 + 6] << 8 | b[l4 + 7];
		p->tcp_flags = b[l4 + 13];
		l4 += (b[l4 + 12] >> 4) * 4u;
	} else if (proto == IPPROTO_UDP) {
		if (end < l4 + 8)
			return false;
		p->sport = (uint16_t)(b[l4] << 8 | b[l4 + 1]);
		p->dport = (uint16_t)(b[l4 + 2] << 8 | b[l4 + 3]);
		l4 += 8;
	} else if (proto == IPPROTO_SCTP) {
		if (end < l4 + 12)
			return false;
		p->sport = (uint16_t)(b[l4] << 8 | b[l4 + 1]);
		p->dport = (uint16_t)(b[l4 + 2] << 8 | b[l4 + 3]);
		l4 += 12;
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		l4 += 8;
	}
	if (l4 > end)
		l4 = end;
	/* the headers, for the header keywords (ttl, itype, tcp.hdr, ...) */
	p->l3 = b + off;
	p->l3_len = (uint16_t)(l4_start > off ? l4_start - off : 0);
	p->l4 = l4 > l4_start ? b + l4_start : NULL;
	p->l4_len = (uint16_t)(l4 - l4_start);
	p->payload = b + l4;
	p->len = end - l4;
	return true;
}

static void
replay_case(struct replay *r, const char *dir, const char *rules, const char *pcap_file)
{
	char path[512], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	FILE *f;
	char *text;
	long len;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s/%s/%s", SV_DIR, dir, rules);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	tdet_open_opts(&r->t, text, true, NULL);
	free(text);
	r->state_size = det_stream_state_size(r->t.e);

	snprintf(path, sizeof(path), "%s/%s/%s", SV_DIR, dir, pcap_file);
	pc = pcap_open_offline(path, err);
	if (pc == NULL)
		fail_msg("%s: %s", path, err);
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct det_pkt p = { 0 };
		uint8_t src[16], dst[16];
		uint32_t seq = 0;

		if (!decode(pcap_datalink(pc), data, h->caplen, &p, src, dst, &seq))
			continue;
		p.now_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec * 1000;
		handle(r, &p, seq);
	}
	pcap_close(pc);

	/* end of capture: what a gap held back is flushed on a new stream, then all close */
	for (unsigned i = 0; i < r->n_flows; i++) {
		struct flow *fl = &r->flows[i];

		for (int d = 0; d < 2; d++) {
			struct det_pkt p = { .family = fl->family, .proto = fl->proto };

			p.src = d == 0 ? fl->a : fl->b;
			p.dst = d == 0 ? fl->b : fl->a;
			p.sport = d == 0 ? fl->ap : fl->bp;
			p.dport = d == 0 ? fl->bp : fl->ap;
			p.flags = (uint8_t)((d == 0 ? DET_PKT_TO_SERVER : DET_PKT_TO_CLIENT) |
					    (fl->established ? DET_PKT_ESTABLISHED : 0));
			while (fl->d[d].n_pending > 0) {
				struct dir *dd = &fl->d[d];
				unsigned lo = 0;

				for (unsigned k = 1; k < dd->n_pending; k++)
					if ((int32_t)(dd->pending[k].seq - dd->pending[lo].seq) < 0)
						lo = k;
				stream_close(r, fl, p, d);
				dd->next = dd->pending[lo].seq;
				drain(r, fl, &p, d);
			}
			stream_close(r, fl, p, d);
		}
	}
}

struct expect {
	uint32_t sid;
	unsigned alerts;
};

static void
check(const char *dir, const char *rules, const char *pcap_file, const struct expect *e, unsigned n,
		unsigned drops)
{
	struct replay *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	replay_case(r, dir, rules, pcap_file);
	for (unsigned i = 0; i < n; i++)
		if (alerts(r, e[i].sid) != e[i].alerts)
			fail_msg("%s: sid %u alerted %u times, expected %u", dir, e[i].sid,
					alerts(r, e[i].sid), e[i].alerts);
	if (drops != (unsigned)-1)
		assert_int_equal(r->c.drops, drops);
	tdet_close(&r->t);
	free(r);
}

#define CHECK(dir, rules, pcap, drops, ...)                                     \
	do {                                                                    \
		static const struct expect e_[] = { __VA_ARGS__ };              \
		check(dir, rules, pcap, e_, sizeof(e_) / sizeof(e_[0]), drops); \
	} while (0)

static bool
have_testdata(void)
{
	struct stat st;

	return stat(SV_DIR, &st) == 0;
}

/* Content modifiers on payloads. */
static void
test_content_cases(void **state)
{
	(void)state;
	if (!have_testdata()) {
		print_message("testdata not found at %s: skipped\n", SV_DIR);
		skip();
	}
	/* once per direction: the request, and the 404 page that quotes the URL */
	CHECK("alert-distance-within-1", "test.rules", "input.pcap", 0, { 2, 2 });
	/* the fast_pattern placement bug: all seven fire once, on the DNS response */
	CHECK("bug-5197", "test.rules", "input.pcap", 0, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 },
			{ 5, 1 }, { 6, 1 }, { 7, 1 });
	CHECK("bug-130", "test.rules", "input.pcap", 0, { 9000000, 1 }, { 9000001, 1 },
			{ 9000002, 1 });
	CHECK("tcp-fastopen-04", "test.rules", "tfo.pcap", 0, { 1, 2 });
	CHECK("ssh-newkeys", "test.rules", "input.pcap", 0, { 1300013, 1 });
	CHECK("smtp-eve", "test.rules", "input.pcap", 0, { 1, 1 });
}

static void
test_pcre_cases(void **state)
{
	(void)state;
	if (!have_testdata()) {
		print_message("testdata not found at %s: skipped\n", SV_DIR);
		skip();
	}
	/* sid 1 uses the U (URI) modifier and is not loaded; 2 fires; 3's negated pcre holds */
	CHECK("detect-pcre_detect-pcre-03", "test.rules", "input.pcap", 0, { 1, 0 }, { 2, 1 },
			{ 3, 0 });
}

static void
test_dsize_case(void **state)
{
	(void)state;
	if (!have_testdata()) {
		print_message("testdata not found at %s: skipped\n", SV_DIR);
		skip();
	}
	CHECK("test-dsize-values", "test.rules", "input.pcap", 0, { 1, 1 }, { 2, 4 }, { 3, 5 },
			{ 4, 1 }, { 5, 1 }, { 6, 1 }, { 7, 1 });
}

static void
test_stream_cases(void **state)
{
	(void)state;
	if (!have_testdata()) {
		print_message("testdata not found at %s: skipped\n", SV_DIR);
		skip();
	}
	/* the handshake never completes: flow:established does not match */
	CHECK("alert-no-3whs-established", "test.rules", "no-3whs.pcap", 0, { 13371340, 0 });
	CHECK("tcp-split-handshake-01-4whs", "test.rules", "split-handshake-4whs.pcap", 0, { 1, 1 },
			{ 2, 1 }, { 3, 1 });
	/* a 4-byte gap: the stream is restarted after it, so VERY and DATA are found but
	 * nothing spans the gap; the packet rules see each segment */
	CHECK("eve-payload-05-tcp-data-gap", "test.rules", "tcp-simple-gap2.pcap", 0, { 1, 1 },
			{ 2, 0 }, { 3, 1 }, { 4, 1 }, { 5, 0 }, { 6, 1 }, { 7, 0 });
	/* a retransmission with other bytes: the stream keeps the first (GOOD), packets see
	 * both */
	CHECK("eve-overlap-payload-01", "tcp-overlap.rules", "tcp-overlap.pcap", 0, { 1, 0 },
			{ 2, 1 }, { 3, 1 }, { 4, 1 });
}

static void
test_header_and_action_cases(void **state)
{
	(void)state;
	if (!have_testdata()) {
		print_message("testdata not found at %s: skipped\n", SV_DIR);
		skip();
	}
	/* header-only rules fire once per flow direction; the pass rule passes the flow */
	CHECK("util-action-tests_util-action-01", "test.rules", "input.pcap", 0, { 1, 1 }, { 2, 0 },
			{ 3, 1 });
	/* a content pass rule passes its packet only */
	CHECK("util-action-tests_util-action-03", "test.rules", "input.pcap", 0, { 1, 2 }, { 2, 0 },
			{ 3, 2 });
	CHECK("iponly-midstream-01", "test.rules", "input.pcap", 0, { 1, 1 }, { 2, 0 }, { 3, 1 });
	CHECK("decode-sctp-01", "test.rules", "input.pcap", 0, { 1, 1 });
	CHECK("detect-udp-flow-rule-01", "test.rules", "public-cloudshark-sip-s0.pcap", 0, { 1, 0 },
			{ 2, 4 });
	CHECK("detect-udp-flow-rule-02-ips", "test.rules", "public-cloudshark-sip-s0.pcap", 4,
			{ 1, 0 }, { 2, 4 });
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_cases),
		cmocka_unit_test(test_pcre_cases),
		cmocka_unit_test(test_dsize_case),
		cmocka_unit_test(test_stream_cases),
		cmocka_unit_test(test_header_and_action_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
