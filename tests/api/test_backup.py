"""Backups through the real aws CLI and boto3 against fsxd with real engine
processes (docs/backups.md): every operation, rule and error of spec
6.2, 6.5, 6.13-6.16, automatic backups under a scaled clock, final
backups, copies across regions of this endpoint."""
import os
import signal
import time
import unittest

from tests.fsxlib import Fsxd, SCRATCH2

SUBNET = ['subnet-0123456789abcdef0']
P1 = dict(FileSystemType='LUSTRE', StorageCapacity=1200, SubnetIds=SUBNET,
          LustreConfiguration={'DeploymentType': 'PERSISTENT_1',
                               'PerUnitStorageThroughput': 50})
P2 = dict(FileSystemType='LUSTRE', StorageCapacity=1200, SubnetIds=SUBNET,
          LustreConfiguration={'DeploymentType': 'PERSISTENT_2',
                               'PerUnitStorageThroughput': 125})


def err_code(e):
    return e.response['Error']['Code']


class BackupCase(unittest.TestCase):
    ARGS = ()

    def setUp(self):
        self.d = Fsxd(*self.ARGS)
        self.c = self.d.client()

    def tearDown(self):
        if os.environ.get('FSX_BK_DEBUG'):
            os.system("grep -v 'access rid\\|info: db_init' %s/fsxd.log | tail -30" % self.d.state)
        self.d.stop()

    def fs(self, spec=P1, **kw):
        fs_id = self.c.create_file_system(**dict(spec, **kw))['FileSystem']['FileSystemId']
        self.d.wait_state(self.c, fs_id, 'AVAILABLE', 30)
        return fs_id

    def wait_backup(self, bid, want='AVAILABLE', timeout=30, client=None):
        c = client or self.c
        seen = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            b = c.describe_backups(BackupIds=[bid])['Backups'][0]
            if not seen or seen[-1] != (b['Lifecycle'], b['ProgressPercent']):
                seen.append((b['Lifecycle'], b['ProgressPercent']))
            if b['Lifecycle'] == want:
                return b, seen
            if b['Lifecycle'] == 'FAILED':
                self.fail('backup %s FAILED: %s' % (bid, b.get('FailureDetails')))
            time.sleep(0.02)
        self.fail('%s never reached %s; saw %s' % (bid, want, seen))

    def mds_pid(self, fs_id):
        return [p for p, k in self.d.engine_pids(fs_id) if k == 'fsx-mds'][0]

    def assertErr(self, code, fn, **kw):
        with self.assertRaises(Exception) as cm:
            fn(**kw)
        self.assertEqual(err_code(cm.exception), code, cm.exception)
        return cm.exception.response


class Lifecycle(BackupCase):
    def test_create_describe_lifecycle_and_contents(self):
        fs_id = self.fs(Tags=[{'Key': 'team', 'Value': 'a'}])
        b = self.c.create_backup(FileSystemId=fs_id)['Backup']
        bid = b['BackupId']
        self.assertRegex(bid, r'^backup-[0-9a-f]{17}$')
        self.assertIn(b['Lifecycle'], ('PENDING', 'CREATING'))
        self.assertEqual(b['Type'], 'USER_INITIATED')
        self.assertEqual(b['ResourceType'], 'FILE_SYSTEM')
        self.assertEqual(b['OwnerId'], '000000000000')
        self.assertEqual(b['ResourceARN'],
                         'arn:aws:fsx:us-east-1:000000000000:backup/' + bid)
        self.assertEqual(b['FileSystem']['FileSystemId'], fs_id)
        self.assertEqual(b['FileSystem']['LustreConfiguration']['DeploymentType'], 'PERSISTENT_1')
        self.assertNotIn('Tags', b)        # CopyTagsToBackups is off
        done, seen = self.wait_backup(bid)
        self.assertEqual(done['ProgressPercent'], 100)
        self.assertGreater(done['SizeInBytes'], 0)
        self.assertEqual(seen[-1], ('AVAILABLE', 100))
        # the data is on disk, outside the file system's directory
        self.assertTrue(os.path.isfile(os.path.join(self.d.state, 'backups', bid, 'mds.db')))

    def test_progress_moves_through_transferring(self):
        fs_id = self.fs()
        # SIGSTOP the MDS: the backup waits in CREATING for its snapshot
        pid = self.mds_pid(fs_id)
        os.kill(pid, signal.SIGSTOP)
        try:
            bid = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
            time.sleep(0.5)
            b = self.c.describe_backups(BackupIds=[bid])['Backups'][0]
            self.assertEqual((b['Lifecycle'], b['ProgressPercent']), ('CREATING', 0))
            # one backup at a time per file system
            r = self.assertErr('BackupInProgress', self.c.create_backup, FileSystemId=fs_id)
            self.assertIn(fs_id, r['Error']['Message'])
            # not finished: not deletable, not copyable, not restorable
            self.assertErr('BackupInProgress', self.c.delete_backup, BackupId=bid)
            r = self.assertErr('SourceBackupUnavailable', self.c.copy_backup,
                               SourceBackupId=bid)
            self.assertEqual(r['BackupId'], bid)
            self.assertErr('BadRequest', self.c.create_file_system_from_backup,
                           BackupId=bid, SubnetIds=SUBNET)
        finally:
            os.kill(pid, signal.SIGCONT)
        b, seen = self.wait_backup(bid)
        states = [s for s, _ in seen]
        self.assertEqual(states[0], 'CREATING')
        self.assertEqual(states[-1], 'AVAILABLE')

    def test_rules(self):
        self.assertErr('FileSystemNotFound', self.c.create_backup,
                       FileSystemId='fs-00000000000000000')
        self.assertErr('VolumeNotFound', self.c.create_backup,
                       VolumeId='fsvol-00000000000000000')
        self.assertErr('BadRequest', self.c.create_backup)
        scratch = self.fs(SCRATCH2)
        r = self.assertErr('BadRequest', self.c.create_backup, FileSystemId=scratch)
        self.assertIn('scratch', r['Error']['Message'])
        linked = self.fs(dict(P1, LustreConfiguration=dict(
            P1['LustreConfiguration'], ImportPath='s3://bucket/prefix')))
        r = self.assertErr('BadRequest', self.c.create_backup, FileSystemId=linked)
        self.assertIn('S3', r['Error']['Message'])
        # another account's file system is unknown
        self.assertErr('FileSystemNotFound', self.d.client(region='us-west-2').create_backup,
                       FileSystemId=scratch)

    def test_describe_filters_pagination_and_not_found(self):
        a = self.fs()
        b = self.fs(P2)
        ids = []
        for fs_id in (a, b, a):
            bid = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
            self.wait_backup(bid)
            ids.append(bid)
        every = [x['BackupId'] for x in self.c.describe_backups()['Backups']]
        self.assertEqual(every, ids)
        flt = self.c.describe_backups(Filters=[{'Name': 'file-system-id', 'Values': [a]}])
        self.assertEqual([x['BackupId'] for x in flt['Backups']], [ids[0], ids[2]])
        flt = self.c.describe_backups(Filters=[{'Name': 'backup-type', 'Values': ['AUTOMATIC']}])
        self.assertEqual(flt['Backups'], [])
        flt = self.c.describe_backups(Filters=[
            {'Name': 'backup-type', 'Values': ['USER_INITIATED']},
            {'Name': 'file-system-type', 'Values': ['LUSTRE']},
            {'Name': 'file-system-id', 'Values': [b]}])
        self.assertEqual([x['BackupId'] for x in flt['Backups']], [ids[1]])
        self.assertErr('FileSystemNotFound', self.c.describe_backups, Filters=[
            {'Name': 'file-system-id', 'Values': [b, 'fs-00000000000000001']}])
        flt = self.c.describe_backups(Filters=[{'Name': 'file-system-type', 'Values': ['OPENZFS']}])
        self.assertEqual(flt['Backups'], [])
        # pages of one, resumed with NextToken; the paginator walks them all
        page = self.c.describe_backups(MaxResults=1)
        self.assertEqual(len(page['Backups']), 1)
        got = [page['Backups'][0]['BackupId']]
        while 'NextToken' in page:
            page = self.c.describe_backups(MaxResults=1, NextToken=page['NextToken'])
            got += [x['BackupId'] for x in page['Backups']]
        self.assertEqual(got, ids)
        pages = self.c.get_paginator('describe_backups').paginate(PaginationConfig={'PageSize': 2})
        self.assertEqual([x['BackupId'] for p in pages for x in p['Backups']], ids)
        # ids override filters; one unknown id fails the call
        out = self.c.describe_backups(BackupIds=[ids[1]], Filters=[
            {'Name': 'file-system-id', 'Values': [a]}])
        self.assertEqual([x['BackupId'] for x in out['Backups']], [ids[1]])
        self.assertErr('BackupNotFound', self.c.describe_backups,
                       BackupIds=[ids[0], 'backup-00000000000000000'])
        self.assertErr('BadRequest', self.c.describe_backups, NextToken='Zm9vYmFy')
        # another region of the same account sees none of them
        self.assertEqual(self.d.client(region='eu-west-1').describe_backups()['Backups'], [])

    def test_idempotency_tags_and_delete(self):
        fs_id = self.fs(Tags=[{'Key': 'team', 'Value': 'a'}],
                        LustreConfiguration=dict(P1['LustreConfiguration'],
                                                 CopyTagsToBackups=True))
        one = self.c.create_backup(FileSystemId=fs_id, ClientRequestToken='tok-1')['Backup']
        two = self.c.create_backup(FileSystemId=fs_id, ClientRequestToken='tok-1')['Backup']
        self.assertEqual(one['BackupId'], two['BackupId'])
        r = self.assertErr('IncompatibleParameterError', self.c.create_backup,
                           FileSystemId=fs_id, ClientRequestToken='tok-1',
                           Tags=[{'Key': 'x', 'Value': 'y'}])
        self.assertEqual(r['Parameter'], 'Tags')
        self.assertEqual(one['Tags'], [{'Key': 'team', 'Value': 'a'}])   # copied
        self.wait_backup(one['BackupId'])
        mine = self.c.create_backup(FileSystemId=fs_id, Tags=[{'Key': 'k', 'Value': 'v'}])['Backup']
        self.assertEqual(mine['Tags'], [{'Key': 'k', 'Value': 'v'}])     # request wins
        self.wait_backup(mine['BackupId'])
        arn = mine['ResourceARN']
        self.c.tag_resource(ResourceARN=arn, Tags=[{'Key': 'more', 'Value': '1'}])
        tags = self.c.list_tags_for_resource(ResourceARN=arn)['Tags']
        self.assertEqual(tags, [{'Key': 'k', 'Value': 'v'}, {'Key': 'more', 'Value': '1'}])
        self.c.untag_resource(ResourceARN=arn, TagKeys=['k'])
        b = self.c.describe_backups(BackupIds=[mine['BackupId']])['Backups'][0]
        self.assertEqual(b['Tags'], [{'Key': 'more', 'Value': '1'}])
        # delete: DELETED at once, then gone; its files go with it
        out = self.c.delete_backup(BackupId=mine['BackupId'])
        self.assertEqual(out, dict(out, BackupId=mine['BackupId'], Lifecycle='DELETED'))
        self.assertErr('BackupNotFound', self.c.describe_backups, BackupIds=[mine['BackupId']])
        self.assertErr('BackupNotFound', self.c.delete_backup, BackupId=mine['BackupId'])
        self.assertErr('ResourceNotFound', self.c.list_tags_for_resource, ResourceARN=arn)
        deadline = time.time() + 10
        path = os.path.join(self.d.state, 'backups', mine['BackupId'])
        while os.path.exists(path) and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(os.path.exists(path))
        # the other backup is whole
        self.assertTrue(os.path.isfile(os.path.join(self.d.state, 'backups',
                                                    one['BackupId'], 'mds.db')))

    def test_cli(self):
        fs_id = self.fs()
        rc, out, err = self.d.cli('create-backup', '--file-system-id', fs_id,
                                  '--tags', 'Key=via,Value=cli')
        self.assertEqual(rc, 0, err)
        bid = out['Backup']['BackupId']
        self.wait_backup(bid)
        rc, out, err = self.d.cli('describe-backups', '--filters',
                                  'Name=file-system-id,Values=' + fs_id)
        self.assertEqual(rc, 0, err)
        self.assertEqual([b['BackupId'] for b in out['Backups']], [bid])
        self.assertEqual(out['Backups'][0]['Tags'], [{'Key': 'via', 'Value': 'cli'}])
        rc, out, err = self.d.cli('delete-backup', '--backup-id', 'backup-00000000000000000')
        self.assertNotEqual(rc, 0)
        self.assertIn('An error occurred (BackupNotFound) when calling the DeleteBackup operation', err)
        rc, out, err = self.d.cli('delete-backup', '--backup-id', bid)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out['Lifecycle'], 'DELETED')


class Quotas(BackupCase):
    ARGS = ('--quota-backups', '2', '--quota-backup-copies', '0')

    def test_limits(self):
        fs_id = self.fs()
        first = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
        self.wait_backup(first)
        r = self.assertErr('ServiceLimitExceeded', self.c.copy_backup, SourceBackupId=first)
        self.assertEqual(r['Limit'], 'TOTAL_IN_PROGRESS_COPY_BACKUPS')
        second = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
        self.wait_backup(second)
        r = self.assertErr('ServiceLimitExceeded', self.c.create_backup, FileSystemId=fs_id)
        self.assertEqual(r['Limit'], 'TOTAL_USER_INITIATED_BACKUPS')
        self.c.delete_backup(BackupId=first)
        self.c.create_backup(FileSystemId=fs_id)


class Slow(BackupCase):
    """With --create-delay, restores and copies stay CREATING/COPYING long
    enough to meet the rules that hold while they run."""
    ARGS = ('--create-delay', '1.5')

    def test_restore_rules_and_backup_restoring(self):
        fs_id = self.fs(Tags=[{'Key': 'a', 'Value': 'b'}])
        bid = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
        self.wait_backup(bid)
        self.assertErr('BackupNotFound', self.c.create_file_system_from_backup,
                       BackupId='backup-00000000000000000', SubnetIds=SUBNET)
        r = self.assertErr('BadRequest', self.c.create_file_system_from_backup,
                           BackupId=bid, SubnetIds=SUBNET, StorageCapacity=2400)
        self.assertIn('1200', r['Error']['Message'])
        self.assertErr('BadRequest', self.c.create_file_system_from_backup,
                       BackupId=bid, SubnetIds=SUBNET,
                       LustreConfiguration={'DeploymentType': 'PERSISTENT_2'})
        fs = self.c.create_file_system_from_backup(
            BackupId=bid, SubnetIds=SUBNET, StorageCapacity=1200, ClientRequestToken='r1',
            LustreConfiguration={'DeploymentType': 'PERSISTENT_1',
                                 'WeeklyMaintenanceStartTime': '3:04:05'},
            Tags=[{'Key': 'restored', 'Value': 'yes'}])['FileSystem']
        again = self.c.create_file_system_from_backup(
            BackupId=bid, SubnetIds=SUBNET, StorageCapacity=1200, ClientRequestToken='r1',
            LustreConfiguration={'DeploymentType': 'PERSISTENT_1',
                                 'WeeklyMaintenanceStartTime': '3:04:05'},
            Tags=[{'Key': 'restored', 'Value': 'yes'}])['FileSystem']
        self.assertEqual(fs['FileSystemId'], again['FileSystemId'])
        self.assertEqual(fs['Lifecycle'], 'CREATING')
        self.assertNotEqual(fs['FileSystemId'], fs_id)
        self.assertEqual(fs['StorageCapacity'], 1200)
        lc = fs['LustreConfiguration']
        self.assertEqual(lc['DeploymentType'], 'PERSISTENT_1')
        self.assertEqual(lc['PerUnitStorageThroughput'], 50)
        self.assertEqual(lc['WeeklyMaintenanceStartTime'], '3:04:05')
        self.assertEqual(fs['Tags'], [{'Key': 'restored', 'Value': 'yes'}])
        r = self.assertErr('BackupRestoring', self.c.delete_backup, BackupId=bid)
        self.assertEqual(r['FileSystemId'], fs['FileSystemId'])
        self.d.wait_state(self.c, fs['FileSystemId'], 'AVAILABLE', 30)
        self.c.delete_backup(BackupId=bid)

    def test_copy_same_region_and_being_copied(self):
        fs_id = self.fs(Tags=[{'Key': 'a', 'Value': '1'}],
                        LustreConfiguration=dict(P1['LustreConfiguration'],
                                                 CopyTagsToBackups=True))
        bid = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
        self.wait_backup(bid)
        self.assertErr('BackupNotFound', self.c.copy_backup,
                       SourceBackupId='backup-00000000000000000')
        self.assertErr('InvalidRegion', self.c.copy_backup, SourceBackupId=bid,
                       SourceRegion='mars')
        self.assertErr('BackupNotFound', self.c.copy_backup, SourceBackupId=bid,
                       SourceRegion='eu-west-1')
        cp = self.c.copy_backup(SourceBackupId=bid, CopyTags=True,
                                Tags=[{'Key': 'a', 'Value': '2'}, {'Key': 'c', 'Value': '3'}])['Backup']
        self.assertEqual(cp['Lifecycle'], 'COPYING')
        self.assertEqual(cp['SourceBackupId'], bid)
        self.assertEqual(cp['SourceBackupRegion'], 'us-east-1')
        self.assertEqual(cp['Type'], 'USER_INITIATED')
        self.assertEqual(sorted((t['Key'], t['Value']) for t in cp['Tags']),
                         [('a', '2'), ('c', '3')])
        r = self.assertErr('BackupBeingCopied', self.c.delete_backup, BackupId=bid)
        self.assertEqual(r['BackupId'], bid)
        done, _ = self.wait_backup(cp['BackupId'])
        self.assertEqual(done['FileSystem']['FileSystemId'], fs_id)
        # the copy outlives its source
        self.c.delete_backup(BackupId=bid)
        time.sleep(0.5)
        self.assertTrue(os.path.isfile(os.path.join(self.d.state, 'backups',
                                                    cp['BackupId'], 'mds.db')))

    def test_copy_to_another_region(self):
        fs_id = self.fs()
        bid = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
        self.wait_backup(bid)
        west = self.d.client(region='us-west-2')
        self.assertErr('BackupNotFound', west.copy_backup, SourceBackupId=bid)
        cp = west.copy_backup(SourceBackupId=bid, SourceRegion='us-east-1')['Backup']
        self.assertEqual(cp['ResourceARN'],
                         'arn:aws:fsx:us-west-2:000000000000:backup/' + cp['BackupId'])
        self.wait_backup(cp['BackupId'], client=west)
        self.assertEqual([b['BackupId'] for b in self.c.describe_backups()['Backups']], [bid])
        fs = west.create_file_system_from_backup(BackupId=cp['BackupId'],
                                                 SubnetIds=SUBNET)['FileSystem']
        self.assertIn(':us-west-2:', fs['ResourceARN'])
        self.d.wait_state(west, fs['FileSystemId'], 'AVAILABLE', 30)


class FinalAndAutomatic(BackupCase):
    ARGS = ('--day-seconds', '6')

    def test_final_backup_on_delete(self):
        scratch = self.fs(SCRATCH2)
        self.assertErr('BadRequest', self.c.delete_file_system, FileSystemId=scratch,
                       LustreConfiguration={'SkipFinalBackup': False})
        fs_id = self.fs()
        out = self.c.delete_file_system(
            FileSystemId=fs_id, LustreConfiguration={
                'SkipFinalBackup': False, 'FinalBackupTags': [{'Key': 'final', 'Value': 'yes'}]})
        self.assertEqual(out['Lifecycle'], 'DELETING')
        final = out['LustreResponse']['FinalBackupId']
        self.assertEqual(out['LustreResponse']['FinalBackupTags'],
                         [{'Key': 'final', 'Value': 'yes'}])
        self.d.wait_gone(self.c, fs_id, 30)
        b, _ = self.wait_backup(final)
        self.assertEqual(b['Type'], 'USER_INITIATED')
        self.assertEqual(b['Tags'], [{'Key': 'final', 'Value': 'yes'}])
        self.assertEqual(b['FileSystem']['FileSystemId'], fs_id)
        # a filter on the deleted file system still finds its backups
        flt = self.c.describe_backups(Filters=[{'Name': 'file-system-id', 'Values': [fs_id]}])
        self.assertEqual([x['BackupId'] for x in flt['Backups']], [final])
        # default: no final backup
        other = self.fs()
        out = self.c.delete_file_system(FileSystemId=other)
        self.assertNotIn('LustreResponse', out)

    def test_automatic_backups_retention_and_delete(self):
        fs_id = self.fs(LustreConfiguration=dict(
            P1['LustreConfiguration'], AutomaticBackupRetentionDays=1,
            DailyAutomaticBackupStartTime='00:00'))
        user = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
        self.wait_backup(user)
        auto = lambda: [b for b in self.c.describe_backups(Filters=[
            {'Name': 'backup-type', 'Values': ['AUTOMATIC']}])['Backups']]
        seen = set()
        deadline = time.time() + 45
        while time.time() < deadline and len(seen) < 3:
            seen |= {b['BackupId'] for b in auto()}
            time.sleep(0.2)
        self.assertGreaterEqual(len(seen), 3, seen)
        now = auto()
        for b in now:
            self.assertEqual(b['Type'], 'AUTOMATIC')
            self.assertEqual(b['FileSystem']['FileSystemId'], fs_id)
        # retention of one 6-second day: the oldest ones were deleted
        self.assertLessEqual(len([b for b in now if b['Lifecycle'] == 'AVAILABLE']), 2)
        self.assertLess(len(now), len(seen))
        # delete the file system: automatic backups go, the user one stays
        self.c.delete_file_system(FileSystemId=fs_id)
        self.d.wait_gone(self.c, fs_id, 30)
        deadline = time.time() + 10
        while auto() and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(auto(), [])
        self.assertEqual([b['BackupId'] for b in self.c.describe_backups()['Backups']], [user])


if __name__ == '__main__':
    unittest.main()
