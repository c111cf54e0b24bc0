"""The wire protocol and auth front end, with real SigV4 signing (botocore)
and raw HTTP for what SDKs never send."""
import datetime
import json
import unittest
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.fsxlib import Fsxd, SCRATCH2

TARGET = 'AWSSimbaAPIService_v20180301.'


def raw(url, body, headers):
    req = urllib.request.Request(url + '/', data=body, headers=headers, method='POST')
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), json.loads(r.read() or b'null')
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b'null')


def signed(url, op, body, key='test', secret='test', when=None, region='us-east-1',
           service='fsx', token=None, target=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = AWSRequest(method='POST', url=url + '/', data=data, headers={
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': target if target is not None else TARGET + op})
    auth = SigV4Auth(Credentials(key, secret, token), service, region)
    if when is not None:
        class FixedAuth(SigV4Auth):
            def _modify_request_before_signing(self, request):
                super()._modify_request_before_signing(request)
                request.headers.replace_header('X-Amz-Date', when.strftime('%Y%m%dT%H%M%SZ'))
        auth = FixedAuth(Credentials(key, secret, token), service, region)
        # botocore takes the time from datetime.now inside add_auth; override it
        import botocore.auth as ba
        real = ba.datetime.datetime

        class Fake(real):
            @classmethod
            def utcnow(cls):
                return when

            @classmethod
            def now(cls, tz=None):
                return when.replace(tzinfo=tz) if tz else when
        ba.datetime.datetime = Fake
        try:
            auth.add_auth(req)
        finally:
            ba.datetime.datetime = real
    else:
        auth.add_auth(req)
    return raw(url, data, dict(req.headers.items()))


class Protocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Fsxd('--body-max', '65536')

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def check_err(self, res, code, status=400, msg=None):
        st, hdrs, body = res
        self.assertEqual(st, status, body)
        self.assertEqual(body['__type'], code, body)
        self.assertRegex(hdrs.get('x-amzn-RequestId', ''), r'^[0-9a-f-]{36}$')
        if msg:
            self.assertIn(msg, body['Message'])
        return body

    def test_success_has_request_id_and_json11(self):
        st, hdrs, body = signed(self.d.url, 'DescribeFileSystems', {})
        self.assertEqual(st, 200)
        self.assertIsInstance(body['FileSystems'], list)
        self.assertEqual(hdrs['Content-Type'], 'application/x-amz-json-1.1')
        self.assertRegex(hdrs['x-amzn-RequestId'], r'^[0-9a-f-]{36}$')

    def test_unknown_target(self):
        self.check_err(signed(self.d.url, 'DescribeUnicorns', {}), 'UnknownOperationException')
        self.check_err(signed(self.d.url, '', {}, target='Other.DescribeFileSystems'),
                       'UnknownOperationException')

    def test_body_not_json_and_wrong_types(self):
        self.check_err(signed(self.d.url, 'DescribeFileSystems', b'{not json'),
                       'SerializationException')
        self.check_err(signed(self.d.url, 'DescribeFileSystems', b'[1,2]'),
                       'SerializationException')
        self.check_err(signed(self.d.url, 'DescribeFileSystems', {'MaxResults': 'ten'}),
                       'SerializationException')
        self.check_err(signed(self.d.url, 'DescribeFileSystems', {'FileSystemIds': 'fs-1'}),
                       'SerializationException')

    def test_oversized_body(self):
        body = json.dumps({'FileSystemIds': ['fs-0123456789abcdef0'], 'Pad': 'x' * 70000}).encode()
        st, hdrs, out = signed(self.d.url, 'DescribeFileSystems', body)
        self.assertEqual(st, 413)
        self.assertEqual(out['__type'], 'RequestEntityTooLarge')
        # The server still serves.
        self.assertEqual(signed(self.d.url, 'DescribeFileSystems', {})[0], 200)

    def test_unsigned(self):
        self.check_err(raw(self.d.url, b'{}', {'X-Amz-Target': TARGET + 'DescribeFileSystems',
                                               'Content-Type': 'application/x-amz-json-1.1'}),
                       'MissingAuthenticationTokenException', status=403,
                       msg='Missing Authentication Token')

    def test_incomplete_signature(self):
        self.check_err(raw(self.d.url, b'{}', {
            'X-Amz-Target': TARGET + 'DescribeFileSystems',
            'Authorization': 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/fsx/aws4_request',
            'X-Amz-Date': '20260101T000000Z'}), 'IncompleteSignatureException')

    def test_wrong_secret(self):
        self.check_err(signed(self.d.url, 'DescribeFileSystems', {}, secret='nope'),
                       'InvalidSignatureException',
                       msg='The request signature we calculated does not match')

    def test_unknown_key(self):
        self.check_err(signed(self.d.url, 'DescribeFileSystems', {}, key='AKIAUNKNOWN'),
                       'UnrecognizedClientException',
                       msg='The security token included in the request is invalid')

    def test_expired_and_future(self):
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
        b = self.check_err(signed(self.d.url, 'DescribeFileSystems', {}, when=old),
                           'InvalidSignatureException', msg='Signature expired: ')
        self.assertIn(' - 5 min.)', b['Message'])
        new = datetime.datetime.utcnow() + datetime.timedelta(minutes=20)
        b = self.check_err(signed(self.d.url, 'DescribeFileSystems', {}, when=new),
                           'InvalidSignatureException', msg='Signature not yet current: ')
        self.assertIn(' + 5 min.)', b['Message'])

    def test_wrong_service_scope(self):
        self.check_err(signed(self.d.url, 'DescribeFileSystems', {}, service='s3'),
                       'InvalidSignatureException')

    def test_region_from_scope_isolates(self):
        c1 = self.d.client(region='us-east-1')
        c2 = self.d.client(region='eu-west-1')
        fs = c1.create_file_system(**SCRATCH2)['FileSystem']
        self.assertEqual(c2.describe_file_systems()['FileSystems'], [])
        with self.assertRaises(c2.exceptions.FileSystemNotFound):
            c2.describe_file_systems(FileSystemIds=[fs['FileSystemId']])
        eu = c2.create_file_system(**SCRATCH2)['FileSystem']
        self.assertTrue(eu['ResourceARN'].startswith('arn:aws:fsx:eu-west-1:000000000000:'))
        self.assertEqual(eu['DNSName'], eu['FileSystemId'] + '.fsx.eu-west-1.amazonaws.com')
        for c, f in ((c1, fs), (c2, eu)):
            c.delete_file_system(FileSystemId=f['FileSystemId'])

    def test_non_lustre_operations(self):
        c = self.d.client()
        self.assertEqual(c.describe_volumes()['Volumes'], [])
        self.assertEqual(c.describe_snapshots()['Snapshots'], [])
        self.assertEqual(c.describe_storage_virtual_machines()['StorageVirtualMachines'], [])
        self.assertEqual(c.describe_backups()['Backups'], [])
        self.assertEqual(c.describe_data_repository_associations()['Associations'], [])
        self.assertEqual(c.describe_file_caches()['FileCaches'], [])
        with self.assertRaises(c.exceptions.VolumeNotFound):
            c.describe_volumes(VolumeIds=['fsvol-0123456789abcdef0'])
        with self.assertRaises(c.exceptions.FileSystemNotFound):
            c.describe_file_system_aliases(FileSystemId='fs-0123456789abcdef0')
        with self.assertRaises(c.exceptions.BackupNotFound):
            c.delete_backup(BackupId='backup-0123456789abcdef0')
        self.assertEqual(c.describe_shared_vpc_configuration()
                         ['EnableFsxRouteTableUpdatesFromParticipantAccounts'], 'false')


class Accounts(unittest.TestCase):
    def test_second_account_sees_nothing(self):
        import tempfile, os
        credf = tempfile.NamedTemporaryFile('w', delete=False, suffix='.creds')
        credf.write('# test keys\nAKIDSECOND secondsecret 111111111111\n')
        credf.close()
        d = Fsxd('--credentials', credf.name)
        try:
            a = d.client()
            b = d.client(key='AKIDSECOND', secret='secondsecret')
            fs = a.create_file_system(**SCRATCH2)['FileSystem']
            fs_id, arn = fs['FileSystemId'], fs['ResourceARN']
            self.assertEqual(b.describe_file_systems()['FileSystems'], [])
            with self.assertRaises(b.exceptions.FileSystemNotFound):
                b.describe_file_systems(FileSystemIds=[fs_id])
            with self.assertRaises(b.exceptions.FileSystemNotFound):
                b.delete_file_system(FileSystemId=fs_id)
            with self.assertRaises(b.exceptions.FileSystemNotFound):
                b.update_file_system(FileSystemId=fs_id, StorageCapacity=2400)
            with self.assertRaises(b.exceptions.ResourceNotFound):
                b.tag_resource(ResourceARN=arn, Tags=[{'Key': 'k', 'Value': 'v'}])
            with self.assertRaises(b.exceptions.ResourceNotFound):
                b.list_tags_for_resource(ResourceARN=arn)
            mine = b.create_file_system(**SCRATCH2)['FileSystem']
            self.assertEqual(mine['OwnerId'], '111111111111')
            self.assertEqual([f['FileSystemId'] for f in a.describe_file_systems()['FileSystems']],
                             [fs_id])
            a.delete_file_system(FileSystemId=fs_id)
            b.delete_file_system(FileSystemId=mine['FileSystemId'])
        finally:
            d.stop()
            os.unlink(credf.name)

    def test_session_token_credentials(self):
        d = Fsxd(env={'FSXD_CREDENTIALS': 'ASIATEMP:tempsecret:333333333333:sessiontok'})
        try:
            ok = d.client(key='ASIATEMP', secret='tempsecret', token='sessiontok')
            self.assertEqual(ok.describe_file_systems()['FileSystems'], [])
            for bad in (None, 'othertoken'):
                c = d.client(key='ASIATEMP', secret='tempsecret', token=bad)
                with self.assertRaises(Exception) as cm:
                    c.describe_file_systems()
                self.assertEqual(cm.exception.response['Error']['Code'],
                                 'UnrecognizedClientException')
        finally:
            d.stop()

    def test_any_access_key_mode(self):
        d = Fsxd('--any-access-key')
        try:
            c = d.client(key='123456789012', secret='whatever')
            self.assertEqual(c.describe_file_systems()['FileSystems'], [])
            fs = c.create_file_system(**SCRATCH2)['FileSystem']
            self.assertEqual(fs['OwnerId'], '123456789012')
            c.delete_file_system(FileSystemId=fs['FileSystemId'])
        finally:
            d.stop()


if __name__ == '__main__':
    unittest.main()
