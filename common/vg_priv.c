/* SPDX-License-Identifier: BSD-3-Clause */
/* Least privilege: the privileges section, the hand-over of files, and the drop. */
#include "vg_priv.h"

#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * What a running vigild never does again once it forwards: start programs or processes, debug
 * or read other processes, change users, capabilities, mounts, namespaces, modules, the kernel,
 * the clock or keys, or load kernel BPF (eBPF rules run in DPDK's own VM). Denied with EPERM
 * rather than a kill, so that a library that only probes (and copes) does not stop the wire;
 * a syscall from another ABI (int 0x80) kills the process (libseccomp's default).
 */
const char *const vg_priv_denied_syscalls[] = {
	"execve",
	"execveat",
	"fork",
	"vfork",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"kcmp",
	"pidfd_getfd",
	"setuid",
	"setgid",
	"setreuid",
	"setregid",
	"setresuid",
	"setresgid",
	"setgroups",
	"setfsuid",
	"setfsgid",
	"capset",
	"mount",
	"umount2",
	"pivot_root",
	"chroot",
	"unshare",
	"setns",
	"open_tree",
	"move_mount",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"mount_setattr",
	"init_module",
	"finit_module",
	"delete_module",
	"kexec_load",
	"kexec_file_load",
	"reboot",
	"swapon",
	"swapoff",
	"acct",
	"quotactl",
	"bpf",
	"perf_event_open",
	"userfaultfd",
	"open_by_handle_at",
	"name_to_handle_at",
	"iopl",
	"ioperm",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"sethostname",
	"setdomainname",
	"syslog",
	"vhangup",
	"personality",
	"uselib",
	"keyctl",
	"add_key",
	"request_key",
	NULL,
};

void
vg_priv_defaults(struct vg_priv_config *c)
{
	memset(c, 0, sizeof(*c));
	c->seccomp = true;
}

int
vg_priv_keep(struct vg_priv_config *c, int cap)
{
	for (unsigned i = 0; i < c->n_caps; i++)
		if (c->caps[i] == cap)
			return 0;
	if (c->n_caps >= VG_PRIV_MAX_CAPS)
		return -ENOSPC;
	c->caps[c->n_caps++] = cap;
	return 0;
}

/* "CAP_NET_ADMIN", "cap_net_admin" and "net_admin" all name CAP_NET_ADMIN. */
static int
cap_from_name(const char *s)
{
	char name[64];
	size_t i;

	if (strncasecmp(s, "cap_", 4) == 0)
		s += 4;
	for (i = 0; s[i] != '\0' && i + 1 < sizeof(name); i++)
		name[i] = (char)tolower((unsigned char)s[i]);
	name[i] = '\0';
	return s[i] == '\0' ? capng_name_to_capability(name) : -1;
}

static int
parse_caps(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct vg_priv_config *c = obj;
	int n;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	n = vg_yaml_seq_len(v);
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		const char *s = vg_yaml_scalar(y, it, key);
		int cap;

		if (s == NULL)
			return -EINVAL;
		cap = cap_from_name(s);
		if (cap < 0) {
			vg_yaml_err(y, it,
					"'%s': '%.40s' is not a capability (names as in "
					"capabilities(7), e.g. net_admin, net_raw, ipc_lock)",
					key, s);
			return -EINVAL;
		}
		if (vg_priv_keep(c, cap) != 0) {
			vg_yaml_err(y, it, "'%s': at most %d capabilities", key, VG_PRIV_MAX_CAPS);
			return -EINVAL;
		}
	}
	return 0;
}

#define PRIV_OFF(f) offsetof(struct vg_priv_config, f)

static const struct vg_yaml_field priv_fields[] = {
	{ .name = "user",
			.type = VG_YT_STRBUF,
			.off = PRIV_OFF(user),
			.max = sizeof(((struct vg_priv_config *)0)->user) },
	{ .name = "group",
			.type = VG_YT_STRBUF,
			.off = PRIV_OFF(group),
			.max = sizeof(((struct vg_priv_config *)0)->group) },
	{ .name = "capabilities", .type = VG_YT_CUSTOM, .parse = parse_caps },
	{ .name = "seccomp", .type = VG_YT_BOOL, .off = PRIV_OFF(seccomp) },
	{ 0 },
};

int
vg_priv_yaml_parse(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	struct vg_priv_config *c = obj;
	struct passwd *pw;

	if (!vg_yaml_expect_map(y, n, "privileges"))
		return -EINVAL;
	if (vg_yaml_map(y, n, "privileges", priv_fields, c) != 0)
		return -EINVAL;
	if (c->user[0] == '\0') {
		vg_yaml_err(y, n,
				"privileges: 'user' is required (the user vigild runs as once its "
				"ports are up, e.g. vigil)");
		return -EINVAL;
	}
	errno = 0;
	pw = getpwnam(c->user);
	if (pw == NULL) {
		vg_yaml_err(y, n,
				"privileges.user: no user '%s' on this machine (create it: "
				"useradd --system --no-create-home --shell /usr/sbin/nologin %s)",
				c->user, c->user);
		return -EINVAL;
	}
	if (pw->pw_uid == 0) {
		vg_yaml_err(y, n,
				"privileges.user: '%s' is uid 0: dropping to it would drop nothing; "
				"name an unprivileged user",
				c->user);
		return -EINVAL;
	}
	c->uid = pw->pw_uid;
	c->gid = pw->pw_gid;
	if (c->group[0] != '\0') {
		struct group *gr = getgrnam(c->group);

		if (gr == NULL) {
			vg_yaml_err(y, n, "privileges.group: no group '%s' on this machine",
					c->group);
			return -EINVAL;
		}
		if (gr->gr_gid == 0) {
			vg_yaml_err(y, n,
					"privileges.group: '%s' is gid 0: name an unprivileged "
					"group",
					c->group);
			return -EINVAL;
		}
		c->gid = gr->gr_gid;
	}
	c->enabled = true;
	return 0;
}

int
vg_priv_hand_over(const struct vg_priv_config *c, const char *path)
{
	if (!c->enabled)
		return 0;
	if (lchown(path, c->uid, c->gid) != 0)
		return -errno;
	return 0;
}

int
vg_priv_check_access(const struct vg_priv_config *c, const char *const *paths, const int *modes,
		unsigned n, bool *ok)
{
	int fds[2], status;
	pid_t pid;

	for (unsigned i = 0; i < n; i++)
		ok[i] = true;
	if (!c->enabled || n == 0 || geteuid() != 0)
		return 0;
	if (pipe(fds) != 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		return -e;
	}
	if (pid == 0) {
		close(fds[0]);
		if (setgroups(0, NULL) != 0 || setresgid(c->gid, c->gid, c->gid) != 0 ||
				setresuid(c->uid, c->uid, c->uid) != 0)
			_exit(2);
		for (unsigned i = 0; i < n; i++) {
			char r = access(paths[i], modes[i]) == 0 ? 1 : 0;

			if (write(fds[1], &r, 1) != 1)
				_exit(3);
		}
		_exit(0);
	}
	close(fds[1]);
	for (unsigned i = 0; i < n; i++) {
		char r = 0;

		if (read(fds[0], &r, 1) != 1)
			break;
		ok[i] = r != 0;
	}
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -ECHILD;
	return 0;
}

static int
install_seccomp(char *err, size_t errlen)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "seccomp: cannot create a filter");
		return -1;
	}
	/* Every thread gets the filter, not only the caller (the workers are running). */
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
	/* A binary tree over the syscall numbers rather than a list: every allowed syscall
	 * (read, write, epoll_wait of the API threads) would otherwise walk every rule. */
	if (rc == 0)
		(void)seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (const char *const *s = vg_priv_denied_syscalls; rc == 0 && *s != NULL; s++) {
		int nr = seccomp_syscall_resolve_name(*s);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall of this architecture */
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), nr, 0);
		if (rc != 0)
			snprintf(err, errlen, "seccomp: cannot add a rule for %s: %s", *s,
					strerror(-rc));
	}
	/*
	 * Threads yes, processes no: clone without CLONE_THREAD is refused. clone3 passes its
	 * flags in memory a filter cannot read, so it answers ENOSYS and glibc falls back to
	 * clone, whose flags it can.
	 */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc == 0) {
		rc = seccomp_load(f);
		if (rc != 0)
			snprintf(err, errlen, "seccomp: cannot load the filter: %s", strerror(-rc));
	} else if (err[0] == '\0') {
		snprintf(err, errlen, "seccomp: cannot build the filter: %s", strerror(-rc));
	}
	seccomp_release(f);
	return rc == 0 ? 0 : -1;
}

int
vg_priv_drop(const struct vg_priv_config *c, char *err, size_t errlen)
{
	int rc;

	err[0] = '\0';
	if (!c->enabled)
		return 0;
	if (geteuid() != 0) {
		if (geteuid() == c->uid && getegid() == c->gid)
			return c->seccomp ? install_seccomp(err, errlen) : 0;
		snprintf(err, errlen,
				"started as uid %u, not root: cannot switch to user %s (uid %u)",
				(unsigned)geteuid(), c->user, (unsigned)c->uid);
		return -1;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	for (unsigned i = 0; i < c->n_caps; i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
				    (unsigned)c->caps[i]) != 0) {
			snprintf(err, errlen, "capabilities: cannot keep %s",
					capng_capability_to_name((unsigned)c->caps[i]));
			return -1;
		}
	/*
	 * setgroups, setresgid and setresuid go through glibc, which applies them to every
	 * thread; only this thread keeps the capabilities listed (the others lose all at the uid
	 * change), and the bounding set is emptied.
	 */
	rc = capng_change_id((int)c->uid, (int)c->gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (rc != 0) {
		snprintf(err, errlen, "cannot switch to user %s (uid %u, gid %u): step %d failed",
				c->user, (unsigned)c->uid, (unsigned)c->gid, rc);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (c->seccomp && install_seccomp(err, errlen) != 0)
		return -1;
	return 0;
}

void
vg_priv_caps_str(const struct vg_priv_config *c, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (c->n_caps == 0) {
		snprintf(buf, len, "none");
		return;
	}
	for (unsigned i = 0; i < c->n_caps && used < len; i++) {
		const char *n = capng_capability_to_name((unsigned)c->caps[i]);

		used += (size_t)snprintf(
				buf + used, len - used, "%s%s", i ? "," : "", n != NULL ? n : "?");
	}
}

int
vg_priv_state(struct vg_priv_state *s)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	memset(s, 0, sizeof(*s));
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long r, e, sv, fs;
		unsigned long long x;
		int v;

		if (sscanf(line, "Uid: %lu %lu %lu %lu", &r, &e, &sv, &fs) == 4) {
			s->uid = (uid_t)r;
			s->uids_equal = r == e && e == sv && sv == fs;
		} else if (sscanf(line, "CapEff: %llx", &x) == 1) {
			s->cap_eff = x;
		} else if (sscanf(line, "CapPrm: %llx", &x) == 1) {
			s->cap_prm = x;
		} else if (sscanf(line, "Seccomp: %d", &v) == 1) {
			s->seccomp = v;
		} else if (sscanf(line, "NoNewPrivs: %d", &v) == 1) {
			s->no_new_privs = v != 0;
		}
	}
	fclose(f);
	return 0;
}
