#!/usr/bin/env python3
"""Write the seed corpora of tests/fuzz (tests/fuzz/corpus/<target>/).

Seeds are small, meaningful inputs: real requests of each kind, so that the
fuzzer starts from what peers send. Run from the top of the tree; it
rewrites only the seeds it names (files libFuzzer adds live in build/).
    python3 tests/fuzz/make_corpus.py
"""
import os
import re
import struct
import zlib  # noqa: F401  (CRCs are the harness's job: fuzz_msg seals)

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
FIX = os.path.join(HERE, "..", "unit", "fixtures", "sigv4")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ops_of(target):
    """The opcode list of fuzz_<target>.c, in order (the input's op index)."""
    src = open(os.path.join(HERE, "fuzz_%s.c" % target)).read()
    body = src[src.index("_ops[] = {"):]
    body = body[:body.index("};")]
    return re.findall(r"MSG_OP_\w+", body)


def rec(ops, op, body=b"", bulk=b"", flags=0):
    return struct.pack("<BBHH", ops.index(op), flags, len(body),
                       len(bulk)) + body + bulk


def cred():
    return struct.pack("<II", 0, 0)


# --- HTTP and SigV4: the captured botocore requests and AWS's suite ---
def http_seeds():
    for name in sorted(os.listdir(os.path.join(FIX, "captured"))):
        req = open(os.path.join(FIX, "captured", name, "req"), "rb").read()
        put("sigv4", "captured-" + name, req)
        if not name.startswith("s3-"):
            put("http", "captured-" + name, req)
    for name in sorted(os.listdir(os.path.join(FIX, "suite"))):
        d = os.path.join(FIX, "suite", name)
        req = open(os.path.join(d, "req"), "rb").read()
        authz = open(os.path.join(d, "authz"), "rb").read().strip()
        head, sep, body = req.partition(b"\n\n")
        put("sigv4", "suite-" + name, head + b"\nAuthorization: " + authz +
            b"\n\n" + body)
    pre = ("POST / HTTP/1.1\r\nHost: localhost\r\n"
           "Content-Type: application/x-amz-json-1.1\r\n"
           "X-Amz-Target: AWSSimbaAPIService_v20180301.%s\r\n"
           "Content-Length: %d\r\n\r\n%s")
    bodies = {
        "DescribeFileSystems": '{"FileSystemIds":["fs-0123456789abcdef0"],'
                               '"MaxResults":10,"NextToken":"abc"}',
        "CreateFileSystem": '{"FileSystemType":"LUSTRE","StorageCapacity":1200,'
                            '"SubnetIds":["subnet-1"],"LustreConfiguration":'
                            '{"DeploymentType":"PERSISTENT_2",'
                            '"PerUnitStorageThroughput":125,'
                            '"ImportPath":"s3://bucket/prefix"},'
                            '"Tags":[{"Key":"k","Value":"v"}]}',
        "TagResource": '{"ResourceARN":"arn:aws:fsx:us-east-1:123456789012:'
                       'file-system/fs-0123456789abcdef0","Tags":'
                       '[{"Key":"a","Value":"b"}]}',
        "UpdateFileSystem": '{"FileSystemId":"fs-0123456789abcdef0",'
                            '"StorageCapacity":2400,"LustreConfiguration":'
                            '{"WeeklyMaintenanceStartTime":"1:05:00"}}',
        "CreateDataRepositoryTask": '{"FileSystemId":"fs-0123456789abcdef0",'
                                    '"Type":"EXPORT_TO_REPOSITORY","Paths":'
                                    '["a/b"],"Report":{"Enabled":false}}',
        "DeleteFileSystem": '{"FileSystemId":"fs-0123456789abcdef0",'
                            '"ClientRequestToken":"t1"}',
    }
    for op, b in bodies.items():
        put("http", "op-" + op, pre % (op, len(b), b))
    put("http", "deep-nesting", pre % ("CreateFileSystem", 400,
                                       "[" * 200 + "]" * 200))
    # crashed fsxd's handler before api_absent.c checked Name (found by
    # tests/api/test_hostile.py); here it reaches the validator
    b = '{"Filters":[{"Values":["../../../../etc/passwd"]}]}'
    put("http", "regress-filter-without-name", pre % ("DescribeBackups", len(b), b))
    # regress-*: inputs libFuzzer found (sigv4: a harness false alarm;
    # lfs: getopt state across inputs), kept as they were written


# --- the engine frame decoder ---
def hdr(op, body=b"", bulk=b"", flags=0, status=0, reqid=1):
    # crc fields zero: fuzz_msg's mode bit 0 seals them
    return struct.pack("<IHHIiQIIII", 0x4d585346, 1, op, flags, status,
                       reqid, len(body), len(bulk), 0, 0) + body + bulk


def msg_seeds():
    ping = hdr(2)
    io = struct.pack("<IIQQQ", 0, 0, 7, 0, 5)
    put("msg", "sealed-ping", b"\x01" + ping)
    put("msg", "sealed-write", b"\x01" + hdr(23, io, b"hello"))
    put("msg", "sealed-two-frames", b"\x01" + ping + hdr(22, io))
    put("msg", "sealed-noreadahead", b"\x03" + hdr(23, io, b"hello") + ping)
    put("msg", "sealed-reply", b"\x05" + hdr(2, struct.pack("<QII", 1, 2, 0),
                                             flags=1))
    put("msg", "sealed-error-reply", b"\x05" + hdr(99, flags=1, status=-95))
    put("msg", "raw-ping", b"\x00" + ping)


# --- the servers' handlers ---
def oss_seeds():
    ops = ops_of("oss")
    obj = struct.pack("<IIQ", 0, 0, 42)
    io = lambda off, n, ost=0: struct.pack("<IIQQQ", ost, 0, 42, off, n)
    put("oss", "write-read", rec(ops, "MSG_OP_OST_WRITE", io(0, 11),
                                 b"hello world") +
        rec(ops, "MSG_OP_OST_READ", io(0, 11)) +
        rec(ops, "MSG_OP_OST_GETATTR", obj))
    put("oss", "create-punch-destroy", rec(ops, "MSG_OP_OST_CREATE", obj) +
        rec(ops, "MSG_OP_OST_PUNCH", io(4096, 0)) +
        rec(ops, "MSG_OP_OST_SYNC", obj) +
        rec(ops, "MSG_OP_OST_DESTROY", obj))
    put("oss", "falloc-statfs", rec(ops, "MSG_OP_OST_FALLOC",
                                    struct.pack("<IIQQQ", 1, 0, 43, 0, 65536)) +
        rec(ops, "MSG_OP_OST_STATFS", struct.pack("<IIQ", 1, 0, 0)))
    put("oss", "stats-ping", rec(ops, "MSG_OP_STATS") +
        rec(ops, "MSG_OP_PING"))
    put("oss", "sync-write", rec(ops, "MSG_OP_OST_WRITE", io(1 << 20, 4),
                                 b"abcd", flags=2))
    put("oss", "local", rec(ops, "MSG_OP_OST_LOCAL", obj) +
        rec(ops, "MSG_OP_OST_LOCAL", struct.pack("<IIQ", 7, 0, 0)))


def mds_seeds():
    ops = ops_of("mds")
    R = 1

    def name(parent, n):
        return struct.pack("<QIIII", parent, 0, 0, len(n), 0) + n

    def create(parent, n, mode, flags=0):
        return struct.pack("<QIIIIQII", parent, 0, 0, mode, flags, 0,
                           len(n), 0) + n
    ino = lambda i: struct.pack("<QII", i, 0, 0)
    sess = rec(ops, "MSG_OP_MDS_SESSION", struct.pack("<QII", 77, 0, 0))
    put("mds", "mkdir-create-readdir", sess +
        rec(ops, "MSG_OP_MDS_MKNOD", create(R, b"d", 0o40755)) +
        rec(ops, "MSG_OP_MDS_CREATE", create(R, b"f", 0o100644, 1)) +
        rec(ops, "MSG_OP_MDS_LOOKUP", name(R, b"f")) +
        rec(ops, "MSG_OP_MDS_READDIR", struct.pack("<QIIQII", R, 0, 0, 0,
                                                    4096, 0)) +
        rec(ops, "MSG_OP_MDS_UNLINK", name(R, b"f")) +
        rec(ops, "MSG_OP_MDS_RMDIR", name(R, b"d")))
    put("mds", "symlink-link-rename",
        rec(ops, "MSG_OP_MDS_SYMLINK", create(R, b"s", 0o120777), b"target") +
        rec(ops, "MSG_OP_MDS_LOOKUP", name(R, b"s")) +
        rec(ops, "MSG_OP_MDS_RENAME", struct.pack("<QQIIIIII", R, R, 0, 0, 1,
                                                  2, 0, 0) + b"st2") +
        rec(ops, "MSG_OP_MDS_UNLINK", name(R, b"t2")))
    xa = lambda n, size=0, flags=0: struct.pack("<QIIIIII", R, 0, 0, flags,
                                                 len(n), size, 0) + n
    put("mds", "xattrs", rec(ops, "MSG_OP_MDS_SETXATTR", xa(b"user.k"), b"v") +
        rec(ops, "MSG_OP_MDS_GETXATTR", xa(b"user.k", 64)) +
        rec(ops, "MSG_OP_MDS_LISTXATTR", ino(R)) +
        rec(ops, "MSG_OP_MDS_GETXATTR", xa(b"lustre.lov", 4096)) +
        rec(ops, "MSG_OP_MDS_RMXATTR", xa(b"user.k")))
    lay = struct.pack("<IIiiII", 0x0BD10BD0, 1 << 20, 2, -1, 0, 0)
    put("mds", "layout-statfs-ostmap",
        rec(ops, "MSG_OP_MDS_SETLAYOUT", ino(R), lay) +
        rec(ops, "MSG_OP_MDS_GETLAYOUT", ino(R)) +
        rec(ops, "MSG_OP_MDS_STATFS") + rec(ops, "MSG_OP_MDS_OSTMAP"))
    lock = lambda t, fl=0: struct.pack("<QQQQIIII", R, 5, 0, 99, t, fl, 1, 0)
    put("mds", "session-locks", sess +
        rec(ops, "MSG_OP_MDS_LOCK", lock(1)) +
        rec(ops, "MSG_OP_MDS_LOCK", lock(0, 4)) +
        rec(ops, "MSG_OP_MDS_LOCK", lock(2)))
    # the fuzz MDS caps sessions at 64 leases: 70 negative LOOKUPs on a
    # callback session make it give the oldest back (mds_lease.h, 6)
    cb = rec(ops, "MSG_OP_MDS_SESSION", struct.pack("<QII", 78, 1, 0))
    put("mds", "session-give-back", cb + b"".join(
        rec(ops, "MSG_OP_MDS_LOOKUP", name(R, b"n%02d" % i))
        for i in range(70)) + rec(ops, "MSG_OP_MDS_MKNOD",
                                  create(R, b"n00", 0o40755)))
    sa = struct.pack("<QIIIIIIQqqqqqq", R, 0, 0, 0x01, 0o40700, 0, 0, 0,
                     0, 0, 0, 0, 0, 0)
    put("mds", "setattr-open-close", rec(ops, "MSG_OP_MDS_SETATTR", sa) +
        rec(ops, "MSG_OP_MDS_OPEN", struct.pack("<QIIII", R, 0, 0, 0, 0)) +
        rec(ops, "MSG_OP_MDS_CLOSE", struct.pack("<QQIIIIQqqQ", R, 9, 0, 0,
                                                 0, 0, 0, 0, 0, 0)) +
        rec(ops, "MSG_OP_MDS_APPEND", struct.pack("<QQQ", R, 9, 100)))


# --- S3's XML answers ---
def s3_seeds():
    put("s3xml", "list", '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ListBucketResult><Name>b</Name><Prefix>p/</Prefix>'
        '<KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>'
        '<NextContinuationToken>tok</NextContinuationToken>'
        '<Contents><Key>p/a%20b</Key><LastModified>2026-12-03T11:21:23.000Z'
        '</LastModified><ETag>&quot;abc&quot;</ETag><Size>5</Size></Contents>'
        '<Contents><Key>p/c&amp;d</Key><Size>0</Size></Contents>'
        '<CommonPrefixes><Prefix>p/x/</Prefix></CommonPrefixes>'
        '</ListBucketResult>')
    put("s3xml", "error", '<Error><Code>SlowDown</Code><Message>Please reduce'
        ' your request rate.</Message></Error>')
    put("s3xml", "multipart", '<InitiateMultipartUploadResult><Bucket>b'
        '</Bucket><Key>k</Key><UploadId>u-1</UploadId>'
        '</InitiateMultipartUploadResult>')
    put("s3xml", "complete", '<CompleteMultipartUploadResult><ETag>"x-2"'
        '</ETag><Key/></CompleteMultipartUploadResult>')
    put("s3xml", "url", "s3://bucket-name/some/prefix/")


# --- fsx-hsm's requests: JSON documents in the bulk (docs/hsm.md) ---
def hsm_seeds():
    ops = ops_of("hsm")
    s3 = ('"s3": {"endpoint": "http://127.0.0.1:9", "region": "us-east-1",'
          ' "access_key": "k", "secret_key": "s", "session_token": null,'
          ' "path_style": true}')
    assoc = ('{"id": "dra-0123456789abcdef0", "fs_path": "/ns1",'
             ' "bucket": "b", "prefix": "some/prefix/", "batch_import": true,'
             ' "import": ["NEW", "CHANGED", "DELETED"],'
             ' "export": ["NEW", "CHANGED", "DELETED"], "chunk_mib": 1024,'
             ' "state": "CREATING", "delete_data": false}')
    legacy = ('{"id": "legacy", "fs_path": "/", "bucket": "b", "prefix": "i/",'
              ' "batch_import": true, "import": ["NEW"], "export": [],'
              ' "chunk_mib": 1024, "state": "AVAILABLE",'
              ' "export_prefix": "e/"}')
    conf = ('{"mds": "127.0.0.1:9", %s, "poll_ms": 1000, "associations": [%s]}'
            % (s3, assoc))
    task = ('{"id": "task-0123456789abcdef0", "type": "EXPORT_TO_REPOSITORY",'
            ' "paths": ["/ns1/dir"], "report": {"enabled": true, "path":'
            ' "s3://b/reports", "format": "REPORT_CSV_20191124", "scope":'
            ' "FAILED_FILES_ONLY"}, "release": {"duration_days": 0}}')
    put("hsm", "conf-status", rec(ops, "MSG_OP_HSM_CONF", bulk=conf.encode()) +
        rec(ops, "MSG_OP_HSM_STATUS"))
    put("hsm", "conf-legacy", rec(ops, "MSG_OP_HSM_CONF", bulk=(
        '{"mds": "127.0.0.1:9", %s, "poll_ms": 50, "associations": [%s, %s]}'
        % (s3, assoc.replace("CREATING", "DELETING"), legacy)).encode()))
    put("hsm", "task-cancel", rec(ops, "MSG_OP_HSM_TASK", bulk=task.encode()) +
        rec(ops, "MSG_OP_HSM_CANCEL",
            bulk=b'{"id": "task-0123456789abcdef0"}') +
        rec(ops, "MSG_OP_HSM_STATUS", bulk=b"{}"))
    for t in ("IMPORT_METADATA_FROM_REPOSITORY",
              "RELEASE_DATA_FROM_FILESYSTEM", "AUTO_RELEASE_DATA"):
        put("hsm", "task-" + t.lower(), rec(ops, "MSG_OP_HSM_TASK", bulk=task
            .replace("EXPORT_TO_REPOSITORY", t).encode()))
    put("hsm", "ping-stats", rec(ops, "MSG_OP_PING") +
        rec(ops, "MSG_OP_STATS") + rec(ops, "MSG_OP_MDS_LOOKUP"))


# --- lfs's arguments (NUL-separated) ---
def lfs_seeds():
    for n, args in {
        "setstripe": ["setstripe", "-c", "2", "-S", "4M", "-i", "0", "new"],
        "setstripe-long": ["setstripe", "--stripe-count=-1",
                           "--stripe-size=1048576", "d"],
        "getstripe": ["getstripe", "-v", "-c", "-S", "-i", "-d", "f", "d"],
        "find": ["find", ".", "-type", "f", "-size", "+1k", "-name", "*f*",
                 "-stripe-count", "2", "-maxdepth", "3"],
        "df": ["df", "-h", "-i", "."],
        "version": ["--version"],
        "help": ["help", "setstripe"],
    }.items():
        put("lfs", n, "\0".join(args))


if __name__ == "__main__":
    http_seeds()
    msg_seeds()
    oss_seeds()
    mds_seeds()
    s3_seeds()
    lfs_seeds()
    hsm_seeds()
