#!/usr/bin/env python3
"""gen_openapi.py > openapi.yaml

Describe fsxd's HTTP API as OpenAPI 3.1, deterministically, from
api/model.json (the shapes) and api/ops.def (the operations fsxd answers).

Every FSx operation is `POST /` with `X-Amz-Target: <prefix>.<Op>`, but
OpenAPI keys operations by path. We follow the convention of AWS-to-OpenAPI
converters: one path key per operation, `/#X-Amz-Target=<prefix>.<Op>`. The
part after `#` is a URL fragment, never sent, so every key still means
`POST /`; the X-Amz-Target header parameter (a `const`) is what selects the
operation on the wire.

The output is YAML in a small, fixed style that tools/check_api.py can read
without PyYAML: mappings in block style, one `key: value` per line; every
value that is not a mapping (strings, numbers, lists) is written as a JSON
flow value on its line. That is valid YAML 1.2 and parses with PyYAML too.
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = "http://127.0.0.1:4566"
CTYPE = "application/x-amz-json-1.1"


def load_model(root=ROOT):
    with open(os.path.join(root, "api", "model.json"), encoding="utf-8") as f:
        return json.load(f)


def load_op_rows(root=ROOT):
    """(name, flags text) of every API_OP row of api/ops.def, in file order."""
    with open(os.path.join(root, "api", "ops.def"), encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"^\s*API_OP\(\s*([A-Za-z0-9_]+)\s*,\s*[A-Za-z0-9_]+\s*,"
                      r"\s*([^,]+),", text, re.M)


def load_ops(root=ROOT):
    """AWS operation names of api/ops.def, in file order: fsx-local's own
    (flag API_LOCAL) are not part of the AWS API and not in openapi.yaml."""
    return [n for n, flags in load_op_rows(root) if "API_LOCAL" not in flags]


def load_local_ops(root=ROOT):
    """fsx-local's own operation names (flag API_LOCAL) of api/ops.def."""
    return [n for n, flags in load_op_rows(root) if "API_LOCAL" in flags]


# Java regex features that JSON Schema's dialect (ECMA-262, and Python's re
# in most validators) lacks, rewritten to the same approximation api/model.c
# uses; the model's own text stays in x-aws-pattern.
PATTERN_REWRITES = (
    (r"\p{L}", r"A-Za-z\u0080-\uffff"),
    (r"\p{Z}", " "),
    (r"\p{N}", "0-9"),
)


def json_schema_pattern(p):
    q = p
    for a, b in PATTERN_REWRITES:
        q = q.replace(a, b)
    if "(?i)" in q:
        # only in ^(?i)(true|false)$: spell the case-insensitivity out
        q = q.replace("(?i)", "")
        if "[" in q or "\\" in q:
            sys.exit("gen_openapi: cannot rewrite pattern %s" % p)
        q = re.sub(r"[A-Za-z]", lambda m: "[%s%s]" % (m.group(0).upper(),
                                                       m.group(0).lower()), q)
    re.compile(q)
    return q


def ref(name):
    return {"$ref": "#/components/schemas/" + name}


def shape_schema(shape):
    """JSON Schema (OpenAPI 3.1 dialect) of one model shape."""
    t = shape["type"]
    s = {}
    if t == "string":
        s["type"] = "string"
        if "min" in shape:
            s["minLength"] = shape["min"]
        if "max" in shape:
            s["maxLength"] = shape["max"]
        if "pattern" in shape:
            s["pattern"] = json_schema_pattern(shape["pattern"])
            if s["pattern"] != shape["pattern"]:
                s["x-aws-pattern"] = shape["pattern"]
        if "enum" in shape:
            s["enum"] = shape["enum"]
    elif t in ("integer", "long"):
        s["type"] = "integer"
        s["format"] = "int32" if t == "integer" else "int64"
        if "min" in shape:
            s["minimum"] = shape["min"]
        if "max" in shape:
            s["maximum"] = shape["max"]
    elif t == "boolean":
        s["type"] = "boolean"
    elif t == "timestamp":
        s["type"] = "number"
        s["description"] = "seconds since the epoch, with milliseconds"
    elif t == "list":
        s["type"] = "array"
        s["items"] = ref(shape["member"])
        if "min" in shape:
            s["minItems"] = shape["min"]
        if "max" in shape:
            s["maxItems"] = shape["max"]
    elif t == "structure":
        s["type"] = "object"
        props = {}
        if shape.get("exception"):
            props["__type"] = {"type": "string"}
        for m in shape["members"]:
            props[m["name"]] = ref(m["shape"])
        s["properties"] = props
        req = list(shape.get("required", []))
        if shape.get("exception"):
            req = ["__type"] + req
        if req:
            s["required"] = req
        tok = [m["name"] for m in shape["members"] if m.get("idempotencyToken")]
        if tok:
            s["x-idempotency-token"] = tok[0]
    else:
        sys.exit("gen_openapi: unsupported shape type %s" % t)
    return s


def reachable(model, roots):
    shapes = model["shapes"]
    seen = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        s = shapes[n]
        if s["type"] == "list":
            todo.append(s["member"])
        elif s["type"] == "structure":
            todo.extend(m["shape"] for m in s["members"])
    return seen


def error_responses(model, errs):
    out = {}
    client = [e for e in errs if not model["shapes"][e].get("fault")]
    server = [e for e in errs if model["shapes"][e].get("fault")]
    for status, names, what in (("400", client, "Client error"),
                                ("500", server, "Server error")):
        if not names:
            continue
        if len(names) == 1:
            schema = ref(names[0])
        else:
            schema = {
                "oneOf": [ref(n) for n in names],
                "discriminator": {
                    "propertyName": "__type",
                    "mapping": {n: "#/components/schemas/" + n for n in names},
                },
            }
        out[status] = {
            "description": "%s: %s" % (what, ", ".join(names)),
            "content": {CTYPE: {"schema": schema}},
        }
    return out


def build(model, ops):
    prefix = model["metadata"]["targetPrefix"]
    missing = [o for o in ops if o not in model["operations"]]
    if missing:
        sys.exit("gen_openapi: api/ops.def names operations the model "
                 "lacks: %s" % ", ".join(missing))
    paths = {}
    roots = []
    for op in ops:
        o = model["operations"][op]
        roots.extend([o["input"], o["output"]] + o["errors"])
        target = "%s.%s" % (prefix, op)
        paths["/#X-Amz-Target=" + target] = {"post": {
            "operationId": op,
            "summary": "POST / with X-Amz-Target: " + target,
            "parameters": [{
                "name": "X-Amz-Target", "in": "header", "required": True,
                "schema": {"type": "string", "const": target},
            }],
            "requestBody": {
                "required": True,
                "content": {CTYPE: {"schema": ref(o["input"])}},
            },
            "responses": dict({"200": {
                "description": "Success",
                "content": {CTYPE: {"schema": ref(o["output"])}},
            }}, **error_responses(model, o["errors"])),
        }}
    paths["/health"] = {"get": {
        "operationId": "Health",
        "summary": "Liveness probe",
        "security": [],
        "responses": {"200": {
            "description": "fsxd is up",
            "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"status": {"type": "string", "const": "ok"}},
                "required": ["status"],
            }}},
        }},
    }}
    paths["/metrics"] = {"get": {
        "operationId": "Metrics",
        "summary": "Prometheus metrics",
        "security": [],
        "responses": {"200": {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }},
    }}
    schemas = {n: shape_schema(model["shapes"][n])
               for n in sorted(reachable(model, roots))}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fsx-local (Amazon FSx API %s, AWS JSON 1.1)"
                     % model["metadata"]["apiVersion"],
            "version": model["metadata"]["apiVersion"],
            "description": "Every operation is POST / with Content-Type %s "
                           "and X-Amz-Target: %s.<Operation>, signed with "
                           "SigV4 (service %s). Path keys are "
                           "/#X-Amz-Target=<target>: the fragment is never "
                           "sent, so each one means POST /."
                           % (CTYPE, prefix, model["metadata"]["signingName"]),
        },
        "servers": [{"url": SERVER}],
        "security": [{"sigv4": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"sigv4": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": "AWS Signature Version 4, service %s"
                               % model["metadata"]["signingName"],
                "x-amazon-apigateway-authtype": "awsSigv4",
            }},
            "schemas": schemas,
        },
    }


PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_.$-]*$")


def yaml_key(k):
    return k if PLAIN_KEY.match(k) else json.dumps(k)


def emit(obj, out, indent=0):
    """Block mappings; everything else as one JSON flow value."""
    pad = "  " * indent
    for k, v in obj.items():
        if isinstance(v, dict) and v:
            out.append("%s%s:" % (pad, yaml_key(k)))
            emit(v, out, indent + 1)
        else:
            out.append("%s%s: %s" % (pad, yaml_key(k),
                                     json.dumps(v, separators=(", ", ": "))))


HEADER = """\
# openapi.yaml: fsx-local's HTTP API (OpenAPI 3.1). Generated by
# tools/gen_openapi.py from api/model.json and api/ops.def; do not edit.
# `make check-api` fails when it disagrees with api/ops.def or the model.
#
# All FSx operations are POST / told apart by the X-Amz-Target header.
# OpenAPI keys operations by path, so each gets the key
# "/#X-Amz-Target=AWSSimbaAPIService_v20180301.<Op>": the URL fragment is
# never sent, so every such key is the same POST /, and the required
# X-Amz-Target header parameter (a const) selects the operation.
#
# Style: block mappings, every other value a JSON flow value on its line.
"""


def render(doc):
    out = []
    emit(doc, out)
    return HEADER + "\n".join(out) + "\n"


def main():
    sys.stdout.write(render(build(load_model(), load_ops())))


if __name__ == "__main__":
    main()
