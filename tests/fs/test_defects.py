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

