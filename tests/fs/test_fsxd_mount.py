"""The whole path: fsxd creates a file system (real processes), fsx-mount
finds it through fsxd with the caller's AWS credentials, and files written
through the mount read back; refusals for file systems that are not
AVAILABLE or belong to another account."""
import hashlib
import os
import subprocess
import tempfile
import time
import unittest

from tests.fsxlib import BIN, Fsxd, SCRATCH2


def have_fuse():
    return os.path.exists('/dev/fuse') and os.path.exists(os.path.join(BIN, 'fsx-mount'))


@unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
class MountThroughFsxd(unittest.TestCase):
    def setUp(self):
        credf = tempfile.NamedTemporaryFile('w', delete=False, suffix='.creds')
        credf.write('AKIDOTHER othersecret 222222222222\n')
        credf.close()
        self.credf = credf.name
        self.d = Fsxd('--credentials', self.credf)
        self.c = self.d.client()
        self.mnt = tempfile.mkdtemp(prefix='fsx-mnt-')
        self.mounted = False

    def tearDown(self):
        if self.mounted:
            subprocess.run(['fusermount3', '-u', self.mnt], capture_output=True)
        os.rmdir(self.mnt)
        self.d.stop()
        os.unlink(self.credf)

    def mount(self, spec, key='test', secret='test'):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_DEFAULT_REGION='us-east-1')
        p = subprocess.run([os.path.join(BIN, 'fsx-mount'), '--endpoint-url', self.d.url,
                            spec, self.mnt], capture_output=True, text=True, env=env, timeout=30)
        if p.returncode == 0:
            self.mounted = True
        return p

    def test_create_available_mount_write_read(self):
        fs = self.c.create_file_system(**dict(SCRATCH2, StorageCapacity=4800))['FileSystem']
        fs_id = fs['FileSystemId']
        fs, _ = self.d.wait_state(self.c, fs_id, 'AVAILABLE')
        spec = '%s@tcp:/%s' % (fs['DNSName'], fs['LustreConfiguration']['MountName'])
        p = self.mount(spec)
        self.assertEqual(p.returncode, 0, p.stderr)
        data = os.urandom(3 * 1024 * 1024 + 12345)
        with open(os.path.join(self.mnt, 'f'), 'wb') as f:
            f.write(data)
        with open(os.path.join(self.mnt, 'f'), 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).digest(), hashlib.sha256(data).digest())
        st = os.statvfs(self.mnt)
        # df shows the file system's capacity (4800 GiB), not the disk's.
        self.assertAlmostEqual(st.f_blocks * st.f_frsize / 2 ** 30, 4800, delta=1)
        subprocess.run(['fusermount3', '-u', self.mnt], check=True)
        self.mounted = False

    def test_refusals(self):
        # Unknown file system.
        p = self.mount('fs-0123456789abcdef0')
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('FileSystemNotFound', p.stderr)
        # Another account's file system answers as an unknown one.
        fs_id = self.c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
        self.d.wait_state(self.c, fs_id, 'AVAILABLE')
        p = self.mount(fs_id, key='AKIDOTHER', secret='othersecret')
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('FileSystemNotFound', p.stderr)
        # Not AVAILABLE: deleting.
        self.c.delete_file_system(FileSystemId=fs_id)
        p = self.mount(fs_id)
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue('BadRequest' in p.stderr or 'FileSystemNotFound' in p.stderr, p.stderr)


if __name__ == '__main__':
    unittest.main()


@unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
class EngineNetwork(unittest.TestCase):
    """Engines bind the configured address on ports from the configured
    range, and clients are told the advertised address (issue 13, network)."""

    def test_engine_address_and_port_range(self):
        d = Fsxd('--engine-listen', '127.0.0.2', '--engine-ports', '47300-47340')
        mnt = tempfile.mkdtemp(prefix='fsx-mnt-')
        mounted = False
        try:
            c = d.client()
            fs = c.create_file_system(**dict(SCRATCH2, StorageCapacity=4800))['FileSystem']
            fs_id = fs['FileSystemId']
            d.wait_state(c, fs_id, 'AVAILABLE')
            run = os.path.join(d.state, 'run', fs_id)
            ports = [int(open(os.path.join(run, f)).read()) for f in os.listdir(run)
                     if f.endswith('.port')]
            self.assertGreaterEqual(len(ports), 2)
            self.assertEqual(len(set(ports)), len(ports))
            for port in ports:
                self.assertTrue(47300 <= port <= 47340, ports)
            # bound to 127.0.0.2 only: 127.0.0.1 refuses
            import socket
            for port in ports:
                s = socket.socket()
                self.assertNotEqual(s.connect_ex(('127.0.0.1', port)), 0)
                s.close()
                s = socket.socket()
                self.assertEqual(s.connect_ex(('127.0.0.2', port)), 0)
                s.close()
            env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
                       AWS_DEFAULT_REGION='us-east-1')
            p = subprocess.run([os.path.join(BIN, 'fsx-mount'), '--endpoint-url', d.url,
                                fs_id, mnt], capture_output=True, text=True, env=env,
                               timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            mounted = True
            data = os.urandom(5 * 1024 * 1024)
            with open(os.path.join(mnt, 'f'), 'wb') as f:
                f.write(data)
            with open(os.path.join(mnt, 'f'), 'rb') as f:
                self.assertEqual(f.read(), data)
            # a second file system takes other ports from the range
            fs2 = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
            d.wait_state(c, fs2, 'AVAILABLE')
            run2 = os.path.join(d.state, 'run', fs2)
            ports2 = [int(open(os.path.join(run2, f)).read()) for f in os.listdir(run2)
                      if f.endswith('.port')]
            self.assertFalse(set(ports) & set(ports2))
            self.assertTrue(all(47300 <= p <= 47340 for p in ports2))
        finally:
            if mounted:
                subprocess.run(['fusermount3', '-u', mnt], capture_output=True)
            os.rmdir(mnt)
            d.stop()

    def test_wildcard_listen_needs_advertise(self):
        p = subprocess.run([os.path.join(BIN, 'fsxd'), '--port', '0', '--state-dir',
                            tempfile.mkdtemp(prefix='fsxd-adv-'), '--engine-listen', '0.0.0.0'],
                           capture_output=True, text=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('--engine-advertise', p.stderr)
