"""One operation table, one validator (issue 9, task 2).

ops-1.*: fsx-local's mount look-up is an operation of api/ops.def
         (FsxLocalMountInfo), validated by the model like every other;
         X-Amz-Target cannot reach it.
ops-2.*: every error an operation answers is declared for it in
         api/model.json (botocore's per-operation errors), or is one of
         the front end's own.
"""
import json
import os
import re
import unittest

from tests.api.test_hostile import RID, build, exchange, sign
from tests.fsxlib import SCRATCH2, TOP, Fsxd

MOUNT = b'/fsx-local/mount-info'


class MountInfo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Fsxd()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def post(self, body, path=MOUNT, target=None):
        body = json.dumps(body).encode()
        hdrs = [(b'Content-Type', b'application/x-amz-json-1.1')]
        if target is not None:
            hdrs.append((b'X-Amz-Target', target))
        hdrs = sign(self.d.port, body, hdrs, path=path)
        return exchange(self.d.port, build(b'POST', path, hdrs, body))

    def err(self, r, code):
        self.assertEqual(r.status, 400, r)
        self.assertRegex(r.headers.get('x-amzn-requestid', ''), RID)
        self.assertEqual(r.headers.get('x-amzn-errortype'), code, r)
        self.assertEqual(r.json()['__type'], code, r)
        return r.json()['Message']

    def test_validated_by_the_model(self):
        """ops-1.1: required member and pattern come from api/model.json."""
        msg = self.err(self.post({}), 'BadRequest')
        self.assertEqual(msg, "1 validation error detected: Value null at "
                         "'fileSystemId' failed to satisfy constraint: "
                         "Member must not be null")
        msg = self.err(self.post({'FileSystemId': 'fs-nothex!'}), 'BadRequest')
        self.assertIn("at 'fileSystemId' failed to satisfy constraint", msg)
        msg = self.err(self.post({'FileSystemId': 7}), 'SerializationException')
        self.err(self.post({'FileSystemId': 'fs-0123456789abcdef0'}),
                 'FileSystemNotFound')

    def test_not_reachable_by_target(self):
        """ops-1.2: an fsx-local operation is not an AWS operation."""
        r = self.post({'FileSystemId': 'fs-0123456789abcdef0'}, path=b'/',
                      target=b'AWSSimbaAPIService_v20180301.FsxLocalMountInfo')
        self.err(r, 'UnknownOperationException')
        # and the path answers to no X-Amz-Target but its own
        r = self.post({}, target=b'AWSSimbaAPIService_v20180301.DescribeFileSystems')
        self.err(r, 'BadRequest')


MODEL = json.load(open(os.path.join(TOP, 'api', 'model.json')))
SHAPES = MODEL['shapes']
TARGET = 'AWSSimbaAPIService_v20180301.'
# The front end's own errors (api/errors.def, "front end"): any operation
# may answer them, before its own rules run.
COMMON = {'UnknownOperationException', 'SerializationException',
          'MissingAuthenticationTokenException', 'IncompleteSignatureException',
          'InvalidSignatureException', 'UnrecognizedClientException',
          'AccessDeniedException', 'ThrottlingException', 'RequestEntityTooLarge',
          'RequestURITooLong', 'RequestHeaderFieldsTooLarge'}
# Known departures, each to be fixed where it is made; the walk fails on
# any other. None today.
KNOWN = set()
# Valid values that name nothing, by shape.
SAMPLES = {
    'FileSystemId': 'fs-0123456789abcdef0',
    'BackupId': 'backup-0123456789abcdef0',
    'SourceBackupId': 'backup-0123456789abcdef0',
    'VolumeId': 'fsvol-0123456789abcdef0',
    'SnapshotId': 'fsvolsnap-0123456789abcdef0',
    'StorageVirtualMachineId': 'svm-0123456789abcdef0',
    'DataRepositoryAssociationId': 'dra-0123456789abcdef0',
    'TaskId': 'task-0123456789abcdef0',
    'FileCacheId': 'fc-0123456789abcdef0',
    'ResourceARN': 'arn:aws:fsx:us-east-1:123456789012:file-system/fs-0123456789abcdef0',
    'SubnetId': 'subnet-0123456789abcdef0',
    'SecurityGroupId': 'sg-0123456789abcdef0',
    'S3AccessPointAttachmentName': 'ap-one',
    'ArchivePath': 's3://bucket/prefix',
    'FileSystemTypeVersion': '2.15',
    'TagKey': 'k', 'TagValue': 'v',
    'ClientRequestToken': 'token-1',
    'NextToken': 'AAAA',
}
CANDIDATES = ('abc', 'abcd', 'x', 'a1', '1', '1:00:00', '01:00', 'fs-0123456789abcdef0')


def sample_string(name, s):
    if 'enum' in s:
        return s['enum'][0]
    if name in SAMPLES:
        return SAMPLES[name]
    lo, hi = s.get('min', 0), s.get('max', 64)
    pat = s.get('pattern')
    for c in CANDIDATES + ('a' * max(lo, 1),):
        if not lo <= len(c) <= hi:
            continue
        if pat is None or '\\p' in pat or '(?' in pat:
            return c
        try:
            if re.search(pat, c):
                return c
        except re.error:
            return c
    return 'a' * max(lo, 1)


def sample(name, full, depth=0):
    """A value of shape `name`: required members only, or every member
    (full) down to a small depth."""
    s = SHAPES[name]
    t = s['type']
    if t == 'structure':
        out = {}
        for m in s['members']:
            if m['name'] in s.get('required', ()) or (full and depth < 3):
                out[m['name']] = sample(m['shape'], full, depth + 1)
        return out
    if t == 'list':
        return [sample(s['member'], full, depth + 1)]
    if t == 'string':
        return sample_string(name, s)
    if t in ('integer', 'long'):
        return max(s.get('min', 1), 1) if s.get('max', 2) >= 1 else s.get('min', 0)
    if t == 'boolean':
        return False
    if t == 'timestamp':
        return 1700000000
    raise AssertionError(t)


def replace_ids(v, fs_id, arn):
    """The same request naming an existing file system."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k == 'FileSystemId':
                out[k] = fs_id
            elif k == 'ResourceARN':
                out[k] = arn
            elif k == 'FileSystemIds':
                out[k] = [fs_id]
            else:
                out[k] = replace_ids(x, fs_id, arn)
        return out
    if isinstance(v, list):
        return [replace_ids(x, fs_id, arn) for x in v]
    if v == SAMPLES['FileSystemId']:
        return fs_id
    return v


# Conflicting inputs the model admits, per operation; FS and ARN stand for
# the existing file system.
LUSTRE = dict(SCRATCH2)
EXTRA = {
    'CreateFileSystem': [
        dict(LUSTRE, StorageCapacity=3600),
        dict(LUSTRE, ClientRequestToken='same'),
        dict(LUSTRE, ClientRequestToken='same', StorageCapacity=2400),
        dict(LUSTRE, SubnetIds=['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']),
        dict(LUSTRE, LustreConfiguration={'DeploymentType': 'PERSISTENT_1'}),
        dict(LUSTRE, LustreConfiguration={'DeploymentType': 'SCRATCH_2',
                                          'ImportPath': 'http://x'}),
        dict(LUSTRE, StorageCapacity=1 << 30),
    ],
    'UpdateFileSystem': [
        {'FileSystemId': 'FS', 'StorageCapacity': 1200},
        {'FileSystemId': 'FS', 'StorageCapacity': 100},
        {'FileSystemId': 'FS', 'StorageType': 'HDD'},
        {'FileSystemId': 'FS', 'LustreConfiguration': {'PerUnitStorageThroughput': 50}},
        {'FileSystemId': 'FS', 'ClientRequestToken': 'u', 'StorageCapacity': 2400},
        {'FileSystemId': 'FS', 'ClientRequestToken': 'u', 'StorageCapacity': 4800},
    ],
    'TagResource': [
        {'ResourceARN': 'ARN', 'Tags': [{'Key': 'k%d' % i, 'Value': 'v'} for i in range(50)]},
        {'ResourceARN': 'ARN', 'Tags': [{'Key': 'j%d' % i, 'Value': 'v'} for i in range(50)]},
        {'ResourceARN': 'ARN', 'Tags': [{'Key': 'aws:x', 'Value': 'v'}]},
        {'ResourceARN': 'arn:aws:fsx:us-east-1:123456789012:backup/backup-0123456789abcdef0',
         'Tags': [{'Key': 'k', 'Value': 'v'}]},
        {'ResourceARN': 'arn:aws:s3:us-east-1:123456789012:x/y', 'Tags': [{'Key': 'k', 'Value': 'v'}]},
    ],
    'UntagResource': [
        {'ResourceARN': 'ARN', 'TagKeys': ['aws:x']},
        {'ResourceARN': 'arn:aws:fsx:us-east-1:123456789012:volume/fs-0123456789abcdef0/fsvol-0123456789abcdef0',
         'TagKeys': ['k']},
    ],
    'ListTagsForResource': [
        {'ResourceARN': 'arn:aws:fsx:us-east-1:123456789012:task/task-0123456789abcdef0'},
        {'ResourceARN': 'arn:aws:ec2:us-east-1:123456789012:instance/i-1'},
        {'ResourceARN': 'ARN', 'NextToken': 'QUJD'},
    ],
    'CreateBackup': [{'FileSystemId': 'FS'}, {'FileSystemId': 'FS', 'VolumeId': SAMPLES['VolumeId']}],
    'CreateDataRepositoryTask': [{'FileSystemId': 'FS', 'Type': 'EXPORT_TO_REPOSITORY',
                                  'Report': {'Enabled': False}}],
    'DeleteFileSystem': [{'FileSystemId': 'FS', 'ClientRequestToken': 'd'},
                         {'FileSystemId': 'FS', 'ClientRequestToken': 'd',
                          'LustreConfiguration': {'SkipFinalBackup': True}},
                         {'FileSystemId': 'FS'}],
    'FsxLocalMountInfo': [{'FileSystemId': 'FS'}],
}


def fill(v, fs_id, arn):
    if isinstance(v, dict):
        return {k: fill(x, fs_id, arn) for k, x in v.items()}
    if isinstance(v, list):
        return [fill(x, fs_id, arn) for x in v]
    return {'FS': fs_id, 'ARN': arn}.get(v, v) if isinstance(v, str) else v


class ErrorsModelled(unittest.TestCase):
    """ops-2.*: every error an operation answers is one the model declares
    for it, or one of the front end's."""

    @classmethod
    def setUpClass(cls):
        cls.d = Fsxd()
        c = cls.d.client()
        fs = c.create_file_system(**SCRATCH2)['FileSystem']
        cls.fs_id = fs['FileSystemId']
        cls.arn = fs['ResourceARN']
        cls.d.wait_state(c, cls.fs_id, 'AVAILABLE', timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def call(self, op, body):
        data = json.dumps(body).encode()
        local = MODEL['operations'][op].get('local')
        path = MOUNT if local else b'/'
        hdrs = [(b'Content-Type', b'application/x-amz-json-1.1')]
        if not local:
            hdrs.append((b'X-Amz-Target', (TARGET + op).encode()))
        hdrs = sign(self.d.port, data, hdrs, path=path)
        return exchange(self.d.port, build(b'POST', path, hdrs, data))

    def requests(self, op):
        o = MODEL['operations'][op]
        name = o.get('input')
        if name is None:
            return [{}]
        base, full = sample(name, False), sample(name, True)
        reqs = [{}, base, full]
        reqs += [replace_ids(r, self.fs_id, self.arn) for r in (base, full)]
        for k in full:      # one member of the wrong JSON type at a time
            bad = dict(base)
            bad[k] = {'wrong': [1]} if not isinstance(full[k], dict) else 'x'
            reqs.append(bad)
        if 'Filters' in full:   # filters naming an existing file system
            r = dict(base)
            r['Filters'] = [{'Name': 'file-system-id', 'Values': [self.fs_id]}]
            reqs.append(r)
            r = dict(base)
            r['Filters'] = [{'Name': 'file-system-id', 'Values': [SAMPLES['FileSystemId']]}]
            reqs.append(r)
        reqs += [fill(r, self.fs_id, self.arn) for r in EXTRA.get(op, ())]
        return reqs

    def test_every_operation_error_is_modelled(self):
        """ops-2.1: invalid, not-found and conflicting input to each of
        the operations (local ones included)."""
        ops = sorted(MODEL['operations'], key=lambda n: n == 'DeleteFileSystem')
        self.assertGreaterEqual(len(ops), 49)
        bad, seen = [], 0
        for op in ops:
            allowed = set(MODEL['operations'][op]['errors']) | COMMON
            for body in self.requests(op):
                r = self.call(op, body)
                seen += 1
                self.assertRegex(r.headers.get('x-amzn-requestid', ''), RID)
                if r.status == 200:
                    continue
                t = r.json().get('__type')
                if os.environ.get('FSX_OPS_TRACE'):
                    print(op, t, r.json().get('Message', '')[:90])
                self.assertEqual(r.headers.get('x-amzn-errortype'), t, r)
                if t not in allowed and (op, t) not in KNOWN:
                    bad.append('%s %s -> %s: %s' % (op, json.dumps(body)[:120], t,
                                                     r.json().get('Message')))
        self.assertGreater(seen, 200)
        self.assertEqual(bad, [], '\n'.join(bad))
        # and fsxd itself noticed no undeclared error but the known ones
        with open(os.path.join(self.d.state, 'fsxd.log'), errors='replace') as f:
            warned = [ln for ln in f if 'which its model does not declare' in ln]
        warned = [ln for ln in warned
                  if not any('%s answered %s' % k in ln for k in KNOWN)]
        self.assertEqual(warned, [])
