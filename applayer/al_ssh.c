/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SSH: banners and KEXINIT (HASSH) of each side, as Suricata's rust/src/ssh parses them; see
 * al_ssh.h for what each buffer holds. Each direction runs on its own: banner lines, then
 * packet headers whose bodies are skipped but for the first KEXINIT, collected whole to be
 * parsed, then nothing once the side sent NEWKEYS.
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "al_impl.h"
#include "al_line.h"
#include "al_ssh.h"

#define SSH_MAX_BANNER	256u	     /* Suricata's SSH_MAX_BANNER_LEN: longer is long_banner */
#define SSH_MAX_PACKET	(256u << 10) /* generous: RFC 4253 §6.1 asks for 35000 at least */
#define SSH_MAX_KEX	65535u	     /* Suricata's SSH_MAX_REASSEMBLED_RECORD_LEN */
#define SSH_HDR		6u	     /* packet_length (4), padding_length (1), message code (1) */
#define SSH_MSG_KEXINIT 20
#define SSH_MSG_NEWKEYS 21
#define SSH_KEX_LISTS	10u /* name-lists of a KEXINIT, RFC 4253 §7.1 */
#define MD5_HEX		32u

enum ssh_phase {
	PH_BANNER,  /* lines up to the identification banner */
	PH_RECORDS, /* binary packets in clear */
	PH_OPAQUE,  /* after NEWKEYS, or an SSH-1 side: nothing more is parsed */
	PH_DEAD,    /* lost: an invalid banner or record, a gap across a header */
};

struct ssh_side {
	struct al_line line;
	uint8_t phase;	 /* enum ssh_phase */
	uint8_t hdr_len; /* bytes of hdr[] received */
	bool kex_seen;	 /* the first KEXINIT started: later ones are skipped */
	bool collecting; /* the current record is that KEXINIT: its body is kept */
	bool kex_broken; /* a gap hit it: no HASSH */
	bool has_sw;	 /* software version not empty */
	bool has_hassh;	 /* hassh[] and hassh_str hold the KEXINIT's */
	uint8_t hdr[SSH_HDR];
	uint32_t body_left; /* bytes of the current record still to come */
	struct al_bytes kex;
	uint8_t *banner; /* a copy of the banner line, "SSH-" included */
	uint32_t proto_off, proto_len, sw_off, sw_len;
	int32_t maj; /* protoversion's major number, -1 when absent */
	struct al_bytes hassh_str;
	char hassh[MD5_HEX];
};

struct ssh_state {
	struct al_tx tx; /* first: al_tx_buf hands it back */
	struct ssh_side side[2];
};

static const char *const ssh_anomaly_names[AL_SSH__ANOMALY_COUNT] = {
	[AL_SSH_INVALID_BANNER] = "invalid_banner",
	[AL_SSH_LONG_BANNER] = "long_banner",
	[AL_SSH_INVALID_RECORD] = "invalid_record",
	[AL_SSH_LONG_KEX_RECORD] = "long_kex_record",
	[AL_SSH_INVALID_KEXINIT] = "invalid_kexinit",
};

static void
anomaly(struct al_ctx *c, struct ssh_state *st, enum al_ssh_anomaly a)
{
	al_anomaly(c, AL_PROTO_SSH, &st->tx, a);
}

static void *
ssh_state_new(struct al_ctx *c, bool tcp)
{
	struct ssh_state *st;

	(void)tcp;
	st = al_alloc(c, sizeof(*st));
	if (st == NULL)
		return NULL;
	memset(st, 0, sizeof(*st));
	st->tx.proto = AL_PROTO_SSH;
	st->side[0].maj = -1;
	st->side[1].maj = -1;
	return st;
}

static void
ssh_state_free(struct al_ctx *c, void *state)
{
	struct ssh_state *st = state;

	for (unsigned d = 0; d < 2; d++) {
		struct ssh_side *s = &st->side[d];

		al_line_free(c, &s->line);
		al_bytes_free(c, &s->kex);
		al_bytes_free(c, &s->hassh_str);
		al_free(c, s->banner);
	}
	al_free(c, st);
}

static unsigned
banner_stage(unsigned dir)
{
	return dir == AL_TO_SERVER ? AL_ST_SSH_CLIENT_BANNER : AL_ST_SSH_SERVER_BANNER;
}

static unsigned
kex_stage(unsigned dir)
{
	return dir == AL_TO_SERVER ? AL_ST_SSH_CLIENT_KEXINIT : AL_ST_SSH_SERVER_KEXINIT;
}

/*
 * The side will report nothing more (it went dead, turned opaque, or closed): the stages it
 * did not reach are final with their buffers absent, so that rules on them (and on the
 * anomalies that stopped it) still run.
 */
static void
side_final(struct ssh_state *st, unsigned dir, const struct al_emit *e)
{
	al_emit(e, &st->tx, banner_stage(dir), dir);
	if (!st->side[dir].collecting)
		al_emit(e, &st->tx, kex_stage(dir), dir);
}

/* The major number of a protoversion: its leading digits; "1.99" speaks 2.0 too. */
static int32_t
proto_major(const uint8_t *p, uint32_t n)
{
	int32_t v = 0;
	uint32_t i;

	if (n == 4 && memcmp(p, "1.99", 4) == 0)
		return 2;
	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		if ((v = v * 10 + (p[i] - '0')) > 0xffff)
			return -1;
	return i > 0 ? v : -1;
}

/*
 * "SSH-protoversion-softwareversion SP comments": as Suricata, protoversion is what comes
 * before the next '-' (at least one byte), the software version what follows up to a space or
 * CR. Returns 0, -EINVAL for no banner, -ENOMEM.
 */
static int
parse_banner(struct al_ctx *c, struct ssh_side *s, const struct al_line_out *l)
{
	const uint8_t *p = l->p + 4;
	uint32_t n = l->len - 4, i, j;

	for (i = 0; i < n && p[i] != '-'; i++)
		;
	if (i == 0 || i == n)
		return -EINVAL;
	for (j = i + 1; j < n && p[j] != ' ' && p[j] != '\r'; j++)
		;
	s->banner = al_alloc(c, l->len);
	if (s->banner == NULL)
		return -ENOMEM;
	memcpy(s->banner, l->p, l->len);
	s->proto_off = 4;
	s->proto_len = i;
	s->sw_off = 4 + i + 1;
	s->sw_len = j - (i + 1);
	s->has_sw = s->sw_len > 0;
	s->maj = proto_major(p, i);
	return 0;
}

static int
banner_line(struct al_ctx *c, struct ssh_state *st, unsigned dir, const struct al_line_out *l,
		const struct al_emit *e)
{
	struct ssh_side *s = &st->side[dir];
	int rc;

	if (l->len < 4 || memcmp(l->p, "SSH-", 4) != 0) {
		if (l->cut)
			anomaly(c, st, AL_SSH_LONG_BANNER);
		/* RFC 4253 §4.2: the server may send other lines first; a client may not. */
		if (dir == AL_TO_SERVER) {
			anomaly(c, st, AL_SSH_INVALID_BANNER);
			s->phase = PH_DEAD;
			side_final(st, dir, e);
		}
		return 0;
	}
	if (l->full_len >= SSH_MAX_BANNER || l->cut)
		anomaly(c, st, AL_SSH_LONG_BANNER);
	rc = parse_banner(c, s, l);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0) {
		anomaly(c, st, AL_SSH_INVALID_BANNER);
		s->phase = PH_DEAD;
		side_final(st, dir, e);
		return 0;
	}
	al_emit(e, &st->tx, banner_stage(dir), dir);
	/* An SSH-1 side (1.x but 1.99, which counts as 2) frames packets otherwise and sends no
	 * KEXINIT. */
	s->phase = s->maj == 1 ? PH_OPAQUE : PH_RECORDS;
	if (s->phase == PH_OPAQUE)
		side_final(st, dir, e);
	return 0;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 4253 §7.1: cookie, ten name-lists, first_kex_packet_follows, reserved. */
static bool
parse_kexinit(const uint8_t *p, uint32_t n, const uint8_t *list[SSH_KEX_LISTS],
		uint32_t list_len[SSH_KEX_LISTS])
{
	uint32_t off = 16;

	if (n < off)
		return false;
	for (unsigned i = 0; i < SSH_KEX_LISTS; i++) {
		if (n - off < 4)
			return false;
		uint32_t l = be32(p + off);

		off += 4;
		if (l > n - off)
			return false;
		list[i] = p + off;
		list_len[i] = l;
		off += l;
	}
	return n - off >= 5;
}

/* False when libcrypto gives no MD5 (a FIPS build): the hash is then absent. */
static bool
md5_hex(const uint8_t *d, size_t n, char out[MD5_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(d, n, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != MD5_HEX / 2)
		return false;
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	return true;
}

/*
 * HASSH as Suricata's generate_hassh: kex_algorithms, then the side's own encryption, MAC and
 * compression lists (client: client-to-server, server: server-to-client), joined by ';'.
 */
static int
hassh(struct al_ctx *c, struct ssh_state *st, unsigned dir)
{
	struct ssh_side *s = &st->side[dir];
	const uint8_t *list[SSH_KEX_LISTS];
	uint32_t list_len[SSH_KEX_LISTS];
	static const unsigned pick[2][4] = { { 0, 2, 4, 6 }, { 0, 3, 5, 7 } };
	uint64_t total = 3;

	if (s->kex_broken)
		return 0;
	if (!parse_kexinit(s->kex.p, s->kex.len, list, list_len)) {
		anomaly(c, st, AL_SSH_INVALID_KEXINIT);
		return 0;
	}
	for (unsigned i = 0; i < 4; i++)
		total += list_len[pick[dir][i]];
	for (unsigned i = 0; i < 4; i++) {
		unsigned k = pick[dir][i];

		if ((i > 0 && al_bytes_append(c, &s->hassh_str, (const uint8_t *)";", 1,
					      (uint32_t)total) < 0) ||
				al_bytes_append(c, &s->hassh_str, list[k], list_len[k],
						(uint32_t)total) < 0)
			return -ENOMEM;
	}
	s->has_hassh = md5_hex(s->hassh_str.p, s->hassh_str.len, s->hassh);
	return 0;
}

/* The KEXINIT record ended (or the side did): its stage is final, HASSH or not. */
static int
kex_done(struct al_ctx *c, struct ssh_state *st, unsigned dir, const struct al_emit *e)
{
	struct ssh_side *s = &st->side[dir];
	int rc = hassh(c, st, dir);

	s->collecting = false;
	al_bytes_free(c, &s->kex);
	al_emit(e, &st->tx, kex_stage(dir), dir);
	return rc;
}

/* A packet header is complete: decide what its body is. */
static int
record_header(struct al_ctx *c, struct ssh_state *st, unsigned dir, const struct al_emit *e)
{
	struct ssh_side *s = &st->side[dir];
	uint32_t pkt_len = be32(s->hdr);
	uint8_t code = s->hdr[5];

	s->hdr_len = 0;
	if (pkt_len < 2 || pkt_len > SSH_MAX_PACKET) {
		anomaly(c, st, AL_SSH_INVALID_RECORD);
		s->phase = PH_DEAD;
		side_final(st, dir, e);
		return 0;
	}
	if (code == SSH_MSG_NEWKEYS) {
		/* What follows is encrypted: skip it all, cheaply. */
		s->phase = PH_OPAQUE;
		side_final(st, dir, e);
		return 0;
	}
	s->body_left = pkt_len - 2;
	if (code != SSH_MSG_KEXINIT || s->kex_seen)
		return 0;
	s->kex_seen = true;
	if (s->body_left >= SSH_MAX_KEX) {
		anomaly(c, st, AL_SSH_LONG_KEX_RECORD);
		al_emit(e, &st->tx, kex_stage(dir), dir);
		return 0;
	}
	/* The body's size is known: one allocation holds it. */
	s->kex.p = al_alloc(c, s->body_left > 0 ? s->body_left : 1);
	if (s->kex.p == NULL)
		return -ENOMEM;
	s->kex.cap = s->body_left;
	s->kex.len = 0;
	s->collecting = true;
	s->kex_broken = false;
	return s->body_left == 0 ? kex_done(c, st, dir, e) : 0;
}

/* Binary packets: returns the bytes of d used (all unless the side stopped), or -ENOMEM. */
static int64_t
records(struct al_ctx *c, struct ssh_state *st, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	struct ssh_side *s = &st->side[dir];
	uint32_t off = 0;

	while (off < len && s->phase == PH_RECORDS) {
		if (s->body_left > 0) {
			uint32_t n = len - off < s->body_left ? len - off : s->body_left;

			if (s->collecting && !s->kex_broken &&
					al_bytes_append(c, &s->kex, d + off, n, SSH_MAX_KEX) < 0)
				return -ENOMEM;
			s->body_left -= n;
			off += n;
			if (s->body_left == 0 && s->collecting && kex_done(c, st, dir, e) != 0)
				return -ENOMEM;
			continue;
		}
		uint32_t n = SSH_HDR - s->hdr_len;

		if (n > len - off)
			n = len - off;
		memcpy(s->hdr + s->hdr_len, d + off, n);
		s->hdr_len += (uint8_t)n;
		off += n;
		if (s->hdr_len == SSH_HDR && record_header(c, st, dir, e) != 0)
			return -ENOMEM;
	}
	return len;
}

static int
ssh_feed(struct al_ctx *c, void *state, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	struct ssh_state *st = state;
	struct ssh_side *s = &st->side[dir];
	const uint32_t max = al_ctx_limits(c)->line_max;
	uint32_t off = 0;

	while (off < len) {
		if (s->phase == PH_BANNER) {
			struct al_line_out l;
			uint32_t used;
			int r = al_line_next(c, &s->line, max, d + off, len - off, &used, &l);

			if (r < 0)
				return -1;
			off += used;
			if (r == 1 && banner_line(c, st, dir, &l, e) != 0)
				return -1;
			if (s->phase != PH_BANNER)
				al_line_free(c, &s->line);
			continue;
		}
		if (s->phase == PH_RECORDS)
			return records(c, st, dir, d + off, len - off, e) < 0 ? -1 : 0;
		break; /* opaque or dead: the rest is not parsed */
	}
	return 0;
}

static void
ssh_gap(struct al_ctx *c, void *state, unsigned dir, uint32_t len)
{
	struct ssh_state *st = state;
	struct ssh_side *s = &st->side[dir];

	(void)c;
	switch (s->phase) {
	case PH_BANNER:
		al_line_gap(&s->line);
		break;
	case PH_RECORDS:
		/* Inside a body of known length the next header is still where it was. */
		if (s->hdr_len == 0 && s->body_left > 0 && len <= s->body_left) {
			s->body_left -= len;
			s->kex_broken |= s->collecting;
			break;
		}
		s->phase = PH_DEAD;
		break;
	default:
		break;
	}
}

static void
ssh_close(struct al_ctx *c, void *state, unsigned dir, const struct al_emit *e)
{
	struct ssh_state *st = state;
	struct ssh_side *s = &st->side[dir];
	struct al_line_out l;

	if (s->phase == PH_BANNER && al_line_take_partial(&s->line, al_ctx_limits(c)->line_max, &l))
		(void)banner_line(c, st, dir, &l, e);
	if (s->collecting) {
		/* The record never ended: the stage is final without HASSH. */
		s->kex_broken = true;
		(void)kex_done(c, st, dir, e);
	}
	side_final(st, dir, e);
}

static bool
ssh_tx_buf(const struct al_tx *tx, enum al_buf b, unsigned idx, const uint8_t **p, uint32_t *len)
{
	const struct ssh_state *st = (const struct ssh_state *)tx;
	const struct ssh_side *s;

	if (idx != 0)
		return false;
	switch (b) {
	case AL_BUF_SSH_PROTO_CLIENT:
	case AL_BUF_SSH_PROTO_SERVER:
		s = &st->side[b == AL_BUF_SSH_PROTO_SERVER];
		if (s->banner == NULL)
			return false;
		*p = s->banner + s->proto_off;
		*len = s->proto_len;
		return true;
	case AL_BUF_SSH_SOFTWARE_CLIENT:
	case AL_BUF_SSH_SOFTWARE_SERVER:
		s = &st->side[b == AL_BUF_SSH_SOFTWARE_SERVER];
		if (s->banner == NULL || !s->has_sw)
			return false;
		*p = s->banner + s->sw_off;
		*len = s->sw_len;
		return true;
	case AL_BUF_SSH_HASSH_CLIENT:
	case AL_BUF_SSH_HASSH_SERVER:
		s = &st->side[b == AL_BUF_SSH_HASSH_SERVER];
		if (!s->has_hassh)
			return false;
		*p = (const uint8_t *)s->hassh;
		*len = MD5_HEX;
		return true;
	case AL_BUF_SSH_HASSH_STRING_CLIENT:
	case AL_BUF_SSH_HASSH_STRING_SERVER:
		s = &st->side[b == AL_BUF_SSH_HASSH_STRING_SERVER];
		if (!s->has_hassh)
			return false;
		*p = s->hassh_str.p != NULL ? s->hassh_str.p : (const uint8_t *)"";
		*len = s->hassh_str.len;
		return true;
	default:
		return false;
	}
}

static bool
ssh_tx_num(const struct al_tx *tx, enum al_num n, unsigned idx, uint64_t *v)
{
	const struct ssh_state *st = (const struct ssh_state *)tx;
	int32_t maj;

	if (idx != 0)
		return false;
	if (n == AL_NUM_SSH_CLIENT_PROTO_MAJ)
		maj = st->side[AL_TO_SERVER].maj;
	else if (n == AL_NUM_SSH_SERVER_PROTO_MAJ)
		maj = st->side[AL_TO_CLIENT].maj;
	else
		return false;
	if (maj < 0)
		return false;
	*v = (uint64_t)maj;
	return true;
}

const struct al_parser al_ssh_parser = {
	.proto = AL_PROTO_SSH,
	.anomaly_names = ssh_anomaly_names,
	.n_anomalies = AL_SSH__ANOMALY_COUNT,
	.state_new = ssh_state_new,
	.state_free = ssh_state_free,
	.feed = ssh_feed,
	.gap = ssh_gap,
	.close = ssh_close,
	.tx_buf = ssh_tx_buf,
	.tx_num = ssh_tx_num,
};
