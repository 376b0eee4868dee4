/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text exposition format (version 0.0.4) of ctl_api_metrics()'s document.
 *
 * Which JSON value becomes which metric is a table in mg_prom.c: a family name (vigil_...,
 * counters end in _total, units are seconds and bytes), its type and help, the path of the
 * value in the document and, for arrays and objects of values, the label that tells the
 * entries apart. Values the document does not have are left out, so the same table serves
 * appliances with and without a store, a signature set or rules.
 */
#ifndef MG_PROM_H
#define MG_PROM_H

#include <stddef.h>

#include <jansson.h>

/*
 * Format doc. Returns a malloc'd NUL-terminated text (*len without the NUL), or NULL with
 * errno set.
 */
char *mg_prom_format(const json_t *doc, size_t *len);

#endif /* MG_PROM_H */
