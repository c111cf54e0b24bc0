"""Two mounts of one file system, coherent as Lustre promises
(docs/leases.md): O_APPEND atomic across mounts, names and attributes
revoked before a change is acknowledged, cluster-wide flock and POSIX
locks, eviction of clients that stop answering.

coh-1.*  O_APPEND records from both mounts never interleave
coh-2.*  names: a name removed on one mount is gone on the other at once
coh-3.*  leases: size, mtime, mode, contents seen at once elsewhere
coh-4.*  locks: flock and fcntl locks exclude across mounts
coh-5.*  failures: a killed or stopped client loses its locks and leases
coh-6.*  the protocol itself, on raw connections: REVOKE before the reply,
         eviction of a silent session, -ESTALE for its id
coh-7.*  giving leases back: a session near its cap gets its oldest
         revoked, and what a mount keeps stays coherent and cached
coh-8.*  delegated directories: unlinks acknowledged before the MDS makes
         them, and recalled before anyone else looks (docs/leases.md)
"""
import errno
import fcntl
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time

from .engine import (EngineCase, TwoMountCase, Client, OP_STATS, MiB,
                     MSG_F_REPLY, frame, fsync_dir, recv_frame)


# Appends n records of `size` bytes; with "aligned", from a page-aligned
# buffer (an mmap), else from wherever Python's bytes object lies.
APPENDER = r'''
import mmap, os, sys
path, tag, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
aligned = len(sys.argv) > 5
fd = os.open(path, os.O_WRONLY | os.O_APPEND)
buf = mmap.mmap(-1, size) if aligned else None
for i in range(n):
    head = ('<%s %06d ' % (tag, i)).encode()
    rec = head + tag.encode() * (size - len(head) - 2) + b'>\n'
    assert len(rec) == size
    if aligned:
        buf[:] = rec
        rec = buf
    assert os.write(fd, rec) == size
os.close(fd)
'''


def run_py(code, *args):
    return subprocess.Popen([sys.executable, '-c', code] + [str(a) for a in args])


# Holds locks on a file until killed: flock(EX) on one descriptor, a
# POSIX write lock on [0, 100) on another; prints "locked" when it has them.
LOCKER = r'''
import fcntl, os, sys, time
fd1 = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd1, fcntl.LOCK_EX)
fd2 = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd2, fcntl.LOCK_EX, 100, 0)
print('locked', flush=True)
time.sleep(600)
'''

# Blocks for a lock: flock or lockf, prints the time it got it.
WAITER = r'''
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
if sys.argv[2] == 'flock':
    fcntl.flock(fd, fcntl.LOCK_EX)
else:
    fcntl.lockf(fd, fcntl.LOCK_EX, int(sys.argv[4]), int(sys.argv[3]))
print('got', time.monotonic(), flush=True)
'''


def server_stats(engine, srv):
    """A server's STATS counters as a dict."""
    c = Client(srv.port, engine.secret)
    try:
        h, _, bulk = c.call(OP_STATS)
    finally:
        c.close()
    out = {}
    for line in bulk.decode().splitlines():
        k, _, v = line.partition(' ')
        out[k] = int(v)
    return out


def mds_stats(engine):
    return server_stats(engine, engine.mds)


class CoherenceTests(TwoMountCase):

    def check_records(self, path, size, want):
        with open(path, 'rb') as f:
            data = f.read()
        self.assertEqual(len(data) % size, 0, 'file length %d' % len(data))
        torn = 0
        seen = {}
        for off in range(0, len(data), size):
            rec = data[off:off + size]
            ok = rec.startswith(b'<') and rec.endswith(b'>\n')
            if ok:
                tag = rec[1:2].decode()
                body = rec[10:-2]
                ok = body == tag.encode() * len(body)
                seen[tag] = seen.get(tag, 0) + 1
            torn += not ok
        self.assertEqual(torn, 0, '%d torn records' % torn)
        self.assertEqual(seen, want)

    # coh-1.1: ~140-byte records, 2 x 3000 of them; before the fix the
    # kernel split writes at page boundaries and ~1-3% were torn.
    def test_append_small_records_atomic(self):
        path = 'app-small'
        open(self.p1(path), 'wb').close()
        a = run_py(APPENDER, self.p1(path), 'A', 3000, 141)
        b = run_py(APPENDER, self.p2(path), 'B', 3000, 141)
        self.assertEqual(a.wait(120), 0)
        self.assertEqual(b.wait(120), 0)
        self.check_records(self.p1(path), 141, {'A': 3000, 'B': 3000})

    # coh-1.2: large appends are one record each: 1 MiB - 4 KiB from any
    # buffer (at most 256 pages, libfuse's max_pages), 1 MiB from a
    # page-aligned one
    def test_append_1mib_records_atomic(self):
        # app-1m-u: 1 MiB from a buffer that is not page-aligned reaches
        # the client as two writes (libfuse's 256 pages); it was torn
        for path, size, extra in (('app-big', MiB - 4096, ()),
                                  ('app-1m', MiB, ('aligned',)),
                                  ('app-1m-u', MiB, ())):
            open(self.p1(path), 'wb').close()
            a = run_py(APPENDER, self.p1(path), 'A', 40, size, *extra)
            b = run_py(APPENDER, self.p2(path), 'B', 40, size, *extra)
            self.assertEqual(a.wait(120), 0)
            self.assertEqual(b.wait(120), 0)
            self.check_records(self.p2(path), size, {'A': 40, 'B': 40})

    # coh-2.1: a name removed on one mount is gone on the other at once:
    # stat says ENOENT and O_CREAT makes a new file (it used to fail with
    # ENOENT for up to the 1 s entry timeout).
    def test_unlinked_name_gone_elsewhere_at_once(self):
        os.mkdir(self.p1('names'))
        for i in range(100):
            f = self.p1('names', 'x')
            with open(f, 'w') as fp:
                fp.write('v%d' % i)
            self.assertEqual(os.stat(self.p2('names', 'x')).st_size,
                             len('v%d' % i))
            os.unlink(f)
            with self.assertRaises(FileNotFoundError, msg='round %d' % i):
                os.stat(self.p2('names', 'x'))
            fd = os.open(self.p2('names', 'x'), os.O_CREAT | os.O_WRONLY, 0o644)
            os.close(fd)
            os.unlink(self.p2('names', 'x'))
            self.assertFalse(os.path.exists(self.p1('names', 'x')))

    # coh-2.2: renames and new names are seen at once
    def test_rename_seen_elsewhere_at_once(self):
        os.mkdir(self.p1('ren'))
        with open(self.p1('ren', 'a'), 'w') as f:
            f.write('a')
        self.assertTrue(os.path.exists(self.p2('ren', 'a')))
        self.assertFalse(os.path.exists(self.p2('ren', 'b')))
        os.rename(self.p1('ren', 'a'), self.p1('ren', 'b'))
        self.assertFalse(os.path.exists(self.p2('ren', 'a')))
        with open(self.p2('ren', 'b')) as f:
            self.assertEqual(f.read(), 'a')

    # coh-2.3: the renamer's own view of the new name follows later changes
    # by another mount: the kernel moves the old name's dentry (and its
    # long timeout) to the new name, which no lease of the renamer covered,
    # so an unlink or replace of it elsewhere went unseen for an hour
    def test_renamed_name_follows_changes_elsewhere(self):
        os.mkdir(self.p2('ren2'))     # made elsewhere: mount 1 knows names one by one
        for i in range(20):
            a, b = 'a%d' % i, 'b%d' % i
            with open(self.p1('ren2', a), 'w') as f:
                f.write('old')
            os.stat(self.p1('ren2', a))          # cached on mount 1
            os.rename(self.p1('ren2', a), self.p1('ren2', b))
            self.assertEqual(os.stat(self.p1('ren2', b)).st_size, 3)
            self.assertEqual(os.stat(self.p2('ren2', b)).st_size, 3)
            # a change of the file's attributes elsewhere ends mount 1's
            # lease on the inode; only its dentry is left
            os.chmod(self.p2('ren2', b), 0o600 | (i % 8))
            if i % 3 == 2:
                os.rename(self.p2('ren2', b), self.p2('ren2', 'c%d' % i))
                self.assertFalse(os.path.exists(self.p1('ren2', b)),
                                 'round %d' % i)
                with open(self.p1('ren2', 'c%d' % i)) as f:
                    self.assertEqual(f.read(), 'old')
            elif i % 3 == 0:
                os.unlink(self.p2('ren2', b))
                with self.assertRaises(FileNotFoundError, msg='round %d' % i):
                    os.stat(self.p1('ren2', b))
                fd = os.open(self.p1('ren2', b),
                             os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                os.close(fd)
            else:
                with open(self.p2('ren2', 'new'), 'w') as f:
                    f.write('newer')
                os.rename(self.p2('ren2', 'new'), self.p2('ren2', b))
                with open(self.p1('ren2', b)) as f:
                    self.assertEqual(f.read(), 'newer', 'round %d' % i)

    # coh-3.1: size, mtime, mode and contents changed on one mount are
    # seen at once on the other, which had them cached under a lease
    def test_changes_seen_at_once(self):
        path1, path2 = self.p1('attrs'), self.p2('attrs')
        with open(path1, 'wb') as f:
            f.write(b'1' * 5000)
        for rnd in range(20):
            st = os.stat(path2)
            with open(path2, 'rb') as f:
                old = f.read()
            self.assertEqual(len(old), st.st_size)
            data = bytes([65 + rnd]) * (6000 + rnd * 777)
            with open(path1, 'wb') as f:
                f.write(data)
            self.assertEqual(os.stat(path2).st_size, len(data), 'round %d' % rnd)
            with open(path2, 'rb') as f:
                self.assertEqual(f.read(), data, 'contents, round %d' % rnd)
            os.chmod(path1, 0o600 + rnd % 8)
            self.assertEqual(os.stat(path2).st_mode & 0o777, 0o600 + rnd % 8)
            os.utime(path1, (1000 + rnd, 2000 + rnd))
            self.assertEqual(os.stat(path2).st_mtime, 2000 + rnd)

    # coh-3.2: under a lease, stat of an unchanged file and re-reads of
    # unchanged data cost no MDS or OSS round trip
    def test_unchanged_stat_and_reread_are_cached(self):
        path2 = self.p2('cached')
        data = os.urandom(256 * 1024)
        with open(self.p1('cached'), 'wb') as f:
            f.write(data)
        time.sleep(0.5)     # the writer's close reaches the MDS after close(2)
        os.stat(path2)
        # the first read moves atime (relatime) at its close, which the
        # kernel does not wait for, and that change replaces what this
        # mount cached (its CLOSE reply says so: MSG_ATTR_CHANGED): let
        # it land before the second read caches again
        for _ in range(2):
            with open(path2, 'rb') as f:
                self.assertEqual(f.read(), data)
            self.wait_mds_quiet()
        os.stat(path2)
        before = mds_stats(self.engine)
        oss_before = self.oss_reads()
        for _ in range(200):
            os.stat(path2)
        with open(path2, 'rb') as f:
            self.assertEqual(f.read(), data)
        after = mds_stats(self.engine)
        self.assertEqual(after['mds_op_getattr'], before['mds_op_getattr'])
        self.assertEqual(after['mds_op_lookup'], before['mds_op_lookup'])
        self.assertEqual(self.oss_reads(), oss_before, 'a re-read went to an OSS')
        self.assertGreater(after['mds_leases'], 0)

    def wait_mds_quiet(self, quiet=0.5, limit=10.0):
        """Wait until the MDS has seen no request for `quiet` seconds: the
        CLOSE of a read (and its atime) lands after close(2) returns, later
        still on a loaded machine."""
        deadline = time.time() + limit
        last = mds_stats(self.engine)
        since = time.time()
        while time.time() < deadline:
            time.sleep(0.1)
            now = mds_stats(self.engine)
            ops = {k: v for k, v in now.items() if k.startswith('mds_op_')}
            if ops != {k: v for k, v in last.items() if k.startswith('mds_op_')}:
                last, since = now, time.time()
            elif time.time() - since >= quiet:
                return

    def oss_reads(self):
        """Object reads: those the OSSes served and those the second mount
        made itself from the objects' files (local reads, fsc_local.c)."""
        return (sum(server_stats(self.engine, srv)['oss_reads']
                    for srv in self.engine.oss) +
                self.engine.mounts[1].counters().get('local_reads', 0))

    # coh-4.1: flock taken on one mount stops the other; a blocked flock
    # is granted when the holder lets go
    def test_flock_across_mounts(self):
        open(self.p1('fl'), 'w').close()
        fd1 = os.open(self.p1('fl'), os.O_RDWR)
        fd2 = os.open(self.p2('fl'), os.O_RDWR)
        try:
            fcntl.flock(fd1, fcntl.LOCK_EX)
            with self.assertRaises(BlockingIOError):
                fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with self.assertRaises(BlockingIOError):
                fcntl.flock(fd2, fcntl.LOCK_SH | fcntl.LOCK_NB)
            w = subprocess.Popen([sys.executable, '-c', WAITER,
                                  self.p2('fl'), 'flock'],
                                 stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            self.assertIsNone(w.poll(), 'the waiter did not wait')
            t0 = time.monotonic()
            fcntl.flock(fd1, fcntl.LOCK_UN)
            out, _ = w.communicate(timeout=10)
            self.assertEqual(w.returncode, 0)
            self.assertLess(float(out.split()[1]) - t0, 2.0)
            # shared locks share
            fcntl.flock(fd1, fcntl.LOCK_SH)
            fcntl.flock(fd2, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(fd1)
            os.close(fd2)
        # the last close released them
        fd2 = os.open(self.p2('fl'), os.O_RDWR)
        try:
            fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd2)

    # coh-4.2: POSIX byte-range locks across mounts: conflicts by range,
    # F_GETLK names the holder's range, EDEADLK for a cross-mount cycle
    def test_posix_locks_across_mounts(self):
        with open(self.p1('pl'), 'wb') as f:
            f.write(b'x' * 4096)
        fd1 = os.open(self.p1('pl'), os.O_RDWR)
        fd2 = os.open(self.p2('pl'), os.O_RDWR)
        try:
            fcntl.lockf(fd1, fcntl.LOCK_EX, 100, 0)          # [0, 100)
            with self.assertRaises(OSError):
                fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 50)
            with self.assertRaises(OSError):
                fcntl.lockf(fd2, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 99)
            fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 100)  # [100, 200)
            # F_GETLK from mount 2 sees mount 1's lock
            q = struct.pack('hhqqi', fcntl.F_WRLCK, os.SEEK_SET, 0, 10, 0)
            r = fcntl.fcntl(fd2, fcntl.F_GETLK, q)
            typ, _, start, length, _ = struct.unpack('hhqqi', r)
            self.assertEqual((typ, start, length), (fcntl.F_WRLCK, 0, 100))
            # unlocking the middle splits mount 1's lock
            fcntl.lockf(fd1, fcntl.LOCK_UN, 20, 40)
            fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 20, 40)
            with self.assertRaises(OSError):
                fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 39)
            # a cycle: mount 2's process waits for [0, 20) held by mount 1,
            # mount 1 then asking for [100, 200) held by mount 2 would close it
            w = subprocess.Popen([sys.executable, '-c', WAITER,
                                  self.p2('pl'), 'lockf', '0', '20'],
                                 stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            self.assertIsNone(w.poll())
        finally:
            os.close(fd2)       # mount 2 lets go of [20,60) and [100,200)
        try:
            # the waiter is another owner; mount 1 may now wait for
            # [100, 200) without a cycle: it is free
            fcntl.lockf(fd1, fcntl.LOCK_EX, 100, 100)
            fcntl.lockf(fd1, fcntl.LOCK_UN, 0, 0)
            out, _ = w.communicate(timeout=10)
            self.assertEqual(w.returncode, 0)
        finally:
            os.close(fd1)

    def test_posix_deadlock_across_mounts(self):
        with open(self.p1('dl'), 'wb') as f:
            f.write(b'x' * 10)
        fd1 = os.open(self.p1('dl'), os.O_RDWR)
        hold = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 1, 1)
print('held', flush=True)
sys.stdin.readline()
try:
    fcntl.lockf(fd, fcntl.LOCK_EX, 1, 0)
    print('got', flush=True)
except OSError as e:
    print('err', e.errno, flush=True)
"""
        p = subprocess.Popen([sys.executable, '-c', hold, self.p2('dl')],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        try:
            self.assertEqual(p.stdout.readline().strip(), 'held')
            fcntl.lockf(fd1, fcntl.LOCK_EX, 1, 0)        # byte 0 here
            p.stdin.write('\n')
            p.stdin.flush()
            time.sleep(0.5)     # mount 2's process now waits for byte 0
            import errno
            with self.assertRaises(OSError) as cm:
                fcntl.lockf(fd1, fcntl.LOCK_EX, 1, 1)   # byte 1: a cycle
            self.assertEqual(cm.exception.errno, errno.EDEADLK)
            fcntl.lockf(fd1, fcntl.LOCK_UN, 1, 0)
            self.assertEqual(p.stdout.readline().strip(), 'got')
        finally:
            p.kill()
            p.wait()
            os.close(fd1)

    def extra_mount(self, name):
        mnt = self.engine.mount(name)
        m = self.engine.mounts[-1]
        self.addCleanup(self.drop_mount, m)
        return mnt, m

    def drop_mount(self, m):
        try:
            os.kill(m.proc.pid, signal.SIGCONT)
        except OSError:
            pass
        subprocess.run(['umount', '-l', m.mnt], capture_output=True)
        if m.proc.poll() is None:
            m.proc.kill()
            m.proc.wait()
        self.engine.mounts.remove(m)

    # coh-5.1: a client killed with kill -9 while holding locks and
    # leases: the other mount gets the locks at once
    def test_killed_client_loses_locks(self):
        mnt3, m3 = self.extra_mount('mnt3')
        with open(self.p1('k9'), 'wb') as f:
            f.write(b'k' * 1000)
        os.stat(os.path.join(mnt3, 'k9'))
        holder = subprocess.Popen([sys.executable, '-c', LOCKER,
                                   os.path.join(mnt3, 'k9')],
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        self.assertEqual(holder.stdout.readline().strip(), 'locked')
        fd = os.open(self.p1('k9'), os.O_RDWR)
        try:
            with self.assertRaises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with self.assertRaises(OSError):
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
            m3.proc.kill()
            m3.proc.wait()
            t0 = time.monotonic()
            fcntl.flock(fd, fcntl.LOCK_EX)              # waits if need be
            fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)
            self.assertLess(time.monotonic() - t0, 3.0)
            # and a change is not held up by the dead client's lease
            t0 = time.monotonic()
            os.chmod(self.p1('k9'), 0o640)
            self.assertLess(time.monotonic() - t0, 1.0)
        finally:
            os.close(fd)

    # coh-5.2: a client that stops answering (SIGSTOP) is evicted within
    # the revoke timeout; the change goes through, the lock is freed, and
    # once it runs again it sees the change
    def test_stopped_client_is_evicted(self):
        mnt3, m3 = self.extra_mount('mnt4')
        p3 = os.path.join(mnt3, 'stopped')
        with open(self.p1('stopped'), 'wb') as f:
            f.write(b's' * 100)
        holder = subprocess.Popen([sys.executable, '-c', LOCKER, p3],
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        self.assertEqual(holder.stdout.readline().strip(), 'locked')
        self.assertEqual(os.stat(p3).st_mode & 0o777, 0o644)
        before = mds_stats(self.engine)
        os.kill(m3.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            os.chmod(self.p1('stopped'), 0o600)
            took = time.monotonic() - t0
            self.assertLess(took, 4.0)
            self.assertGreater(took, 1.0, 'no revocation waited for mount 4')
            self.assertEqual(mds_stats(self.engine)['mds_evictions'],
                             before['mds_evictions'] + 1)
            fd = os.open(self.p1('stopped'), os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
            finally:
                os.close(fd)
        finally:
            os.kill(m3.proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + 5
        while (os.stat(p3).st_mode & 0o777 != 0o600 and
               time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual(os.stat(p3).st_mode & 0o777, 0o600)
        # and it works again, with a new session
        with open(p3, 'rb') as f:
            self.assertEqual(f.read(), b's' * 100)

    def test_stopped_lock_holder_is_evicted(self):
        """coh-2.7: a client that holds only locks (nothing another
        mount's change revokes) and stops answering (SIGSTOP) kept them
        for ever, and waiters waited for ever. A conflict now pings the
        holder; silence for --revoke-ms evicts it and frees its locks."""
        mnt3, m3 = self.extra_mount('mnt5')
        p3 = os.path.join(mnt3, 'lock-only')
        with open(self.p1('lock-only'), 'wb') as f:
            f.write(b'l' * 100)
        time.sleep(0.3)     # the writer's close reaches the MDS
        holder = subprocess.Popen([sys.executable, '-c', LOCKER, p3],
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        self.assertEqual(holder.stdout.readline().strip(), 'locked')
        before = mds_stats(self.engine)
        os.kill(m3.proc.pid, signal.SIGSTOP)
        try:
            # read-only: nothing mount 5 holds is revoked by this open
            fd = os.open(self.p1('lock-only'), os.O_RDONLY)
            with self.assertRaises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # waits for the eviction (in a thread: without it, for ever)
            got = threading.Thread(target=fcntl.flock,
                                   args=(fd, fcntl.LOCK_EX), daemon=True)
            got.start()
            got.join(8.0)
            self.assertFalse(got.is_alive(), 'the stopped holder kept it')
            os.close(fd)
            self.assertEqual(mds_stats(self.engine)['mds_evictions'],
                             before['mds_evictions'] + 1)
        finally:
            os.kill(m3.proc.pid, signal.SIGCONT)

    def test_live_lock_holder_is_not_evicted(self):
        """coh-2.8: the ping of a holder that answers costs it nothing:
        its lock stays and a waiter gets EAGAIN."""
        with open(self.p1('lock-live'), 'wb') as f:
            f.write(b'l')
        holder = subprocess.Popen([sys.executable, '-c', LOCKER,
                                   self.p2('lock-live')],
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        self.assertEqual(holder.stdout.readline().strip(), 'locked')
        before = mds_stats(self.engine)
        fd = os.open(self.p1('lock-live'), os.O_RDONLY)
        try:
            for _ in range(5):
                with self.assertRaises(BlockingIOError):
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                time.sleep(0.7)
        finally:
            os.close(fd)
        self.assertEqual(mds_stats(self.engine)['mds_evictions'],
                         before['mds_evictions'])

    # coh-3.4: a stream of changes on one mount, each seen on the other at
    # once (each stat there is of attributes it holds under a lease)
    def test_chmod_stream_seen_at_once(self):
        path1, path2 = self.p1('stream'), self.p2('stream')
        open(path1, 'w').close()
        for i in range(300):
            mode = 0o600 | (i % 64)
            os.chmod(path1, mode)
            self.assertEqual(os.stat(path2).st_mode & 0o777, mode,
                             'change %d' % i)

    # coh-3.3: what the MDS sets at a close (atime by relatime, a writer's
    # size and mtime) reaches the closer's own kernel too, though it had
    # the attributes under a lease
    def test_close_changes_reach_own_mount(self):
        path = self.p1('own')
        with open(path, 'wb') as f:
            f.write(b'o' * 3000)
        os.utime(path, (1000, 2000))
        self.assertEqual(os.stat(path).st_atime, 1000)   # leased now
        with open(path, 'rb') as f:
            f.read()
        deadline = time.monotonic() + 3
        while os.stat(path).st_atime == 1000 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreater(os.stat(path).st_atime, time.time() - 60)
        self.assertEqual(os.stat(path).st_mtime, 2000)


OP_GETATTR, OP_MKNOD = 42, 45
OP_SESSION, OP_REVOKE, OP_LOCK = 65, 66, 67
SESS_CALLBACK = 1
LEASE_ATTR = 1
RV_ATTR, RV_ENTRY = 1, 2
ATTR_LEASE_OFF = 108            # msg_attr.lease
ESTALE = errno.ESTALE


class WireCase(EngineCase):
    """Sessions and requests on raw protocol connections to the MDS."""
    mount_at_start = False

    def session(self, client, flags=0):
        c = Client(self.engine.mds.port, self.engine.secret)
        h, body, _ = c.call(OP_SESSION, struct.pack('<QII', client, flags, 0))
        return c, h[4]

    def getattr_lease(self, c, ino=1):
        rbody, _ = c.checked(OP_GETATTR, struct.pack('<QII', ino, 0, 0))
        return struct.unpack_from('<I', rbody, ATTR_LEASE_OFF)[0]

    def mkdir_async(self, name, parent=1):
        """MKNOD(dir) in parent (the root) from a client without a
        session, in a thread; returns (thread, result dict)."""
        res = {}

        def run():
            c = Client(self.engine.mds.port, self.engine.secret)
            try:
                nm = name.encode()
                body = struct.pack('<QIIIIQII', parent, 0, 0, 0o40755, 0,
                                   0, len(nm), 0) + nm
                t0 = time.monotonic()
                h, _, _ = c.call(OP_MKNOD, body)
                res['status'] = h[4]
                res['took'] = time.monotonic() - t0
            finally:
                c.close()
        t = threading.Thread(target=run)
        t.start()
        return t, res

    def expect_revoke(self, cb, ino):
        """The next frame on cb revokes ino's attributes; its reqid."""
        h, body, _ = recv_frame(cb.sock)
        self.assertEqual(h[2], OP_REVOKE)
        self.assertFalse(h[3] & MSG_F_REPLY)
        self.assertEqual(struct.unpack_from('<QQII', body)[:3:2],
                         (ino, RV_ATTR))
        return h[5]

    def answer(self, cb, reqid):
        cb.sock.sendall(frame(OP_REVOKE, flags=MSG_F_REPLY, reqid=reqid))


class LeaseWireTests(WireCase):
    """coh-6.*: sessions and revocations on raw protocol connections."""

    # coh-6.1: a change waits for the holder's answer to REVOKE
    def test_revoke_answered_before_reply(self):
        cb, st = self.session(0x1111, SESS_CALLBACK)
        self.assertEqual(st, 0)
        rq, st = self.session(0x1111)
        self.assertEqual(st, 0)
        try:
            self.assertEqual(self.getattr_lease(rq) & LEASE_ATTR, LEASE_ATTR)
            t, res = self.mkdir_async('w1')
            cb.sock.settimeout(5)
            reqid = self.expect_revoke(cb, 1)
            time.sleep(0.3)
            self.assertNotIn('status', res, 'the change was acked before '
                             'the holder answered')
            self.answer(cb, reqid)
            t.join(5)
            self.assertEqual(res['status'], 0)
            self.assertLess(res['took'], 1.5)
            # the lease is gone: a second change sends nothing
            t, res = self.mkdir_async('w2')
            t.join(5)
            self.assertEqual(res['status'], 0)
            self.assertLess(res['took'], 0.5)
        finally:
            cb.close()
            rq.close()

    # coh-6.2: a silent holder is evicted after the revoke timeout; its
    # connections are closed and its id is refused with -ESTALE
    def test_silent_session_evicted(self):
        cb, _ = self.session(0x2222, SESS_CALLBACK)
        rq, _ = self.session(0x2222)
        try:
            self.assertEqual(self.getattr_lease(rq) & LEASE_ATTR, LEASE_ATTR)
            t, res = self.mkdir_async('e1')
            t.join(10)
            self.assertEqual(res['status'], 0)
            self.assertGreater(res['took'], 1.5)
            self.assertLess(res['took'], 4.0)
            # its connections were shut down
            rq.sock.settimeout(5)
            with self.assertRaises((ConnectionError, OSError, ValueError)):
                h, _, _ = rq.call(OP_GETATTR, struct.pack('<QII', 1, 0, 0))
                if h[4] == -ESTALE:
                    raise ConnectionError('ESTALE')
            again, st = self.session(0x2222)
            again.close()
            self.assertEqual(st, -ESTALE)
            fresh, st = self.session(0x3333)
            fresh.close()
            self.assertEqual(st, 0)
        finally:
            cb.close()
            rq.close()



class LeaseShedWireTests(WireCase):
    """coh-7.1, 7.2: a session near --lease-max is sent REVOKEs for its
    oldest leases (invariant 6 of mds_lease.h), on raw connections."""
    mds_args = ('--lease-max', '64')     # gives back from 56

    def test_oldest_given_back_and_leaving_still_revoked(self):
        # 80 directories made by a client without a session
        mk = Client(self.engine.mds.port, self.engine.secret)
        inos = []
        try:
            for i in range(80):
                nm = b'g%02d' % i
                rbody, _ = mk.checked(OP_MKNOD, struct.pack(
                    '<QIIIIQII', 1, 0, 0, 0o40755, 0, 0, len(nm), 0) + nm)
                inos.append(struct.unpack_from('<Q', rbody)[0])
        finally:
            mk.close()
        before = mds_stats(self.engine)
        cb, _ = self.session(0x4444, SESS_CALLBACK)
        rq, _ = self.session(0x4444)
        try:
            got = [self.getattr_lease(rq, ino) & LEASE_ATTR for ino in inos]
            # the 56th grant gives back the 55 before it; the cap (64,
            # leaving ones count) refuses the last 16 until answers come
            self.assertEqual(got, [LEASE_ATTR] * 64 + [0] * 16)
            cb.sock.settimeout(5)
            shed = []
            for _ in range(55):
                h, body, _ = recv_frame(cb.sock)
                self.assertEqual(h[2], OP_REVOKE)
                shed.append((h[5], struct.unpack_from('<QQII', body)))
            self.assertEqual([x[1][0] for x in shed], inos[:55])
            self.assertTrue(all(x[1][2] == RV_ATTR for x in shed))
            st = mds_stats(self.engine)
            self.assertEqual(st['mds_leases_shed'],
                             before['mds_leases_shed'] + 55)
            self.assertEqual(st['mds_leases'], 64)
            # coh-7.1: a change to a leaving lease still waits for the
            # holder (which has not answered the REVOKE giving it back)
            t, res = self.mkdir_async('in0', parent=inos[0])
            reqid = self.expect_revoke(cb, inos[0])
            time.sleep(0.3)
            self.assertNotIn('status', res, 'a change to a lease being '
                             'given back was acked before the holder '
                             'answered')
            self.answer(cb, reqid)
            t.join(5)
            self.assertEqual(res['status'], 0)
            # coh-7.2: a grant never reuses a leaving lease: g01 granted
            # again (63 held, one free) survives the answers to the old
            self.assertEqual(self.getattr_lease(rq, inos[1]) & LEASE_ATTR,
                             LEASE_ATTR)
            for reqid, _ in shed:
                self.answer(cb, reqid)
            self.assertEqual(
                wait_value(lambda: mds_stats(self.engine)['mds_leases'],
                           10), 10)    # g55..g63 and g01 again
            t, res = self.mkdir_async('in1', parent=inos[1])
            self.answer(cb, self.expect_revoke(cb, inos[1]))
            t.join(5)
            self.assertEqual(res['status'], 0)
            # below the cap again: what was refused is granted
            self.assertEqual(self.getattr_lease(rq, inos[79]) & LEASE_ATTR,
                             LEASE_ATTR)
        finally:
            cb.close()
            rq.close()


def wait_value(fn, want, secs=5.0):
    """fn() once it returns want, or its last value after secs."""
    end = time.monotonic() + secs
    v = fn()
    while v != want and time.monotonic() < end:
        time.sleep(0.02)
        v = fn()
    return v


class LeaseShedMountTests(TwoMountCase):
    """coh-7.3: a mount that touches more than its session may hold keeps
    caching what it uses now and sees every change made elsewhere."""
    mds_args = ('--lease-max', '512')     # gives back from 448

    def test_many_files_cached_and_coherent(self):
        d1 = self.p1('many')
        os.mkdir(d1)
        names = ['f%04d' % i for i in range(1500)]
        for n in names:
            with open(os.path.join(d1, n), 'wb') as f:
                f.write(b'x')
        for n in names:
            os.stat(os.path.join(d1, n))
        st = mds_stats(self.engine)
        self.assertGreater(st['mds_leases_shed'], 1000)
        self.assertLessEqual(st['mds_leases'], 2 * 512)
        # what this mount uses now is still cached: stat costs no round
        # trip (before, past the cap nothing new was leased: every stat
        # of the last files went to the MDS)
        # (a pass may take back a lease given back while the last went,
        # the directory's say, so it settles within a few passes; before,
        # every pass made two round trips per file)
        m1 = self.engine.mounts[0]
        recent = [os.path.join(d1, n) for n in names[-40:]]
        trips = []
        for _ in range(6):
            a = m1.counters()
            for p in recent:
                os.stat(p)
            b = m1.counters()
            trips.append(sum(b.get(k, 0) - a.get(k, 0)
                             for k in ('rt_getattr', 'rt_lookup')))
            if trips[-1] == 0:
                break
        self.assertEqual(trips[-1], 0, trips)
        # the oldest were given back: changes elsewhere are seen at once
        first = os.path.join(d1, names[0])
        os.chmod(self.p2('many', names[0]), 0o600)
        with open(self.p2('many', names[1]), 'wb') as f:
            f.write(b'changed')
        os.unlink(self.p2('many', names[2]))
        self.assertEqual(os.stat(first).st_mode & 0o777, 0o600)
        with open(os.path.join(d1, names[1]), 'rb') as f:
            self.assertEqual(f.read(), b'changed')
        self.assertFalse(os.path.exists(os.path.join(d1, names[2])))
        # and so are changes to the recent ones (still leased)
        os.chmod(self.p2('many', names[-1]), 0o640)
        self.assertEqual(os.stat(recent[-1]).st_mode & 0o777, 0o640)


class LeaseChurnTests(TwoMountCase):
    """coh-7.4: random changes on either mount of 200 files, each checked
    at once on the other, with sessions capped at 64 leases: leases are
    given back all the time, and none of it may leave a stale view."""
    mds_args = ('--lease-max', '64')

    def test_random_changes_seen_at_once_while_giving_back(self):
        seed = int(os.environ.get('FSX_CHURN_SEED') or
                   random.randrange(1, 1 << 30))
        rnd = random.Random(seed)
        sides = (self.p1('churn'), self.p2('churn'))
        os.mkdir(sides[0])
        model = {}
        for i in range(200):
            n = 'f%03d' % i
            with open(os.path.join(sides[0], n), 'wb') as f:
                f.write(n.encode())
            model[n] = [0o644, n.encode()]
        log = []
        before = mds_stats(self.engine)['mds_leases_shed']

        def check(side, n):
            p = os.path.join(sides[side], n)
            want = model.get(n)
            where = 'seed %d, mount %d, %s; last ops %s' % (
                seed, side + 1, n, log[-6:])
            if want is None:
                self.assertFalse(os.path.exists(p), where)
                return
            st = os.stat(p)
            self.assertEqual(st.st_mode & 0o777, want[0], where)
            self.assertEqual(st.st_size, len(want[1]), where)
            with open(p, 'rb') as f:
                self.assertEqual(f.read(), want[1], where)

        t_end = time.monotonic() + 10.0
        ops = 0
        while ops < 1500 and time.monotonic() < t_end:
            ops += 1
            side = rnd.randrange(2)
            n = 'f%03d' % rnd.randrange(200)
            p = os.path.join(sides[side], n)
            op = rnd.choice(('chmod', 'write', 'trunc', 'unlink', 'rename',
                             'look', 'look'))
            log.append('%d:%s:%s' % (side + 1, op, n))
            if op == 'look':     # take leases on 20 files, shedding others
                for m in rnd.sample(sorted(model), min(20, len(model))):
                    check(side, m)
                continue
            if n not in model:   # (re)create it
                data = os.urandom(rnd.randrange(0, 300))
                with open(p, 'wb') as f:
                    f.write(data)
                os.chmod(p, 0o644)
                model[n] = [0o644, data]
            elif op == 'chmod':
                model[n][0] = rnd.choice((0o600, 0o640, 0o644, 0o664))
                os.chmod(p, model[n][0])
            elif op == 'write':
                model[n][1] = os.urandom(rnd.randrange(1, 300))
                with open(p, 'r+b') as f:
                    f.truncate(0)
                    f.write(model[n][1])
            elif op == 'trunc':
                k = rnd.randrange(0, len(model[n][1]) + 1)
                os.truncate(p, k)
                model[n][1] = model[n][1][:k]
            elif op == 'unlink':
                os.unlink(p)
                del model[n]
            else:
                m = 'f%03d' % rnd.randrange(200)
                os.rename(p, os.path.join(sides[side], m))
                model[m] = model.pop(n)
                check(1 - side, m)
            check(1 - side, n)
        self.assertGreater(mds_stats(self.engine)['mds_leases_shed'],
                           before + 100)
        for n in ['f%03d' % i for i in range(200)]:
            check(0, n)
            check(1, n)


OP_LOOKUP = 41
OP_MDS_SNAP = 81
LEASE_DELEG = 8


class DelegWireTests(WireCase):
    """coh-8.1: the MDS side of a delegation, on raw connections."""

    def mkdir_on(self, rq, nm):
        """MKNOD(dir) nm in the root on rq; (its ino, the lease bits)."""
        body = struct.pack('<QIIIIQII', 1, 0, 0, 0o40755, 0, 0,
                           len(nm), 0) + nm
        rbody, _ = rq.checked(OP_MKNOD, body)
        return (struct.unpack_from('<Q', rbody, 0)[0],
                struct.unpack_from('<I', rbody, ATTR_LEASE_OFF)[0])

    # coh-8.1: MKDIR by a session delegates the new directory to it; a
    # request of anyone else naming the directory first recalls it (a
    # REVOKE of (dir, "/")) and runs only after the holder's answer
    def test_mkdir_delegates_and_lookup_recalls(self):
        cb, _ = self.session(0x4444, SESS_CALLBACK)
        rq, _ = self.session(0x4444)
        try:
            ino, lease = self.mkdir_on(rq, b'dg')
            self.assertEqual(lease & LEASE_DELEG, LEASE_DELEG)
            # the holder's own requests in it recall nothing
            x = b'x'
            h, _, _ = rq.call(OP_LOOKUP, struct.pack('<QIIII', ino, 0, 0,
                                                     len(x), 0) + x)
            self.assertEqual(h[4], -errno.ENOENT)
            res = {}

            def other():
                c = Client(self.engine.mds.port, self.engine.secret)
                try:
                    t0 = time.monotonic()
                    h, _, _ = c.call(OP_LOOKUP, struct.pack(
                        '<QIIII', ino, 0, 0, len(x), 0) + x)
                    res['status'] = h[4]
                    res['at'] = time.monotonic() - t0
                finally:
                    c.close()
            t = threading.Thread(target=other)
            t.start()
            cb.sock.settimeout(5)
            h, body, _ = recv_frame(cb.sock)
            self.assertEqual(h[2], OP_REVOKE)
            _, parent, flags, namelen = struct.unpack_from('<QQII', body)
            self.assertEqual((parent, flags, body[24:24 + namelen]),
                             (ino, RV_ENTRY, b'/'))
            time.sleep(0.3)
            self.assertNotIn('status', res, 'looked before the recall '
                             'was answered')
            self.answer(cb, h[5])
            t.join(5)
            self.assertEqual(res['status'], -errno.ENOENT)
            self.assertGreaterEqual(res['at'], 0.3)
            self.assertGreaterEqual(mds_stats(self.engine)['mds_recalls'], 1)
            # recalled for good: the next look waits for nothing
            t = threading.Thread(target=other)
            t.start()
            t.join(5)
            self.assertLess(res['at'], 0.2)
        finally:
            cb.close()
            rq.close()

    # coh-8.1b: a snapshot (a backup's) recalls every delegation before
    # it copies the store: it must hold every unlink acknowledged
    def test_snapshot_recalls_every_delegation(self):
        cb, _ = self.session(0x5555, SESS_CALLBACK)
        rq, _ = self.session(0x5555)
        try:
            inos = []
            for nm in (b'sa', b'sb'):
                ino, lease = self.mkdir_on(rq, nm)
                self.assertEqual(lease & LEASE_DELEG, LEASE_DELEG)
                inos.append(ino)
            res = {}

            def snap():
                c = Client(self.engine.mds.port, self.engine.secret)
                try:
                    h, _, _ = c.call(OP_MDS_SNAP, struct.pack(
                        '<II64s', 0, 0, b'coh81b'))
                    res['status'] = h[4]
                finally:
                    c.close()
            t = threading.Thread(target=snap)
            t.start()
            cb.sock.settimeout(5)
            got = set()
            for _ in inos:
                h, body, _ = recv_frame(cb.sock)
                self.assertEqual(h[2], OP_REVOKE)
                _, parent, flags, namelen = struct.unpack_from('<QQII', body)
                self.assertEqual((flags, body[24:24 + namelen]),
                                 (RV_ENTRY, b'/'))
                got.add(parent)
                time.sleep(0.1)
                self.assertNotIn('status', res, 'snapshot before the '
                                 'recall was answered')
                self.answer(cb, h[5])
            t.join(10)
            self.assertEqual(got, set(inos))
            self.assertEqual(res['status'], 0)
        finally:
            cb.close()
            rq.close()


class DelegMountTests(TwoMountCase):
    """coh-8.2-8.4: unlinks a mount acknowledges early in a directory it
    made are seen by the other mount at once, whatever it does next."""

    def make_files(self, d, n):
        os.mkdir(self.p1(d))
        names = ['f%04d' % i for i in range(n)]
        for x in names:
            os.close(os.open(self.p1(d, x), os.O_CREAT | os.O_WRONLY, 0o644))
        return names

    def early(self):
        return self.engine.mounts[0].counters().get('unl_early', 0)

    # coh-8.2: a burst of unlinks, then at once a listing, a stat and an
    # exclusive create of an unlinked name on the other mount: the
    # recall waits until every acknowledged unlink is made
    def test_burst_then_other_mount_looks(self):
        for rnd in range(3):
            d = 'burst%d' % rnd
            names = self.make_files(d, 300)
            e0 = self.early()
            for x in names:
                os.unlink(self.p1(d, x))
            # no pause: up to 64 are still on their way to the MDS
            self.assertEqual(os.listdir(self.p2(d)), [], 'round %d' % rnd)
            self.assertFalse(os.path.exists(self.p2(d, names[-1])))
            fd = os.open(self.p2(d, names[-1]),
                         os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            os.close(fd)
            self.assertGreater(self.early() - e0, 250,
                               'unlinks were not acknowledged early')
            # recalled: this mount now sees the other's name, and its
            # own unlinks there wait for the MDS
            self.assertTrue(os.path.exists(self.p1(d, names[-1])))
            e1 = self.early()
            os.unlink(self.p1(d, names[-1]))
            self.assertEqual(self.early(), e1)
            self.assertFalse(os.path.exists(self.p2(d, names[-1])))

    # coh-8.3: the other mount removes the directory (its RMDIR recalls
    # the directory it names by name) right after the burst: empty
    def test_burst_then_other_mount_rmdir(self):
        names = self.make_files('rmd', 200)
        for x in names:
            os.unlink(self.p1('rmd', x))
        os.rmdir(self.p2('rmd'))
        self.assertFalse(os.path.exists(self.p1('rmd')))

    # coh-8.4: the holder's own next steps see its unlinks: a listing,
    # a create of the same name, fsyncdir, rmdir
    def test_holder_sees_own_unlinks(self):
        names = self.make_files('own', 200)
        for x in names[:100]:
            os.unlink(self.p1('own', x))
        self.assertEqual(sorted(os.listdir(self.p1('own'))), names[100:])
        for x in names[100:]:
            os.unlink(self.p1('own', x))
        fd = os.open(self.p1('own', names[0]),
                     os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.close(fd)
        os.unlink(self.p1('own', names[0]))
        fsync_dir(self.p1('own'))
        os.rmdir(self.p1('own'))
        self.assertFalse(os.path.exists(self.p2('own')))
