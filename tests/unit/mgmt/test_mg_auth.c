/* SPDX-License-Identifier: BSD-3-Clause */
/* Bearer tokens against the configured hashes, roles, and unauthenticated loopback access. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "vg_test.h"

#include "mg_auth.h"
#include "mg_config.h"

static void
add_token(struct mg_config *c, const char *name, int role, const char *secret)
{
	struct mg_token *t = &c->tokens[c->n_tokens++];

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->role = role;
	mg_sha256(secret, strlen(secret), t->sha256);
}

static struct sockaddr_in
v4(const char *a)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static struct sockaddr_in6
v6(const char *a)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	inet_pton(AF_INET6, a, &s.sin6_addr);
	return s;
}

static void
test_sha256_hex(void **state)
{
	char hex[65];

	(void)state;
	/* FIPS 180-2 test vector. */
	mg_sha256_hex("abc", 3, hex);
	assert_string_equal(
			hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_tokens_and_roles(void **state)
{
	struct mg_config c;
	struct mg_identity id;
	struct sockaddr_in peer = v4("192.0.2.1");
	const struct sockaddr *p = (const struct sockaddr *)&peer;

	(void)state;
	mg_config_defaults(&c);
	add_token(&c, "alice", MG_ROLE_ADMIN, "tok-alice-0123");
	add_token(&c, "bob", MG_ROLE_OPERATOR, "tok-bob-4567");
	add_token(&c, "grafana", MG_ROLE_VIEWER, "tok-graf-89");

	assert_int_equal(mg_auth_identify(&c, "Bearer tok-alice-0123", p, &id), MG_AUTH_OK);
	assert_string_equal(id.name, "alice");
	assert_int_equal(id.role, MG_ROLE_ADMIN);
	assert_true(id.token);
	assert_int_equal(mg_auth_identify(&c, "Bearer tok-bob-4567", p, &id), MG_AUTH_OK);
	assert_string_equal(id.name, "bob");
	assert_int_equal(id.role, MG_ROLE_OPERATOR);
	/* The scheme is case-insensitive; extra spaces before the token are allowed. */
	assert_int_equal(mg_auth_identify(&c, "bearer   tok-graf-89", p, &id), MG_AUTH_OK);
	assert_string_equal(id.name, "grafana");
	assert_int_equal(id.role, MG_ROLE_VIEWER);

	/* Near misses are unknown tokens, never a match. */
	assert_int_equal(mg_auth_identify(&c, "Bearer tok-alice-012", p, &id),
			MG_AUTH_UNKNOWN_TOKEN);
	assert_int_equal(id.role, MG_ROLE_NONE);
	assert_int_equal(mg_auth_identify(&c, "Bearer tok-alice-01234", p, &id),
			MG_AUTH_UNKNOWN_TOKEN);
	assert_int_equal(mg_auth_identify(&c, "Bearer TOK-ALICE-0123", p, &id),
			MG_AUTH_UNKNOWN_TOKEN);
	/* The hash itself is not a token. */
	char hex[65];
	mg_sha256_hex("tok-alice-0123", 14, hex);
	assert_int_equal(mg_auth_identify(&c, hex, p, &id), MG_AUTH_BAD_SCHEME);

	/* Malformed headers. */
	assert_int_equal(mg_auth_identify(&c, "Basic YWxpY2U6eA==", p, &id), MG_AUTH_BAD_SCHEME);
	assert_int_equal(mg_auth_identify(&c, "Bearer", p, &id), MG_AUTH_BAD_SCHEME);
	assert_int_equal(mg_auth_identify(&c, "Bearer ", p, &id), MG_AUTH_BAD_SCHEME);
	assert_int_equal(mg_auth_identify(&c, "Bearertok-alice-0123", p, &id), MG_AUTH_BAD_SCHEME);
	assert_int_equal(mg_auth_identify(&c, "Bearer tok alice", p, &id), MG_AUTH_BAD_SCHEME);
	assert_int_equal(mg_auth_identify(&c, "Bearer tok-alice-0123\n", p, &id),
			MG_AUTH_BAD_SCHEME);
	assert_int_equal(mg_auth_identify(&c, "", p, &id), MG_AUTH_BAD_SCHEME);
	/* No header, no loopback access configured. */
	assert_int_equal(mg_auth_identify(&c, NULL, p, &id), MG_AUTH_MISSING);
	assert_int_equal(id.role, MG_ROLE_NONE);
}

static void
test_unauthenticated_loopback(void **state)
{
	struct mg_config c;
	struct mg_identity id;
	struct sockaddr_in lo = v4("127.0.0.1"), lo2 = v4("127.8.9.10"), far = v4("10.0.0.1");
	struct sockaddr_in6 lo6 = v6("::1"), mapped = v6("::ffff:127.0.0.1"), far6 = v6("fd00::1");

	(void)state;
	mg_config_defaults(&c);
	add_token(&c, "alice", MG_ROLE_ADMIN, "tok-alice-0123");

	/* Not allowed unless the config says so, even from loopback. */
	assert_int_equal(mg_auth_identify(&c, NULL, (struct sockaddr *)&lo, &id), MG_AUTH_MISSING);

	c.allow_unauthenticated_loopback = true;
	c.unauthenticated_role = MG_ROLE_VIEWER;
	assert_int_equal(mg_auth_identify(&c, NULL, (struct sockaddr *)&lo, &id), MG_AUTH_OK);
	assert_string_equal(id.name, "loopback");
	assert_int_equal(id.role, MG_ROLE_VIEWER);
	/* Loopback without a token only reads, even when the struct asks for more (the config
	 * refuses it; a caller that sets it by hand does not get writes either). */
	c.unauthenticated_role = MG_ROLE_ADMIN;
	assert_int_equal(mg_auth_identify(&c, NULL, (struct sockaddr *)&lo, &id), MG_AUTH_OK);
	assert_int_equal(id.role, MG_ROLE_VIEWER);
	assert_false(id.token);
	assert_int_equal(mg_auth_identify(&c, NULL, (struct sockaddr *)&lo2, &id), MG_AUTH_OK);
	assert_int_equal(mg_auth_identify(&c, NULL, (struct sockaddr *)&lo6, &id), MG_AUTH_OK);
	assert_int_equal(mg_auth_identify(&c, NULL, (struct sockaddr *)&mapped, &id), MG_AUTH_OK);
	/* Only from loopback. */
	assert_int_equal(mg_auth_identify(&c, NULL, (struct sockaddr *)&far, &id), MG_AUTH_MISSING);
	assert_int_equal(
			mg_auth_identify(&c, NULL, (struct sockaddr *)&far6, &id), MG_AUTH_MISSING);
	assert_int_equal(mg_auth_identify(&c, NULL, NULL, &id), MG_AUTH_MISSING);
	/* A token that was sent is checked, loopback or not: a wrong one is not waved through. */
	assert_int_equal(mg_auth_identify(&c, "Bearer wrong", (struct sockaddr *)&lo, &id),
			MG_AUTH_UNKNOWN_TOKEN);
	assert_int_equal(mg_auth_identify(&c, "Bearer tok-alice-0123", (struct sockaddr *)&lo, &id),
			MG_AUTH_OK);
	assert_int_equal(id.role, MG_ROLE_ADMIN);
}

static void
test_no_tokens_configured(void **state)
{
	struct mg_config c;
	struct mg_identity id;
	struct sockaddr_in peer = v4("192.0.2.1");

	(void)state;
	mg_config_defaults(&c);
	assert_int_equal(mg_auth_identify(&c, "Bearer anything", (struct sockaddr *)&peer, &id),
			MG_AUTH_UNKNOWN_TOKEN);
}

static void
test_host_names(void **state)
{
	struct mg_config c;
	struct mg_hosts h;

	(void)state;
	mg_config_defaults(&c);
	strcpy(c.listen, "192.0.2.10");
	strcpy(c.hosts[c.n_hosts++], "vigil.example");
	strcpy(c.hosts[c.n_hosts++], "proxy.example:443");
	mg_hosts_init(&h, &c, 8080);
	/* The defaults, with the server's port. */
	assert_true(mg_host_allowed(&h, "localhost:8080", false));
	assert_true(mg_host_allowed(&h, "LOCALHOST:8080", false));
	assert_true(mg_host_allowed(&h, "127.0.0.1:8080", false));
	assert_true(mg_host_allowed(&h, "[::1]:8080", false));
	assert_true(mg_host_allowed(&h, "[0:0::1]:8080", false));
	assert_true(mg_host_allowed(&h, "192.0.2.10:8080", false));
	assert_true(mg_host_allowed(&h, "vigil.example:8080", false));
	assert_true(mg_host_allowed(&h, "vigil.example.:8080", false));
	assert_true(mg_host_allowed(&h, "proxy.example:443", false));
	/* A rebound name, another port, no port (80), a missing or malformed Host. */
	assert_false(mg_host_allowed(&h, "attacker.example:8080", false));
	assert_false(mg_host_allowed(&h, "localhost.attacker.example:8080", false));
	assert_false(mg_host_allowed(&h, "localhost:8081", false));
	assert_false(mg_host_allowed(&h, "localhost", false));
	assert_false(mg_host_allowed(&h, "proxy.example:8080", false));
	assert_false(mg_host_allowed(&h, NULL, false));
	assert_false(mg_host_allowed(&h, "", false));
	assert_false(mg_host_allowed(&h, "localhost:8080/x", false));
	assert_false(mg_host_allowed(&h, "localhost:", false));
	assert_false(mg_host_allowed(&h, "user@localhost:8080", false));
	assert_false(mg_host_allowed(&h, "[::1:8080", false));
	/* Without a port: 443 with TLS. */
	assert_true(mg_host_allowed(&h, "proxy.example", true));
	assert_false(mg_host_allowed(&h, "proxy.example", false));
	/* A wildcard listen address is not a name. */
	strcpy(c.listen, "0.0.0.0");
	mg_hosts_init(&h, &c, 8080);
	assert_false(mg_host_allowed(&h, "0.0.0.0:8080", false));
}

static void
test_origin(void **state)
{
	(void)state;
	assert_true(mg_origin_is_own("http://127.0.0.1:8080", "127.0.0.1:8080", false));
	assert_true(mg_origin_is_own("HTTP://LocalHost:8080", "localhost:8080", false));
	assert_true(mg_origin_is_own("https://vigil.example", "vigil.example:443", true));
	assert_true(mg_origin_is_own("http://[::1]:8080", "[0::1]:8080", false));
	/* Another site, another port of this host, another scheme, opaque and odd origins. */
	assert_false(mg_origin_is_own("http://attacker.example", "127.0.0.1:8080", false));
	assert_false(mg_origin_is_own("http://127.0.0.1:9999", "127.0.0.1:8080", false));
	assert_false(mg_origin_is_own("https://127.0.0.1:8080", "127.0.0.1:8080", false));
	assert_false(mg_origin_is_own("http://vigil.example", "vigil.example:443", true));
	assert_false(mg_origin_is_own("null", "127.0.0.1:8080", false));
	assert_false(mg_origin_is_own("http://127.0.0.1:8080/", "127.0.0.1:8080", false));
	assert_false(mg_origin_is_own("", "127.0.0.1:8080", false));
	assert_false(mg_origin_is_own("http://127.0.0.1:8080", NULL, false));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_hex),
		cmocka_unit_test(test_tokens_and_roles),
		cmocka_unit_test(test_unauthenticated_loopback),
		cmocka_unit_test(test_no_tokens_configured),
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
