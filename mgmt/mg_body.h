/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Request bodies: one JSON object whose members are declared in a table, like the config's
 * fields. Malformed JSON, a body that is not an object, duplicate or unknown members, wrong
 * types, values out of range and missing required members are 4xx replies that name the
 * member and say what would be accepted.
 */
#ifndef MG_BODY_H
#define MG_BODY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "mg_req.h"

enum mg_btype {
	MG_BT_STRING, /* min/max: length in bytes */
	MG_BT_INT,    /* min/max: value */
	MG_BT_BOOL,
	MG_BT_ARRAY, /* min/max: number of items (the handler checks the items) */
};

struct mg_bfield {
	const char *name;
	enum mg_btype type;
	bool required;
	int64_t min;
	int64_t max;
};

/* True when Content-Type is application/json (parameters such as charset=utf-8 allowed). */
bool mg_body_is_json(const struct mg_req *r);

/* True when Content-Type is one of the text types a policy may be sent as (see mg_h_text.c). */
bool mg_body_is_text(const struct mg_req *r);

/* Content-Type is application/octet-stream (an uploaded object). */
bool mg_body_is_binary(const struct mg_req *r);

/*
 * Parse r's body against fields (terminated by a row with name NULL). Returns the object (the
 * caller decrefs it), or NULL after replying: 415 when the body is not declared as JSON, 400
 * invalid_json (with line, column and position in details) or 400 invalid_body (with the
 * member in details).
 */
json_t *mg_body_parse(struct mg_req *r, const struct mg_bfield *fields);

/* The member's value after mg_body_parse(): string or NULL, integer or dflt. */
const char *mg_body_str(const json_t *o, const char *name);
int64_t mg_body_int(const json_t *o, const char *name, int64_t dflt);

#endif /* MG_BODY_H */
