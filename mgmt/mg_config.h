/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The `mgmt:` section of the appliance config: where the REST API listens, who may use it, and
 * the limits that keep a misbehaving client from hurting the appliance.
 *
 * The API runs only when the config has a `mgmt:` section (and it does not say enabled: false):
 * a daemon started for a capture replay or a test opens no socket it was not asked to open.
 *
 * Tokens are never in the config: each entry holds the SHA-256 of the token (64 hex digits,
 * `printf %s "$TOKEN" | sha256sum`), its name (recorded in the audit log) and its role.
 */
#ifndef MG_CONFIG_H
#define MG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "vg_config.h"
#include "vg_yaml.h"

#define MG_MAX_TOKENS	  64
#define MG_TOKEN_NAME_LEN 64
#define MG_LISTEN_LEN	  64
#define MG_MAX_HOSTS	  16
#define MG_HOST_LEN	  260 /* a DNS name (253), brackets and a port */

/* Roles are ordered: each one may do everything the ones below it may. */
enum mg_role {
	MG_ROLE_NONE = 0,
	MG_ROLE_VIEWER = 1,   /* every read */
	MG_ROLE_OPERATOR = 2, /* + mode, blocklist */
	MG_ROLE_ADMIN = 3,    /* + policy, signatures, audit log */
};

struct mg_token {
	char name[MG_TOKEN_NAME_LEN];
	int role; /* enum mg_role */
	uint8_t sha256[32];
};

struct mg_config {
	bool enabled; /* true once a mgmt: section is read, unless it says enabled: false */
	char listen[MG_LISTEN_LEN]; /* IPv4 or IPv6 literal; 0.0.0.0 or :: for every address */
	uint16_t port;
	struct mg_token tokens[MG_MAX_TOKENS];
	unsigned n_tokens;
	char tls_cert[VG_PATH_LEN]; /* PEM files; both set: HTTPS, neither: HTTP */
	char tls_key[VG_PATH_LEN];
	bool allow_unauthenticated_loopback; /* requests without a token from 127/8 or ::1 ... */
	int unauthenticated_role; /* ... get this role: at most MG_ROLE_VIEWER (they only read) */
	/* Host names the API answers to, besides localhost, 127.0.0.1, [::1] and the listen
	 * address: "name", "name:port", "192.0.2.1", "[2001:db8::1]:8443" (lower case, IPv6 in
	 * brackets and in its canonical form). Without a port, the server's port. */
	char hosts[MG_MAX_HOSTS][MG_HOST_LEN];
	unsigned n_hosts;
	uint64_t max_body; /* bytes of a request body */
	uint32_t max_connections;
	uint32_t max_connections_per_ip;
	uint64_t timeout_ms;   /* a connection idle this long is closed (whole seconds) */
	uint32_t threads;      /* libmicrohttpd I/O threads (fast routes) */
	uint32_t job_threads;  /* threads for routes that wait (control, compiling, store) */
	uint64_t snapshot_ms;  /* status and metrics are rebuilt at most this often; 0: always */
	char www[VG_PATH_LEN]; /* static dashboard files served at /; empty: none */
};

/*
 * Defaults: disabled, 127.0.0.1:8080, no tokens, no TLS, no unauthenticated access (role
 * viewer if it is allowed, the only role it may have), no extra host names, 1 MiB bodies, 256
 * connections (64 per address), 10 s idle timeout, 2 I/O and 4 job threads, status and metrics
 * snapshots of at most 100 ms, no dashboard.
 */
void mg_config_defaults(struct mg_config *c);

/* The field table of the section (without tokens and tls, which are nested). */
extern const struct vg_yaml_field mg_config_yaml_fields[];

/*
 * Parse a `mgmt:` mapping into obj (a struct mg_config holding defaults), for
 * vg_config_load_sections(). Every problem is reported at its line and column. Returns 0 or
 * -EINVAL.
 */
int mg_config_yaml_parse(struct vg_yaml *y, yaml_node_t *n, void *obj);

/* "viewer", "operator", "admin" ("none" for MG_ROLE_NONE). */
const char *mg_role_name(int role);

/* Role by name; -1 when name is not a role. */
int mg_role_parse(const char *name);

/*
 * A Host name as the config gives it ("Vigil.Example", "192.0.2.1:8443", "2001:db8::1",
 * "[2001:DB8::1]:443") into its canonical form in out: lower case, IPv6 in brackets as
 * inet_ntop writes it, the port kept when given. Returns 0, or -EINVAL with *why saying what
 * would be accepted.
 */
int mg_host_canon(const char *in, char *out, size_t outlen, const char **why);

#endif /* MG_CONFIG_H */
