"""An HTTP proxy in front of moto_server that answers S3 faults on
command: `fail(kind, count, method=None, path=None)` makes the next
`count` matching requests (count None: every one until `clear()`) get
  '500'       500 InternalError (S3's XML)
  '503'       503 ServiceUnavailable
  'SlowDown'  503 SlowDown
  'stall'     no answer: the connection is held for `stall_s` seconds,
              then closed
instead of being relayed. With `copy_limit` set, a CopyObject (PUT with
x-amz-copy-source, not a part) of a source larger than it gets S3's
400 InvalidRequest, as S3 answers over 5 GiB (the limit scaled down;
UploadPartCopy is relayed). Every other request is relayed to moto as it
came (headers untouched, so signatures stay valid) and its answer
streamed back. `faulted` counts faults answered; `seen` the requests
(method, path) received."""
import http.client
import http.server
import re
import socketserver
import threading
import time
from urllib.parse import unquote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .hsmlib import AKID, SECRET, free_port

ERRORS = {
    '500': (500, 'InternalError', 'We encountered an internal error. '
            'Please try again.'),
    '503': (503, 'ServiceUnavailable', 'Please reduce your request rate.'),
    'SlowDown': (503, 'SlowDown', 'Please reduce your request rate.'),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def _body(self):
        n = int(self.headers.get('Content-Length') or 0)
        out = bytearray()
        while len(out) < n:
            b = self.rfile.read(min(1 << 20, n - len(out)))
            if not b:
                break
            out += b
        return bytes(out)

    def _error(self, status, code, msg):
        x = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s'
             '</Code><Message>%s</Message><RequestId>fault</RequestId>'
             '</Error>' % (code, msg)).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/xml')
        self.send_header('Content-Length', str(len(x)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(x)

    def _any(self):
        fp = self.server.fp
        body = self._body()
        kind = fp._take(self.command, self.path)
        if kind == 'stall':
            time.sleep(fp.stall_s)
            self.close_connection = True
            return
        if kind is None and fp.copy_limit is not None and \
                self.command == 'PUT' and 'partNumber=' not in self.path \
                and self.headers.get('x-amz-copy-source'):
            size = fp._size(self.headers['x-amz-copy-source'])
            if size is not None and size > fp.copy_limit:
                self._error(400, 'InvalidRequest', 'The specified copy '
                            'source is larger than the maximum allowable '
                            'size for a copy source: %d' % fp.copy_limit)
                return
        if kind is not None:
            self._error(*ERRORS[kind])
            return
        c = http.client.HTTPConnection('127.0.0.1', fp.target, timeout=120)
        try:
            hdrs = {k: v for k, v in self.headers.items()
                    if k.lower() not in ('connection', 'transfer-encoding')}
            c.request(self.command, self.path, body=body or None,
                      headers=hdrs)
            r = c.getresponse()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ('connection', 'transfer-encoding',
                                     'content-length', 'date', 'server'):
                    self.send_header(k, v)
            data = r.read()
            self.send_header('Content-Length', r.getheader(
                'Content-Length', '0') if self.command == 'HEAD'
                else str(len(data)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(data)
        finally:
            c.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FaultProxy:
    def __init__(self, target_port):
        self.target = target_port
        self.port = free_port()
        self.lock = threading.Lock()
        self.rules = []         # [kind, count or None, method, path, after]
        self.faulted = 0
        self.seen = []
        self.stall_s = 5.0
        self.copy_limit = None
        self.srv = None

    @property
    def endpoint(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self):
        self.srv = _Server(('127.0.0.1', self.port), _Handler)
        self.srv.fp = self
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.srv is not None:
            self.srv.shutdown()
            self.srv.server_close()
            self.srv = None

    def fail(self, kind, count=1, method=None, path=None, after=0):
        """`after`: that many matching requests are relayed first."""
        assert kind in ERRORS or kind == 'stall', kind
        with self.lock:
            self.rules.append([kind, count, method,
                               re.compile(path) if path else None, after])

    def clear(self):
        with self.lock:
            self.rules = []

    def reset(self):
        with self.lock:
            self.rules = []
            self.faulted = 0
            self.seen = []

    def _size(self, source):
        """The size of /bucket/key (as in x-amz-copy-source), asked of
        moto directly (HeadObject, signed); None when it cannot tell."""
        bucket, _, key = unquote(source.split('?')[0]).lstrip('/') \
            .partition('/')
        s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:%d' %
                          self.target, region_name='us-east-1',
                          aws_access_key_id=AKID,
                          aws_secret_access_key=SECRET,
                          config=Config(s3={'addressing_style': 'path'}))
        try:
            return s3.head_object(Bucket=bucket, Key=key)['ContentLength']
        except ClientError:
            return None

    def _take(self, method, path):
        with self.lock:
            self.seen.append((method, path))
            for r in self.rules:
                if (r[2] is None or r[2] == method) and \
                        (r[3] is None or r[3].search(path)):
                    if r[4] > 0:
                        r[4] -= 1
                        return None
                    if r[1] is not None:
                        r[1] -= 1
                        if r[1] == 0:
                            self.rules.remove(r)
                    self.faulted += 1
                    return r[0]
        return None
