"""Issue 14: what each file operation costs on the wire, counted by the
mount itself (-o stats=PATH: "fuse_<op> N" and "rt_<op> N" lines,
rewritten at SIGUSR1 and at unmount), and the round trips removed.

  rt-1.*: the stats file is written on SIGUSR1 and at unmount, and its
          counts are the requests really made
  rt-2.*: a small file created, written and closed costs no GETXATTR
          (security.capability) round trip; an unlink costs one
  rt-3.*: the closer of a changed file keeps its new attributes
  rt-4.*: a new file written densely is closed without a glimpse
  rt-5.*: a directory listing costs one READDIR past its end, not two
  rt-6.*: the absence of a name is leased too (negative entries)
  rt-7.*: a read's CLOSE that moves atime costs the reader no REVOKE
  rt-8.*: names in a directory this mount made are known to it
  rt-9.*: a stat right after close(2) waits for that CLOSE, not the MDS
  rt-10.*: a file this mount alone writes is stat'ed here, not at the MDS,
           and others' changes still reach it at once
"""
import os
import subprocess
import tempfile
import time

from .engine import (EngineCase, TwoMountCase, fsync_dir, get_layout,
                     set_layout, wait_for)
from .test_coherence import mds_stats
from .test_speed import drop_dentries, stats

N = 200


class StatsMountCase(EngineCase):
    """An EngineCase whose mount writes its counters to stats_path."""
    mount_at_start = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stats_path = os.path.join(cls.engine.dir, 'mount.stats')
        try:
            cls.mnt = cls.engine.mount(opts='stats=' + cls.stats_path)
        except BaseException:
            cls.engine.stop()
            raise

    def snap(self):
        """The mount's counters now (SIGUSR1, then the rewritten file)."""
        return self.engine.mounts[0].counters()

    @staticmethod
    def delta(a, b):
        return {k: b[k] - a.get(k, 0) for k in b if b[k] != a.get(k, 0)}


class RoundTripTests(StatsMountCase):

    def test_counts_are_the_requests_made(self):
        """rt-1.1: N mkdirs are N FUSE mkdirs and N MKNOD round trips;
        N stats of a file that changes under them (ctime by chmod on
        each) ask the MDS at least once each time."""
        d = self.fresh_dir('rt1')
        a = self.snap()
        for i in range(N):
            os.mkdir(os.path.join(d, 'd%d' % i))
        b = self.delta(a, self.snap())
        self.assertEqual(b.get('fuse_mkdir'), N, b)
        self.assertEqual(b.get('rt_mknod'), N, b)
        self.assertNotIn('rt_unlink', b)

    def test_small_file_costs_no_getxattr(self):
        """rt-2.1: create + four 256-byte writes + close of a new file:
        at most one GETXATTR request (the kernel asked for
        security.capability before every write; it now leaves that to
        the mount, FUSE_HANDLE_KILLPRIV_V2, and asks only once per inode)
        and no GETXATTR round trip (the mount knows a file it just
        created has none), at most eight round trips in all (LOOKUP,
        CREATE, four OST_WRITEs, OST_GETATTR, CLOSE); an unlink is one (plus a LOOKUP where the kernel's entry
        timed out)."""
        d = self.fresh_dir('rt2')
        a = self.snap()
        for i in range(N):
            with open(os.path.join(d, 'f%d' % i), 'wb', buffering=0) as f:
                for k in range(4):
                    f.write(b'x' * 256)
        b = self.delta(a, self.snap())
        self.assertEqual(b.get('fuse_create'), N, b)
        self.assertEqual(b.get('fuse_write'), 4 * N, b)
        # the kernel leaves security.capability to the mount
        # (FUSE_HANDLE_KILLPRIV_V2, fm_io.c): it asks once per inode, not
        # before every write
        self.assertLessEqual(b.get('fuse_getxattr', 0), N, b)
        self.assertNotIn('rt_getxattr', b)
        self.assertNotIn('rt_setattr', b)
        rts = sum(v for k, v in b.items() if k.startswith('rt_'))
        self.assertLessEqual(rts, 8 * N + 10, b)
        for i in range(N):
            with open(os.path.join(d, 'f%d' % i), 'rb') as f:
                self.assertEqual(f.read(), b'x' * 1024)
        c = self.snap()
        for i in range(N):
            os.unlink(os.path.join(d, 'f%d' % i))
        fsync_dir(d)    # the unlinks acknowledged early are made (fm_unl.c)
        e = self.delta(c, self.snap())
        self.assertEqual(e.get('rt_unlink'), N, e)
        # LOOKUPs come only for names whose kernel entry timed out (an
        # unleased name keeps it 1 s); nothing else is asked
        rts = sum(v for k, v in e.items()
                  if k.startswith('rt_') and k != 'rt_lookup')
        self.assertLessEqual(rts, N + 5, e)

    def test_capability_set_after_create_is_seen(self):
        """rt-2.2: the shortcut does not hide a capability: one set on a
        file just created (inside the mount's 1 s no-capability window)
        is read back by getxattr and getcap."""
        p = self.path('rt-cap')
        with open(p, 'wb') as f:
            f.write(b'a')
        r = subprocess.run(['setcap', 'cap_net_raw+ep', p],
                           capture_output=True)
        if r.returncode != 0:
            self.skipTest('setcap: %s' % r.stderr.decode().strip())
        self.assertGreater(len(os.getxattr(p, 'security.capability')), 0)
        r = subprocess.run(['getcap', p], capture_output=True, text=True)
        self.assertIn('cap_net_raw', r.stdout)

    def test_listing_costs_one_readdir(self):
        """rt-5.1: a listing of a small directory is one READDIR round
        trip (the kernel's last READDIR, past the end the MDS already
        reported, is answered by the mount: it was two); a large one is
        listed whole, and a listing after rewinddir sees new names."""
        d = self.fresh_dir('rt5')
        for k in range(50):
            os.mkdir(os.path.join(d, 's%02d' % k))
            for i in range(3):
                open(os.path.join(d, 's%02d' % k, 'f%d' % i), 'w').close()
        a = self.snap()
        for k in range(50):
            self.assertEqual(sorted(os.listdir(os.path.join(d, 's%02d' % k))),
                             ['f0', 'f1', 'f2'])
        b = self.delta(a, self.snap())
        self.assertEqual(b.get('rt_readdir'), 50, b)
        big = os.path.join(d, 'big')
        os.mkdir(big)
        names = ['n%04d-%s' % (i, 'x' * 40) for i in range(1500)]
        for n in names:
            open(os.path.join(big, n), 'w').close()
        self.assertEqual(sorted(os.listdir(big)), names)
        fd = os.open(big, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with os.scandir(fd) as it:
                first = sorted(e.name for e in it)
            open(os.path.join(big, 'zz-new'), 'w').close()
            os.lseek(fd, 0, os.SEEK_SET)     # rewinddir
            with os.scandir(fd) as it:
                again = sorted(e.name for e in it)
        finally:
            os.close(fd)
        self.assertEqual(first, names)
        self.assertEqual(again, names + ['zz-new'])

    def test_stats_file_written_at_unmount(self):
        """rt-1.2: a second mount with stats=PATH writes the file when it
        is unmounted, with its counts."""
        path = tempfile.mktemp(prefix='rt-', dir=self.engine.dir)
        mnt = self.engine.mount('mnt-rt', opts='stats=' + path)
        m = self.engine.mounts[-1]
        os.mkdir(os.path.join(mnt, 'rt3'))
        m.stop()
        self.assertTrue(os.path.exists(path))
        with open(path) as f:
            lines = dict(l.split() for l in f)
        self.assertGreaterEqual(int(lines.get('fuse_mkdir', 0)), 1)
        self.assertGreaterEqual(int(lines.get('rt_mknod', 0)), 1)


class CloseLeaseTests(TwoMountCase):

    def test_stat_after_write_and_close(self):
        """rt-3.1: a CLOSE that changed the size leases the new
        attributes to the closer (after revoking everyone else's): stats
        of files just written, once the kernel's own copy has timed out,
        are answered by the mount for most of them (it was one GETATTR
        each); another mount's later change is still seen at once."""
        d = self.p1('rt31')
        os.mkdir(d)
        names = ['f%02d' % i for i in range(50)]
        for n in names:
            with open(os.path.join(d, n), 'wb') as f:
                f.write(b'abc')
        time.sleep(1.3)     # past FM_TIMEOUT: the kernel asks again
        before = stats(self.engine, self.engine.mds)
        for n in names:
            self.assertEqual(os.stat(os.path.join(d, n)).st_size, 3)
        after = stats(self.engine, self.engine.mds)
        asked = after['mds_op_getattr'] - before['mds_op_getattr']
        self.assertLess(asked, len(names), 'every stat went to the MDS')
        for n in names:
            with open(os.path.join(self.p2('rt31'), n), 'ab') as f:
                f.write(b'defg')
        for n in names:
            self.assertEqual(os.stat(os.path.join(d, n)).st_size, 7, n)


class DenseCloseTests(StatsMountCase):

    def disk_blocks(self, p):
        """st_blocks of the file's objects on the OSTs, summed."""
        lay = get_layout(p)
        n = 0
        for ost, oid in lay['ents']:
            try:
                n += os.stat(self.engine.object_path(ost, oid)).st_blocks
            except FileNotFoundError:
                pass
        return n

    def test_dense_new_file_needs_no_glimpse(self):
        """rt-4.1: a file this mount created and wrote densely is closed
        without asking the OSSes for st_blocks (it was one OST_GETATTR
        per object), and its st_blocks is what the objects hold; a
        sparse one, a rewritten old one and a fallocated one still ask,
        and their st_blocks too is the objects'."""
        d = self.fresh_dir('rt4')
        set_layout(d, 2, 64 * 1024)
        sizes = [1, 4096, 10000, 200 * 1024 + 5]
        a = self.snap()
        for s in sizes:
            with open(os.path.join(d, 'dense%d' % s), 'wb') as f:
                f.write(b'y' * s)
        b = self.delta(a, self.snap())
        self.assertNotIn('rt_ost_getattr', b)
        for s in sizes:
            p = os.path.join(d, 'dense%d' % s)
            self.assertEqual(os.stat(p).st_blocks, self.disk_blocks(p), s)
        p = os.path.join(d, 'sparse')
        with open(p, 'wb') as f:
            f.seek(300 * 1024)
            f.write(b'z')
        p2 = os.path.join(d, 'dense10000')
        with open(p2, 'r+b') as f:          # not created by this open
            f.seek(500 * 1024)
            f.write(b'z')
        p3 = os.path.join(d, 'falloc')
        with open(p3, 'wb') as f:
            f.write(b'q' * 1000)
            os.posix_fallocate(f.fileno(), 0, 256 * 1024)
        c = self.delta(a, self.snap())
        self.assertGreaterEqual(c.get('rt_ost_getattr', 0), 3, c)
        for q in (p, p2, p3):
            self.assertEqual(os.stat(q).st_blocks, self.disk_blocks(q), q)


class NegativeLeaseTests(TwoMountCase):

    def test_absent_name_is_leased(self):
        """rt-6.1: a LOOKUP that finds nothing leases the name's absence:
        the kernel keeps the negative entry (a second stat, and the
        create after it, ask the MDS nothing), and a create, mkdir,
        symlink, link or rename of that name on the other mount is seen
        at once."""
        d = self.p1('rt6')
        os.mkdir(d)
        a = stats(self.engine, self.engine.mds)
        for i in range(50):
            for _ in range(3):
                self.assertFalse(os.path.exists(os.path.join(d, 'n%d' % i)))
        b = stats(self.engine, self.engine.mds)
        self.assertLessEqual(b['mds_op_lookup'] - a['mds_op_lookup'], 50)
        for i in range(50):
            open(os.path.join(d, 'n%d' % i), 'w').close()
        c = stats(self.engine, self.engine.mds)
        self.assertLess(c['mds_op_lookup'] - b['mds_op_lookup'], 10)
        # changes elsewhere
        names = ['c', 'm', 's', 'l', 'r']
        for n in names:
            self.assertFalse(os.path.exists(os.path.join(d, n)))
        d2 = self.p2('rt6')
        open(os.path.join(d2, 'c'), 'w').close()
        os.mkdir(os.path.join(d2, 'm'))
        os.symlink('c', os.path.join(d2, 's'))
        os.link(os.path.join(d2, 'c'), os.path.join(d2, 'l'))
        open(os.path.join(d2, 'r0'), 'w').close()
        os.rename(os.path.join(d2, 'r0'), os.path.join(d2, 'r'))
        for n in names:
            self.assertTrue(os.path.lexists(os.path.join(d, n)), n)
        os.unlink(os.path.join(d2, 'c'))
        self.assertFalse(os.path.exists(os.path.join(d, 'c')))


class ReadCloseTests(StatsMountCase):

    def test_read_close_not_revoked_to_reader(self):
        """rt-7.1: the first read of a file after a change moves its atime
        at the CLOSE (relatime); the MDS tells the reader in the CLOSE
        reply instead of revoking its own lease (a REVOKE round trip on
        its callback connection), so a stat afterwards shows the new atime
        and is answered by the mount (it was one GETATTR each)."""
        d = self.fresh_dir('rt7')
        n = 100
        paths = [os.path.join(d, 'f%03d' % i) for i in range(n)]
        for p in paths:
            with open(p, 'wb') as f:
                f.write(b'r' * 4096)
            os.utime(p, (1000, 2000))
        for p in paths:
            self.assertEqual(os.stat(p).st_atime, 1000)   # leased now
        m0 = mds_stats(self.engine)
        a = self.snap()
        for p in paths:
            with open(p, 'rb') as f:
                self.assertEqual(f.read(), b'r' * 4096)
        # the CLOSE of a read lands after close(2) returns
        wait_for(lambda: self.delta(a, self.snap()).get('rt_close', 0) >= n,
                 10, 'closes of the reads')
        for p in paths:
            st = os.stat(p)
            self.assertGreater(st.st_atime, time.time() - 60, p)
            self.assertEqual(st.st_mtime, 2000, p)
        b = self.delta(a, self.snap())
        m1 = mds_stats(self.engine)
        self.assertEqual(m1['mds_revocations'] - m0['mds_revocations'], 0)
        # (LOOKUPs are not counted: other processes' drop_caches make
        # the kernel ask again, which a CLOSE racing a stat may not hold)
        self.assertLess(b.get('rt_getattr', 0), n // 4, b)


class DirAllTests(TwoMountCase):

    def test_absent_names_in_own_new_dir(self):
        """rt-8.1: in a directory this mount made (and holds the lease
        of), a LOOKUP of a name it did not make is answered "absent" with
        no round trip: the LOOKUP before each create of tar -x or a
        checkout (it was one LOOKUP each). Names it made by create,
        mkdir, rename, link and symlink are found after the kernel forgot
        them; a name another mount makes there is seen at once."""
        top = self.p1('rt8')
        os.mkdir(top)
        d = os.path.join(top, 's')
        os.mkdir(d)
        a = stats(self.engine, self.engine.mds)
        for i in range(50):
            self.assertFalse(os.path.exists(os.path.join(d, 'x%d' % i)))
            with open(os.path.join(d, 'f%d' % i), 'wb') as f:
                f.write(b'f')
        os.mkdir(os.path.join(d, 'sub'))
        b = stats(self.engine, self.engine.mds)
        self.assertLess(b['mds_op_lookup'] - a['mds_op_lookup'], 5)
        with open(os.path.join(top, 'moved'), 'wb') as f:
            f.write(b'm')
        os.rename(os.path.join(top, 'moved'), os.path.join(d, 'r'))
        os.link(os.path.join(d, 'f0'), os.path.join(d, 'l'))
        os.symlink('f1', os.path.join(d, 'y'))
        drop_dentries()
        for n in ['f%d' % i for i in range(50)] + ['sub', 'r', 'l', 'y']:
            self.assertTrue(os.path.lexists(os.path.join(d, n)), n)
        # another mount's name there is seen at once
        e = os.path.join(top, 'e')
        os.mkdir(e)
        self.assertFalse(os.path.exists(os.path.join(e, 'z')))
        open(os.path.join(self.p2('rt8'), 'e', 'z'), 'w').close()
        self.assertTrue(os.path.exists(os.path.join(e, 'z')))
        os.mkdir(os.path.join(self.p2('rt8'), 'e', 'zd'))
        self.assertTrue(os.path.isdir(os.path.join(e, 'zd')))


class CloseWaitTests(StatsMountCase):

    def test_stat_right_after_close(self):
        """rt-9.1: close(2) returns before the mount's CLOSE reaches the
        MDS; a stat right after it (git checkout, tar, cp -p) waits for
        that CLOSE, whose reply leases the new attributes, instead of
        asking the MDS for attributes of a file still open for write
        there (it was one GETATTR each); the size, mtime and mode seen
        are the ones the close set."""
        d = self.fresh_dir('rt9')
        n = 100
        a = self.snap()
        for i in range(n):
            p = os.path.join(d, 'f%d' % i)
            with open(p, 'wb') as f:
                f.write(b'z' * (5000 + i))
            st = os.lstat(p)
            self.assertEqual(st.st_size, 5000 + i)
            self.assertGreater(st.st_mtime, time.time() - 60)
        b = self.delta(a, self.snap())
        self.assertLess(b.get('rt_getattr', 0), n // 4, b)
        # a change after the close is still seen (chmod through the MDS)
        os.chmod(os.path.join(d, 'f0'), 0o600)
        self.assertEqual(os.lstat(os.path.join(d, 'f0')).st_mode & 0o777,
                         0o600)


def object_blocks(engine, p):
    """st_blocks of p's objects on the OSTs, summed (what a glimpse sees)."""
    n = 0
    for ost, oid in get_layout(p)['ents']:
        try:
            n += os.stat(engine.object_path(ost, oid)).st_blocks
        except FileNotFoundError:
            pass
    return n


class WriterAttrTests(TwoMountCase):

    def setUp(self):
        self.d1 = self.p1(self.id().rsplit('.', 1)[1])
        os.mkdir(self.d1)
        set_layout(self.d1, 2, 64 * 1024)
        self.d2 = self.p2(os.path.basename(self.d1))

    def test_sole_writer_stats_cost_no_getattr(self):
        """rt-10.1: the kernel asks for the attributes of a file being
        written after each write (lseek(SEEK_END), fstat: a compiler's
        assembler and linker do both); each was a GETATTR round trip to
        the MDS, which glimpsed every object on the OSSes. The creator,
        and a mount that opens an existing file for write, while no other
        mount writes it, answer them itself: the size it wrote, the blocks
        its objects' files hold (sparse writes too), the attributes the
        MDS sent. What it answers is what the other mount, asking the
        MDS, sees."""
        m1 = self.engine.mounts[0]
        for how in ('create', 'reopen'):
            p = os.path.join(self.d1, how)
            if how == 'reopen':
                with open(p, 'wb') as f:
                    f.write(b'q' * 5000)
                fd = os.open(p, os.O_RDWR)
            else:
                fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o640)
            try:
                a = m1.counters()
                end = 0
                for i in range(40):
                    off = i * 9000 + (300000 if i >= 20 else 0)   # a hole
                    os.pwrite(fd, bytes([65 + i % 26]) * 7000, off)
                    end = max(end, off + 7000, 5000 if how == 'reopen' else 0)
                    self.assertEqual(os.fstat(fd).st_size, end, (how, i))
                    self.assertEqual(os.lseek(fd, 0, os.SEEK_END), end)
                # st_blocks lags the writes still in flight, as on Lustre
                # (and the kernel keeps a stat for 1 s): past that, all
                # have landed
                time.sleep(1.2)
                st1 = os.fstat(fd)
                b = StatsMountCase.delta(a, m1.counters())
                self.assertGreaterEqual(b.get('fuse_getattr', 0), 41, b)
                self.assertLess(b.get('rt_getattr', 0), 3, (how, b))
                self.assertEqual(st1.st_blocks, object_blocks(self.engine, p), how)
                self.assertLess(st1.st_blocks * 512, end, 'the hole has no blocks')
                self.assertEqual(st1.st_mode & 0o777, 0o640 if how == 'create' else 0o644)
                st2 = os.stat(os.path.join(self.d2, how))   # the MDS's answer
                for k in ('st_size', 'st_blocks', 'st_mode', 'st_uid', 'st_nlink',
                          'st_mtime_ns', 'st_ctime_ns'):
                    self.assertEqual(getattr(st1, k), getattr(st2, k), (how, k))
            finally:
                os.close(fd)
            self.assertEqual(os.stat(p).st_size, end)

    def test_others_changes_reach_the_sole_writer(self):
        """rt-10.2: while a mount answers a writer's stats itself, another
        mount's chmod, utime, open for write and write are seen by the
        writer at once (the MDS revokes the watched lease first); its own
        chmod too."""
        p = os.path.join(self.d1, 'f')
        q = os.path.join(self.d2, 'f')
        fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
        try:
            os.write(fd, b'a' * 10000)
            self.assertEqual(os.fstat(fd).st_size, 10000)
            os.chmod(q, 0o600)
            self.assertEqual(os.fstat(fd).st_mode & 0o777, 0o600)
            os.utime(q, ns=(1000 * 10**9, 2000 * 10**9))
            self.assertEqual(os.fstat(fd).st_mtime_ns, 2000 * 10**9)
            os.write(fd, b'b' * 10000)
            self.assertEqual(os.fstat(fd).st_size, 20000)
            fd2 = os.open(q, os.O_RDWR)
            try:
                os.pwrite(fd2, b'c' * 1000, 50000)
                os.fsync(fd2)
                self.assertEqual(os.fstat(fd).st_size, 51000)
            finally:
                os.close(fd2)
            self.assertEqual(os.fstat(fd).st_size, 51000)
            os.pwrite(fd, b'd' * 1000, 60000)
            self.assertEqual(os.fstat(fd).st_size, 61000)
            os.fchmod(fd, 0o640)
            self.assertEqual(os.fstat(fd).st_mode & 0o777, 0o640)
            self.assertEqual(os.stat(q).st_mode & 0o777, 0o640)
        finally:
            os.close(fd)
        self.assertEqual(os.stat(q).st_size, 61000)
        with open(p, 'rb') as f:
            data = f.read()
        self.assertEqual(data[:10000], b'a' * 10000)
        self.assertEqual(data[50000:51000], b'c' * 1000)
        self.assertEqual(data[60000:], b'd' * 1000)
