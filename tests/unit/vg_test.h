/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by Vigil's cmocka unit tests.
 *
 * vg_test_eal_init() starts a minimal EAL (no hugepages, no PCI, one lcore, in memory, a
 * unique file prefix) for tests of modules that allocate with rte_malloc or use rte_hash,
 * rte_acl or rte_ring. Modules that do not need EAL are tested without it.
 */
#ifndef VG_TEST_H
#define VG_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vg_diag.h"

/* True when some entry of d contains text and sits at line:col (0 = any). */
static inline int
vg_test_diag_has(const struct vg_diag *d, unsigned line, unsigned col, const char *text)
{
	for (unsigned i = 0; i < d->n; i++) {
		const struct vg_diag_entry *e = &d->v[i];

		if ((line == 0 || e->line == line) && (col == 0 || e->col == col) &&
				strstr(e->msg, text) != NULL)
			return 1;
	}
	return 0;
}

/* Fail the test, printing every diagnostic, unless one matches. */
#define assert_diag(d, line, col, text)                                                        \
	do {                                                                                   \
		if (!vg_test_diag_has((d), (line), (col), (text))) {                           \
			vg_diag_print((d), stderr);                                            \
			fail_msg("no diagnostic at %u:%u containing \"%s\"", (unsigned)(line), \
					(unsigned)(col), (text));                              \
		}                                                                              \
	} while (0)

#ifdef VG_TEST_WITH_EAL
#include <rte_eal.h>

#include "vg_eal_cleanup.h"

/* A test that needs more may define this before including vg_test.h. */
#ifndef VG_TEST_EAL_MEM_MB
#define VG_TEST_EAL_MEM_MB "256"
#endif

static inline int
vg_test_eal_init(void)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "--file-prefix=vgtest%d", (int)getpid());
	/* --no-huge implies legacy memory, which --in-memory refuses: --no-shconf instead. */
	char *argv[] = { "vgtest", "--no-huge", "-m", VG_TEST_EAL_MEM_MB, "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0", "--log-level=lib.eal:error", prefix, NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	if (rte_eal_init(argc, argv) < 0)
		return -1;
	atexit(vg_eal_cleanup);
	return 0;
}
#endif

#endif /* VG_TEST_H */
