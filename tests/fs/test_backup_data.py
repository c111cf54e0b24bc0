"""Backups that hold real data (docs/backups.md): files written through a
real mount are backed up, the file system deleted, restored from the
backup into new engine processes, mounted again and compared: names,
bytes, holes, owners, modes, times, hard links, symlinks, xattrs and
stripe layouts. Also: a writer that keeps appending checksummed records
during the backup finds an intact prefix in the restore; incremental
storage by disk usage; a copy to another region restored there; an
automatic backup under a scaled clock restored; kill -9 of fsxd and of an
OSS in the middle of a backup and of a restore; a backup that fails for
good leaves nothing."""
import hashlib
import os
import signal
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from tests.fs.engine import parse_counters
from tests.fsxlib import BIN, Fsxd

SUBNET = ['subnet-0123456789abcdef0']
P1 = dict(FileSystemType='LUSTRE', StorageCapacity=4800, SubnetIds=SUBNET,
          LustreConfiguration={'DeploymentType': 'PERSISTENT_1',
                               'PerUnitStorageThroughput': 50})
MiB = 1 << 20
REC = struct.Struct('<Q24s32s')          # seq, payload, sha256(seq+payload)


def have_fuse():
    return os.path.exists('/dev/fuse') and os.path.exists(os.path.join(BIN, 'fsx-mount'))


def du_bytes(path, reserves=False):
    """Disk usage under path; without reserves, less each MDS's fixed
    space reserve (mds.reserve: a new file system's cost, not data's)."""
    out = subprocess.run(['du', '-s', '--block-size=1', path], capture_output=True,
                         text=True, check=True).stdout
    used = int(out.split()[0])
    if not reserves:
        for top, _, files in os.walk(path):
            if 'mds.reserve' in files:
                used -= os.stat(os.path.join(top, 'mds.reserve')).st_blocks * 512
    return used


def lfs(*args):
    return subprocess.run([os.path.join(BIN, 'lfs')] + list(args), capture_output=True,
                          text=True, check=True).stdout


def tree(root):
    """Everything a restore must keep, by relative path."""
    out, inodes = {}, {}
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            e = dict(mode=st.st_mode, uid=st.st_uid, gid=st.st_gid,
                     mtime=st.st_mtime_ns, nlink=st.st_nlink)
            if os.path.islink(p):
                e['target'] = os.readlink(p)
            else:
                e['xattrs'] = {k: os.getxattr(p, k) for k in os.listxattr(p)
                               if k.startswith('user.')}
            if os.path.isfile(p) and not os.path.islink(p):
                e['size'] = st.st_size
                e['sha'] = hashlib.sha256(open(p, 'rb').read()).hexdigest()
                e['atime'] = st.st_atime_ns
                e['blocks_le_1MiB'] = st.st_blocks * 512 <= MiB
                e['stripe'] = lfs('getstripe', '-c', '-S', p)
                e['link_group'] = inodes.setdefault(st.st_ino, rel)
            out[rel] = e
    return out


class BackupFsCase(unittest.TestCase):
    """fsxd, a mount point and the helpers every case here uses."""
    ARGS = ()

    def setUp(self):
        self.d = Fsxd(*self.ARGS)
        self.c = self.d.client()
        self.mnt = tempfile.mkdtemp(prefix='fsx-bk-mnt-')
        self.mounted = False

    def tearDown(self):
        self.umount()
        os.rmdir(self.mnt)
        self.d.stop()

    def mount(self, fs_id, region='us-east-1', noatime=False):
        env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
                   AWS_DEFAULT_REGION=region)
        self.mounted = True        # even if it fails or times out: umount() is harmless
        p = subprocess.run([os.path.join(BIN, 'fsx-mount'), '--endpoint-url', self.d.url,
                            fs_id, self.mnt] + (['-o', 'noatime'] if noatime else []),
                           capture_output=True, text=True, env=env, timeout=90)
        self.assertEqual(p.returncode, 0, p.stderr)

    def umount(self):
        if self.mounted:
            if subprocess.run(['fusermount3', '-u', self.mnt],
                              capture_output=True).returncode != 0:
                subprocess.run(['fusermount3', '-uz', self.mnt], capture_output=True)
            self.mounted = False

    def new_fs(self, client=None, **kw):
        c = client or self.c
        fs_id = c.create_file_system(**dict(P1, **kw))['FileSystem']['FileSystemId']
        self.d.wait_state(c, fs_id, 'AVAILABLE', 60)
        return fs_id

    def wait_backup(self, bid, client=None, timeout=120, ok=('AVAILABLE',)):
        c = client or self.c
        deadline = time.time() + timeout
        while time.time() < deadline:
            b = c.describe_backups(BackupIds=[bid])['Backups'][0]
            if b['Lifecycle'] in ok or b['Lifecycle'] == 'FAILED':
                return b
            time.sleep(0.05)
        self.fail('backup %s did not finish' % bid)

    def backup(self, fs_id, client=None):
        c = client or self.c
        bid = c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
        b = self.wait_backup(bid, client=c)
        self.assertEqual(b['Lifecycle'], 'AVAILABLE', b.get('FailureDetails'))
        return bid

    def restore(self, bid, client=None):
        c = client or self.c
        fs = c.create_file_system_from_backup(BackupId=bid, SubnetIds=SUBNET)['FileSystem']
        self.d.wait_state(c, fs['FileSystemId'], 'AVAILABLE', 120)
        return fs['FileSystemId']

    def populate(self):
        m = self.mnt
        os.makedirs(m + '/d/e/f')
        open(m + '/empty', 'wb').close()
        for i in range(20):
            with open(m + '/d/small%02d' % i, 'wb') as f:
                f.write(os.urandom(1000 + i * 777))
        with open(m + '/d/e/big', 'wb') as f:
            f.write(os.urandom(5 * MiB + 123))
        lfs('setstripe', '-c', '3', '-S', '1M', m + '/striped')
        with open(m + '/striped', 'wb') as f:
            f.write(os.urandom(7 * MiB + 5))
        lfs('setstripe', '-c', '2', '-S', '128K', m + '/d/e/f')     # a dir default
        with open(m + '/d/e/f/inherits', 'wb') as f:
            f.write(os.urandom(600 * 1024))
        with open(m + '/sparse', 'wb') as f:                         # holes stay holes
            f.write(b'head')
            f.seek(64 * MiB)
            f.write(b'tail')
        os.link(m + '/d/small00', m + '/d/e/hardlink')
        os.symlink('d/e/big', m + '/sym')
        os.symlink('/nowhere/at/all', m + '/dangling')
        os.setxattr(m + '/d/small01', 'user.color', b'blue')
        os.setxattr(m + '/d/e', 'user.dirattr', os.urandom(300))
        os.chown(m + '/d/small02', 1234, 5678)
        os.chmod(m + '/d/small03', 0o4750)
        os.chmod(m + '/d/e/f', 0o711)
        os.utime(m + '/d/small04', ns=(1_000_000_123, 2_000_000_456))
        os.utime(m + '/d/e', ns=(3_000_000_000, 4_000_000_000))
        os.mkfifo(m + '/fifo')


@unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
class BackupData(BackupFsCase):
    def test_restore_is_identical(self):
        fs_id = self.new_fs()
        self.mount(fs_id)
        self.populate()
        self.umount()
        # what the MDS holds, not a client cache; reads must not move atime
        self.mount(fs_id, noatime=True)
        before = tree(self.mnt)
        self.umount()
        bid = self.backup(fs_id)
        self.c.delete_file_system(FileSystemId=fs_id)
        self.d.wait_gone(self.c, fs_id, 60)
        rid = self.restore(bid)
        self.mount(rid, noatime=True)
        after = tree(self.mnt)
        self.assertEqual(sorted(after), sorted(before))
        for k in before:
            self.assertEqual(after[k], before[k], k)
        self.assertTrue(after['sparse']['blocks_le_1MiB'])
        self.assertEqual(after['d/e/hardlink']['link_group'], 'd/small00')
        self.assertEqual(after['d/small00']['link_group'], 'd/small00')
        self.assertEqual(after['d/e/hardlink']['nlink'], 2)
        self.assertIn('131072', after['d/e/f/inherits']['stripe'])
        self.assertIn('3', after['striped']['stripe'])
        self.assertEqual(after['d/small04']['atime'], 1_000_000_123)
        # the restored file system takes writes, and the backup does not change
        with open(self.mnt + '/d/e/big', 'r+b') as f:
            f.write(b'changed')
        self.umount()
        rid2 = self.restore(bid)
        self.mount(rid2, noatime=True)
        self.assertEqual(tree(self.mnt)['d/e/big']['sha'], before['d/e/big']['sha'])

    def test_consistent_while_appending(self):
        fs_id = self.new_fs()
        self.mount(fs_id)
        path = self.mnt + '/log'
        stop = threading.Event()
        state = dict(n=0, pause=0.0)

        def writer():
            while not stop.is_set():
                seq = state['n']
                payload = os.urandom(24)
                rec = REC.pack(seq, payload, hashlib.sha256(
                    struct.pack('<Q', seq) + payload).digest())
                t0 = time.monotonic()
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                os.write(fd, rec)
                os.close(fd)
                state['pause'] = max(state['pause'], time.monotonic() - t0)
                state['n'] = seq + 1

        t = threading.Thread(target=writer)
        t.start()
        try:
            while state['n'] < 200:
                time.sleep(0.01)
            low = state['n']
            bid = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
            b = self.wait_backup(bid)
            high = state['n']
        finally:
            stop.set()
            t.join()
        self.assertEqual(b['Lifecycle'], 'AVAILABLE')
        self.assertGreater(high, low)          # it kept writing throughout
        self.umount()
        rid = self.restore(bid)
        self.mount(rid)
        data = open(self.mnt + '/log', 'rb').read()
        self.assertEqual(len(data) % REC.size, 0, 'a torn record')
        n = len(data) // REC.size
        for i in range(n):
            seq, payload, digest = REC.unpack_from(data, i * REC.size)
            self.assertEqual(seq, i)
            self.assertEqual(digest, hashlib.sha256(struct.pack('<Q', seq) + payload).digest())
        # exactly a prefix: everything before the request, nothing after the end
        self.assertGreaterEqual(n, low)
        self.assertLessEqual(n, high)
        print('\nconsistency: %d records before the backup, %d in it, %d at the end;'
              ' longest append+close %.1f ms' % (low, n, high, state['pause'] * 1000))

    def test_file_open_for_write_keeps_acknowledged_data(self):
        fs_id = self.new_fs()
        self.mount(fs_id)
        data = os.urandom(3 * MiB + 17)
        f = open(self.mnt + '/open', 'wb')
        f.write(data)
        f.flush()
        os.fsync(f.fileno())           # acknowledged, never closed
        bid = self.backup(fs_id)
        f.write(b'after the backup')
        f.close()
        self.umount()
        rid = self.restore(bid)
        self.mount(rid)
        self.assertEqual(open(self.mnt + '/open', 'rb').read(), data)

    def test_failed_backup_leaves_nothing(self):
        fs_id = self.new_fs()
        self.mount(fs_id)
        for i in range(8):
            with open(self.mnt + '/f%d' % i, 'wb') as f:
                f.write(os.urandom(100000))
        self.umount()
        # the store cannot take objects: every xx of data/ is a file
        data = os.path.join(self.d.state, 'backups', 'data')
        os.makedirs(data)
        for i in range(256):
            open(os.path.join(data, '%02x' % i), 'w').close()
        bid = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
        b = self.wait_backup(bid)
        self.assertEqual(b['Lifecycle'], 'FAILED')
        self.assertIn('could not be taken', b['FailureDetails']['Message'])
        store = os.path.join(self.d.state, 'backups')
        self.assertEqual(sorted(os.listdir(store)), ['data'])
        snaps = [r for r, _, _ in os.walk(os.path.join(self.d.state, 'fs'))
                 if os.path.basename(r) == 'snap' and os.listdir(r)]
        self.assertEqual(snaps, [])
        # the file system is unharmed and the next backup works
        for i in range(256):
            os.unlink(os.path.join(data, '%02x' % i))
        self.backup(fs_id)
        self.c.delete_backup(BackupId=bid)

    def test_incremental_storage_and_delete_frees(self):
        fs_id = self.new_fs()
        self.mount(fs_id)
        for i in range(32):
            with open(self.mnt + '/f%02d' % i, 'wb') as f:
                f.write(os.urandom(MiB))
        self.umount()
        store = os.path.join(self.d.state, 'backups')
        first = self.backup(fs_id)
        one = du_bytes(store)
        self.assertGreater(one, 32 * MiB)
        self.mount(fs_id)
        with open(self.mnt + '/f07', 'r+b') as f:       # one object changes
            f.write(os.urandom(4096))
        self.umount()
        second = self.backup(fs_id)
        two = du_bytes(store)
        self.assertLess(two - one, 4 * MiB, (one, two))
        third = self.backup(fs_id)                      # nothing changed
        three = du_bytes(store)
        self.assertLess(three - two, 1 * MiB, (two, three))
        # deleting a backup frees only what no other holds
        self.c.delete_backup(BackupId=first)
        time.sleep(1)
        self.assertLess(abs(du_bytes(store) - three), 2 * MiB)
        for bid in (second, third):
            self.c.delete_backup(BackupId=bid)
        time.sleep(1)
        self.assertLess(du_bytes(store), 1 * MiB)

    def test_backup_shares_objects_by_link(self):
        """On the OSTs' file system a backup takes the snapshot's inodes:
        the disk usage of the whole state dir (file systems + backups)
        grows by metadata, not by the data; a changed object costs its
        copy-up; a restore and the first backup of the restored file
        system share the source backup's data; the backup still holds the
        bytes of the instant, and deleting every backup frees the store."""
        state = self.d.state
        fs_id = self.new_fs()
        self.mount(fs_id)
        data = {}
        for i in range(16):
            data[i] = os.urandom(2 * MiB)
            with open(self.mnt + '/f%02d' % i, 'wb') as f:
                f.write(data[i])
        self.umount()
        t0 = du_bytes(state)
        first = self.backup(fs_id)
        t1 = du_bytes(state)
        self.assertGreater(du_bytes(os.path.join(state, 'backups')), 32 * MiB)
        self.assertLess(t1 - t0, 2 * MiB, (t0, t1))         # linked, not copied
        self.mount(fs_id)
        with open(self.mnt + '/f03', 'r+b') as f:          # one object changes
            f.write(b'x' * 4096)
        self.assertEqual(open(self.mnt + '/f05', 'rb').read(), data[5])
        self.umount()
        t2 = du_bytes(state)
        self.assertLess(t2 - t1, 4 * MiB, (t1, t2))        # its copy-up only
        self.assertGreater(t2 - t1, 1 * MiB, (t1, t2))
        second = self.backup(fs_id)
        t3 = du_bytes(state)
        self.assertLess(t3 - t2, 1 * MiB, (t2, t3))
        rid = self.restore(first)
        t4 = du_bytes(state)
        self.assertLess(t4 - t3, 2 * MiB, (t3, t4))        # restore links
        third = self.backup(rid)
        t5 = du_bytes(state)
        self.assertLess(t5 - t4, 1 * MiB, (t4, t5))        # shares the source's
        self.mount(rid)
        self.assertEqual(open(self.mnt + '/f03', 'rb').read(), data[3])
        self.umount()
        # the file systems go; the backups keep the bytes of their instant
        for f in (fs_id, rid):
            self.c.delete_file_system(FileSystemId=f)
        for f in (fs_id, rid):
            self.d.wait_gone(self.c, f, 60)
        for bid in (second, third):
            self.c.delete_backup(BackupId=bid)
        time.sleep(1)
        self.assertLess(abs(du_bytes(os.path.join(state, 'backups')) - 32 * MiB),
                        2 * MiB)
        rid2 = self.restore(first)
        self.mount(rid2)
        for i in (3, 5, 15):
            self.assertEqual(open(self.mnt + '/f%02d' % i, 'rb').read(), data[i], i)
        self.umount()
        self.c.delete_backup(BackupId=first)
        time.sleep(1)
        self.assertLess(du_bytes(os.path.join(state, 'backups')), 1 * MiB)

    def object_inodes(self):
        """Inode numbers of the live object files of every file system."""
        out = set()
        for top, _, files in os.walk(os.path.join(self.d.state, 'fs')):
            if os.path.basename(os.path.dirname(top)) == 'O':
                out.update(os.stat(os.path.join(top, f)).st_ino for f in files)
        return out

    def test_copy_up_seen_by_a_local_reader(self):
        """A second mount reads objects from their files (local reads,
        src/fsc/fsc_local.c) and keeps the file open across a backup. The
        first write after it copies the object up (a new file under the
        object's name, oss_snap.h); the reader's next read is of the new
        file, not of the snapshot's inode it read before."""
        fs_id = self.new_fs()
        self.mount(fs_id)
        mnt2 = tempfile.mkdtemp(prefix='fsx-bk-mnt2-')
        stats = mnt2 + '.stats'
        env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
                   AWS_DEFAULT_REGION='us-east-1')
        p = subprocess.run([os.path.join(BIN, 'fsx-mount'), '--endpoint-url', self.d.url,
                            '-o', 'stats=' + stats, fs_id, mnt2],
                           capture_output=True, text=True, env=env, timeout=90)
        self.assertEqual(p.returncode, 0, p.stderr)
        fd = -1
        try:
            data = os.urandom(2 * MiB)
            with open(self.mnt + '/f', 'wb') as f:
                f.write(data)
            fd = os.open(mnt2 + '/f', os.O_RDONLY)
            self.assertEqual(os.pread(fd, len(data), 0), data)
            self.backup(fs_id)
            before = self.object_inodes()
            with open(self.mnt + '/f', 'r+b') as f:
                f.write(b'y' * 4096)
            self.assertNotEqual(self.object_inodes(), before, 'no copy-up')
            self.assertEqual(os.pread(fd, len(data), 0), b'y' * 4096 + data[4096:])
            pid = int(subprocess.run(['pgrep', '-f', 'fsx-mount .*' + mnt2],
                                     capture_output=True, text=True).stdout.split()[0])
            os.kill(pid, signal.SIGUSR1)
            deadline = time.time() + 5
            while not os.path.exists(stats) and time.time() < deadline:
                time.sleep(0.05)
            with open(stats) as f:
                counters = parse_counters(f)
            self.assertGreater(counters.get('local_reads', 0), 0, counters)
        finally:
            if fd >= 0:
                os.close(fd)
            if subprocess.run(['fusermount3', '-u', mnt2], capture_output=True).returncode:
                subprocess.run(['fusermount3', '-uz', mnt2], capture_output=True)
            os.rmdir(mnt2)
            if os.path.exists(stats):
                os.unlink(stats)

    def test_copy_to_another_region_restored_there(self):
        fs_id = self.new_fs()
        self.mount(fs_id)
        data = os.urandom(3 * MiB)
        with open(self.mnt + '/payload', 'wb') as f:
            f.write(data)
        self.umount()
        bid = self.backup(fs_id)
        west = self.d.client(region='us-west-2')
        cp = west.copy_backup(SourceBackupId=bid, SourceRegion='us-east-1')['Backup']
        self.assertEqual(self.wait_backup(cp['BackupId'], client=west)['Lifecycle'], 'AVAILABLE')
        self.c.delete_backup(BackupId=bid)               # the copy does not need it
        rid = self.restore(cp['BackupId'], client=west)
        self.mount(rid, region='us-west-2')
        self.assertEqual(open(self.mnt + '/payload', 'rb').read(), data)


@unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
class AutomaticData(BackupFsCase):
    """An automatic backup under fsxd's scaled clock (a 6-second day)
    holds the data and restores."""
    ARGS = ('--day-seconds', '6')

    def test_automatic_backup_restores(self):
        fs_id = self.new_fs(LustreConfiguration=dict(
            P1['LustreConfiguration'], AutomaticBackupRetentionDays=2,
            DailyAutomaticBackupStartTime='00:00'))
        self.mount(fs_id)
        data = os.urandom(2 * MiB + 3)
        with open(self.mnt + '/daily', 'wb') as f:
            f.write(data)
        self.umount()
        written = time.time()
        deadline = time.time() + 40
        auto = None
        while time.time() < deadline and auto is None:
            for b in self.c.describe_backups(Filters=[
                    {'Name': 'backup-type', 'Values': ['AUTOMATIC']}])['Backups']:
                if (b['Lifecycle'] == 'AVAILABLE' and
                        b['CreationTime'].timestamp() > written):
                    auto = b['BackupId']
            time.sleep(0.2)
        self.assertIsNotNone(auto, 'no automatic backup after the write')
        rid = self.restore(auto)
        self.mount(rid)
        self.assertEqual(open(self.mnt + '/daily', 'rb').read(), data)


@unittest.skipUnless(have_fuse(), 'needs /dev/fuse and fsx-mount')
class BackupCrash(BackupFsCase):
    """kill -9 in the middle: a backup ends AVAILABLE (and restores whole)
    or FAILED leaving nothing; a restore ends AVAILABLE with the data."""

    def big_fs(self):
        fs_id = self.new_fs()
        self.mount(fs_id)
        for i in range(24):
            with open(self.mnt + '/big%02d' % i, 'wb') as f:
                f.write(os.urandom(8 * MiB))
        self.umount()
        self.mount(fs_id, noatime=True)
        t = tree(self.mnt)
        self.umount()
        return fs_id, t

    def wait_lifecycle(self, bid, states, timeout=60, past=()):
        """The backup's description once its lifecycle is in states; None
        if it reached one of `past` first (it ran by without stopping
        there)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            b = self.c.describe_backups(BackupIds=[bid])['Backups'][0]
            if b['Lifecycle'] in states:
                return b
            if b['Lifecycle'] in past:
                return None
        self.fail('%s never reached %s' % (bid, states))

    def backup_transferring(self, fs_id):
        """A new backup of fs_id caught while TRANSFERRING. Backups by hard
        link of 24 objects take milliseconds: one that ends before a
        Describe sees it is simply taken again (it stays AVAILABLE)."""
        for _ in range(20):
            bid = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
            if self.wait_lifecycle(bid, ('TRANSFERRING',),
                                   past=('AVAILABLE', 'FAILED')) is not None:
                return bid
        self.fail('20 backups of %s, none seen TRANSFERRING' % fs_id)

    def check_ends_whole(self, bid, want):
        b = self.wait_backup(bid)
        store = os.path.join(self.d.state, 'backups')
        self.assertFalse(os.path.exists(os.path.join(store, bid + '.part')))
        snaps = [r for r, _, _ in os.walk(os.path.join(self.d.state, 'fs'))
                 if os.path.basename(os.path.dirname(r)) == 'snap']
        self.assertEqual(snaps, [])
        if b['Lifecycle'] == 'FAILED':
            self.assertFalse(os.path.exists(os.path.join(store, bid)))
            return b
        rid = self.restore(bid)
        self.mount(rid, noatime=True)
        self.assertEqual(tree(self.mnt), want)
        self.umount()
        return b

    def test_kill9_fsxd_mid_backup(self):
        fs_id, want = self.big_fs()
        bid = self.backup_transferring(fs_id)
        self.d.kill9()
        self.d.start()
        self.c = self.d.client()
        b = self.check_ends_whole(bid, want)
        print('\nkill -9 fsxd mid-backup: %s' % b['Lifecycle'])

    def test_kill9_oss_mid_backup(self):
        fs_id, want = self.big_fs()
        bid = self.backup_transferring(fs_id)
        for pid, kind in self.d.engine_pids(fs_id):
            if kind == 'fsx-oss':
                os.kill(pid, signal.SIGKILL)
        b = self.check_ends_whole(bid, want)
        print('\nkill -9 of the OSSes mid-backup: %s' % b['Lifecycle'])

    def test_kill9_fsxd_mid_restore(self):
        fs_id, want = self.big_fs()
        bid = self.backup(fs_id)
        fs = self.c.create_file_system_from_backup(BackupId=bid, SubnetIds=SUBNET)['FileSystem']
        time.sleep(0.3)
        self.d.kill9()
        self.d.start()
        self.c = self.d.client()
        self.d.wait_state(self.c, fs['FileSystemId'], 'AVAILABLE', 120)
        self.mount(fs['FileSystemId'], noatime=True)
        self.assertEqual(tree(self.mnt), want)

    def test_kill9_mds_mid_backup(self):
        fs_id, want = self.big_fs()
        bid = self.backup_transferring(fs_id)
        for pid, kind in self.d.engine_pids(fs_id):
            if kind == 'fsx-mds':
                os.kill(pid, signal.SIGKILL)
        b = self.check_ends_whole(bid, want)
        print('\nkill -9 of the MDS mid-backup: %s' % b['Lifecycle'])

    def test_kill9_engines_mid_restore(self):
        """The new file system's own processes die while it is filled: it
        ends AVAILABLE holding exactly the backup, or FAILED; the backup
        itself stays AVAILABLE and restores whole afterwards."""
        fs_id, want = self.big_fs()
        bid = self.backup(fs_id)
        rid = self.c.create_file_system_from_backup(
            BackupId=bid, SubnetIds=SUBNET)['FileSystem']['FileSystemId']
        deadline = time.time() + 60
        killed = 0
        while time.time() < deadline and not killed:
            if self.c.describe_file_systems(FileSystemIds=[rid])['FileSystems'][0][
                    'Lifecycle'] != 'CREATING':
                break
            for pid, kind in self.d.engine_pids(rid):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            time.sleep(0.01)
        deadline = time.time() + 120
        while time.time() < deadline:
            lc = self.c.describe_file_systems(FileSystemIds=[rid])['FileSystems'][0]['Lifecycle']
            if lc in ('AVAILABLE', 'FAILED'):
                break
            time.sleep(0.1)
        print('\nkill -9 of %d engine processes mid-restore: %s' % (killed, lc))
        self.assertIn(lc, ('AVAILABLE', 'FAILED'))
        if lc == 'AVAILABLE':
            self.mount(rid, noatime=True)
            self.assertEqual(tree(self.mnt), want)
            self.umount()
        b = self.c.describe_backups(BackupIds=[bid])['Backups'][0]
        self.assertEqual(b['Lifecycle'], 'AVAILABLE')
        rid2 = self.restore(bid)
        self.mount(rid2, noatime=True)
        self.assertEqual(tree(self.mnt), want)


if __name__ == '__main__':
    unittest.main()
