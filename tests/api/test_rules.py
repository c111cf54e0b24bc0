"""Validation rules of the file system operations (spec sections 1.4, 3,
4, 6.1-6.5), through boto3 and the aws CLI, with AWS's error codes."""
import base64
import unittest

from botocore.exceptions import ClientError, ParamValidationError

from tests.fsxlib import Fsxd, SCRATCH2

SUBNET = ['subnet-0123456789abcdef0']


class Rules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Fsxd('--update-gap', '0', '--quota-file-systems', '6')
        cls.c = cls.d.client()
        # A raw client that skips botocore's own parameter validation, so the
        # server's validator is what answers.
        import botocore.config
        import boto3
        cls.raw = boto3.client('fsx', endpoint_url=cls.d.url, region_name='us-east-1',
                               aws_access_key_id='test', aws_secret_access_key='test',
                               config=botocore.config.Config(parameter_validation=False,
                                                             retries={'max_attempts': 1}))

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def err(self, fn, code, msg=None, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        e = cm.exception.response
        self.assertEqual(e['Error']['Code'], code, e)
        self.assertEqual(e['ResponseMetadata']['HTTPStatusCode'], 400)
        if msg is not None:
            self.assertIn(msg, e['Error']['Message'])
        return e

    def create_err(self, code, msg=None, **over):
        req = dict(SCRATCH2)
        req.update(over)
        return self.err(self.raw.create_file_system, code, msg, **req)

    # --- model validation (BadRequest with AWS's text) ---
    def test_required_members_missing(self):
        e = self.err(self.raw.create_file_system, 'BadRequest', StorageCapacity=1200)
        self.assertEqual(e['Error']['Message'],
                         "2 validation errors detected: Value null at 'fileSystemType' failed to "
                         "satisfy constraint: Member must not be null; Value null at 'subnetIds' "
                         "failed to satisfy constraint: Member must not be null")

    def test_enum_pattern_range(self):
        self.create_err('BadRequest', "failed to satisfy constraint: Member must satisfy enum value set",
                        FileSystemType='NTFS')
        self.create_err('BadRequest', 'regular expression pattern', SubnetIds=['subnet-xyz'])
        self.err(self.raw.describe_file_systems, 'BadRequest',
                 "Member must have value greater than or equal to 1", MaxResults=0)
        self.err(self.raw.describe_file_systems, 'BadRequest', None,
                 NextToken='not base64!')

    # --- Lustre rules ---
    def test_capacity_rules(self):
        self.create_err('BadRequest', 'Invalid Lustre FS storage capacity: 3600. Must be 1200 or a multiple of 2400.',
                        StorageCapacity=3600)
        self.create_err('BadRequest', None, StorageCapacity=1000,
                        LustreConfiguration={'DeploymentType': 'SCRATCH_1'})
        ok = self.c.create_file_system(FileSystemType='LUSTRE', StorageCapacity=3600,
                                       SubnetIds=SUBNET)['FileSystem']
        self.assertEqual(ok['StorageCapacity'], 3600)
        self.c.delete_file_system(FileSystemId=ok['FileSystemId'])

    def test_throughput_rules(self):
        self.create_err('BadRequest', None,
                        LustreConfiguration={'DeploymentType': 'PERSISTENT_1'})
        with self.assertRaises(ClientError) as cm:
            self.raw.create_file_system(FileSystemType='LUSTRE', StorageCapacity=1200,
                                        SubnetIds=SUBNET, LustreConfiguration={
                                            'DeploymentType': 'PERSISTENT_1',
                                            'PerUnitStorageThroughput': 125})
        self.assertIn(cm.exception.response['Error']['Code'],
                      ('InvalidPerUnitStorageThroughput', 'BadRequest'))
        self.create_err('BadRequest', None, LustreConfiguration={
            'DeploymentType': 'SCRATCH_2', 'PerUnitStorageThroughput': 50})

    def test_versions(self):
        self.create_err('BadRequest', None, FileSystemTypeVersion='2.10', LustreConfiguration={
            'DeploymentType': 'PERSISTENT_2', 'PerUnitStorageThroughput': 125})
        fs = self.c.create_file_system(FileSystemType='LUSTRE', StorageCapacity=1200,
                                       SubnetIds=SUBNET, LustreConfiguration={
                                           'DeploymentType': 'PERSISTENT_2',
                                           'PerUnitStorageThroughput': 125})['FileSystem']
        self.assertEqual(fs['FileSystemTypeVersion'], '2.12')
        self.assertTrue(fs['KmsKeyId'].startswith('arn:aws:kms:us-east-1:000000000000:key/'))
        self.assertEqual(fs['LustreConfiguration']['LogConfiguration'], {'Level': 'DISABLED'})
        self.assertEqual(fs['LustreConfiguration']['DataCompressionType'], 'NONE')
        self.assertRegex(fs['LustreConfiguration']['MountName'], r'^[a-z0-9]{8}$')
        self.assertRegex(fs['LustreConfiguration']['WeeklyMaintenanceStartTime'],
                         r'^[1-7]:[0-2][0-9]:[0-5][0-9]$')
        self.assertRegex(fs['VpcId'], r'^vpc-[0-9a-f]{17}$')
        self.assertEqual(len(fs['NetworkInterfaceIds']), 2)
        self.c.delete_file_system(FileSystemId=fs['FileSystemId'])

    def test_legacy_s3_rules(self):
        self.create_err('BadRequest', 'Linking a Persistent 2 file system to an S3 bucket',
                        LustreConfiguration={'DeploymentType': 'PERSISTENT_2',
                                             'PerUnitStorageThroughput': 125,
                                             'ImportPath': 's3://bucket'})
        self.create_err('BadRequest', None, LustreConfiguration={
            'DeploymentType': 'SCRATCH_2', 'ExportPath': 's3://bucket/out'})
        self.create_err('InvalidImportPath', None, LustreConfiguration={
            'DeploymentType': 'SCRATCH_2', 'ImportPath': 'http://bucket'})

    def test_maintenance_time_and_tags(self):
        self.create_err('BadRequest', None, LustreConfiguration={
            'DeploymentType': 'SCRATCH_2', 'WeeklyMaintenanceStartTime': '8:10:00'})
        self.create_err('BadRequest', 'reserved', Tags=[{'Key': 'aws:x', 'Value': 'y'}])

    def test_other_types_refused(self):
        self.create_err('BadRequest', None, FileSystemType='WINDOWS')

    def test_not_found(self):
        self.err(self.c.describe_file_systems, 'FileSystemNotFound', None,
                 FileSystemIds=['fs-0123456789abcdef0'])
        self.err(self.c.delete_file_system, 'FileSystemNotFound', None,
                 FileSystemId='fs-0123456789abcdef0')
        self.err(self.c.update_file_system, 'FileSystemNotFound', None,
                 FileSystemId='fs-0123456789abcdef0', StorageCapacity=2400)
        e = self.err(self.c.list_tags_for_resource, 'ResourceNotFound', None,
                     ResourceARN='arn:aws:fsx:us-east-1:000000000000:file-system/fs-0123456789abcdef0')
        self.assertEqual(e['ResourceARN'],
                         'arn:aws:fsx:us-east-1:000000000000:file-system/fs-0123456789abcdef0')
        # The model's ResourceARN pattern only admits fsx ARNs, and model
        # validation runs first, as on AWS's front end.
        self.err(self.c.list_tags_for_resource, 'BadRequest', "at 'resourceARN'",
                 ResourceARN='arn:aws:s3:::bucket-name')
        self.err(self.c.list_tags_for_resource, 'ResourceNotFound', None,
                 ResourceARN='arn:aws:fsx:us-east-1:000000000000:backup/backup-0123456789abcdef0')
        # Another account's or region's ARN answers as an unknown one.
        self.err(self.c.list_tags_for_resource, 'ResourceNotFound', None,
                 ResourceARN='arn:aws:fsx:eu-west-1:000000000000:file-system/fs-0123456789abcdef0')

    def test_update_rules(self):
        fs = self.c.create_file_system(**dict(SCRATCH2, StorageCapacity=2400))['FileSystem']
        fs_id = fs['FileSystemId']
        self.d.wait_state(self.c, fs_id, 'AVAILABLE')
        self.err(self.c.update_file_system, 'BadRequest', None,
                 FileSystemId=fs_id, StorageCapacity=1200)     # a decrease
        self.err(self.c.update_file_system, 'BadRequest', None,
                 FileSystemId=fs_id, StorageCapacity=6000)     # not a multiple of 2400
        # No-op values are accepted (Terraform resends them).
        out = self.c.update_file_system(FileSystemId=fs_id, LustreConfiguration={
            'DataCompressionType': 'NONE'})['FileSystem']
        self.assertEqual(out['FileSystemId'], fs_id)
        out = self.c.update_file_system(FileSystemId=fs_id, LustreConfiguration={
            'WeeklyMaintenanceStartTime': '3:04:30', 'DataCompressionType': 'LZ4'})['FileSystem']
        self.assertEqual(out['LustreConfiguration']['WeeklyMaintenanceStartTime'], '3:04:30')
        self.assertEqual(out['LustreConfiguration']['DataCompressionType'], 'LZ4')
        self.c.delete_file_system(FileSystemId=fs_id)
        self.d.wait_gone(self.c, fs_id)

    def test_scratch1_cannot_grow(self):
        fs = self.c.create_file_system(FileSystemType='LUSTRE', StorageCapacity=1200,
                                       SubnetIds=SUBNET)['FileSystem']
        self.d.wait_state(self.c, fs['FileSystemId'], 'AVAILABLE')
        self.err(self.c.update_file_system, 'BadRequest', None,
                 FileSystemId=fs['FileSystemId'], StorageCapacity=2400)
        self.c.delete_file_system(FileSystemId=fs['FileSystemId'])
        self.d.wait_gone(self.c, fs['FileSystemId'])


class Paging(unittest.TestCase):
    def test_pages_tokens_idempotency_quota(self):
        d = Fsxd('--quota-file-systems', '5')
        try:
            c = d.client()
            ids = [c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
                   for _ in range(5)]
            # Pages of 2, in a stable order, with opaque base64 tokens.
            seen, tok, pages = [], None, 0
            while True:
                kw = {'MaxResults': 2}
                if tok:
                    kw['NextToken'] = tok
                r = c.describe_file_systems(**kw)
                pages += 1
                seen += [f['FileSystemId'] for f in r['FileSystems']]
                tok = r.get('NextToken')
                if not tok:
                    break
                base64.b64decode(tok, validate=True)
            self.assertEqual(seen, ids)
            self.assertEqual(pages, 3)
            # The CLI pages by itself.
            rc, out, err = d.cli('describe-file-systems', '--page-size', '2')
            self.assertEqual(rc, 0, err)
            self.assertEqual([f['FileSystemId'] for f in out['FileSystems']], ids)
            # Ids and MaxResults combine.
            r = c.describe_file_systems(FileSystemIds=ids[1:4], MaxResults=2)
            self.assertEqual([f['FileSystemId'] for f in r['FileSystems']], ids[1:3])
            # Quota: a sixth Scratch file system is refused with its limit.
            with self.assertRaises(ClientError) as cm:
                c.create_file_system(**SCRATCH2)
            e = cm.exception.response
            self.assertEqual(e['Error']['Code'], 'ServiceLimitExceeded')
            self.assertEqual(e['Limit'], 'FILE_SYSTEM_COUNT')
            # Another class has its own quota.
            p2 = c.create_file_system(FileSystemType='LUSTRE', StorageCapacity=1200, SubnetIds=SUBNET,
                                      LustreConfiguration={'DeploymentType': 'PERSISTENT_2',
                                                           'PerUnitStorageThroughput': 125})
            ids.append(p2['FileSystem']['FileSystemId'])
            for i in ids:
                c.delete_file_system(FileSystemId=i)
            for i in ids:
                d.wait_gone(c, i)
            # Idempotency both ways.
            a = c.create_file_system(ClientRequestToken='tok-1', **SCRATCH2)['FileSystem']
            b = c.create_file_system(ClientRequestToken='tok-1', **SCRATCH2)['FileSystem']
            self.assertEqual(a['FileSystemId'], b['FileSystemId'])
            other = dict(SCRATCH2, StorageCapacity=2400)
            with self.assertRaises(ClientError) as cm:
                c.create_file_system(ClientRequestToken='tok-1', **other)
            e = cm.exception.response
            self.assertEqual(e['Error']['Code'], 'IncompatibleParameterError')
            self.assertEqual(e['Parameter'], 'StorageCapacity')
            self.assertEqual(len(c.describe_file_systems()['FileSystems']), 1)
            # The CLI makes its own token per call: two CLI creates, two file systems.
            c.delete_file_system(FileSystemId=a['FileSystemId'])
        finally:
            d.stop()


if __name__ == '__main__':
    unittest.main()
