/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The route table against mgmt/openapi.json: every route the server answers is in the
 * document with the same method, role, body and path parameters, and every operation of the
 * document is a route.
 */
#include <ctype.h>

#include "vg_test.h"

#include <jansson.h>

#include "mg_config.h"
#include "mg_route.h"

static json_t *doc;

static int
load_doc(void **state)
{
	json_error_t e;

	(void)state;
	doc = json_load_file(VIGIL_SOURCE_ROOT "/mgmt/openapi.json", JSON_REJECT_DUPLICATES, &e);
	if (doc == NULL)
		fprintf(stderr, "openapi.json:%d:%d: %s\n", e.line, e.column, e.text);
	return doc == NULL ? -1 : 0;
}

static int
free_doc(void **state)
{
	(void)state;
	json_decref(doc);
	return 0;
}

static void
lower(char *dst, const char *src, size_t len)
{
	size_t i = 0;

	for (; src[i] && i + 1 < len; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* The operation's parameters, its path item's, and $refs into components.parameters. */
static unsigned
count_path_params(json_t *item, json_t *op)
{
	json_t *lists[2] = { json_object_get(item, "parameters"),
		json_object_get(op, "parameters") };
	unsigned n = 0;

	for (int l = 0; l < 2; l++) {
		size_t i;
		json_t *p;

		json_array_foreach(lists[l], i, p)
		{
			const char *ref = json_string_value(json_object_get(p, "$ref"));

			if (ref != NULL) {
				const char *name = strrchr(ref, '/');

				assert_non_null(name);
				p = json_object_get(
						json_object_get(json_object_get(doc, "components"),
								"parameters"),
						name + 1);
				if (p == NULL)
					fail_msg("unresolved %s", ref);
			}
			if (strcmp(json_string_value(json_object_get(p, "in")) ?: "", "path") == 0)
				n++;
		}
	}
	return n;
}

static void
test_routes_are_documented(void **state)
{
	json_t *paths = json_object_get(doc, "paths");
	unsigned n = 0;

	(void)state;
	assert_non_null(paths);
	for (const struct mg_route *rt = mg_routes; rt->method != NULL; rt++, n++) {
		json_t *item = json_object_get(paths, rt->pattern);
		char m[16];
		json_t *op;
		const char *role;
		unsigned braces = 0;

		if (item == NULL)
			fail_msg("%s %s is not in openapi.json", rt->method, rt->pattern);
		lower(m, rt->method, sizeof(m));
		op = json_object_get(item, m);
		if (op == NULL)
			fail_msg("%s %s: the document has no %s operation", rt->method, rt->pattern,
					m);
		role = json_string_value(json_object_get(op, "x-vigil-role"));
		if (role == NULL)
			fail_msg("%s %s: no x-vigil-role", rt->method, rt->pattern);
		if (strcmp(role, rt->role == MG_ROLE_NONE ? "none" : mg_role_name(rt->role)) != 0)
			fail_msg("%s %s: the document says role %s, the server needs %s",
					rt->method, rt->pattern, role, mg_role_name(rt->role));
		/* Public operations say so with an empty security list; the rest inherit bearer. */
		json_t *sec = json_object_get(op, "security");
		if ((rt->role == MG_ROLE_NONE) != (json_is_array(sec) && json_array_size(sec) == 0))
			fail_msg("%s %s: security does not match role %s", rt->method, rt->pattern,
					role);
		if (((rt->flags & MG_RF_BODY) != 0) != (json_object_get(op, "requestBody") != NULL))
			fail_msg("%s %s: requestBody does not match the route", rt->method,
					rt->pattern);
		for (const char *p = rt->pattern; *p; p++)
			braces += *p == '{';
		if (count_path_params(item, op) != braces)
			fail_msg("%s %s: %u path parameters in the pattern, %u documented",
					rt->method, rt->pattern, braces,
					count_path_params(item, op));
		/* Writes document 401 and 403; every operation documents 400 and 500. */
		json_t *resp = json_object_get(op, "responses");
		assert_non_null(json_object_get(resp, "400"));
		assert_non_null(json_object_get(resp, "500"));
		if (rt->role > MG_ROLE_NONE)
			assert_non_null(json_object_get(resp, "401"));
		if (rt->role > MG_ROLE_VIEWER)
			assert_non_null(json_object_get(resp, "403"));
	}
	assert_true(n >= 7);
	print_message("%u routes, all documented\n", n);
}

static void
test_documented_operations_are_routes(void **state)
{
	json_t *paths = json_object_get(doc, "paths");
	const char *path;
	json_t *item;
	unsigned ops = 0, missing = 0;

	(void)state;
	json_object_foreach(paths, path, item)
	{
		const char *m;
		json_t *op;

		json_object_foreach(item, m, op)
		{
			bool found = false;

			if (strcmp(m, "parameters") == 0)
				continue;
			ops++;
			for (const struct mg_route *rt = mg_routes; rt->method != NULL; rt++) {
				char lm[16];

				lower(lm, rt->method, sizeof(lm));
				found |= strcmp(rt->pattern, path) == 0 && strcmp(lm, m) == 0;
			}
			if (!found) {
				print_message("documented, not a route: %s %s\n", m, path);
				missing++;
			}
		}
	}
	assert_int_equal(missing, 0);
	assert_true(ops >= 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_are_documented),
		cmocka_unit_test(test_documented_operations_are_routes),
	};

	return cmocka_run_group_tests(tests, load_doc, free_doc);
}
