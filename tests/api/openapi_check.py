#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small structural validator of OpenAPI 3.0 documents (no network, no third-party module).

It checks what a client generator or a reviewer relies on: the required top-level fields, every
path and operation (methods, unique operationIds, responses with a status code or default and a
description, parameters with name/in/schema, path parameters declared for each {template} and
required), every $ref resolving inside the document, security requirements naming declared
schemes, and schemas built from known keywords and types.

    openapi_check.py FILE       exit 0 when valid, 1 with one line per problem
"""
import json
import re
import sys

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
TYPES = {"object", "array", "string", "integer", "number", "boolean"}
SCHEMA_KEYS = {
    "type", "properties", "required", "items", "additionalProperties", "description",
    "enum", "default", "example", "minimum", "maximum", "minLength", "maxLength", "nullable",
    "format", "$ref", "oneOf", "anyOf", "allOf", "pattern", "minItems", "maxItems", "title",
    "readOnly", "writeOnly", "deprecated",
}


class Checker:
    def __init__(self, doc):
        self.doc = doc
        self.problems = []

    def bad(self, where, what):
        self.problems.append(f"{where}: {what}")

    def resolve(self, ref, where):
        if not isinstance(ref, str) or not ref.startswith("#/"):
            self.bad(where, f"$ref {ref!r} is not a local reference")
            return None
        node = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                self.bad(where, f"$ref {ref} does not resolve")
                return None
            node = node[part]
        return node

    def deref(self, node, where):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            node = self.resolve(node["$ref"], where)
            seen += 1
            if seen > 20:
                self.bad(where, "$ref loop")
                return None
        return node

    def schema(self, s, where):
        if not isinstance(s, dict):
            self.bad(where, "a schema must be an object")
            return
        if "$ref" in s:
            if len(s) > 1:
                self.bad(where, "siblings of $ref are ignored by OpenAPI 3.0")
            self.resolve(s["$ref"], where)
            return
        for k in s:
            if k not in SCHEMA_KEYS and not k.startswith("x-"):
                self.bad(where, f"unknown schema keyword {k!r}")
        t = s.get("type")
        if t is not None and t not in TYPES:
            self.bad(where, f"type {t!r} is not one of {sorted(TYPES)}")
        if t == "array" and "items" not in s:
            self.bad(where, "an array schema needs items")
        if "items" in s:
            self.schema(s["items"], where + ".items")
        props = s.get("properties", {})
        if not isinstance(props, dict):
            self.bad(where, "properties must be an object")
            props = {}
        for name, p in props.items():
            self.schema(p, f"{where}.properties.{name}")
        req = s.get("required", [])
        if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
            self.bad(where, "required must be a list of names")
        elif props:
            for r in req:
                if r not in props:
                    self.bad(where, f"required {r!r} is not a property")
        ap = s.get("additionalProperties")
        if isinstance(ap, dict):
            self.schema(ap, where + ".additionalProperties")
        elif ap is not None and not isinstance(ap, bool):
            self.bad(where, "additionalProperties must be a boolean or a schema")
        if "enum" in s and (not isinstance(s["enum"], list) or not s["enum"]):
            self.bad(where, "enum must be a non-empty list")
        for k in ("oneOf", "anyOf", "allOf"):
            for i, sub in enumerate(s.get(k, [])):
                self.schema(sub, f"{where}.{k}[{i}]")

    def content(self, c, where):
        if not isinstance(c, dict) or not c:
            self.bad(where, "content must map media types to media type objects")
            return
        for mt, m in c.items():
            if "/" not in mt:
                self.bad(where, f"{mt!r} is not a media type")
            if "schema" in m:
                self.schema(m["schema"], f"{where}.{mt}.schema")

    def parameter(self, p, where):
        p = self.deref(p, where)
        if not isinstance(p, dict):
            return None
        for k in ("name", "in"):
            if k not in p:
                self.bad(where, f"parameter lacks {k}")
                return None
        if p["in"] not in ("query", "header", "path", "cookie"):
            self.bad(where, f"parameter 'in' {p['in']!r} is not query, header, path or cookie")
        if p["in"] == "path" and p.get("required") is not True:
            self.bad(where, f"path parameter {p['name']} must be required")
        if "schema" not in p and "content" not in p:
            self.bad(where, f"parameter {p['name']} has neither schema nor content")
        if "schema" in p:
            self.schema(p["schema"], f"{where}({p['name']}).schema")
        return p

    def run(self):
        d = self.doc
        if not isinstance(d, dict):
            self.bad("document", "not a JSON object")
            return self.problems
        if not re.fullmatch(r"3\.0\.\d+", str(d.get("openapi", ""))):
            self.bad("openapi", f"{d.get('openapi')!r} is not a 3.0.x version")
        info = d.get("info")
        if not isinstance(info, dict) or not info.get("title") or not info.get("version"):
            self.bad("info", "needs a title and a version")
        schemes = d.get("components", {}).get("securitySchemes", {})
        for name, sch in schemes.items():
            if sch.get("type") not in ("apiKey", "http", "oauth2", "openIdConnect"):
                self.bad(f"securitySchemes.{name}", f"type {sch.get('type')!r}")
        for name, s in d.get("components", {}).get("schemas", {}).items():
            self.schema(s, f"components.schemas.{name}")

        def security(sec, where):
            if not isinstance(sec, list):
                self.bad(where, "security must be a list")
                return
            for req in sec:
                for name in req:
                    if name not in schemes:
                        self.bad(where, f"security scheme {name!r} is not declared")

        security(d.get("security", []), "security")
        op_ids = set()
        paths = d.get("paths")
        if not isinstance(paths, dict) or not paths:
            self.bad("paths", "no paths")
            return self.problems
        for path, item in paths.items():
            where = f"paths.{path}"
            if not path.startswith("/"):
                self.bad(where, "a path must start with /")
            templ = set(re.findall(r"\{([^}/]+)\}", path))
            common = [self.parameter(p, where + ".parameters")
                      for p in item.get("parameters", [])]
            ops = [m for m in item if m in METHODS]
            if not ops:
                self.bad(where, "no operation")
            for k in item:
                if k not in METHODS and k not in ("parameters", "summary", "description",
                                                  "servers") and not k.startswith("x-"):
                    self.bad(where, f"unknown path item field {k!r}")
            for m in ops:
                op = item[m]
                ow = f"{where}.{m}"
                oid = op.get("operationId")
                if not oid:
                    self.bad(ow, "no operationId")
                elif oid in op_ids:
                    self.bad(ow, f"operationId {oid} is used twice")
                op_ids.add(oid)
                params = [p for p in common if p] + [
                    p for p in (self.parameter(p, ow + ".parameters")
                                for p in op.get("parameters", [])) if p]
                seen = set()
                for p in params:
                    key = (p["name"], p["in"])
                    if key in seen and p in [q for q in common if q]:
                        continue
                    if key in seen:
                        self.bad(ow, f"parameter {p['name']} in {p['in']} appears twice")
                    seen.add(key)
                declared = {p["name"] for p in params if p["in"] == "path"}
                for t in templ - declared:
                    self.bad(ow, f"path template {{{t}}} has no path parameter")
                for t in declared - templ:
                    self.bad(ow, f"path parameter {t} is not in the path")
                if "requestBody" in op:
                    rb = self.deref(op["requestBody"], ow + ".requestBody")
                    if isinstance(rb, dict):
                        self.content(rb.get("content"), ow + ".requestBody.content")
                    if m in ("get", "delete", "head"):
                        self.bad(ow, f"{m.upper()} with a request body")
                resp = op.get("responses")
                if not isinstance(resp, dict) or not resp:
                    self.bad(ow, "no responses")
                    continue
                for code, r in resp.items():
                    rw = f"{ow}.responses.{code}"
                    if code != "default" and not re.fullmatch(r"[1-5](\d\d|XX)", code):
                        self.bad(rw, "not a status code")
                    r = self.deref(r, rw)
                    if not isinstance(r, dict):
                        continue
                    if not r.get("description"):
                        self.bad(rw, "no description")
                    if "content" in r:
                        self.content(r["content"], rw + ".content")
                if "security" in op:
                    security(op["security"], ow + ".security")
        return self.problems


def check(doc):
    return Checker(doc).run()


def main():
    if len(sys.argv) != 2:
        print("usage: openapi_check.py FILE", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    problems = check(doc)
    for p in problems:
        print(f"{sys.argv[1]}: {p}")
    if not problems:
        n = sum(len([m for m in v if m in METHODS]) for v in doc["paths"].values())
        print(f"{sys.argv[1]}: valid OpenAPI {doc['openapi']}, {len(doc['paths'])} paths, "
              f"{n} operations")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
