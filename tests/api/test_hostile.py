"""Hostile input against fsxd: every byte from the network is an attack.

Raw HTTP over sockets (so nothing is cleaned up by a client library) and
SigV4 signed requests (signed here over raw bytes, so weird header bytes
are signed exactly as sent). The rule under test: bad input gets a clear
error in AWS's shape -- JSON body with __type and Message, an
x-amzn-RequestId header, a 4xx status -- never a crash, a hang, a 500 or
lost data. After each group fsxd must still answer a signed
DescribeFileSystems and the file system made at the start must still be
there, AVAILABLE, and alone.

Heads too large and bad Content-Length are refused by fsxd's front door
in the same JSON shape. Where libmicrohttpd itself refuses a request
(malformed chunk framing, a bad request line) it answers with its own
non-JSON 4xx page; those cases only assert a 4xx and a live server.
"""
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from tests.fsxlib import Fsxd, SCRATCH2, TOP
from tests.fs.engine import EngineCase, binpath

TARGET = b'AWSSimbaAPIService_v20180301.'
RID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
MODEL = json.load(open(os.path.join(TOP, 'api', 'model.json')))
BODY_MAX = 1 << 20
CONN_TIMEOUT = 2


def _hmac(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def canon_path(path):
    """botocore's: dot segments removed, then encoded again ('%' -> '%25')."""
    segs = []
    for seg in path.split(b'/'):
        if seg in (b'', b'.'):
            continue
        if seg == b'..':
            if segs:
                segs.pop()
            continue
        segs.append(seg)
    out = b'/' + b'/'.join(segs)
    if path.endswith(b'/') and segs:
        out += b'/'
    return urllib.parse.quote(out, safe='/~').encode()


def canon_query(query):
    pairs = []
    for p in query.split(b'&'):
        if not p:
            continue
        k, _, v = p.partition(b'=')
        pairs.append((urllib.parse.quote(urllib.parse.unquote_to_bytes(k), safe='-_.~'),
                      urllib.parse.quote(urllib.parse.unquote_to_bytes(v), safe='-_.~')))
    return '&'.join('%s=%s' % kv for kv in sorted(pairs)).encode()


def sign(port, body, headers, key=b'test', secret=b'test', region=b'us-east-1',
         path=b'/', signed=None):
    """SigV4 over raw bytes. headers: list of (name, value) bytes, Host
    added. signed: header names (lower-case bytes) to sign; default all.
    Returns the full header list including X-Amz-Date and Authorization."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz = now.strftime('%Y%m%dT%H%M%SZ').encode()
    hdrs = [(b'Host', b'127.0.0.1:%d' % port), (b'X-Amz-Date', amz)] + list(headers)
    names = sorted(set(n.lower() for n, _ in hdrs)) if signed is None else sorted(signed)
    canon = b''
    for n in names:
        vals = [b' '.join(v.split()) for k, v in hdrs if k.lower() == n]
        canon += n + b':' + b','.join(vals) + b'\n'
    sh = b';'.join(names)
    path, _, query = path.partition(b'?')
    creq = b'\n'.join([b'POST', canon_path(path), canon_query(query), canon, sh,
                       hashlib.sha256(body).hexdigest().encode()])
    scope = amz[:8] + b'/' + region + b'/fsx/aws4_request'
    sts = b'\n'.join([b'AWS4-HMAC-SHA256', amz, scope, hashlib.sha256(creq).hexdigest().encode()])
    k = _hmac(b'AWS4' + secret, amz[:8])
    k = _hmac(k, region)
    k = _hmac(k, b'fsx')
    k = _hmac(k, b'aws4_request')
    sig = hmac.new(k, sts, hashlib.sha256).hexdigest().encode()
    hdrs.append((b'Authorization', b'AWS4-HMAC-SHA256 Credential=' + key + b'/' + scope +
                 b', SignedHeaders=' + sh + b', Signature=' + sig))
    return hdrs


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return 'Resp(%d, %r)' % (self.status, self.body[:300])


def exchange(port, data, timeout=15):
    """Send raw bytes on a new connection, parse one response."""
    method = data.split(b' ', 1)[0].decode('latin-1')
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass    # the server may answer and close before reading it all
        r = http.client.HTTPResponse(s, method=method)
        r.begin()
        body = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
    finally:
        s.close()


def build(method, path, headers, body=b'', content_length=True):
    out = method + b' ' + path + b' HTTP/1.1\r\n'
    have_host = any(n.lower() == b'host' for n, _ in headers)
    if not have_host:
        out += b'Host: 127.0.0.1\r\n'
    for n, v in headers:
        out += n + b': ' + v + b'\r\n'
    if content_length:
        out += b'Content-Length: %d\r\n' % len(body)
    out += b'Connection: close\r\n\r\n'
    return out + body


def json_headers(op=b'DescribeFileSystems', target=None):
    return [(b'Content-Type', b'application/x-amz-json-1.1'),
            (b'X-Amz-Target', target if target is not None else TARGET + op)]


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Fsxd('--conn-timeout', str(CONN_TIMEOUT), '--body-max', str(BODY_MAX))
        cls.port = cls.d.port
        c = cls.d.client()
        cls.fs_id = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
        cls.d.wait_state(c, cls.fs_id, 'AVAILABLE', timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def tearDown(self):
        self.assertIsNone(self.d.proc.poll(), 'fsxd died')
        self.alive()

    # -- helpers --

    def req(self, body=b'{}', op=b'DescribeFileSystems', target=None, extra=(),
            signed=None, path=b'/', method=b'POST', timeout=15):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        if isinstance(op, str):
            op = op.encode()
        hdrs = sign(self.port, body, json_headers(op, target) + list(extra), signed=signed,
                    path=path)
        return exchange(self.port, build(method, path, hdrs, body), timeout=timeout)

    def check_err(self, r, code=None, status=None):
        """An error in AWS's shape. code: one __type or a tuple of them."""
        self.assertTrue(400 <= r.status < 500, r)
        if status is not None:
            self.assertEqual(r.status, status, r)
        self.assertEqual(r.headers.get('content-type'), 'application/x-amz-json-1.1', r)
        self.assertRegex(r.headers.get('x-amzn-requestid', ''), RID)
        body = r.json()
        self.assertIsInstance(body, dict, r)
        self.assertIsInstance(body.get('__type'), str, r)
        self.assertIsInstance(body.get('Message'), str, r)
        self.assertTrue(body['Message'], r)
        self.assertEqual(r.headers.get('x-amzn-errortype'), body['__type'], r)
        if code is not None:
            codes = code if isinstance(code, tuple) else (code,)
            self.assertIn(body['__type'], codes, r)
        return body

    def alive(self):
        r = self.req({})
        self.assertEqual(r.status, 200, r)
        ids = [f['FileSystemId'] for f in r.json()['FileSystems']]
        self.assertEqual(ids, [self.fs_id])
        self.assertEqual(r.json()['FileSystems'][0]['Lifecycle'], 'AVAILABLE')

    # -- JSON bodies --

    def test_json_malformed(self):
        bad = [
            b'{"FileSystemIds":["\xff\xfe"]}',          # invalid UTF-8 in a value
            b'{"\xc3\x28":1}',                          # invalid UTF-8 in a key
            b'{"NextToken":"\xed\xa0\x80"}',            # a UTF-16 surrogate as UTF-8
            b'{"NextToken":"\xc0\xaf"}',                # overlong encoding
            b'\xff' * 1000,
            b'\x00',
            b'{}\x00',
            b'{"MaxResults":1}\x00\x00\x00',
            b'{"NextToken":"a\x00b"}',                  # raw NUL in a string
            b'{"NextToken":"a\\u0000b"}',               # escaped NUL
            b'{"NextToken":"\\ud800"}',                 # lone surrogate escape
            b'{\x00"MaxResults":1}',
            b'[' * 10000 + b']' * 10000,
            b'{"a":' * 10000 + b'1' + b'}' * 10000,
            b'{"FileSystemIds":' + b'[' * 10000 + b']' * 10000 + b'}',
            b'[' * 100000,
            b'{"a":[' * 3000 + b'1' + b']}' * 3000,
            b'{"MaxResults":NaN}',
            b'{"MaxResults":Infinity}',
            b'{"MaxResults":-Infinity}',
            b'{"MaxResults":1e400}',
            b'{"MaxResults":-1e400}',
            b'{"MaxResults":1180591620717411303424}',   # 2^70
            b'{"MaxResults":9223372036854775808}',
            b'{"MaxResults":1.5}',
            b'{"MaxResults":2147483648}',
            b'{"MaxResults":9223372036854775807}',
            b'{"MaxResults":-9223372036854775808}',
            b'{"MaxResults":1e19}',
            b'{"MaxResults":0x10}',
            b'{"MaxResults":01}',
            b'{"MaxResults":1,"MaxResults":2}',         # duplicate keys
            b'{"NextToken":"a","NextToken":"a"}',
            b'{not json', b'{"a":1,}', b'{"a" 1}', b"{'a':1}", b'{"a":1}{"b":2}',
            b'null', b'1', b'"x"', b'true', b'[]', b'   ', b'\r\n',
            b'\xef\xbb\xbf{}',                          # BOM
            b'{"FileSystemIds":"fs-1"}',
            b'{"a":"' + b'\\u00e9' * 100000 + b'"',     # unterminated, escapes
        ]
        for body in bad:
            with self.subTest(body=body[:60]):
                self.check_err(self.req(body), ('SerializationException', 'BadRequest'),
                               status=400)

    def test_json_numbers_in_range_rules(self):
        # parse fine, fail the model's min/max: BadRequest, not a crash
        for v in (b'-0', b'-0.0', b'0', b'1e-400', b'-1', b'0.0', b'-2147483648'):
            with self.subTest(v=v):
                b = self.check_err(self.req(b'{"MaxResults":' + v + b'}'), 'BadRequest', 400)
                self.assertIn('maxResults', b['Message'])
        # outside Java's Integer: SerializationException, as AWS's front end
        for v in (b'-9223372036854775807', b'-2147483649', b'2147483648'):
            with self.subTest(v=v):
                b = self.check_err(self.req(b'{"MaxResults":' + v + b'}'),
                                   'SerializationException', 400)
                self.assertIn('out of range', b['Message'])
        for v in (b'1e400', b'1180591620717411303424', b'NaN', b'-1e400', b'1.0000001'):
            with self.subTest(v=v):
                self.check_err(self.req(b'{"StorageCapacity":' + v + b', "FileSystemType":'
                                        b'"LUSTRE","SubnetIds":["subnet-01234567"]}',
                                        op='CreateFileSystem'),
                               ('SerializationException', 'BadRequest'), 400)
        # unknown members are ignored, however large
        self.assertEqual(self.req({'Unknown': [0] * 100000}).status, 200)
        self.assertEqual(self.req({'k' * 500000: 1}).status, 200)
        self.assertEqual(self.req({'a': [[[[{}]]]] * 10000}).status, 200)
        self.assertEqual(self.req(b'{"a":' + b'[' * 1000 + b']' * 1000 + b'}').status, 200)
        # fine: 1.0 is an integer, and 2 is in range
        self.assertEqual(self.req(b'{"MaxResults":1.0}').status, 200)
        self.assertEqual(self.req(b'{"MaxResults":2e0}').status, 200)

    def test_huge_strings_and_arrays(self):
        cases = [
            ('DescribeFileSystems', {'NextToken': 'x' * 1000000}),
            ('DescribeFileSystems', {'NextToken': '\u00e9' * 400000}),
            ('DescribeFileSystems', {'NextToken': '\U0001f600' * 200000}),
            ('DescribeFileSystems', {'FileSystemIds': ['fs-' + 'a' * 1000000]}),
            ('DescribeFileSystems', {'FileSystemIds': ['fs-0123456789abcdef' + 'é' * 400000]}),
            ('DescribeFileSystems', {'FileSystemIds': [''] * 100000}),
            ('DescribeFileSystems', {'FileSystemIds': [None] * 100000}),
            ('DescribeFileSystems', {'FileSystemIds': [1] * 100000}),
            ('DescribeFileSystems', {'FileSystemIds': [[]] * 100000}),
            ('DescribeFileSystems', {'FileSystemIds': ['fs-0123456789abcdef0'] * 40000}),
            ('TagResource', {'ResourceARN': 'arn:aws:fsx:us-east-1:000000000000:file-system/'
                             + self.fs_id, 'Tags': [{'Key': 'k' * 1000000, 'Value': 'v'}]}),
            ('TagResource', {'ResourceARN': 'arn:aws:fsx:us-east-1:000000000000:file-system/'
                             + self.fs_id, 'Tags': [{'Key': 'ü' * 400000, 'Value': 'v'}]}),
            ('TagResource', {'ResourceARN': 'arn:' + 'a' * 1000000, 'Tags': [{'Key': 'k'}]}),
            ('TagResource', {'ResourceARN': 'arn:aws:fsx:us-east-1:000000000000:file-system/'
                             + self.fs_id, 'Tags': [{}] * 100000}),
            ('TagResource', {'ResourceARN': 'arn:aws:fsx:us-east-1:000000000000:file-system/'
                             + self.fs_id, 'Tags': [{'Key': 'k', 'Value': 'v'}] * 30000}),
            ('TagResource', {'ResourceARN': 'arn:aws:fsx:us-east-1:' + '0' * 100000 +
                             ':file-system/' + self.fs_id, 'Tags': [{'Key': 'k', 'Value': 'v'}]}),
            ('CreateFileSystem', dict(SCRATCH2, SubnetIds=['subnet-01234567'] * 50000)),
            ('CreateFileSystem', dict(SCRATCH2, SecurityGroupIds=['x' * 10] * 60000)),
            ('CreateFileSystem', dict(SCRATCH2, ClientRequestToken='t' * 1000000)),
            # unanchored pattern [A-za-z0-9_.-]{0,63}$: was 10 s in regexec
            ('CreateFileSystem', dict(SCRATCH2, ClientRequestToken='a.b' * 333333)),
            ('DeleteFileSystem', {'FileSystemId': self.fs_id, 'ClientRequestToken': '0' * 999000}),
            ('CreateFileSystem', dict(SCRATCH2, Tags=[{'Key': 'a', 'Value': 'b'}] * 30000)),
            ('CreateFileSystem', dict(SCRATCH2, LustreConfiguration={
                'DeploymentType': 'SCRATCH_2', 'ImportPath': 's3://' + 'b' * 1000000})),
            ('UpdateFileSystem', {'FileSystemId': self.fs_id, 'ClientRequestToken': 'é' * 400000}),
            ('DeleteFileSystem', {'FileSystemId': 'fs-' + '0' * 1000000}),
            ('DeleteFileSystem', {'FileSystemId': self.fs_id, 'ClientRequestToken': 'x' * 100,
                                  'LustreConfiguration': {'FinalBackupTags': [{}] * 90000}}),
        ]
        for op, body in cases:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.assertLessEqual(len(data), BODY_MAX)
            with self.subTest(op=op, body=data[:80]):
                t0 = time.monotonic()
                b = self.check_err(self.req(data, op=op),
                                   ('BadRequest', 'SerializationException'), 400)
                self.assertLess(time.monotonic() - t0, 3)
                self.assertLessEqual(len(b['Message']), 4096)

    def test_messages_quoting_client_strings(self):
        # A message that quotes a client string and is cut at its size
        # limit must still be valid UTF-8 (json_string refuses anything
        # else and the Message member went missing).
        lus = {'DeploymentType': 'SCRATCH_2'}
        cases = [
            ('CreateFileSystem', dict(SCRATCH2, LustreConfiguration=dict(
                lus, ImportPath='s3://a' + 'é' * 1500)), 'InvalidImportPath'),
            ('CreateFileSystem', dict(SCRATCH2, LustreConfiguration=dict(
                lus, ImportPath='s3://' + 'é' * 1500)), 'InvalidImportPath'),
            ('CreateFileSystem', dict(SCRATCH2, LustreConfiguration=dict(
                lus, ImportPath='s3://ab' + '😀' * 1000)), 'InvalidImportPath'),
            ('CreateFileSystem', dict(SCRATCH2, LustreConfiguration=dict(
                lus, ImportPath='s3://abc' + '😀' * 1000)), 'InvalidImportPath'),
            ('CreateFileSystem', dict(SCRATCH2, LustreConfiguration=dict(
                lus, ImportPath='s3://bucket', ExportPath='s3://a' + 'é' * 1500)), None),
            ('TagResource', {'ResourceARN': 'arn:aws:fsx:a' + 'é' * 250,
                             'Tags': [{'Key': 'a', 'Value': 'b'}]}, 'BadRequest'),
            ('DescribeFileSystems', {'FileSystemIds': ['fs-' + 'ü' * 700]}, 'BadRequest'),
        ]
        for op, body, code in cases:
            data = json.dumps(body, ensure_ascii=False).encode()
            with self.subTest(op=op, body=data[:100]):
                b = self.check_err(self.req(data, op=op), code, 400)
                self.assertLess(len(b['Message'].encode()), 1024)

    def test_body_too_large(self):
        body = b'{"NextToken":"' + b'x' * BODY_MAX + b'"}'
        self.check_err(self.req(body), 'RequestEntityTooLarge', 413)
        self.check_err(self.req(b' ' * (BODY_MAX + 1)), 'RequestEntityTooLarge', 413)

    # -- every member with every wrong JSON type --

    WRONG = {
        'string': [1, 1.5, True, [], {}, ['x'], {'a': 'b'}],
        'integer': ['1', True, [], {}, 1.5, [1], {'a': 1}, 1e300, 2 ** 40],
        'long': ['1', True, [], {}, 1.5, [1], 1e300],
        'boolean': ['true', 1, 0, [], {}, [True]],
        'timestamp': [True, [], {}],
        'list': ['x', 1, True, {}, {'member': []}],
        'structure': ['x', 1, True, [], [{}]],
    }

    def paths(self, shape, prefix, seen, out):
        sh = MODEL['shapes'][shape]
        out.append((prefix, sh['type']))
        if sh['type'] == 'structure' and shape not in seen:
            for m in sh['members']:
                self.paths(m['shape'], prefix + [m['name']], seen | {shape}, out)
        elif sh['type'] == 'list':
            m = sh['member']
            self.paths(m['shape'] if isinstance(m, dict) else m, prefix + [0], seen, out)

    @staticmethod
    def put(path, v):
        if not path:
            return v
        if path[0] == 0:
            return [Hostile.put(path[1:], v)]
        return {path[0]: Hostile.put(path[1:], v)}

    def test_wrong_types_every_member(self):
        n = 0
        for op in ('CreateFileSystem', 'UpdateFileSystem', 'DeleteFileSystem', 'TagResource',
                   'DescribeFileSystems'):
            out = []
            self.paths(MODEL['operations'][op]['input'], [], set(), out)
            for path, typ in out:
                for v in self.WRONG[typ]:
                    body = self.put(path, v)
                    if path == []:
                        if isinstance(body, dict):
                            continue
                    with self.subTest(op=op, path=path, v=v):
                        b = self.check_err(self.req(body, op=op), 'SerializationException',
                                           400)
                        n += 1
                        if path:
                            self.assertRegex(b['Message'], 'found where not expected|'
                                             'can not be converted|out of range')
        self.assertGreater(n, 1000)

    # -- HTTP framing --

    def test_body_shorter_than_content_length(self):
        body = b'{"MaxResults":1}'
        hdrs = sign(self.port, body, json_headers())
        head = build(b'POST', b'/', hdrs, b'', content_length=False)
        head = head.replace(b'Connection: close\r\n', b'Content-Length: 1000\r\n')
        s = socket.create_connection(('127.0.0.1', self.port), timeout=5)
        try:
            s.sendall(head + body)
            s.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                s.recv(1)   # the server waits for the rest...
            self.alive()    # ...without blocking anyone else
            # ...and drops the connection after its idle timeout.
            s.settimeout(CONN_TIMEOUT + 5)
            t0 = time.monotonic()
            try:
                got = s.recv(4096)
            except ConnectionResetError:
                got = b''
            self.assertLess(time.monotonic() - t0, CONN_TIMEOUT + 4)
            self.assertNotIn(b'200 OK', got)
        finally:
            s.close()

    def test_headers_cut_midway(self):
        s = socket.create_connection(('127.0.0.1', self.port), timeout=CONN_TIMEOUT + 5)
        try:
            s.sendall(b'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Tar')
            self.alive()
            t0 = time.monotonic()
            try:
                s.recv(4096)
            except ConnectionResetError:
                pass
            self.assertLess(time.monotonic() - t0, CONN_TIMEOUT + 4)
        finally:
            s.close()

    def test_content_length_lies(self):
        hdrs = sign(self.port, b'{}', json_headers())
        # refused by the front door in JSON, before libmicrohttpd parses them
        for cl, want in ((b'-1', 400), (b'abc', 400), (b'99999999999999999999999', 413),
                         (b'1e3', 400), (b' 2', 200), (b'2, 2', 400), (b'02', 200),
                         (b'18446744073709551616', 413), (b'0x2', 400)):
            with self.subTest(cl=cl):
                data = build(b'POST', b'/', hdrs + [(b'Content-Length', cl)], b'{}',
                             content_length=False)
                r = exchange(self.port, data, timeout=CONN_TIMEOUT + 5)
                self.assertEqual(r.status, want, r)
                if want != 200:
                    self.check_err(r, status=want)
        # larger than body-max: refused without reading it all
        data = build(b'POST', b'/', hdrs + [(b'Content-Length', b'%d' % (BODY_MAX * 100))],
                     b'{}' + b' ' * 70000, content_length=False)
        s = socket.create_connection(('127.0.0.1', self.port), timeout=10)
        try:
            s.sendall(data)
            r = http.client.HTTPResponse(s)
            r.begin()
            self.assertEqual(r.status, 413)
            self.check_err(Resp(r.status, {k.lower(): v for k, v in r.getheaders()},
                                r.read()), 'RequestEntityTooLarge', 413)
        finally:
            s.close()

    def test_chunked(self):
        body = b'{"FileSystemIds":["%s"]}' % self.fs_id.encode()
        hdrs = sign(self.port, body, json_headers() + [(b'Transfer-Encoding', b'chunked')])
        chunks = b''
        for i in range(0, len(body), 5):
            part = body[i:i + 5]
            chunks += b'%x\r\n%s\r\n' % (len(part), part)
        chunks += b'0\r\n\r\n'
        r = exchange(self.port, build(b'POST', b'/', hdrs, b'', content_length=False) + chunks)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()['FileSystems'][0]['FileSystemId'], self.fs_id)
        # chunked past body-max
        big = b'x' * 65536
        chunks = b'%x\r\n%s\r\n' % (len(big), big) * (BODY_MAX // len(big) + 2) + b'0\r\n\r\n'
        r = exchange(self.port, build(b'POST', b'/', hdrs, b'', content_length=False) + chunks)
        self.check_err(r, 'RequestEntityTooLarge', 413)
        # broken chunk framing: refused by libmicrohttpd or by us, never 200/500
        for bad in (b'zz\r\nabc\r\n0\r\n\r\n', b'ffffffffffffffffffff\r\nab\r\n',
                    b'-5\r\nabc\r\n0\r\n\r\n', b'3\r\nabcdef\r\n0\r\n\r\n'):
            with self.subTest(bad=bad):
                s = socket.create_connection(('127.0.0.1', self.port), timeout=CONN_TIMEOUT + 5)
                try:
                    s.sendall(build(b'POST', b'/', hdrs, b'', content_length=False) + bad)
                    got = b''
                    while True:
                        try:
                            x = s.recv(65536)
                        except ConnectionResetError:
                            break
                        if not x:
                            break
                        got += x
                    if got:
                        st = int(got.split(b' ', 2)[1])
                        self.assertTrue(400 <= st < 500, got[:200])
                finally:
                    s.close()

    def test_many_and_large_headers(self):
        pad = [(b'X-Pad-%d' % i, b'v%d' % i) for i in range(100)]
        r = self.req(extra=pad)
        self.assertEqual(r.status, 200, r)
        # 100 headers of which only host and x-amz-date are signed
        r = self.req(extra=pad, signed=[b'host', b'x-amz-date'])
        self.assertEqual(r.status, 200, r)
        # repeated headers are joined with ',' when signed
        r = self.req(extra=[(b'X-Rep', b'a'), (b'X-Rep', b'b')] * 20)
        self.assertEqual(r.status, 200, r)
        # a 6 KB and a 16 KB header; heads over 16 KiB are refused with 431
        r = self.req(extra=[(b'X-Big', b'y' * 6000)])
        self.assertEqual(r.status, 200, r)
        r = self.req(extra=[(b'X-Big', b'y' * 16384)])
        self.check_err(r, 'RequestHeaderFieldsTooLarge', 431)
        r = self.req(extra=[(b'X-Pad-%d' % i, b'v') for i in range(5000)])
        self.check_err(r, 'RequestHeaderFieldsTooLarge', 431)

    def test_authorization_header_abuse(self):
        hdrs = json_headers() + [(b'X-Amz-Date', b'20260101T000000Z')]
        cases = [
            b'AWS4-HMAC-SHA256 ' + b'A' * 7000,
            b'AWS4-HMAC-SHA256 Credential=' + b'a/' * 3000,
            b'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/fsx/aws4_request, '
            b'SignedHeaders=' + b'host;' * 1500 + b', Signature=00',
            b'AWS4-HMAC-SHA256 Credential=test/20260101/' + b'r' * 5000 + b'/fsx/aws4_request',
            b'AWS4-HMAC-SHA256 Credential=\xff\xfe/20260101/us-east-1/fsx/aws4_request, '
            b'SignedHeaders=host, Signature=' + b'\xc3' * 64,
            b'\x01\x02\x7f\x80\xff',
            b'AWS4-HMAC-SHA256',
            b'AWS4-HMAC-SHA256 ,,,,,,,,,,',
            b'AWS4-HMAC-SHA256 ======',
            b'AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;;;;, Signature=',
            b'AWS4-HMAC-SHA256 ' + b'x=y, ' * 2000,
            b'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/fsx/aws4_request, '
            b'SignedHeaders=host, Signature=' + b'0' * 64,
            b'A' * 9000,
        ]
        for a in cases:
            with self.subTest(a=a[:60]):
                r = exchange(self.port, build(b'POST', b'/', hdrs + [(b'Authorization', a)],
                                              b'{}'))
                self.check_err(r, ('IncompleteSignatureException', 'InvalidSignatureException',
                                   'UnrecognizedClientException'))
        # 1 MB: more than a connection may hold
        r = exchange(self.port, build(b'POST', b'/', hdrs + [
            (b'Authorization', b'AWS4-HMAC-SHA256 Credential=' + b'a' * (1 << 20))], b'{}'))
        self.check_err(r, 'RequestHeaderFieldsTooLarge', 431)

    def test_methods_and_paths(self):
        for method in (b'GET', b'PUT', b'DELETE', b'PATCH', b'OPTIONS', b'HEAD', b'FOO',
                       b'TRACE'):
            for path in (b'/', b'/x', b'/fsx-local/mount-info'):
                with self.subTest(method=method, path=path):
                    r = exchange(self.port, build(method, path, json_headers(), b'{}'))
                    self.assertTrue(400 <= r.status < 500, r)
                    if method != b'HEAD':
                        self.check_err(r, 'UnknownOperationException')
                    else:
                        self.assertRegex(r.headers.get('x-amzn-requestid', ''), RID)
        # unknown paths, signed over the path given
        for path in (b'/nope', b'//', b'/%00', b'/..', b'/' + b'a' * 3000, b'/%ff%fe',
                     b'/fsx-local/mount-info/x'):
            with self.subTest(path=path):
                self.check_err(self.req(path=path), 'UnknownOperationException', 400)
        # a query string is signed and verified as sent
        for path in (b'/?a=b', b'/?b=2&a=%201&c', b'/?x=%ff%00&&=&y'):
            with self.subTest(path=path):
                self.assertEqual(self.req(path=path).status, 200)
        # health and metrics still work
        r = exchange(self.port, build(b'GET', b'/health', []))
        self.assertEqual(r.status, 200)
        # bad request lines: libmicrohttpd's own 400, or a JSON 4xx
        for line in (b'POST\r\n\r\n', b'POST / HTTP/9.9\r\nHost: x\r\n\r\n',
                     b'\x00\x01\x02 / HTTP/1.1\r\n\r\n', b'POST / HTTP/1.1\r\nNoColon\r\n\r\n',
                     b'POST / HTTP/1.1\r\n: empty\r\n\r\n',
                     b'POST /' + b'a' * 100000 + b' HTTP/1.1\r\n\r\n'):
            with self.subTest(line=line[:40]):
                s = socket.create_connection(('127.0.0.1', self.port), timeout=CONN_TIMEOUT + 5)
                try:
                    got = b''
                    try:
                        s.sendall(line)
                        s.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass    # answered and closed before we were done
                    try:
                        got = s.recv(65536)
                    except OSError:
                        pass
                    if got:
                        # 505 is HTTP's answer to an unknown version
                        self.assertRegex(got, rb'^HTTP/1\.[01] (4\d\d|505) ')
                finally:
                    s.close()

    def test_target_weird_bytes(self):
        targets = [
            b'', b' ', TARGET, TARGET + b'\xff\xfe', TARGET + b'DescribeFileSystems\x01',
            TARGET + b'DescribeFileSystems\x7f', TARGET + b'describefilesystems',
            TARGET + b'DescribeFileSystems' + b'\x80' * 100, TARGET + b'A' * 6000,
            b'\xc3\xa9' * 100, TARGET + b'..', TARGET + b'%00', TARGET + b'__proto__',
            TARGET[:-1] + b'DescribeFileSystems', TARGET.lower() + b'DescribeFileSystems',
            b'AWSSimbaAPIService_v20180301' + b'\xe2\x80\xa4DescribeFileSystems',
            TARGET + b'DescribeFileSystems\tx',
        ]
        for t in targets:
            with self.subTest(t=t[:60]):
                self.check_err(self.req(target=t), 'UnknownOperationException', 400)
        # two X-Amz-Target headers
        r = self.req(extra=[(b'X-Amz-Target', TARGET + b'DeleteFileSystem')])
        self.assertIn(r.status, (200, 400), r)
        if r.status == 400:
            self.check_err(r)
        # unsigned target with weird bytes: the auth error comes first
        r = exchange(self.port, build(b'POST', b'/', json_headers(target=b'\xff\x00x'), b'{}'))
        self.assertTrue(400 <= r.status < 500, r)

    # -- concurrency --

    def test_parallel_connections(self):
        body = b'{}'
        hdrs = sign(self.port, body, json_headers())
        data = build(b'POST', b'/', hdrs, body)
        results = []
        lock = threading.Lock()

        def one(i):
            out = []
            for _ in range(3):
                try:
                    r = exchange(self.port, data, timeout=30)
                    out.append(r.status)
                except OSError as e:
                    out.append(repr(e))
            with lock:
                results.extend(out)

        def stall(socks):
            s = socket.create_connection(('127.0.0.1', self.port), timeout=5)
            s.sendall(build(b'POST', b'/', hdrs, b'')[:-4] + b'\r\nContent-Length: 100\r\n\r\n{')
            socks.append(s)

        stalled = []
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=200) as ex:
            futs = [ex.submit(stall, stalled) for _ in range(50)]
            futs += [ex.submit(one, i) for i in range(200)]
            for f in futs:
                f.result(timeout=60)
        self.assertLess(time.monotonic() - t0, 45)
        for s in stalled:
            s.close()
        self.assertEqual(len(results), 600)
        self.assertEqual([r for r in results if r != 200], [])

    def test_idle_connections(self):
        socks = []
        try:
            for _ in range(300):
                socks.append(socket.create_connection(('127.0.0.1', self.port), timeout=5))
            self.alive()
        finally:
            for s in socks:
                s.close()


class EveryOperation(unittest.TestCase):
    """Every operation of the model, every string member, hostile values:
    SQL metacharacters, path traversal (relative, absolute, through s3://),
    NUL bytes and invalid UTF-8, and another account's ARNs. Each request
    gets an AWS error the operation declares (or the validator's), never a
    5xx; and nothing changes: the file systems and their tags read the
    same before and after each operation's sweep."""

    SQL = ["' OR '1'='1", "fs-0'; DROP TABLE file_systems; --", '" OR ""="',
           "x%' UNION SELECT * FROM tags --", "\\'; SELECT 1; --"]
    PATHS = ['../../../../etc/passwd', '/etc/passwd', '..', '/',
             's3://bucket/../../../etc', 'a/../../b', '/proc/self/environ',
             '..\\..\\windows']
    # the front end's own errors, which any operation may answer
    FRONT = ('BadRequest', 'SerializationException', 'IncompatibleParameterError',
             'UnsupportedOperation', 'ServiceLimitExceeded')
    OTHER = '111111111111'      # another account, with its own key
    CREDS = 'test:test:000000000000,AKIDOTHER:othersecret:' + OTHER

    @classmethod
    def setUpClass(cls):
        cls.d = Fsxd(env={'FSXD_CREDENTIALS': cls.CREDS})
        cls.port = cls.d.port
        c = cls.d.client()
        cls.fs_id = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
        cls.d.wait_state(c, cls.fs_id, 'AVAILABLE', timeout=60)
        cls.arn = c.describe_file_systems()['FileSystems'][0]['ResourceARN']
        c.tag_resource(ResourceARN=cls.arn, Tags=[{'Key': 'keep', 'Value': 'me'}])

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def tearDown(self):
        self.assertIsNone(self.d.proc.poll(), 'fsxd died')

    req = Hostile.req
    paths = Hostile.paths

    def snap(self):
        r = self.req({})
        self.assertEqual(r.status, 200, r)
        fss = r.json()['FileSystems']
        t = self.req({'ResourceARN': self.arn}, op='ListTagsForResource')
        self.assertEqual(t.status, 200, t)
        return fss, sorted((x['Key'], x['Value']) for x in t.json()['Tags'])

    def base(self, op):
        """A body that names our file system where the operation needs one,
        so a hostile member is what decides; never one that would delete or
        create (DeleteFileSystem names a missing file system, Create ones
        ask for a capacity no file system may have)."""
        sh = MODEL['shapes'][MODEL['operations'][op]['input']]
        b = {}
        for m in sh.get('required', []):
            if m == 'FileSystemId':
                b[m] = 'fs-0123456789abcdef0' if op == 'DeleteFileSystem' else self.fs_id
            elif m == 'ResourceARN':
                b[m] = self.arn
            elif m == 'TagKeys':
                b[m] = ['nosuchkey']
            elif m == 'Tags':
                b[m] = [{'Key': 'k', 'Value': 'v'}]
        if op.startswith('Create'):
            b.update(StorageCapacity=1, FileSystemType='LUSTRE', SubnetIds=['subnet-1'])
        return b

    def strings(self, op):
        out = []
        self.paths(MODEL['operations'][op]['input'], [], set(), out)
        return [p for p, t in out if t == 'string' and p]

    @staticmethod
    def put_in(base, path, v):
        """base with member path (top level first) set to v."""
        body = dict(base)
        body[path[0]] = Hostile.put(path[1:], v)
        return body

    def allowed(self, op):
        return set(MODEL['operations'][op].get('errors', [])) | set(self.FRONT)

    def send(self, op, data):
        r = self.req(data, op=op)
        self.assertLess(r.status, 500, (op, data[:200], r))
        return r

    def check_answer(self, op, r, data, mutated):
        if r.status == 200:
            flags = OPS[op]
            if 'API_MUTATES' in flags:
                mutated.append((op, data))
            return
        body = r.json()
        self.assertIn(body.get('__type'), self.allowed(op), (op, data[:200], r))
        self.assertTrue(body.get('Message'), r)

    def undo(self, mutated):
        """What a hostile value that is valid did: only tags and updates can
        succeed from these bases; tags are removed again, verbatim."""
        for op, data in mutated:
            body = json.loads(data)
            if op == 'TagResource':
                keys = [t['Key'] for t in body['Tags'] if t.get('Key') != 'keep']
                t = self.req({'ResourceARN': self.arn}, op='ListTagsForResource').json()
                stored = {x['Key']: x['Value'] for x in t['Tags']}
                for tag in body['Tags']:     # stored exactly as sent
                    self.assertEqual(stored.get(tag['Key']), tag.get('Value', ''), tag)
                if keys:
                    self.assertEqual(self.req({'ResourceARN': self.arn, 'TagKeys': keys},
                                              op='UntagResource').status, 200)
            else:
                self.assertIn(op, ('UpdateFileSystem', 'UntagResource'), (op, data[:200]))

    def test_hostile_strings_every_member_of_every_operation(self):
        n = 0
        values = self.SQL + self.PATHS
        for op in sorted(MODEL['operations']):
            if 'API_LOCAL' in OPS[op]:
                continue
            before = self.snap()
            mutated = []
            base = self.base(op)
            for path in self.strings(op):
                for v in values:
                    body = self.put_in(base, path, v)
                    data = json.dumps(body).encode()
                    with self.subTest(op=op, path=path, v=v):
                        self.check_answer(op, self.send(op, data), data, mutated)
                        n += 1
                # NUL and invalid UTF-8: SerializationException, before anything
                mark = '\u0001HOSTILE\u0001'
                data = json.dumps(self.put_in(base, path, mark)).encode()
                for raw in (b'a\\u0000b', b'fs-0\\u0000', b'\xff\xfe', b'\xc0\xaf..\xc0\xaf',
                            b'\xed\xa0\x80'):
                    bad = data.replace(json.dumps(mark).encode()[1:-1], raw)
                    with self.subTest(op=op, path=path, raw=raw):
                        r = self.send(op, bad)
                        self.assertEqual(r.status, 400, r)
                        self.assertEqual(r.json()['__type'], 'SerializationException', r)
                        n += 1
            self.undo(mutated)
            with self.subTest(op=op, check='no effect'):
                after = self.snap()
                if not any(o == 'UpdateFileSystem' for o, _ in mutated):
                    self.assertEqual(before, after)
                else:
                    self.assertEqual(before[1], after[1])
        self.assertGreater(n, 3000)

    def test_other_accounts_arns_and_ids(self):
        """Another account's ARN naming our file system, and our ids asked
        for by another account: not found, and nothing changes."""
        before = self.snap()
        other_arn = self.arn.replace(':000000000000:', ':%s:' % self.OTHER)
        self.assertNotEqual(other_arn, self.arn)
        for op, body in (
                ('TagResource', {'ResourceARN': other_arn, 'Tags': [{'Key': 'a', 'Value': 'b'}]}),
                ('UntagResource', {'ResourceARN': other_arn, 'TagKeys': ['keep']}),
                ('ListTagsForResource', {'ResourceARN': other_arn})):
            with self.subTest(op=op):
                r = self.req(body, op=op)
                self.assertEqual(r.status, 400, r)
                self.assertIn(r.json()['__type'], ('ResourceNotFound', 'NotServiceResourceError'),
                              r)
        # the other account, signing with its own key, sees nothing of ours
        other = self.d.client(key='AKIDOTHER', secret='othersecret')
        self.assertEqual(other.describe_file_systems()['FileSystems'], [])
        for call in (lambda: other.describe_file_systems(FileSystemIds=[self.fs_id]),
                     lambda: other.list_tags_for_resource(ResourceARN=self.arn),
                     lambda: other.tag_resource(ResourceARN=self.arn,
                                                Tags=[{'Key': 'x', 'Value': 'y'}]),
                     lambda: other.untag_resource(ResourceARN=self.arn, TagKeys=['keep']),
                     lambda: other.update_file_system(FileSystemId=self.fs_id,
                                                      StorageCapacity=2400),
                     lambda: other.delete_file_system(FileSystemId=self.fs_id)):
            with self.assertRaises(other.exceptions.ClientError) as cm:
                call()
            self.assertIn(cm.exception.response['Error']['Code'],
                          ('FileSystemNotFound', 'ResourceNotFound'), cm.exception.response)
        self.assertEqual(self.snap(), before)


class LfsEscapes(EngineCase):
    """lfs acts on paths as Lustre's does, through the kernel: a symlink in
    the mount that points out of it must never let lfs change anything
    outside (a file created there is removed again when its layout cannot
    be set), and lfs find does not follow it."""

    def lfs(self, *args):
        return subprocess.run([binpath('lfs')] + list(args), capture_output=True, text=True,
                              timeout=30)

    def test_symlink_out_of_the_mount(self):
        outside = tempfile.mkdtemp(prefix='fsx-escape-')
        try:
            with open(os.path.join(outside, 'secret'), 'w') as f:
                f.write('x')
            before = sorted(os.listdir(outside))
            os.symlink(outside, self.path('esc'))
            os.symlink('/etc/passwd', self.path('pw'))
            for args in (['setstripe', '-c', '2', self.path('esc', 'new')],
                         ['setstripe', '-c', '2', self.path('esc')],
                         ['setstripe', '-c', '1', self.path('esc', '..', 'x')],
                         ['setstripe', '-S', '4M', self.path('pw')],
                         ['setstripe', '-c', '1', self.path('esc', 'secret')]):
                with self.subTest(args=args):
                    r = self.lfs(*args)
                    self.assertNotEqual(r.returncode, 0, r)
                    self.assertEqual(sorted(os.listdir(outside)), before)
            for a in ('getstripe', 'getstripe -d'):
                r = self.lfs(*a.split(), self.path('esc'))
                self.assertNotEqual(r.returncode, 0, r)
                self.assertNotIn('lmm_stripe_count', r.stdout)
            r = self.lfs('find', self.mnt)
            self.assertEqual(r.returncode, 0, r)
            self.assertNotIn('secret', r.stdout)
            self.assertIn(self.path('esc'), r.stdout.split())
            with open(os.path.join(outside, 'secret')) as f:
                self.assertEqual(f.read(), 'x')
            self.assertEqual(os.listxattr(outside), [])
            # inside the mount, '..' is only a path
            os.mkdir(self.path('d'))
            r = self.lfs('setstripe', '-c', '1', self.path('d', '..', 'inside'))
            self.assertEqual(r.returncode, 0, r)
            self.assertTrue(os.path.exists(self.path('inside')))
        finally:
            shutil.rmtree(outside)


def _ops():
    """api/ops.def: operation -> its flags text."""
    out = {}
    for line in open(os.path.join(TOP, 'api', 'ops.def')):
        m = re.match(r'API_OP\((\w+),\s*\w+,\s*([^,]+),', line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


OPS = _ops()


class ListingFollowsCommits(unittest.TestCase):
    """fsxd answers repeated full listings from a per-thread cache keyed
    by the database's commit count: every write, by a handler or by the
    provisioner, must show in the next listing."""

    def test_listing_after_each_write(self):
        d = Fsxd()
        try:
            c = d.client()

            def listing(**kw):
                return {f['FileSystemId']: f for f in
                        c.describe_file_systems(**kw)['FileSystems']}

            for _ in range(3):
                self.assertEqual(listing(), {})
            fs_id = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
            self.assertIn(fs_id, listing())            # read your write
            deadline = time.time() + 30
            while listing()[fs_id]['Lifecycle'] != 'AVAILABLE':   # provisioner's commit
                self.assertLess(time.time(), deadline)
                time.sleep(0.01)
            arn = listing()[fs_id]['ResourceARN']
            c.tag_resource(ResourceARN=arn, Tags=[{'Key': 'k', 'Value': 'v1'}])
            self.assertIn({'Key': 'k', 'Value': 'v1'}, listing()[fs_id].get('Tags', []))
            c.tag_resource(ResourceARN=arn, Tags=[{'Key': 'k', 'Value': 'v2'}])
            self.assertIn({'Key': 'k', 'Value': 'v2'}, listing()[fs_id].get('Tags', []))
            c.untag_resource(ResourceARN=arn, TagKeys=['k'])
            self.assertNotIn('k', [t['Key'] for t in listing()[fs_id].get('Tags', [])])
            # an update shows at once (its action), then its result (the provisioner's)
            self.assertEqual(listing()[fs_id]['StorageCapacity'], 1200)
            c.update_file_system(FileSystemId=fs_id, StorageCapacity=2400)
            acts = listing()[fs_id].get('AdministrativeActions', [])
            self.assertIn(2400, [a.get('TargetFileSystemValues', {}).get('StorageCapacity')
                                 for a in acts], acts)
            deadline = time.time() + 30
            while listing()[fs_id]['StorageCapacity'] != 2400:
                self.assertLess(time.time(), deadline)
                time.sleep(0.01)
            # pages and other accounts are cached apart
            fs2 = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
            p1 = c.describe_file_systems(MaxResults=1)
            self.assertEqual([f['FileSystemId'] for f in p1['FileSystems']], [fs_id])
            p2 = c.describe_file_systems(MaxResults=1, NextToken=p1['NextToken'])
            self.assertEqual([f['FileSystemId'] for f in p2['FileSystems']], [fs2])
            self.assertEqual(set(listing()), {fs_id, fs2})
            other = d.client(region='eu-west-1')
            self.assertEqual(other.describe_file_systems()['FileSystems'], [])
            c.delete_file_system(FileSystemId=fs_id)
            self.assertEqual(listing()[fs_id]['Lifecycle'], 'DELETING')
            deadline = time.time() + 30
            while fs_id in listing():
                self.assertLess(time.time(), deadline)
                time.sleep(0.01)
            self.assertEqual(set(listing()), {fs2})
        finally:
            d.stop()

    def test_by_id_after_each_write(self):
        """Describe by FileSystemIds is cached the same way, keyed by the
        ids asked for as well: each write shows, another region's caller
        never gets the cached answer, and a gone id is an error again."""
        d = Fsxd()
        try:
            c = d.client()

            def by_id(*ids):
                return c.describe_file_systems(FileSystemIds=list(ids))['FileSystems']

            fs_id = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
            fs2 = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
            self.assertEqual([f['FileSystemId'] for f in by_id(fs_id)], [fs_id])
            deadline = time.time() + 30
            while by_id(fs_id)[0]['Lifecycle'] != 'AVAILABLE':   # provisioner's commit
                self.assertLess(time.time(), deadline)
                time.sleep(0.01)
            arn = by_id(fs_id)[0]['ResourceARN']
            for v in ('v1', 'v2'):
                c.tag_resource(ResourceARN=arn, Tags=[{'Key': 'k', 'Value': v}])
                for _ in range(3):
                    self.assertIn({'Key': 'k', 'Value': v}, by_id(fs_id)[0].get('Tags', []))
            # other id lists are other answers: one, both in either order
            self.assertEqual([f['FileSystemId'] for f in by_id(fs2)], [fs2])
            self.assertEqual([f['FileSystemId'] for f in by_id(fs2, fs_id)], [fs_id, fs2])
            self.assertEqual([f['FileSystemId'] for f in by_id(fs_id, fs2)], [fs_id, fs2])
            self.assertEqual([f['FileSystemId'] for f in by_id(fs_id)], [fs_id])
            other = d.client(region='eu-west-1')
            for _ in range(3):
                with self.assertRaises(other.exceptions.FileSystemNotFound):
                    other.describe_file_systems(FileSystemIds=[fs_id])
            c.delete_file_system(FileSystemId=fs_id)
            self.assertEqual(by_id(fs_id)[0]['Lifecycle'], 'DELETING')
            deadline = time.time() + 30
            while True:
                try:
                    by_id(fs_id)
                except c.exceptions.FileSystemNotFound:
                    break
                self.assertLess(time.time(), deadline)
                time.sleep(0.01)
            with self.assertRaises(c.exceptions.FileSystemNotFound):
                by_id(fs_id)
            self.assertEqual([f['FileSystemId'] for f in by_id(fs2)], [fs2])
        finally:
            d.stop()


if __name__ == '__main__':
    unittest.main()
