/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FTP control channel: commands, and replies matched to them in order; what each buffer holds
 * is in al_ftp.h. Suricata's app-layer-ftp.c is the model for the transactions (preliminary
 * replies keep one open) and the events.
 */
#include <string.h>
#include <strings.h>

#include "al_ftp.h"
#include "al_impl.h"
#include "al_line.h"

#define FTP_MAX_PENDING 64u /* commands waiting for their reply */

struct ftp_tx {
	struct al_tx head; /* first: al_tx_buf hands it back */
	bool has_cmd;
	bool has_reply;
	bool has_code;
	bool reply_cut; /* response_command_too_long counted */
	bool auth;	/* AUTH: a 234 turns the flow to TLS */
	uint16_t code;
	uint8_t *line; /* the command line, verb upper-cased */
	uint32_t verb_len, arg_off, arg_len;
	struct al_bytes reply;
};

struct ftp_state {
	struct al_line line[2];
	struct ftp_tx *cur; /* the transaction the reply being read belongs to */
	bool cur_alone;	    /* cur is no command's: a reply on its own */
	bool in_reply;	    /* a multi-line reply's first line came, not its last */
	uint16_t reply_code;
	uint16_t q_head, q_len;
	uint32_t tx_count;
	struct ftp_tx *q[FTP_MAX_PENDING];
};

static const char *const ftp_anomaly_names[AL_FTP__ANOMALY_COUNT] = {
	[AL_FTP_REQUEST_COMMAND_TOO_LONG] = "request_command_too_long",
	[AL_FTP_RESPONSE_COMMAND_TOO_LONG] = "response_command_too_long",
	[AL_FTP_TOO_MANY_TRANSACTIONS] = "too_many_transactions",
	[AL_FTP_INVALID_REPLY] = "invalid_reply",
};

static void *
ftp_state_new(struct al_ctx *c, bool tcp)
{
	struct ftp_state *st;

	(void)tcp;
	st = al_alloc(c, sizeof(*st));
	if (st == NULL)
		return NULL;
	memset(st, 0, sizeof(*st));
	return st;
}

static struct ftp_tx *
tx_new(struct al_ctx *c, struct ftp_state *st)
{
	struct ftp_tx *tx = al_alloc(c, sizeof(*tx));

	if (tx == NULL)
		return NULL;
	memset(tx, 0, sizeof(*tx));
	tx->head.proto = AL_PROTO_FTP;
	tx->head.index = st->tx_count++;
	return tx;
}

static void
tx_free(struct al_ctx *c, struct ftp_tx *tx)
{
	if (tx == NULL)
		return;
	al_free(c, tx->line);
	al_bytes_free(c, &tx->reply);
	al_free(c, tx);
}

static struct ftp_tx *
q_pop(struct ftp_state *st)
{
	struct ftp_tx *tx = st->q[st->q_head];

	st->q[st->q_head] = NULL;
	st->q_head = (uint16_t)((st->q_head + 1) % FTP_MAX_PENDING);
	st->q_len--;
	return tx;
}

/* Forget the reply being read and every command waiting (a reply was lost, or the end). */
static void
drop_pending(struct al_ctx *c, struct ftp_state *st)
{
	if (st->cur_alone)
		tx_free(c, st->cur);
	st->cur = NULL;
	st->cur_alone = false;
	st->in_reply = false;
	while (st->q_len > 0)
		tx_free(c, q_pop(st));
}

static void
ftp_state_free(struct al_ctx *c, void *state)
{
	struct ftp_state *st = state;

	drop_pending(c, st);
	al_line_free(c, &st->line[0]);
	al_line_free(c, &st->line[1]);
	al_free(c, st);
}

static bool
is_code(const uint8_t *p, uint32_t n)
{
	return n >= 3 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
	       p[2] <= '9';
}

static int
command_line(struct al_ctx *c, struct ftp_state *st, const struct al_line_out *l,
		const struct al_emit *e)
{
	struct ftp_tx *tx;
	uint32_t i, end;

	if (l->full_len == 0)
		return 0; /* an empty line is no command */
	tx = tx_new(c, st);
	if (tx == NULL)
		return -1;
	tx->line = al_alloc(c, l->len > 0 ? l->len : 1);
	if (tx->line == NULL) {
		tx_free(c, tx);
		return -1;
	}
	memcpy(tx->line, l->p, l->len);
	for (i = 0; i < l->len && tx->line[i] != ' '; i++)
		if (tx->line[i] >= 'a' && tx->line[i] <= 'z')
			tx->line[i] = (uint8_t)(tx->line[i] - 'a' + 'A');
	tx->verb_len = i;
	tx->has_cmd = true;
	for (end = l->len; end > i + 1 && (tx->line[end - 1] == ' ' || tx->line[end - 1] == '\t');
			end--)
		;
	if (end > i + 1) {
		tx->arg_off = i + 1;
		tx->arg_len = end - (i + 1);
	}
	tx->auth = tx->verb_len == 4 && memcmp(tx->line, "AUTH", 4) == 0;
	if (l->cut)
		al_anomaly(c, AL_PROTO_FTP, &tx->head, AL_FTP_REQUEST_COMMAND_TOO_LONG);
	if (st->q_len == FTP_MAX_PENDING) {
		/* The oldest will get no reply reported; later replies may pair one off. */
		al_anomaly(c, AL_PROTO_FTP, &tx->head, AL_FTP_TOO_MANY_TRANSACTIONS);
		if (st->cur == st->q[st->q_head]) {
			st->cur = NULL;
			st->in_reply = false;
		}
		tx_free(c, q_pop(st));
	}
	st->q[(st->q_head + st->q_len) % FTP_MAX_PENDING] = tx;
	st->q_len++;
	al_emit(e, &tx->head, AL_ST_FTP_COMMAND, AL_TO_SERVER);
	return 0;
}

/* A reply line's text (a leading "ddd " left out) joins the transaction's REPLY. */
static int
reply_text(struct al_ctx *c, struct ftp_tx *tx, const struct al_line_out *l)
{
	const uint32_t max = al_ctx_limits(c)->line_max;
	const uint8_t *p = l->p;
	uint32_t n = l->len;
	bool cut = l->cut;
	int64_t r;

	if (is_code(p, n) && n >= 4 && p[3] == ' ') {
		p += 4;
		n -= 4;
	}
	if (tx->has_reply) {
		r = al_bytes_append(c, &tx->reply, (const uint8_t *)"\r\n", 2, max);
		if (r < 0)
			return -1;
		cut |= r < 2;
	}
	r = al_bytes_append(c, &tx->reply, p, n, max);
	if (r < 0)
		return -1;
	cut |= r < (int64_t)n;
	tx->has_reply = true;
	if (cut && !tx->reply_cut) {
		tx->reply_cut = true;
		al_anomaly(c, AL_PROTO_FTP, &tx->head, AL_FTP_RESPONSE_COMMAND_TOO_LONG);
	}
	return 0;
}

/* The reply being read ended. Returns 1 when the flow turns to TLS, 0, or -1. */
static int
reply_end(struct al_ctx *c, struct ftp_state *st, uint16_t code, const struct al_emit *e)
{
	struct ftp_tx *tx = st->cur;
	bool tls;

	st->cur = NULL;
	st->in_reply = false;
	if (tx == NULL)
		return 0;
	if (!st->cur_alone && code / 100 == 1)
		return 0; /* preliminary: the command waits for its final reply */
	if (!st->cur_alone)
		(void)q_pop(st);
	st->cur_alone = false;
	tx->code = code;
	tx->has_code = true;
	al_emit(e, &tx->head, AL_ST_FTP_REPLY, AL_TO_CLIENT);
	tls = tx->auth && code == 234;
	tx_free(c, tx);
	return tls ? 1 : 0;
}

static int
reply_line(struct al_ctx *c, struct ftp_state *st, const struct al_line_out *l,
		const struct al_emit *e)
{
	const uint8_t *p = l->p;
	uint32_t n = l->len;

	if (st->in_reply) {
		/* RFC 959 §4.2: a multi-line reply ends at a line with its code and a space. */
		if (st->cur != NULL && reply_text(c, st->cur, l) != 0)
			return -1;
		if (is_code(p, n) && (n == 3 || p[3] == ' ') &&
				(uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0')) ==
						st->reply_code)
			return reply_end(c, st, st->reply_code, e);
		return 0;
	}
	if (!is_code(p, n)) {
		al_anomaly(c, AL_PROTO_FTP, st->q_len > 0 ? &st->q[st->q_head]->head : NULL,
				AL_FTP_INVALID_REPLY);
		return 0;
	}
	st->reply_code = (uint16_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
	if (st->q_len > 0) {
		st->cur = st->q[st->q_head];
		st->cur_alone = false;
	} else {
		st->cur = tx_new(c, st);
		if (st->cur == NULL)
			return -1;
		st->cur_alone = true;
	}
	if (reply_text(c, st->cur, l) != 0)
		return -1;
	if (n >= 4 && p[3] == '-') {
		st->in_reply = true;
		return 0;
	}
	return reply_end(c, st, st->reply_code, e);
}

static int
ftp_feed(struct al_ctx *c, void *state, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	struct ftp_state *st = state;
	const uint32_t max = al_ctx_limits(c)->line_max;
	uint32_t off = 0;

	while (off < len) {
		struct al_line_out l;
		uint32_t used;
		int r = al_line_next(c, &st->line[dir], max, d + off, len - off, &used, &l);

		if (r < 0)
			return -1;
		off += used;
		if (r == 0)
			continue;
		r = dir == AL_TO_SERVER ? command_line(c, st, &l, e) : reply_line(c, st, &l, e);
		if (r != 0)
			return -1; /* memory, or AUTH TLS accepted: the rest is TLS */
	}
	return 0;
}

static void
ftp_gap(struct al_ctx *c, void *state, unsigned dir, uint32_t len)
{
	struct ftp_state *st = state;

	(void)len;
	al_line_gap(&st->line[dir]);
	/* A lost reply leaves no way to pair the next ones with their commands. */
	if (dir == AL_TO_CLIENT)
		drop_pending(c, st);
}

static void
ftp_close(struct al_ctx *c, void *state, unsigned dir, const struct al_emit *e)
{
	struct ftp_state *st = state;
	struct al_line_out l;

	if (al_line_take_partial(&st->line[dir], al_ctx_limits(c)->line_max, &l)) {
		if (dir == AL_TO_SERVER)
			(void)command_line(c, st, &l, e);
		else
			(void)reply_line(c, st, &l, e);
	}
	/* A multi-line reply cut short by the server's close is final as it is. */
	if (dir == AL_TO_CLIENT && st->in_reply)
		(void)reply_end(c, st, st->reply_code, e);
}

static bool
ftp_tx_buf(const struct al_tx *tx, enum al_buf b, unsigned idx, const uint8_t **p, uint32_t *len)
{
	const struct ftp_tx *t = (const struct ftp_tx *)tx;
	static const uint8_t empty[1];

	if (idx != 0)
		return false;
	switch (b) {
	case AL_BUF_FTP_COMMAND:
		if (!t->has_cmd)
			return false;
		*p = t->line;
		*len = t->verb_len;
		return true;
	case AL_BUF_FTP_COMMAND_DATA:
		if (!t->has_cmd || t->arg_len == 0)
			return false;
		*p = t->line + t->arg_off;
		*len = t->arg_len;
		return true;
	case AL_BUF_FTP_REPLY:
		if (!t->has_reply)
			return false;
		*p = t->reply.p != NULL ? t->reply.p : empty;
		*len = t->reply.len;
		return true;
	default:
		return false;
	}
}

static bool
ftp_tx_num(const struct al_tx *tx, enum al_num n, unsigned idx, uint64_t *v)
{
	const struct ftp_tx *t = (const struct ftp_tx *)tx;

	if (idx != 0 || n != AL_NUM_FTP_REPLY_CODE || !t->has_code)
		return false;
	*v = t->code;
	return true;
}

const struct al_parser al_ftp_parser = {
	.proto = AL_PROTO_FTP,
	.anomaly_names = ftp_anomaly_names,
	.n_anomalies = AL_FTP__ANOMALY_COUNT,
	.state_new = ftp_state_new,
	.state_free = ftp_state_free,
	.feed = ftp_feed,
	.gap = ftp_gap,
	.close = ftp_close,
	.tx_buf = ftp_tx_buf,
	.tx_num = ftp_tx_num,
};
