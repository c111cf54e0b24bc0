"""Data repository tasks (spec 5, 6.10-6.12) through boto3 and the aws
CLI, run by the real fsx-hsm that fsxd starts, against a real
moto_server."""
import os
import signal
import time
import unittest

from tests.api.repolib import FS215, RepoCase, have_fuse

ENDED = ('SUCCEEDED', 'FAILED', 'CANCELED')


class Tasks(RepoCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fs = cls.c.create_file_system(**FS215)['FileSystem']['FileSystemId']
        cls.d.wait_state(cls.c, cls.fs, 'AVAILABLE', 60)
        a = cls.c.create_data_repository_association(
            FileSystemId=cls.fs, FileSystemPath='/ns1',
            DataRepositoryPath='s3://%s/data' % cls.bucket)['Association']
        cls.aid = a['AssociationId']

    def setUp(self):
        self.wait_dra(self.aid, ('AVAILABLE',))

    def export(self, **kw):
        req = dict(FileSystemId=self.fs, Type='EXPORT_TO_REPOSITORY',
                   Report={'Enabled': False})
        req.update(kw)
        return self.c.create_data_repository_task(**req)['DataRepositoryTask']

    def test_create_members(self):
        """task-1: the description AWS gives: id and ARN forms, PENDING,
        Paths, Report defaults, ReleaseConfiguration, tags."""
        t = self.c.create_data_repository_task(
            FileSystemId=self.fs, Type='RELEASE_DATA_FROM_FILESYSTEM', Paths=['ns1/a'],
            Report={'Enabled': True},
            ReleaseConfiguration={'DurationSinceLastAccess': {'Unit': 'DAYS', 'Value': 3}},
            Tags=[{'Key': 'k', 'Value': 'v'}])['DataRepositoryTask']
        self.assertRegex(t['TaskId'], r'^task-[0-9a-f]{17}$')
        self.assertEqual(t['ResourceARN'], 'arn:aws:fsx:us-east-1:000000000000:task/' + t['TaskId'])
        self.assertEqual(t['Lifecycle'], 'PENDING')
        self.assertEqual(t['Paths'], ['ns1/a'])
        self.assertEqual(t['Report'], {'Enabled': True, 'Path': 's3://%s/data/' % self.bucket,
                                       'Format': 'REPORT_CSV_20191124',
                                       'Scope': 'FAILED_FILES_ONLY'})
        self.assertEqual(t['ReleaseConfiguration']['DurationSinceLastAccess']['Value'], 3)
        self.assertEqual(t['Tags'], [{'Key': 'k', 'Value': 'v'}])
        self.assertEqual(self.c.list_tags_for_resource(ResourceARN=t['ResourceARN'])['Tags'],
                         [{'Key': 'k', 'Value': 'v'}])
        done, seen = self.wait_task(t['TaskId'], ENDED)
        self.assertIn('EndTime', done)
        self.assertIn('LastUpdatedTime', done['Status'])
        if done['Lifecycle'] == 'FAILED':
            self.assertTrue(done['FailureDetails']['Message'])

    def test_rules(self):
        """task-2: what CreateDataRepositoryTask refuses."""
        self.err(self.c.create_data_repository_task, 'FileSystemNotFound',
                 FileSystemId='fs-0123456789abcdef0', Type='EXPORT_TO_REPOSITORY',
                 Report={'Enabled': False})
        bare = self.new_fs()
        self.err(self.c.create_data_repository_task, 'BadRequest', 'not linked',
                 FileSystemId=bare, Type='EXPORT_TO_REPOSITORY', Report={'Enabled': False})
        self.err(self.c.create_data_repository_task, 'BadRequest', 'File Cache',
                 FileSystemId=self.fs, Type='AUTO_RELEASE_DATA', Report={'Enabled': False})
        self.err(self.c.create_data_repository_task, 'BadRequest', 'ReleaseConfiguration',
                 FileSystemId=self.fs, Type='EXPORT_TO_REPOSITORY', Report={'Enabled': False},
                 ReleaseConfiguration={'DurationSinceLastAccess': {'Unit': 'DAYS', 'Value': 1}})
        self.err(self.c.create_data_repository_task, 'BadRequest', 'report path',
                 FileSystemId=self.fs, Type='EXPORT_TO_REPOSITORY',
                 Report={'Enabled': True, 'Path': 's3://elsewhere-bucket/r',
                         'Format': 'REPORT_CSV_20191124', 'Scope': 'FAILED_FILES_ONLY'})
        self.err(self.raw.create_data_repository_task, 'BadRequest', 'validation error',
                 FileSystemId=self.fs, Type='EXPORT_TO_REPOSITORY', Report={'Enabled': False},
                 Paths=['p%d' % i for i in range(101)])
        self.err(self.c.describe_data_repository_tasks, 'DataRepositoryTaskNotFound',
                 TaskIds=['task-0123456789abcdef0'])
        self.err(self.raw.describe_data_repository_tasks, 'BadRequest', 'validation error',
                 TaskIds=['task-0123'])
        self.err(self.c.cancel_data_repository_task, 'DataRepositoryTaskNotFound',
                 TaskId='task-0123456789abcdef0')
        self.err(self.c.describe_data_repository_tasks, 'FileSystemNotFound',
                 Filters=[{'Name': 'file-system-id', 'Values': ['fs-0123456789abcdef0']}])

    def test_queue_cancel_and_delete_refused(self):
        """task-3: while the agent is stopped tasks stay PENDING, in order;
        an identical one is DataRepositoryTaskExecuting; DeleteFileSystem
        is refused; a cancel is CANCELING and ends CANCELED once the agent
        is back; an ended task cannot be cancelled."""
        pid = self.agent_pids(self.fs)[0]
        os.kill(pid, signal.SIGSTOP)
        try:
            t1 = self.export(Paths=['ns1/d0'])
            self.err(self.c.create_data_repository_task, 'DataRepositoryTaskExecuting',
                     FileSystemId=self.fs, Type='EXPORT_TO_REPOSITORY',
                     Report={'Enabled': False}, Paths=['ns1/d0'])
            t2 = self.export(Paths=['ns1/d1'])
            self.assertEqual([self.task(t['TaskId'])['Lifecycle'] for t in (t1, t2)],
                             ['PENDING', 'PENDING'])
            self.err(self.c.delete_file_system, 'BadRequest', 'data repository task',
                     FileSystemId=self.fs)
            r = self.c.cancel_data_repository_task(TaskId=t2['TaskId'])
            self.assertEqual(r, dict(r, Lifecycle='CANCELING', TaskId=t2['TaskId']))
            self.assertEqual(self.task(t2['TaskId'])['Lifecycle'], 'CANCELING')
            again = self.c.cancel_data_repository_task(TaskId=t2['TaskId'])
            self.assertEqual(again['Lifecycle'], 'CANCELING')
            pending = self.c.describe_data_repository_tasks(Filters=[
                {'Name': 'file-system-id', 'Values': [self.fs]},
                {'Name': 'task-lifecycle', 'Values': ['PENDING']}])['DataRepositoryTasks']
            self.assertIn(t1['TaskId'], [t['TaskId'] for t in pending])
            self.assertNotIn(t2['TaskId'], [t['TaskId'] for t in pending])
        finally:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass            # the monitor replaced the silent agent
        done2, _ = self.wait_task(t2['TaskId'], ENDED)
        self.assertEqual(done2['Lifecycle'], 'CANCELED')
        done1, _ = self.wait_task(t1['TaskId'], ENDED)
        self.err(self.c.cancel_data_repository_task, 'DataRepositoryTaskEnded',
                 TaskId=t1['TaskId'])
        self.assertEqual(len(self.agent_pids(self.fs)), 1)

    def test_describe_filters_pagination(self):
        """task-4: filters (file system, lifecycle, association), TaskIds,
        MaxResults and NextToken."""
        ids = [self.export(Paths=['ns1/page%d' % i])['TaskId'] for i in range(4)]
        got, tok = [], None
        while True:
            kw = {'NextToken': tok} if tok else {}
            page = self.c.describe_data_repository_tasks(
                Filters=[{'Name': 'file-system-id', 'Values': [self.fs]}], MaxResults=1, **kw)
            self.assertLessEqual(len(page['DataRepositoryTasks']), 1)
            got += [t['TaskId'] for t in page['DataRepositoryTasks']]
            tok = page.get('NextToken')
            if not tok:
                break
        self.assertEqual(got[-4:], ids)
        by_dra = self.c.describe_data_repository_tasks(Filters=[
            {'Name': 'data-repository-association-id', 'Values': [self.aid]}])['DataRepositoryTasks']
        self.assertTrue(set(ids) <= {t['TaskId'] for t in by_dra})
        self.assertEqual(self.c.describe_data_repository_tasks(Filters=[
            {'Name': 'data-repository-association-id', 'Values': ['dra-0123456789abcdef0']}]
        )['DataRepositoryTasks'], [])
        by_id = self.c.describe_data_repository_tasks(TaskIds=[ids[2], ids[0]])
        self.assertEqual([t['TaskId'] for t in by_id['DataRepositoryTasks']], [ids[0], ids[2]])
        for tid in ids:
            self.wait_task(tid, ENDED)
        ended = self.c.describe_data_repository_tasks(Filters=[
            {'Name': 'task-lifecycle', 'Values': ['PENDING', 'EXECUTING']},
            {'Name': 'file-system-id', 'Values': [self.fs]}])['DataRepositoryTasks']
        self.assertFalse(set(ids) & {t['TaskId'] for t in ended})

    def test_idempotency(self):
        """task-5: the same token and request give the same task."""
        a = self.export(Paths=['ns1/idem'], ClientRequestToken='task-tok-1')
        b = self.export(Paths=['ns1/idem'], ClientRequestToken='task-tok-1')
        self.assertEqual(a['TaskId'], b['TaskId'])
        e = self.err(self.c.create_data_repository_task, 'IncompatibleParameterError',
                     FileSystemId=self.fs, Type='EXPORT_TO_REPOSITORY', Report={'Enabled': False},
                     Paths=['ns1/other'], ClientRequestToken='task-tok-1')
        self.assertEqual(e['Parameter'], 'Paths')

    def test_cli(self):
        """task-6: the unchanged aws CLI creates and describes a task."""
        rc, out, err = self.d.cli('create-data-repository-task', '--file-system-id', self.fs,
                                  '--type', 'EXPORT_TO_REPOSITORY', '--paths', 'ns1/cli',
                                  '--report', 'Enabled=false')
        self.assertEqual(rc, 0, err)
        tid = out['DataRepositoryTask']['TaskId']
        rc, out, err = self.d.cli('describe-data-repository-tasks', '--task-ids', tid)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out['DataRepositoryTasks'][0]['Paths'], ['ns1/cli'])

    @unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
    def test_export_with_report(self):
        """task-7 (end to end): files written through a mount are exported
        by an EXPORT_TO_REPOSITORY task that runs to SUCCEEDED, its Status
        counts them, and its CSV report is in the bucket under
        <Report.Path>/<task id>/."""
        top = os.path.join(self.mount(self.fs), 'ns1', 'exp')
        os.makedirs(top, exist_ok=True)
        files = {'a.txt': b'alpha\n', 'sub/b.bin': os.urandom(70000)}
        for name, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(top, name)), exist_ok=True)
            with open(os.path.join(top, name), 'wb') as f:
                f.write(data)
        t = self.export(Paths=['ns1/exp'],
                        Report={'Enabled': True, 'Path': 's3://%s/data/reports' % self.bucket,
                                'Format': 'REPORT_CSV_20191124', 'Scope': 'FAILED_FILES_ONLY'})
        done, seen = self.wait_task(t['TaskId'], ENDED, timeout=120)
        self.assertEqual(done['Lifecycle'], 'SUCCEEDED', done)
        st = done['Status']
        self.assertEqual(st['TotalCount'], st['SucceededCount'] + st['FailedCount'])
        self.assertGreaterEqual(st['SucceededCount'], len(files))
        for name, data in files.items():
            self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key='data/exp/' + name)
                             ['Body'].read(), data)
        keys = [o['Key'] for o in self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix='data/reports/%s/' % t['TaskId']).get('Contents', [])]
        self.assertEqual(keys, ['data/reports/%s/failures.csv' % t['TaskId']])

    @unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
    def test_cancel_executing(self):
        """task-8 (end to end): a task cancelled while it exports a large
        file goes EXECUTING -> CANCELING -> CANCELED; the file in flight
        finishes (files in flight are not reverted)."""
        top = os.path.join(self.mount(self.fs), 'ns1', 'big')
        os.makedirs(top, exist_ok=True)
        with open(os.path.join(top, 'big.bin'), 'wb') as f:
            for _ in range(160):
                f.write(os.urandom(1 << 20))
        t = self.export(Paths=['ns1/big'])
        self.wait_task(t['TaskId'], ('EXECUTING',) + ENDED)
        r = self.c.cancel_data_repository_task(TaskId=t['TaskId'])
        self.assertEqual(r['Lifecycle'], 'CANCELING')
        done, seen = self.wait_task(t['TaskId'], ENDED, timeout=120)
        self.assertEqual(done['Lifecycle'], 'CANCELED', (done, seen))
        self.assertIn('EndTime', done)

    @unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
    def test_import_and_release_counters(self):
        """task-9 (end to end): an import task counts the bucket's objects
        (TotalCount = SucceededCount); a release task after an export
        reports the bytes it freed as ReleasedCapacity."""
        t = self.c.create_data_repository_task(
            FileSystemId=self.fs, Type='IMPORT_METADATA_FROM_REPOSITORY',
            Paths=['s3://%s/data/d0' % self.bucket], Report={'Enabled': False}
        )['DataRepositoryTask']
        done, _ = self.wait_task(t['TaskId'], ENDED, timeout=120)
        self.assertEqual(done['Lifecycle'], 'SUCCEEDED', done)
        self.assertEqual(done['Status']['SucceededCount'], 3)
        self.assertEqual(done['Status']['TotalCount'], 3)
        top = os.path.join(self.mount(self.fs), 'ns1', 'rel')
        os.makedirs(top, exist_ok=True)
        with open(os.path.join(top, 'r.bin'), 'wb') as f:
            f.write(os.urandom(3 << 20))
        t = self.export(Paths=['ns1/rel'])
        self.assertEqual(self.wait_task(t['TaskId'], ENDED, 120)[0]['Lifecycle'], 'SUCCEEDED')
        t = self.c.create_data_repository_task(
            FileSystemId=self.fs, Type='RELEASE_DATA_FROM_FILESYSTEM', Paths=['ns1/rel'],
            Report={'Enabled': False},
            ReleaseConfiguration={'DurationSinceLastAccess': {'Unit': 'DAYS', 'Value': 0}}
        )['DataRepositoryTask']
        done, _ = self.wait_task(t['TaskId'], ENDED, timeout=120)
        self.assertEqual(done['Lifecycle'], 'SUCCEEDED', done)
        self.assertGreaterEqual(done['Status']['ReleasedCapacity'], 3 << 20)
