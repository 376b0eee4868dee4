/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What each protocol parser provides to the application layer (al.c dispatches to it). One
 * parser per file (al_http.c, al_dns.c, al_tls.c, al_ssh.c, al_smtp.c, al_ftp.c), each
 * defining one `const struct al_parser al_<proto>_parser`, listed in al.c's table.
 *
 * A parser is incremental: feed() gets the next bytes of one direction in any split (a header
 * line may end three segments later) and keeps what it needs between calls in its state, in
 * memory from al_alloc(). It never reads outside the bytes it was given, never recurses without
 * a bound, and stops keeping bytes at the limits of struct al_limits (counting an anomaly).
 */
#ifndef AL_IMPL_H
#define AL_IMPL_H

#include "al.h"

/* How a parser reports a transaction's progress: call al_emit(e, tx, stage, dir). */
struct al_emit {
	struct al_ctx *ctx;
	al_tx_cb cb;
	void *arg;
};

/* Set tx->ready |= stage and tell the caller (once per bit; a bit already set is ignored). */
void al_emit(const struct al_emit *e, struct al_tx *tx, unsigned stage, unsigned dir);

/* Count anomaly id of parser proto in the context, and mark it in tx (may be NULL). */
void al_anomaly(struct al_ctx *c, enum al_proto proto, struct al_tx *tx, unsigned id);

struct al_parser {
	enum al_proto proto;
	const char *const *anomaly_names; /* Suricata's app-layer event names where they exist */
	unsigned n_anomalies;		  /* at most 64 */

	/* New per-flow state (al_alloc), or NULL when memory is short. */
	void *(*state_new)(struct al_ctx *c, bool tcp);
	/* Free the state and every transaction it holds. */
	void (*state_free)(struct al_ctx *c, void *state);
	/*
	 * Next in-order bytes of dir (a whole datagram for UDP). Returns 0, or -1 when the parser
	 * gives up on this flow (it will not be called again but for state_free).
	 */
	int (*feed)(struct al_ctx *c, void *state, unsigned dir, const uint8_t *d, uint32_t len,
			const struct al_emit *e);
	/* len bytes of dir are lost; NULL: the parser gives up on the flow at a gap. */
	void (*gap)(struct al_ctx *c, void *state, unsigned dir, uint32_t len);
	/* dir ended: finish what is pending (emit the stages it completes). May be NULL. */
	void (*close)(struct al_ctx *c, void *state, unsigned dir, const struct al_emit *e);

	/* Accessors for transactions of this protocol (al_tx_buf / al_tx_num dispatch here). */
	bool (*tx_buf)(const struct al_tx *tx, enum al_buf b, unsigned idx, const uint8_t **p,
			uint32_t *len);
	bool (*tx_num)(const struct al_tx *tx, enum al_num n, unsigned idx, uint64_t *v);
};

extern const struct al_parser al_http_parser;
extern const struct al_parser al_dns_parser;
extern const struct al_parser al_tls_parser;
extern const struct al_parser al_ssh_parser;
extern const struct al_parser al_smtp_parser;
extern const struct al_parser al_ftp_parser;

#endif /* AL_IMPL_H */
