/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_eal.h"

void
vg_hugepage_probe(struct vg_hugepage_info *hi)
{
	char line[512];
	unsigned long free_pages = 0, page_kb = 0;
	FILE *f;

	memset(hi, 0, sizeof(*hi));
	f = fopen("/proc/meminfo", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			sscanf(line, "HugePages_Free: %lu", &free_pages);
			sscanf(line, "Hugepagesize: %lu kB", &page_kb);
		}
		fclose(f);
	}
	hi->free_mb = free_pages * page_kb / 1024;
	f = fopen("/proc/mounts", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, " hugetlbfs ") != NULL)
				hi->mounted = true;
		fclose(f);
	}
}

static int push(struct vg_eal_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
push(struct vg_eal_args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	if (a->argc >= VG_EAL_MAX_ARGV)
		return -E2BIG;
	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -ENOMEM;
	a->argv[a->argc++] = s;
	a->argv[a->argc] = NULL;
	return 0;
}

int
vg_eal_args_build(struct vg_eal_args *a, const struct vg_config *cfg,
		const struct vg_hugepage_info *hi, unsigned long need_mb, const char *argv0,
		bool in_memory)
{
	char lcores[1024];
	size_t used;
	bool any_pci = false;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	/* With lcores.cpus, EAL --lcores places each lcore on its CPU (lcore@cpu): the control
	 * lcore on the first, worker i on entry (i + 1) mod n; without it, -l and one CPU each. */
	const unsigned nc = cfg->n_lcore_cpus;

	used = nc ? (size_t)snprintf(lcores, sizeof(lcores), "%u@%u", cfg->control_lcore,
				    cfg->lcore_cpus[0])
		  : (size_t)snprintf(lcores, sizeof(lcores), "%u", cfg->control_lcore);
	for (unsigned i = 0; i < cfg->n_workers && used < sizeof(lcores); i++)
		used += nc ? (size_t)snprintf(lcores + used, sizeof(lcores) - used, ",%u@%u",
					     cfg->workers[i], cfg->lcore_cpus[(i + 1) % nc])
			   : (size_t)snprintf(lcores + used, sizeof(lcores) - used, ",%u",
					     cfg->workers[i]);

	rc |= push(a, "%s", argv0);
	rc |= push(a, nc ? "--lcores" : "-l");
	rc |= push(a, "%s", lcores);
	rc |= push(a, "--main-lcore");
	rc |= push(a, "%u", cfg->control_lcore);
	rc |= push(a, "--file-prefix");
	rc |= push(a, "%s", cfg->file_prefix);

	bool have = hi->mounted && hi->free_mb >= need_mb;
	/* Without hugepages the memory is reserved up front: at least what the config needs. */
	unsigned long no_huge_mb = cfg->no_huge_mem_mb > need_mb ? cfg->no_huge_mem_mb : need_mb;
	switch (cfg->hugepages) {
	case VG_HUGE_ON:
		if (!have) {
			snprintf(a->reason, sizeof(a->reason),
					"eal.hugepages is 'on' but %s (%lu MiB free, about %lu MiB "
					"needed); run scripts/hugepages/setup.sh",
					hi->mounted ? "too few hugepages are free"
						    : "hugetlbfs is not mounted",
					hi->free_mb, need_mb);
			vg_eal_args_free(a);
			return -EINVAL;
		}
		/* fall through */
	case VG_HUGE_AUTO:
		if (have) {
			snprintf(a->reason, sizeof(a->reason),
					"using hugepages (%lu MiB free, about %lu MiB needed)",
					hi->free_mb, need_mb);
			/* Leave no hugepage files behind when the process ends. */
			rc |= push(a, in_memory ? "--in-memory" : "--huge-unlink");
			break;
		}
		snprintf(a->reason, sizeof(a->reason),
				"hugepages unavailable (%s, %lu MiB free, about %lu MiB needed): "
				"running with --no-huge -m %lu, which is slower; "
				"scripts/hugepages/setup.sh reserves them",
				hi->mounted ? "mounted" : "hugetlbfs not mounted", hi->free_mb,
				need_mb, no_huge_mb);
		/* fall through */
	case VG_HUGE_OFF:
		if (cfg->hugepages == VG_HUGE_OFF)
			snprintf(a->reason, sizeof(a->reason),
					"eal.hugepages is 'off': running with --no-huge -m %lu",
					no_huge_mb);
		a->no_huge = true;
		rc |= push(a, "--no-huge");
		if (in_memory) /* --in-memory needs dynamic memory, which --no-huge is not */
			rc |= push(a, "--no-shconf");
		rc |= push(a, "-m");
		rc |= push(a, "%lu", no_huge_mb);
		break;
	}

	/* DPDK's telemetry socket would be the one file left in the runtime directory. */
	if (in_memory)
		rc |= push(a, "--no-telemetry");
	/*
	 * Physical addresses come from /proc/self/pagemap, which only a privileged process may
	 * read: once vigild has dropped root, memory the heap grows by would have no IO address
	 * in PA mode. Virtual addresses as IO addresses (vfio with an IOMMU, every vdev).
	 */
	bool iova_given = false;
	for (unsigned i = 0; i < cfg->n_eal_args; i++)
		if (strncmp(cfg->eal_args[i], "--iova-mode", 11) == 0)
			iova_given = true;
	if (in_memory && !iova_given)
		rc |= push(a, "--iova-mode=va");
	for (unsigned i = 0; i < cfg->n_ports; i++) {
		if (cfg->ports[i].is_pci) {
			rc |= push(a, "-a");
			any_pci = true;
		} else {
			rc |= push(a, "--vdev");
		}
		rc |= push(a, "%s", cfg->ports[i].device);
	}
	if (!any_pci)
		rc |= push(a, "--no-pci");
	for (unsigned i = 0; i < cfg->n_eal_args; i++)
		rc |= push(a, "%s", cfg->eal_args[i]);
	if (rc != 0) {
		vg_eal_args_free(a);
		return -ENOMEM;
	}
	return 0;
}

void
vg_eal_args_free(struct vg_eal_args *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->argv[i]);
	a->argc = 0;
	a->argv[0] = NULL;
}
