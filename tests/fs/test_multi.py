"""Two mounts of one file system: close-to-open consistency."""
import hashlib
import os
import time

from .engine import (TwoMountCase, Client, OP_STATS, set_layout, get_layout,
                     MiB, KiB)


class TwoMountTests(TwoMountCase):

    def test_write_close_then_open_elsewhere(self):
        data = os.urandom(3 * MiB + 17)
        set_layout(self.p1('shared'), 4, 64 * KiB)
        with open(self.p1('shared'), 'r+b') as f:
            f.write(data)
        with open(self.p2('shared'), 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(),
                             hashlib.sha256(data).digest())
        self.assertEqual(os.stat(self.p2('shared')).st_size, len(data))
        self.assertEqual(get_layout(self.p2('shared')), get_layout(self.p1('shared')))
        # the other way, overwriting the middle and extending
        with open(self.p2('shared'), 'r+b') as f:
            f.seek(MiB)
            f.write(b'M' * 1000)
            f.seek(len(data) + 5)
            f.write(b'E')
        want = bytearray(data)
        want[MiB:MiB + 1000] = b'M' * 1000
        want += bytes(5) + b'E'
        with open(self.p1('shared'), 'rb') as f:
            self.assertTrue(f.read() == bytes(want), 'mount 1 sees mount 2 writes')

    def test_truncate_seen_on_next_open(self):
        with open(self.p1('shrink'), 'wb') as f:
            f.write(b'x' * 200000)
        with open(self.p2('shrink'), 'rb') as f:
            self.assertEqual(len(f.read()), 200000)
        os.truncate(self.p1('shrink'), 10)
        with open(self.p2('shrink'), 'rb') as f:
            self.assertEqual(f.read(), b'x' * 10)

    def test_fsync_visible_while_open(self):
        fd = os.open(self.p1('live'), os.O_CREAT | os.O_WRONLY, 0o644)
        try:
            os.write(fd, b'a' * 5000)
            os.fsync(fd)
            with open(self.p2('live'), 'rb') as f:
                self.assertEqual(f.read(), b'a' * 5000)
        finally:
            os.close(fd)

    def test_namespace_changes_cross_mounts(self):
        os.mkdir(self.p1('ns'))
        for i in range(50):
            with open(self.p1('ns', 'f%d' % i), 'w') as f:
                f.write(str(i))
        self.assertEqual(sorted(os.listdir(self.p2('ns'))),
                         sorted('f%d' % i for i in range(50)))
        os.rename(self.p2('ns', 'f0'), self.p2('ns', 'renamed'))
        with open(self.p1('ns', 'renamed')) as f:
            self.assertEqual(f.read(), '0')
        os.unlink(self.p2('ns', 'f1'))
        # a cached positive entry may live for the entry timeout (1 s)
        deadline = time.monotonic() + 3
        while os.path.exists(self.p1('ns', 'f1')) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(os.path.exists(self.p1('ns', 'f1')))
        self.assertEqual(len(os.listdir(self.p1('ns'))), 49)

    def test_dir_attrs_after_changes_match_other_mount(self):
        # After a create or unlink the kernel asks for the directory's
        # attributes again; fsx-mount answers from what the MDS returned
        # with the change. They must be what a fresh look-up shows.
        os.mkdir(self.p1('da'))
        for step in range(4):
            name = self.p1('da', 'f')
            if step % 2 == 0:
                os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            else:
                os.unlink(name)
            st1 = os.stat(self.p1('da'))
            st2 = os.stat(self.p2('da'))    # mount 2 holds nothing cached
            for k in ('st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_size',
                      'st_mtime_ns', 'st_ctime_ns'):
                self.assertEqual(getattr(st1, k), getattr(st2, k), '%s after step %d' % (k, step))
            time.sleep(1.1)     # mount 2's cached attributes expire
        # A change made elsewhere is seen within the attribute timeout,
        # also right after a change made here.
        os.close(os.open(self.p1('da', 'g'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        os.chmod(self.p2('da'), 0o700)
        deadline = time.monotonic() + 3
        while os.stat(self.p1('da')).st_mode & 0o777 != 0o700 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(os.stat(self.p1('da')).st_mode & 0o777, 0o700)

    def test_o_excl_is_atomic_across_mounts(self):
        fd = os.open(self.p1('excl'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.close(fd)
        with self.assertRaises(FileExistsError):
            os.open(self.p2('excl'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)

    def test_append_from_both_mounts(self):
        path1, path2 = self.p1('log'), self.p2('log')
        open(path1, 'wb').close()
        f1 = os.open(path1, os.O_WRONLY | os.O_APPEND)
        f2 = os.open(path2, os.O_WRONLY | os.O_APPEND)
        try:
            for i in range(100):
                os.write(f1 if i % 2 == 0 else f2, b'%03d\n' % i)
        finally:
            os.close(f1)
            os.close(f2)
        with open(path1, 'rb') as f:
            lines = f.read().splitlines()
        self.assertEqual(sorted(lines), [b'%03d' % i for i in range(100)])

    # Large aligned transfers go O_DIRECT on the OSS, small ones through
    # its page cache; a reader must see both.

    def direct_count(self):
        n = 0
        for srv in self.engine.oss:
            c = Client(srv.port, self.engine.secret)
            try:
                h, _, bulk = c.call(OP_STATS)
            finally:
                c.close()
            self.assertEqual(h[4], 0)
            for line in bulk.decode().splitlines():
                k, _, v = line.partition(' ')
                if k == 'oss_direct_io':
                    n += int(v)
        return n

    def direct_ok(self):
        probe = os.path.join(self.engine.dir, 'direct-probe')
        try:
            os.close(os.open(probe, os.O_CREAT | os.O_RDWR | os.O_DIRECT))
            return True
        except OSError:
            return False
        finally:
            if os.path.exists(probe):
                os.unlink(probe)

    def test_direct_and_cached_writes_agree(self):
        before = self.direct_count()
        data = bytearray(os.urandom(4 * MiB))
        set_layout(self.p1('mixed'), 1, 1 * MiB)
        with open(self.p1('mixed'), 'r+b') as f:
            for off in range(0, len(data), MiB):
                f.write(data[off:off + MiB])
            os.fsync(f.fileno())
        if self.direct_ok():
            self.assertGreater(self.direct_count(), before,
                               'no transfer used O_DIRECT')
        # ragged overwrites, cached on the OSS and not fsync'd
        patches = [(5000, 100), (MiB - 3, 7), (3 * MiB + 4095, 1)]
        with open(self.p1('mixed'), 'r+b') as f:
            for off, n in patches:
                piece = os.urandom(n)
                f.seek(off)
                f.write(piece)
                data[off:off + n] = piece
        # the other mount reads it in 1 MiB (direct) reads
        with open(self.p2('mixed'), 'rb') as f:
            got = b''.join(iter(lambda: f.read(MiB), b''))
        self.assertEqual(hashlib.sha256(got).hexdigest(),
                         hashlib.sha256(bytes(data)).hexdigest())

    def test_read_moves_atime_relatime(self):
        with open(self.p1('atime'), 'wb') as f:
            f.write(b'x' * 5000)
        os.utime(self.p1('atime'), (1000, 2000))
        with open(self.p2('atime'), 'rb') as f:
            self.assertEqual(len(f.read()), 5000)
        time.sleep(1.2)         # past the 1 s attribute cache
        st = os.stat(self.p1('atime'))
        self.assertGreater(st.st_atime, time.time() - 60)
        self.assertEqual(st.st_mtime, 2000)
        # relatime: atime now newer than mtime and ctime, so a second
        # read leaves it where it is
        with open(self.p2('atime'), 'rb') as f:
            f.read()
        time.sleep(1.2)
        self.assertEqual(os.stat(self.p1('atime')).st_atime_ns,
                         st.st_atime_ns)
