/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The OpenAPI 3 document of the API (mgmt/openapi.json), built into the binary so that the
 * daemon serves exactly the document of its own version (mgmt/gen_blob.py writes the array).
 */
#ifndef MG_OPENAPI_H
#define MG_OPENAPI_H

#include <stddef.h>

extern const char mg_openapi_json[];
extern const size_t mg_openapi_json_len;

#endif /* MG_OPENAPI_H */
