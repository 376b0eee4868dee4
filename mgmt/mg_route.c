/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mg_route.h"

/*
 * Match path against pattern segment by segment; {name} takes one non-empty segment into
 * params[]. Returns true on a match.
 */
static bool
match(const char *pattern, const char *path, char params[][MG_PARAM_LEN])
{
	unsigned np = 0;

	while (*pattern != '\0' && *path != '\0') {
		if (*pattern != '/' || *path != '/')
			return false;
		pattern++;
		path++;
		size_t pl = strcspn(pattern, "/");
		size_t sl = strcspn(path, "/");

		if (sl == 0 || (sl == 2 && path[0] == '.' && path[1] == '.') ||
				(sl == 1 && path[0] == '.'))
			return false;
		if (pattern[0] == '{') {
			if (np >= MG_MAX_PARAMS || sl >= MG_PARAM_LEN)
				return false;
			memcpy(params[np], path, sl);
			params[np][sl] = '\0';
			np++;
		} else if (pl != sl || memcmp(pattern, path, sl) != 0) {
			return false;
		}
		pattern += pl;
		path += sl;
	}
	return *pattern == '\0' && *path == '\0';
}

int
mg_route_find(struct mg_req *r, const char *method, const char *path)
{
	char params[MG_MAX_PARAMS][MG_PARAM_LEN];
	bool path_known = false;
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;

	r->route = NULL;
	r->allow[0] = '\0';
	for (const struct mg_route *rt = mg_routes; rt->method != NULL; rt++) {
		if (!match(rt->pattern, path, params))
			continue;
		if (strcmp(rt->method, m) == 0) {
			r->route = rt;
			memcpy(r->params, params, sizeof(params));
			return 0;
		}
		path_known = true;
	}
	if (!path_known)
		return -ENOENT;
	/* Collect the methods this path takes, for the Allow header of the 405. */
	for (const struct mg_route *rt = mg_routes; rt->method != NULL; rt++) {
		size_t used = strlen(r->allow);

		if (!match(rt->pattern, path, params))
			continue;
		snprintf(r->allow + used, sizeof(r->allow) - used, "%s%s%s", used ? ", " : "",
				rt->method, strcmp(rt->method, "GET") == 0 ? ", HEAD" : "");
	}
	return -EOPNOTSUPP;
}

void
mg_route_run(struct mg_req *r)
{
	const struct mg_route *rt = r->route;

	if (rt->role > MG_ROLE_NONE) {
		if (r->auth != MG_AUTH_OK) {
			mg_reply_error(r, 401, "unauthorized", NULL, "%s",
					mg_auth_result_str(r->auth));
			return;
		}
		if (r->id.role < rt->role) {
			mg_reply_error(r, 403, "forbidden",
					json_pack("{s:s, s:s}", "role", mg_role_name(r->id.role),
							"required", mg_role_name(rt->role)),
					"%s %s needs the %s role; token '%s' has %s", rt->method,
					rt->pattern, mg_role_name(rt->role), r->id.name,
					mg_role_name(r->id.role));
			return;
		}
	}
	rt->fn(r);
	if (r->status == 0)
		mg_reply_error(r, 500, "internal", NULL, "the handler of %s %s gave no reply",
				rt->method, rt->pattern);
}
