"""fsxd end to end with the real aws CLI and boto3: lifecycles backed by
real engine processes, tags, capacity growth, deletion, restart."""
import os
import signal
import socket
import time
import unittest

from tests.fsxlib import Fsxd, SCRATCH2


def port_open(port):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.d = Fsxd('--update-gap', '0')
        self.c = self.d.client()

    def tearDown(self):
        self.d.stop()

    def test_create_available_tag_grow_delete_with_cli(self):
        rc, out, err = self.d.cli(
            'create-file-system', '--file-system-type', 'LUSTRE',
            '--storage-capacity', '1200', '--subnet-ids', 'subnet-0123456789abcdef0',
            '--lustre-configuration', 'DeploymentType=PERSISTENT_2,PerUnitStorageThroughput=125',
            '--tags', 'Key=Name,Value=ci')
        self.assertEqual(rc, 0, err)
        fs = out['FileSystem']
        fs_id = fs['FileSystemId']
        self.assertRegex(fs_id, r'^fs-[0-9a-f]{17}$')
        self.assertEqual(fs['Lifecycle'], 'CREATING')
        self.assertEqual(fs['OwnerId'], '000000000000')
        self.assertEqual(fs['ResourceARN'],
                         'arn:aws:fsx:us-east-1:000000000000:file-system/' + fs_id)
        self.assertEqual(fs['DNSName'], fs_id + '.fsx.us-east-1.amazonaws.com')
        self.assertIsInstance(fs['CreationTime'], (int, float))

        fs, seen = self.d.wait_state(self.c, fs_id, 'AVAILABLE')
        # AVAILABLE means the processes answer: one MDS and the OSSes.
        procs = self.d.engine_pids(fs_id)
        kinds = sorted(k for _, k in procs)
        self.assertEqual(kinds.count('fsx-mds'), 1, procs)
        self.assertGreaterEqual(kinds.count('fsx-oss'), 1, procs)
        ost_dirs = sorted(x for x in os.listdir(os.path.join(self.d.state, 'fs', fs_id))
                          if x.startswith('ost'))
        self.assertEqual(ost_dirs, ['ost0000'])
        for f in os.listdir(os.path.join(self.d.state, 'run', fs_id)):
            if f.endswith('.port'):
                self.assertTrue(port_open(int(open(os.path.join(
                    self.d.state, 'run', fs_id, f)).read())), f)

        # Tags.
        arn = fs['ResourceARN']
        rc, _, err = self.d.cli('tag-resource', '--resource-arn', arn,
                                '--tags', 'Key=team,Value=storage')
        self.assertEqual(rc, 0, err)
        rc, out, err = self.d.cli('list-tags-for-resource', '--resource-arn', arn)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out['Tags'], [{'Key': 'Name', 'Value': 'ci'},
                                       {'Key': 'team', 'Value': 'storage'}])
        rc, _, err = self.d.cli('untag-resource', '--resource-arn', arn, '--tag-keys', 'Name')
        self.assertEqual(rc, 0, err)
        fs = self.c.describe_file_systems(FileSystemIds=[fs_id])['FileSystems'][0]
        self.assertEqual(fs['Tags'], [{'Key': 'team', 'Value': 'storage'}])

        # Grow 1200 -> 2400: UPDATING, then AVAILABLE with a second OST.
        rc, out, err = self.d.cli('update-file-system', '--file-system-id', fs_id,
                                  '--storage-capacity', '2400')
        self.assertEqual(rc, 0, err)
        acts = out['FileSystem']['AdministrativeActions']
        self.assertEqual(acts[0]['AdministrativeActionType'], 'FILE_SYSTEM_UPDATE')
        self.assertEqual(acts[0]['TargetFileSystemValues']['StorageCapacity'], 2400)
        deadline = time.time() + 20
        while True:
            fs = self.c.describe_file_systems(FileSystemIds=[fs_id])['FileSystems'][0]
            act = fs['AdministrativeActions'][0]
            if fs['Lifecycle'] == 'AVAILABLE' and act['Status'] == 'COMPLETED':
                break
            self.assertLess(time.time(), deadline, fs)
            time.sleep(0.05)
        self.assertEqual(fs['StorageCapacity'], 2400)
        ost_dirs = sorted(x for x in os.listdir(os.path.join(self.d.state, 'fs', fs_id))
                          if x.startswith('ost'))
        self.assertEqual(ost_dirs, ['ost0000', 'ost0001'])
        self.assertEqual(sorted(k for _, k in self.d.engine_pids(fs_id)).count('fsx-oss'), 2)

        # Delete: DELETING, processes stopped, data removed, then not found.
        rc, out, err = self.d.cli('delete-file-system', '--file-system-id', fs_id)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, {'FileSystemId': fs_id, 'Lifecycle': 'DELETING'})
        self.d.wait_gone(self.c, fs_id)
        self.assertEqual(self.d.engine_pids(fs_id), [])
        self.assertFalse(os.path.exists(os.path.join(self.d.state, 'fs', fs_id)))
        rc, _, err = self.d.cli('describe-file-systems', '--file-system-ids', fs_id)
        self.assertNotEqual(rc, 0)
        self.assertIn('FileSystemNotFound', err)

    def test_scratch1_mount_name_and_health_metrics(self):
        fs = self.c.create_file_system(FileSystemType='LUSTRE', StorageCapacity=1200,
                                       SubnetIds=['subnet-0123456789abcdef0'])['FileSystem']
        self.assertEqual(fs['LustreConfiguration']['MountName'], 'fsx')
        self.assertEqual(fs['LustreConfiguration']['DeploymentType'], 'SCRATCH_1')
        self.d.wait_state(self.c, fs['FileSystemId'], 'AVAILABLE')
        import urllib.request
        body = urllib.request.urlopen(self.d.url + '/health').read()
        self.assertIn(b'ok', body)
        m = urllib.request.urlopen(self.d.url + '/metrics').read().decode()
        self.assertIn('fsxd_requests_total{operation="CreateFileSystem",status="200"} 1', m)
        self.assertIn('fsxd_file_systems{lifecycle="AVAILABLE"} 1', m)
        self.assertIn('fsxd_request_duration_seconds_bucket{le="+Inf"}', m)

    def test_engine_process_killed_is_restarted(self):
        fs_id = self.c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
        self.d.wait_state(self.c, fs_id, 'AVAILABLE')
        before = self.d.engine_pids(fs_id)
        oss = [p for p, k in before if k == 'fsx-oss'][0]
        os.kill(oss, signal.SIGKILL)
        deadline = time.time() + 10
        while time.time() < deadline:
            now = self.d.engine_pids(fs_id)
            if len(now) == len(before) and oss not in [p for p, _ in now]:
                break
            time.sleep(0.1)
        else:
            self.fail('OSS not restarted: %s -> %s' % (before, self.d.engine_pids(fs_id)))


class Restart(unittest.TestCase):
    def test_kill9_during_creation_then_adopt(self):
        # A create delay opens a window to kill fsxd while the job runs.
        d = Fsxd('--create-delay', '0.5')
        try:
            c = d.client()
            fs_id = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
            time.sleep(0.1)
            d.kill9()
            d.start()
            c = d.client()
            d.wait_state(c, fs_id, 'AVAILABLE')
            first = sorted(d.engine_pids(fs_id))
            self.assertEqual([k for _, k in first].count('fsx-mds'), 1, first)
            # Restart again: the live processes are adopted, not duplicated.
            d.kill9()
            d.start()
            c = d.client()
            d.wait_state(c, fs_id, 'AVAILABLE')
            time.sleep(1.5)
            self.assertEqual(sorted(d.engine_pids(fs_id)), first)
            # State survives: the file system is still described the same way.
            fs = c.describe_file_systems(FileSystemIds=[fs_id])['FileSystems'][0]
            self.assertEqual(fs['StorageCapacity'], 1200)
        finally:
            d.stop()


if __name__ == '__main__':
    unittest.main()
