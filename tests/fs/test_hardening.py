"""Engine hardening (msg_srv.h): peers that connect and say nothing.

  hardening-1  1,100 silent sockets to the MDS and to an OSS do not keep an
               authenticated client (HELLO + PING) or a new mount out, and
               are closed once the HELLO deadline (2 s) has passed
"""
import os
import resource
import socket
import time

from .engine import Client, EngineCase

SILENT = 1100
HELLO_DEADLINE = 2.0


def closed_by_peer(s):
    s.settimeout(0.0)
    try:
        return s.recv(1) == b''
    except BlockingIOError:
        return False
    except OSError:
        return True


class SilentPeersTest(EngineCase):
    n_ost = 2
    n_oss = 1

    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 3 * SILENT:
            want = min(hard, 4 * SILENT) if hard != resource.RLIM_INFINITY \
                else 4 * SILENT
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    def silent(self, port):
        socks = []
        for _ in range(SILENT):
            socks.append(socket.create_connection(('127.0.0.1', port), timeout=10))
        return socks

    def test_1_silent_sockets_do_not_lock_clients_out(self):
        e = self.engine
        for srv in (e.mds, e.oss[0]):
            with self.subTest(server=srv.tag):
                socks = self.silent(srv.port)
                try:
                    t0 = time.monotonic()
                    c = Client(srv.port, e.secret, timeout=5)
                    status, _ = c.ping()
                    c.close()
                    self.assertEqual(status, 0)
                    self.assertLess(time.monotonic() - t0, 3)
                    time.sleep(HELLO_DEADLINE + 1.0)
                    still = sum(1 for s in socks if not closed_by_peer(s))
                    self.assertEqual(still, 0, '%d silent sockets still open '
                                     'after the HELLO deadline' % still)
                finally:
                    for s in socks:
                        s.close()
        # a new mount while the MDS and the OSS face silent peers again
        socks = self.silent(e.mds.port) + self.silent(e.oss[0].port)
        try:
            t0 = time.monotonic()
            mnt = e.mount('mnt2')
            with open(os.path.join(mnt, 'f'), 'wb') as f:
                f.write(b'x' * 100000)
            with open(os.path.join(self.mnt, 'f'), 'rb') as f:
                self.assertEqual(f.read(), b'x' * 100000)
            self.assertLess(time.monotonic() - t0, 10)
        finally:
            for s in socks:
                s.close()
