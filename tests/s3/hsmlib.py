"""Harness for the S3 data-repository tests: a moto_server on a random
loopback port, fsx-hsm started like the provisioner starts it (same argv
as the MDS), and a client of its four opcodes (docs/hsm.md)."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import boto3
from botocore.config import Config

from ..fs.engine import Client, Server, wait_for

OP_HSM_CONF, OP_HSM_STATUS, OP_HSM_TASK, OP_HSM_CANCEL = 90, 91, 92, 93
AKID, SECRET = 'AKIAFSXHSMTEST000000', 'fsx-hsm-test-secret-key'


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Moto:
    """A moto_server of our own; stop() and start() again keep the port
    (not the data: moto keeps everything in memory)."""

    def __init__(self, workdir):
        self.port = free_port()
        self.log = os.path.join(workdir, 'moto.log')
        self.proc = None

    @property
    def endpoint(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self):
        if shutil.which('moto_server') is None:
            raise unittest.SkipTest('moto_server is not installed')
        logf = open(self.log, 'ab')
        self.proc = subprocess.Popen(
            ['moto_server', '-H', '127.0.0.1', '-p', str(self.port)],
            stdout=logf, stderr=logf, stdin=subprocess.DEVNULL)
        logf.close()

        def up():
            try:
                socket.create_connection(('127.0.0.1', self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_for(up, 30, 'moto_server', self.proc, self.log)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def s3(self):
        return boto3.client('s3', endpoint_url=self.endpoint,
                            region_name='us-east-1',
                            aws_access_key_id=AKID,
                            aws_secret_access_key=SECRET,
                            config=Config(s3={'addressing_style': 'path'},
                                          retries={'max_attempts': 2}))


class HsmClient(Client):
    """JSON in, JSON out."""

    def doc(self, op, obj):
        h, _, rbulk = self.call(op, bulk=json.dumps(obj).encode())
        if h[4] != 0:
            raise OSError(-h[4], 'opcode %d: %s' % (op, os.strerror(-h[4])))
        return json.loads(rbulk.decode() or 'null')

    def raw(self, op, bulk):
        h, _, rbulk = self.call(op, bulk=bulk)
        return h[4], rbulk

    def conf(self, obj):
        return self.doc(OP_HSM_CONF, obj)

    def status(self):
        return self.doc(OP_HSM_STATUS, {})

    def task(self, obj):
        return self.doc(OP_HSM_TASK, obj)

    def cancel(self, tid):
        return self.doc(OP_HSM_CANCEL, {'id': tid})


class Agent:
    """One fsx-hsm with its store under workdir."""

    def __init__(self, workdir, secret_file, secret):
        self.store = os.path.join(workdir, 'hsm')
        self.secret = secret
        self.srv = Server('fsx-hsm', ['--dir', self.store,
                                      '--secret-file', secret_file],
                          workdir, 'hsm')

    def start(self):
        self.srv.start()
        return self

    def client(self):
        return HsmClient(self.srv.port, self.secret)

    def stop(self):
        self.srv.stop()


def s3_conf(moto, mds='', assocs=(), poll_ms=200, secret=SECRET,
            restore_ms=None):
    extra = {'restore_ms': restore_ms} if restore_ms else {}
    return dict(extra, **{'mds': mds,
            's3': {'endpoint': moto.endpoint, 'region': 'us-east-1',
                   'access_key': AKID, 'secret_key': secret,
                   'session_token': None, 'path_style': True},
            'poll_ms': poll_ms, 'associations': list(assocs)})


def assoc(aid, bucket, prefix='', fs_path='/ns1', state='CREATING',
          imp=(), exp=(), batch=False, chunk=1024, delete_data=False):
    return {'id': aid, 'fs_path': fs_path, 'bucket': bucket,
            'prefix': prefix, 'batch_import': batch, 'import': list(imp),
            'export': list(exp), 'chunk_mib': chunk, 'state': state,
            'delete_data': delete_data}


def wait_state(cli, kind, oid, states, timeout=30):
    """Poll HSM_STATUS until the association/task `oid` is in one of
    `states`; returns its status entry."""
    last = [None]

    def pred():
        for e in cli.status()[kind]:
            if e['id'] == oid:
                last[0] = e
                return e if e['state'] in states else None
        return None
    try:
        return wait_for(pred, timeout, '%s %s in %s' % (kind, oid, states))
    except AssertionError:
        raise AssertionError('%s %s: last status %r' % (kind, oid, last[0]))


def new_secret(d):
    """A fresh engine secret written (0600) to d/secret: (secret, path)."""
    secret = os.urandom(32)
    path = os.path.join(d, 'secret')
    with open(path, 'w') as f:
        f.write(secret.hex() + '\n')
    os.chmod(path, 0o600)
    return secret, path


def wait_available(cli, dra, timeout=60):
    """Wait until association dra leaves its starting state; assert it
    became AVAILABLE."""
    st = wait_state(cli, 'associations', dra,
                    {'AVAILABLE', 'FAILED', 'MISCONFIGURED'}, timeout)
    assert st['state'] == 'AVAILABLE', st
    return st


class AgentCase(unittest.TestCase):
    """moto_server + one agent (no file system) per class."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix='fsx-s3-', dir='/var/tmp')
        cls.secret, cls.secret_file = new_secret(cls.dir)
        cls.moto = Moto(cls.dir).start()
        cls.agent = Agent(cls.dir, cls.secret_file, cls.secret).start()

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.moto.stop()
        if not os.environ.get('FSX_KEEP'):
            shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.cli = self.agent.client()
        self.addCleanup(self.cli.close)
        self.s3 = self.moto.s3()


class Proxy:
    """A TCP relay in front of moto_server: stop() makes S3 unreachable
    (listener and every relayed connection closed) while moto keeps its
    data; start() serves again on the same port. `moved` counts bytes
    relayed from S3 to clients."""

    def __init__(self, target_port):
        import threading
        self.target = target_port
        self.port = free_port()
        self.lock = threading.Lock()
        self.socks = []
        self.lsock = None
        self.moved = 0
        self.slow = 0.0     # seconds of delay per relayed chunk from S3
        self.thr = None

    @property
    def endpoint(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self):
        import threading
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(('127.0.0.1', self.port))
        ls.listen(64)
        self.lsock = ls
        self.thr = threading.Thread(target=self._accept, args=(ls,),
                                    daemon=True)
        self.thr.start()
        return self

    def _accept(self, ls):
        import threading
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(('127.0.0.1', self.target))
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._pipe, args=(c, u, False),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, True),
                             daemon=True).start()

    def _pipe(self, src, dst, count):
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                dst.sendall(b)
                if count:
                    with self.lock:
                        self.moved += len(b)
                    if self.slow:
                        time.sleep(self.slow)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        if self.lsock is not None:
            try:
                self.lsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.lsock.close()
            self.lsock = None
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
