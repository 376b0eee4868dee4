/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Least privilege: vigild starts as root (EAL, ports, the API's socket, the files it opens),
 * then drops to the configured user with only the capabilities the running dataplane needs
 * (libcap-ng) and a seccomp filter over what it never calls again (libseccomp). The
 * `privileges:` section of vigil.yaml; docs/OPERATIONS.md, "Security", has the model.
 */
#ifndef VG_PRIV_H
#define VG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vg_yaml.h"

#define VG_PRIV_MAX_CAPS 8

struct vg_priv_config {
	bool enabled; /* a privileges section naming a user */
	char user[64];
	char group[64]; /* empty: the user's primary group */
	uid_t uid;	/* resolved when the config loads */
	gid_t gid;
	int caps[VG_PRIV_MAX_CAPS]; /* capabilities kept (libcap-ng numbers) */
	unsigned n_caps;
	bool seccomp; /* default true */
};

void vg_priv_defaults(struct vg_priv_config *c);

/* The privileges section (a vg_config_section callback): user, group, capabilities, seccomp. */
int vg_priv_yaml_parse(struct vg_yaml *y, yaml_node_t *n, void *obj);

/* Add a capability by number (vigild adds what its ports need). Returns 0 or -ENOSPC. */
int vg_priv_keep(struct vg_priv_config *c, int cap);

/* Hand a file or directory vigild writes after the drop to the user (chown). -errno. */
int vg_priv_hand_over(const struct vg_priv_config *c, const char *path);

/*
 * Whether the user may access each of paths[i] with modes[i] (R_OK, W_OK, X_OK), as the
 * kernel would answer it after the drop (a child process switches to the user and asks).
 * Call it before EAL starts threads. ok[i] is set for each path. Returns 0 or -errno.
 */
int vg_priv_check_access(const struct vg_priv_config *c, const char *const *paths, const int *modes,
		unsigned n, bool *ok);

/*
 * Drop, for every thread of the process: supplementary groups, gid, uid (all three ids),
 * every capability but c->caps (kept, effective, by the calling thread only: other threads
 * keep none), no new privileges, and the seccomp filter when c->seccomp. Returns 0, or -1
 * with err saying which step failed (the process must then stop: it is half dropped).
 */
int vg_priv_drop(const struct vg_priv_config *c, char *err, size_t errlen);

/* Names of the capabilities in c, comma-separated ("none" for none), for the log. */
void vg_priv_caps_str(const struct vg_priv_config *c, char *buf, size_t len);

/* What the kernel says of this process now (from /proc/self/status). */
struct vg_priv_state {
	uid_t uid;	  /* real uid (the effective and saved are checked equal) */
	bool uids_equal;  /* real, effective, saved and filesystem uids agree */
	uint64_t cap_eff; /* of the calling thread */
	uint64_t cap_prm;
	int seccomp; /* 0 none, 1 strict, 2 filter */
	bool no_new_privs;
};

int vg_priv_state(struct vg_priv_state *s);

/* The syscalls the filter refuses (EPERM), for tests and the docs. NULL-terminated. */
extern const char *const vg_priv_denied_syscalls[];

#endif /* VG_PRIV_H */
