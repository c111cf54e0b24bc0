#!/usr/bin/env python3
"""gen_model.py [SERVICE-2.JSON[.GZ]] > api/model.json

Extract the facts of botocore's FSx service model (2018-03-01) that fsxd
needs: metadata, every operation (input, output, declared errors) and every
shape reachable from them, with types, members (in model order, with the
idempotencyToken trait), required lists, min/max, pattern, enum, list
members and exception traits. No documentation strings.

fsx-local's own operations (API_LOCAL in api/ops.def) are added from
LOCAL_OPS and LOCAL_SHAPES below, marked "local": true, so that the same
validator checks them; tools/gen_openapi.py leaves them out of
openapi.yaml.

The output is deterministic: object keys sorted, one operation or shape per
line, member lists kept in model order (the validator reports violations in
that order).
"""
import gzip
import json
import os
import sys


def botocore_model_path():
    import botocore
    return os.path.join(os.path.dirname(botocore.__file__), "data", "fsx",
                        "2018-03-01", "service-2.json.gz")


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


# The types api/model.c knows. A new botocore model that uses another one
# (map, double, blob...) fails here rather than reach an unprepared validator.
SCALARS = ("string", "integer", "long", "boolean", "timestamp")


# fsx-local's operations, in the model's own terms (errors name shapes of
# the botocore model).
LOCAL_OPS = {
    "FsxLocalMountInfo": {
        "errors": ["BadRequest", "FileSystemNotFound", "InternalServerError"],
        "input": "FsxLocalMountInfoRequest",
        "local": True,
    },
}
LOCAL_SHAPES = {
    "FsxLocalMountInfoRequest": {
        "members": [{"name": "FileSystemId", "shape": "FileSystemId"}],
        "required": ["FileSystemId"],
        "type": "structure",
    },
}


def shape_facts(name, s):
    t = s["type"]
    out = {"type": t}
    for k in ("min", "max"):
        if k in s:
            v = s[k]
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            out[k] = v
    if "pattern" in s:
        out["pattern"] = s["pattern"]
    if "enum" in s:
        out["enum"] = list(s["enum"])
    if t == "list":
        out["member"] = s["member"]["shape"]
    elif t == "structure":
        members = []
        for mname, m in s.get("members", {}).items():
            e = {"name": mname, "shape": m["shape"]}
            if m.get("idempotencyToken"):
                e["idempotencyToken"] = True
            members.append(e)
        out["members"] = members
        if s.get("required"):
            out["required"] = list(s["required"])
        if s.get("exception"):
            out["exception"] = True
        if s.get("fault"):
            out["fault"] = True
    elif t not in SCALARS:
        sys.exit("gen_model: shape %s has unsupported type %s" % (name, t))
    return out


def refs(s):
    t = s["type"]
    if t == "list":
        return [s["member"]["shape"]]
    if t == "structure":
        return [m["shape"] for m in s.get("members", {}).values()]
    return []


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else botocore_model_path()
    m = load(src)
    md = m["metadata"]
    ops = {}
    todo = []
    for name, o in m["operations"].items():
        e = {}
        if "input" in o:
            e["input"] = o["input"]["shape"]
            todo.append(e["input"])
        if "output" in o:
            e["output"] = o["output"]["shape"]
            todo.append(e["output"])
        e["errors"] = [x["shape"] for x in o.get("errors", [])]
        todo.extend(e["errors"])
        ops[name] = e
    for name, o in LOCAL_OPS.items():
        if name in ops:
            sys.exit("gen_model: local operation %s is in botocore's model" % name)
        ops[name] = o
        todo.extend(o["errors"])
    shapes = {}
    for name, sh in LOCAL_SHAPES.items():
        shapes[name] = sh
        todo.extend(m["shape"] for m in sh.get("members", []))
    while todo:
        n = todo.pop()
        if n in shapes:
            continue
        if n not in m["shapes"]:
            sys.exit("gen_model: shape %s is referenced but missing" % n)
        s = m["shapes"][n]
        shapes[n] = shape_facts(n, s)
        todo.extend(refs(s))

    meta = {k: md[k] for k in ("apiVersion", "targetPrefix", "signingName",
                               "jsonVersion", "protocol", "serviceId")
            if k in md}
    dump = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"),
                                ensure_ascii=True)
    w = sys.stdout.write
    w('{"metadata":%s,\n"operations":{\n' % dump(meta))
    w(",\n".join("%s:%s" % (dump(k), dump(ops[k])) for k in sorted(ops)))
    w('\n},\n"shapes":{\n')
    w(",\n".join("%s:%s" % (dump(k), dump(shapes[k])) for k in sorted(shapes)))
    w("\n}}\n")


if __name__ == "__main__":
    main()
