/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building the EAL command line from the appliance config: lcores, file prefix, hugepages or
 * --no-huge, the ports' vdevs and PCI allow-list, then the operator's extra arguments.
 */
#ifndef VG_EAL_H
#define VG_EAL_H

#include <stdbool.h>

#include "vg_config.h"

#define VG_EAL_MAX_ARGV (VG_MAX_EAL_ARGS + 2 * VG_MAX_PORTS + 16)

struct vg_eal_args {
	char *argv[VG_EAL_MAX_ARGV + 1];
	int argc;
	bool no_huge;
	char reason[256]; /* why hugepages are or are not used, for the log */
};

/* What the machine offers: free 2 MiB-or-larger hugepage memory in MiB, and a mount. */
struct vg_hugepage_info {
	unsigned long free_mb;
	bool mounted;
};

void vg_hugepage_probe(struct vg_hugepage_info *hi);

/*
 * Fill args for cfg. need_mb is the memory the dataplane will ask for. in_memory: no file in
 * hugetlbfs or the runtime directory (a process that drops root could not create or remove
 * them later): --in-memory with hugepages, --no-shconf without, and --no-telemetry. Returns 0, or
 * -EINVAL when cfg requires hugepages that the machine does not have (the reason says so).
 */
int vg_eal_args_build(struct vg_eal_args *args, const struct vg_config *cfg,
		const struct vg_hugepage_info *hi, unsigned long need_mb, const char *argv0,
		bool in_memory);

void vg_eal_args_free(struct vg_eal_args *args);

#endif /* VG_EAL_H */
