/* SPDX-License-Identifier: BSD-3-Clause */
#include <netinet/in.h>
#include <stdio.h>
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
		id->role = c->unauthenticated_role;
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
