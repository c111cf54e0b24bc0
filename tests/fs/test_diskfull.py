"""A full disk under the engine (issue 14: an unlink answered ENOSPC
during a benchmark's rmtree): removals still succeed, because the MDS
keeps a space reserve (mds.reserve, 4 MiB) that it frees when a commit
finds the disk full, and allocates again once there is room.

  full-1.1: unlink and rmdir on a full disk succeed; creates may fail
            with ENOSPC, never anything else
  full-1.2: the reserve, if it was used, comes back once the disk has
            room
"""
import errno
import os
import subprocess
import tempfile

from .engine import Engine, need_fuse, wait_for
import unittest

RESERVE = 4 * 1024 * 1024


class DiskFullTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        need_fuse()
        cls.top = tempfile.mkdtemp(prefix='fsx-full-', dir='/var/tmp')
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=48m', 'tmpfs',
                        cls.top], check=True)
        try:
            cls.engine = Engine(base=cls.top, ost_capacity=1 << 30).start()
            cls.mnt = cls.engine.mount()
        except BaseException:
            subprocess.run(['umount', '-l', cls.top])
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.engine.stop()
        finally:
            subprocess.run(['umount', '-l', cls.top])
            os.rmdir(cls.top)

    def fill(self):
        path = os.path.join(self.top, 'filler')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 4096, 512):
                try:
                    while True:
                        os.write(fd, b'\0' * size)
                except OSError as e:
                    self.assertEqual(e.errno, errno.ENOSPC)
        finally:
            os.close(fd)
        return path

    def test_removals_on_a_full_disk(self):
        """full-1.1 and full-1.2"""
        reserve = os.path.join(self.engine.mds_dir, 'mds.reserve')
        self.assertEqual(os.path.getsize(reserve), RESERVE)
        d = os.path.join(self.mnt, 'full')
        os.mkdir(d)
        for k in range(20):
            os.mkdir(os.path.join(d, 'd%02d' % k))
        for i in range(300):
            with open(os.path.join(d, 'd%02d' % (i % 20), 'f%03d' % i),
                      'wb') as f:
                f.write(b'x' * 100)
        filler = self.fill()
        for i in range(300):
            os.unlink(os.path.join(d, 'd%02d' % (i % 20), 'f%03d' % i))
        for k in range(20):
            os.rmdir(os.path.join(d, 'd%02d' % k))
        self.assertEqual(os.listdir(d), [])
        used = os.path.getsize(reserve) == 0    # else the WAL had room
        for i in range(20):
            try:
                open(os.path.join(d, 'g%d' % i), 'wb').close()
            except OSError as e:
                self.assertEqual(e.errno, errno.ENOSPC)
        os.unlink(filler)
        open(os.path.join(d, 'after'), 'wb').close()   # a commit
        if used:
            wait_for(lambda: os.path.getsize(reserve) == RESERVE, 10,
                     'the reserve allocated again')
