/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMTP: commands and replies matched in order, the envelope and the message of each mail;
 * what each buffer holds is in al_smtp.h. Suricata's app-layer-smtp.c is the model for which
 * command fills which field and for the events; MIME is not decoded here.
 */
#include <string.h>
#include <strings.h>

#include "al_impl.h"
#include "al_line.h"
#include "al_smtp.h"

#define SMTP_MAX_LINE	 510u /* RFC 5321 §4.5.3.1.4-5: 512 octets with the CRLF */
#define SMTP_MAX_RCPT	 100u /* RFC 5321 §4.5.3.1.8: the least a server must take */
#define SMTP_MAX_PENDING 256u /* commands waiting for their reply (a power of two) */

enum smtp_mode {
	M_COMMAND, /* lines: commands */
	M_DATA,	   /* after DATA: the message up to "<CRLF>.<CRLF>" */
	M_BDAT,	   /* after BDAT: bdat_left bytes of the chunk */
};

/* What a reply answers: the commands whose reply matters, and the end of DATA's message. */
enum smtp_cmd {
	C_OTHER,
	C_HELO,
	C_DATA,
	C_DATA_END,
	C_BDAT,
	C_STARTTLS,
	C_RSET,
	C_QUIT,
};

/* Where the scan for the data's end is: the line start, a '.', a ".\r", inside a line. */
enum smtp_dscan { DS_BOL, DS_DOT, DS_DOTCR, DS_MID };

struct smtp_tx {
	struct al_tx head; /* first: al_tx_buf hands it back */
	bool open;
	bool has_mail_from;
	bool data_started; /* DATA or BDAT sent: ENVELOPE is out, the DATA stage will come */
	bool has_data;	   /* the message began (354, PIPELINING, a BDAT chunk) */
	bool data_cut;	   /* data_limit counted */
	uint16_t n_rcpt;
	struct al_bytes mail_from;
	struct al_bytes rcpts; /* the arguments one after the other */
	uint32_t rcpt_end[SMTP_MAX_RCPT];
	struct al_bytes data;
};

struct smtp_state {
	struct smtp_tx tx; /* first: the transaction is the state's (one mail at a time) */
	struct al_line line[2];
	uint8_t mode;	       /* enum smtp_mode */
	uint8_t dscan;	       /* enum smtp_dscan */
	bool greeting_seen;    /* the first reply came */
	bool welcome_flagged;  /* no_server_welcome_message counted */
	bool pipelining;       /* the server offered PIPELINING: DATA needs no 354 to start */
	bool sasl;	       /* the last reply was 334: the client sends SASL data */
	bool data_wait;	       /* DATA sent, its 354 not yet come */
	bool bdat_last;	       /* the chunk being read is the LAST */
	bool bdat_midline;     /* the last chunk ended inside a line */
	bool end_pending;      /* a gap ate the end of the last chunk: end the mail next feed */
	bool in_reply;	       /* lines of a multi-line reply came, not its last one */
	bool reply_pipelining; /* this reply offers PIPELINING */
	bool has_helo;
	uint16_t reply_code;
	uint16_t q_head, q_len;
	uint32_t tx_count;
	uint32_t bdat_left;
	uint64_t carry; /* anomalies seen with no mail open: they go to the next one */
	struct al_bytes helo;
	uint8_t q[SMTP_MAX_PENDING];
};

static const char *const smtp_anomaly_names[AL_SMTP__ANOMALY_COUNT] = {
	[AL_SMTP_INVALID_REPLY] = "invalid_reply",
	[AL_SMTP_UNABLE_TO_MATCH_REPLY_WITH_REQUEST] = "unable_to_match_reply_with_request",
	[AL_SMTP_MAX_COMMAND_LINE_LEN_EXCEEDED] = "max_command_line_len_exceeded",
	[AL_SMTP_MAX_REPLY_LINE_LEN_EXCEEDED] = "max_reply_line_len_exceeded",
	[AL_SMTP_INVALID_PIPELINED_SEQUENCE] = "invalid_pipelined_sequence",
	[AL_SMTP_BDAT_CHUNK_LEN_EXCEEDED] = "bdat_chunk_len_exceeded",
	[AL_SMTP_NO_SERVER_WELCOME_MESSAGE] = "no_server_welcome_message",
	[AL_SMTP_TLS_REJECTED] = "tls_rejected",
	[AL_SMTP_DATA_COMMAND_REJECTED] = "data_command_rejected",
	[AL_SMTP_DUPLICATE_FIELDS] = "duplicate_fields",
	[AL_SMTP_INVALID_BDAT] = "invalid_bdat",
	[AL_SMTP_TRUNCATED_LINE] = "truncated_line",
	[AL_SMTP_RCPT_TO_LIMIT] = "rcpt_to_limit",
	[AL_SMTP_PENDING_COMMANDS_LIMIT] = "pending_commands_limit",
	[AL_SMTP_DATA_LIMIT] = "data_limit",
};

/* Verbs of RFC 5321 and its extensions: what may follow a chunk that ended inside a line. */
static const char *const smtp_verbs[] = { "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET",
	"QUIT", "NOOP", "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH", "TURN", "ETRN", "ATRN", "SEND",
	"SOML", "SAML" };

static void
anomaly(struct al_ctx *c, struct smtp_state *st, enum al_smtp_anomaly a)
{
	if (st->tx.open) {
		al_anomaly(c, AL_PROTO_SMTP, &st->tx.head, a);
		return;
	}
	al_anomaly(c, AL_PROTO_SMTP, NULL, a);
	st->carry |= 1ULL << a;
}

static void *
smtp_state_new(struct al_ctx *c, bool tcp)
{
	struct smtp_state *st;

	(void)tcp;
	st = al_alloc(c, sizeof(*st));
	if (st == NULL)
		return NULL;
	memset(st, 0, sizeof(*st));
	st->tx.head.proto = AL_PROTO_SMTP;
	return st;
}

static void
tx_clear(struct al_ctx *c, struct smtp_tx *tx)
{
	al_bytes_free(c, &tx->mail_from);
	al_bytes_free(c, &tx->rcpts);
	al_bytes_free(c, &tx->data);
	tx->n_rcpt = 0;
	tx->has_mail_from = false;
	tx->data_started = false;
	tx->has_data = false;
	tx->data_cut = false;
	tx->open = false;
}

static void
smtp_state_free(struct al_ctx *c, void *state)
{
	struct smtp_state *st = state;

	tx_clear(c, &st->tx);
	al_line_free(c, &st->line[0]);
	al_line_free(c, &st->line[1]);
	al_bytes_free(c, &st->helo);
	al_free(c, st);
}

static void
tx_start(struct smtp_state *st)
{
	struct smtp_tx *tx = &st->tx;

	tx->head.ready = 0;
	tx->head.index = st->tx_count++;
	tx->head.anomalies = st->carry;
	st->carry = 0;
	tx->open = true;
}

/*
 * The mail ended: its envelope is final, and once DATA or BDAT was sent its data stage too
 * (the message, or none when DATA was refused or the client left before sending it).
 */
static void
tx_end(struct al_ctx *c, struct smtp_state *st, unsigned dir, const struct al_emit *e)
{
	struct smtp_tx *tx = &st->tx;

	if (!tx->open)
		return;
	al_emit(e, &tx->head, AL_ST_SMTP_ENVELOPE, dir);
	if (tx->data_started)
		al_emit(e, &tx->head, AL_ST_SMTP_DATA, dir);
	tx_clear(c, tx);
	st->mode = M_COMMAND;
	st->data_wait = false;
}

static void
push(struct al_ctx *c, struct smtp_state *st, enum smtp_cmd cmd)
{
	if (st->q_len == SMTP_MAX_PENDING) {
		anomaly(c, st, AL_SMTP_PENDING_COMMANDS_LIMIT);
		st->q_head = (st->q_head + 1) % SMTP_MAX_PENDING;
		st->q_len--;
	}
	st->q[(st->q_head + st->q_len) % SMTP_MAX_PENDING] = (uint8_t)cmd;
	st->q_len++;
}

/* Message bytes: kept up to the limit (http_req_body serves as the limit of SMTP data). */
static int
data_keep(struct al_ctx *c, struct smtp_state *st, const uint8_t *d, uint32_t n)
{
	struct smtp_tx *tx = &st->tx;
	int64_t r = al_bytes_append(c, &tx->data, d, n, al_ctx_limits(c)->http_req_body);

	if (r < 0)
		return -1;
	if ((uint32_t)r < n && !tx->data_cut) {
		tx->data_cut = true;
		anomaly(c, st, AL_SMTP_DATA_LIMIT);
	}
	return 0;
}

/* The message ended: DATA's ".", or the LAST chunk. */
static void
data_end(struct al_ctx *c, struct smtp_state *st, bool dot, unsigned dir, const struct al_emit *e)
{
	if (dot)
		push(c, st, C_DATA_END); /* the server answers the "." */
	tx_end(c, st, dir, e);
}

/*
 * DATA's message: returns the bytes of d consumed (fewer than len when the ".<CRLF>" line
 * came and the rest is commands again), or -1 on memory. A line "." ends it, CRLF or LF.
 */
static int64_t
data_bytes(struct al_ctx *c, struct smtp_state *st, const uint8_t *d, uint32_t len, unsigned dir,
		const struct al_emit *e)
{
	uint32_t off = 0;

	while (off < len) {
		switch (st->dscan) {
		case DS_MID: {
			const uint8_t *nl = memchr(d + off, '\n', len - off);
			uint32_t n = nl != NULL ? (uint32_t)(nl - (d + off)) + 1 : len - off;

			if (data_keep(c, st, d + off, n) != 0)
				return -1;
			off += n;
			if (nl != NULL)
				st->dscan = DS_BOL;
			break;
		}
		case DS_BOL:
			if (d[off] == '.') {
				st->dscan = DS_DOT;
				off++;
			} else {
				st->dscan = DS_MID;
			}
			break;
		case DS_DOT:
		case DS_DOTCR:
			if (d[off] == '\n') {
				data_end(c, st, true, dir, e);
				return off + 1;
			}
			if (d[off] == '\r' && st->dscan == DS_DOT) {
				st->dscan = DS_DOTCR;
				off++;
				break;
			}
			/* Not the end: what was held back is message data. */
			if (data_keep(c, st, (const uint8_t *)".\r", st->dscan == DS_DOT ? 1 : 2) !=
					0)
				return -1;
			st->dscan = DS_MID;
			break;
		}
	}
	return off;
}

/* A BDAT chunk's bytes: returns the bytes consumed, or -1 on memory. */
static int64_t
bdat_bytes(struct al_ctx *c, struct smtp_state *st, const uint8_t *d, uint32_t len, unsigned dir,
		const struct al_emit *e)
{
	uint32_t n = len < st->bdat_left ? len : st->bdat_left;

	if (data_keep(c, st, d, n) != 0)
		return -1;
	st->bdat_left -= n;
	if (n > 0)
		st->bdat_midline = d[n - 1] != '\n';
	if (st->bdat_left == 0) {
		st->mode = M_COMMAND;
		if (st->bdat_last)
			data_end(c, st, false, dir, e);
	}
	return n;
}

/* DATA's message starts: a line the client began before the 354 belongs to it. */
static int
enter_data(struct al_ctx *c, struct smtp_state *st, unsigned dir, const struct al_emit *e)
{
	struct al_line *lb = &st->line[AL_TO_SERVER];
	uint32_t n = lb->len;

	st->mode = M_DATA;
	st->dscan = DS_BOL;
	st->data_wait = false;
	st->tx.has_data = true;
	al_line_reset(lb);
	if (n > 0 && data_bytes(c, st, lb->buf, n, dir, e) < 0)
		return -1;
	return 0;
}

static bool
prefix_nocase(const uint8_t *p, uint32_t n, const char *word)
{
	size_t k = strlen(word);

	return n >= k && strncasecmp((const char *)p, word, k) == 0;
}

static bool
verb_is(const uint8_t *p, uint32_t vlen, const char *word)
{
	return vlen == strlen(word) && strncasecmp((const char *)p, word, vlen) == 0;
}

/*
 * As Suricata's SMTPParseCommandWithParam: skip the byte after the prefix (the ':' or the
 * space), then spaces; the argument ends at the next space.
 */
static void
param(const uint8_t *p, uint32_t n, uint32_t prefix, const uint8_t **arg, uint32_t *arg_len)
{
	uint32_t i = prefix + 1, j;

	while (i < n && p[i] == ' ')
		i++;
	for (j = i; j < n && p[j] != ' '; j++)
		;
	*arg = i < n ? p + i : p;
	*arg_len = i < n ? j - i : 0;
}

static int
add_rcpt(struct al_ctx *c, struct smtp_state *st, const uint8_t *a, uint32_t alen)
{
	struct smtp_tx *tx = &st->tx;
	uint32_t before = tx->rcpts.len;
	int64_t r;

	if (tx->n_rcpt == SMTP_MAX_RCPT) {
		anomaly(c, st, AL_SMTP_RCPT_TO_LIMIT);
		return 0;
	}
	r = al_bytes_append(c, &tx->rcpts, a, alen, UINT32_MAX);
	if (r < 0)
		return -1;
	if (r < (int64_t)alen) {
		/* The buffer's largest size is reached (line_max set very high). */
		tx->rcpts.len = before;
		anomaly(c, st, AL_SMTP_RCPT_TO_LIMIT);
		return 0;
	}
	tx->rcpt_end[tx->n_rcpt++] = tx->rcpts.len;
	return 0;
}

/* "BDAT size [LAST]" (RFC 3030). Returns false for no size. */
static bool
parse_bdat(const uint8_t *p, uint32_t n, uint32_t *size, bool *last)
{
	uint32_t i = 4, start;
	uint64_t v = 0;

	if (i >= n || p[i] != ' ')
		return false;
	while (i < n && p[i] == ' ')
		i++;
	for (start = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		if ((v = v * 10 + (uint64_t)(p[i] - '0')) > UINT32_MAX)
			return false;
	if (i == start)
		return false;
	while (i < n && p[i] == ' ')
		i++;
	*size = (uint32_t)v;
	*last = n - i >= 4 && strncasecmp((const char *)p + i, "LAST", 4) == 0;
	return true;
}

static bool
known_verb(const uint8_t *p, uint32_t vlen)
{
	for (size_t i = 0; i < sizeof(smtp_verbs) / sizeof(smtp_verbs[0]); i++)
		if (verb_is(p, vlen, smtp_verbs[i]))
			return true;
	return false;
}

static int
command_line(struct al_ctx *c, struct smtp_state *st, const struct al_line_out *l,
		const struct al_emit *e)
{
	const unsigned dir = AL_TO_SERVER;
	struct smtp_tx *tx = &st->tx;
	const uint8_t *p = l->p, *a;
	uint32_t n = l->len, vlen, alen;
	enum smtp_cmd cmd = C_OTHER;

	for (vlen = 0; vlen < n && p[vlen] != ' '; vlen++)
		;
	if (verb_is(p, vlen, "RSET") || verb_is(p, vlen, "QUIT")) {
		/* Part of the mail before, as in Suricata: they start none. */
		tx_end(c, st, dir, e);
		push(c, st, verb_is(p, vlen, "RSET") ? C_RSET : C_QUIT);
		return 0;
	}
	if (!tx->open)
		tx_start(st);
	if (!st->greeting_seen && !st->welcome_flagged) {
		st->welcome_flagged = true;
		anomaly(c, st, AL_SMTP_NO_SERVER_WELCOME_MESSAGE);
	}
	/* RFC 4954 lets AUTH and SASL lines run to 12288 octets. */
	if (l->full_len > SMTP_MAX_LINE && !st->sasl && !verb_is(p, vlen, "AUTH"))
		anomaly(c, st, AL_SMTP_MAX_COMMAND_LINE_LEN_EXCEEDED);
	if (l->cut)
		anomaly(c, st, AL_SMTP_TRUNCATED_LINE);
	if (st->bdat_midline) {
		st->bdat_midline = false;
		if (!known_verb(p, vlen))
			anomaly(c, st, AL_SMTP_BDAT_CHUNK_LEN_EXCEEDED);
	}
	if (st->q_len > 0) {
		uint8_t tail = st->q[(st->q_head + st->q_len - 1) % SMTP_MAX_PENDING];

		if (tail == C_DATA || tail == C_STARTTLS)
			anomaly(c, st, AL_SMTP_INVALID_PIPELINED_SEQUENCE);
	}

	if (verb_is(p, vlen, "HELO") || verb_is(p, vlen, "EHLO")) {
		cmd = C_HELO;
		if (st->has_helo) {
			anomaly(c, st, AL_SMTP_DUPLICATE_FIELDS);
		} else {
			param(p, n, 4, &a, &alen);
			if (al_bytes_append(c, &st->helo, a, alen, UINT32_MAX) < 0)
				return -1;
			st->has_helo = true;
		}
	} else if (prefix_nocase(p, n, "MAIL FROM")) {
		if (tx->has_mail_from) {
			anomaly(c, st, AL_SMTP_DUPLICATE_FIELDS);
		} else {
			param(p, n, 9, &a, &alen);
			if (al_bytes_append(c, &tx->mail_from, a, alen, UINT32_MAX) < 0)
				return -1;
			tx->has_mail_from = true;
		}
	} else if (prefix_nocase(p, n, "RCPT TO")) {
		param(p, n, 7, &a, &alen);
		if (add_rcpt(c, st, a, alen) != 0)
			return -1;
	} else if (verb_is(p, vlen, "DATA")) {
		cmd = C_DATA;
		tx->data_started = true;
		al_emit(e, &tx->head, AL_ST_SMTP_ENVELOPE, dir);
		push(c, st, cmd);
		/* As Suricata: a server that offered PIPELINING gets the message at once. */
		if (st->pipelining) {
			st->mode = M_DATA;
			st->dscan = DS_BOL;
			tx->has_data = true;
		} else {
			st->data_wait = true;
		}
		return 0;
	} else if (verb_is(p, vlen, "BDAT")) {
		uint32_t size;
		bool last;

		cmd = C_BDAT;
		if (!parse_bdat(p, n, &size, &last)) {
			anomaly(c, st, AL_SMTP_INVALID_BDAT);
		} else {
			tx->data_started = true;
			tx->has_data = true;
			al_emit(e, &tx->head, AL_ST_SMTP_ENVELOPE, dir);
			st->bdat_left = size;
			st->bdat_last = last;
			st->mode = M_BDAT;
			push(c, st, cmd);
			if (size == 0)
				bdat_bytes(c, st, p, 0, dir, e);
			return 0;
		}
	} else if (verb_is(p, vlen, "STARTTLS")) {
		cmd = C_STARTTLS;
	}
	push(c, st, cmd);
	return 0;
}

static bool
offers_pipelining(const uint8_t *p, uint32_t n)
{
	uint32_t i = 4;

	if (n < i + 10 || strncasecmp((const char *)p + i, "PIPELINING", 10) != 0)
		return false;
	for (i += 10; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* A whole reply came: match it with the oldest command waiting. Returns 1 when the flow turns
 * to TLS (parsing stops), 0, or -1 on memory. */
static int
reply_done(struct al_ctx *c, struct smtp_state *st, uint16_t code, unsigned dir,
		const struct al_emit *e)
{
	enum smtp_cmd cmd;

	st->sasl = code == 334;
	if (!st->greeting_seen) {
		st->greeting_seen = true;
		/* A 220 before anything, or a reply before any command, is the greeting. */
		if (code == 220 || st->q_len == 0) {
			if (code != 220)
				anomaly(c, st, AL_SMTP_INVALID_REPLY);
			return 0;
		}
	}
	if (st->q_len == 0) {
		anomaly(c, st, AL_SMTP_UNABLE_TO_MATCH_REPLY_WITH_REQUEST);
		return 0;
	}
	cmd = (enum smtp_cmd)st->q[st->q_head];
	st->q_head = (st->q_head + 1) % SMTP_MAX_PENDING;
	st->q_len--;
	switch (cmd) {
	case C_HELO:
		if (code == 250 && st->reply_pipelining)
			st->pipelining = true;
		break;
	case C_STARTTLS:
		if (code == 220) {
			tx_end(c, st, dir, e);
			return 1;
		}
		anomaly(c, st, AL_SMTP_TLS_REJECTED);
		break;
	case C_DATA:
		if (code == 354) {
			if (st->data_wait)
				return enter_data(c, st, dir, e);
			break;
		}
		anomaly(c, st, AL_SMTP_DATA_COMMAND_REJECTED);
		/* No message follows: the mail ends without one. */
		if (st->data_wait || st->mode == M_DATA) {
			st->tx.has_data = false;
			tx_end(c, st, dir, e);
		}
		break;
	default:
		break;
	}
	return 0;
}

static int
reply_line(struct al_ctx *c, struct smtp_state *st, const struct al_line_out *l,
		const struct al_emit *e)
{
	const uint8_t *p = l->p;
	uint32_t n = l->len;
	uint16_t code;

	if (l->full_len > SMTP_MAX_LINE)
		anomaly(c, st, AL_SMTP_MAX_REPLY_LINE_LEN_EXCEEDED);
	if (l->cut)
		anomaly(c, st, AL_SMTP_TRUNCATED_LINE);
	if (n < 3 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] < '0' ||
			p[2] > '9') {
		anomaly(c, st, AL_SMTP_INVALID_REPLY);
		return 0;
	}
	code = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	if (!st->in_reply) {
		st->in_reply = true;
		st->reply_code = code;
		st->reply_pipelining = false;
	}
	if (code == 250 && offers_pipelining(p, n))
		st->reply_pipelining = true;
	if (n >= 4 && p[3] == '-')
		return 0;
	st->in_reply = false;
	return reply_done(c, st, st->reply_code, AL_TO_CLIENT, e);
}

static int
smtp_feed(struct al_ctx *c, void *state, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	struct smtp_state *st = state;
	const uint32_t max = al_ctx_limits(c)->line_max;
	uint32_t off = 0;

	if (st->end_pending) {
		st->end_pending = false;
		data_end(c, st, false, dir, e);
	}
	while (off < len) {
		if (dir == AL_TO_SERVER && st->mode != M_COMMAND) {
			int64_t used = st->mode == M_DATA ? data_bytes(c, st, d + off, len - off,
									    dir, e)
							  : bdat_bytes(c, st, d + off, len - off,
									    dir, e);

			/* Both take at least a byte; none would loop for ever. */
			if (used <= 0)
				return -1;
			off += (uint32_t)used;
			continue;
		}

		struct al_line_out l;
		uint32_t u;
		int r = al_line_next(c, &st->line[dir], max, d + off, len - off, &u, &l);

		if (r < 0)
			return -1;
		off += u;
		if (r == 0)
			continue;
		r = dir == AL_TO_SERVER ? command_line(c, st, &l, e) : reply_line(c, st, &l, e);
		if (r != 0)
			return -1; /* memory, or STARTTLS accepted: the rest is TLS */
	}
	return 0;
}

static void
smtp_gap(struct al_ctx *c, void *state, unsigned dir, uint32_t len)
{
	struct smtp_state *st = state;

	(void)c;
	if (dir == AL_TO_CLIENT) {
		/* A reply is lost: which command the next one answers is not known. */
		al_line_gap(&st->line[dir]);
		st->in_reply = false;
		st->q_len = 0;
		return;
	}
	switch (st->mode) {
	case M_DATA:
		/* The message goes on with a hole; its end is a "." at a line start. */
		st->dscan = DS_MID;
		break;
	case M_BDAT:
		if (len < st->bdat_left) {
			st->bdat_left -= len;
			break;
		}
		st->mode = M_COMMAND;
		st->end_pending = st->bdat_last;
		al_line_gap(&st->line[dir]);
		break;
	default:
		al_line_gap(&st->line[dir]);
		break;
	}
}

static void
smtp_close(struct al_ctx *c, void *state, unsigned dir, const struct al_emit *e)
{
	struct smtp_state *st = state;
	const uint32_t max = al_ctx_limits(c)->line_max;
	struct al_line_out l;

	if (dir == AL_TO_CLIENT) {
		if (al_line_take_partial(&st->line[dir], max, &l))
			(void)reply_line(c, st, &l, e);
		return;
	}
	if (st->mode == M_COMMAND && al_line_take_partial(&st->line[dir], max, &l))
		(void)command_line(c, st, &l, e);
	if (st->mode == M_DATA && st->dscan != DS_MID && st->dscan != DS_BOL)
		(void)data_keep(c, st, (const uint8_t *)".\r", st->dscan == DS_DOT ? 1 : 2);
	/* The client is gone: what its mail holds is final, a message cut short too. */
	tx_end(c, st, dir, e);
}

static bool
smtp_tx_buf(const struct al_tx *tx, enum al_buf b, unsigned idx, const uint8_t **p, uint32_t *len)
{
	const struct smtp_state *st = (const struct smtp_state *)tx;
	const struct smtp_tx *t = &st->tx;
	static const uint8_t empty[1];

	if (b != AL_BUF_SMTP_RCPT_TO && idx != 0)
		return false;
	switch (b) {
	case AL_BUF_SMTP_HELO:
		if (!st->has_helo || st->helo.len == 0)
			return false;
		*p = st->helo.p;
		*len = st->helo.len;
		return true;
	case AL_BUF_SMTP_MAIL_FROM:
		if (!t->has_mail_from)
			return false;
		*p = t->mail_from.p != NULL ? t->mail_from.p : empty;
		*len = t->mail_from.len;
		return true;
	case AL_BUF_SMTP_RCPT_TO: {
		uint32_t start;

		if (idx >= t->n_rcpt)
			return false;
		start = idx > 0 ? t->rcpt_end[idx - 1] : 0;
		*p = t->rcpts.p != NULL ? t->rcpts.p + start : empty;
		*len = t->rcpt_end[idx] - start;
		return true;
	}
	case AL_BUF_SMTP_DATA:
		if (!t->has_data)
			return false;
		*p = t->data.p != NULL ? t->data.p : empty;
		*len = t->data.len;
		return true;
	default:
		return false;
	}
}

const struct al_parser al_smtp_parser = {
	.proto = AL_PROTO_SMTP,
	.anomaly_names = smtp_anomaly_names,
	.n_anomalies = AL_SMTP__ANOMALY_COUNT,
	.state_new = smtp_state_new,
	.state_free = smtp_state_free,
	.feed = smtp_feed,
	.gap = smtp_gap,
	.close = smtp_close,
	.tx_buf = smtp_tx_buf,
	.tx_num = NULL,
};
