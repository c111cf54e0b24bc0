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
