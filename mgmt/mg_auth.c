/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mg_auth.h"

void
mg_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
		memset(out, 0, 32); /* only on allocation failure; matches no real token hash */
}

void
mg_sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t h[32];

	mg_sha256(data, len, h);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

bool
mg_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		const uint8_t *a = s->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&s->sin6_addr) && a[12] == 127;
	}
	return false;
}

/* "name[:port]" (Host syntax) into its canonical name and port (dflt when absent). */
static int
split_hostport(const char *in, char *name, size_t len, uint16_t *port, uint16_t dflt)
{
	char canon[MG_HOST_LEN];
	const char *why, *colon;

	if (in == NULL || mg_host_canon(in, canon, sizeof(canon), &why) != 0)
		return -EINVAL;
	colon = canon[0] == '[' ? strstr(canon, "]:") : strchr(canon, ':');
	if (colon != NULL && canon[0] == '[')
		colon++;
	*port = colon != NULL ? (uint16_t)strtoul(colon + 1, NULL, 10) : dflt;
	snprintf(name, len, "%.*s", (int)(colon != NULL ? (size_t)(colon - canon) : strlen(canon)),
			canon);
	return 0;
}

static void
hosts_add(struct mg_hosts *h, const char *entry, uint16_t port)
{
	if (h->n < sizeof(h->port) / sizeof(h->port[0]) &&
			split_hostport(entry, h->name[h->n], sizeof(h->name[0]), &h->port[h->n],
					port) == 0)
		h->n++;
}

void
mg_hosts_init(struct mg_hosts *h, const struct mg_config *c, uint16_t port)
{
	memset(h, 0, sizeof(*h));
	hosts_add(h, "localhost", port);
	hosts_add(h, "127.0.0.1", port);
	hosts_add(h, "[::1]", port);
	if (strcmp(c->listen, "0.0.0.0") != 0 && strcmp(c->listen, "::") != 0 &&
			strcmp(c->listen, "127.0.0.1") != 0 && strcmp(c->listen, "::1") != 0) {
		char lit[MG_LISTEN_LEN + 2];

		snprintf(lit, sizeof(lit), strchr(c->listen, ':') ? "[%s]" : "%s", c->listen);
		hosts_add(h, lit, port);
	}
	for (unsigned i = 0; i < c->n_hosts; i++)
		hosts_add(h, c->hosts[i], port);
}

bool
mg_host_allowed(const struct mg_hosts *h, const char *host, bool tls)
{
	char name[MG_HOST_LEN];
	uint16_t port;

	if (split_hostport(host, name, sizeof(name), &port, tls ? 443 : 80) != 0)
		return false;
	for (unsigned i = 0; i < h->n; i++)
		if (h->port[i] == port && strcmp(h->name[i], name) == 0)
			return true;
	return false;
}

bool
mg_origin_is_own(const char *origin, const char *host, bool tls)
{
	const char *scheme = tls ? "https://" : "http://";
	char oname[MG_HOST_LEN], hname[MG_HOST_LEN];
	uint16_t oport, hport;
	size_t sl = strlen(scheme);

	if (origin == NULL || strncasecmp(origin, scheme, sl) != 0 ||
			strchr(origin + sl, '/') != NULL)
		return false;
	if (split_hostport(origin + sl, oname, sizeof(oname), &oport, tls ? 443 : 80) != 0 ||
			split_hostport(host, hname, sizeof(hname), &hport, tls ? 443 : 80) != 0)
		return false;
	return oport == hport && strcmp(oname, hname) == 0;
}

const char *
mg_auth_result_str(enum mg_auth_result r)
{
	switch (r) {
	case MG_AUTH_OK:
		return "ok";
	case MG_AUTH_MISSING:
		return "this request needs a bearer token (Authorization: Bearer <token>)";
	case MG_AUTH_BAD_SCHEME:
		return "the Authorization header is not 'Bearer <token>'";
	case MG_AUTH_UNKNOWN_TOKEN:
		return "the bearer token is not valid";
	}
	return "?";
}

/* RFC 6750 token68 characters. */
static bool
is_token68(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				    strchr("-._~+/=", c) != NULL))
			return false;
	}
	return true;
}

enum mg_auth_result
mg_auth_identify(const struct mg_config *c, const char *authorization, const struct sockaddr *peer,
		struct mg_identity *id)
{
	uint8_t h[32];
	int match = -1;
	const char *tok;

	memset(id, 0, sizeof(*id));
	id->role = MG_ROLE_NONE;
	if (authorization == NULL) {
		if (!c->allow_unauthenticated_loopback || !mg_addr_is_loopback(peer))
			return MG_AUTH_MISSING;
		snprintf(id->name, sizeof(id->name), "loopback");
		/* Reads only, whatever the struct says: the config refuses more, and a caller that
		 * filled it in by hand does not get token-less writes either. */
		id->role = c->unauthenticated_role < MG_ROLE_VIEWER ? c->unauthenticated_role
								    : MG_ROLE_VIEWER;
		return MG_AUTH_OK;
	}
	if (strncasecmp(authorization, "Bearer", 6) != 0 || authorization[6] != ' ')
		return MG_AUTH_BAD_SCHEME;
	tok = authorization + 6;
	while (*tok == ' ')
		tok++;
	if (!is_token68(tok))
		return MG_AUTH_BAD_SCHEME;
	mg_sha256(tok, strlen(tok), h);
	/* Every hash is compared, whatever matched before: no early exit to time. */
	for (unsigned i = 0; i < c->n_tokens; i++) {
		int eq = CRYPTO_memcmp(h, c->tokens[i].sha256, sizeof(h)) == 0;

		match = eq ? (int)i : match;
	}
	if (match < 0)
		return MG_AUTH_UNKNOWN_TOKEN;
	snprintf(id->name, sizeof(id->name), "%s", c->tokens[match].name);
	id->role = c->tokens[match].role;
	id->token = true;
	return MG_AUTH_OK;
}
