/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The eBPF maps' entries across restarts (docs/BPF.md, "Maps across restarts"). A reload carries
 * each map's entries into the next policy version (rl_snapshot_carry_maps); a restart does the
 * same from a state file per map name that control writes next to the store:
 *
 *   DIR(store.path)/bpf-maps/NAME.json
 *     {"format": 1, "name": NAME, "saved_ns": ..., "maps": [{"rule" | "prefilter": OWNER,
 *      "kind", "family" | "key", "max_entries", "file", "entries": [{key, value}],
 *      "file_entries": [{key, value}]}]}
 *
 * one item per rule or pre-filter whose program declares the name: what the map held and what
 * its file gave when it loaded, which is what the carry needs. Written atomically (a new file,
 * fsync, rename) after each change through the API and, for every map in force, when vigild
 * stops cleanly; read once, when the first policy version is put in force, as if the saved maps
 * were the version in force (rl_bpf_map_restore). A state file that cannot be read is set aside
 * (NAME.json.bad) and its map starts from its file, as does a map whose declaration no longer
 * matches; each is said in one log line.
 *
 * Control only.
 */
#ifndef CTL_BPF_STATE_H
#define CTL_BPF_STATE_H

#include <stdbool.h>
#include <stddef.h>

struct ctl_bpf_state;
struct rl_snapshot;

/* The folder for a store at store_path (out: len bytes): DIR(store_path)/bpf-maps. */
void ctl_bpf_state_dir(const char *store_path, char *out, size_t len);

/* dir: where the state files are (created at the first write); NULL: nothing is kept (no store:
 * the API's changes last until vigild stops). NULL with errno on no memory. */
struct ctl_bpf_state *ctl_bpf_state_create(const char *dir);
void ctl_bpf_state_free(struct ctl_bpf_state *st);

/*
 * The first time it is called (the first policy version, before it is published): each map of
 * to whose name has a state file starts from the saved map of the same owner (rule or
 * pre-filter of the same name), else the first one saved, with the change of its file since
 * applied on top. Logs each map restored or not restored (and why), and each state file set
 * aside. Later calls do nothing. Returns how many maps were restored.
 */
unsigned ctl_bpf_state_restore(struct ctl_bpf_state *st, struct rl_snapshot *to);

/* Write the state file of the maps named name in s (the policy in force). 0, or -errno with
 * err saying which file and why (also logged); -ENOTSUP when nothing is kept. */
int ctl_bpf_state_save(struct ctl_bpf_state *st, const struct rl_snapshot *s, const char *name,
		char *err, size_t errlen);

/* Write the state files of every map of s, and remove those of names s has no map of (as a
 * reload to s would lose them). Logs failures and what was written. s NULL: nothing. Returns
 * how many files were written. */
unsigned ctl_bpf_state_save_all(struct ctl_bpf_state *st, const struct rl_snapshot *s);

/* Whether the API's changes to map name are kept across a restart: there is a folder and the
 * last write of its file did not fail. st NULL: false. */
bool ctl_bpf_state_persisted(const struct ctl_bpf_state *st, const char *name);

/* Say once in the log that the API's changes are not kept (no store). */
void ctl_bpf_state_note_unsaved(struct ctl_bpf_state *st);

#endif /* CTL_BPF_STATE_H */
