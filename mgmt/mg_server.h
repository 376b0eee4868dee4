/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The management API server: libmicrohttpd on its own threads, serving the routes of
 * mg_route.h under /api/v1 (and /metrics), and the dashboard's static files at / when
 * mgmt.www is set.
 *
 * What the server guarantees, whatever a client sends: bodies above max_body are refused with
 * 413 (before they are read, when Content-Length says so), connections idle for the timeout
 * are closed, at most max_connections (max_connections_per_ip from one address) are open, and
 * every failure is a JSON {error, message, details} with a 4xx or 5xx status. Handlers run on
 * the server's threads; they read counters and read-only store connections, and every change
 * goes to the control lcore through ctl_api.
 */
#ifndef MG_SERVER_H
#define MG_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mg_config.h"

struct ctl_ctx;
struct ctl_store_reader;
struct mg_req;
struct mg_server;

/*
 * The TLS policy (a GnuTLS priority string): TLS 1.3 and 1.2 only; in 1.2 only ECDHE key
 * exchange (forward secrecy) with AEAD ciphers (AES-GCM, ChaCha20-Poly1305); no SHA-1
 * signatures; the server's order of preference. docs/OPERATIONS.md (Security) lists what it
 * admits; tests/api checks that TLS 1.0 and 1.1 are refused.
 */
#define MG_TLS_PRIORITIES                                                                      \
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:" \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-SIGN-RSA-SHA1:"    \
	"-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1:%SERVER_PRECEDENCE"

/*
 * Start serving with cfg (copied) on behalf of ctx (which must outlive the server). Returns
 * NULL with errno set and the reason in err when the address cannot be bound, the TLS files
 * cannot be read, TLS is configured but libmicrohttpd lacks it, or the dashboard directory
 * does not exist. cfg->port 0 binds an ephemeral port (tests; see mg_server_port()).
 */
struct mg_server *mg_server_start(
		const struct mg_config *cfg, struct ctl_ctx *ctx, char *err, size_t errlen);

/*
 * Stop accepting, finish or close open connections, join the threads, close the read-only
 * store connections. Must be called before the control lcore stops answering calls (a handler
 * may be waiting for it). NULL is a no-op.
 */
void mg_server_stop(struct mg_server *s);

/* The TCP port the server listens on. */
uint16_t mg_server_port(const struct mg_server *s);

/* The server's configuration. */
const struct mg_config *mg_server_config(const struct mg_server *s);

/*
 * The server's own counters: {requests: {"2xx": n, ...}, auth_failures, refused: {host,
 * origin}, connections}.
 */
json_t *mg_server_counters(struct mg_server *s);

/* A problem of the server's setup for status (a TLS key others may read), or NULL. */
const char *mg_server_warning(const struct mg_server *s);

/* Documents that many clients poll, served from a snapshot (mg_server_snapshot()). */
enum mg_snapshot_kind {
	MG_SNAP_STATUS,
	MG_SNAP_METRICS,
	MG_SNAP__COUNT,
};

/*
 * The body of a polled document: rebuilt with build(r, &len) (a malloc'd body, NULL on failure)
 * when the last one is older than mgmt.snapshot or a write went through the API since, else
 * the last one. One thread builds while the others wait for its result, so a burst of
 * requests costs one build. Returns a malloc'd copy (*len bytes) or NULL with errno set.
 */
char *mg_server_snapshot(struct mg_server *s, enum mg_snapshot_kind kind,
		char *(*build)(struct mg_req *r, size_t *len), struct mg_req *r, size_t *len);

/*
 * A read-only store connection for the calling handler (from a pool; s may be NULL, then a
 * fresh connection is opened and closed by put). Returns NULL and fills err when the appliance
 * has no store (errno ENOTSUP) or it cannot be opened (errno from the store).
 */
struct ctl_store_reader *mg_server_reader_get(struct mg_server *s, char *err, size_t errlen);
void mg_server_reader_put(struct mg_server *s, struct ctl_store_reader *r);

#endif /* MG_SERVER_H */
