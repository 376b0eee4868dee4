/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_pktgen_http.h"
#include "vg_rng.h"

#define MSS_V4	 1460 /* what the SYN announces (vg_pktgen_frame.c) */
#define MSS_V6	 1440
#define REQ_MAX	 MSS_V6 /* a request always fits one segment */
#define HEAD_MAX 1024
#define TEXT_LEN VG_PKTGEN_FILLER_LEN

/* Purposes of the keys derived from the seed; changing them changes every file. */
enum {
	KEY_HTTP = 0x68747470,
	KEY_KEEP,
	KEY_TEXT,
};

enum phase {
	PH_SYN,
	PH_SYNACK,
	PH_ACK,
	PH_REQ,
	PH_RESP,
	PH_FIN1, /* the closer's FIN */
	PH_FIN2, /* the other side's FIN */
	PH_LAST, /* the closer's ACK */
	PH_DONE,
};

enum kind {
	K_PAGE,
	K_STATIC,
	K_API,
	K_POST,
};

struct vg_pktgen_http {
	const struct vg_pktgen_filler *bin;
	uint8_t *text;
	uint64_t key;
	struct vg_pktgen_perm keep;
	uint32_t n_keep;
	uint32_t max_req;
	char date[40];
};

static const char *const host_prefixes[] = { "www", "api", "cdn", "static", "img", "shop", "news",
	"blog", "mail", "login", "app", "m", "docs", "portal", "media", "search" };
static const char *const host_domains[] = { "example.com", "example.net", "example.org",
	"example.edu", "acme-corp.example", "globex.example", "initech.example",
	"contoso.example" };
static const char *const user_agents[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	"Version/17.2 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
	"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
	"Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.6099.144 Mobile Safari/537.36",
	"curl/8.5.0",
	"python-requests/2.31.0",
};
static const char *const languages[] = { "en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8",
	"fr-FR,fr;q=0.8,en-US;q=0.5", "en-GB,en;q=0.7", "es-ES,es;q=0.9", "ja-JP,ja;q=0.9" };
static const char *const servers[] = { "nginx/1.24.0", "Apache/2.4.58 (Debian)", "nginx",
	"Microsoft-IIS/10.0", "openresty/1.21.4.3", "lighttpd/1.4.73" };
static const char *const words[] = { "about", "account", "alpha", "archive", "article", "blue",
	"book", "camera", "cart", "city", "cloud", "coffee", "data", "delta", "design", "event",
	"field", "forest", "garden", "green", "guide", "health", "home", "house", "image", "island",
	"journal", "kitchen", "light", "local", "market", "media", "metro", "music", "news",
	"north", "ocean", "office", "orange", "paper", "photo", "plan", "press", "price", "river",
	"road", "school", "science", "season", "shop", "silver", "sport", "spring", "story",
	"stream", "summer", "table", "travel", "valley", "video", "water", "weather", "winter",
	"world" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A growing text that never overruns its buffer (its users' sizes are bounded by design). */
struct sb {
	char *p;
	size_t n, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (w > 0)
		b->n += (size_t)w < b->cap - b->n ? (size_t)w : b->cap - b->n - 1;
}

static inline uint32_t
pick(struct vg_xoshiro *r, uint64_t n)
{
	return (uint32_t)vg_xoshiro_below(r, n);
}

/* Index of the first cumulative weight above a draw: weights sum to total. */
static unsigned
pick_weighted(struct vg_xoshiro *r, const unsigned *w, unsigned n)
{
	unsigned total = 0, x;

	for (unsigned i = 0; i < n; i++)
		total += w[i];
	x = pick(r, total);
	for (unsigned i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

static inline const char *
word(struct vg_xoshiro *r)
{
	return words[pick(r, N(words))];
}

/* What the whole flow shares: who the client is and which site it talks to. */
struct conv {
	uint32_t n_req;
	bool keepalive;
	const char *prefix, *domain, *ua, *lang, *server;
	bool cookie;
	uint64_t sid;
	const char *theme;
};

static void
conv_get(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f, struct conv *cv)
{
	struct vg_xoshiro r;

	vg_xoshiro_seed(&r, vg_hash2(h->key, f->index, 0));
	cv->keepalive = vg_pktgen_perm_apply(&h->keep, f->index) < h->n_keep;
	cv->n_req = cv->keepalive ? 2 + pick(&r, h->max_req - 1) : 1;
	cv->prefix = host_prefixes[pick(&r, N(host_prefixes))];
	cv->domain = host_domains[pick(&r, N(host_domains))];
	cv->ua = user_agents[pick(&r, N(user_agents))];
	cv->lang = languages[pick(&r, N(languages))];
	cv->server = servers[pick(&r, N(servers))];
	cv->cookie = pick(&r, 10) < 3;
	cv->sid = vg_xoshiro_next(&r);
	cv->theme = word(&r);
}

/* One request and its response: the texts, and where the response body comes from. */
struct exch {
	char req[REQ_MAX];
	size_t req_len;
	char head[HEAD_MAX];
	size_t head_len;
	uint32_t body_len;
	uint32_t body_pos;
	bool body_text;
};

/* Body sizes: [lo, hi) classes with weights, so that responses span one to ~34 segments. */
struct size_class {
	uint32_t lo, hi;
	unsigned weight;
};

static const struct size_class page_sizes[] = {
	{ 0, 256, 2 },
	{ 256, 1280, 4 },
	{ 1280, 8192, 3 },
	{ 8192, 32768, 1 },
};
static const struct size_class api_sizes[] = {
	{ 2, 256, 3 },
	{ 256, 1280, 2 },
};

static uint32_t
body_size(struct vg_xoshiro *r, const struct size_class *c, unsigned n)
{
	unsigned w[8];

	for (unsigned i = 0; i < n; i++)
		w[i] = c[i].weight;
	c += pick_weighted(r, w, n);
	return c->lo + pick(r, c->hi - c->lo);
}

static const char *
reason(unsigned status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	default:
		return "Not Found";
	}
}

/*
 * Request k of flow f and its response. Every choice comes from a generator seeded by the flow
 * and k, so asking again (once per segment) gives the same bytes.
 */
static void
exchange(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f, const struct conv *cv,
		uint32_t k, struct exch *x)
{
	static const unsigned first_kinds[] = { 50, 20, 20, 10 };
	static const unsigned later_kinds[] = { 20, 55, 15, 10 };
	struct sb rq = { x->req, 0, sizeof(x->req) }, hd = { x->head, 0, sizeof(x->head) };
	char path[160], form[160] = "", location[96] = "", host[64];
	struct sb p = { path, 0, sizeof(path) }, fm = { form, 0, sizeof(form) };
	const char *accept, *ctype, *method = "GET";
	unsigned kind, status = 200, variant;
	bool cache = false, set_cookie = false;
	struct vg_xoshiro r;

	vg_xoshiro_seed(&r, vg_hash2(h->key, f->index, (uint64_t)k + 1));
	kind = pick_weighted(&r, k == 0 ? first_kinds : later_kinds, 4);
	x->body_text = true;
	switch (kind) {
	case K_PAGE:
		variant = pick(&r, 7);
		if (variant == 0)
			sb_printf(&p, "/");
		else if (variant == 1)
			sb_printf(&p, "/index.html");
		else if (variant == 2)
			sb_printf(&p, "/%s/", word(&r));
		else if (variant == 3)
			sb_printf(&p, "/%s/%s-%u.html", word(&r), word(&r), 1 + pick(&r, 9999));
		else if (variant == 4)
			sb_printf(&p, "/news/%u/%02u/%s-%s-%u", 2015 + pick(&r, 9),
					1 + pick(&r, 12), word(&r), word(&r), 1 + pick(&r, 99999));
		else if (variant == 5)
			sb_printf(&p, "/search?q=%s+%s&page=%u", word(&r), word(&r),
					1 + pick(&r, 20));
		else
			sb_printf(&p, "/products/%s?id=%u&ref=%s", word(&r), 1 + pick(&r, 99999),
					word(&r));
		accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
		ctype = "text/html; charset=utf-8";
		variant = pick(&r, 100);
		status = variant < 88 ? 200 : variant < 94 ? 404 : 301;
		if (status == 301)
			snprintf(location, sizeof(location), "/%s/%s/", word(&r), word(&r));
		x->body_len = status == 200 ? body_size(&r, page_sizes, N(page_sizes))
					    : 120 + pick(&r, 280);
		break;
	case K_STATIC:
		variant = pick(&r, 6);
		cache = true;
		accept = "*/*";
		if (variant == 0) {
			sb_printf(&p, "/static/js/%s.%08x.js", word(&r),
					(unsigned)vg_xoshiro_next(&r));
			ctype = "application/javascript";
		} else if (variant == 1) {
			sb_printf(&p, "/static/css/%s.%08x.css", word(&r),
					(unsigned)vg_xoshiro_next(&r));
			accept = "text/css,*/*;q=0.1";
			ctype = "text/css";
		} else if (variant == 2) {
			sb_printf(&p, "/images/%s-%u.jpg", word(&r), 1 + pick(&r, 999));
			ctype = "image/jpeg";
		} else if (variant == 3) {
			sb_printf(&p, "/img/%s.png", word(&r));
			ctype = "image/png";
		} else if (variant == 4) {
			sb_printf(&p, "/favicon.ico");
			ctype = "image/x-icon";
		} else {
			sb_printf(&p, "/fonts/%s.woff2", word(&r));
			ctype = "font/woff2";
		}
		if (variant >= 2) {
			accept = "image/avif,image/webp,image/apng,*/*;q=0.8";
			x->body_text = false;
		}
		status = pick(&r, 100) < 96 ? 200 : 404;
		if (status == 404) {
			ctype = "text/html; charset=utf-8";
			x->body_text = true;
			cache = false;
		}
		x->body_len = status == 200 ? body_size(&r, page_sizes, N(page_sizes))
					    : 120 + pick(&r, 280);
		break;
	case K_API:
		variant = pick(&r, 3);
		if (variant == 0)
			sb_printf(&p, "/api/v1/%ss/%u", word(&r), 1 + pick(&r, 99999));
		else if (variant == 1)
			sb_printf(&p, "/api/v2/%s?limit=%u&offset=%u", word(&r), 10 + pick(&r, 90),
					pick(&r, 1000));
		else
			sb_printf(&p, "/api/v1/%s/%s?fields=%s,%s", word(&r), word(&r), word(&r),
					word(&r));
		accept = "application/json, text/plain, */*";
		ctype = "application/json";
		x->body_len = body_size(&r, api_sizes, N(api_sizes));
		break;
	default:
		method = "POST";
		variant = pick(&r, 3);
		accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
		if (variant == 0) {
			sb_printf(&p, "/login");
			sb_printf(&fm, "username=%s%u&password=%s%s%u&remember=1", word(&r),
					pick(&r, 1000), word(&r), word(&r), pick(&r, 100000));
			status = 302;
			set_cookie = true;
			snprintf(location, sizeof(location), "/account/");
			ctype = "text/html; charset=utf-8";
			x->body_len = 120 + pick(&r, 280);
		} else if (variant == 1) {
			sb_printf(&p, "/api/v1/%ss", word(&r));
			sb_printf(&fm, "name=%s&value=%u&tags=%s%%2C%s", word(&r), pick(&r, 100000),
					word(&r), word(&r));
			accept = "application/json, text/plain, */*";
			status = 201;
			ctype = "application/json";
			x->body_len = body_size(&r, api_sizes, N(api_sizes));
		} else {
			sb_printf(&p, "/comment");
			sb_printf(&fm, "post=%u&author=%s&text=%s+%s+%s+%s", 1 + pick(&r, 99999),
					word(&r), word(&r), word(&r), word(&r), word(&r));
			ctype = "text/html; charset=utf-8";
			x->body_len = body_size(&r, page_sizes, 2);
		}
		break;
	}
	x->body_pos = (uint32_t)vg_xoshiro_next(&r);

	if (f->sport == 80)
		snprintf(host, sizeof(host), "%s.%s", cv->prefix, cv->domain);
	else
		snprintf(host, sizeof(host), "%s.%s:%u", cv->prefix, cv->domain, f->sport);
	sb_printf(&rq, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: %s\r\n", method,
			path, host, cv->ua, accept);
	sb_printf(&rq, "Accept-Language: %s\r\nAccept-Encoding: gzip, deflate\r\n", cv->lang);
	if (k > 0)
		sb_printf(&rq, "Referer: http://%s/\r\n", host);
	if (cv->cookie)
		sb_printf(&rq, "Cookie: sid=%016llx; theme=%s\r\n", (unsigned long long)cv->sid,
				cv->theme);
	if (fm.n > 0)
		sb_printf(&rq,
				"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
				"%zu\r\n",
				fm.n);
	sb_printf(&rq, "Connection: %s\r\n\r\n%s", cv->keepalive ? "keep-alive" : "close", form);
	x->req_len = rq.n;

	sb_printf(&hd, "HTTP/1.1 %u %s\r\nDate: %s\r\nServer: %s\r\nContent-Type: %s\r\n", status,
			reason(status), h->date, cv->server, ctype);
	sb_printf(&hd, "Content-Length: %u\r\n", x->body_len);
	if (location[0] != '\0')
		sb_printf(&hd, "Location: http://%s%s\r\n", host, location);
	if (set_cookie)
		sb_printf(&hd, "Set-Cookie: sid=%016llx; Path=/; HttpOnly\r\n",
				(unsigned long long)vg_xoshiro_next(&r));
	if (cache)
		sb_printf(&hd, "Cache-Control: public, max-age=86400\r\nETag: \"%08x\"\r\n",
				(unsigned)vg_xoshiro_next(&r));
	sb_printf(&hd, "Connection: %s\r\n\r\n", cv->keepalive ? "keep-alive" : "close");
	x->head_len = hd.n;
}

/* Bytes [off, off + n) of the response: its head, then its body from the text or random block. */
static void
response_bytes(const struct vg_pktgen_http *h, const struct exch *x, uint32_t off, size_t n,
		uint8_t *dst)
{
	if (off < x->head_len) {
		size_t c = x->head_len - off < n ? x->head_len - off : n;

		memcpy(dst, x->head + off, c);
		dst += c;
		n -= c;
		off += (uint32_t)c;
	}
	if (n == 0)
		return;
	off = x->body_pos + (off - (uint32_t)x->head_len);
	if (!x->body_text) {
		vg_pktgen_filler_copy(h->bin, dst, off, n);
		return;
	}
	while (n > 0) {
		size_t at = off % TEXT_LEN, c = TEXT_LEN - at < n ? TEXT_LEN - at : n;

		memcpy(dst, h->text + at, c);
		dst += c;
		n -= c;
		off += (uint32_t)c;
	}
}

/* Words, sentences and paragraph tags: what a text body looks like to a content matcher. */
static int
text_init(struct vg_pktgen_http *h, uint64_t seed)
{
	struct vg_xoshiro r;
	size_t n = 0;
	unsigned in_sentence = 0, in_par = 0;

	h->text = malloc(TEXT_LEN);
	if (h->text == NULL)
		return -ENOMEM;
	vg_xoshiro_seed(&r, vg_hash2(seed, KEY_TEXT, 0));
	while (n < TEXT_LEN) {
		char piece[32];
		int w;

		if (in_par == 0 && in_sentence == 0)
			w = snprintf(piece, sizeof(piece), "<p>%s", word(&r));
		else
			w = snprintf(piece, sizeof(piece), " %s", word(&r));
		if (++in_sentence >= 5 + pick(&r, 10)) {
			in_sentence = 0;
			if (++in_par >= 3 + pick(&r, 4)) {
				in_par = 0;
				w += snprintf(piece + w, sizeof(piece) - (size_t)w, ".</p>\n");
			} else {
				w += snprintf(piece + w, sizeof(piece) - (size_t)w, ".");
			}
		}
		for (int i = 0; i < w && n < TEXT_LEN; i++)
			h->text[n++] = (uint8_t)piece[i];
	}
	return 0;
}

struct vg_pktgen_http *
vg_pktgen_http_create(const struct vg_pktgen_opts *o, const struct vg_pktgen_filler *bin)
{
	struct vg_pktgen_http *h = calloc(1, sizeof(*h));
	uint64_t seedkey = vg_mix64(o->seed ^ 0x7067656e);
	time_t t = (time_t)(o->ts_start_us / 1000000);
	struct tm tm;

	if (h == NULL)
		return NULL;
	h->bin = bin;
	h->key = vg_hash2(seedkey, KEY_HTTP, 0);
	h->max_req = o->requests;
	h->n_keep = o->requests >= 2 ? vg_pktgen_share_count(o->keepalive_share, o->flows) : 0;
	vg_pktgen_perm_init(&h->keep, o->flows, vg_hash2(seedkey, KEY_KEEP, 0));
	/* Date headers tell the capture's start; strftime in the C locale (never set here). */
	if (gmtime_r(&t, &tm) == NULL ||
			strftime(h->date, sizeof(h->date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		snprintf(h->date, sizeof(h->date), "Tue, 14 Nov 2023 22:13:20 GMT");
	if (text_init(h, o->seed) < 0) {
		vg_pktgen_http_free(h);
		errno = ENOMEM;
		return NULL;
	}
	return h;
}

void
vg_pktgen_http_free(struct vg_pktgen_http *h)
{
	if (h == NULL)
		return;
	free(h->text);
	free(h);
}

uint32_t
vg_pktgen_http_requests(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f)
{
	struct conv cv;

	conv_get(h, f, &cv);
	return cv.n_req;
}

bool
vg_pktgen_http_keepalive(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f)
{
	return vg_pktgen_perm_apply(&h->keep, f->index) < h->n_keep;
}

static inline uint32_t
mss_of(const struct vg_pktgen_flow *f)
{
	return f->v6 ? MSS_V6 : MSS_V4;
}

uint32_t
vg_pktgen_http_packets(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f)
{
	uint32_t n = 6, mss = mss_of(f); /* handshake and teardown */
	struct conv cv;
	struct exch x;

	conv_get(h, f, &cv);
	for (uint32_t k = 0; k < cv.n_req; k++) {
		uint32_t segs;

		exchange(h, f, &cv, k, &x);
		segs = (uint32_t)((x.head_len + x.body_len + mss - 1) / mss);
		n += 1 + segs + (segs + 1) / 2; /* request, segments, the client's ACKs */
	}
	return n;
}

size_t
vg_pktgen_http_next(const struct vg_pktgen_http *h, const struct vg_pktgen_flow *f,
		struct vg_pktgen_http_cursor *c, uint32_t sent[2], struct vg_pktgen_seg *s,
		uint8_t *payload)
{
	uint32_t mss = mss_of(f), fin[2] = { 0, 0 };
	size_t len = 0;
	struct conv cv;
	struct exch x;
	unsigned closer;

	conv_get(h, f, &cv);
	closer = cv.keepalive ? 0 : 1;
	memset(s, 0, sizeof(*s));
	s->tcp_flags = VG_TCP_ACK;
	switch (c->phase) {
	case PH_SYN:
		*s = (struct vg_pktgen_seg){
			.dir = 0, .tcp_flags = VG_TCP_SYN, .mss = true, .seq = f->isn[0]
		};
		c->phase = PH_SYNACK;
		return 0;
	case PH_SYNACK:
		*s = (struct vg_pktgen_seg){ .dir = 1,
			.tcp_flags = VG_TCP_SYN | VG_TCP_ACK,
			.mss = true,
			.seq = f->isn[1],
			.ack = f->isn[0] + 1 };
		c->phase = PH_ACK;
		return 0;
	case PH_ACK:
		c->phase = PH_REQ;
		break;
	case PH_REQ:
		exchange(h, f, &cv, c->req, &x);
		s->tcp_flags |= VG_TCP_PSH;
		memcpy(payload, x.req, x.req_len);
		len = x.req_len;
		c->phase = PH_RESP;
		c->off = 0;
		c->unacked = 0;
		break;
	case PH_RESP: {
		uint32_t total;

		exchange(h, f, &cv, c->req, &x);
		total = (uint32_t)x.head_len + x.body_len;
		if (c->unacked == 2 || (c->off == total && c->unacked > 0)) {
			/* Delayed ACK: every second segment, and the last one of a response. */
			c->unacked = 0;
			if (c->off == total)
				c->phase = ++c->req < cv.n_req ? PH_REQ : PH_FIN1;
			break;
		}
		s->dir = 1;
		len = total - c->off < mss ? total - c->off : mss;
		response_bytes(h, &x, c->off, len, payload);
		c->off += (uint32_t)len;
		c->unacked++;
		if (c->off == total)
			s->tcp_flags |= VG_TCP_PSH;
		break;
	}
	case PH_FIN1:
		s->dir = (uint8_t)closer;
		s->tcp_flags |= VG_TCP_FIN;
		c->phase = PH_FIN2;
		break;
	case PH_FIN2:
		s->dir = (uint8_t)!closer;
		s->tcp_flags |= VG_TCP_FIN;
		fin[closer] = 1;
		c->phase = PH_LAST;
		break;
	default: /* PH_LAST; a call after the last packet repeats it */
		s->dir = (uint8_t)closer;
		fin[0] = fin[1] = 1;
		c->phase = PH_DONE;
		break;
	}
	s->seq = f->isn[s->dir] + 1 + sent[s->dir] + fin[s->dir];
	s->ack = f->isn[!s->dir] + 1 + sent[!s->dir] + fin[!s->dir];
	sent[s->dir] += (uint32_t)len;
	return len;
}
