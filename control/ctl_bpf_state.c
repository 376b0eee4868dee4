/* SPDX-License-Identifier: BSD-3-Clause */
/* The eBPF maps' entries across restarts: a state file per map name, restored through the carry. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl_bpf_api.h"
#include "ctl_bpf_state.h"
#include "ctl_ctx.h"
#include "rl_bpf.h"
#include "rl_bpf_map.h"
#include "rl_compile.h"
#include "vg_log.h"

#define STATE_FORMAT 1

struct ctl_bpf_state {
	char *dir;     /* NULL: nothing kept */
	bool restored; /* ctl_bpf_state_restore() ran */
	bool said;     /* "not persisted" was logged */
	/* Names whose last write failed. */
	char (*failed)[RL_BPF_MAP_NAME_MAX];
	unsigned n_failed, cap_failed;
};

void
ctl_bpf_state_dir(const char *store_path, char *out, size_t len)
{
	char *copy = strdup(store_path);

	snprintf(out, len, "%s/bpf-maps", copy != NULL ? dirname(copy) : ".");
	free(copy);
}

struct ctl_bpf_state *
ctl_bpf_state_create(const char *dir)
{
	struct ctl_bpf_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	if (dir != NULL && (st->dir = strdup(dir)) == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

void
ctl_bpf_state_free(struct ctl_bpf_state *st)
{
	if (st == NULL)
		return;
	free(st->dir);
	free(st->failed);
	free(st);
}

static void
state_path(const struct ctl_bpf_state *st, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s.json", st->dir, name);
}

/* ---------------------------------------------------------------------------------------- */
/* Writing                                                                                   */

static void
set_failed(struct ctl_bpf_state *st, const char *name, bool failed)
{
	unsigned i;

	for (i = 0; i < st->n_failed; i++)
		if (strcmp(st->failed[i], name) == 0)
			break;
	if (!failed && i < st->n_failed) {
		memmove(st->failed[i], st->failed[st->n_failed - 1], sizeof(st->failed[i]));
		st->n_failed--;
	} else if (failed && i == st->n_failed) {
		if (st->n_failed == st->cap_failed) {
			unsigned cap = st->cap_failed ? st->cap_failed * 2 : 8;
			void *v = realloc(st->failed, cap * sizeof(*st->failed));

			if (v == NULL)
				return; /* then persisted() says true for it: the log said why */
			st->failed = v, st->cap_failed = cap;
		}
		snprintf(st->failed[st->n_failed++], sizeof(st->failed[0]), "%s", name);
	}
}

bool
ctl_bpf_state_persisted(const struct ctl_bpf_state *st, const char *name)
{
	if (st == NULL || st->dir == NULL)
		return false;
	for (unsigned i = 0; i < st->n_failed; i++)
		if (strcmp(st->failed[i], name) == 0)
			return false;
	return true;
}

void
ctl_bpf_state_note_unsaved(struct ctl_bpf_state *st)
{
	if (st == NULL || st->dir != NULL || st->said)
		return;
	st->said = true;
	CTL_LOG(NOTICE, "bpf maps: no store (store.path): changes to maps through the API are not "
			"kept across a restart (reloads keep them)");
}

struct entries_json {
	const struct rl_bpf_map *m;
	json_t *a;
};

static void
entry_json(void *arg, const struct rl_bpf_map_entry *e)
{
	struct entries_json *w = arg;

	json_array_append_new(w->a, ctl_bpf_entry_json(w->m, e));
}

/* One map's item: its owner, declaration, entries and file's entries. */
static json_t *
map_json(struct rl_bpf_map *m, const char *owner, bool pre)
{
	struct rl_bpf_map_entry *now;
	uint32_t n;
	json_t *o;

	if (rl_bpf_map_copy(m, &now, &n) != 0)
		return NULL;
	struct entries_json ent = { m, json_array() }, file = { m, json_array() };

	for (uint32_t i = 0; ent.a != NULL && i < n; i++)
		entry_json(&ent, &now[i]);
	free(now);
	if (file.a != NULL)
		rl_bpf_map_walk_file(m, entry_json, &file);
	o = json_pack("{s:s, s:I, s:o*, s:o*, s:o*}", pre ? "prefilter" : "rule", owner,
			"max_entries", (json_int_t)rl_bpf_map_max_entries(m), "file",
			rl_bpf_map_file(m) ? json_string(rl_bpf_map_file(m)) : json_null(),
			"entries", ent.a, "file_entries", file.a);
	if (o == NULL || ent.a == NULL || file.a == NULL) {
		json_decref(o);
		return NULL;
	}
	ctl_bpf_map_shape_json(o, m);
	return o;
}

/* Every map named name in s, as the state file's "maps" (empty when s has none). */
static json_t *
maps_of(const struct rl_snapshot *s, const char *name)
{
	json_t *a = json_array();

	for (unsigned i = 0; a != NULL && i < rl_snapshot_n_rules(s) + rl_snapshot_n_prefilters(s);
			i++) {
		const char *owner;
		bool pre;
		const struct rl_bpf_prog *prog = rl_snapshot_program(s, i, &owner, &pre);
		struct rl_bpf_maps *ms = prog != NULL ? rl_bpf_maps(prog) : NULL;

		for (unsigned k = 0; ms != NULL && k < ms->n; k++) {
			json_t *o;

			if (strcmp(rl_bpf_map_name(ms->m[k]), name) != 0)
				continue;
			o = map_json(ms->m[k], owner, pre);
			if (o == NULL || json_array_append_new(a, o) != 0) {
				json_decref(a);
				return NULL;
			}
		}
	}
	return a;
}

/* doc into path: a new file, synced, renamed over the old one, the folder synced. */
static int
write_atomic(const char *dir, const char *path, const json_t *doc)
{
	char tmp[PATH_MAX + 8];
	int fd, dfd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (json_dumpfd(doc, fd, JSON_INDENT(1)) != 0 || write(fd, "\n", 1) != 1)
		rc = errno ? -errno : -EIO;
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	/* The rename itself outlives a power cut once the folder is synced. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) != 0)
			rc = -errno;
		close(dfd);
	}
	return rc;
}

int
ctl_bpf_state_save(struct ctl_bpf_state *st, const struct rl_snapshot *s, const char *name,
		char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_t *maps, *doc;
	int rc;

	err[0] = '\0';
	if (st == NULL || st->dir == NULL) {
		snprintf(err, errlen, "no store (store.path): the maps' state is not kept");
		return -ENOTSUP;
	}
	state_path(st, name, path, sizeof(path));
	maps = s != NULL ? maps_of(s, name) : json_array();
	if (maps == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (json_array_size(maps) == 0) { /* no such map in force: nothing to keep */
		json_decref(maps);
		rc = unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
		goto out;
	}
	doc = json_pack("{s:i, s:s, s:I, s:o}", "format", STATE_FORMAT, "name", name, "saved_ns",
			(json_int_t)ctl_wall_ns(), "maps", maps);
	if (doc == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = mkdir(st->dir, 0750) == 0 || errno == EEXIST ? 0 : -errno;
	if (rc == 0)
		rc = write_atomic(st->dir, path, doc);
	json_decref(doc);
out:
	set_failed(st, name, rc != 0);
	if (rc != 0) {
		snprintf(err, errlen,
				"%s: %s: the map's changes are in force but will not outlive a "
				"restart until it is written",
				path, strerror(-rc));
		CTL_LOG(WARNING, "bpf maps: map %s: %s", name, err);
	}
	return rc;
}

static bool
name_in(const char *const *names, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

unsigned
ctl_bpf_state_save_all(struct ctl_bpf_state *st, const struct rl_snapshot *s)
{
	unsigned max;
	const char **names;
	unsigned n = 0, saved = 0, failed = 0, removed = 0;
	char err[PATH_MAX + 256];
	DIR *d;
	struct dirent *de;

	if (st == NULL || st->dir == NULL || s == NULL)
		return 0;
	max = (rl_snapshot_n_rules(s) + rl_snapshot_n_prefilters(s)) * RL_BPF_MAX_MAPS;
	names = calloc(max ? max : 1, sizeof(*names));
	if (names == NULL) {
		CTL_LOG(WARNING, "bpf maps: out of memory: the maps' state is not saved");
		return 0;
	}
	for (unsigned i = 0; i < rl_snapshot_n_rules(s) + rl_snapshot_n_prefilters(s); i++) {
		const char *owner;
		bool pre;
		const struct rl_bpf_prog *prog = rl_snapshot_program(s, i, &owner, &pre);
		struct rl_bpf_maps *ms = prog != NULL ? rl_bpf_maps(prog) : NULL;

		for (unsigned k = 0; ms != NULL && k < ms->n; k++) {
			const char *name = rl_bpf_map_name(ms->m[k]);

			if (name_in(names, n, name))
				continue;
			names[n++] = name;
			if (ctl_bpf_state_save(st, s, name, err, sizeof(err)) == 0)
				saved++;
			else
				failed++;
		}
	}
	/* The state of a map no longer in force goes, as a reload would lose its entries. */
	d = opendir(st->dir);
	while (d != NULL && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char name[RL_BPF_MAP_NAME_MAX], path[PATH_MAX];

		if (len <= 5 || len - 5 >= sizeof(name) ||
				strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 5), de->d_name);
		if (name_in(names, n, name))
			continue;
		state_path(st, name, path, sizeof(path));
		if (unlink(path) == 0)
			removed++;
	}
	if (d != NULL)
		closedir(d);
	free(names);
	if (saved + failed + removed > 0)
		CTL_LOG(INFO,
				"bpf maps: state saved in %s: %u map%s written, %u failed, %u of maps "
				"no longer in force removed",
				st->dir, saved, saved == 1 ? "" : "s", failed, removed);
	return saved;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading                                                                                   */

/* Set path aside as path.bad, and say where and why in one line. */
static void
set_aside(const char *path, const char *name, const char *why)
{
	char bad[PATH_MAX + 8];

	snprintf(bad, sizeof(bad), "%s.bad", path);
	if (rename(path, bad) == 0)
		CTL_LOG(WARNING, "bpf maps: %s: %s; set aside as %s: map %s starts from its file",
				path, why, bad, name);
	else
		CTL_LOG(WARNING,
				"bpf maps: %s: %s; cannot set it aside (%s): map %s starts from its "
				"file",
				path, why, strerror(errno), name);
}

/* An entry list of the state file: [{key: string, value: integer}]; why says what is wrong. */
static bool
entries_ok(const json_t *a, const char *member, unsigned item, char *why, size_t len)
{
	size_t i;
	const json_t *e;

	if (!json_is_array(a)) {
		snprintf(why, len, "maps[%u].%s: not a list", item, member);
		return false;
	}
	json_array_foreach(a, i, e)
	{
		if (!json_is_object(e) || !json_is_string(json_object_get(e, "key")) ||
				!json_is_integer(json_object_get(e, "value")) ||
				json_object_size(e) != 2) {
			snprintf(why, len,
					"maps[%u].%s[%zu]: not {\"key\": string, \"value\": integer}",
					item, member, i);
			return false;
		}
	}
	return true;
}

/* The string member key of o is one of a or b. */
static bool
one_of(const json_t *o, const char *key, const char *a, const char *b)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL && (strcmp(v, a) == 0 || strcmp(v, b) == 0);
}

/* Item i of the state file's "maps"; why says what is wrong. */
static bool
map_ok(const json_t *m, size_t i, char *why, size_t len)
{
	json_int_t family = json_integer_value(json_object_get(m, "family"));

	if (!json_is_object(m) || !(json_is_string(json_object_get(m, "rule")) ||
						  json_is_string(json_object_get(m, "prefilter"))))
		snprintf(why, len, "maps[%zu]: no 'rule' or 'prefilter'", i);
	else if (!one_of(m, "kind", "lpm", "hash"))
		snprintf(why, len, "maps[%zu].kind: not \"lpm\" or \"hash\"", i);
	else if (one_of(m, "kind", "lpm", "lpm") && family != 4 && family != 6)
		snprintf(why, len, "maps[%zu].family: not 4 or 6", i);
	else if (one_of(m, "kind", "hash", "hash") && !one_of(m, "key", "u64", "addr"))
		snprintf(why, len, "maps[%zu].key: not \"u64\" or \"addr\"", i);
	else if (entries_ok(json_object_get(m, "entries"), "entries", (unsigned)i, why, len))
		entries_ok(json_object_get(m, "file_entries"), "file_entries", (unsigned)i, why,
				len);
	return why[0] == '\0';
}

/* The state file of name: NULL when there is none, or when it is set aside (logged). */
static json_t *
load(const struct ctl_bpf_state *st, const char *name, char *path, size_t len)
{
	char why[512];
	json_error_t je;
	json_t *doc, *maps, *m;
	size_t i;

	state_path(st, name, path, len);
	if (access(path, F_OK) != 0)
		return NULL;
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL) {
		if (je.line > 0)
			snprintf(why, sizeof(why), "line %d, column %d: %s", je.line, je.column,
					je.text);
		else
			snprintf(why, sizeof(why), "%s", je.text);
		set_aside(path, name, why);
		return NULL;
	}
	maps = json_object_get(doc, "maps");
	why[0] = '\0';
	if (!json_is_object(doc))
		snprintf(why, sizeof(why), "not a JSON object");
	else if (json_integer_value(json_object_get(doc, "format")) != STATE_FORMAT)
		snprintf(why, sizeof(why), "'format' is not %d", STATE_FORMAT);
	else if (!json_is_string(json_object_get(doc, "name")) ||
			strcmp(json_string_value(json_object_get(doc, "name")), name) != 0)
		snprintf(why, sizeof(why), "'name' is not '%s'", name);
	else if (!json_is_array(maps) || json_array_size(maps) == 0)
		snprintf(why, sizeof(why), "'maps' is not a list of maps");
	json_array_foreach(maps, i, m)
	{
		if (why[0] != '\0' || !map_ok(m, i, why, sizeof(why)))
			break;
	}
	if (why[0] != '\0') {
		set_aside(path, name, why);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* The saved map of owner (a pre-filter when pre) in doc's "maps", else the first (*index). */
static const json_t *
pick(const json_t *doc, const char *owner, bool pre, size_t *index)
{
	const json_t *maps = json_object_get(doc, "maps"), *m;
	size_t i;

	json_array_foreach(maps, i, m)
	{
		const char *o = json_string_value(json_object_get(m, pre ? "prefilter" : "rule"));

		if (o != NULL && strcmp(o, owner) == 0) {
			*index = i;
			return m;
		}
	}
	*index = 0;
	return json_array_get(maps, 0);
}

/* The entries of list (checked by load()) as m reads them; -EINVAL with why naming one. */
static int
parse_list(const struct rl_bpf_map *m, const json_t *list, const char *member, size_t item,
		struct rl_bpf_map_entry **out, uint32_t *n, char *why, size_t len)
{
	size_t cnt = json_array_size(list), i;
	const json_t *e;

	*n = 0;
	*out = calloc(cnt ? cnt : 1, sizeof(**out));
	if (*out == NULL) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(list, i, e)
	{
		char r[400];

		if (rl_bpf_map_parse(m, json_string_value(json_object_get(e, "key")),
				    (uint64_t)json_integer_value(json_object_get(e, "value")),
				    &(*out)[i], r, sizeof(r)) != 0) {
			snprintf(why, len, "maps[%zu].%s[%zu]: %s", item, member, i, r);
			return -EINVAL;
		}
	}
	*n = (uint32_t)cnt;
	return 0;
}

/* Restore m (of owner) from doc (read from path). */
static bool
restore_one(struct rl_bpf_map *m, const char *owner, bool pre, const json_t *doc, const char *path)
{
	const char *name = rl_bpf_map_name(m);
	size_t item;
	const json_t *s = pick(doc, owner, pre, &item);
	const char *kind = json_string_value(json_object_get(s, "kind"));
	const char *key = json_string_value(json_object_get(s, "key"));
	enum rl_bpf_map_kind k = strcmp(kind, "lpm") == 0 ? RL_BPF_MAP_LPM : RL_BPF_MAP_HASH;
	enum rl_bpf_key_type kt = k == RL_BPF_MAP_LPM	    ? RL_BPF_KEY_PREFIX
				  : strcmp(key, "u64") == 0 ? RL_BPF_KEY_U64
							    : RL_BPF_KEY_ADDR;
	unsigned family = k == RL_BPF_MAP_LPM ? (unsigned)json_integer_value(
								json_object_get(s, "family"))
					      : 0;
	struct rl_bpf_map_entry *now = NULL, *file = NULL;
	uint32_t n_now = 0, n_file = 0;
	char why[600], when[32];
	time_t t = (time_t)(json_integer_value(json_object_get(doc, "saved_ns")) / 1000000000);
	struct tm tm;
	int rc;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	if (k != rl_bpf_map_kind(m) || kt != rl_bpf_map_key_type(m) ||
			family != rl_bpf_map_family(m)) {
		/* Its declaration changed: the restore says how (and touches nothing). */
		rc = rl_bpf_map_restore(m, k, kt, family, NULL, 0, NULL, 0, why, sizeof(why));
	} else {
		rc = parse_list(m, json_object_get(s, "entries"), "entries", item, &now, &n_now,
				why, sizeof(why));
		if (rc == 0)
			rc = parse_list(m, json_object_get(s, "file_entries"), "file_entries", item,
					&file, &n_file, why, sizeof(why));
		if (rc == -EINVAL) {
			set_aside(path, name, why);
			free(now), free(file);
			return false;
		}
		if (rc == 0)
			rc = rl_bpf_map_restore(m, k, kt, family, now, n_now, file, n_file, why,
					sizeof(why));
	}
	free(now), free(file);
	if (rc == -EINVAL) { /* a key twice: not a file control wrote */
		set_aside(path, name, why);
		return false;
	}
	if (rc != 0) {
		CTL_LOG(WARNING,
				"bpf maps: %s '%s': map %s not restored from %s (%s); it starts from "
				"its file",
				pre ? "prefilter" : "rule", owner, name, path, why);
		return false;
	}
	CTL_LOG(NOTICE,
			"bpf maps: %s '%s': map %s restored from %s (saved %s with %u entries; "
			"%u with its file's changes since)",
			pre ? "prefilter" : "rule", owner, name, path, when, n_now,
			rl_bpf_map_count(m));
	return true;
}

unsigned
ctl_bpf_state_restore(struct ctl_bpf_state *st, struct rl_snapshot *to)
{
	unsigned restored = 0;

	if (st == NULL || st->restored || to == NULL)
		return 0;
	st->restored = true;
	if (st->dir == NULL)
		return 0;
	for (unsigned i = 0; i < rl_snapshot_n_rules(to) + rl_snapshot_n_prefilters(to); i++) {
		const char *owner;
		bool pre;
		struct rl_bpf_prog *prog = rl_snapshot_program(to, i, &owner, &pre);
		struct rl_bpf_maps *ms = prog != NULL ? rl_bpf_maps(prog) : NULL;

		for (unsigned k = 0; ms != NULL && k < ms->n; k++) {
			char path[PATH_MAX];
			json_t *doc = load(st, rl_bpf_map_name(ms->m[k]), path, sizeof(path));

			if (doc == NULL)
				continue;
			restored += restore_one(ms->m[k], owner, pre, doc, path);
			json_decref(doc);
		}
	}
	return restored;
}
