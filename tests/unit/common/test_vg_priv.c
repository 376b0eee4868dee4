/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Least privilege (common/vg_priv.c): the privileges section is refused with a reason where it
 * is wrong; a process that drops runs as the user on every thread, keeps only the listed
 * capabilities, and the seccomp filter refuses starting programs and processes while threads,
 * files and sockets keep working. The drop is tried in a child process (it cannot be undone),
 * as user nobody, which Debian always has; without root it is skipped.
 */
#include "vg_test.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "vg_priv.h"
#include "vg_yaml.h"

static int
parse(const char *text, struct vg_priv_config *c, struct vg_diag *d)
{
	struct vg_yaml y = { 0 };
	int rc;

	vg_diag_init(d);
	vg_priv_defaults(c);
	if (vg_yaml_load_buf(&y, "t.yaml", text, strlen(text), d) != 0)
		return -1;
	rc = vg_priv_yaml_parse(&y, vg_yaml_root(&y), c);
	vg_yaml_free(&y);
	return rc;
}

static void
test_section_parses(void **state)
{
	struct vg_priv_config c;
	struct vg_diag d;
	struct passwd *pw = getpwnam("nobody");

	(void)state;
	assert_non_null(pw);
	assert_int_equal(parse("user: nobody\ncapabilities: [CAP_NET_RAW, ipc_lock]\n", &c, &d), 0);
	assert_true(c.enabled);
	assert_true(c.seccomp);
	assert_int_equal(c.uid, pw->pw_uid);
	assert_int_equal(c.gid, pw->pw_gid);
	assert_int_equal(c.n_caps, 2);
	assert_int_equal(c.caps[0], CAP_NET_RAW);
	assert_int_equal(c.caps[1], CAP_IPC_LOCK);
	vg_diag_free(&d);

	assert_int_equal(parse("user: nobody\nseccomp: false\n", &c, &d), 0);
	assert_false(c.seccomp);
	vg_diag_free(&d);
}

static void
test_section_refused_with_reason(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "seccomp: true\n", "'user' is required" },
		{ "user: no-such-user-vg\n", "no user 'no-such-user-vg'" },
		{ "user: root\n", "is uid 0" },
		{ "user: nobody\ngroup: no-such-group-vg\n", "no group 'no-such-group-vg'" },
		{ "user: nobody\ngroup: root\n", "is gid 0" },
		{ "user: nobody\ncapabilities: [net_admn]\n", "'net_admn' is not a capability" },
		{ "user: nobody\ncapabilities: net_admin\n", "capabilities" },
		{ "user: nobody\nuid: 5\n", "uid" },
	};
	struct vg_priv_config c;
	struct vg_diag d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(parse(bad[i].text, &c, &d), 0);
		if (!vg_test_diag_has(&d, 0, 0, bad[i].why)) {
			vg_diag_print(&d, stderr);
			fail_msg("case %zu: no message with \"%s\"", i, bad[i].why);
		}
		assert_false(c.enabled);
		vg_diag_free(&d);
	}
}

static void *
thread_uid(void *arg)
{
	*(uid_t *)arg = geteuid();
	return NULL;
}

/* Child: drop, then probe. Exit status: 0, or the number of the first check that failed. */
static int
drop_and_probe(const struct vg_priv_config *c, uint64_t want_caps)
{
	struct vg_priv_state st;
	char err[256];
	char *const argv[] = { "/bin/true", NULL };
	pthread_t t;
	uid_t tuid = 0;
	int fd;

	if (vg_priv_drop(c, err, sizeof(err)) != 0) {
		fprintf(stderr, "drop: %s\n", err);
		return 1;
	}
	if (getuid() != c->uid || geteuid() != c->uid || getgid() != c->gid ||
			getgroups(0, NULL) != 0)
		return 2;
	if (vg_priv_state(&st) != 0 || !st.uids_equal || st.cap_eff != want_caps ||
			st.cap_prm != want_caps || st.seccomp != (c->seccomp ? 2 : 0) ||
			!st.no_new_privs)
		return 3;
	/* A thread is allowed and runs as the user. */
	if (pthread_create(&t, NULL, thread_uid, &tuid) != 0 || pthread_join(t, NULL) != 0 ||
			tuid != c->uid)
		return 4;
	/* Back to root: never. */
	if (setuid(0) == 0 || seteuid(0) == 0)
		return 5;
	/* Files and sockets still work. */
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return 6;
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 7;
	close(fd);
	if (!c->seccomp)
		return 0;
	/* No program, no process, no mount, no kernel BPF, no ptrace. */
	errno = 0;
	if (execve(argv[0], argv, environ) == 0 || errno != EPERM)
		return 8;
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	if (p > 0 || errno != EPERM)
		return 9;
	errno = 0;
	if (unshare(CLONE_NEWNS) == 0 || errno != EPERM)
		return 10;
	errno = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0)
		return 11; /* cannot be unset */
	errno = 0;
	if (syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0) == 0 || errno != EPERM)
		return 12;
	return 0;
}

static int
run_child(const struct vg_priv_config *c, uint64_t want_caps)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(drop_and_probe(c, want_caps));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("child ended by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

static void
test_drop_as_nobody(void **state)
{
	struct vg_priv_config c;
	struct vg_diag d;
	int rc;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(parse("user: nobody\n", &c, &d), 0);
	vg_diag_free(&d);
	rc = run_child(&c, 0);
	if (rc != 0)
		fail_msg("check %d failed after the drop (seccomp on, no capabilities)", rc);

	/* A capability that is listed is kept, effective, and nothing else. */
	assert_int_equal(parse("user: nobody\ncapabilities: [net_raw]\n", &c, &d), 0);
	vg_diag_free(&d);
	rc = run_child(&c, 1ULL << CAP_NET_RAW);
	if (rc != 0)
		fail_msg("check %d failed after the drop keeping net_raw", rc);

	/* Without seccomp the drop still happens (and exec is then the kernel's to allow). */
	assert_int_equal(parse("user: nobody\nseccomp: false\n", &c, &d), 0);
	vg_diag_free(&d);
	rc = run_child(&c, 0);
	if (rc != 0)
		fail_msg("check %d failed after the drop without seccomp", rc);
}

static void
test_check_access_as_the_user(void **state)
{
	struct vg_priv_config c;
	struct vg_diag d;
	char dir[] = "/tmp/vg-priv.XXXXXX", file[64];
	const char *paths[2];
	int modes[2] = { W_OK | X_OK, R_OK };
	bool ok[2];
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(parse("user: nobody\n", &c, &d), 0);
	vg_diag_free(&d);
	assert_non_null(mkdtemp(dir)); /* mode 0700, root's */
	snprintf(file, sizeof(file), "%s/f", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	paths[0] = dir;
	paths[1] = file;
	assert_int_equal(vg_priv_check_access(&c, paths, modes, 2, ok), 0);
	assert_false(ok[0]); /* root's 0700 directory */
	assert_false(ok[1]); /* readable, but inside a directory nobody cannot enter */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(vg_priv_check_access(&c, paths, modes, 2, ok), 0);
	assert_false(ok[0]);
	assert_true(ok[1]);
	assert_int_equal(vg_priv_hand_over(&c, dir), 0);
	assert_int_equal(vg_priv_check_access(&c, paths, modes, 2, ok), 0);
	assert_true(ok[0]);
	unlink(file);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_section_parses),
		cmocka_unit_test(test_section_refused_with_reason),
		cmocka_unit_test(test_drop_as_nobody),
		cmocka_unit_test(test_check_access_as_the_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
