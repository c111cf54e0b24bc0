"""A released file over the copy limit moves by a multipart copy (issue
11): S3 takes one CopyObject up to 5 GiB; above, the agent copies the
object in UploadPartCopy ranges. Scaled down: the agent's s3.copy_max is
6 MiB and a proxy in front of moto_server answers a CopyObject of a source
over 6 MiB with S3's InvalidRequest (moto itself has no limit), so a
~20 MiB released file renamed must move in parts, its bytes and user
metadata kept, the old key gone."""
import hashlib
import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ..fs.engine import wait_for
from .faultproxy import FaultProxy
from .hsmlib import AKID, SECRET, assoc, s3_conf
from .test_gaps import BUCKET, DRA, GapCase

COPY_MAX = 6 << 20
SIZE = 20 * (1 << 20) + 12345       # 4 parts of 6 MiB, the last short


class BigRename(GapCase):
    """A renamed released file of ~20 MiB with copy_max 6 MiB."""

    @classmethod
    def configure(cls):
        cls.fp = FaultProxy(cls.moto.port).start()
        cls.fp.copy_limit = COPY_MAX
        conf = s3_conf(cls.moto, mds='127.0.0.1:%d' % cls.engine.mds.port,
                       assocs=[assoc(DRA, BUCKET, 'data/', batch=True,
                                     imp=['NEW', 'CHANGED', 'DELETED'],
                                     exp=['NEW', 'CHANGED', 'DELETED'])],
                       poll_ms=300)
        conf['s3']['endpoint'] = cls.fp.endpoint
        conf['s3']['copy_max'] = COPY_MAX
        cls.cli = cls.agent.client()
        cls.cli.conf(conf)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if getattr(cls, 'fp', None) is not None:
            cls.fp.stop()

    def test_renamed_big_released_file_moves_by_part_copies(self):
        data = bytes((i * 7 + i // 4096) & 0xff for i in range(SIZE))
        meta = {'file-permissions': '0100640', 'test-tag': 'mpcopy'}
        self.s3.put_object(Bucket=BUCKET, Key='data/d/big', Body=data,
                           Metadata=meta)
        self.wait_exists('d/big')               # auto-import: released
        self.assertIn('released', self.hsm_state('d/big'))
        self.assertEqual(os.stat(self.p('d/big')).st_size, SIZE)
        # the limit is real: one CopyObject of it is refused
        px = boto3.client('s3', endpoint_url=self.fp.endpoint,
                          region_name='us-east-1', aws_access_key_id=AKID,
                          aws_secret_access_key=SECRET,
                          config=Config(s3={'addressing_style': 'path'},
                                        retries={'max_attempts': 1}))
        with self.assertRaises(ClientError) as cm:
            px.copy_object(Bucket=BUCKET, Key='probe', CopySource={
                'Bucket': BUCKET, 'Key': 'data/d/big'})
        self.assertEqual(cm.exception.response['Error']['Code'],
                         'InvalidRequest')
        os.rename(self.p('d/big'), self.p('d/big2'))
        wait_for(lambda: 'data/d/big2' in self.keys('data/d/') and
                 'data/d/big' not in self.keys('data/d/'), 60,
                 'the object moved (now %s)' % self.keys('data/d/'))
        got = self.s3.get_object(Bucket=BUCKET, Key='data/d/big2')
        body = got['Body'].read()
        self.assertEqual(len(body), SIZE)
        self.assertEqual(hashlib.sha256(body).hexdigest(),
                         hashlib.sha256(data).hexdigest())
        self.assertEqual(got['Metadata'], meta)
        # made of 4 parts: a multipart ETag "<md5>-4"
        self.assertTrue(got['ETag'].strip('"').endswith('-4'), got['ETag'])
        # moved without being read back; reads from its new key
        self.assertIn('released', self.hsm_state('d/big2'))
        with open(self.p('d/big2'), 'rb') as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(),
                             hashlib.sha256(data).hexdigest())

    def test_failed_part_copy_is_aborted_and_file_stays(self):
        data = bytes((i * 11 + i // 999) & 0xff for i in range(SIZE))
        self.s3.put_object(Bucket=BUCKET, Key='data/d/huge', Body=data)
        self.wait_exists('d/huge')
        self.assertIn('released', self.hsm_state('d/huge'))
        self.fp.reset()
        self.fp.fail('500', None, method='PUT', path=r'partNumber=')
        try:
            os.rename(self.p('d/huge'), self.p('d/huge2'))
            # every part copy refused (retries spent): the upload aborted
            wait_for(lambda: self.fp.faulted >= 5 and not
                     self.s3.list_multipart_uploads(Bucket=BUCKET)
                     .get('Uploads'), 60, 'the failed copy aborted')
        finally:
            self.fp.clear()
        self.assertTrue(any('uploads' in p for m, p in self.fp.seen
                            if m == 'POST'), self.fp.seen)
        keys = self.keys('data/d/')
        self.assertIn('data/d/huge', keys)      # the file stays as it was
        self.assertNotIn('data/d/huge2', keys)
        self.assertIn('released', self.hsm_state('d/huge2'))
        with open(self.p('d/huge2'), 'rb') as f:   # from its old object
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(),
                             hashlib.sha256(data).hexdigest())
