"""S3 faults (issue 14, point 6) during restore, export and import: an
HTTP proxy (faultproxy.py) in front of moto_server answers 500, 503,
SlowDown or nothing at all on command. The agent's client retries with
backoff; what it acknowledged is never lost; nothing hangs; tasks end
SUCCEEDED after retries or FAILED with a message, like FSx's; and all
works again once S3 answers."""
import errno
import os
import random
import subprocess
import time

from ..fs.engine import EngineCase, binpath, wait_for
from .faultproxy import FaultProxy
from .hsmlib import Agent, Moto, assoc, s3_conf, wait_available, wait_state

BUCKET = 'faults'
DRA = 'dra-0123456789abcdef9'
# The restore bound and the retries leave room for a loaded machine: with
# 8 s and 4 retries, the stalled restore of test_hsm_action_... ran out of
# both (every GET of its third range stalls until the test has seen it
# running through `lfs hsm_action` and clears the fault) in a CI run where
# the first 16 MiB from moto_server and each lfs call were slow: EIO.
RESTORE_MS = 20000
TIMEOUT_MS = 1500       # the client's per-attempt timeout
MAX_RETRIES = 6         # 7 attempts of a stalled GET: about 17 s
ENDED = {'SUCCEEDED', 'FAILED', 'CANCELED'}


class Faults(EngineCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            d = cls.engine.dir
            cls.moto = Moto(d).start()
            cls.fp = FaultProxy(cls.moto.port).start()
            cls.s3 = cls.moto.s3()
            cls.s3.create_bucket(Bucket=BUCKET)
            rnd = random.Random(14)
            cls.objs = {}
            for name in 'abcd':
                key = 'data/r/%s' % name
                cls.objs[key] = rnd.randbytes(300000 + ord(name))
                cls.s3.put_object(Bucket=BUCKET, Key=key, Body=cls.objs[key])
            cls.big = rnd.randbytes(20 * 1024 * 1024 + 7)
            cls.s3.put_object(Bucket=BUCKET, Key='data/r/big', Body=cls.big)
            cls.agent = Agent(d, cls.engine.secret_file, cls.engine.secret)
            cls.agent.start()
            cls.cli = cls.agent.client()
            doc = s3_conf(cls.fp, mds='127.0.0.1:%d' % cls.engine.mds.port,
                          assocs=[assoc(DRA, BUCKET, 'data/', batch=True)],
                          poll_ms=300, restore_ms=RESTORE_MS)
            doc['s3'].update(timeout_ms=TIMEOUT_MS, max_retries=MAX_RETRIES)
            cls.cli.conf(doc)
            wait_available(cls.cli, DRA)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, 'cli', None) is not None:
            cls.cli.close()
        for x in ('agent', 'fp', 'moto'):
            if hasattr(cls, x):
                getattr(cls, x).stop()
        super().tearDownClass()

    def setUp(self):
        self.fp.reset()
        self.fp.stall_s = 4.0
        self.addCleanup(self.fp.clear)

    def p(self, rel):
        return self.path('ns1', rel)

    def read(self, rel):
        with open(self.p(rel), 'rb') as f:
            return f.read()

    def obj(self, key):
        try:
            return self.s3.get_object(Bucket=BUCKET, Key=key)['Body'].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    def state(self, rel):
        return subprocess.run([binpath('lfs'), 'hsm_state', self.p(rel)],
                              capture_output=True, text=True,
                              timeout=30).stdout

    def task(self, tid, ttype, paths):
        self.cli.task({'id': tid, 'type': ttype, 'paths': paths,
                       'report': {'enabled': True}})
        return wait_state(self.cli, 'tasks', tid, ENDED, 120)

    # --- restore ---

    def test_restore_retries_500_503_slowdown(self):
        for kind in ('500', '503', 'SlowDown'):
            self.fp.fail(kind, 1, 'GET', r'/%s/data/r/a$' % BUCKET)
        self.assertEqual(self.read('r/a'), self.objs['data/r/a'])
        self.assertEqual(self.fp.faulted, 3)
        self.assertIn('exists archived', self.state('r/a'))
        self.assertNotIn('released', self.state('r/a'))

    def test_restore_through_a_stall(self):
        """a GET left unanswered past the client's timeout is abandoned
        and asked again; the reader gets the bytes."""
        self.fp.fail('stall', 1, 'GET', r'/%s/data/r/b$' % BUCKET)
        t0 = time.monotonic()
        self.assertEqual(self.read('r/b'), self.objs['data/r/b'])
        took = time.monotonic() - t0
        self.assertEqual(self.fp.faulted, 1)
        self.assertGreaterEqual(took, TIMEOUT_MS / 1000 - 0.2)
        self.assertLess(took, RESTORE_MS / 1000)

    def test_restore_while_s3_fails_then_recovers(self):
        """503 on every GET: the reader gets EIO within the restore bound,
        the file stays released (nothing half-written is served), and
        the next read after S3 recovers returns the object."""
        self.fp.fail('503', None, 'GET', r'/%s/data/r/c$' % BUCKET)
        t0 = time.monotonic()
        with self.assertRaises(OSError) as cm:
            self.read('r/c')
        self.assertEqual(cm.exception.errno, errno.EIO)
        self.assertLess(time.monotonic() - t0, RESTORE_MS / 1000 + 5)
        self.assertIn('released', self.state('r/c'))
        self.assertGreater(self.fp.faulted, 1)
        self.fp.clear()
        self.assertEqual(self.read('r/c'), self.objs['data/r/c'])

    def action(self, rel):
        return subprocess.run([binpath('lfs'), 'hsm_action', self.p(rel)],
                              capture_output=True, text=True,
                              timeout=30).stdout

    def test_hsm_action_shows_running_restore_and_archive(self):
        """lfs hsm_action while a restore is held up after two of its
        three ranges (8, 8 and 4 MiB): RESTORE running with the bytes moved
        so far;
        while an upload stalls: ARCHIVE running; NOOP once they ended."""
        import threading
        self.assertEqual(self.action('r/big'), '%s: NOOP\n' % self.p('r/big'))
        self.fp.stall_s = 5.0
        self.fp.fail('stall', None, 'GET', r'/%s/data/r/big$' % BUCKET,
                     after=2)
        got = {}
        t = threading.Thread(target=lambda: got.update(b=self.read('r/big')))
        t.start()
        # the three ranges go out on parallel streams: which two GETs the
        # proxy lets through first is a race (ranges 0 and 1: 16 MiB; the
        # last, 4 MiB + 7, and another: 12 MiB + 7)
        rng = 8 * 1024 * 1024
        want = ['%s: RESTORE running (%d bytes moved)\n' % (self.p('r/big'), n)
                for n in (2 * rng, rng + len(self.big) - 2 * rng)]
        seen = []

        def shows(rel, want):
            a = self.action(rel)
            if not seen or seen[-1][1] != a:
                seen.append((round(time.monotonic() - t0, 2), a))
            return a in want
        t0 = time.monotonic()
        try:
            wait_for(lambda: shows('r/big', want), 20, 'hsm_action in %r' % want)
        except AssertionError as e:
            raise AssertionError('%s; seen (s, hsm_action): %r' % (e, seen))
        self.fp.clear()
        t.join(60)
        self.assertEqual(got.get('b'), self.big)
        self.assertEqual(self.action('r/big'), '%s: NOOP\n' % self.p('r/big'))
        # an export whose upload stalls
        os.makedirs(self.p('w0'), exist_ok=True)
        with open(self.p('w0/up'), 'wb') as f:
            f.write(b'u' * 1000)
        self.fp.fail('stall', 1, 'PUT', r'/%s/data/w0/up$' % BUCKET)
        self.cli.task({'id': 'task-0123456789abcdef0',
                       'type': 'EXPORT_TO_REPOSITORY', 'paths': ['/ns1/w0']})
        want = '%s: ARCHIVE running (0 bytes moved)\n' % self.p('w0/up')
        wait_for(lambda: self.action('w0/up') == want, 20,
                 'hsm_action %r (now %r)' % (want, self.action('w0/up')))
        st = wait_state(self.cli, 'tasks', 'task-0123456789abcdef0', ENDED, 60)
        self.assertEqual(st['state'], 'SUCCEEDED', st)
        self.assertEqual(self.action('w0/up'), '%s: NOOP\n' % self.p('w0/up'))

    # --- export ---

    def test_export_task_retries_then_succeeds(self):
        os.makedirs(self.p('w1'), exist_ok=True)
        with open(self.p('w1/x'), 'wb') as f:
            f.write(b'x' * 100000)
        self.fp.fail('500', 1, 'PUT', r'/%s/data/w1/x$' % BUCKET)
        self.fp.fail('SlowDown', 1, 'PUT', r'/%s/data/w1/x$' % BUCKET)
        st = self.task('task-0123456789abcdef1', 'EXPORT_TO_REPOSITORY',
                       ['/ns1/w1'])
        self.assertEqual(st['state'], 'SUCCEEDED', st)
        self.assertEqual(self.fp.faulted, 2)
        self.assertEqual(self.obj('data/w1/x'), b'x' * 100000)
        self.assertIn('exists archived', self.state('w1/x'))

    def test_export_task_fails_then_recovers(self):
        """every PUT of y answered 503 (retries exhausted): the task is
        FAILED with S3's reason and a report, y stays unexported (no HSM
        state) and is not lost: the next task exports it."""
        os.makedirs(self.p('w2'), exist_ok=True)
        with open(self.p('w2/y'), 'wb') as f:
            f.write(b'why')
        with open(self.p('w2/z'), 'wb') as f:
            f.write(b'zed')
        self.fp.fail('503', None, 'PUT', r'/%s/data/w2/y$' % BUCKET)
        st = self.task('task-0123456789abcdef2', 'EXPORT_TO_REPOSITORY',
                       ['/ns1/w2'])
        self.assertEqual(st['state'], 'FAILED', st)
        self.assertEqual((st['failed'], st['succeeded']), (1, 1), st)
        self.assertIn('ServiceUnavailable', st['message'])
        self.assertEqual(self.obj('data/task-0123456789abcdef2/failures.csv'),
                         b'ns1/w2/y,failed,S3Error\n')
        self.assertIsNone(self.obj('data/w2/y'))
        self.assertEqual(self.obj('data/w2/z'), b'zed')
        self.assertNotIn('archived', self.state('w2/y'))
        self.fp.clear()
        st = self.task('task-0123456789abcdef3', 'EXPORT_TO_REPOSITORY',
                       ['/ns1/w2'])
        self.assertEqual(st['state'], 'SUCCEEDED', st)
        self.assertEqual(self.obj('data/w2/y'), b'why')

    # --- import ---

    def test_import_task_through_faults(self):
        """HeadObject answered SlowDown twice and a listing page 500 once:
        the import succeeds; listings stalled past every retry fail the
        task (it does not hang) with FSx's kind of message; once S3
        answers again an import succeeds."""
        for i in range(3):
            self.s3.put_object(Bucket=BUCKET, Key='data/i/%d' % i,
                               Body=b'%d' % i)
        self.fp.fail('SlowDown', 2, 'HEAD', r'/%s/data/i/' % BUCKET)
        self.fp.fail('500', 1, 'GET', r'list-type=2.*prefix=data%2Fi')
        st = self.task('task-0123456789abcdef4',
                       'IMPORT_METADATA_FROM_REPOSITORY',
                       ['s3://%s/data/i/' % BUCKET])
        self.assertEqual((st['state'], st['succeeded']), ('SUCCEEDED', 3), st)
        self.assertEqual(self.fp.faulted, 3)
        self.assertEqual(self.read('i/2'), b'2')
        self.s3.put_object(Bucket=BUCKET, Key='data/i/3', Body=b'3')
        self.fp.fail('stall', None, 'GET', r'list-type=2.*prefix=data%2Fi')
        self.fp.stall_s = 3.0
        t0 = time.monotonic()
        st = self.task('task-0123456789abcdef5',
                       'IMPORT_METADATA_FROM_REPOSITORY',
                       ['s3://%s/data/i/' % BUCKET])
        self.assertEqual(st['state'], 'FAILED', st)
        self.assertIn('could not list the data repository', st['message'])
        self.assertLess(time.monotonic() - t0, 60)
        self.assertFalse(os.path.exists(self.p('i/3')))
        self.assertTrue(os.path.exists(self.p('i/1')))   # nothing removed
        self.fp.clear()
        st = self.task('task-0123456789abcdef6',
                       'IMPORT_METADATA_FROM_REPOSITORY',
                       ['s3://%s/data/i/' % BUCKET])
        self.assertEqual(st['state'], 'SUCCEEDED', st)
        self.assertEqual(self.read('i/3'), b'3')
