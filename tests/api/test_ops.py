"""One operation table, one validator (issue 9, task 2).

ops-1.*: fsx-local's mount look-up is an operation of api/ops.def
         (FsxLocalMountInfo), validated by the model like every other;
         X-Amz-Target cannot reach it.
"""
import json
import unittest

from tests.api.test_hostile import RID, build, exchange, json_headers, sign
from tests.fsxlib import Fsxd

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
