/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_bpf_api.h"
#include "dp_tcp.h"
#include "mg_auth.h"
#include "ctl_preview.h"
#include "mg_fake_ctl.h"
#include "rl_policy.h"
#include "vg_yaml.h"

#define MAX_VERSIONS 64
#define MAX_AUDIT    256
#define MAX_BLOCKS   64
#define MAX_MAP	     8

struct version {
	int64_t id;
	enum ctl_text_kind kind;
	char *text;
	size_t len;
	char sha256[65];
	char source[96];
};

struct block {
	uint8_t family;
	uint8_t addr[16];
	uint32_t ttl;
	char reason[128];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* One eBPF map, "allowed4": IPv4 prefixes, MAX_MAP at most. */
static struct {
	char key[64];
	json_int_t value;
} map[MAX_MAP];
static unsigned n_map;
static struct version versions[MAX_VERSIONS];
static unsigned n_versions;
static int64_t next_id = 1;
static int64_t current[2] = { -1, -1 }; /* index in versions by kind */
static char mode[16] = "enforce";
static bool ready = true;
static char ready_why[128] = "ports up";
static bool busy;
static bool late;	     /* writes apply, but after their caller stopped waiting */
static uint64_t n_ops;	     /* operations of late writes, all applied */
static char op_what[8][128]; /* by id % 8 */
static const char *store_path;
static struct fake_audit audits[MAX_AUDIT];
static unsigned n_audits;
static struct ctl_flow_filter last_filter;
static unsigned last_limit;
static struct block blocks[MAX_BLOCKS];
static unsigned n_blocks;
static unsigned status_calls;
static unsigned compile_ms;

void
fake_ctl_reset(void)
{
	pthread_mutex_lock(&mu);
	for (unsigned i = 0; i < n_versions; i++)
		free(versions[i].text);
	n_versions = 0;
	next_id = 1;
	current[0] = current[1] = -1;
	strcpy(mode, "enforce");
	ready = true;
	strcpy(ready_why, "ports up");
	busy = false;
	late = false;
	n_ops = 0;
	store_path = NULL;
	n_audits = 0;
	memset(&last_filter, 0, sizeof(last_filter));
	last_limit = 0;
	n_blocks = 0;
	n_map = 0;
	status_calls = 0;
	compile_ms = 0;
	pthread_mutex_unlock(&mu);
}

unsigned
fake_ctl_status_calls(void)
{
	return __atomic_load_n(&status_calls, __ATOMIC_RELAXED);
}

void
fake_ctl_set_ready(bool r, const char *why)
{
	pthread_mutex_lock(&mu);
	ready = r;
	snprintf(ready_why, sizeof(ready_why), "%s", why);
	pthread_mutex_unlock(&mu);
}

void
fake_ctl_set_busy(bool b)
{
	busy = b;
}

void
fake_ctl_set_late(bool l)
{
	late = l;
}

/* A write that applied after its caller stopped waiting: -EINPROGRESS and its operation. */
static int
late_op(const char *what, uint64_t *op)
{
	pthread_mutex_lock(&mu);
	*op = ++n_ops;
	snprintf(op_what[*op % 8], sizeof(op_what[0]), "%s", what);
	pthread_mutex_unlock(&mu);
	return -EINPROGRESS;
}

json_t *
ctl_api_operation(struct ctl_ctx *ctx, uint64_t id)
{
	json_t *j = NULL;

	(void)ctx;
	pthread_mutex_lock(&mu);
	if (id >= 1 && id <= n_ops && id + 8 > n_ops)
		j = json_pack("{s:I, s:s, s:s, s:s, s:n, s:I, s:I}", "id", (json_int_t)id, "what",
				op_what[id % 8], "state", "done", "outcome", "applied", "error",
				"started_at_ns", (json_int_t)1, "finished_at_ns", (json_int_t)2);
	pthread_mutex_unlock(&mu);
	if (j == NULL)
		errno = ENOENT;
	return j;
}

void
fake_ctl_set_compile_ms(unsigned ms)
{
	compile_ms = ms;
}

void
fake_ctl_set_store_path(const char *path)
{
	store_path = path;
}

unsigned
fake_ctl_audit_count(void)
{
	unsigned n;

	pthread_mutex_lock(&mu);
	n = n_audits;
	pthread_mutex_unlock(&mu);
	return n;
}

const struct fake_audit *
fake_ctl_audit_get(unsigned i)
{
	return i < n_audits ? &audits[i] : NULL;
}

const struct ctl_flow_filter *
fake_ctl_last_flow_filter(unsigned *limit)
{
	*limit = last_limit;
	return &last_filter;
}

unsigned
fake_ctl_block_count(void)
{
	return n_blocks;
}

/* Status and metrics: the shape ctl_status_json() gives, with fixed numbers. */
json_t *
ctl_api_status(struct ctl_ctx *ctx)
{
	(void)ctx;
	__atomic_fetch_add(&status_calls, 1, __ATOMIC_RELAXED);
	return json_pack("{s:s, s:I, s:s, s:[{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:b, "
			 "s:I}}, {s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:b, s:I}}], "
			 "s:[{s:i, s:I, s:I, s:{s:I, s:I}}], s:{s:I, s:I, s:f, s:{s:I, s:I}}, "
			 "s:{s:I, s:{s:I}}, s:{s:I, s:I}, s:{s:I}, s:[{s:s, s:I, s:I, s:I, s:I}]}",
			"version", "0.1.0", "uptime_s", (json_int_t)42, "mode", mode, "ports",
			"name", "outside", "rx_packets", (json_int_t)1000, "rx_bytes",
			(json_int_t)64000, "tx_packets", (json_int_t)10, "tx_bytes",
			(json_int_t)640, "dropped", (json_int_t)5, "tx_full", (json_int_t)0,
			"rx_missed", (json_int_t)0, "rx_nombuf", (json_int_t)0, "link", "up", 1,
			"speed_mbps", (json_int_t)10000, "name", "in\"side", "rx_packets",
			(json_int_t)10, "rx_bytes", (json_int_t)640, "tx_packets", (json_int_t)995,
			"tx_bytes", (json_int_t)63680, "dropped", (json_int_t)0, "tx_full",
			(json_int_t)2, "rx_missed", (json_int_t)1, "rx_nombuf", (json_int_t)0,
			"link", "up", 0, "speed_mbps", (json_int_t)0, "workers", "id", 0, "loops",
			(json_int_t)123456, "busy_cycles", (json_int_t)99, "events", "sent",
			(json_int_t)7, "lost", (json_int_t)3, "flows", "active", (json_int_t)3,
			"capacity", (json_int_t)1024, "fill", 3.0 / 1024, "ended", "fin",
			(json_int_t)2, "timeout", (json_int_t)1, "parse", "dropped", (json_int_t)4,
			"errors", "ipv4_bad_checksum", (json_int_t)4, "policy", "dropped",
			(json_int_t)5, "would_drop", (json_int_t)0, "events", "lost", (json_int_t)3,
			"rules", "name", "web-in", "packets", (json_int_t)900, "bytes",
			(json_int_t)57600, "flows", (json_int_t)3, "would_drop", (json_int_t)0);
}

const char *const *
ctl_api_tcp_states(void)
{
	static const char *names[DP_TCP__COUNT + 1];

	for (unsigned s = 0; s < DP_TCP__COUNT; s++)
		names[s] = dp_tcp_state_name((enum dp_tcp_state)s);
	return names;
}

bool
ctl_api_ready(struct ctl_ctx *ctx, char *why, size_t len)
{
	bool r;

	(void)ctx;
	pthread_mutex_lock(&mu);
	r = ready;
	snprintf(why, len, "%s", ready_why);
	pthread_mutex_unlock(&mu);
	return r;
}

json_t *
ctl_api_metrics(struct ctl_ctx *ctx)
{
	return ctl_api_status(ctx);
}

const char *
ctl_api_mode(struct ctl_ctx *ctx)
{
	(void)ctx;
	/* Like the real one: a string that stays valid whatever the mode becomes. */
	return strcmp(mode, "dry-run") == 0 ? "dry-run" : "enforce";
}

int
ctl_api_set_mode(struct ctl_ctx *ctx, const char *m, const char *who, uint64_t *op, char *err,
		size_t errlen)
{
	(void)ctx;
	(void)who;
	if (busy) {
		snprintf(err, errlen, "control did not answer");
		return -EBUSY;
	}
	if (strcmp(m, "enforce") != 0 && strcmp(m, "dry-run") != 0) {
		snprintf(err, errlen, "mode '%s' is not one of: enforce, dry-run", m);
		return -EINVAL;
	}
	snprintf(mode, sizeof(mode), "%s", m);
	return late ? late_op("set the mode", op) : 0;
}

int
ctl_api_set_pair_mode(struct ctl_ctx *ctx, const char *m, const char *pair, const char *who,
		uint64_t *op, char *err, size_t errlen)
{
	if (pair != NULL) {
		snprintf(err, errlen, "pair: no pair has a port named '%.32s'", pair);
		return -EINVAL;
	}
	return ctl_api_set_mode(ctx, m, who, op, err, errlen);
}

int
ctl_api_pair_of(struct ctl_ctx *ctx, const char *port)
{
	(void)ctx;
	(void)port;
	return -1;
}

json_t *
ctl_api_pair_modes(struct ctl_ctx *ctx)
{
	(void)ctx;
	return json_array();
}

/* Texts ------------------------------------------------------------------------------------ */

static int
check_text(enum ctl_text_kind kind, const char *text, size_t len, struct vg_diag *diag)
{
	struct vg_yaml y;
	yaml_node_t *root;
	const char *name = kind == CTL_TEXT_POLICY ? "policy" : "signatures";
	int rc;

	if (compile_ms > 0)
		usleep(compile_ms * 1000);
	memset(&y, 0, sizeof(y));
	rc = vg_yaml_load_buf(&y, name, text, len, diag);
	if (rc != 0) {
		vg_yaml_free(&y);
		return -EINVAL;
	}
	root = vg_yaml_root(&y);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		vg_diag_add(diag, VG_SEV_ERROR, name, root ? vg_yaml_line(root) : 1,
				root ? vg_yaml_col(root) : 1, "the %s must be a mapping", name);
		vg_yaml_free(&y);
		return -EINVAL;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(&y, p->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE &&
				strcmp((const char *)k->data.scalar.value, "bad") == 0)
			vg_yaml_err(&y, k, "key 'bad' is not accepted");
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
				strcmp((const char *)k->data.scalar.value, "warn") == 0)
			vg_yaml_warn(&y, k, "key 'warn' is only a warning");
	}
	rc = y.errors > 0 ? -EINVAL : 0;
	vg_yaml_free(&y);
	return rc;
}

static json_t *
summary_of(const char *text, size_t len)
{
	unsigned lines = 0;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	return json_pack("{s:I, s:I}", "bytes", (json_int_t)len, "lines", (json_int_t)lines);
}

const char *
ctl_api_text_what(enum ctl_text_kind kind)
{
	return kind == CTL_TEXT_POLICY ? "policy" : "signature set";
}

json_t *
ctl_api_text_current(struct ctl_ctx *ctx, enum ctl_text_kind kind, char *err, size_t errlen)
{
	json_t *j = NULL;

	(void)ctx;
	pthread_mutex_lock(&mu);
	if (current[kind] < 0) {
		snprintf(err, errlen, "no %s is loaded",
				kind == CTL_TEXT_POLICY ? "policy" : "signature set");
		errno = ENOENT;
	} else {
		const struct version *v = &versions[current[kind]];

		j = json_pack("{s:I, s:s, s:s%, s:s, s:I}", "version", (json_int_t)v->id, "sha256",
				v->sha256, "text", v->text, v->len, "source", v->source,
				"applied_at_ns", (json_int_t)1700000000000000000LL);
	}
	pthread_mutex_unlock(&mu);
	return j;
}

int
ctl_api_text_validate(struct ctl_ctx *ctx, enum ctl_text_kind kind, const char *text, size_t len,
		struct vg_diag *diag, json_t **summary)
{
	int rc;

	(void)ctx;
	rc = check_text(kind, text, len, diag);
	if (rc == 0 && summary != NULL)
		*summary = summary_of(text, len);
	return rc;
}

/* The real preview (ctl_preview.c) over the fake's policy in force and the caller's store. */
int
ctl_api_policy_preview(struct ctl_ctx *ctx, struct ctl_store_reader *rd, const char *text,
		size_t len, int64_t since, int64_t until, const char *pair, unsigned max_changes,
		struct vg_diag *diag, json_t **out, char *err, size_t errlen)
{
	struct rl_policy *cand, *cur = NULL;
	struct vg_diag scratch;
	int rc;

	(void)ctx;
	*out = NULL;
	if (pair != NULL) {
		snprintf(err, errlen, "pair: no pair has a port named '%.32s'", pair);
		return -EINVAL;
	}
	rc = check_text(CTL_TEXT_POLICY, text, len, diag);
	if (rc != 0)
		return rc;
	cand = rl_policy_load_buf("candidate", text, len, NULL, diag);
	if (cand == NULL)
		return -EINVAL;
	vg_diag_init(&scratch);
	pthread_mutex_lock(&mu);
	if (current[CTL_TEXT_POLICY] >= 0)
		cur = rl_policy_load_buf("policy in force", versions[current[CTL_TEXT_POLICY]].text,
				versions[current[CTL_TEXT_POLICY]].len, NULL, &scratch);
	pthread_mutex_unlock(&mu);
	vg_diag_free(&scratch);
	*out = ctl_preview_run(rd, NULL, 0, cur, cand, since, until, max_changes, err, errlen);
	if (*out != NULL)
		json_object_set_new(*out, "current_version", json_null());
	rl_policy_free(cand);
	rl_policy_free(cur);
	return *out != NULL ? 0 : -EIO;
}

/* Promotion is tested against vigild (tests/api); the fake answers that it cannot. */
int
ctl_api_policy_rule_mode(struct ctl_ctx *ctx, const char *rule, bool dry_run, const char *who,
		int64_t if_match, struct vg_diag *diag, struct ctl_text_result *out, char *err,
		size_t errlen)
{
	(void)ctx, (void)rule, (void)dry_run, (void)who, (void)if_match, (void)diag, (void)out;
	snprintf(err, errlen, "the fake does not promote rules");
	return -ENOTSUP;
}

/* Learning needs the control loop's store: the fake answers as a vigild without one. */
static int
no_learning(char *err, size_t errlen)
{
	snprintf(err, errlen, "learning reads the flow history: the fake has no store");
	return -ENOTSUP;
}

int
ctl_api_learn(struct ctl_ctx *ctx, struct ctl_store_reader *rd, unsigned limit, json_t **out,
		char *err, size_t errlen)
{
	(void)ctx, (void)rd, (void)limit;
	*out = NULL;
	return no_learning(err, errlen);
}

int
ctl_api_learn_proposal(struct ctl_ctx *ctx, struct ctl_store_reader *rd, const json_t *only,
		struct vg_diag *diag, json_t **out, char *err, size_t errlen)
{
	(void)ctx, (void)rd, (void)only, (void)diag;
	*out = NULL;
	return no_learning(err, errlen);
}

int
ctl_api_learn_exclusions(struct ctl_ctx *ctx, json_t *exclude, const char *who, uint64_t *op,
		char *err, size_t errlen)
{
	(void)ctx, (void)exclude, (void)who, (void)op;
	return no_learning(err, errlen);
}

/* Store a version and make it current (mu held). */
static int
publish(enum ctl_text_kind kind, const char *text, size_t len, const char *source, int64_t if_match,
		struct vg_diag *diag, struct ctl_text_result *out)
{
	char sha[65];
	struct version *v;

	if (busy) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "control did not answer within 10 ms");
		return -EBUSY;
	}
	if (if_match >= 0 && (current[kind] < 0 || versions[current[kind]].id != if_match)) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0,
				"If-Match: version %lld is no longer the one in force",
				(long long)if_match);
		return -ESTALE;
	}
	mg_sha256_hex(text, len, sha);
	if (current[kind] >= 0 && strcmp(versions[current[kind]].sha256, sha) == 0) {
		out->version = versions[current[kind]].id;
		memcpy(out->sha256, sha, sizeof(sha));
		out->unchanged = true;
		return 0;
	}
	if (n_versions == MAX_VERSIONS) {
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "the fake keeps %d versions",
				MAX_VERSIONS);
		return -ENOSPC;
	}
	v = &versions[n_versions];
	v->text = malloc(len + 1);
	if (v->text == NULL)
		return -ENOMEM;
	memcpy(v->text, text, len);
	v->text[len] = '\0';
	v->len = len;
	v->kind = kind;
	v->id = next_id++;
	memcpy(v->sha256, sha, sizeof(sha));
	snprintf(v->source, sizeof(v->source), "%s", source);
	current[kind] = n_versions++;
	out->version = v->id;
	memcpy(out->sha256, sha, sizeof(sha));
	out->unchanged = false;
	out->summary = summary_of(text, len);
	return 0;
}

int
ctl_api_text_apply(struct ctl_ctx *ctx, enum ctl_text_kind kind, const char *text, size_t len,
		const char *who, int64_t if_match, struct vg_diag *diag,
		struct ctl_text_result *out)
{
	char source[96];
	int rc;

	(void)ctx;
	memset(out, 0, sizeof(*out));
	rc = check_text(kind, text, len, diag);
	if (rc != 0)
		return rc;
	snprintf(source, sizeof(source), "api:%s", who);
	pthread_mutex_lock(&mu);
	rc = publish(kind, text, len, source, if_match, diag, out);
	pthread_mutex_unlock(&mu);
	if (rc == 0 && late) {
		json_decref(out->summary);
		out->summary = NULL;
		return late_op("apply the text", &out->operation);
	}
	return rc;
}

int
ctl_api_text_rollback(struct ctl_ctx *ctx, enum ctl_text_kind kind, int64_t version,
		const char *who, struct vg_diag *diag, struct ctl_text_result *out)
{
	char source[96];
	int rc = -ENOENT;

	(void)ctx;
	memset(out, 0, sizeof(*out));
	snprintf(source, sizeof(source), "rollback:%lld by %s", (long long)version, who);
	pthread_mutex_lock(&mu);
	for (unsigned i = 0; i < n_versions; i++) {
		if (versions[i].id != version || versions[i].kind != kind)
			continue;
		rc = publish(kind, versions[i].text, versions[i].len, source, -1, diag, out);
		break;
	}
	if (rc == -ENOENT)
		vg_diag_add(diag, VG_SEV_ERROR, NULL, 0, 0, "no %s version %lld",
				kind == CTL_TEXT_POLICY ? "policy" : "signatures",
				(long long)version);
	pthread_mutex_unlock(&mu);
	return rc;
}

json_t *
ctl_api_text_versions(struct ctl_ctx *ctx, enum ctl_text_kind kind, unsigned limit, char *err,
		size_t errlen)
{
	json_t *a = json_array();

	(void)ctx;
	(void)err;
	(void)errlen;
	pthread_mutex_lock(&mu);
	for (unsigned i = n_versions; i-- > 0 && json_array_size(a) < limit;)
		if (versions[i].kind == kind)
			json_array_append_new(
					a, json_pack("{s:I, s:s, s:s, s:s}", "id",
							   (json_int_t)versions[i].id, "sha256",
							   versions[i].sha256, "source",
							   versions[i].source, "result", "ok"));
	pthread_mutex_unlock(&mu);
	return a;
}

json_t *
ctl_api_signature_report(struct ctl_ctx *ctx)
{
	(void)ctx;
	if (current[CTL_TEXT_SIGNATURES] < 0) {
		errno = ENOENT;
		return NULL;
	}
	return json_pack("{s:I, s:I, s:[]}", "rules_read", (json_int_t)3, "rules_loaded",
			(json_int_t)3, "rejected");
}

/* Flows, blocklist, counters ----------------------------------------------------------------- */

json_t *
ctl_api_flows_active(struct ctl_ctx *ctx, const struct ctl_flow_filter *f, unsigned limit)
{
	(void)ctx;
	last_filter = *f;
	last_limit = limit;
	return json_pack("[{s:s, s:i, s:s, s:i, s:s, s:s}]", "src", "10.0.0.1", "sport", 40000,
			"dst", "10.0.0.2", "dport", 443, "proto", "TCP", "state", "established");
}

json_t *
ctl_api_blocklist(struct ctl_ctx *ctx)
{
	json_t *a = json_array();
	char text[64];

	(void)ctx;
	pthread_mutex_lock(&mu);
	for (unsigned i = 0; i < n_blocks; i++) {
		inet_ntop(blocks[i].family == 4 ? AF_INET : AF_INET6, blocks[i].addr, text,
				sizeof(text));
		json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "address", text, "ttl",
							 (json_int_t)blocks[i].ttl, "reason",
							 blocks[i].reason));
	}
	pthread_mutex_unlock(&mu);
	return a;
}

static int
find_block(uint8_t family, const uint8_t *addr)
{
	for (unsigned i = 0; i < n_blocks; i++)
		if (blocks[i].family == family &&
				memcmp(blocks[i].addr, addr, family == 4 ? 4 : 16) == 0)
			return (int)i;
	return -1;
}

int
ctl_api_block_add(struct ctl_ctx *ctx, uint8_t family, const uint8_t *addr, uint32_t ttl_s,
		const char *reason, const char *who, uint64_t *op, char *err, size_t errlen)
{
	int i;

	(void)ctx;
	(void)who;
	if (busy) {
		snprintf(err, errlen, "control did not answer");
		return -EBUSY;
	}
	pthread_mutex_lock(&mu);
	i = find_block(family, addr);
	if (i < 0 && n_blocks == MAX_BLOCKS) {
		pthread_mutex_unlock(&mu);
		snprintf(err, errlen, "the blocklist is full");
		return -ENOSPC;
	}
	if (i < 0)
		i = (int)n_blocks++;
	memset(&blocks[i], 0, sizeof(blocks[i]));
	blocks[i].family = family;
	memcpy(blocks[i].addr, addr, family == 4 ? 4 : 16);
	blocks[i].ttl = ttl_s;
	snprintf(blocks[i].reason, sizeof(blocks[i].reason), "%s", reason);
	pthread_mutex_unlock(&mu);
	return late ? late_op("block", op) : 0;
}

int
ctl_api_block_remove(struct ctl_ctx *ctx, uint8_t family, const uint8_t *addr, const char *who,
		uint64_t *op, char *err, size_t errlen)
{
	int i;

	(void)ctx;
	(void)who;
	pthread_mutex_lock(&mu);
	i = find_block(family, addr);
	if (i >= 0)
		blocks[i] = blocks[--n_blocks];
	pthread_mutex_unlock(&mu);
	if (i < 0) {
		snprintf(err, errlen, "the address is not blocked");
		return -ENOENT;
	}
	return late ? late_op("unblock", op) : 0;
}

json_t *
ctl_api_workers(struct ctl_ctx *ctx)
{
	(void)ctx;
	return json_pack("{s:f, s:[{s:i, s:i, s:I, s:I, s:{s:I, s:I, s:I}, s:[{s:s, s:i, s:I}]}]}",
			"interval_s", 1.0, "workers", "id", 0, "lcore", 1, "flows", (json_int_t)3,
			"rx_packets", (json_int_t)1010, "handoff", "out", (json_int_t)0, "in",
			(json_int_t)0, "lost", (json_int_t)0, "queues", "port", "outside", "queue",
			0, "rx_packets", (json_int_t)1000);
}

json_t *
ctl_api_rule_counters(struct ctl_ctx *ctx)
{
	(void)ctx;
	return json_pack("{s:[{s:i, s:s, s:I}]}", "policy", "index", 0, "name", "(default)",
			"packets", (json_int_t)12);
}

int
ctl_api_audit(struct ctl_ctx *ctx, const char *who, const char *method, const char *path,
		const char *request, int status)
{
	(void)ctx;
	pthread_mutex_lock(&mu);
	if (n_audits < MAX_AUDIT) {
		struct fake_audit *a = &audits[n_audits++];

		snprintf(a->who, sizeof(a->who), "%s", who);
		snprintf(a->method, sizeof(a->method), "%s", method);
		snprintf(a->path, sizeof(a->path), "%s", path);
		snprintf(a->request, sizeof(a->request), "%s", request);
		a->status = status;
	}
	pthread_mutex_unlock(&mu);
	return 0;
}

const char *
ctl_api_store_path(struct ctl_ctx *ctx)
{
	(void)ctx;
	return store_path;
}

/* eBPF maps: one lpm map "allowed4" of IPv4 prefixes --------------------------------------------
 */

json_t *
ctl_api_bpf_maps(struct ctl_ctx *ctx)
{
	json_t *j;

	(void)ctx;
	if (busy)
		return NULL;
	pthread_mutex_lock(&mu);
	j = json_pack("{s:[{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:n}]}", "items", "name", "allowed4",
			"rule", "lan", "program", "/p/allow_list.o", "kind", "lpm", "family", 4,
			"max_entries", MAX_MAP, "count", (int)n_map, "file");
	pthread_mutex_unlock(&mu);
	return j;
}

int
ctl_api_bpf_map_entries(
		struct ctl_ctx *ctx, const char *name, json_t **out, char *err, size_t errlen)
{
	json_t *items = json_array();

	(void)ctx;
	*out = NULL;
	if (strcmp(name, "allowed4") != 0) {
		snprintf(err, errlen, "no map '%s' in the policy in force (maps: allowed4)", name);
		json_decref(items);
		return -ENOENT;
	}
	pthread_mutex_lock(&mu);
	for (unsigned i = 0; i < n_map; i++)
		json_array_append_new(items,
				json_pack("{s:s, s:I}", "key", map[i].key, "value", map[i].value));
	pthread_mutex_unlock(&mu);
	*out = json_pack("{s:s, s:s, s:[s], s:I, s:o}", "name", name, "kind", "lpm", "rules", "lan",
			"count", (json_int_t)json_array_size(items), "items", items);
	return 0;
}

static int
map_find(const char *key)
{
	for (unsigned i = 0; i < n_map; i++)
		if (strcmp(map[i].key, key) == 0)
			return (int)i;
	return -1;
}

int
ctl_api_bpf_map_change(struct ctl_ctx *ctx, const char *name, const json_t *entries, bool del,
		const char *who, uint64_t *op, json_t **out, json_t **details, char *err,
		size_t errlen)
{
	size_t n = json_array_size(entries), fresh = 0;
	int rc = 0;

	(void)ctx;
	(void)who;
	*out = NULL, *details = NULL;
	if (busy) {
		snprintf(err, errlen, "control did not answer");
		return -EBUSY;
	}
	if (strcmp(name, "allowed4") != 0) {
		snprintf(err, errlen, "no map '%s' in the policy in force (maps: allowed4)", name);
		return -ENOENT;
	}
	pthread_mutex_lock(&mu);
	/* As the real one: every entry checked before anything changes. */
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_t *k = json_object_get(json_array_get(entries, i), "key");
		char a[64], m[32];
		uint8_t b[4];
		const char *ks = json_string_value(k);

		snprintf(a, sizeof(a), "%s", ks ? ks : "");
		a[strcspn(a, "/")] = '\0';
		snprintf(m, sizeof(m), del ? "keys[%zu]" : "entries[%zu].key", i);
		if (ks == NULL || inet_pton(AF_INET, a, b) != 1) {
			snprintf(err, errlen, "%s: %s: not an IPv4 prefix",
					del ? "query parameter 'keys'" : "request body", m);
			*details = json_pack("{s:s}", "member", m);
			rc = -EINVAL;
		} else if (del && map_find(ks) < 0) {
			snprintf(err, errlen,
					"query parameter 'keys': entry %zu: %s is not in map 'allowed4'",
					i, ks);
			*details = json_pack("{s:s}", "member", "keys");
			rc = -EINVAL;
		}
		fresh += !del && map_find(ks) < 0;
	}
	if (rc == 0 && n_map + fresh > MAX_MAP) {
		snprintf(err, errlen, "request body: map 'allowed4' is full (max_entries %d)",
				MAX_MAP);
		*details = json_pack("{s:s}", "member", "entries");
		rc = -EINVAL;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const json_t *it = json_array_get(entries, i);
		const char *ks = json_string_value(json_object_get(it, "key"));
		int at = map_find(ks);

		if (del) {
			map[at] = map[--n_map];
			continue;
		}
		if (at < 0)
			at = (int)n_map++;
		snprintf(map[at].key, sizeof(map[at].key), "%s", ks);
		map[at].value = json_integer_value(json_object_get(it, "value"));
	}
	if (rc == 0)
		*out = json_pack("{s:s, s:[s], s:I, s:I}", "name", name, "rules", "lan", "changed",
				(json_int_t)n, "count", (json_int_t)n_map);
	pthread_mutex_unlock(&mu);
	if (rc == 0 && late)
		return late_op("bpf map", op);
	return rc;
}

/* Uploaded eBPF programs: the fake has no store (the real folder is tested in tests/api). */
int
ctl_api_bpf_upload(struct ctl_ctx *ctx, const char *name, const void *obj, size_t len,
		const char *maps, size_t maps_len, bool apply, const char *who, uint64_t *op,
		json_t **out, char *err, size_t errlen)
{
	(void)ctx, (void)name, (void)obj, (void)len, (void)maps, (void)maps_len, (void)apply;
	(void)who;
	*out = NULL;
	if (op != NULL)
		*op = 0;
	snprintf(err, errlen, "uploaded programs are kept next to the store: configure store.path");
	return -ENOTSUP;
}

int
ctl_api_bpf_programs(struct ctl_ctx *ctx, const char *name, json_t **out, char *err, size_t errlen)
{
	return ctl_api_bpf_upload(ctx, name, NULL, 0, NULL, 0, false, NULL, NULL, out, err, errlen);
}

int
ctl_api_bpf_program_select(struct ctl_ctx *ctx, const char *name, const char *sha, const char *who,
		uint64_t *op, json_t **out, char *err, size_t errlen)
{
	(void)sha, (void)who;
	*op = 0;
	return ctl_api_bpf_upload(ctx, name, NULL, 0, NULL, 0, false, NULL, NULL, out, err, errlen);
}

int
ctl_api_bpf_program_delete(
		struct ctl_ctx *ctx, const char *sha, json_t **out, char *err, size_t errlen)
{
	(void)sha;
	return ctl_api_bpf_upload(ctx, NULL, NULL, 0, NULL, 0, false, NULL, NULL, out, err, errlen);
}

int
ctl_api_bpf_validate(struct ctl_ctx *ctx, const void *obj, size_t len, const char *maps,
		size_t maps_len, json_t **out, char *err, size_t errlen)
{
	(void)obj, (void)maps, (void)maps_len;
	return ctl_api_bpf_upload(
			ctx, NULL, NULL, len, NULL, 0, false, NULL, NULL, out, err, errlen);
}
