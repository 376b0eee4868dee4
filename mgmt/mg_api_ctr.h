/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The API server's own counters (mg_server.c counts them): the api object of the metrics'
 * document, made with their table mg_api_ctr_set (vg_ctr.h), which the exposition
 * (mg_prom.c) reads as it reads control's.
 */
#ifndef MG_API_CTR_H
#define MG_API_CTR_H

#include <stdint.h>

#include <jansson.h>

#include "vg_ctr.h"

/* Answers by status class: 2xx, 3xx, 4xx, 5xx. */
enum mg_status_class { MG_SC_2XX, MG_SC_3XX, MG_SC_4XX, MG_SC_5XX, MG_SC__COUNT };

/* Requests refused for a header. */
enum mg_refused { MG_REFUSED_HOST, MG_REFUSED_ORIGIN, MG_REFUSED__COUNT };

struct mg_api_counters {
	uint64_t requests[MG_SC__COUNT]; /* answered, by enum mg_status_class */
	uint64_t auth_failures;		 /* 401 */
	/* 421: a Host this server does not answer to; 403: a write or compile from another
	 * origin. By enum mg_refused. */
	uint64_t refused[MG_REFUSED__COUNT];
	uint64_t connections; /* open now */
};

extern const struct vg_ctr_set mg_api_ctr_set;

/* The counters at c (read with relaxed loads) as a new object, or NULL. */
json_t *mg_api_ctr_json(const struct mg_api_counters *c);

#endif /* MG_API_CTR_H */
