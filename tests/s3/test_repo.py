"""An S3 data repository end to end: moto_server (behind a relay the tests
can cut), the engine (MDS, two OSSes, four OSTs), a FUSE mount and fsx-hsm
driven over its protocol as fsxd drives it. Hundreds of objects in nested
prefixes are imported as released files; reads restore them one by one;
writes, changes and deletes flow both ways; tasks export, release and
report; S3 going away in the middle of a restore gives the reader EIO and
nothing else."""
import errno
import hashlib
import os
import random
import threading
import time

from ..fs.engine import EngineCase, MiB, wait_for
from .hsmlib import (Agent, Moto, Proxy, assoc, s3_conf, wait_available,
                     wait_state)

BUCKET = 'repo'
DRA1 = 'dra-0123456789abcdef1'
DRA2 = 'dra-0123456789abcdef2'
RESTORE_MS = 4000


def md5(b):
    return hashlib.md5(b).hexdigest()


class RepoCase(EngineCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls._setup()
        except BaseException:
            cls._teardown()
            super().tearDownClass()
            raise

    @classmethod
    def _setup(cls):
        d = cls.engine.dir
        cls.moto = Moto(d).start()
        cls.proxy = Proxy(cls.moto.port).start()
        cls.s3 = cls.moto.s3()
        cls.s3.create_bucket(Bucket=BUCKET)
        rnd = random.Random(11)
        cls.objs = {}
        for i in range(240):
            key = 'data/d%d/e%d/f%03d.bin' % (i % 4, i % 3, i)
            body = rnd.randbytes(rnd.choice([0, 1, 100, 4096, 65536,
                                             300000]))
            cls.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            cls.objs[key] = body
        big = rnd.randbytes(6 * MiB + 12345)
        cls.s3.put_object(Bucket=BUCKET, Key='data/big/one.bin', Body=big,
                          Metadata={'file-permissions': '0100640',
                                    'file-owner': '1234',
                                    'file-group': '4321',
                                    'file-mtime': '1595002920000000000ns'})
        cls.objs['data/big/one.bin'] = big
        cls.agent = Agent(d, cls.engine.secret_file, cls.engine.secret)
        cls.agent.start()
        cls.cli = cls.agent.client()
        cls.assocs = [assoc(DRA1, BUCKET, 'data/', fs_path='/ns1',
                            batch=True, imp=['NEW', 'CHANGED', 'DELETED'],
                            exp=['NEW', 'CHANGED', 'DELETED'], chunk=2)]
        cls.configure()
        wait_available(cls.cli, DRA1, 180)

    @classmethod
    def configure(cls):
        cls.cli.conf(s3_conf(cls.proxy, mds='127.0.0.1:%d' %
                             cls.engine.mds.port, assocs=cls.assocs,
                             poll_ms=300, restore_ms=RESTORE_MS))

    @classmethod
    def _teardown(cls):
        for x in ('cli',):
            if hasattr(cls, x):
                getattr(cls, x).close()
        for x in ('agent', 'proxy', 'moto'):
            if hasattr(cls, x):
                getattr(cls, x).stop()

    @classmethod
    def tearDownClass(cls):
        cls._teardown()
        super().tearDownClass()

    # --- helpers ---

    def ost_bytes(self):
        """Bytes the OSTs hold in objects (allocated blocks)."""
        total = 0
        for d in self.engine.ost_dirs.values():
            for root, _, files in os.walk(os.path.join(d, 'O')):
                for f in files:
                    try:
                        total += os.stat(os.path.join(root, f)).st_blocks * 512
                    except FileNotFoundError:
                        pass
        return total

    def fpath(self, key):
        return self.path('ns1', key[len('data/'):])

    def read(self, p):
        with open(p, 'rb') as f:
            return f.read()

    def reads(self, p, want):
        """p reads as want now (False also when it cannot be read)."""
        try:
            return self.read(p) == want
        except OSError:
            return False

    def obj(self, key):
        try:
            return self.s3.get_object(Bucket=BUCKET, Key=key)['Body'].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    def task(self, doc, timeout=120):
        self.cli.task(doc)
        return wait_state(self.cli, 'tasks', doc['id'],
                          {'SUCCEEDED', 'FAILED', 'CANCELED'}, timeout)

    # --- tests, in order: the first must run before any data moves ---

    def test_1_listed_with_sizes_before_any_data_moves(self):
        self.assertEqual(self.ost_bytes(), 0)
        for key, body in self.objs.items():
            st = os.stat(self.fpath(key))
            self.assertEqual(st.st_size, len(body), key)
        names = set()
        for root, _, files in os.walk(self.path('ns1')):
            for f in files:
                names.add(os.path.relpath(os.path.join(root, f),
                                          self.path('ns1')))
        self.assertEqual(names, {k[len('data/'):] for k in self.objs})
        # the object's POSIX metadata, FSx's names
        st = os.stat(self.fpath('data/big/one.bin'))
        self.assertEqual((st.st_mode & 0o7777, st.st_uid, st.st_gid,
                          int(st.st_mtime)), (0o640, 1234, 4321, 1595002920))
        self.assertEqual(self.ost_bytes(), 0, 'stat moved data')

    def test_2_reading_one_loads_it_and_only_it(self):
        before = self.ost_bytes()
        key = 'data/big/one.bin'
        body = self.read(self.fpath(key))
        self.assertEqual(md5(body), md5(self.objs[key]))
        grown = self.ost_bytes() - before
        self.assertGreaterEqual(grown, len(self.objs[key]))
        self.assertLess(grown, len(self.objs[key]) + 2 * MiB)
        # striped as ImportedFileChunkSize (2 MiB) says: 4 stripes
        lov = os.getxattr(self.fpath(key), 'lustre.lov')
        self.assertEqual(int.from_bytes(lov[8:12], 'little'), 4)
        st = os.stat(self.fpath(key))
        self.assertEqual(int(st.st_mtime), 1595002920, 'restore moved mtime')

    def test_3_every_checksum_equals_its_object(self):
        for key, body in sorted(self.objs.items()):
            self.assertEqual(md5(self.read(self.fpath(key))), md5(body), key)

    def test_4_writes_modifications_and_deletes_reach_the_bucket(self):
        os.makedirs(self.path('ns1', 'new'), exist_ok=True)
        p = self.path('ns1', 'new', 'w.txt')
        with open(p, 'wb') as f:
            f.write(b'first version\n')
        wait_for(lambda: self.obj('data/new/w.txt') == b'first version\n',
                 30, 'export of a new file')
        head = self.s3.head_object(Bucket=BUCKET, Key='data/new/w.txt')
        meta = head['Metadata']
        self.assertEqual(int(meta['file-permissions'], 8) & 0o170000,
                         0o100000)
        self.assertEqual(meta['file-owner'], str(os.getuid()))
        self.assertTrue(meta['file-mtime'].endswith('ns'))
        with open(p, 'ab') as f:
            f.write(b'second\n')
        wait_for(lambda: self.obj('data/new/w.txt') ==
                 b'first version\nsecond\n', 30, 'export of a change')
        os.unlink(p)
        wait_for(lambda: self.obj('data/new/w.txt') is None, 30,
                 'delete of the object')
        # directories and symlinks made here are exported as FSx does
        wait_for(lambda: self.obj('data/new/') == b'', 30, 'dir marker')
        self.assertEqual(int(self.s3.head_object(
            Bucket=BUCKET, Key='data/new/')['Metadata']['file-permissions'],
            8) & 0o170000, 0o040000)
        os.symlink('../d0/e0/f000.bin', self.path('ns1', 'new', 'ln'))
        wait_for(lambda: self.obj('data/new/ln') == b'../d0/e0/f000.bin',
                 30, 'symlink object')
        self.assertEqual(self.s3.head_object(
            Bucket=BUCKET, Key='data/new/ln')['Metadata'][
                'file-permissions'], '0120777')
        # not imported back as a file
        time.sleep(1)
        self.assertTrue(os.path.islink(self.path('ns1', 'new', 'ln')))
        # a rename: exported under the new name, the old object deleted
        r1, r2 = self.path('ns1', 'new', 'r1.txt'), self.path('ns1', 'new',
                                                              'r2.txt')
        with open(r1, 'wb') as f:
            f.write(b'renamed')
        wait_for(lambda: self.obj('data/new/r1.txt') == b'renamed', 30,
                 'export before the rename')
        os.rename(r1, r2)
        wait_for(lambda: self.obj('data/new/r2.txt') == b'renamed', 30,
                 'export under the new name')
        wait_for(lambda: self.obj('data/new/r1.txt') is None, 30,
                 'old object deleted')
        time.sleep(1)
        self.assertFalse(os.path.exists(r1), 'imported back')

    def test_5_bucket_changes_reach_the_file_system(self):
        p = self.fpath('data/fresh/n.txt')
        self.s3.put_object(Bucket=BUCKET, Key='data/fresh/n.txt',
                           Body=b'new object')
        wait_for(lambda: os.path.exists(p), 30, 'import of a new object')
        self.assertEqual(self.read(p), b'new object')
        self.s3.put_object(Bucket=BUCKET, Key='data/fresh/n.txt',
                           Body=b'changed object, longer')
        wait_for(lambda: self.reads(p, b'changed object, longer'), 30,
                 'import of a changed object')
        self.s3.delete_object(Bucket=BUCKET, Key='data/fresh/n.txt')
        wait_for(lambda: not os.path.exists(p), 30, 'a deleted object')

    def test_5_change_to_an_open_file_waits_for_its_close(self):
        """An object changed while its file is open is imported after
        the close: the MDS refuses the update while the file is open
        (EBUSY) and the next polls try again. Before, the pass that was
        refused recorded the new ETag and the change was never applied."""
        key = 'data/fresh/held.txt'
        p = self.fpath(key)
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=b'first')
        wait_for(lambda: os.path.exists(p), 30, 'import of a new object')
        self.assertEqual(self.read(p), b'first')
        with open(p, 'rb') as f:
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=b'second, changed')
            time.sleep(2)       # several polls (300 ms) refused: the file is open
            self.assertEqual(os.stat(p).st_size, len(b'first'))
        wait_for(lambda: self.reads(p, b'second, changed'), 30,
                 'import of the object changed while open')
        self.s3.delete_object(Bucket=BUCKET, Key=key)
        wait_for(lambda: not os.path.exists(p), 30, 'a deleted object')

    def test_6_release_frees_space_and_the_file_reloads(self):
        keys = [k for k in self.objs if k.startswith('data/d1/')]
        for k in keys:
            self.read(self.fpath(k))
        before = self.ost_bytes()
        want = sum(len(self.objs[k]) for k in keys)
        st = self.task({'id': 'task-0123456789abcde61',
                        'type': 'RELEASE_DATA_FROM_FILESYSTEM',
                        'paths': ['ns1/d1'], 'release': {'duration_days': 0},
                        'report': {'enabled': False}})
        self.assertEqual(st['state'], 'SUCCEEDED', st)
        self.assertEqual(st['released'], want)
        wait_for(lambda: before - self.ost_bytes() >= want, 30,
                 'space freed by the release')
        for k in keys:
            self.assertEqual(os.stat(self.fpath(k)).st_size,
                             len(self.objs[k]))
            self.assertEqual(md5(self.read(self.fpath(k))),
                             md5(self.objs[k]), k)
        # a duration no file meets releases nothing
        st = self.task({'id': 'task-0123456789abcde62',
                        'type': 'RELEASE_DATA_FROM_FILESYSTEM',
                        'paths': ['ns1/d1'],
                        'release': {'duration_days': 30},
                        'report': {'enabled': False}})
        self.assertEqual((st['state'], st['released']), ('SUCCEEDED', 0))

    def test_7_s3_gone_in_the_middle_of_a_restore(self):
        key = 'data/huge.bin'
        body = os.urandom(24 * MiB)
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        p = self.fpath(key)
        wait_for(lambda: os.path.exists(p), 30, 'import of ' + key)
        self.proxy.slow = 0.02
        out = {}

        def reader():
            t0 = time.monotonic()
            try:
                with open(p, 'rb') as f:
                    out['data'] = f.read()
            except OSError as e:
                out['err'] = e.errno
            out['secs'] = time.monotonic() - t0
        moved0 = self.proxy.moved
        th = threading.Thread(target=reader)
        th.start()
        wait_for(lambda: self.proxy.moved - moved0 > 2 * MiB, 30,
                 'restore under way')
        self.proxy.stop()
        th.join(RESTORE_MS / 1000 + 30)
        self.assertFalse(th.is_alive())
        self.assertEqual(out.get('err'), errno.EIO, out.get('secs'))
        self.assertEqual(os.stat(p).st_size, len(body))
        # back: the next open restores it whole
        self.proxy.slow = 0
        self.proxy.start()
        self.assertEqual(md5(self.read(p)), md5(body))

    def test_8_multipart_export_of_a_large_file(self):
        os.makedirs(self.path('ns1', 'mp'), exist_ok=True)
        p = self.path('ns1', 'mp', 'large.bin')
        h = hashlib.md5()
        with open(p, 'wb') as f:
            for _ in range(105):
                b = os.urandom(MiB)
                h.update(b)
                f.write(b)

        def exported():
            try:
                return self.s3.head_object(Bucket=BUCKET,
                                           Key='data/mp/large.bin')
            except Exception:
                return None
        head = wait_for(exported, 240, 'export of 105 MiB')
        self.assertEqual(head['ContentLength'], 105 * MiB)
        self.assertIn('-', head['ETag'], 'not a multipart upload')
        got = hashlib.md5()
        for chunk in self.s3.get_object(
                Bucket=BUCKET, Key='data/mp/large.bin')['Body'].iter_chunks(
                    MiB):
            got.update(chunk)
        self.assertEqual(got.hexdigest(), h.hexdigest())

    def test_9_export_task_with_report_and_cancel(self):
        type(self).assocs = self.assocs + [
            assoc(DRA2, BUCKET, 'two/', fs_path='/ns2')]
        self.configure()
        wait_state(self.cli, 'associations', DRA2, {'AVAILABLE'}, 60)
        os.makedirs(self.path('ns2', 'sub'), exist_ok=True)
        files = {}
        for i in range(12):
            files['sub/x%02d' % i] = os.urandom(1000 + i)
            with open(self.path('ns2', 'sub', 'x%02d' % i), 'wb') as f:
                f.write(files['sub/x%02d' % i])
        os.symlink('sub/x00', self.path('ns2', 'link'))
        time.sleep(1)
        self.assertIsNone(self.obj('two/sub/x00'), 'exported without policy')
        st = self.task({'id': 'task-0123456789abcde91',
                        'type': 'EXPORT_TO_REPOSITORY', 'paths': ['ns2'],
                        'report': {'enabled': True,
                                   'path': 's3://%s/reports' % BUCKET,
                                   'format': 'REPORT_CSV_20191124',
                                   'scope': 'FAILED_FILES_ONLY'}})
        self.assertEqual(st['state'], 'SUCCEEDED', st)
        self.assertEqual(st['failed'], 0)
        self.assertEqual(st['total'], 12 + 2)   # files, the dir, the link
        for rel, body in files.items():
            self.assertEqual(self.obj('two/' + rel), body)
        self.assertEqual(self.obj('two/link'), b'sub/x00')
        self.assertEqual(self.s3.head_object(
            Bucket=BUCKET, Key='two/link')['Metadata']['file-permissions'],
            '0120777')
        self.assertEqual(st['report_path'], 's3://%s/reports/%s/failures.csv'
                         % (BUCKET, 'task-0123456789abcde91'))
        self.assertEqual(self.obj('reports/task-0123456789abcde91/'
                                  'failures.csv'), b'')
        # a path outside every association fails the task
        st = self.task({'id': 'task-0123456789abcde92',
                        'type': 'EXPORT_TO_REPOSITORY',
                        'paths': ['elsewhere'], 'report': {'enabled': False}})
        self.assertEqual(st['state'], 'FAILED')
        # cancel while it runs: S3 made slow, so it is still running
        for i in range(30):
            with open(self.path('ns2', 'sub', 'y%02d' % i), 'wb') as f:
                f.write(os.urandom(200000))
        self.proxy.slow = 0.05
        try:
            tid = 'task-0123456789abcde93'
            self.cli.task({'id': tid, 'type': 'EXPORT_TO_REPOSITORY',
                           'paths': ['ns2/sub'],
                           'report': {'enabled': False}})
            wait_state(self.cli, 'tasks', tid, {'EXECUTING'}, 30)
            wait_for(lambda: [t for t in self.cli.status()['tasks']
                              if t['id'] == tid][0]['succeeded'] > 0, 60,
                     'counters moving')
            self.cli.cancel(tid)
            st = wait_state(self.cli, 'tasks', tid, {'CANCELED', 'SUCCEEDED',
                                                     'FAILED'}, 120)
        finally:
            self.proxy.slow = 0
        self.assertEqual(st['state'], 'CANCELED')
        self.assertLess(st['succeeded'], 30)

    def test_a_lfs_hsm_verbs_and_import_task(self):
        import subprocess
        from ..fs.engine import binpath

        def lfs(*args, ok=True):
            r = subprocess.run([binpath('lfs')] + list(args),
                               capture_output=True, text=True, timeout=60)
            if ok:
                self.assertEqual(r.returncode, 0, r.stderr)
            return r
        # an object imported by a task (DRA2 has no auto-import)
        self.s3.put_object(Bucket=BUCKET, Key='two/imp/a.txt', Body=b'task')
        p = self.path('ns2', 'imp', 'a.txt')
        self.assertFalse(os.path.exists(p))
        st = self.task({'id': 'task-0123456789abcdea1',
                        'type': 'IMPORT_METADATA_FROM_REPOSITORY',
                        'paths': ['s3://%s/two/imp/' % BUCKET],
                        'report': {'enabled': True}})
        self.assertEqual((st['state'], st['total'], st['succeeded']),
                         ('SUCCEEDED', 1, 1), st)
        self.assertTrue(st['report_path'].endswith('/report.csv'), st)
        out = lfs('hsm_state', p).stdout
        self.assertEqual(out, '%s: (0x0000000d) released exists archived, '
                         'archive_id:1\n' % p)
        self.assertEqual(lfs('hsm_action', p).stdout, '%s: NOOP\n' % p)
        lfs('hsm_restore', p)
        wait_for(lambda: '(0x00000009) exists archived' in
                 lfs('hsm_state', p).stdout, 30, 'hsm_restore')
        self.assertEqual(self.read(p), b'task')
        lfs('hsm_release', p)
        self.assertIn('(0x0000000d)', lfs('hsm_state', p).stdout)
        self.assertEqual(self.read(p), b'task')
        # a new file: no HSM state; release refused; archive exports it
        q = self.path('ns2', 'imp', 'mine.txt')
        with open(q, 'wb') as f:
            f.write(b'mine')
        self.assertEqual(lfs('hsm_state', q).stdout, '%s: (0x00000000)\n' % q)
        r = lfs('hsm_release', q, ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('Cannot send HSM request (use of %s)' % q, r.stderr)
        lfs('hsm_archive', '-a', '1', q)
        wait_for(lambda: self.obj('two/imp/mine.txt') == b'mine', 30,
                 'hsm_archive')
        wait_for(lambda: '(0x00000009) exists archived' in
                 lfs('hsm_state', q).stdout, 30, 'archived state')
        with open(q, 'ab') as f:
            f.write(b'!')
        wait_for(lambda: '(0x0000000b) exists dirty archived' in
                 lfs('hsm_state', q).stdout, 30, 'dirty after a write')

    def test_b_delete_association_with_its_data(self):
        self.assertTrue(os.path.isdir(self.path('ns2')))
        type(self).assocs = [self.assocs[0], dict(
            assoc(DRA2, BUCKET, 'two/', fs_path='/ns2'), state='DELETING',
            delete_data=True)]
        self.configure()
        wait_state(self.cli, 'associations', DRA2, {'DELETED'}, 60)
        self.assertFalse(os.path.exists(self.path('ns2')))
        # the objects stay in the bucket
        self.assertEqual(self.obj('two/sub/x00') is None, False)
