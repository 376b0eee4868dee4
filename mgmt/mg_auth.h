/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who is asking: bearer tokens checked against the SHA-256 hashes in the config, and the one
 * exception (requests without a token from loopback, when the config allows it).
 *
 * Thread safety: every function reads only its arguments; any thread may call them.
 */
#ifndef MG_AUTH_H
#define MG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mg_config.h"

enum mg_auth_result {
	MG_AUTH_OK,	       /* id is filled in */
	MG_AUTH_MISSING,       /* no Authorization header, and no unauthenticated access */
	MG_AUTH_BAD_SCHEME,    /* an Authorization header that is not "Bearer <token>" */
	MG_AUTH_UNKNOWN_TOKEN, /* a bearer token that matches no configured hash */
};

struct mg_identity {
	char name[MG_TOKEN_NAME_LEN]; /* token name, or "loopback" for unauthenticated access */
	int role;		      /* enum mg_role; MG_ROLE_NONE when not authenticated */
	bool token;		      /* a token was presented and matched */
};

/*
 * Identify a request. authorization: the Authorization header's value or NULL; peer: the
 * client's address (may be NULL, which never counts as loopback). The token's hash is compared
 * with every configured hash, each in constant time and without stopping at a match, so the
 * time taken says nothing about which token (or how much of one) matched. On anything but
 * MG_AUTH_OK, id->role is MG_ROLE_NONE.
 */
enum mg_auth_result mg_auth_identify(const struct mg_config *c, const char *authorization,
		const struct sockaddr *peer, struct mg_identity *id);

/*
 * The names (and ports) a server answers to: localhost, 127.0.0.1, [::1] and the listen
 * address (unless it is a wildcard) on the server's port, and the config's hosts.
 */
struct mg_hosts {
	char name[MG_MAX_HOSTS + 4][MG_HOST_LEN]; /* canonical (mg_host_canon), without port */
	uint16_t port[MG_MAX_HOSTS + 4];
	unsigned n;
};

/* Fill h from c, for a server bound to port. */
void mg_hosts_init(struct mg_hosts *h, const struct mg_config *c, uint16_t port);

/*
 * True when a Host header's value names this server: a name of h with its port (a Host
 * without a port means 80, or 443 with tls). A missing (NULL) or malformed Host is false.
 * This is what defeats DNS rebinding: a page that rebinds its own name to this address still
 * sends its own name.
 */
bool mg_host_allowed(const struct mg_hosts *h, const char *host, bool tls);

/*
 * True when an Origin header's value is the server's own origin as the request names it:
 * scheme http (https with tls), and the same name and port as the Host header. "null" and
 * anything with a path are false.
 */
bool mg_origin_is_own(const char *origin, const char *host, bool tls);

/* True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8. */
bool mg_addr_is_loopback(const struct sockaddr *sa);

/* SHA-256 of data (OpenSSL). */
void mg_sha256(const void *data, size_t len, uint8_t out[32]);

/* SHA-256 as 64 lowercase hex digits and a NUL. */
void mg_sha256_hex(const void *data, size_t len, char out[65]);

/* A short reason for a failed result, for the 401 message. */
const char *mg_auth_result_str(enum mg_auth_result r);

#endif /* MG_AUTH_H */
