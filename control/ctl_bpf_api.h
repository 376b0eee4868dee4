/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The eBPF programs' maps for the management API (docs/BPF.md, "Maps"; docs/API.md): list the
 * maps of the policy in force, list a map's entries, put or remove entries without reloading
 * anything. As ctl_api.h: callable from a management thread, the work runs on control (which
 * also publishes policies, so the maps cannot go away meanwhile); errors are -errno with err:
 *   -ENOENT      no map of that name in the policy in force                     -> 404
 *   -EINVAL      an entry is wrong, missing (delete) or does not fit: details
 *                name the member (entries[i].key), nothing changed               -> 400
 *   -EBUSY, -EINPROGRESS  as ctl_api.h                                           -> 503, 202
 * A map name may be declared by the programs of several rules: a change applies to each, after
 * every one of them has accepted it.
 */
#ifndef CTL_BPF_API_H
#define CTL_BPF_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_ctx.h"

struct rl_bpf_map;
struct rl_bpf_map_entry;

/*
 * One entry of map m as the API answers it and the state files keep it: {"key": its text,
 * "value": n}, a value past INT64_MAX as the negative number of the same 64 bits (read back as
 * the same bits). NULL when out of memory.
 */
json_t *ctl_bpf_entry_json(const struct rl_bpf_map *m, const struct rl_bpf_map_entry *e);

/* Map m's shape into o, as the API and the state files give it: "kind", and "family" (lpm) or
 * "key" (hash: "u64" or "addr"). */
void ctl_bpf_map_shape_json(json_t *o, const struct rl_bpf_map *m);

/* {"items": [{name, rule, program, kind, family | key, max_entries, count, file}]}; NULL: no
 * answer from control. */
json_t *ctl_api_bpf_maps(struct ctl_ctx *ctx);

/* *out: {name, kind, rules, count, items: [{key, value}]}. */
int ctl_api_bpf_map_entries(
		struct ctl_ctx *ctx, const char *name, json_t **out, char *err, size_t errlen);

/*
 * entries: a JSON array of {"key": string or integer, "value": integer} (value ignored for a
 * delete, whose keys come from the query parameter keys: messages name it). On success *out: {name,
 * rules, changed, count}; on -EINVAL *details names the member ({"member": "entries[2].key",
 * "value": ...}; for a delete "keys[2]"); both the caller's to free.
 */
int ctl_api_bpf_map_change(struct ctl_ctx *ctx, const char *name, const json_t *entries, bool del,
		const char *who, uint64_t *op, json_t **out, json_t **details, char *err,
		size_t errlen);

/*
 * Uploaded programs (control/ctl_bpf_prog.h; docs/BPF.md, "Uploading programs"), on the calling
 * thread: -ENOTSUP without a store (409; validate needs none), -EINVAL with the loader's message
 * (422 for an upload, 400 otherwise), -ENOENT no such upload (404), -EEXIST the object is kept
 * already with other maps (409). maps (NULL: none): the program's maps declaration
 * (ctl_bpf_prog_upload()).
 *
 * Upload with apply (and a name): once stored, in force at once as a rollback to it is (below;
 * source "bpf-upload:NAME by WHO"), *out with "policy". When the policy refuses it (-ENOEXEC,
 * 422) or the recompile is refused or cancelled, nothing changed: the name means what it meant
 * and an object this upload stored is not kept (one kept already stays).
 */
int ctl_api_bpf_upload(struct ctl_ctx *ctx, const char *name, const void *obj, size_t len,
		const char *maps, size_t maps_len, bool apply, const char *who, uint64_t *op,
		json_t **out, char *err, size_t errlen);
int ctl_api_bpf_validate(struct ctl_ctx *ctx, const void *obj, size_t len, const char *maps,
		size_t maps_len, json_t **out, char *err, size_t errlen);
int ctl_api_bpf_programs(
		struct ctl_ctx *ctx, const char *name, json_t **out, char *err, size_t errlen);

/*
 * Rollback: point name at its earlier upload sha, and when the policy in force names
 * `upload:NAME`, compile it again and put it in force at once, as a reload would (a new policy
 * version, source "bpf-rollback:NAME by WHO"). *out: the upload's record with "policy":
 * {recompiled: false} (the policy does not follow the name, or runs that object already) or
 * {recompiled: true, version, version_state, sha256}. When the policy refuses the object
 * (-ENOEXEC, 422) or the recompile is refused or cancelled (-EAGAIN, -ESTALE, -EBUSY), the name
 * means what it meant before and nothing changed; err says why. -EINPROGRESS: the name moved
 * and control goes on compiling (*op: the operation to read; err says so).
 */
int ctl_api_bpf_program_select(struct ctl_ctx *ctx, const char *name, const char *sha,
		const char *who, uint64_t *op, json_t **out, char *err, size_t errlen);

/*
 * Remove upload sha (its object and record; names that mean it move to their newest other
 * upload, or go). -EEXIST (409) while the policy in force runs it, err naming the rules and
 * pre-filters; -ENOENT no such upload; -EINVAL a malformed SHA-256. *out: its record with
 * "deleted" and "names" (ctl_bpf_prog_delete()).
 */
int ctl_api_bpf_program_delete(
		struct ctl_ctx *ctx, const char *sha, json_t **out, char *err, size_t errlen);

#endif /* CTL_BPF_API_H */
