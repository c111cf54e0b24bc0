#!/usr/bin/env python3
"""check_api.py [ROOT]: `make check-api`.

Fails (exit 1) with one line per problem when
  - api/ops.def names an operation api/model.json lacks;
  - an fsx-local operation (API_LOCAL in api/ops.def) is not marked
    "local" in api/model.json, or an AWS one is; local operations are
    not in openapi.yaml;
  - openapi.yaml and api/ops.def disagree: an operation in one and not in
    the other;
  - an operation's path key, X-Amz-Target const, request or response schema
    in openapi.yaml differs from what the model gives (the schemas are
    compared in full: every component the request body reaches);
  - openapi.yaml is not valid OpenAPI 3.1 (when openapi-spec-validator is
    installed);
  - anything else differs from what tools/gen_openapi.py would write now.
Prints "check-api: N operations agree" otherwise.

openapi.yaml is read with PyYAML when available, else with a reader for the
fixed style tools/gen_openapi.py writes.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_openapi  # noqa: E402


def parse_yaml_subset(text):
    """Block mappings of `key: <JSON>` / `key:` lines, two-space indents."""
    root = {}
    stack = [(-1, root)]
    dec = json.JSONDecoder()
    for lineno, raw in enumerate(text.splitlines(), 1):
        s = raw.rstrip()
        if not s.strip() or s.lstrip().startswith("#"):
            continue
        ind = len(s) - len(s.lstrip(" "))
        s = s.strip()
        if s.startswith('"'):
            key, end = dec.raw_decode(s)
            rest = s[end:]
        else:
            end = s.find(":")
            if end < 0:
                raise ValueError("line %d: no key" % lineno)
            key, rest = s[:end], s[end:]
        if not rest.startswith(":"):
            raise ValueError("line %d: expected ':'" % lineno)
        rest = rest[1:].strip()
        while stack[-1][0] >= ind:
            stack.pop()
        parent = stack[-1][1]
        if rest == "":
            child = {}
            parent[key] = child
            stack.append((ind, child))
        else:
            parent[key] = json.loads(rest)
    return root


def load_openapi(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import yaml
    except ImportError:
        return parse_yaml_subset(text)
    return yaml.safe_load(text)


def first_line(e):
    lines = str(e).splitlines()
    return lines[0] if lines else type(e).__name__


def closure(schemas, name, out):
    """Every component schema reachable from `name`, by name."""
    if name in out:
        return
    if name not in schemas:
        out[name] = None
        return
    out[name] = schemas[name]

    def walk(v):
        if isinstance(v, dict):
            r = v.get("$ref")
            if isinstance(r, str) and r.startswith("#/components/schemas/"):
                closure(schemas, r.rsplit("/", 1)[1], out)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(schemas[name])


def schema_ref(op_obj, *keys):
    v = op_obj
    for k in keys:
        if not isinstance(v, dict):
            return None
        v = v.get(k)
    if isinstance(v, dict):
        r = v.get("$ref")
        if isinstance(r, str):
            return r.rsplit("/", 1)[1]
    return None


def check(root):
    errs = []
    model = gen_openapi.load_model(root)
    ops = gen_openapi.load_ops(root)
    prefix = model["metadata"]["targetPrefix"]
    if not ops:
        errs.append("api/ops.def: no API_OP lines")
    for o in ops:
        if o not in model["operations"]:
            errs.append("api/ops.def: %s is not an operation of "
                        "api/model.json" % o)
    local = gen_openapi.load_local_ops(root)
    for o in local:
        if not model["operations"].get(o, {}).get("local"):
            errs.append("api/ops.def: local operation %s is not marked local "
                        "in api/model.json" % o)
    for o in ops:
        if model["operations"].get(o, {}).get("local"):
            errs.append("api/ops.def: %s is local in api/model.json but not "
                        "API_LOCAL" % o)
    ops_all = ops + local
    dup = sorted(set(o for o in ops_all if ops_all.count(o) > 1))
    if dup:
        errs.append("api/ops.def: listed twice: %s" % ", ".join(dup))
    try:
        doc = load_openapi(os.path.join(root, "openapi.yaml"))
    except Exception as e:  # noqa: BLE001 -- OSError, ValueError, YAMLError
        return errs + ["openapi.yaml: cannot read: %s" % first_line(e)], 0
    if not isinstance(doc, dict):
        return errs + ["openapi.yaml: not a mapping"], 0

    try:
        from openapi_spec_validator import validate
    except ImportError:
        validate = None
    if validate is not None:
        try:
            validate(doc)
        except Exception as e:  # noqa: BLE001 -- report any failure
            errs.append("openapi.yaml: not valid OpenAPI 3.1: %s"
                        % first_line(e))

    spec_ops = {}
    for path, item in (doc.get("paths") or {}).items():
        post = item.get("post") if isinstance(item, dict) else None
        if not isinstance(post, dict):
            continue
        oid = post.get("operationId")
        if oid in spec_ops:
            errs.append("openapi.yaml: operationId %s appears twice" % oid)
        spec_ops[oid] = (path, post)
    for o in ops:
        if o not in spec_ops:
            errs.append("%s: in api/ops.def, missing from openapi.yaml" % o)
    for o in sorted(spec_ops, key=str):
        if o not in ops:
            errs.append("%s: in openapi.yaml, not in api/ops.def" % o)

    want = {n: gen_openapi.shape_schema(s) for n, s in model["shapes"].items()}
    have = (doc.get("components") or {}).get("schemas") or {}
    n_ok = 0
    for o in ops:
        if o not in spec_ops or o not in model["operations"]:
            continue
        path, post = spec_ops[o]
        mo = model["operations"][o]
        target = "%s.%s" % (prefix, o)
        bad = len(errs)
        if path != "/#X-Amz-Target=" + target:
            errs.append("%s: path key %s, want /#X-Amz-Target=%s"
                        % (o, path, target))
        consts = [p.get("schema", {}).get("const")
                  for p in post.get("parameters", [])
                  if p.get("name") == "X-Amz-Target" and p.get("in") == "header"]
        if consts != [target]:
            errs.append("%s: X-Amz-Target header const %s, want %s"
                        % (o, consts, target))
        ctype = gen_openapi.CTYPE
        req = schema_ref(post, "requestBody", "content", ctype, "schema")
        if req != mo["input"]:
            errs.append("%s: request schema %s, model input %s"
                        % (o, req, mo["input"]))
        else:
            h, w = {}, {}
            closure(have, req, h)
            closure(want, req, w)
            for n in sorted(set(h) | set(w)):
                if h.get(n) != w.get(n):
                    errs.append("%s: request schema differs from the model "
                                "at %s" % (o, n))
                    break
        resp = schema_ref(post, "responses", "200", "content", ctype, "schema")
        if resp != mo["output"]:
            errs.append("%s: 200 schema %s, model output %s"
                        % (o, resp, mo["output"]))
        if len(errs) == bad:
            n_ok += 1
    if not errs and doc != gen_openapi.build(model, ops):
        errs.append("openapi.yaml is stale (responses, errors or components "
                    "differ): run python3 tools/gen_openapi.py > openapi.yaml")
    return errs, n_ok


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))
    errs, n_ok = check(root)
    if errs:
        for e in errs:
            print("check-api: " + e, file=sys.stderr)
        print("check-api: FAILED (%d problem%s)" % (len(errs),
              "" if len(errs) == 1 else "s"), file=sys.stderr)
        return 1
    print("check-api: %d operations agree" % n_ok)
    return 0


if __name__ == "__main__":
    sys.exit(main())
