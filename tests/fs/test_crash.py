"""Crashes: kill -9 of an OSS during writes and of the MDS during namespace
changes, restart with the same arguments, and check that what was
acknowledged as durable is there, read through a mount made afterwards (so
no client cache can hide a loss)."""
import hashlib
import os
import threading
import time

from .engine import EngineCase, set_layout, get_layout, MiB, KiB

CHUNK = 256 * KiB


def pattern(i):
    """Deterministic, distinct content for chunk i."""
    seed = hashlib.sha256(b'chunk-%d' % i).digest()
    return (seed * (CHUNK // len(seed) + 1))[:CHUNK]


class OssCrashTests(EngineCase):

    def test_kill9_oss_keeps_fsynced_bytes(self):
        f = self.path('victim')
        set_layout(f, 4, 64 * KiB)     # every OST, so the dead OSS holds stripes
        oss = self.engine.oss[0]
        state = dict(synced=0, written=0, err=None, errors_after=0)
        stop = threading.Event()

        def writer():
            fd = os.open(f, os.O_WRONLY)
            try:
                i = 0
                while not stop.is_set() and i < 400:
                    try:
                        os.pwrite(fd, pattern(i), i * CHUNK)
                        state['written'] = i + 1
                        if i % 4 == 3:
                            os.fsync(fd)
                            state['synced'] = i + 1
                        i += 1
                    except OSError as e:
                        # The client may give up on an op while the OSS is
                        # down; what was fsync'd before must survive anyway.
                        state['err'] = e
                        state['errors_after'] += 1
                        if state['errors_after'] > 50:
                            break
                        time.sleep(0.05)
            finally:
                try:
                    os.close(fd)
                except OSError as e:
                    state['err'] = e

        t = threading.Thread(target=writer)
        t.start()
        deadline = time.monotonic() + 20
        while state['synced'] < 16 and time.monotonic() < deadline and t.is_alive():
            time.sleep(0.01)
        self.assertGreaterEqual(state['synced'], 16, 'writer made no progress: %r' % state)
        oss.kill9()
        synced_at_kill = state['synced']
        time.sleep(0.5)
        oss.restart()
        t.join(120)
        stop.set()
        self.assertFalse(t.is_alive(), 'writer hung after the OSS restart')
        synced = state['synced']
        self.assertGreater(synced, synced_at_kill, 'no fsync succeeded after the OSS '
                           'restart (last error %r)' % (state['err'],))

        # Read through a fresh mount: every fsync'd chunk is intact.
        mnt = self.engine.mount('after-oss')
        with open(os.path.join(mnt, 'victim'), 'rb') as fh:
            for i in range(synced):
                fh.seek(i * CHUNK)
                got = fh.read(CHUNK)
                self.assertTrue(got == pattern(i), 'chunk %d of %d fsync\'d chunks '
                                'differs after OSS kill -9' % (i, synced))
        # and the file system serves new writes on every OST again
        g = os.path.join(mnt, 'after')
        set_layout(g, 4, 64 * KiB)
        data = os.urandom(MiB)
        with open(g, 'r+b') as fh:
            fh.write(data)
        with open(g, 'rb') as fh:
            self.assertEqual(fh.read(), data)
        self.assertEqual(len(get_layout(g)['ents']), 4)


class MdsCrashTests(EngineCase):

    def test_kill9_mds_keeps_acknowledged_changes(self):
        d = self.path('ns')
        os.mkdir(d)
        acked = {}            # final name -> content
        either = []           # renames that failed: one of the names exists
        state = dict(err=None, n=0)
        stop = threading.Event()

        def worker():
            i = 0
            fails = 0
            while not stop.is_set() and i < 3000:
                a = os.path.join(d, 'tmp-%d' % i)
                b = os.path.join(d, 'file-%d' % i)
                try:
                    with open(a, 'x') as fh:
                        fh.write(str(i))
                    acked['tmp-%d' % i] = str(i)
                    try:
                        os.rename(a, b)
                    except OSError:
                        # An error leaves it open whether the rename happened.
                        del acked['tmp-%d' % i]
                        either.append(i)
                        raise
                    del acked['tmp-%d' % i]
                    acked['file-%d' % i] = str(i)
                    state['n'] = i + 1
                except OSError as e:
                    state['err'] = e
                    fails += 1
                    if fails > 100:
                        break
                    time.sleep(0.05)
                i += 1

        t = threading.Thread(target=worker)
        t.start()
        deadline = time.monotonic() + 20
        while state['n'] < 200 and time.monotonic() < deadline and t.is_alive():
            time.sleep(0.01)
        self.assertGreaterEqual(state['n'], 200, 'no progress before the kill: %r' % state)
        self.engine.mds.kill9()
        n_at_kill = state['n']
        time.sleep(0.3)
        self.engine.mds.restart()
        t.join(180)
        stop.set()
        self.assertFalse(t.is_alive(), 'worker hung after the MDS restart')
        self.assertGreater(state['n'], n_at_kill, 'no progress after the MDS restart '
                           '(last error %r)' % (state['err'],))

        mnt = self.engine.mount('after-mds')
        names = set(os.listdir(os.path.join(mnt, 'ns')))
        missing = [n for n in acked if n not in names]
        self.assertEqual(missing, [], 'acknowledged names lost after MDS kill -9')
        for n, content in acked.items():
            with open(os.path.join(mnt, 'ns', n)) as fh:
                self.assertEqual(fh.read(), content, n)
        for i in either:
            self.assertEqual(('tmp-%d' % i in names) + ('file-%d' % i in names), 1,
                             'rename %d half done' % i)
        # renamed files are not also under their old name
        both = [n for n in names if n.startswith('file-') and
                'tmp-' + n[5:] in names]
        self.assertEqual(both, [])
