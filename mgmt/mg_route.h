/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The API's route table: every (method, path) the server answers, the role it needs and the
 * handler that answers it. The OpenAPI document (mgmt/openapi.json) describes exactly these
 * routes; a unit test compares the two.
 */
#ifndef MG_ROUTE_H
#define MG_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "mg_req.h"

typedef void (*mg_handler_fn)(struct mg_req *r);

/* Route flags. */
#define MG_RF_BODY  0x1 /* takes a request body (JSON, or text where the handler says) */
#define MG_RF_WRITE 0x2 /* changes the appliance: recorded in the audit log */
/*
 * Answered on the server's I/O threads. Routes without it may wait for the control lcore,
 * compile a policy or query the store, so they run on the job threads: a slow one never holds
 * up health checks, status or metrics.
 */
#define MG_RF_FAST 0x4

struct mg_route {
	const char *method;  /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern; /* "/api/v1/policy/versions/{version}": {name} is one segment */
	int role;	     /* minimum enum mg_role; MG_ROLE_NONE: no token needed */
	unsigned flags;
	mg_handler_fn fn;
	const char *target; /* what a write changes, for the audit log ("policy") */
};

/* The table, terminated by a row with method NULL. */
extern const struct mg_route mg_routes[];

/*
 * Find the route for method and path. On success fills r->route and r->params and returns 0.
 * Returns -ENOENT when no pattern matches path, and -EOPNOTSUPP when some pattern matches but
 * not with this method (r->allow then lists the methods that would be accepted, HEAD is
 * accepted where GET is). Paths longer than the parameters allow, with empty segments or with
 * '..' segments never match.
 */
int mg_route_find(struct mg_req *r, const char *method, const char *path);

/*
 * Run r->route's handler for r (routed, identified), after checking r->id's role: 401 when
 * the route needs a role and there is no identity, 403 when the role is too low, else the
 * handler's reply. Does not audit (the server does, with the final status).
 */
void mg_route_run(struct mg_req *r);

#endif /* MG_ROUTE_H */
