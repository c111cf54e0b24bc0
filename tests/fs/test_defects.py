"""Regression tests for engine defects (issue 10), on two mounts of one
file system. Each case says what failed before its fix.

  defects-1.*: truncate and mmap writes keep the size the program set
  defects-5.*: write-behind failures reach close(2)
  defects-6.*: fallocate modes and allocated blocks
  defects-8.*: explicit atime and later readers
"""
import errno
import mmap
import os
import time

from .engine import TwoMountCase, MiB, KiB


class AtimeTests(TwoMountCase):

    def test_atime_moves_after_utime_while_writer_open(self):
        """defects-8.1: a utime while another handle is open made the MDS
        ignore the reads of every later handle until the file had no
        handle left (a late CLOSE of the writer kept it open)."""
        p = self.p1('atime-open')
        fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            os.write(fd, b'x' * 5000)
            os.fsync(fd)
            os.utime(p, (1000, 2000))
            with open(self.p2('atime-open'), 'rb') as f:
                self.assertEqual(len(f.read()), 5000)
            time.sleep(1.2)         # past the 1 s attribute cache
            st = os.stat(self.p2('atime-open'))
            self.assertGreater(st.st_atime, time.time() - 60,
                               'a read after the utime moves atime')
        finally:
            os.close(fd)


class TruncateTests(TwoMountCase):

    def test_truncate_down_while_reading_keeps_size(self):
        """defects-1.1: a read in flight during a truncate saw the old
        objects and raised the client's size back; the writer's close
        then stored that size at the MDS (xfstests fsx: "TRUNCATE DOWN
        from 0x40000 to 0x5730", then size 0x32000 on every mount)."""
        import threading
        p = self.p1('trunc-race')
        stop = threading.Event()
        big = 1 * MiB

        def reader():
            fd = os.open(p, os.O_RDONLY | os.O_DIRECT)
            buf = mmap.mmap(-1, 256 * KiB)
            try:
                while not stop.is_set():
                    for off in range(0, big, 256 * KiB):
                        try:
                            os.preadv(fd, [buf], off)
                        except OSError:
                            pass
            finally:
                os.close(fd)

        with open(p, 'wb') as f:
            f.write(b'a' * big)
        t = threading.Thread(target=reader)
        t.start()
        bad = []
        try:
            for i in range(60):
                fd = os.open(p, os.O_RDWR)
                try:
                    os.pwrite(fd, b'b' * big, 0)
                    small = 1000 + i
                    os.ftruncate(fd, small)
                    if os.fstat(fd).st_size != small:
                        bad.append((i, os.fstat(fd).st_size))
                finally:
                    os.close(fd)
                time.sleep(0.05)
                st = os.stat(self.p2('trunc-race')).st_size
                if st != small and st != big:
                    bad.append((i, st))
                with open(self.p2('trunc-race'), 'rb') as f:
                    n = len(f.read())
                if n != small:
                    bad.append(('read', i, n))
        finally:
            stop.set()
            t.join()
        self.assertEqual(bad, [])
