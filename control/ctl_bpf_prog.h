/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eBPF objects uploaded through the management API (docs/BPF.md, "Uploading programs"): each
 * is checked by the same loader as the policy's programs (rl_bpf_load: vigild's limits, then
 * rte_bpf's validator), and only then stored in a folder, by its SHA-256:
 *
 *   DIR/HEX.o        the object, as uploaded
 *   DIR/HEX.json     {sha256, name, size, instructions, mode, uploaded_ns, by}
 *   DIR/names/NAME.o a link to the newest upload named NAME
 *
 * A policy names one as `bpf: sha256:HEX` (that object, whatever comes later) or `bpf:
 * upload:NAME` (the newest one of the name when the policy compiles); rules/rl_policy.h. The
 * folder is DIR(store.path)/bpf-programs: uploads need the store, as versions do.
 *
 * Any thread; uploads are serialised by a lock of their own (the loader serialises its
 * validator runs itself). Errors are -errno with err filled:
 *   -EINVAL  not an object vigild would run: err is the loader's message (422)
 *   -ENOENT  no such upload (404)
 *   -EIO, -ENOMEM ...
 */
#ifndef CTL_BPF_PROG_H
#define CTL_BPF_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

/* Largest object accepted (bytes): an eBPF object of RL_BPF_MAX_INSNS instructions with its
 * symbols and relocations is far smaller. */
#define CTL_BPF_PROG_MAX_SIZE (1024u * 1024u)

/* Largest maps declaration an upload may bring (bytes of YAML). */
#define CTL_BPF_PROG_MAPS_MAX (64u * 1024u)

/* Names: lower-case letters, digits, '_' and '-', 1 to 64. */
#define CTL_BPF_PROG_NAME_MAX 64u

/* The folder for a store at store_path (out: len bytes). */
void ctl_bpf_prog_dir(const char *store_path, char *out, size_t len);

/* True when name is a valid upload name (inline: the management API checks names itself). */
static inline bool
ctl_bpf_prog_name_ok(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	return n > 0 && n <= CTL_BPF_PROG_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/*
 * Check obj (len bytes) with the loader and store it as DIR/HEX.o with its record, name (may be
 * NULL) pointing at it; who and now_ns go into the record. maps (maps_len bytes, or NULL): the
 * program's maps declaration (a prog.maps.yaml's text, without `file`), kept as
 * DIR/HEX.maps.yaml where the loader finds it; the record then lists the maps' names. *out: the
 * record, with "unchanged": true when the same object was uploaded already with the same maps
 * (its first record is kept; the name still moves to it); -EEXIST when it was kept with other
 * maps (or without). Nothing is stored when the loader refuses it.
 */
int ctl_bpf_prog_upload(const char *dir, const char *name, const void *obj, size_t len,
		const char *maps, size_t maps_len, const char *who, uint64_t now_ns, json_t **out,
		char *err, size_t errlen);

/*
 * Check obj (len bytes) with the loader without keeping it (a scratch file in dir, or in the
 * temporary folder when dir is NULL), with its maps declaration when maps is not NULL (as for an
 * upload). *out: {valid: true, sha256, size, instructions, mode, maps (with maps)}.
 */
int ctl_bpf_prog_check(const char *dir, const void *obj, size_t len, const char *maps,
		size_t maps_len, json_t **out, char *err, size_t errlen);

/* The records, newest first (name: only that name's), each with "current": whether its name
 * points at it. {"items": [...]} in *out. */
int ctl_bpf_prog_list(const char *dir, const char *name, json_t **out, char *err, size_t errlen);

/* The SHA-256 name points at, into sha ("" when none). */
void ctl_bpf_prog_current(const char *dir, const char *name, char sha[65]);

/* Point name at the earlier upload sha (one of that name): what `upload:NAME` means from the
 * next compile of the policy. *out: its record. */
int ctl_bpf_prog_select(const char *dir, const char *name, const char *sha, json_t **out, char *err,
		size_t errlen);

/*
 * Remove upload sha: its object and its record. Each name that means it moves to its newest
 * other upload, or is removed when it has none. The caller checks that no policy in force runs
 * it. *out: its record with "deleted": true and "names": [{name, now: HEX or null}]. -EINVAL a
 * malformed SHA-256, -ENOENT no such upload.
 */
int ctl_bpf_prog_delete(const char *dir, const char *sha, json_t **out, char *err, size_t errlen);

/*
 * Undo a move of name that did not go into force (an upload with apply, or a rollback, that the
 * policy in force refused): name means prev again (goes when prev is ""), and when drop is not
 * NULL, the upload drop goes too (its object, maps declaration and record: an upload that was
 * stored by the refused request, which no other name means).
 */
int ctl_bpf_prog_restore(const char *dir, const char *name, const char *prev, const char *drop,
		char *err, size_t errlen);

#endif /* CTL_BPF_PROG_H */
