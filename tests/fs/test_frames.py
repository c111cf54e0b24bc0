"""Malformed frames sent straight to every engine server: each must close
the offending connection (answering -EPROTO at most), stay up, and keep
serving well-behaved clients and the mount."""
import os
import socket
import struct
import time

from .engine import (EngineCase, Client, frame, recv_frame, crc32c, MSG_MAGIC,
                     OP_HELLO, OP_PING, MiB)

EPROTO = 71
EBADMSG = 74    # msg.c answers a bulk CRC mismatch with -EBADMSG


class FrameTests(EngineCase):
    mount_at_start = False

    def servers(self):
        return [('mds', self.engine.mds)] + [('oss%d' % i, s)
                                             for i, s in enumerate(self.engine.oss)]

    def hello_frame(self, secret=None, reqid=1):
        return frame(OP_HELLO, (secret or self.engine.secret) + struct.pack('<II', 0, 0),
                     reqid=reqid)

    def expect_closed(self, sock, what):
        """The server closes the connection; any reply before that is
        -EPROTO (or, for a refused HELLO, any error)."""
        sock.settimeout(10)
        replies = []
        try:
            while True:
                h, _, _ = recv_frame(sock)
                replies.append(h)
                if len(replies) > 4:
                    break
        except (ConnectionResetError, BrokenPipeError):
            pass
        except socket.timeout:
            self.fail('%s: server kept the connection open' % what)
        except ValueError as e:
            self.fail('%s: unparseable reply: %s' % (what, e))
        for h in replies:
            self.assertLess(h[4], 0, '%s: non-error reply %r' % (what, h))
        self.assertLessEqual(len(replies), 1, '%s: more than one reply' % what)
        sock.close()
        return replies

    def still_serving(self, name, srv):
        self.assertTrue(srv.alive(), '%s died\n%s' % (name, self.engine.logs()))
        c = Client(srv.port, self.engine.secret)
        try:
            status, body = c.ping()
            self.assertEqual(status, 0)
            self.assertEqual(len(body), 16)
        finally:
            c.close()

    def attack(self, name, srv, payload, after_hello=True, what=''):
        s = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
        if after_hello:
            s.sendall(self.hello_frame())
            h, _, _ = recv_frame(s)
            self.assertEqual(h[4], 0, 'HELLO refused by %s' % name)
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        rep = self.expect_closed(s, '%s %s' % (name, what))
        self.still_serving(name, srv)
        return rep

    def hdr(self, **kw):
        return frame(OP_PING, **kw)

    def test_malformed_frames(self):
        good_body_missing = frame(OP_PING, body_len=100)[:40] + b'x' * 10
        cases = [
            ('bad magic', self.hdr(magic=0xdeadbeef)),
            ('bad version', self.hdr(version=99)),
            ('bad header crc', self.hdr(hdr_crc=12345)),
            ('huge body_len', self.hdr(body_len=0xffffffff)),
            ('body_len over max', self.hdr(body_len=64 * 1024 + 1)),
            ('huge bulk_len', self.hdr(bulk_len=0xfffffff0)),
            ('bulk_len over max', self.hdr(bulk_len=8 * MiB + 1)),
            ('bad bulk crc', frame(OP_PING, bulk=b'q' * 1000, bulk_crc=1)),
            ('opcode out of range', frame(999)),
            ('opcode zero', frame(0)),
            ('garbage', os.urandom(4096)),
            ('zeros', bytes(40)),
        ]
        for name, srv in self.servers():
            for what, payload in cases:
                with self.subTest(server=name, case=what):
                    rep = self.attack(name, srv, payload, True, what)
                    allowed = (-EPROTO, -EBADMSG) if 'crc' in what else (-EPROTO,)
                    for h in rep:
                        self.assertIn(h[4], allowed, what)
            with self.subTest(server=name, case='truncated body then EOF'):
                s = socket.create_connection(('127.0.0.1', srv.port))
                s.sendall(self.hello_frame())
                recv_frame(s)
                s.sendall(good_body_missing)
                s.shutdown(socket.SHUT_WR)
                self.expect_closed(s, 'truncated')
                self.still_serving(name, srv)

    def test_hello_rules(self):
        for name, srv in self.servers():
            with self.subTest(server=name, case='request before HELLO'):
                rep = self.attack(name, srv, frame(OP_PING), False, 'before hello')
            with self.subTest(server=name, case='wrong secret'):
                self.attack(name, srv, self.hello_frame(secret=bytes(32)), False,
                            'wrong secret')
            with self.subTest(server=name, case='short HELLO body'):
                self.attack(name, srv, frame(OP_HELLO, b'abc'), False, 'short hello')
            with self.subTest(server=name, case='garbage first'):
                self.attack(name, srv, os.urandom(100), False, 'garbage first')
            del rep

    def test_short_bodies_get_errors_not_crashes(self):
        # Well-formed frames whose body is too short for the opcode: the
        # server answers an error (or closes) and keeps serving.
        for name, srv in self.servers():
            # every opcode that needs a body (not OSTMAP, STATFS, OSTADD)
            ops = ([op for op in range(40, 65) if op not in (40, 59, 63)]
                   if name == 'mds' else list(range(20, 29)) + [64])
            for op in ops:
                with self.subTest(server=name, op=op):
                    s = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
                    s.sendall(self.hello_frame())
                    recv_frame(s)
                    s.sendall(frame(op, b'\x01\x02\x03', reqid=7))
                    s.settimeout(10)
                    try:
                        h, _, _ = recv_frame(s)
                        self.assertLess(h[4], 0, 'op %d with a 3-byte body succeeded' % op)
                    except ConnectionResetError:
                        pass
                    s.close()
            self.still_serving(name, srv)

    def test_stalled_client_does_not_block_others(self):
        for name, srv in self.servers():
            s = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
            s.sendall(self.hello_frame()[:20])      # half a header, then silence
            t0 = time.monotonic()
            self.still_serving(name, srv)
            self.assertLess(time.monotonic() - t0, 5)
            s.close()
        # many connections with garbage at once
        socks = []
        for name, srv in self.servers():
            for _ in range(50):
                c = socket.create_connection(('127.0.0.1', srv.port), timeout=10)
                c.sendall(os.urandom(64))
                socks.append(c)
        for c in socks:
            c.close()
        for name, srv in self.servers():
            self.still_serving(name, srv)

    def test_mount_survives_the_abuse(self):
        for name, srv in self.servers():
            self.attack(name, srv, os.urandom(999), True, 'noise')
        data = os.urandom(2 * MiB)
        p = os.path.join(self.engine.mount(), 'after-abuse')
        with open(p, 'wb') as f:
            f.write(data)
        with open(p, 'rb') as f:
            self.assertEqual(f.read(), data)

    def test_crc32c_matches_reference(self):
        # The harness's CRC must be the protocol's (Castagnoli) for the
        # other tests to mean anything: RFC 3720 check value.
        self.assertEqual(crc32c(b'123456789'), 0xE3069283)
        self.assertEqual(MSG_MAGIC.to_bytes(4, 'little'), b'FSXM')
