"""Shared set-up of the data repository API tests (test_dra.py,
test_tasks.py): a moto_server of our own on a random loopback port, an
fsxd whose S3 settings come from the SDKs' environment variables (as a
user's would), Lustre 2.15 file systems, and waits on association and
task lifecycles through boto3."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import boto3
import botocore.config

from botocore.exceptions import ClientError

from tests.fsxlib import BIN, Fsxd, SCRATCH2
from tests.s3.hsmlib import AKID, SECRET, Moto

FS215 = dict(SCRATCH2, FileSystemTypeVersion='2.15')


def have_fuse():
    return os.path.exists('/dev/fuse') and os.path.exists(os.path.join(BIN, 'fsx-mount'))


class RepoCase(unittest.TestCase):
    """One moto_server and one fsxd per class; `bucket` holds a few
    objects in nested prefixes."""
    fsxd_args = ()
    s3_in_config = False    # S3 settings in fsxd's config file, else the environment

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix='fsx-repo-', dir='/var/tmp')
        cls.moto = Moto(cls.dir).start()
        cls.s3 = cls.moto.s3()
        cls.bucket = 'repo-bucket'
        cls.s3.create_bucket(Bucket=cls.bucket)
        for i in range(6):
            cls.s3.put_object(Bucket=cls.bucket, Key='data/d%d/f%d.txt' % (i % 2, i),
                              Body=b'x' * (10 + i), ContentType='text/plain')
        if cls.s3_in_config:
            # fsxd's own settings, from its config file, not the environment
            conf = os.path.join(cls.dir, 'fsxd.conf')
            with open(conf, 'w') as f:
                f.write('s3-endpoint = %s\ns3-region = us-east-1\n'
                        's3-access-key = %s\ns3-secret-key = %s\n'
                        % (cls.moto.endpoint, AKID, SECRET))
            os.chmod(conf, 0o600)
            env = {k: '' for k in ('AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL',
                                   'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY')}
            cls.d = Fsxd('--config', conf, '--hsm-poll-ms', '200', *cls.fsxd_args, env=env)
        else:
            cls.d = Fsxd('--hsm-poll-ms', '200', *cls.fsxd_args, env=dict(
                AWS_ENDPOINT_URL_S3=cls.moto.endpoint, AWS_ACCESS_KEY_ID=AKID,
                AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION='us-east-1'))
        cls.c = cls.d.client()
        # without botocore's own checks, so that fsxd's validator answers
        cls.raw = boto3.client('fsx', endpoint_url=cls.d.url, region_name='us-east-1',
                               aws_access_key_id='test', aws_secret_access_key='test',
                               config=botocore.config.Config(parameter_validation=False,
                                                             retries={'max_attempts': 1}))

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.moto.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def err(self, fn, code, msg=None, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        self.assertEqual(e['Error']['Code'], code, e)
        self.assertEqual(e['ResponseMetadata']['HTTPStatusCode'], 400)
        if msg is not None:
            self.assertIn(msg, e['Error']['Message'])
        return e

    def new_fs(self, **over):
        req = dict(FS215)
        req.update(over)
        fs = self.c.create_file_system(**req)['FileSystem']
        self.d.wait_state(self.c, fs['FileSystemId'], 'AVAILABLE', 60)
        return fs['FileSystemId']

    def dra(self, aid):
        return self.c.describe_data_repository_associations(
            AssociationIds=[aid])['Associations'][0]

    def wait_lifecycle(self, get, oid, want, timeout):
        """Poll get(oid) until its Lifecycle is in `want`; returns it and
        the lifecycles seen on the way."""
        seen, end = [], time.time() + timeout
        while time.time() < end:
            x = get(oid)
            if not seen or seen[-1] != x['Lifecycle']:
                seen.append(x['Lifecycle'])
            if x['Lifecycle'] in want:
                return x, seen
            time.sleep(0.05)
        raise AssertionError('%s never reached %s; saw %s' % (oid, want, seen))

    def wait_dra(self, aid, want, timeout=30):
        return self.wait_lifecycle(self.dra, aid, want, timeout)

    def wait_dra_gone(self, aid, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            try:
                self.dra(aid)
            except self.c.exceptions.DataRepositoryAssociationNotFound:
                return
            time.sleep(0.05)
        raise AssertionError('%s was not deleted' % aid)

    def new_dra(self, fs_id, path, repo, want=('AVAILABLE',), **kw):
        a = self.c.create_data_repository_association(
            FileSystemId=fs_id, FileSystemPath=path, DataRepositoryPath=repo,
            **kw)['Association']
        self.assertEqual(a['Lifecycle'], 'CREATING')
        return self.wait_dra(a['AssociationId'], want)[0]

    def task(self, tid):
        return self.c.describe_data_repository_tasks(TaskIds=[tid])['DataRepositoryTasks'][0]

    def wait_task(self, tid, want, timeout=60):
        return self.wait_lifecycle(self.task, tid, want, timeout)

    def agent_pids(self, fs_id):
        return [p for p, kind in self.d.engine_pids(fs_id) if kind == 'fsx-hsm']

    def mount(self, fs_id):
        """Mount fs_id with the unchanged fsx-mount through fsxd; unmounted
        at the test's end."""
        mnt = tempfile.mkdtemp(prefix='fsx-repo-mnt-')
        env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
                   AWS_DEFAULT_REGION='us-east-1')
        p = subprocess.run([os.path.join(BIN, 'fsx-mount'), '--endpoint-url', self.d.url,
                            fs_id, mnt], capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)

        def unmount():
            subprocess.run(['fusermount3', '-u', mnt], capture_output=True)
            os.rmdir(mnt)
        self.addCleanup(unmount)
        return mnt
