"""Faults signals cannot reach, through failpoints (src/core/failpoint.h)
compiled into the binaries of `make fp` (build/fp): EIO and short reads on
an OST, lost replies, kill -9 at chosen points of a request, a failed SQLite
commit in fsxd; and a full OST. After each: nothing acknowledged is lost,
nothing hangs, errors reach the caller, the survivors keep serving.

Failpoints are armed through FSX_FAILPOINTS_FILE, which every process
started here inherits; a process re-reads the file when it changes."""
import errno
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import boto3
import botocore.config

from tests.fs.engine import EngineCase, binpath, fsync_dir, wait_for, MiB, KiB
from tests.fsxlib import Fsxd, SCRATCH2

CREATE, UNLINK, OST_WRITE = 44, 48, 23


def need_failpoints():
    with open(binpath('fsx-oss'), 'rb') as f:
        if b'FSX_FAILPOINTS_FILE' not in f.read():
            raise unittest.SkipTest('not a failpoint build: run make faults')


def data(tag, n):
    seed = hashlib.sha256(tag.encode()).digest()
    return (seed * (n // len(seed) + 1))[:n]


def arm(path, spec):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(spec + '\n')
    os.rename(tmp, path)
    time.sleep(0.01)        # a distinct mtime for the next change


def write_file(path, buf, sync=True):
    """As a careful writer: a short write is followed by the next one (which
    then reports the error)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(buf)
        while view:
            n = os.write(fd, view)
            if n == 0:
                raise OSError(errno.EIO, 'write wrote nothing')
            view = view[n:]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, 'rb') as f:
        return f.read()


CHILD = r'''
import os, sys
op, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
buf = bytes(range(256)) * (n // 256)
if op == 'create':
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, buf)
    os.fsync(fd)
    os.close(fd)
elif op == 'write':
    fd = os.open(path, os.O_WRONLY)
    os.write(fd, buf)
    os.fsync(fd)
    os.close(fd)
elif op == 'unlink':
    os.unlink(path)
print('done', flush=True)
'''


class FaultCase(EngineCase):
    n_ost = 2
    n_oss = 1

    @classmethod
    def setUpClass(cls):
        need_failpoints()
        fd, cls.fpfile = tempfile.mkstemp(prefix='fsx-fp-')
        os.close(fd)
        # kept for the class: servers restarted by a test inherit it too
        os.environ['FSX_FAILPOINTS_FILE'] = cls.fpfile
        try:
            super().setUpClass()
        except BaseException:
            del os.environ['FSX_FAILPOINTS_FILE']
            raise
        cls.nmount = 0

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            del os.environ['FSX_FAILPOINTS_FILE']
            os.unlink(cls.fpfile)

    def tearDown(self):
        arm(self.fpfile, '')

    def arm(self, spec):
        arm(self.fpfile, spec)

    def fresh_mount(self, opts=None):
        """A new mount: nothing it reads can come from a client cache."""
        type(self).nmount += 1
        return self.engine.mount('v%d' % self.nmount, opts=opts)

    def fired(self, srv, name):
        with open(srv.log) as f:
            return f.read().count('failpoint %s fires' % name)


class EngineFaults(FaultCase):
    def test_pwrite_eio_reaches_the_writer(self):
        good = data('good', 2 * MiB)
        write_file(self.path('good'), good)
        self.arm('oss.pwrite=error(-5)')
        with self.assertRaises(OSError) as cm:
            write_file(self.path('bad'), data('bad', 2 * MiB))
        self.assertEqual(cm.exception.errno, errno.EIO)
        self.assertGreater(self.fired(self.engine.oss[0], 'oss.pwrite'), 0)
        self.arm('')
        v = self.fresh_mount()
        self.assertEqual(read_file(os.path.join(v, 'good')), good)
        again = data('again', 2 * MiB)
        write_file(self.path('bad'), again)
        self.assertEqual(read_file(os.path.join(self.fresh_mount(), 'bad')), again)

    def test_failed_first_piece_is_never_hidden(self):
        """One OST write fails while a 4 MiB write(2) goes out in 1 MiB
        pieces behind the writer: the error must reach the writer (write,
        fsync or close), or the data must be there. An error seen only by a
        later piece once became a short count the writer took for success,
        and the failed piece read back as zeros."""
        buf = data('pieces', 4 * MiB)
        for i in range(6):
            name = 'pieces%d' % i
            self.arm('oss.pwrite=error(-5)*1')
            try:
                write_file(self.path(name), buf)
            except OSError as e:
                self.assertEqual(e.errno, errno.EIO)
                continue
            finally:
                self.arm('')
            self.assertEqual(read_file(os.path.join(self.fresh_mount(), name)), buf,
                             'write %d reported success but lost data' % i)

    def test_short_reads_are_completed(self):
        """Over the wire: every pread on the OSS comes up short."""
        buf = data('short', 3 * MiB + 123)
        write_file(self.path('short'), buf)
        self.arm('oss.pread.short=short')
        v = self.fresh_mount('nolocalread')
        self.assertEqual(read_file(os.path.join(v, 'short')), buf)
        self.assertGreater(self.fired(self.engine.oss[0], 'oss.pread.short'), 0)

    def test_short_local_reads_are_completed(self):
        """Local reads (fsc_local.c): every pread of an object's file by
        the mount itself comes up short."""
        buf = data('lshort', 3 * MiB + 123)
        write_file(self.path('lshort'), buf)
        self.arm('fsc.pread.short=short')
        v = self.fresh_mount()
        self.assertEqual(read_file(os.path.join(v, 'lshort')), buf)
        self.assertGreater(self.fired(self.engine.mounts[-1], 'fsc.pread.short'), 0)

    def pread_eio(self, name, opts, fp, srv):
        buf = data(name, 1 * MiB)
        write_file(self.path(name), buf)
        v = self.fresh_mount(opts)
        self.arm(fp + '=error(-5)')
        with self.assertRaises(OSError) as cm:
            read_file(os.path.join(v, name))
        self.assertEqual(cm.exception.errno, errno.EIO)
        self.assertGreater(self.fired(srv(), fp), 0)
        self.arm('')
        self.assertEqual(read_file(os.path.join(self.fresh_mount(opts), name)), buf)

    def test_pread_eio_reaches_the_reader(self):
        self.pread_eio('rd', 'nolocalread', 'oss.pread', lambda: self.engine.oss[0])

    def test_local_pread_eio_reaches_the_reader(self):
        self.pread_eio('lrd', None, 'fsc.pread', lambda: self.engine.mounts[-1])

    def test_lost_replies_are_resent(self):
        write_file(self.path('gone'), b'x')
        mds, oss = self.engine.mds, self.engine.oss[0]
        m0, o0 = self.fired(mds, 'msg_srv.reply'), self.fired(oss, 'msg_srv.reply')
        self.arm('msg_srv.reply@%d=error(-104)*1,msg_srv.reply@%d=error(-104)*1,'
                 'msg_srv.reply@%d=error(-104)*1' % (CREATE, UNLINK, OST_WRITE))
        buf = data('lost', 1 * MiB)
        fd = os.open(self.path('lost'), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, buf)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.unlink(self.path('gone'))
        self.assertEqual(self.fired(mds, 'msg_srv.reply') - m0, 2)
        self.assertEqual(self.fired(oss, 'msg_srv.reply') - o0, 1)
        v = self.fresh_mount()
        self.assertEqual(read_file(os.path.join(v, 'lost')), buf)
        self.assertFalse(os.path.exists(os.path.join(v, 'gone')))

    def run_killed(self, srv, spec, op, name, n=256 * KiB):
        """Start op in a child, let spec kill srv, restart srv, and wait
        for the child: it must finish successfully."""
        self.arm(spec)
        child = subprocess.Popen([sys.executable, '-c', CHILD, op, self.path(name), str(n)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: srv.proc.poll() is not None, 30, 'the kill of ' + srv.tag)
            self.assertEqual(srv.proc.returncode, -9)
            self.arm('')
            srv.restart()
            out, err = child.communicate(timeout=90)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        self.assertEqual(child.returncode, 0, err)
        self.assertEqual(out.strip(), 'done')

    def test_kill9_at_each_point(self):
        mds, oss = self.engine.mds, self.engine.oss[0]
        want = bytes(range(256)) * (256 * KiB // 256)
        for point in ('dispatch', 'reply'):
            with self.subTest(server='mds', op='create', point=point):
                self.run_killed(mds, 'msg_srv.%s@%d=kill*1' % (point, CREATE), 'create',
                                'k-' + point)
                self.assertEqual(read_file(os.path.join(self.fresh_mount(), 'k-' + point)),
                                 want)
            with self.subTest(server='mds', op='unlink', point=point):
                self.run_killed(mds, 'msg_srv.%s@%d=kill*1' % (point, UNLINK), 'unlink',
                                'k-' + point)
                self.assertFalse(os.path.exists(os.path.join(self.fresh_mount(),
                                                             'k-' + point)))
            with self.subTest(server='oss', op='write', point=point):
                write_file(self.path('w-' + point), b'')
                self.run_killed(oss, 'msg_srv.%s@%d=kill*1' % (point, OST_WRITE), 'write',
                                'w-' + point)
                self.assertEqual(read_file(os.path.join(self.fresh_mount(), 'w-' + point)),
                                 want)


class DelegFaults(FaultCase):
    """coh-8.5, 8.6: unlinks acknowledged early in a directory the mount
    made (fm_unl.c), when the MDS fails them or dies under them."""

    def burst_dir(self, d, n):
        os.mkdir(self.path(d))
        for i in range(n):
            os.close(os.open(self.path(d, 'f%d' % i),
                             os.O_CREAT | os.O_WRONLY, 0o644))

    def fsyncdir(self, d):
        fsync_dir(self.path(d))

    def counters(self):
        return self.engine.mounts[0].counters()

    # coh-8.5: the MDS refuses one of them: the next fsyncdir of the
    # directory reports it, the name is there again, the rest are made
    def test_failed_early_unlink_reported_by_fsyncdir(self):
        self.burst_dir('dfail', 20)
        c0 = self.counters()
        self.arm('mds.unlink=error(-5)*1')
        for i in range(20):
            os.unlink(self.path('dfail', 'f%d' % i))
        with self.assertRaises(OSError) as cm:
            self.fsyncdir('dfail')
        self.assertEqual(cm.exception.errno, errno.EIO)
        self.fsyncdir('dfail')          # reported once
        c1 = self.counters()
        self.assertEqual(c1.get('unl_errors', 0) - c0.get('unl_errors', 0), 1)
        self.assertGreater(c1.get('unl_early', 0) - c0.get('unl_early', 0), 0)
        left = os.listdir(self.path('dfail'))
        self.assertEqual(len(left), 1, left)
        self.assertTrue(os.path.exists(self.path('dfail', left[0])))
        self.assertEqual(os.listdir(os.path.join(self.fresh_mount(), 'dfail')),
                         left)

    # coh-8.6: kill -9 of the MDS as it takes one: the mount resends it
    # to the restarted MDS, and nothing acknowledged is lost
    def test_kill9_under_early_unlinks(self):
        mds = self.engine.mds
        self.burst_dir('dkill', 20)
        e0 = self.counters().get('unl_early', 0)
        self.arm('msg_srv.dispatch@%d=kill*1' % UNLINK)
        # in a thread: an unlink that is not acknowledged early (a file
        # whose RELEASE is still on its way) waits for the MDS
        t = threading.Thread(target=lambda: [
            os.unlink(self.path('dkill', 'f%d' % i)) for i in range(20)])
        t.start()
        wait_for(lambda: mds.proc.poll() is not None, 30, 'the kill of the MDS')
        self.assertEqual(mds.proc.returncode, -9)
        self.arm('')
        mds.restart()
        t.join(60)
        self.assertFalse(t.is_alive())
        self.fsyncdir('dkill')
        self.assertGreater(self.counters().get('unl_early', 0) - e0, 0)
        self.assertEqual(os.listdir(os.path.join(self.fresh_mount(), 'dkill')), [])


class DiskFull(FaultCase):
    n_ost = 1
    ost_capacity = 8 * MiB

    def test_enospc_reaches_writer_and_nothing_is_corrupted(self):
        keep = data('keep', 2 * MiB)
        write_file(self.path('keep'), keep)
        with self.assertRaises(OSError) as cm:
            write_file(self.path('big'), data('big', 16 * MiB))
        self.assertEqual(cm.exception.errno, errno.ENOSPC)
        self.assertEqual(read_file(os.path.join(self.fresh_mount(), 'keep')), keep)
        os.unlink(self.path('big'))
        after = data('after', 2 * MiB)
        wait_for(lambda: self._try_write('after', after), 20, 'space back after unlink')
        self.assertEqual(read_file(os.path.join(self.fresh_mount(), 'after')), after)
        self.assertEqual(read_file(os.path.join(self.fresh_mount(), 'keep')), keep)

    def _try_write(self, name, buf):
        try:
            write_file(self.path(name), buf)
            return True
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
            return False


class FsxdFaults(unittest.TestCase):
    def setUp(self):
        need_failpoints()
        fd, self.fpfile = tempfile.mkstemp(prefix='fsx-fp-')
        os.close(fd)
        self.d = Fsxd(env={'FSX_FAILPOINTS_FILE': self.fpfile})
        self.c = self.d.client()
        self.fs = self.c.create_file_system(**SCRATCH2)['FileSystem']
        self.d.wait_state(self.c, self.fs['FileSystemId'], 'AVAILABLE', timeout=60)

    def tearDown(self):
        self.d.stop()
        os.unlink(self.fpfile)

    def fails_internally(self, call):
        """call(client) answers InternalServerError, not retried."""
        c = boto3.client('fsx', endpoint_url=self.d.url, region_name='us-east-1',
                         aws_access_key_id='test', aws_secret_access_key='test',
                         config=botocore.config.Config(retries={'total_max_attempts': 1}))
        with self.assertRaises(self.c.exceptions.ClientError) as cm:
            call(c)
        r = cm.exception.response
        self.assertEqual(r['Error']['Code'], 'InternalServerError', r)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 500, r)

    def listing(self):
        return sorted((f['FileSystemId'], f['Lifecycle'])
                      for f in self.c.describe_file_systems()['FileSystems'])

    def test_failed_commit_tag_resource(self):
        arn = self.fs['ResourceARN']
        arm(self.fpfile, 'db.commit=error(-5)*1')
        self.fails_internally(lambda c: c.tag_resource(
            ResourceARN=arn, Tags=[{'Key': 'k', 'Value': 'v'}]))
        self.assertEqual(self.c.list_tags_for_resource(ResourceARN=arn)['Tags'], [])
        self.c.tag_resource(ResourceARN=arn, Tags=[{'Key': 'k', 'Value': 'v'}])
        self.assertEqual(self.c.list_tags_for_resource(ResourceARN=arn)['Tags'],
                         [{'Key': 'k', 'Value': 'v'}])

    def test_failed_commit_create_and_delete(self):
        before = self.listing()
        pids = sorted(self.d.engine_pids())
        arm(self.fpfile, 'db.commit=error(-5)*1')
        self.fails_internally(lambda c: c.create_file_system(**SCRATCH2))
        self.assertEqual(self.listing(), before)
        time.sleep(1)
        self.assertEqual(sorted(self.d.engine_pids()), pids)
        arm(self.fpfile, 'db.commit=error(-5)*1')
        self.fails_internally(lambda c: c.delete_file_system(
            FileSystemId=self.fs['FileSystemId']))
        self.assertEqual(self.listing(), before)
        self.assertEqual(sorted(self.d.engine_pids()), pids)
        arm(self.fpfile, '')
        self.c.delete_file_system(FileSystemId=self.fs['FileSystemId'])
        self.d.wait_gone(self.c, self.fs['FileSystemId'], timeout=60)

    def test_kill9_at_commit(self):
        arm(self.fpfile, 'db.commit=kill*1')
        with self.assertRaises(Exception):
            self.c.create_file_system(**SCRATCH2)
        self.d.proc.wait(10)
        self.assertEqual(self.d.proc.returncode, -9)
        arm(self.fpfile, '')
        self.d.start()
        self.c = self.d.client()
        fss = self.c.describe_file_systems()['FileSystems']
        ids = [f['FileSystemId'] for f in fss]
        self.assertIn(self.fs['FileSystemId'], ids)
        for f in fss:
            self.d.wait_state(self.c, f['FileSystemId'], 'AVAILABLE', timeout=60)
        # every engine process belongs to a listed file system
        owned = set()
        for i in ids:
            owned |= {p for p, _ in self.d.engine_pids(i)}
        deadline = time.time() + 20
        while True:
            stray = [p for p, _ in self.d.engine_pids() if p not in owned]
            if not stray or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(stray, [])
