"""fsxd's front door against hostile clients (issue 9, task 1).

frontdoor-1.*: the port is fsxd's alone: a second fsxd on a port in use
               exits at once, non-zero, saying why; the first still answers.
frontdoor-2.*: connections that trickle header bytes are closed after a
               total header deadline and evicted when connections run
               short, so a signed request is still answered promptly.
frontdoor-3.*: requests refused for their size or framing are answered
               in AWS's JSON error shape with x-amzn-RequestId and
               x-amzn-ErrorType, not an HTML page.
"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from tests.fsxlib import BIN, Fsxd


class SecondInstance(unittest.TestCase):
    def test_second_fsxd_on_same_port_exits(self):
        """frontdoor-1.1: the second fsxd refuses the port in use."""
        d = Fsxd()
        other = tempfile.mkdtemp(prefix='fsxd-test-')
        try:
            t0 = time.monotonic()
            p = subprocess.run([os.path.join(BIN, 'fsxd'), '--port', str(d.port),
                                '--state-dir', other, '--log-level', 'warn'],
                               capture_output=True, timeout=20)
            self.assertLess(time.monotonic() - t0, 10)
            self.assertNotEqual(p.returncode, 0)
            self.assertNotIn(b'fsxd ready', p.stdout)
            self.assertIn(b'Address already in use', p.stderr)
            self.assertIn(b'%d' % d.port, p.stderr)
            # the first still answers every request (none go elsewhere)
            c = d.client()
            for _ in range(20):
                self.assertEqual(c.describe_file_systems()['FileSystems'], [])
        finally:
            d.stop()
            shutil.rmtree(other, ignore_errors=True)
