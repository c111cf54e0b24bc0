"""Data repository associations (spec 5, 6.6-6.9) and the legacy
ImportPath link (spec 4.5) through boto3 and the aws CLI, against a real
moto_server and the real fsx-hsm agent that fsxd starts per file system."""
import os
import signal
import time
import unittest

from tests.api.repolib import FS215, RepoCase, have_fuse
from tests.fsxlib import SCRATCH2


class Associations(RepoCase):
    def test_create_describe_available(self):
        """dra-1: CREATING -> AVAILABLE once the agent checked the bucket;
        every member AWS gives, paths normalised, tags, ARN and id forms."""
        fs = self.new_fs()
        a = self.c.create_data_repository_association(
            FileSystemId=fs, FileSystemPath='/ns1/', DataRepositoryPath='s3://%s/data' % self.bucket,
            BatchImportMetaDataOnCreate=True,
            S3={'AutoImportPolicy': {'Events': ['NEW', 'CHANGED']},
                'AutoExportPolicy': {'Events': ['NEW', 'CHANGED', 'DELETED']}},
            Tags=[{'Key': 'team', 'Value': 'hpc'}])['Association']
        aid = a['AssociationId']
        self.assertRegex(aid, r'^dra-[0-9a-f]{17}$')
        self.assertEqual(a['ResourceARN'],
                         'arn:aws:fsx:us-east-1:000000000000:association/%s/%s' % (fs, aid))
        self.assertEqual(a['Lifecycle'], 'CREATING')
        self.assertEqual(a['FileSystemPath'], '/ns1')
        self.assertEqual(a['DataRepositoryPath'], 's3://%s/data/' % self.bucket)
        self.assertEqual(a['ImportedFileChunkSize'], 1024)
        self.assertTrue(a['BatchImportMetaDataOnCreate'])
        self.assertEqual(a['S3']['AutoExportPolicy']['Events'], ['NEW', 'CHANGED', 'DELETED'])
        self.assertEqual(a['Tags'], [{'Key': 'team', 'Value': 'hpc'}])
        got, seen = self.wait_dra(aid, ('AVAILABLE', 'FAILED', 'MISCONFIGURED'))
        self.assertEqual(got['Lifecycle'], 'AVAILABLE', got)
        self.assertEqual(seen[0], 'CREATING')
        self.assertNotIn('FailureDetails', got)
        self.assertEqual(got['Tags'], [{'Key': 'team', 'Value': 'hpc'}])
        # the agent runs beside the file system's servers
        self.assertEqual(len(self.agent_pids(fs)), 1)
        # the CLI sees the same
        rc, out, err = self.d.cli('describe-data-repository-associations',
                                  '--association-ids', aid)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out['Associations'][0]['Lifecycle'], 'AVAILABLE')
        self.assertIsInstance(out['Associations'][0]['CreationTime'], (int, float, str))

    def test_missing_bucket_fails(self):
        """dra-2: a bucket that does not exist turns the association FAILED
        with AWS's kind of message; nothing pretends."""
        fs = self.new_fs()
        a = self.new_dra(fs, '/gone', 's3://no-such-bucket-here/p', want=('FAILED', 'AVAILABLE'))
        self.assertEqual(a['Lifecycle'], 'FAILED')
        self.assertIn('unable to validate access to the S3 bucket no-such-bucket-here',
                      a['FailureDetails']['Message'])

    def test_eligible_file_systems(self):
        """dra-3: SCRATCH_1, Lustre 2.10, legacy-linked file systems and
        unknown ids are refused."""
        self.err(self.c.create_data_repository_association, 'FileSystemNotFound',
                 FileSystemId='fs-0123456789abcdef0', FileSystemPath='/a',
                 DataRepositoryPath='s3://%s/a' % self.bucket)
        s1 = self.c.create_file_system(FileSystemType='LUSTRE', StorageCapacity=1200,
                                       SubnetIds=SCRATCH2['SubnetIds'])['FileSystem']['FileSystemId']
        self.err(self.c.create_data_repository_association, 'BadRequest', 'SCRATCH_1',
                 FileSystemId=s1, FileSystemPath='/a', DataRepositoryPath='s3://%s/a' % self.bucket)
        old = self.c.create_file_system(**dict(SCRATCH2, FileSystemTypeVersion='2.10'))['FileSystem']
        self.err(self.c.create_data_repository_association, 'BadRequest', '2.10',
                 FileSystemId=old['FileSystemId'], FileSystemPath='/a',
                 DataRepositoryPath='s3://%s/a' % self.bucket)
        linked = self.c.create_file_system(**dict(FS215, LustreConfiguration={
            'DeploymentType': 'SCRATCH_2', 'ImportPath': 's3://%s/data' % self.bucket}))['FileSystem']
        self.err(self.c.create_data_repository_association, 'BadRequest', 'ImportPath',
                 FileSystemId=linked['FileSystemId'], FileSystemPath='/a',
                 DataRepositoryPath='s3://%s/a' % self.bucket)
        for f in (s1, old['FileSystemId'], linked['FileSystemId']):
            self.c.delete_file_system(FileSystemId=f)

    def test_path_rules(self):
        """dra-4: path syntax, duplicates, overlaps both ways, / alone."""
        fs = self.new_fs()
        b = self.bucket
        for bad in ('ns1', '/a//b', '/a/../b', '/a/./b'):
            self.err(self.c.create_data_repository_association, 'BadRequest', 'file system path',
                     FileSystemId=fs, FileSystemPath=bad, DataRepositoryPath='s3://%s/x' % b)
        for bad in ('s3://Bad_Bucket/x', 'http://%s/x' % b, 's3://ab/x', 's3://%s//x' % b):
            self.err(self.c.create_data_repository_association, 'BadRequest', 'data repository path',
                     FileSystemId=fs, FileSystemPath='/x', DataRepositoryPath=bad)
        first = self.new_dra(fs, '/ns1', 's3://%s/data/d0' % b)
        cases = [('/ns1', 's3://%s/other' % b, 'file system path'),
                 ('/ns1/sub', 's3://%s/other' % b, 'file system path'),
                 ('/', 's3://%s/other' % b, 'file system path'),
                 ('/ns2', 's3://%s/data/d0/' % b, 'data repository path'),
                 ('/ns2', 's3://%s/data/d0/deeper' % b, 'data repository path'),
                 ('/ns2', 's3://%s/data' % b, 'data repository path')]
        for path, repo, what in cases:
            e = self.err(self.c.create_data_repository_association, 'BadRequest', what,
                         FileSystemId=fs, FileSystemPath=path, DataRepositoryPath=repo)
            self.assertIn(first['AssociationId'], e['Error']['Message'])
        # a sibling path is fine
        self.new_dra(fs, '/ns10', 's3://%s/data/d1' % b)
        # / only as the only association
        fs2 = self.new_fs()
        self.new_dra(fs2, '/', 's3://%s/data/' % b)
        self.err(self.c.create_data_repository_association, 'BadRequest', 'only one',
                 FileSystemId=fs2, FileSystemPath='/elsewhere', DataRepositoryPath='s3://%s/z' % b)

    def test_at_most_eight(self):
        """dra-5: a ninth association is ServiceLimitExceeded."""
        fs = self.new_fs()
        ids = []
        for i in range(8):
            ids.append(self.c.create_data_repository_association(
                FileSystemId=fs, FileSystemPath='/n%d' % i,
                DataRepositoryPath='s3://%s/l%d' % (self.bucket, i))['Association']['AssociationId'])
        e = self.err(self.c.create_data_repository_association, 'ServiceLimitExceeded', '(8)',
                     FileSystemId=fs, FileSystemPath='/n8', DataRepositoryPath='s3://%s/l8' % self.bucket)
        self.assertIn('Limit', e)
        for aid in ids:
            self.wait_dra(aid, ('AVAILABLE',))

    def test_describe_filters_pagination(self):
        """dra-6: MaxResults <= 25, NextToken, filters, unknown ids."""
        fs = self.new_fs()
        other = self.new_fs()
        mine = [self.c.create_data_repository_association(
            FileSystemId=fs, FileSystemPath='/p%d' % i,
            DataRepositoryPath='s3://%s/p%d' % (self.bucket, i))['Association']['AssociationId']
            for i in range(5)]
        self.c.create_data_repository_association(FileSystemId=other, FileSystemPath='/q',
                                                  DataRepositoryPath='s3://%s/q' % self.bucket)
        got, tok = [], None
        while True:
            kw = {'NextToken': tok} if tok else {}
            page = self.c.describe_data_repository_associations(
                Filters=[{'Name': 'file-system-id', 'Values': [fs]}], MaxResults=2, **kw)
            self.assertLessEqual(len(page['Associations']), 2)
            got += [a['AssociationId'] for a in page['Associations']]
            tok = page.get('NextToken')
            if not tok:
                break
        self.assertEqual(got, mine)
        both = self.c.describe_data_repository_associations(
            Filters=[{'Name': 'file-system-id', 'Values': [fs, other]},
                     {'Name': 'data-repository-type', 'Values': ['S3']}])['Associations']
        self.assertEqual(len(both), 6)
        self.assertEqual(self.c.describe_data_repository_associations(
            Filters=[{'Name': 'file-system-id', 'Values': [fs]},
                     {'Name': 'data-repository-type', 'Values': ['NFS']}])['Associations'], [])
        self.err(self.c.describe_data_repository_associations, 'InvalidDataRepositoryType',
                 Filters=[{'Name': 'data-repository-type', 'Values': ['FTP']}])
        self.err(self.c.describe_data_repository_associations, 'FileSystemNotFound',
                 Filters=[{'Name': 'file-system-id', 'Values': ['fs-0123456789abcdef0']}])
        self.err(self.c.describe_data_repository_associations, 'DataRepositoryAssociationNotFound',
                 AssociationIds=[mine[0], 'dra-0123456789abcdef0'])
        self.err(self.raw.describe_data_repository_associations, 'BadRequest',
                 'less than or equal to 25', MaxResults=26)
        self.err(self.c.describe_data_repository_associations, 'BadRequest', 'NextToken',
                 NextToken='dGFzazE6MQ==')
        by_id = self.c.describe_data_repository_associations(AssociationIds=[mine[3], mine[1]])
        self.assertEqual([a['AssociationId'] for a in by_id['Associations']], [mine[1], mine[3]])

    def test_idempotency(self):
        """dra-7: the same token and request give the same association; a
        different request with it is IncompatibleParameterError."""
        fs = self.new_fs()
        kw = dict(FileSystemId=fs, FileSystemPath='/t', ClientRequestToken='tok-dra-1',
                  DataRepositoryPath='s3://%s/t' % self.bucket)
        a = self.c.create_data_repository_association(**kw)['Association']
        b = self.c.create_data_repository_association(**kw)['Association']
        self.assertEqual(a['AssociationId'], b['AssociationId'])
        e = self.err(self.c.create_data_repository_association, 'IncompatibleParameterError',
                     **dict(kw, FileSystemPath='/u'))
        self.assertEqual(e['Parameter'], 'FileSystemPath')
        self.assertEqual(len(self.c.describe_data_repository_associations(
            Filters=[{'Name': 'file-system-id', 'Values': [fs]}])['Associations']), 1)
        # Update and Delete honour their tokens the same way
        self.wait_dra(a['AssociationId'], ('AVAILABLE',))
        up = dict(AssociationId=a['AssociationId'], ImportedFileChunkSize=2048,
                  ClientRequestToken='tok-dra-up')
        u1 = self.c.update_data_repository_association(**up)['Association']
        u2 = self.c.update_data_repository_association(**up)['Association']
        self.assertEqual((u1['AssociationId'], u2['AssociationId']),
                         (a['AssociationId'], a['AssociationId']))
        self.assertEqual(u2['ImportedFileChunkSize'], 2048)
        e = self.err(self.c.update_data_repository_association, 'IncompatibleParameterError',
                     **dict(up, ImportedFileChunkSize=4096))
        self.assertEqual(e['Parameter'], 'ImportedFileChunkSize')

    def test_tags_by_arn(self):
        """dra-8: TagResource, UntagResource, ListTagsForResource on an
        association's ARN; Describe shows them."""
        fs = self.new_fs()
        a = self.new_dra(fs, '/tags', 's3://%s/tags' % self.bucket,
                         Tags=[{'Key': 'a', 'Value': '1'}])
        arn = a['ResourceARN']
        self.c.tag_resource(ResourceARN=arn, Tags=[{'Key': 'b', 'Value': '2'}])
        self.assertEqual(self.c.list_tags_for_resource(ResourceARN=arn)['Tags'],
                         [{'Key': 'a', 'Value': '1'}, {'Key': 'b', 'Value': '2'}])
        self.c.untag_resource(ResourceARN=arn, TagKeys=['a'])
        self.assertEqual(self.dra(a['AssociationId'])['Tags'], [{'Key': 'b', 'Value': '2'}])
        self.err(self.c.list_tags_for_resource, 'ResourceNotFound',
                 ResourceARN=arn.replace(a['AssociationId'], 'dra-0123456789abcdef0'))

    def test_update(self):
        """dra-9: UpdateDataRepositoryAssociation replaces policies and
        chunk size: UPDATING -> AVAILABLE; refused while CREATING."""
        fs = self.new_fs()
        a = self.c.create_data_repository_association(
            FileSystemId=fs, FileSystemPath='/up', DataRepositoryPath='s3://%s/up' % self.bucket)['Association']
        try:
            self.c.update_data_repository_association(AssociationId=a['AssociationId'],
                                                      ImportedFileChunkSize=2048)
            raised = None
        except self.c.exceptions.BadRequest as e:
            raised = e
        if raised is None:      # the agent was quicker than this client
            self.assertNotEqual(self.dra(a['AssociationId'])['Lifecycle'], 'CREATING')
        self.wait_dra(a['AssociationId'], ('AVAILABLE',))
        u = self.c.update_data_repository_association(
            AssociationId=a['AssociationId'], ImportedFileChunkSize=4096,
            S3={'AutoImportPolicy': {'Events': ['DELETED', 'NEW']}})['Association']
        self.assertEqual(u['Lifecycle'], 'UPDATING')
        self.assertEqual(u['ImportedFileChunkSize'], 4096)
        got, seen = self.wait_dra(a['AssociationId'], ('AVAILABLE',))
        self.assertEqual(got['S3']['AutoImportPolicy']['Events'], ['DELETED', 'NEW'])
        self.assertEqual(got['FileSystemPath'], '/up')
        self.err(self.c.update_data_repository_association, 'DataRepositoryAssociationNotFound',
                 AssociationId='dra-0123456789abcdef0', ImportedFileChunkSize=1)

    def test_delete(self):
        """dra-10: DELETING, then DataRepositoryAssociationNotFound; the
        agent stops when the last association is gone."""
        fs = self.new_fs()
        a = self.new_dra(fs, '/del', 's3://%s/del' % self.bucket)
        self.assertEqual(len(self.agent_pids(fs)), 1)
        r = self.c.delete_data_repository_association(AssociationId=a['AssociationId'])
        self.assertEqual((r['Lifecycle'], r['DeleteDataInFileSystem']), ('DELETING', False))
        again = self.c.delete_data_repository_association(AssociationId=a['AssociationId'])
        self.assertEqual(again['Lifecycle'], 'DELETING')
        self.wait_dra_gone(a['AssociationId'])
        end = time.time() + 20
        while self.agent_pids(fs) and time.time() < end:
            time.sleep(0.1)
        self.assertEqual(self.agent_pids(fs), [])
        self.err(self.c.delete_data_repository_association, 'DataRepositoryAssociationNotFound',
                 AssociationId=a['AssociationId'])

    def test_delete_with_data(self):
        """dra-10b: DeleteDataInFileSystem: gone once the agent removed the
        files; a deletion the agent could not do turns FAILED with its
        reason (and can be asked again)."""
        fs = self.new_fs()
        a = self.new_dra(fs, '/deldata', 's3://%s/deldata' % self.bucket)
        r = self.c.delete_data_repository_association(AssociationId=a['AssociationId'],
                                                      DeleteDataInFileSystem=True)
        self.assertEqual((r['Lifecycle'], r['DeleteDataInFileSystem']), ('DELETING', True))
        end = time.time() + 30
        while time.time() < end:
            try:
                got = self.dra(a['AssociationId'])
            except self.c.exceptions.DataRepositoryAssociationNotFound:
                return
            if got['Lifecycle'] == 'FAILED':
                msg = got['FailureDetails']['Message']
                self.assertIn('/deldata', msg)
                if 'not supported' in msg:
                    self.skipTest('fsx-hsm cannot delete data yet: %s' % msg)
                self.fail(msg)
            time.sleep(0.05)
        self.fail('still %s' % got['Lifecycle'])

    def test_agent_restarted(self):
        """dra-11: a killed agent is restarted by the monitor and
        reconfigured; the association stays AVAILABLE."""
        fs = self.new_fs()
        a = self.new_dra(fs, '/r', 's3://%s/r' % self.bucket)
        pid = self.agent_pids(fs)[0]
        os.kill(pid, signal.SIGKILL)
        end = time.time() + 20
        while time.time() < end and (self.agent_pids(fs) in ([], [pid])):
            time.sleep(0.1)
        self.assertEqual(len(self.agent_pids(fs)), 1)
        self.assertNotEqual(self.agent_pids(fs)[0], pid)
        b = self.new_dra(fs, '/r2', 's3://%s/r2' % self.bucket)
        self.assertEqual(self.dra(a['AssociationId'])['Lifecycle'], 'AVAILABLE')
        self.assertEqual(b['Lifecycle'], 'AVAILABLE')

    def test_fsxd_restart_adopts_agent(self):
        """dra-14: fsxd killed -9 and restarted adopts the running agent
        (same pid) and its associations keep their state; a new one still
        works."""
        fs = self.new_fs()
        a = self.new_dra(fs, '/keep', 's3://%s/keep' % self.bucket)
        pids = self.agent_pids(fs)
        self.d.kill9()
        self.d.start()
        self.assertEqual(self.dra(a['AssociationId'])['Lifecycle'], 'AVAILABLE')
        b = self.new_dra(fs, '/keep2', 's3://%s/keep2' % self.bucket)
        self.assertEqual(b['Lifecycle'], 'AVAILABLE')
        self.assertEqual(self.agent_pids(fs), pids)

    def test_file_system_delete_takes_them(self):
        """dra-12: deleting the file system removes its associations."""
        fs = self.new_fs()
        a = self.new_dra(fs, '/x', 's3://%s/x' % self.bucket)
        self.c.delete_file_system(FileSystemId=fs)
        self.d.wait_gone(self.c, fs, 30)
        self.err(self.c.describe_data_repository_associations, 'DataRepositoryAssociationNotFound',
                 AssociationIds=[a['AssociationId']])

    def test_cli(self):
        """dra-13: the unchanged aws CLI creates, lists and deletes one."""
        fs = self.new_fs()
        rc, out, err = self.d.cli('create-data-repository-association', '--file-system-id', fs,
                                  '--file-system-path', '/cli',
                                  '--data-repository-path', 's3://%s/cli' % self.bucket,
                                  '--s3', 'AutoImportPolicy={Events=[NEW]}')
        self.assertEqual(rc, 0, err)
        aid = out['Association']['AssociationId']
        self.wait_dra(aid, ('AVAILABLE',))
        rc, out, err = self.d.cli('delete-data-repository-association', '--association-id', aid,
                                  '--no-delete-data-in-file-system')
        self.assertEqual(rc, 0, err)
        self.assertEqual(out['Lifecycle'], 'DELETING')
        rc, out, err = self.d.cli('describe-data-repository-associations', '--association-ids',
                                  'dra-0123456789abcdef0')
        self.assertNotEqual(rc, 0)
        self.assertIn('DataRepositoryAssociationNotFound', err)


class LegacyLink(RepoCase):
    s3_in_config = True

    def drc(self, fs_id):
        fs = self.c.describe_file_systems(FileSystemIds=[fs_id])['FileSystems'][0]
        return fs['LustreConfiguration'].get('DataRepositoryConfiguration')

    def wait_drc(self, fs_id, want, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            drc = self.drc(fs_id)
            if drc['Lifecycle'] in want:
                return drc
            time.sleep(0.05)
        raise AssertionError('%s: DataRepositoryConfiguration %s, not %s' % (fs_id, drc, want))

    def test_import_path_link(self):
        """legacy-1: ImportPath on SCRATCH_2: the link is checked by the
        agent (CREATING -> AVAILABLE), AutoImportPolicy updates go
        UPDATING -> AVAILABLE, and it is no association."""
        fs = self.c.create_file_system(**dict(FS215, LustreConfiguration={
            'DeploymentType': 'SCRATCH_2', 'ImportPath': 's3://%s/data' % self.bucket,
            'AutoImportPolicy': 'NEW'}))['FileSystem']
        fid = fs['FileSystemId']
        drc = fs['LustreConfiguration']['DataRepositoryConfiguration']
        self.assertEqual(drc['Lifecycle'], 'CREATING')
        self.assertEqual(drc['ImportPath'], 's3://%s/data' % self.bucket)
        self.assertTrue(drc['ExportPath'].startswith('s3://%s/FSxLustre' % self.bucket))
        self.d.wait_state(self.c, fid, 'AVAILABLE', 60)
        drc = self.wait_drc(fid, ('AVAILABLE', 'FAILED'))
        self.assertEqual(drc['Lifecycle'], 'AVAILABLE')
        self.assertEqual(len(self.agent_pids(fid)), 1)
        self.assertEqual(self.c.describe_data_repository_associations(
            Filters=[{'Name': 'file-system-id', 'Values': [fid]}])['Associations'], [])
        up = self.c.update_file_system(FileSystemId=fid, LustreConfiguration={
            'AutoImportPolicy': 'NEW_CHANGED_DELETED'})['FileSystem']
        self.assertEqual(up['LustreConfiguration']['DataRepositoryConfiguration']['Lifecycle'],
                         'UPDATING')
        drc = self.wait_drc(fid, ('AVAILABLE',))
        self.assertEqual(drc['AutoImportPolicy'], 'NEW_CHANGED_DELETED')
        # tasks run on a legacy link; reports default to the ExportPath
        t = self.c.create_data_repository_task(FileSystemId=fid, Type='EXPORT_TO_REPOSITORY',
                                               Report={'Enabled': True})['DataRepositoryTask']
        self.assertEqual(t['Report']['Path'], drc['ExportPath'])
        self.wait_task(t['TaskId'], ('SUCCEEDED', 'FAILED', 'CANCELED'))

    def test_missing_import_bucket(self):
        """legacy-2: an ImportPath bucket that does not exist turns the
        link FAILED with FailureDetails; the file system itself serves."""
        fs = self.c.create_file_system(**dict(FS215, LustreConfiguration={
            'DeploymentType': 'PERSISTENT_1', 'PerUnitStorageThroughput': 50,
            'ImportPath': 's3://absent-import-bucket'}))['FileSystem']
        fid = fs['FileSystemId']
        self.d.wait_state(self.c, fid, 'AVAILABLE', 60)
        drc = self.wait_drc(fid, ('FAILED', 'AVAILABLE'))
        self.assertEqual(drc['Lifecycle'], 'FAILED')
        self.assertIn('absent-import-bucket', drc['FailureDetails']['Message'])

    @unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
    def test_legacy_link_end_to_end(self):
        """legacy-3: ImportPath, ExportPath, AutoImportPolicy and
        ImportedFileChunkSize on SCRATCH_2, through a mount: the ImportPath's
        objects are files at the root (striped by the chunk size), an export
        task writes what changed under ExportPath (not ImportPath) with its
        report there, and auto-import NEW brings a new object in."""
        b = self.bucket
        fs = self.c.create_file_system(**dict(FS215, LustreConfiguration={
            'DeploymentType': 'SCRATCH_2', 'ImportPath': 's3://%s/data' % b,
            'ExportPath': 's3://%s/out' % b, 'ImportedFileChunkSize': 1,
            'AutoImportPolicy': 'NEW'}))['FileSystem']
        fid = fs['FileSystemId']
        self.d.wait_state(self.c, fid, 'AVAILABLE', 60)
        drc = self.wait_drc(fid, ('AVAILABLE', 'FAILED'))
        self.assertEqual(drc['Lifecycle'], 'AVAILABLE', drc)
        self.assertEqual((drc['ImportPath'], drc['ExportPath'],
                          drc['ImportedFileChunkSize'], drc['AutoImportPolicy']),
                         ('s3://%s/data' % b, 's3://%s/out' % b, 1, 'NEW'))
        top = self.mount(fid)
        f5 = os.path.join(top, 'd1', 'f5.txt')
        end = time.time() + 30
        while time.time() < end and not os.path.exists(f5):
            time.sleep(0.2)
        with open(f5, 'rb') as f:
            self.assertEqual(f.read(), self.s3.get_object(
                Bucket=b, Key='data/d1/f5.txt')['Body'].read())
        os.makedirs(os.path.join(top, 'new'))
        with open(os.path.join(top, 'new', 'mine.txt'), 'wb') as f:
            f.write(b'mine')
        t = self.c.create_data_repository_task(
            FileSystemId=fid, Type='EXPORT_TO_REPOSITORY',
            Report={'Enabled': True})['DataRepositoryTask']
        self.assertEqual(t['Report']['Path'], 's3://%s/out' % b)
        t, _ = self.wait_task(t['TaskId'], ('SUCCEEDED', 'FAILED', 'CANCELED'))
        self.assertEqual(t['Lifecycle'], 'SUCCEEDED', t)
        self.assertEqual(self.s3.get_object(Bucket=b, Key='out/new/mine.txt')
                         ['Body'].read(), b'mine')
        keys = [o['Key'] for o in self.s3.list_objects_v2(
            Bucket=b, Prefix='data/new/').get('Contents', [])]
        self.assertEqual(keys, [])
        # auto-import NEW from the ImportPath
        self.s3.put_object(Bucket=b, Key='data/late.txt', Body=b'late')
        late = os.path.join(top, 'late.txt')
        end = time.time() + 30
        while time.time() < end and not os.path.exists(late):
            time.sleep(0.2)
        with open(late, 'rb') as f:
            self.assertEqual(f.read(), b'late')
        self.s3.delete_object(Bucket=b, Key='data/late.txt')



@unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
class EndToEnd(RepoCase):
    """e2e-1: an association over a bucket, seen through a real mount."""

    def test_objects_listed_through_mount(self):
        """e2e-1: BatchImportMetaDataOnCreate: the bucket's objects under the
        prefix appear under the association's path with their sizes, and
        read back with the objects' bytes."""
        fs = self.new_fs()
        self.new_dra(fs, '/ns1', 's3://%s/data' % self.bucket, BatchImportMetaDataOnCreate=True)
        top = os.path.join(self.mount(fs), 'ns1')
        want = {'d%d/f%d.txt' % (i % 2, i): 10 + i for i in range(6)}
        got, end = {}, time.time() + 30
        while time.time() < end and got != want:
            got = {}
            for root, _, files in os.walk(top):
                for f in files:
                    path = os.path.join(root, f)
                    got[os.path.relpath(path, top)] = os.stat(path).st_size
            time.sleep(0.2)
        self.assertEqual(got, want)
        with open(os.path.join(top, 'd1', 'f5.txt'), 'rb') as f:
            self.assertEqual(f.read(), self.s3.get_object(
                Bucket=self.bucket, Key='data/d1/f5.txt')['Body'].read())


class WhileCreating(RepoCase):
    fsxd_args = ('--create-delay', '1.5')

    def test_association_waits_for_its_file_system(self):
        """dra-15: an association requested while its file system is
        CREATING is accepted and turns AVAILABLE after the file system."""
        fs = self.c.create_file_system(**FS215)['FileSystem']['FileSystemId']
        a = self.c.create_data_repository_association(
            FileSystemId=fs, FileSystemPath='/early',
            DataRepositoryPath='s3://%s/early' % self.bucket)['Association']
        self.assertEqual(self.c.describe_file_systems(FileSystemIds=[fs])['FileSystems'][0]
                         ['Lifecycle'], 'CREATING')
        got, seen = self.wait_dra(a['AssociationId'], ('AVAILABLE', 'FAILED'))
        self.assertEqual(got['Lifecycle'], 'AVAILABLE', got)
        self.assertEqual(self.c.describe_file_systems(FileSystemIds=[fs])['FileSystems'][0]
                         ['Lifecycle'], 'AVAILABLE')
