/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_config.h"
#include "vg_addr.h"
#include "vg_yaml.h"

#define MG_OFF(f)  offsetof(struct mg_config, f)
#define TOK_OFF(f) offsetof(struct token_yaml, f)

/* Indexes are enum mg_role values; "none" is not accepted in the config. */
static const char *const role_names[] = { "viewer", "operator", "admin", NULL };

const char *
mg_role_name(int role)
{
	if (role < MG_ROLE_VIEWER || role > MG_ROLE_ADMIN)
		return "none";
	return role_names[role - 1];
}

int
mg_role_parse(const char *name)
{
	for (int i = 0; role_names[i] != NULL; i++)
		if (strcmp(role_names[i], name) == 0)
			return i + 1;
	return -1;
}

void
mg_config_defaults(struct mg_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = false;
	strcpy(c->listen, "127.0.0.1");
	c->port = 8080;
	c->allow_unauthenticated_loopback = false;
	c->unauthenticated_role = MG_ROLE_VIEWER;
	c->max_body = 1 << 20;
	c->max_connections = 256;
	c->max_connections_per_ip = 64;
	c->timeout_ms = 10 * 1000;
	c->threads = 2;
	c->job_threads = 4;
	c->snapshot_ms = 100;
}

/* One tokens entry as the YAML gives it; the role and hash are checked and converted after. */
struct token_yaml {
	char name[MG_TOKEN_NAME_LEN];
	int role; /* index into role_names */
	char sha256[80];
};

static const struct vg_yaml_field token_fields[] = {
	{ .name = "name",
			.type = VG_YT_STRBUF,
			.off = TOK_OFF(name),
			.min = 1,
			.max = MG_TOKEN_NAME_LEN,
			.required = true },
	{ .name = "role",
			.type = VG_YT_ENUM,
			.off = TOK_OFF(role),
			.names = role_names,
			.required = true },
	{ .name = "sha256",
			.type = VG_YT_STRBUF,
			.off = TOK_OFF(sha256),
			.max = sizeof(((struct token_yaml *)0)->sha256),
			.required = true },
	{ 0 },
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool
valid_token_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("-_.@", *s) == NULL)
			return false;
	return true;
}

static int
parse_tokens(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct mg_config *c = obj;
	int n;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	n = vg_yaml_seq_len(v);
	if (n > MG_MAX_TOKENS) {
		vg_yaml_err(y, v, "'%s': at most %d tokens", key, MG_MAX_TOKENS);
		return -EINVAL;
	}
	c->n_tokens = 0;
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		struct token_yaml ty;
		struct mg_token *t = &c->tokens[c->n_tokens];
		bool ok = true;

		memset(&ty, 0, sizeof(ty));
		if (vg_yaml_map(y, it, "tokens entry", token_fields, &ty) != 0)
			continue;
		if (!valid_token_name(ty.name)) {
			vg_yaml_err(y, it,
					"tokens entry: name '%s' may hold only letters, digits, '-', "
					"'_', '.' and '@'",
					ty.name);
			continue;
		}
		if (strlen(ty.sha256) != 64) {
			vg_yaml_err(y, it,
					"token '%s': sha256 must be 64 hex digits (the SHA-256 of the "
					"token, as `printf %%s \"$TOKEN\" | sha256sum` prints it), not "
					"%zu characters",
					ty.name, strlen(ty.sha256));
			continue;
		}
		for (int j = 0; j < 32 && ok; j++) {
			int hi = hexval((unsigned char)ty.sha256[2 * j]);
			int lo = hexval((unsigned char)ty.sha256[2 * j + 1]);

			if (hi < 0 || lo < 0) {
				vg_yaml_err(y, it,
						"token '%s': sha256 holds '%c', which is not a hex "
						"digit",
						ty.name, ty.sha256[2 * j + (hi < 0 ? 0 : 1)]);
				ok = false;
				break;
			}
			t->sha256[j] = (uint8_t)(hi << 4 | lo);
		}
		if (!ok)
			continue;
		for (unsigned j = 0; j < c->n_tokens && ok; j++) {
			if (strcmp(c->tokens[j].name, ty.name) == 0) {
				vg_yaml_err(y, it,
						"token '%s': the name is used by an earlier token",
						ty.name);
				ok = false;
			} else if (memcmp(c->tokens[j].sha256, t->sha256, 32) == 0) {
				vg_yaml_err(y, it,
						"token '%s': same sha256 as token '%s'; one secret "
						"cannot have two names",
						ty.name, c->tokens[j].name);
				ok = false;
			}
		}
		if (!ok)
			continue;
		strcpy(t->name, ty.name);
		t->role = ty.role + 1;
		c->n_tokens++;
	}
	return 0;
}

static const struct vg_yaml_field tls_fields[] = {
	{ .name = "cert",
			.type = VG_YT_STRBUF,
			.off = MG_OFF(tls_cert),
			.min = 1,
			.max = VG_PATH_LEN,
			.required = true },
	{ .name = "key",
			.type = VG_YT_STRBUF,
			.off = MG_OFF(tls_key),
			.min = 1,
			.max = VG_PATH_LEN,
			.required = true },
	{ 0 },
};

static int
parse_tls(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	if (vg_yaml_is_null(v))
		return 0; /* tls: ~ spells "no TLS" */
	if (!vg_yaml_expect_map(y, v, key))
		return -EINVAL;
	return vg_yaml_map(y, v, "tls", tls_fields, obj);
}

static int
parse_listen(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct mg_config *c = obj;
	const char *s = vg_yaml_scalar(y, v, key);
	struct vg_addr a;

	if (s == NULL)
		return -EINVAL;
	if (strlen(s) >= sizeof(c->listen) || vg_addr_parse_str(s, &a) != 0) {
		vg_yaml_err(y, v,
				"'%s': '%s' is not an IPv4 or IPv6 address (127.0.0.1, ::1, or "
				"0.0.0.0 / :: for every address)",
				key, s);
		return -EINVAL;
	}
	strcpy(c->listen, s);
	return 0;
}

static int
parse_unauth_role(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct mg_config *c = obj;
	int r;

	if (vg_yaml_enum(y, v, key, role_names, &r) != 0)
		return -EINVAL;
	if (r + 1 > MG_ROLE_VIEWER) {
		/* Any local process, of any user, and any proxy on this host would have it. */
		vg_yaml_err(y, v,
				"'%s': '%s' would let every local process and user change the "
				"appliance without a token; requests without a token may only read "
				"(viewer): give whoever changes things a token (tokens:)",
				key, role_names[r]);
		return -EINVAL;
	}
	c->unauthenticated_role = r + 1;
	return 0;
}

static bool
valid_dns_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
			return false;
	return true;
}

/*
 * One hosts entry into its canonical form: lower case, IPv6 literals in brackets as inet_ntop
 * writes them, ":port" kept when given. Returns 0, or -EINVAL with why in err.
 */
int
mg_host_canon(const char *in, char *out, size_t outlen, const char **why)
{
	char name[MG_HOST_LEN];
	const char *port = NULL;
	struct vg_addr a6;
	char t6[VG_ADDR_STRLEN];
	size_t n = strlen(in);

	*why = NULL;
	if (n == 0 || n >= sizeof(name)) {
		*why = "a host name of 1 to 253 characters";
		return -EINVAL;
	}
	if (in[0] == '[') {
		const char *end = strchr(in, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':')) {
			*why = "an IPv6 literal in brackets, [2001:db8::1] or [2001:db8::1]:8443";
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(end - in - 1), in + 1);
		if (end[1] == ':')
			port = end + 2;
	} else if (strchr(in, ':') != strrchr(in, ':')) {
		snprintf(name, sizeof(name), "%s", in); /* a bare IPv6 literal: no port possible */
	} else {
		const char *colon = strchr(in, ':');

		snprintf(name, sizeof(name), "%.*s", (int)(colon ? colon - in : (ptrdiff_t)n), in);
		if (colon != NULL)
			port = colon + 1;
	}
	if (port != NULL) {
		char *e;
		unsigned long p;

		errno = 0;
		p = isdigit((unsigned char)port[0]) ? strtoul(port, &e, 10) : 0;
		if (p < 1 || p > 65535 || errno != 0 || *e != '\0') {
			*why = "a port from 1 to 65535 after the name";
			return -EINVAL;
		}
	}
	if (vg_addr_parse_str(name, &a6) == 0 && a6.family == 6) {
		vg_addr_format(&a6, t6, sizeof(t6));
		snprintf(out, outlen, "[%s]%s%s", t6, port ? ":" : "", port ? port : "");
		return 0;
	}
	if (!valid_dns_name(name)) {
		*why = "a DNS name (letters, digits, '-' and '.'), an IPv4 address or an IPv6 "
		       "address in brackets, with an optional :port";
		return -EINVAL;
	}
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (name[strlen(name) - 1] == '.')
		name[strlen(name) - 1] = '\0'; /* "vigil.example." is "vigil.example" */
	if (snprintf(out, outlen, "%s%s%s", name, port ? ":" : "", port ? port : "") >=
			(int)outlen) {
		*why = "a shorter name";
		return -EINVAL;
	}
	return 0;
}

static int
parse_hosts(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct mg_config *c = obj;
	int n;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	n = vg_yaml_seq_len(v);
	if (n > MG_MAX_HOSTS) {
		vg_yaml_err(y, v, "'%s': at most %d names", key, MG_MAX_HOSTS);
		return -EINVAL;
	}
	c->n_hosts = 0;
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		const char *s = vg_yaml_scalar(y, it, key);
		const char *why;

		if (s == NULL)
			continue;
		if (mg_host_canon(s, c->hosts[c->n_hosts], sizeof(c->hosts[0]), &why) != 0) {
			vg_yaml_err(y, it, "'%s': '%.80s' is not %s", key, s, why);
			continue;
		}
		c->n_hosts++;
	}
	return 0;
}

static int
parse_port(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct mg_config *c = obj;
	uint64_t p;

	if (vg_yaml_u64(y, v, key, 1, 65535, &p) != 0)
		return -EINVAL;
	c->port = (uint16_t)p;
	return 0;
}

const struct vg_yaml_field mg_config_yaml_fields[] = {
	{ .name = "enabled", .type = VG_YT_BOOL, .off = MG_OFF(enabled) },
	{ .name = "listen", .type = VG_YT_CUSTOM, .parse = parse_listen },
	{ .name = "port", .type = VG_YT_CUSTOM, .parse = parse_port },
	{ .name = "tokens", .type = VG_YT_CUSTOM, .parse = parse_tokens },
	{ .name = "tls", .type = VG_YT_CUSTOM, .parse = parse_tls },
	{ .name = "allow_unauthenticated_loopback",
			.type = VG_YT_BOOL,
			.off = MG_OFF(allow_unauthenticated_loopback) },
	{ .name = "unauthenticated_role", .type = VG_YT_CUSTOM, .parse = parse_unauth_role },
	{ .name = "hosts", .type = VG_YT_CUSTOM, .parse = parse_hosts },
	{ .name = "max_body",
			.type = VG_YT_SIZE64,
			.off = MG_OFF(max_body),
			.min = 1024,
			.max = 256ULL << 20 },
	{ .name = "max_connections",
			.type = VG_YT_U32,
			.off = MG_OFF(max_connections),
			.min = 1,
			.max = 65536 },
	{ .name = "max_connections_per_ip",
			.type = VG_YT_U32,
			.off = MG_OFF(max_connections_per_ip),
			.max = 65536 },
	{ .name = "timeout",
			.type = VG_YT_MS,
			.off = MG_OFF(timeout_ms),
			.min = 1000,
			.max = 3600 * 1000 },
	{ .name = "threads", .type = VG_YT_U32, .off = MG_OFF(threads), .min = 1, .max = 64 },
	{ .name = "job_threads",
			.type = VG_YT_U32,
			.off = MG_OFF(job_threads),
			.min = 1,
			.max = 64 },
	{ .name = "snapshot", .type = VG_YT_MS, .off = MG_OFF(snapshot_ms), .max = 10 * 1000 },
	{ .name = "www", .type = VG_YT_STRBUF, .off = MG_OFF(www), .max = VG_PATH_LEN },
	{ 0 },
};

int
mg_config_yaml_parse(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	struct mg_config *c = obj;
	unsigned before = y->errors;

	if (!vg_yaml_expect_map(y, n, "mgmt"))
		return -EINVAL;
	/* A section that is there means "serve the API", unless it says otherwise. */
	c->enabled = true;
	if (vg_yaml_map(y, n, "mgmt", mg_config_yaml_fields, c) != 0)
		return -EINVAL;
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		vg_yaml_err(y, n, "mgmt: tls needs both cert and key");
		return -EINVAL;
	}
	if (c->max_connections_per_ip > c->max_connections) {
		vg_yaml_err(y, n, "mgmt: max_connections_per_ip (%u) is above max_connections (%u)",
				c->max_connections_per_ip, c->max_connections);
		return -EINVAL;
	}
	if (c->enabled && c->n_hosts == 0 &&
			(strcmp(c->listen, "0.0.0.0") == 0 || strcmp(c->listen, "::") == 0))
		vg_yaml_warn(y, n,
				"mgmt: listening on every address, but hosts: names none: only "
				"requests for localhost, 127.0.0.1 or [::1] are answered (421 for "
				"the others); list the names and addresses clients use in "
				"mgmt.hosts");
	if (c->enabled && c->n_tokens == 0 && !c->allow_unauthenticated_loopback)
		vg_yaml_warn(y, n,
				"mgmt: no tokens and no unauthenticated loopback access: every "
				"request but /health, /ready and the OpenAPI document will get 401");
	return y->errors == before ? 0 : -EINVAL;
}
