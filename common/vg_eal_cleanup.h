/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Leaving EAL without a trace: rte_eal_cleanup() leaves the runtime directory
 * (/var/run/dpdk/<file-prefix>) behind, even with --no-shconf. vigild, the benchmarks, the
 * tests and the fuzz targets all end EAL this way.
 */
#ifndef VG_EAL_CLEANUP_H
#define VG_EAL_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

/* rte_eal_cleanup(), then remove this process's runtime directory. */
static inline void
vg_eal_cleanup(void)
{
	char dir[512], path[1024];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

#endif /* VG_EAL_CLEANUP_H */
