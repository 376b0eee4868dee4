/* SPDX-License-Identifier: BSD-3-Clause */
/* eBPF objects uploaded through the API: checked by the loader, stored by SHA-256. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_bpf_prog.h"
#include "ctl_store.h"
#include "rl_bpf.h"
#include "vg_diag.h"
#include "vg_yaml.h"

static pthread_mutex_t upload_lock = PTHREAD_MUTEX_INITIALIZER;

void
ctl_bpf_prog_dir(const char *store_path, char *out, size_t len)
{
	char *copy = strdup(store_path);

	snprintf(out, len, "%s/bpf-programs", copy != NULL ? dirname(copy) : ".");
	free(copy);
}

static int
ensure_dirs(const char *dir, char *err, size_t errlen)
{
	char names[PATH_MAX];

	snprintf(names, sizeof(names), "%s/names", dir);
	if ((mkdir(dir, 0750) != 0 && errno != EEXIST) ||
			(mkdir(names, 0750) != 0 && errno != EEXIST)) {
		int rc = -errno;

		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	return 0;
}

/* Write len bytes to path (new, then renamed over it: never a half-written file). */
static int
write_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}

/* names/NAME.o -> ../HEX.o, replaced atomically. */
static int
link_name(const char *dir, const char *name, const char *sha, char *err, size_t errlen)
{
	char target[96], path[PATH_MAX], tmp[PATH_MAX + 8];

	snprintf(target, sizeof(target), "../%s.o", sha);
	snprintf(path, sizeof(path), "%s/names/%s.o", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	unlink(tmp);
	if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
		int rc = -errno;

		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return 0;
}

/* The SHA-256 the name points at ("" when none). */
void
ctl_bpf_prog_current(const char *dir, const char *name, char sha[65])
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	sha[0] = '\0';
	snprintf(path, sizeof(path), "%s/names/%s.o", dir, name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n == 3 + 64 + 2 && strncmp(target, "../", 3) == 0) {
		memcpy(sha, target + 3, 64);
		sha[64] = '\0';
	}
}

static json_t *
read_record(const char *dir, const char *sha)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.json", dir, sha);
	return json_load_file(path, 0, NULL);
}

/* msg with every path replaced by word, into out. */
static void
replace_all(const char *msg, const char *path, const char *word, char *out, size_t len)
{
	size_t n = strlen(path), o = 0;
	const char *at;

	out[0] = '\0';
	while (o + 1 < len && (at = strstr(msg, path)) != NULL) {
		o += (size_t)snprintf(out + o, len - o, "%.*s%s", (int)(at - msg), msg, word);
		msg = at + n;
	}
	if (o + 1 < len)
		snprintf(out + o, len - o, "%s", msg);
}

/* The loader's message names the files it read: say "upload" and "maps" instead of the
 * scratch paths. */
static void
loader_message(const char *path, const char *msg, char *err, size_t errlen)
{
	char mpath[PATH_MAX], none[PATH_MAX + 8], tmp[2048], tmp2[2048];

	rl_bpf_maps_path(path, mpath, sizeof(mpath));
	snprintf(none, sizeof(none), "(no %s)", mpath);
	replace_all(msg, none,
			"(send its maps declaration with it: application/json {\"object\": "
			"base64, \"maps\": YAML})",
			tmp2, sizeof(tmp2));
	replace_all(tmp2, mpath, "maps", tmp, sizeof(tmp));
	replace_all(tmp, path, "upload", err, errlen);
}

/*
 * An upload's maps declaration (prog.maps.yaml's text): within its size, and naming no `file`
 * (an upload brings no fill files, and a path would have vigild read any file: its maps are
 * filled through the API). The loader checks everything else. 0, or -EINVAL with err.
 */
static int
maps_text_ok(const char *maps, size_t len, char *err, size_t errlen)
{
	struct vg_diag diag;
	struct vg_yaml y = { 0 };
	yaml_node_t *root, *list = NULL;
	int rc = 0;

	if (len == 0 || len > CTL_BPF_PROG_MAPS_MAX || memchr(maps, '\0', len) != NULL) {
		snprintf(err, errlen, "maps: a declaration of 1 to %u bytes of text",
				CTL_BPF_PROG_MAPS_MAX);
		return -EINVAL;
	}
	vg_diag_init(&diag);
	if (vg_yaml_load_buf(&y, "maps", maps, len, &diag) != 0 ||
			(root = vg_yaml_root(&y)) == NULL || root->type != YAML_MAPPING_NODE) {
		rc = -EINVAL;
		snprintf(err, errlen, "maps: %s",
				diag.n > 0 ? diag.v[0].msg
					   : "a mapping with 'maps:', a list of maps (docs/BPF.md)");
		goto out;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(&y, p->key);

		if (k != NULL && k->type == YAML_SCALAR_NODE &&
				strcmp((const char *)k->data.scalar.value, "maps") == 0)
			list = vg_yaml_node(&y, p->value);
	}
	for (yaml_node_item_t *it = list != NULL && list->type == YAML_SEQUENCE_NODE
						    ? list->data.sequence.items.start
						    : NULL;
			it != NULL && it < list->data.sequence.items.top && rc == 0; it++) {
		yaml_node_t *m = vg_yaml_node(&y, *it);

		for (yaml_node_pair_t *p = m != NULL && m->type == YAML_MAPPING_NODE
							   ? m->data.mapping.pairs.start
							   : NULL;
				p != NULL && p < m->data.mapping.pairs.top; p++) {
			yaml_node_t *k = vg_yaml_node(&y, p->key);

			if (k != NULL && k->type == YAML_SCALAR_NODE &&
					strcmp((const char *)k->data.scalar.value, "file") == 0) {
				snprintf(err, errlen,
						"maps:%u:%u: 'file' is not for uploads (an upload brings "
						"no files: fill the map through PUT "
						"/api/v1/bpf/maps/NAME/entries)",
						vg_yaml_line(k), vg_yaml_col(k));
				rc = -EINVAL;
				break;
			}
		}
	}
out:
	vg_yaml_free(&y);
	vg_diag_free(&diag);
	return rc;
}

/* Whether the maps file at path holds exactly text (len bytes; NULL: there is no file). */
static bool
same_maps(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	bool same;

	if (f == NULL)
		return text == NULL;
	buf = malloc(CTL_BPF_PROG_MAPS_MAX + 1);
	n = buf != NULL ? fread(buf, 1, CTL_BPF_PROG_MAPS_MAX + 1, f) : 0;
	fclose(f);
	same = buf != NULL && text != NULL && n == len && memcmp(buf, text, len) == 0;
	free(buf);
	return same;
}

/* The names of p's maps, as a JSON list. */
static json_t *
map_names(const struct rl_bpf_prog *p)
{
	const struct rl_bpf_maps *ms = rl_bpf_maps(p);
	json_t *a = json_array();

	for (unsigned i = 0; a != NULL && ms != NULL && i < ms->n; i++)
		json_array_append_new(a, json_string(rl_bpf_map_name(ms->m[i])));
	return a;
}

int
ctl_bpf_prog_upload(const char *dir, const char *name, const void *obj, size_t len,
		const char *maps, size_t maps_len, const char *who, uint64_t now_ns, json_t **out,
		char *err, size_t errlen)
{
	char sha[65], path[PATH_MAX], scratch[PATH_MAX], msg[1536], cur[65];
	char smaps[PATH_MAX], mpath[PATH_MAX];
	struct rl_bpf_prog *p;
	json_t *rec = NULL;
	bool unchanged;
	int rc;

	*out = NULL;
	if (len == 0 || len > CTL_BPF_PROG_MAX_SIZE) {
		snprintf(err, errlen, "an object of %zu bytes; 1 to %u accepted", len,
				CTL_BPF_PROG_MAX_SIZE);
		return -EINVAL;
	}
	if (name != NULL && !ctl_bpf_prog_name_ok(name)) {
		snprintf(err, errlen,
				"'%.80s' is not a program name (lower-case letters, digits, "
				"'_' and '-', 1 to 64)",
				name);
		return -EINVAL;
	}
	if (maps != NULL && maps_text_ok(maps, maps_len, err, errlen) != 0)
		return -EINVAL;
	rc = ctl_store_sha256_hex(obj, len, sha);
	if (rc != 0) {
		snprintf(err, errlen, "SHA-256 failed");
		return rc;
	}
	pthread_mutex_lock(&upload_lock);
	rc = ensure_dirs(dir, err, errlen);
	if (rc != 0)
		goto out;
	/* The loader reads files: the scratch copies, checked before anything is kept. A program
	 * that uses maps needs its maps declaration next to it (HEX.maps.yaml), which the upload
	 * brings with the object. */
	snprintf(scratch, sizeof(scratch), "%s/.upload-%s.o", dir, sha);
	rl_bpf_maps_path(scratch, smaps, sizeof(smaps));
	unlink(smaps);
	rc = write_file(scratch, obj, len, err, errlen);
	if (rc == 0 && maps != NULL)
		rc = write_file(smaps, maps, maps_len, err, errlen);
	if (rc != 0) {
		unlink(scratch);
		goto out;
	}
	p = rl_bpf_load(scratch, 1, true, msg, sizeof(msg));
	if (p == NULL) {
		loader_message(scratch, msg, err, errlen);
		unlink(scratch);
		unlink(smaps);
		rc = -EINVAL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.o", dir, sha);
	rl_bpf_maps_path(path, mpath, sizeof(mpath));
	rec = read_record(dir, sha);
	unchanged = rec != NULL && access(path, R_OK) == 0;
	if (unchanged && !same_maps(mpath, maps, maps_len)) {
		/* One SHA-256, one upload: its maps cannot change under a pinned policy. */
		snprintf(err, errlen,
				"upload %.12s is kept already %s: an object's SHA-256 names one upload "
				"(DELETE it first, or change the object)",
				sha,
				access(mpath, F_OK) == 0 ? "with another maps declaration"
							 : "without maps");
		rc = -EEXIST;
		unlink(scratch);
		unlink(smaps);
	} else if (unchanged) {
		unlink(scratch);
		unlink(smaps);
	} else {
		json_decref(rec);
		rec = json_pack("{s:s, s:o, s:I, s:i, s:s, s:I, s:s}", "sha256", sha, "name",
				name != NULL ? json_string(name) : json_null(), "size",
				(json_int_t)len, "instructions", (int)rl_bpf_n_insns(p), "mode",
				rl_bpf_jitted(p) ? "jit" : "interpreter", "uploaded_ns",
				(json_int_t)now_ns, "by", who != NULL ? who : "");
		if (maps != NULL && rec != NULL)
			json_object_set_new(rec, "maps", map_names(p));
		char *text = rec != NULL ? json_dumps(rec, JSON_COMPACT) : NULL;
		char rpath[PATH_MAX];

		snprintf(rpath, sizeof(rpath), "%s/%s.json", dir, sha);
		/* The maps first: a policy never finds the object without its declaration. */
		if (text == NULL) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
		} else if (maps != NULL ? rename(smaps, mpath) != 0
					: unlink(mpath) != 0 && errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", mpath, strerror(errno));
		} else if (rename(scratch, path) != 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		} else {
			rc = write_file(rpath, text, strlen(text), err, errlen);
		}
		free(text);
		unlink(scratch);
		unlink(smaps);
	}
	rl_bpf_free(p);
	if (rc == 0 && name != NULL)
		rc = link_name(dir, name, sha, err, errlen);
	if (rc == 0) {
		json_object_set_new(rec, "unchanged", json_boolean(unchanged));
		if (name != NULL) {
			ctl_bpf_prog_current(dir, name, cur);
			json_object_set_new(rec, "current", json_boolean(strcmp(cur, sha) == 0));
		}
		*out = rec;
		rec = NULL;
	}
out:
	pthread_mutex_unlock(&upload_lock);
	json_decref(rec);
	return rc;
}

int
ctl_bpf_prog_check(const char *dir, const void *obj, size_t len, const char *maps, size_t maps_len,
		json_t **out, char *err, size_t errlen)
{
	char sha[65], scratch[PATH_MAX], smaps[PATH_MAX], msg[1536];
	struct rl_bpf_prog *p;
	int fd, rc = 0;

	*out = NULL;
	if (len == 0 || len > CTL_BPF_PROG_MAX_SIZE) {
		snprintf(err, errlen, "an object of %zu bytes; 1 to %u accepted", len,
				CTL_BPF_PROG_MAX_SIZE);
		return -EINVAL;
	}
	if (maps != NULL && maps_text_ok(maps, maps_len, err, errlen) != 0)
		return -EINVAL;
	if (ctl_store_sha256_hex(obj, len, sha) != 0) {
		snprintf(err, errlen, "SHA-256 failed");
		return -EIO;
	}
	if (dir != NULL && ensure_dirs(dir, err, errlen) != 0)
		dir = NULL;
	snprintf(scratch, sizeof(scratch), "%s/.check-XXXXXX.o", dir != NULL ? dir : P_tmpdir);
	fd = mkstemps(scratch, 2);
	if (fd < 0 || write(fd, obj, len) != (ssize_t)len)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	rl_bpf_maps_path(scratch, smaps, sizeof(smaps));
	if (rc == 0 && maps != NULL)
		rc = write_file(smaps, maps, maps_len, err, errlen);
	else if (rc != 0)
		snprintf(err, errlen, "%s: %s", scratch, strerror(-rc));
	if (rc != 0) {
		if (fd >= 0)
			unlink(scratch);
		return rc;
	}
	p = rl_bpf_load(scratch, 1, true, msg, sizeof(msg));
	unlink(scratch);
	if (maps != NULL)
		unlink(smaps);
	if (p == NULL) {
		loader_message(scratch, msg, err, errlen);
		return -EINVAL;
	}
	*out = json_pack("{s:b, s:s, s:I, s:i, s:s}", "valid", 1, "sha256", sha, "size",
			(json_int_t)len, "instructions", (int)rl_bpf_n_insns(p), "mode",
			rl_bpf_jitted(p) ? "jit" : "interpreter");
	if (*out != NULL && maps != NULL)
		json_object_set_new(*out, "maps", map_names(p));
	rl_bpf_free(p);
	return *out != NULL ? 0 : -ENOMEM;
}

static int
by_time_desc(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "uploaded_ns"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "uploaded_ns"));

	return x < y ? 1 : x > y ? -1 : 0;
}

int
ctl_bpf_prog_list(const char *dir, const char *name, json_t **out, char *err, size_t errlen)
{
	json_t **v = NULL, *items = json_array();
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	*out = NULL;
	if (items == NULL)
		return -ENOMEM;
	d = opendir(dir);
	if (d == NULL && errno != ENOENT) {
		int rc = -errno;

		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		json_decref(items);
		return rc;
	}
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char sha[65];
		json_t *rec;
		const char *rn;

		if (l != 64 + 5 || strcmp(e->d_name + 64, ".json") != 0)
			continue;
		memcpy(sha, e->d_name, 64);
		sha[64] = '\0';
		rec = read_record(dir, sha);
		if (rec == NULL)
			continue;
		rn = json_string_value(json_object_get(rec, "name"));
		if (name != NULL && (rn == NULL || strcmp(rn, name) != 0)) {
			json_decref(rec);
			continue;
		}
		if (rn != NULL) {
			char cur[65];

			ctl_bpf_prog_current(dir, rn, cur);
			json_object_set_new(rec, "current", json_boolean(strcmp(cur, sha) == 0));
		}
		if (n == cap) {
			json_t **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (nv == NULL) {
				json_decref(rec);
				break;
			}
			v = nv;
		}
		v[n++] = rec;
	}
	if (d != NULL)
		closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), by_time_desc);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, v[i]);
	free(v);
	*out = json_pack("{s:o}", "items", items);
	return *out != NULL ? 0 : -ENOMEM;
}

int
ctl_bpf_prog_select(const char *dir, const char *name, const char *sha, json_t **out, char *err,
		size_t errlen)
{
	json_t *rec;
	const char *rn;
	char cur[65];
	int rc;

	*out = NULL;
	if (!ctl_bpf_prog_name_ok(name) || sha == NULL || strlen(sha) != 64 ||
			strspn(sha, "0123456789abcdef") != 64) {
		snprintf(err, errlen,
				"expected a program name and a SHA-256 (64 lower-case hex "
				"digits)");
		return -EINVAL;
	}
	pthread_mutex_lock(&upload_lock);
	rec = read_record(dir, sha);
	rn = rec != NULL ? json_string_value(json_object_get(rec, "name")) : NULL;
	if (rn == NULL || strcmp(rn, name) != 0) {
		snprintf(err, errlen,
				"no upload %.64s named '%s' (GET /api/v1/bpf/programs?name=%s "
				"lists them)",
				sha, name, name);
		rc = -ENOENT;
	} else {
		rc = link_name(dir, name, sha, err, errlen);
	}
	pthread_mutex_unlock(&upload_lock);
	if (rc != 0) {
		json_decref(rec);
		return rc;
	}
	ctl_bpf_prog_current(dir, name, cur);
	json_object_set_new(rec, "current", json_boolean(strcmp(cur, sha) == 0));
	*out = rec;
	return 0;
}

/* The newest upload of name other than but (into sha, "" when none). Under upload_lock. */
static void
newest_other(const char *dir, const char *name, const char *but, char sha[65])
{
	json_int_t best = -1;
	struct dirent *e;
	DIR *d = opendir(dir);

	sha[0] = '\0';
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		json_t *rec;
		const char *rn;
		json_int_t t;
		char s[65];

		if (l != 64 + 5 || strcmp(e->d_name + 64, ".json") != 0 ||
				strncmp(e->d_name, but, 64) == 0)
			continue;
		memcpy(s, e->d_name, 64);
		s[64] = '\0';
		rec = read_record(dir, s);
		rn = json_string_value(json_object_get(rec, "name"));
		t = json_integer_value(json_object_get(rec, "uploaded_ns"));
		if (rn != NULL && strcmp(rn, name) == 0 && t > best) {
			best = t;
			memcpy(sha, s, 65);
		}
		json_decref(rec);
	}
	if (d != NULL)
		closedir(d);
}

/* Remove upload sha's files: the object, its maps declaration, its record (in that order: a
 * record without its object lists nothing that runs). Under upload_lock. */
static int
remove_files(const char *dir, const char *sha, char *err, size_t errlen)
{
	static const char *const ext[] = { "o", "maps.yaml", "json" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.%s", dir, sha, ext[i]);
		if (unlink(path) != 0 && errno != ENOENT) {
			int rc = -errno;

			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return rc;
		}
	}
	return 0;
}

int
ctl_bpf_prog_delete(const char *dir, const char *sha, json_t **out, char *err, size_t errlen)
{
	char path[PATH_MAX], now[65];
	json_t *rec, *names = json_array();
	struct dirent *e;
	DIR *d;
	int rc = 0;

	*out = NULL;
	if (sha == NULL || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64) {
		snprintf(err, errlen, "expected a SHA-256 (64 lower-case hex digits)");
		json_decref(names);
		return -EINVAL;
	}
	if (names == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&upload_lock);
	rec = read_record(dir, sha);
	if (rec == NULL) {
		snprintf(err, errlen, "no upload %.64s (GET /api/v1/bpf/programs lists them)", sha);
		rc = -ENOENT;
		goto out;
	}
	/* Names that mean it move to their newest other upload, or go. */
	snprintf(path, sizeof(path), "%s/names", dir);
	d = opendir(path);
	while (d != NULL && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char name[CTL_BPF_PROG_NAME_MAX + 1], cur[65];

		if (l < 3 || l - 2 > CTL_BPF_PROG_NAME_MAX || strcmp(e->d_name + l - 2, ".o") != 0)
			continue;
		memcpy(name, e->d_name, l - 2);
		name[l - 2] = '\0';
		ctl_bpf_prog_current(dir, name, cur);
		if (strcmp(cur, sha) != 0)
			continue;
		newest_other(dir, name, sha, now);
		if (now[0] != '\0') {
			rc = link_name(dir, name, now, err, errlen);
		} else {
			snprintf(path, sizeof(path), "%s/names/%s", dir, e->d_name);
			if (unlink(path) != 0) {
				rc = -errno;
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
			}
		}
		if (rc != 0)
			break;
		json_array_append_new(
				names, json_pack("{s:s, s:o}", "name", name, "now",
						       now[0] ? json_string(now) : json_null()));
	}
	if (d != NULL)
		closedir(d);
	if (rc != 0)
		goto out;
	rc = remove_files(dir, sha, err, errlen);
	if (rc != 0)
		goto out;
	json_object_set_new(rec, "deleted", json_true());
	json_object_set_new(rec, "names", names);
	names = NULL;
	*out = rec;
	rec = NULL;
out:
	pthread_mutex_unlock(&upload_lock);
	json_decref(rec);
	json_decref(names);
	return rc;
}

int
ctl_bpf_prog_restore(const char *dir, const char *name, const char *prev, const char *drop,
		char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc = 0;

	if (!ctl_bpf_prog_name_ok(name)) {
		snprintf(err, errlen, "'%.80s' is not a program name", name);
		return -EINVAL;
	}
	pthread_mutex_lock(&upload_lock);
	if (prev[0] != '\0') {
		rc = link_name(dir, name, prev, err, errlen);
	} else {
		snprintf(path, sizeof(path), "%s/names/%s.o", dir, name);
		if (unlink(path) != 0 && errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		}
	}
	if (rc == 0 && drop != NULL)
		rc = remove_files(dir, drop, err, errlen);
	pthread_mutex_unlock(&upload_lock);
	return rc;
}
