"""Local reads (src/fsc/fsc_local.c, docs/design.md "Local reads"): a mount
on the OSS's host reads objects from their files itself, with no OST_READ
round trip, and gets what OST_READ would have given.

local-1.*  reads on the same host are local and byte-exact: striped
           files, holes, missing objects, the end of a file, data another
           mount just wrote (small buffered and large O_DIRECT writes)
local-2.*  over the wire instead, with the same bytes: -o nolocalread, and
           a mount whose OST directories are other directories (its own
           mount namespace with a tmpfs over each: the path OST_LOCAL
           names opens, but its device and inode differ)
(The copy-up of a snapshot, which puts a new file under an object's name,
is tests/fs/test_backup_data.py's test_copy_up_seen_by_a_local_reader;
failpoints on the local pread are in tests/faults.)"""
import hashlib
import os
import subprocess

from .engine import (EngineCase, TwoMountCase, set_layout, binpath, FS_ID,
                     MiB, KiB, parse_counters)


def pattern(tag, n):
    seed = hashlib.sha256(tag.encode()).digest()
    return (seed * (n // len(seed) + 1))[:n]


class LocalReads(TwoMountCase):
    n_ost = 4
    n_oss = 2

    def counters(self, i):
        return self.engine.mounts[i].counters()

    def delta(self, i, before):
        now = self.counters(i)
        return {k: now[k] - before.get(k, 0) for k in now
                if now[k] != before.get(k, 0)}

    def read2(self, name):
        with open(self.p2(name), 'rb') as f:
            return f.read()

    def test_striped_file_reads_locally(self):
        """local-1.1: a file striped over 4 OSTs on 2 OSSes, written on one
        mount, reads byte-exact on the other with no OST_READ round trip;
        both OSSes answered OST_LOCAL (once per OST for the mount's
        life)."""
        name = 'striped'
        set_layout(self.p1(name), 4, 64 * KiB)
        data = pattern(name, 3 * MiB + 12345)
        with open(self.p1(name), 'r+b') as f:
            f.write(data)
        before = self.counters(1)
        self.assertEqual(self.read2(name), data)
        d = self.delta(1, before)
        self.assertGreater(d.get('local_reads', 0), 0, d)
        self.assertGreaterEqual(d.get('local_read_bytes', 0), len(data), d)
        self.assertNotIn('rt_ost_read', d)
        self.assertLessEqual(self.counters(1).get('rt_ost_local', 0), 4 * 2)

    def test_holes_and_missing_objects(self):
        """local-1.2: a sparse file whose first objects were never written
        (missing files on the OSTs) reads as zeros up to its data, and its
        size is what was set past it."""
        name = 'sparse'
        set_layout(self.p1(name), 4, 64 * KiB)
        tail = pattern(name, 5000)
        with open(self.p1(name), 'r+b') as f:
            f.seek(3 * 64 * KiB + 100)      # only the 4th object gets data
            f.write(tail)
            f.truncate(2 * MiB)
        before = self.counters(1)
        got = self.read2(name)
        self.assertEqual(len(got), 2 * MiB)
        want = bytearray(2 * MiB)
        want[3 * 64 * KiB + 100:3 * 64 * KiB + 100 + len(tail)] = tail
        self.assertEqual(got, bytes(want))
        d = self.delta(1, before)
        self.assertGreater(d.get('local_reads', 0), 0, d)
        self.assertNotIn('rt_ost_read', d)

    def test_other_mounts_writes_are_seen(self):
        """local-1.3: rewrites on the first mount, small (buffered on the
        OSS) and large aligned ones (O_DIRECT on the OSS), are what the
        second mount reads next, each time."""
        name = 'rewrites'
        size = 4 * MiB
        with open(self.p1(name), 'wb') as f:
            f.write(pattern(name, size))
        want = bytearray(pattern(name, size))
        self.assertEqual(self.read2(name), bytes(want))
        for rnd, (off, n) in enumerate([(10, 100), (MiB, MiB), (4093, 9000),
                                        (0, 2 * MiB), (size - 7, 7)]):
            chunk = pattern('%s%d' % (name, rnd), n)
            with open(self.p1(name), 'r+b') as f:
                f.seek(off)
                f.write(chunk)
            want[off:off + n] = chunk
            self.assertEqual(self.read2(name), bytes(want), 'round %d' % rnd)


class WireReads(TwoMountCase):
    """local-2.1: the second mount with -o nolocalread."""
    n_ost = 2
    n_oss = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.mnt3 = cls.engine.mount('mnt3', opts='nolocalread')
        except BaseException:
            cls.engine.stop()
            raise

    def test_nolocalread_goes_over_the_wire(self):
        name = 'wire'
        data = pattern(name, 2 * MiB + 3)
        with open(self.p1(name), 'wb') as f:
            f.write(data)
        m3 = self.engine.mounts[2]
        before = m3.counters()
        with open(os.path.join(self.mnt3, name), 'rb') as f:
            self.assertEqual(f.read(), data)
        after = m3.counters()
        self.assertGreater(after.get('rt_ost_read', 0), before.get('rt_ost_read', 0))
        self.assertNotIn('local_reads', after)
        self.assertNotIn('rt_ost_local', after)
        # the default mount beside it reads the same bytes locally
        with open(self.p2(name), 'rb') as f:
            self.assertEqual(f.read(), data)
        self.assertGreater(self.engine.mounts[1].counters().get('local_reads', 0), 0)


class OtherDirectories(EngineCase):
    """local-2.2: in a mount namespace of its own, with a tmpfs over each
    OST's object directory, a mount finds another directory at the path
    OST_LOCAL names (device and inode differ) and reads over the wire,
    byte-exact. Reading the tmpfs instead would give holes."""
    n_ost = 2
    n_oss = 1

    def test_other_directory_at_the_path_is_not_local(self):
        data = pattern('ns', 3 * MiB + 5)
        with open(self.path('f'), 'wb') as f:
            f.write(data)
        mnt = os.path.join(self.engine.dir, 'nsmnt')
        os.makedirs(mnt)
        stats = mnt + '.stats'
        e = self.engine
        script = 'set -e\n'
        for d in sorted(e.ost_dirs.values()):
            script += 'mount -t tmpfs none %s/O\n' % d
        script += ('%s --mds 127.0.0.1:%d --secret-file %s -o allow_other,stats=%s '
                   '%s %s\n' % (binpath('fsx-mount'), e.mds.port, e.secret_file, stats,
                                 FS_ID, mnt))
        script += 'sha256sum %s/f\n' % mnt
        script += 'pkill -USR1 -f "fsx-mount .*%s$"\n' % mnt
        script += 'for i in $(seq 50); do [ -e %s ] && break; sleep 0.1; done\n' % stats
        script += 'cat %s\n' % stats
        script += 'fusermount3 -u %s\n' % mnt
        r = subprocess.run(['unshare', '--mount', '--propagation', 'private',
                            'sh', '-c', script], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        sums = [line.split()[0] for line in r.stdout.splitlines()
                if line.endswith('/f')]
        self.assertEqual(sums, [hashlib.sha256(data).hexdigest()], r.stdout)
        counters = parse_counters(line for line in r.stdout.splitlines()
                                  if not line.endswith('/f'))
        self.assertGreater(counters.get('rt_ost_read', 0), 0, counters)
        self.assertNotIn('local_reads', counters)
        self.assertGreater(counters.get('rt_ost_local', 0), 0, counters)
