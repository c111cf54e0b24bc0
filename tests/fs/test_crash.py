"""Crashes: kill -9 of an OSS during writes and of the MDS during namespace
changes, restart with the same arguments, and check that what was
acknowledged as durable is there, read through a mount made afterwards (so
no client cache can hide a loss).

The writers run in child processes: a process that holds a file open on the
mount must not fork the restarted server, because the child's close of that
descriptor sends a FUSE flush that waits for the write-behind to the dead
server (for up to the client's retry time)."""
import hashlib
import os
import subprocess
import sys
import threading
import time

from .engine import EngineCase, set_layout, get_layout, wait_for, MiB, KiB

CHUNK = 256 * KiB
NCHUNKS = 400

WRITER = r'''
import hashlib, os, sys, time
path, n, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def pattern(i):
    seed = hashlib.sha256(b'chunk-%d' % i).digest()
    return (seed * (chunk // len(seed) + 1))[:chunk]
fd = os.open(path, os.O_WRONLY)
i = synced = errors = 0
while i < n:
    try:
        os.pwrite(fd, pattern(i), i * chunk)
        if i % 4 == 3 or i == n - 1:
            os.fsync(fd)
            synced = i + 1
            print('S %d' % synced, flush=True)
        i += 1
    except OSError as e:
        # After a failed write or fsync everything since the last good
        # fsync is in doubt: write it again.
        errors += 1
        print('E %d %d' % (i, e.errno), flush=True)
        if errors > 50:
            sys.exit(1)
        i = synced
        time.sleep(0.05)
os.close(fd)
print('D %d' % synced, flush=True)
'''

NAMER = r'''
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
fails = 0
for i in range(n):
    a, b = os.path.join(d, 'tmp-%d' % i), os.path.join(d, 'file-%d' % i)
    try:
        with open(a, 'x') as fh:
            fh.write(str(i))
    except OSError as e:
        print('E %d %d' % (i, e.errno), flush=True)
        fails += 1
        if fails > 100:
            break
        time.sleep(0.05)
        continue
    print('C %d' % i, flush=True)
    try:
        os.rename(a, b)
    except OSError as e:
        print('X %d %d' % (i, e.errno), flush=True)
        fails += 1
        if fails > 100:
            break
        time.sleep(0.05)
        continue
    print('R %d' % i, flush=True)
print('D', flush=True)
'''

UNLINKER = r'''
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
fails = i = 0
while i < n:
    try:
        os.unlink(os.path.join(d, 'f-%d' % i))
    except FileNotFoundError:
        # a resend after the restart, or a retry: the first one was executed
        print('G %d' % i, flush=True)
        i += 1
        continue
    except OSError as e:
        # in doubt: try the same name again
        print('X %d %d' % (i, e.errno), flush=True)
        fails += 1
        if fails > 100:
            break
        time.sleep(0.05)
        continue
    print('U %d' % i, flush=True)
    i += 1
print('D', flush=True)
'''


def pattern(i):
    """Deterministic, distinct content for chunk i (as WRITER makes it)."""
    seed = hashlib.sha256(b'chunk-%d' % i).digest()
    return (seed * (CHUNK // len(seed) + 1))[:CHUNK]


class Child:
    """A python child whose stdout lines are collected by a thread."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen([sys.executable, '-c', script] + list(args),
                                     stdout=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL)
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.split())

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.t.join(5)
        return rc

    def last(self, kind):
        for l in reversed(self.lines):
            if l[0] == kind:
                return l
        return None


class OssCrashTests(EngineCase):

    def test_kill9_oss_keeps_fsynced_bytes(self):
        f = self.path('victim')
        set_layout(f, 4, 64 * KiB)     # every OST, so the dead OSS holds stripes
        oss = self.engine.oss[0]
        w = Child(WRITER, f, str(NCHUNKS), str(CHUNK))

        def synced():
            s = w.last('S')
            return int(s[1]) if s else 0

        deadline = time.monotonic() + 20
        while synced() < 16 and time.monotonic() < deadline and w.proc.poll() is None:
            time.sleep(0.01)
        self.assertGreaterEqual(synced(), 16, 'writer made no progress: %r' % w.lines[-5:])
        oss.kill9()
        synced_at_kill = synced()
        time.sleep(0.5)
        t0 = time.monotonic()
        oss.restart()
        self.assertLess(time.monotonic() - t0, 10, 'restarting the OSS took too long')
        rc = w.wait(120)
        self.assertEqual(rc, 0, 'writer failed after the OSS restart: %r\n%s' %
                         (w.lines[-5:], self.engine.logs()))
        done = w.last('D')
        self.assertEqual(int(done[1]), NCHUNKS)
        self.assertGreater(NCHUNKS, synced_at_kill)

        # Read through a fresh mount: every fsync'd chunk is intact.
        mnt = self.engine.mount('after-oss')
        with open(os.path.join(mnt, 'victim'), 'rb') as fh:
            for i in range(NCHUNKS):
                fh.seek(i * CHUNK)
                got = fh.read(CHUNK)
                want = pattern(i)
                if got != want:
                    bad = [j for j in range(0, CHUNK, 4096)
                           if got[j:j + 4096] != want[j:j + 4096]]
                    zero = all(got[j:j + 4096] == bytes(len(got[j:j + 4096]))
                               for j in bad)
                    self.fail('chunk %d of %d fsync\'d chunks differs after OSS '
                              'kill -9: %d bytes read, %d of 64 4-KiB blocks '
                              'differ (first at %d), all zeros: %s; killed at '
                              'chunk %d; writer errors %r' % (
                                  i, NCHUNKS, len(got), len(bad),
                                  bad[0] if bad else -1, zero, synced_at_kill,
                                  [l for l in w.lines if l[0] == 'E'][:5]))
        # and the file system serves new writes on every OST again
        g = os.path.join(mnt, 'after')
        set_layout(g, 4, 64 * KiB)
        data = os.urandom(MiB)
        with open(g, 'r+b') as fh:
            fh.write(data)
        with open(g, 'rb') as fh:
            self.assertEqual(fh.read(), data)
        self.assertEqual(len(get_layout(g)['ents']), 4)


STATTER = r'''
import os, sys, time
path, go = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
os.write(fd, b'a' * 10000)
print('W', os.fstat(fd).st_size, flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
for i in range(5):
    os.write(fd, bytes([98 + i]) * 10000)
    time.sleep(0.05)
    print('S', os.fstat(fd).st_size, os.lseek(fd, 0, os.SEEK_END), flush=True)
os.close(fd)
print('D', flush=True)
'''


class MdsCrashTests(EngineCase):

    def test_kill9_mds_while_a_file_is_written_and_stated(self):
        """A file open for write across a kill -9 of the MDS, and stat'ed
        after each write: the restarted MDS knows no open handle, leased
        its attributes to the writer's mount, and that mount answered
        the next stats from the lease; the size it said was the one before
        the writes, the kernel cut its own to it, and the file closed at
        30,000 bytes of 60,000 written. The writer's mount answers for a
        file it writes, whatever the MDS leases."""
        p = self.path('stated')
        go = os.path.join(self.engine.dir, 'stated.go')
        w = Child(STATTER, p, go)
        wait_for(lambda: w.last('W'), 20, 'the first write', w.proc)
        self.engine.mds.kill9()
        self.engine.mds.restart()
        open(go, 'w').close()
        self.assertEqual(w.wait(120), 0, w.lines)
        sizes = [(int(l[1]), int(l[2])) for l in w.lines if l[0] == 'S']
        self.assertEqual(sizes, [(20000 + i * 10000,) * 2 for i in range(5)])
        mnt = self.engine.mount('after-stated')
        with open(os.path.join(mnt, 'stated'), 'rb') as f:
            data = f.read()
        self.assertEqual(data, b'a' * 10000 + b''.join(bytes([98 + i]) * 10000
                                                      for i in range(5)))


    def test_kill9_mds_keeps_acknowledged_changes(self):
        d = self.path('ns')
        os.mkdir(d)
        n = 3000
        w = Child(NAMER, d, str(n))

        def renamed():
            r = w.last('R')
            return int(r[1]) + 1 if r else 0

        deadline = time.monotonic() + 20
        while renamed() < 200 and time.monotonic() < deadline and w.proc.poll() is None:
            time.sleep(0.01)
        self.assertGreaterEqual(renamed(), 200, 'no progress before the kill: %r' %
                                w.lines[-5:])
        self.engine.mds.kill9()
        n_at_kill = renamed()
        time.sleep(0.3)
        self.engine.mds.restart()
        rc = w.wait(180)
        self.assertEqual(rc, 0, 'worker failed: %r' % w.lines[-5:])
        self.assertGreater(renamed(), n_at_kill, 'no progress after the MDS restart')

        # What each acknowledgement promises.
        acked, either = {}, []
        for l in w.lines:
            if l[0] == 'C':
                acked['tmp-%s' % l[1]] = l[1]
            elif l[0] == 'R':
                acked.pop('tmp-%s' % l[1], None)
                acked['file-%s' % l[1]] = l[1]
            elif l[0] == 'X':
                # An error leaves it open whether the rename happened.
                acked.pop('tmp-%s' % l[1], None)
                either.append(l[1])

        mnt = self.engine.mount('after-mds')
        names = set(os.listdir(os.path.join(mnt, 'ns')))
        missing = [k for k in acked if k not in names]
        self.assertEqual(missing, [], 'acknowledged names lost after MDS kill -9')
        for k, content in acked.items():
            with open(os.path.join(mnt, 'ns', k)) as fh:
                self.assertEqual(fh.read(), content, k)
        for i in either:
            self.assertEqual(('tmp-%s' % i in names) + ('file-%s' % i in names), 1,
                             'rename %s half done' % i)
        # renamed files are not also under their old name
        both = [k for k in names if k.startswith('file-') and
                'tmp-' + k[5:] in names]
        self.assertEqual(both, [])

    def test_kill9_mds_keeps_acknowledged_unlinks(self):
        """An unlink acknowledged before a kill -9 of the MDS stays done
        after its restart: the name is gone, and the objects of the file
        are destroyed from the queue the unlink committed with it; files
        never unlinked keep theirs."""
        d = self.path('ul')
        os.mkdir(d)
        set_layout(d, 4, 64 * KiB)
        n = 1500
        objs = {}
        for i in range(n):
            p = os.path.join(d, 'f-%d' % i)
            with open(p, 'wb') as fh:
                if i % 50 == 0:     # some with data on every OST
                    fh.write(b'u' * (256 * KiB))
            if i % 50 == 0:
                objs[i] = [self.engine.object_path(o, oid)
                           for o, oid in get_layout(p)['ents']]
        keep = n - 100      # the last 100 are never unlinked
        w = Child(UNLINKER, d, str(keep))

        def unlinked():
            return sum(1 for l in w.lines if l[0] in ('U', 'G'))

        deadline = time.monotonic() + 20
        while unlinked() < 200 and time.monotonic() < deadline and \
                w.proc.poll() is None:
            time.sleep(0.01)
        self.assertGreaterEqual(unlinked(), 200, 'no progress before the kill')
        self.engine.mds.kill9()
        at_kill = unlinked()
        time.sleep(0.3)
        self.engine.mds.restart()
        rc = w.wait(180)
        self.assertEqual(rc, 0, 'worker failed: %r' % w.lines[-5:])
        self.assertGreater(unlinked(), at_kill, 'no progress after the restart')
        self.assertEqual(w.lines[-1], ['D'])

        acked = {int(l[1]) for l in w.lines if l[0] == 'U'}
        mnt = self.engine.mount('after-unlinks')
        names = set(os.listdir(os.path.join(mnt, 'ul')))
        back = sorted(i for i in acked if 'f-%d' % i in names)
        self.assertEqual(back, [], 'acknowledged unlinks undone by kill -9')
        self.assertEqual(names, {'f-%d' % i for i in range(keep, n)})
        gone = [o for i, os_ in objs.items() if i < keep for o in os_]
        kept = [o for i, os_ in objs.items() if i >= keep for o in os_]
        self.assertTrue(gone and kept)
        wait_for(lambda: not any(os.path.exists(o) for o in gone), 20,
                 'objects of unlinked files destroyed after the restart')
        self.assertTrue(all(os.path.exists(o) for o in kept),
                        'an object of a file never unlinked was destroyed')
