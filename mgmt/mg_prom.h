/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text exposition format (version 0.0.4) of ctl_api_metrics()'s document.
 *
 * Which JSON value becomes which metric is a table in mg_prom.c: a family name (vigil_...,
 * counters end in _total, units are seconds and bytes), its type and help, the path of the
 * value in the document and, for arrays and objects of values, the label that tells the
 * entries apart. Values the document does not have are left out, so the same table serves
 * appliances with and without a store, a signature set or rules. The dataplane's counters have
 * their rows made from their tables (vg_ctr.h, control/ctl_ctr.h).
 */
#ifndef MG_PROM_H
#define MG_PROM_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * Format doc. Returns a malloc'd NUL-terminated text (*len without the NUL), or NULL with
 * errno set.
 */
char *mg_prom_format(const json_t *doc, size_t *len);

/* A row of the exposition: the samples of one path of the document. */
struct mg_prom_row_info {
	const char *family;
	const char *path;	 /* "" for the rows made of the document's strings (vigil_info) */
	const char *const_label; /* the fixed label pairs of its samples ("reason=\"tx_full\""), or
				    NULL */
	bool from_table;	 /* made from a counter table (mg_prom_section()) */
};

/*
 * Each row of the exposition, in order. For tests: every metric resolves (the unit test
 * against the tables, tests/api/test_metrics_rows.py against a running vigild's document).
 */
void mg_prom_rows(void (*fn)(void *arg, const struct mg_prom_row_info *r), void *arg);

/*
 * The sections of counters the exposition makes rows of: control's (ctl_ctr_sections()), then
 * the API's own (mg_api_ctr.h). Section i, or NULL past the last.
 */
struct ctl_ctr_section;
const struct ctl_ctr_section *mg_prom_section(unsigned i);

#endif /* MG_PROM_H */
