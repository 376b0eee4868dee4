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

/* The loader's message names the file it read: say "upload" instead of the scratch path. */
static void
loader_message(const char *path, const char *msg, char *err, size_t errlen)
{
	size_t n = strlen(path);

	if (strncmp(msg, path, n) == 0)
		snprintf(err, errlen, "upload%s", msg + n);
	else
		snprintf(err, errlen, "%s", msg);
}

int
ctl_bpf_prog_upload(const char *dir, const char *name, const void *obj, size_t len, const char *who,
		uint64_t now_ns, json_t **out, char *err, size_t errlen)
{
	char sha[65], path[PATH_MAX], scratch[PATH_MAX], msg[1536], cur[65];
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
	rc = ctl_store_sha256_hex(obj, len, sha);
	if (rc != 0) {
		snprintf(err, errlen, "SHA-256 failed");
		return rc;
	}
	pthread_mutex_lock(&upload_lock);
	rc = ensure_dirs(dir, err, errlen);
	if (rc != 0)
		goto out;
	/* The loader reads a file: the scratch copy, checked before anything is kept. A program
	 * that uses maps needs its maps file next to it, which an upload does not bring. */
	snprintf(scratch, sizeof(scratch), "%s/.upload-%s.o", dir, sha);
	rc = write_file(scratch, obj, len, err, errlen);
	if (rc != 0)
		goto out;
	p = rl_bpf_load(scratch, 1, true, msg, sizeof(msg));
	if (p == NULL) {
		loader_message(scratch, msg, err, errlen);
		unlink(scratch);
		rc = -EINVAL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.o", dir, sha);
	rec = read_record(dir, sha);
	unchanged = rec != NULL && access(path, R_OK) == 0;
	if (unchanged) {
		unlink(scratch);
	} else {
		json_decref(rec);
		rec = json_pack("{s:s, s:o, s:I, s:i, s:s, s:I, s:s}", "sha256", sha, "name",
				name != NULL ? json_string(name) : json_null(), "size",
				(json_int_t)len, "instructions", (int)rl_bpf_n_insns(p), "mode",
				rl_bpf_jitted(p) ? "jit" : "interpreter", "uploaded_ns",
				(json_int_t)now_ns, "by", who != NULL ? who : "");
		char *text = rec != NULL ? json_dumps(rec, JSON_COMPACT) : NULL;
		char rpath[PATH_MAX];

		snprintf(rpath, sizeof(rpath), "%s/%s.json", dir, sha);
		if (text == NULL) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
		} else if (rename(scratch, path) != 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		} else {
			rc = write_file(rpath, text, strlen(text), err, errlen);
		}
		free(text);
		unlink(scratch);
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
ctl_bpf_prog_check(const char *dir, const void *obj, size_t len, json_t **out, char *err,
		size_t errlen)
{
	char sha[65], scratch[PATH_MAX], msg[1536];
	struct rl_bpf_prog *p;
	int fd, rc = 0;

	*out = NULL;
	if (len == 0 || len > CTL_BPF_PROG_MAX_SIZE) {
		snprintf(err, errlen, "an object of %zu bytes; 1 to %u accepted", len,
				CTL_BPF_PROG_MAX_SIZE);
		return -EINVAL;
	}
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
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", scratch, strerror(-rc));
		if (fd >= 0)
			unlink(scratch);
		return rc;
	}
	p = rl_bpf_load(scratch, 1, true, msg, sizeof(msg));
	unlink(scratch);
	if (p == NULL) {
		loader_message(scratch, msg, err, errlen);
		return -EINVAL;
	}
	*out = json_pack("{s:b, s:s, s:I, s:i, s:s}", "valid", 1, "sha256", sha, "size",
			(json_int_t)len, "instructions", (int)rl_bpf_n_insns(p), "mode",
			rl_bpf_jitted(p) ? "jit" : "interpreter");
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
	snprintf(path, sizeof(path), "%s/%s.o", dir, sha);
	if (unlink(path) != 0 && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.json", dir, sha);
	if (unlink(path) != 0 && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
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
