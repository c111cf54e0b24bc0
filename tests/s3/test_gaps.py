"""Gaps of the S3 repository closed: denied access turns an association
MISCONFIGURED (moto_server enforcing IAM), IMPORT_METADATA_FROM_REPOSITORY
applies deletions, and auto-import survives kill -9 of fsx-hsm between two
bucket changes (its last listing is kept in the store)."""
import hashlib
import json
import os
import shutil
import time
import unittest

import boto3
from botocore.config import Config

from ..fs.engine import EngineCase, wait_for
from .hsmlib import (AKID, Agent, Moto, assoc, new_secret, s3_conf,
                     wait_available, wait_state)

BUCKET = 'gaps'
DRA = 'dra-0123456789abcdef7'


class AuthMoto(Moto):
    """A moto_server that checks signatures and IAM policies after its
    first `free` requests (INITIAL_NO_AUTH_ACTION_COUNT)."""

    def __init__(self, workdir, free):
        super().__init__(workdir)
        self.free = free

    def start(self):
        old = os.environ.get('INITIAL_NO_AUTH_ACTION_COUNT')
        os.environ['INITIAL_NO_AUTH_ACTION_COUNT'] = str(self.free)
        try:
            return super().start()
        finally:
            if old is None:
                del os.environ['INITIAL_NO_AUTH_ACTION_COUNT']
            else:
                os.environ['INITIAL_NO_AUTH_ACTION_COUNT'] = old


OPEN = ['arn:aws:s3:::open', 'arn:aws:s3:::open/*']
LOCKED = ['arn:aws:s3:::locked', 'arn:aws:s3:::locked/*']


class DeniedAccess(unittest.TestCase):
    """An IAM user allowed only bucket `open`: an association over
    `locked` is MISCONFIGURED with AWS's kind of message, one over `open`
    AVAILABLE; an unknown access key is MISCONFIGURED too; a bucket that
    does not exist (for a user allowed everything) FAILED."""

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.dir = tempfile.mkdtemp(prefix='fsx-s3gap-', dir='/var/tmp')
        cls.secret, cls.secret_file = new_secret(cls.dir)
        # requests without auth: 2 buckets, 3 users, 3 keys, 3 policies
        cls.moto = AuthMoto(cls.dir, 11).start()
        kw = dict(endpoint_url=cls.moto.endpoint, region_name='us-east-1',
                  aws_access_key_id=AKID, aws_secret_access_key='x')
        s3 = boto3.client('s3', config=Config(s3={'addressing_style': 'path'}),
                          **kw)
        iam = boto3.client('iam', **kw)
        s3.create_bucket(Bucket='locked')
        s3.create_bucket(Bucket='open')
        cls.keys = {}
        for user, act, res in (('narrow', 's3:*', OPEN), ('wide', 's3:*', ['*']),
                               ('admin', '*', ['*'])):
            iam.create_user(UserName=user)
            cls.keys[user] = iam.create_access_key(UserName=user)['AccessKey']
            iam.put_user_policy(UserName=user, PolicyName='s3', PolicyDocument=json.dumps(
                {'Version': '2012-10-17', 'Statement': [
                    {'Effect': 'Allow', 'Action': act, 'Resource': res}]}))
        cls.agent = Agent(cls.dir, cls.secret_file, cls.secret).start()

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.moto.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def conf(self, akid, secret, assocs):
        doc = s3_conf(self.moto, assocs=assocs)
        doc['s3']['access_key'] = akid
        doc['s3']['secret_key'] = secret
        cli = self.agent.client()
        self.addCleanup(cli.close)
        cli.conf(doc)
        return cli

    def test_denied_bucket_is_misconfigured(self):
        k = self.keys['narrow']
        # no prefix: moto 5.2 miscomputes signatures of queries with an
        # encoded "/" when it checks them (boto3's fail there too)
        cli = self.conf(k['AccessKeyId'], k['SecretAccessKey'], [
            assoc('dra-00000000000000001', 'locked', ''),
            assoc('dra-00000000000000002', 'open', '')])
        st = wait_state(cli, 'associations', 'dra-00000000000000001',
                        {'AVAILABLE', 'FAILED', 'MISCONFIGURED'})
        self.assertEqual(st['state'], 'MISCONFIGURED', st)
        self.assertIn('does not have the required permissions for the S3 '
                      'bucket locked', st['message'])
        self.assertIn('AccessDenied', st['message'])
        st = wait_state(cli, 'associations', 'dra-00000000000000002',
                        {'AVAILABLE', 'FAILED', 'MISCONFIGURED'})
        self.assertEqual(st['state'], 'AVAILABLE', st)

    def test_misconfigured_recovers_and_denial_is_noticed(self):
        """FSx: MISCONFIGURED recovers after the fix (checked again every
        recheck_ms); access taken away while AVAILABLE is noticed by the
        auto-import poll (MISCONFIGURED)."""
        k, a = self.keys['narrow'], self.keys['admin']
        iam = boto3.client('iam', endpoint_url=self.moto.endpoint,
                           region_name='us-east-1',
                           aws_access_key_id=a['AccessKeyId'],
                           aws_secret_access_key=a['SecretAccessKey'])

        def allow(res):
            iam.put_user_policy(UserName='narrow', PolicyName='s3',
                                PolicyDocument=json.dumps({
                                    'Version': '2012-10-17', 'Statement': [
                                        {'Effect': 'Allow', 'Action': 's3:*',
                                         'Resource': res}]}))
        self.addCleanup(allow, OPEN)
        doc = s3_conf(self.moto, assocs=[assoc('dra-00000000000000005',
                                               'locked', '', imp=['NEW'])])
        doc['s3'].update(access_key=k['AccessKeyId'],
                         secret_key=k['SecretAccessKey'])
        doc['recheck_ms'] = 300
        cli = self.agent.client()
        self.addCleanup(cli.close)
        cli.conf(doc)
        aid = 'dra-00000000000000005'
        st = wait_state(cli, 'associations', aid,
                        {'AVAILABLE', 'FAILED', 'MISCONFIGURED'})
        self.assertEqual(st['state'], 'MISCONFIGURED', st)
        allow(OPEN + LOCKED)
        st = wait_state(cli, 'associations', aid, {'AVAILABLE'}, 20)
        self.assertIsNone(st['message'])
        allow(OPEN)
        st = wait_state(cli, 'associations', aid, {'MISCONFIGURED'}, 20)
        self.assertIn('bucket locked', st['message'])

    def test_unknown_access_key_is_misconfigured(self):
        cli = self.conf('AKIANOSUCHKEY0000000', 'nope', [
            assoc('dra-00000000000000003', 'open', '')])
        st = wait_state(cli, 'associations', 'dra-00000000000000003',
                        {'AVAILABLE', 'FAILED', 'MISCONFIGURED'})
        self.assertEqual(st['state'], 'MISCONFIGURED', st)
        self.assertIn('bucket open', st['message'])

    def test_missing_bucket_is_failed(self):
        k = self.keys['wide']
        cli = self.conf(k['AccessKeyId'], k['SecretAccessKey'], [
            assoc('dra-00000000000000004', 'no-such-bucket', '')])
        st = wait_state(cli, 'associations', 'dra-00000000000000004',
                        {'AVAILABLE', 'FAILED', 'MISCONFIGURED'})
        self.assertEqual(st['state'], 'FAILED', st)
        self.assertIn('no-such-bucket', st['message'])
        self.assertIn('does not exist', st['message'])


class GapCase(EngineCase):
    """moto_server, the engine, a mount, and fsx-hsm with one association
    /ns1 <-> s3://gaps/data/ (batch import, every auto-import event)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            d = cls.engine.dir
            cls.moto = Moto(d).start()
            cls.s3 = cls.moto.s3()
            cls.s3.create_bucket(Bucket=BUCKET)
            for i in range(6):
                cls.s3.put_object(Bucket=BUCKET, Key='data/d/f%d' % i,
                                  Body=b'x' * (i + 1))
            cls.agent = Agent(d, cls.engine.secret_file, cls.engine.secret)
            cls.agent.start()
            cls.configure()
            wait_available(cls.cli, DRA)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def configure(cls):
        cls.cli = cls.agent.client()
        cls.cli.conf(s3_conf(cls.moto, mds='127.0.0.1:%d' % cls.engine.mds.port,
                             assocs=[assoc(DRA, BUCKET, 'data/', batch=True,
                                           imp=['NEW', 'CHANGED', 'DELETED'],
                                           exp=['NEW', 'CHANGED', 'DELETED'])],
                             poll_ms=300))

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, 'cli', None) is not None:
            cls.cli.close()
        for x in ('agent', 'moto'):
            if hasattr(cls, x):
                getattr(cls, x).stop()
        super().tearDownClass()

    def p(self, rel):
        return self.path('ns1', rel)

    def keys(self, prefix):
        return sorted(o['Key'] for o in self.s3.list_objects_v2(
            Bucket=BUCKET, Prefix=prefix).get('Contents', []))

    def hsm_state(self, rel):
        from ..fs.engine import binpath
        import subprocess
        return subprocess.run([binpath('lfs'), 'hsm_state', self.p(rel)],
                              capture_output=True, text=True,
                              timeout=30).stdout

    def wait_exists(self, rel, want=True, timeout=30):
        wait_for(lambda: os.path.exists(self.p(rel)) == want, timeout,
                 '%s %s' % (rel, 'to appear' if want else 'to go'))


class FileRename(GapCase):
    """A renamed file follows under the new name: a released one by an
    S3-side copy (its data is not read back and it stays released), a
    restored clean one by export; the old keys go (DELETED policy) and
    auto-import brings nothing back."""

    def test_renamed_files_move_their_objects(self):
        state = self.hsm_state
        for i in range(6):
            self.wait_exists('d/f%d' % i)
        self.assertEqual(open(self.p('d/f0'), 'rb').read(), b'x')  # restored
        self.assertIn('released', state('d/f3'))
        os.rename(self.p('d/f3'), self.p('d/g3'))
        os.rename(self.p('d/f0'), self.p('d/g0'))
        wait_for(lambda: 'data/d/g3' in self.keys('data/d/') and
                 'data/d/g0' in self.keys('data/d/') and
                 'data/d/f3' not in self.keys('data/d/') and
                 'data/d/f0' not in self.keys('data/d/'), 30,
                 'the objects moved (now %s)' % self.keys('data/d/'))
        self.assertEqual(self.s3.get_object(
            Bucket=BUCKET, Key='data/d/g3')['Body'].read(), b'xxxx')
        self.assertEqual(self.s3.get_object(
            Bucket=BUCKET, Key='data/d/g0')['Body'].read(), b'x')
        self.assertIn('released', state('d/g3'))
        self.assertEqual(open(self.p('d/g3'), 'rb').read(), b'xxxx')
        time.sleep(1.5)             # auto-import (poll 300 ms): nothing back
        self.assertFalse(os.path.exists(self.p('d/f3')))
        self.assertFalse(os.path.exists(self.p('d/f0')))


class ImportTaskDeletes(GapCase):
    """IMPORT_METADATA_FROM_REPOSITORY applies deletions (auto-import of
    DELETED is off here): the file of a deleted object goes, unless it was
    written (dirty) or never came from that object."""

    @classmethod
    def configure(cls):
        cls.cli = cls.agent.client()
        cls.cli.conf(s3_conf(cls.moto, mds='127.0.0.1:%d' % cls.engine.mds.port,
                             assocs=[assoc(DRA, BUCKET, 'data/', batch=True)],
                             poll_ms=300))

    def test_import_task_removes_deleted_objects_files(self):
        for i in range(6):
            self.wait_exists('d/f%d' % i)
        with open(self.p('d/f1'), 'ab') as f:      # restored, then dirty
            f.write(b'!')
        with open(self.p('d/mine'), 'wb') as f:    # never in the bucket
            f.write(b'mine')
        for i in (0, 1, 2):
            self.s3.delete_object(Bucket=BUCKET, Key='data/d/f%d' % i)
        self.s3.put_object(Bucket=BUCKET, Key='data/d/f9', Body=b'nine')
        time.sleep(1)       # no auto-import: nothing moves by itself
        self.assertTrue(os.path.exists(self.p('d/f0')))
        self.cli.task({'id': 'task-0123456789abcdef7',
                       'type': 'IMPORT_METADATA_FROM_REPOSITORY',
                       'paths': ['s3://%s/data/d/' % BUCKET]})
        st = wait_state(self.cli, 'tasks', 'task-0123456789abcdef7',
                        {'SUCCEEDED', 'FAILED', 'CANCELED'}, 60)
        self.assertEqual(st['state'], 'SUCCEEDED', st)
        self.assertFalse(os.path.exists(self.p('d/f0')))
        self.assertFalse(os.path.exists(self.p('d/f2')))
        with open(self.p('d/f1'), 'rb') as f:
            self.assertEqual(f.read(), b'xx!')
        with open(self.p('d/mine'), 'rb') as f:
            self.assertEqual(f.read(), b'mine')
        with open(self.p('d/f9'), 'rb') as f:
            self.assertEqual(f.read(), b'nine')
        self.assertTrue(os.path.exists(self.p('d/f3')))
        # the 4 objects listed (f3, f4, f5, f9) + the 2 files removed
        self.assertEqual((st['total'], st['succeeded'], st['failed']),
                         (6, 6, 0), st)


class AgentKilled(GapCase):
    """kill -9 of fsx-hsm between two bucket changes: the changes made
    while it was down are applied after its restart (none missed), and
    what it had applied is not applied again (a file written since is not
    overwritten by a replayed import)."""

    def test_kill9_between_two_bucket_changes(self):
        self.wait_exists('d/f5')
        # change 1, seen by the running agent
        self.s3.put_object(Bucket=BUCKET, Key='data/one', Body=b'one')
        self.wait_exists('one')
        snap = os.path.join(self.agent.store, 'snap-' + DRA)
        wait_for(lambda: os.path.exists(snap) and b'\tdata/one\n' in
                 open(snap, 'rb').read(), 30, 'snapshot with data/one')
        # a file written here after its import: replaying change 1 would
        # release it again and lose nothing, but it must stay as written
        with open(self.p('one'), 'wb') as f:
            f.write(b'ONE, changed here')
        etag = hashlib.md5(b'ONE, changed here').hexdigest().encode()
        wait_for(lambda: etag in open(snap, 'rb').read(), 30,
                 'the export of one in the snapshot')
        self.agent.srv.kill9()
        # change 2 while the agent is down: new, changed and deleted
        self.s3.put_object(Bucket=BUCKET, Key='data/two', Body=b'two')
        self.s3.put_object(Bucket=BUCKET, Key='data/d/f4', Body=b'changed')
        self.s3.delete_object(Bucket=BUCKET, Key='data/d/f3')
        self.agent.srv.restart()
        self.cli.close()
        self.configure()
        self.wait_exists('two')
        self.wait_exists('d/f3', want=False)
        wait_for(lambda: open(self.p('d/f4'), 'rb').read() == b'changed',
                 30, 'd/f4 changed')
        with open(self.p('two'), 'rb') as f:
            self.assertEqual(f.read(), b'two')
        with open(self.p('one'), 'rb') as f:
            self.assertEqual(f.read(), b'ONE, changed here')
        self.assertEqual(self.s3.get_object(Bucket=BUCKET, Key='data/one')
                         ['Body'].read(), b'ONE, changed here')


class DirRename(GapCase):
    """A renamed directory is exported as FSx does: every object of it
    under its new key (released files by an S3-side copy, nothing read
    back), the old keys deleted (DELETED policy), and nothing imported
    back by auto-import."""

    def test_renamed_directory_moves_its_objects(self):
        state = self.hsm_state
        for i in range(6):
            self.wait_exists('d/f%d' % i)
        self.assertEqual(open(self.p('d/f0'), 'rb').read(), b'x')  # restored
        with open(self.p('d/new'), 'wb') as f:
            f.write(b'new')
        os.mkdir(self.p('d/sub'))
        with open(self.p('d/sub/s'), 'wb') as f:
            f.write(b'sub')
        wait_for(lambda: 'data/d/sub/s' in self.keys('data/d/') and
                 'data/d/new' in self.keys('data/d/'), 30, 'auto-export')
        self.assertIn('released', state('d/f3'))
        os.rename(self.p('d'), self.p('e'))
        want = ['data/e/', 'data/e/f%d' % 0] + ['data/e/f%d' % i
                                                for i in range(1, 6)] + \
            ['data/e/new', 'data/e/sub/', 'data/e/sub/s']
        want = sorted(set(want))
        wait_for(lambda: self.keys('data/e/') == want and
                 self.keys('data/d/') == [], 30,
                 'the objects moved (now %s and %s)' % (
                     self.keys('data/e/'), self.keys('data/d/')))
        for i in range(6):
            self.assertEqual(self.s3.get_object(
                Bucket=BUCKET, Key='data/e/f%d' % i)['Body'].read(),
                b'x' * (i + 1))
        self.assertEqual(self.s3.get_object(
            Bucket=BUCKET, Key='data/e/sub/s')['Body'].read(), b'sub')
        # the released file moved without being read, and reads from its
        # new key; the restored one stays clean
        self.assertIn('released', state('e/f3'))
        self.assertEqual(open(self.p('e/f3'), 'rb').read(), b'xxxx')
        self.assertIn('exists archived', state('e/f0'))
        # auto-import (poll 300 ms) brings nothing back, releases nothing
        time.sleep(1.5)
        self.assertFalse(os.path.exists(self.p('d')))
        self.assertNotIn('released', state('e/f0'))
        self.assertNotIn('dirty', state('e/new'))
