/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prints the rows of the Prometheus exposition (mgmt/mg_prom.c: its own rows and those made
 * from the counter tables), one per line: family, fixed labels ("-" for none), path of the
 * value in the document, and "table" or "row". tests/api/test_metrics_rows.py checks each
 * against a running vigild, so that a key renamed in the code that writes the document fails a
 * test instead of silently dropping a metric.
 */
#include <stdio.h>

#include "mg_prom.h"

static void
print_row(void *arg, const struct mg_prom_row_info *r)
{
	(void)arg;
	printf("%s\t%s\t%s\t%s\n", r->family, r->const_label != NULL ? r->const_label : "-",
			r->path, r->from_table ? "table" : "row");
}

int
main(void)
{
	mg_prom_rows(print_row, NULL);
	return fflush(stdout) == 0 ? 0 : 1;
}
