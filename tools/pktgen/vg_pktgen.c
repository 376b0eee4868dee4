/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "vg_pktgen.h"
#include "vg_pktgen_dns.h"
#include "vg_pktgen_filler.h"
#include "vg_pktgen_flow.h"
#include "vg_pktgen_frame.h"
#include "vg_pktgen_http.h"
#include "vg_rng.h"

#define PROG	 "vg-pktgen"
#define IOBUF	 (1u << 20)
#define SNAPLEN	 65535
#define PROGRESS 1000000

struct vg_pktgen {
	const struct vg_pktgen_opts *o;
	struct vg_pktgen_plan plan;
	struct vg_pktgen_filler filler;
	uint64_t base;		     /* every flow has base packets ... */
	uint32_t rem;		     /* ... and flows [0, rem) one more */
	uint32_t *sent;		     /* per flow and direction: payload bytes written so far */
	uint32_t *next;		     /* shuffle: per flow, index of its next packet */
	uint32_t *active;	     /* shuffle: flows with packets left */
	struct vg_pktgen_http *http; /* --app http: the conversations... */
	struct vg_pktgen_http_cursor *cursor; /* ...where each flow stands in its own */
	uint32_t *n_packets;		      /* ...and its packets */
	struct vg_pktgen_dns dns;	      /* --app dns: the queries */
	uint32_t max_packets;
	uint16_t *slots; /* one block of data-packet sizes, shuffled */
	uint32_t n_slots;
	uint32_t slot_pos;
	struct vg_xoshiro size_rng;
	struct vg_xoshiro order_rng;
	pcap_dumper_t *dumper;
	uint64_t n_written;
	uint64_t total;
	struct vg_pktgen_summary sum;
	uint8_t frame[VG_PKTGEN_FRAME_MAX];
	uint8_t payload[VG_PKTGEN_HTTP_MSS_MAX];
};

uint64_t
vg_pktgen_total_packets(const struct vg_pktgen_opts *o)
{
	return o->packets != 0 ? o->packets : o->per_flow * o->flows;
}

/* Each flow's conversation decides its packets: count them once, before writing. */
static int
http_init(struct vg_pktgen *g)
{
	const struct vg_pktgen_opts *o = g->o;

	g->http = vg_pktgen_http_create(o, &g->filler);
	g->cursor = calloc(o->flows, sizeof(*g->cursor));
	g->n_packets = malloc((size_t)o->flows * sizeof(*g->n_packets));
	if (g->http == NULL || g->cursor == NULL || g->n_packets == NULL)
		return -ENOMEM;
	g->total = 0;
	for (uint32_t i = 0; i < o->flows; i++) {
		struct vg_pktgen_flow f;

		vg_pktgen_flow_get(&g->plan, i, &f);
		g->n_packets[i] = vg_pktgen_http_packets(g->http, &f);
		g->total += g->n_packets[i];
		if (g->n_packets[i] > g->max_packets)
			g->max_packets = g->n_packets[i];
	}
	return 0;
}

struct vg_pktgen *
vg_pktgen_create(const struct vg_pktgen_opts *o, struct vg_diag *d)
{
	struct vg_pktgen *g = calloc(1, sizeof(*g));
	uint32_t w = 0;
	char msg[256];
	int rc;

	if (g == NULL)
		return NULL;
	g->o = o;
	vg_pktgen_plan_init(&g->plan, o);
	g->total = vg_pktgen_total_packets(o);
	g->base = g->total / o->flows;
	g->rem = (uint32_t)(g->total % o->flows);
	g->sent = calloc((size_t)o->flows * 2, sizeof(*g->sent));
	if (g->sent == NULL)
		goto nomem;
	if (o->order == VG_PKTGEN_SHUFFLE) {
		g->next = calloc(o->flows, sizeof(*g->next));
		g->active = malloc((size_t)o->flows * sizeof(*g->active));
		if (g->next == NULL || g->active == NULL)
			goto nomem;
	}
	for (unsigned i = 0; i < o->n_sizes; i++)
		w += o->sizes[i].weight;
	g->slots = malloc(w * sizeof(*g->slots));
	if (g->slots == NULL)
		goto nomem;
	for (unsigned i = 0, k = 0; i < o->n_sizes; i++)
		for (unsigned r = 0; r < o->sizes[i].weight; r++)
			g->slots[k++] = o->sizes[i].size;
	g->n_slots = w;
	g->slot_pos = w; /* shuffle before the first use */
	vg_xoshiro_seed(&g->size_rng, vg_hash2(o->seed, 0x73697a65, 0));
	vg_xoshiro_seed(&g->order_rng, vg_hash2(o->seed, 0x6f726472, 0));

	rc = vg_pktgen_filler_init(
			&g->filler, o->seed, o->patterns, o->n_patterns, msg, sizeof(msg));
	if (rc == -EINVAL) {
		vg_diag_add(d, VG_SEV_ERROR, PROG, 0, 0, "--match-pattern/--match-file: %s", msg);
		vg_pktgen_free(g);
		errno = EINVAL;
		return NULL;
	}
	if (rc < 0)
		goto nomem;
	if (o->app == VG_PKTGEN_APP_HTTP && http_init(g) < 0)
		goto nomem;
	if (o->app == VG_PKTGEN_APP_DNS)
		vg_pktgen_dns_init(&g->dns, o->seed);
	return g;
nomem:
	vg_pktgen_free(g);
	errno = ENOMEM;
	return NULL;
}

void
vg_pktgen_free(struct vg_pktgen *g)
{
	if (g == NULL)
		return;
	vg_pktgen_filler_free(&g->filler);
	vg_pktgen_http_free(g->http);
	free(g->cursor);
	free(g->n_packets);
	free(g->sent);
	free(g->next);
	free(g->active);
	free(g->slots);
	free(g);
}

/* Frame size (FCS included) of the next data packet. */
static uint16_t
next_size(struct vg_pktgen *g)
{
	if (g->slot_pos == g->n_slots) {
		/* Fisher-Yates over one block: exact proportions, seeded order. */
		for (uint32_t i = g->n_slots - 1; i > 0; i--) {
			uint32_t j = (uint32_t)vg_xoshiro_below(&g->size_rng, (uint64_t)i + 1);
			uint16_t t = g->slots[i];

			g->slots[i] = g->slots[j];
			g->slots[j] = t;
		}
		g->slot_pos = 0;
	}
	return g->slots[g->slot_pos++];
}

static inline uint64_t
flow_packets(const struct vg_pktgen *g, uint32_t i)
{
	if (g->n_packets != NULL)
		return g->n_packets[i];
	return g->base + (i < g->rem);
}

/*
 * Progress for big files: checked at every 1% of the packets, printed at most once a second so
 * that fast runs stay quiet and slow ones (10M flows on a busy machine) show they are moving.
 */
struct progress {
	FILE *out;
	struct timespec t0;
	double last;
	uint64_t step, mark, last_n;
};

static double
elapsed(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
progress_line(const struct vg_pktgen *g, struct progress *pr, double s)
{
	fprintf(pr->out, PROG ": %3.0f%% %llu/%llu packets, %.1f s\n",
			100.0 * (double)g->n_written / (double)g->total,
			(unsigned long long)g->n_written, (unsigned long long)g->total, s);
	fflush(pr->out);
	pr->last = s;
	pr->last_n = g->n_written;
}

static inline void
progress_tick(const struct vg_pktgen *g, struct progress *pr)
{
	double s;

	if (pr->out == NULL || g->n_written != pr->mark)
		return;
	pr->mark += pr->step;
	s = elapsed(&pr->t0);
	if (s - pr->last >= 1.0)
		progress_line(g, pr, s);
}

/* Build and write packet j of flow i. */
static void
emit(struct vg_pktgen *g, uint32_t i, uint64_t j)
{
	const struct vg_pktgen_opts *o = g->o;
	uint64_t k = flow_packets(g, i);
	uint32_t *sent = &g->sent[(size_t)i * 2];
	struct vg_pktgen_seg s = { 0 };
	struct vg_pktgen_flow f;
	struct pcap_pkthdr ph;
	bool data = true;
	uint64_t t = j, ts;
	size_t hdr, payload = 0, len;

	vg_pktgen_flow_get(&g->plan, i, &f);
	if (j == 0) {
		g->sum.flows++;
		g->sum.matching_flows += f.match;
		g->sum.denied_flows += f.deny;
		g->sum.v6_flows += f.v6;
		g->sum.proto_flows[f.proto]++;
		if (g->http != NULL) {
			g->sum.http_requests += vg_pktgen_http_requests(g->http, &f);
			g->sum.http_keepalive_flows += vg_pktgen_http_keepalive(g->http, &f);
		}
		if (o->app == VG_PKTGEN_APP_DNS) {
			g->sum.dns_queries++;
			g->sum.dns_long_names += vg_pktgen_dns_name_len(&g->dns, &f) >
						 VG_PKTGEN_DNS_LONG_NAME;
		}
	}

	if (g->http != NULL) {
		payload = vg_pktgen_http_next(g->http, &f, &g->cursor[i], sent, &s, g->payload);
		hdr = vg_pktgen_hdr_len(&f, o->vlan >= 0, s.mss);
		memcpy(g->frame + hdr, g->payload, payload);
		s.ip_id = (uint16_t)(f.ipid[s.dir] + j);
		data = false;
		goto finish;
	}
	if (o->app == VG_PKTGEN_APP_DNS) {
		/* Two packets a flow: the query, then its answer. */
		s.dir = (uint8_t)(j & 1);
		s.ip_id = (uint16_t)(f.ipid[s.dir] + j);
		hdr = vg_pktgen_hdr_len(&f, o->vlan >= 0, false);
		payload = vg_pktgen_dns_message(&g->dns, &f, s.dir, g->frame + hdr);
		data = false;
		goto finish;
	}
	if (f.proto == VG_PKTGEN_TCP && o->tcp_mode == VG_PKTGEN_HANDSHAKE) {
		uint32_t c = f.isn[0] + 1 + sent[0], sv = f.isn[1] + 1 + sent[1];

		data = false;
		if (j == 0) {
			s = (struct vg_pktgen_seg){
				.dir = 0, .tcp_flags = VG_TCP_SYN, .mss = true, .seq = f.isn[0]
			};
		} else if (j == 1) {
			s = (struct vg_pktgen_seg){ .dir = 1,
				.tcp_flags = VG_TCP_SYN | VG_TCP_ACK,
				.mss = true,
				.seq = f.isn[1],
				.ack = f.isn[0] + 1 };
		} else if (j == 2) {
			s = (struct vg_pktgen_seg){
				.dir = 0, .tcp_flags = VG_TCP_ACK, .seq = c, .ack = sv
			};
		} else if (o->close && j == k - 3) {
			s = (struct vg_pktgen_seg){
				.dir = 0, .tcp_flags = VG_TCP_FIN | VG_TCP_ACK, .seq = c, .ack = sv
			};
		} else if (o->close && j == k - 2) {
			s = (struct vg_pktgen_seg){ .dir = 1,
				.tcp_flags = VG_TCP_FIN | VG_TCP_ACK,
				.seq = sv,
				.ack = c + 1 };
		} else if (o->close && j == k - 1) {
			s = (struct vg_pktgen_seg){
				.dir = 0, .tcp_flags = VG_TCP_ACK, .seq = c + 1, .ack = sv + 1
			};
		} else {
			data = true;
			t = j - 3;
		}
	}
	if (data) {
		s.dir = (uint8_t)(t & 1);
		if (f.proto == VG_PKTGEN_TCP) {
			s.tcp_flags = VG_TCP_PSH | VG_TCP_ACK;
			s.seq = f.isn[s.dir] + 1 + sent[s.dir];
			s.ack = f.isn[!s.dir] + 1 + sent[!s.dir];
		}
		s.icmp_seq = (uint16_t)(t / 2 + 1);
	}
	s.ip_id = (uint16_t)(f.ipid[s.dir] + j);

	hdr = vg_pktgen_hdr_len(&f, o->vlan >= 0, s.mss);
	if (data) {
		size_t want = next_size(g) - VG_PKTGEN_FCS_LEN;
		const struct vg_pktgen_pattern *pat = f.match ? &o->patterns[f.pattern] : NULL;
		bool carry = pat != NULL && t == 0;

		/* A data packet keeps at least one payload byte even when the headers alone exceed
		 * the size asked for (IPv6 TCP at 64 bytes), and grows to hold its pattern. */
		payload = want > hdr ? want - hdr : 1;
		if (carry && payload < pat->len)
			payload = pat->len;
		vg_pktgen_filler_copy(
				&g->filler, g->frame + hdr, f.fill[s.dir] + sent[s.dir], payload);
		if (carry)
			memcpy(g->frame + hdr + vg_below(f.offset_hash, payload - pat->len + 1),
					pat->bytes, pat->len);
		sent[s.dir] += (uint32_t)payload;
	}
finish:
	len = vg_pktgen_frame_finish(g->frame, &f, &s, o->vlan, payload);

	ts = o->ts_start_us + g->n_written * o->ts_step_us;
	ph.ts.tv_sec = (time_t)(ts / 1000000);
	ph.ts.tv_usec = (suseconds_t)(ts % 1000000);
	ph.caplen = (bpf_u_int32)len;
	ph.len = (bpf_u_int32)len;
	pcap_dump((u_char *)g->dumper, &ph, g->frame);
	g->n_written++;
	g->sum.bytes += len;
}

/* A full disk should stop a 10-million-flow run early, not after writing nothing for minutes. */
static bool
write_failed(const struct vg_pktgen *g)
{
	return (g->n_written & 0xffff) == 0 && ferror(pcap_dump_file(g->dumper));
}

static void
write_rr(struct vg_pktgen *g, struct progress *pr)
{
	uint64_t rounds = g->base + (g->rem > 0);

	if (g->n_packets != NULL) {
		/* Conversations differ in length: a round skips the flows already done. */
		for (uint32_t r = 0; r < g->max_packets; r++)
			for (uint32_t i = 0; i < g->o->flows; i++) {
				if (r >= g->n_packets[i])
					continue;
				emit(g, i, r);
				progress_tick(g, pr);
				if (write_failed(g))
					return;
			}
		return;
	}

	for (uint64_t r = 0; r < rounds; r++) {
		uint32_t nf = r < g->base ? g->o->flows : g->rem;

		for (uint32_t i = 0; i < nf; i++) {
			emit(g, i, r);
			progress_tick(g, pr);
			if (write_failed(g))
				return;
		}
	}
}

static void
write_shuffle(struct vg_pktgen *g, struct progress *pr)
{
	uint32_t n_active = g->o->flows;

	for (uint32_t i = 0; i < n_active; i++)
		g->active[i] = i;
	while (n_active > 0) {
		uint32_t r = (uint32_t)vg_xoshiro_below(&g->order_rng, n_active);
		uint32_t i = g->active[r];

		emit(g, i, g->next[i]);
		if (++g->next[i] == flow_packets(g, i))
			g->active[r] = g->active[--n_active];
		progress_tick(g, pr);
		if (write_failed(g))
			return;
	}
}

int
vg_pktgen_write(struct vg_pktgen *g, FILE *progress, struct vg_pktgen_summary *s, struct vg_diag *d)
{
	const char *path = g->o->output;
	struct progress pr = { .out = progress };
	pcap_t *pd;
	FILE *f;
	int rc = 0;

	pd = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	if (pd == NULL)
		return -ENOMEM;
	f = fopen(path, "wb");
	if (f == NULL) {
		rc = -errno;
		vg_diag_add(d, VG_SEV_ERROR, path, 0, 0, "cannot create: %s", strerror(errno));
		pcap_close(pd);
		return rc;
	}
	/* Large stdio buffer: two small fwrite calls per packet otherwise dominate. */
	setvbuf(f, NULL, _IOFBF, IOBUF);
	g->dumper = pcap_dump_fopen(pd, f);
	if (g->dumper == NULL) {
		vg_diag_add(d, VG_SEV_ERROR, path, 0, 0, "cannot start a pcap: %s",
				pcap_geterr(pd));
		fclose(f);
		unlink(path);
		pcap_close(pd);
		return -EIO;
	}
	if (g->total < PROGRESS)
		pr.out = NULL;
	pr.step = g->total / 100;
	pr.mark = pr.step;
	clock_gettime(CLOCK_MONOTONIC, &pr.t0);
	if (g->o->order == VG_PKTGEN_SHUFFLE)
		write_shuffle(g, &pr);
	else
		write_rr(g, &pr);
	if (pr.out != NULL && pr.last_n > 0 && pr.last_n != g->n_written)
		progress_line(g, &pr, elapsed(&pr.t0));

	if (fflush(f) != 0 || ferror(f)) {
		rc = -(errno != 0 ? errno : EIO);
		vg_diag_add(d, VG_SEV_ERROR, path, 0, 0, "write failed: %s", strerror(-rc));
	}
	pcap_dump_close(g->dumper); /* closes f */
	g->dumper = NULL;
	pcap_close(pd);
	if (rc < 0) {
		unlink(path); /* a truncated capture must not pass for a benchmark input */
		return rc;
	}
	*s = g->sum;
	s->packets = g->n_written;
	return 0;
}
