"""FUSE over io_uring (src/fsc/fm_uring.c): where the kernel allows it
(Linux 6.14+, the fuse module's enable_uring parameter), fsx-mount takes
its requests from per-CPU io_uring queues instead of /dev/fuse.

  ur-1.*: requests come over the rings, and give the results /dev/fuse
          gives (data, names, attributes, errors), seen from a second
          mount that keeps to /dev/fuse (-o nouring)
  ur-2.*: handlers that block (lock waits) do not hold up a CPU's queue:
          more waiters than a queue starts with, then the holder's
          unlock, all on one CPU
  ur-3.*: -o nouring keeps every request on /dev/fuse
  ur-4.*: what stays on /dev/fuse: FORGETs come in batches (the reader
          pauses after one, fm_io.c), and an INTERRUPT still reaches the
          request it names, which came over a ring
  ur-5.*: write-behind WRITEs from a ring go to the OSS from sender
          threads (fm_wb.c): their data lands, and their failures reach
          the writer (ENOSPC at the write or at close, no zero tail)

The class turns enable_uring on while its mounts negotiate and puts the
old value back at once (a connection keeps what it negotiated); skipped
where the kernel has no such parameter.
"""
import errno
import os
import random
import subprocess
import sys
import time
import unittest

from .engine import EngineCase, assert_no_zero_tail, drop_dentries

PARAM = '/sys/module/fuse/parameters/enable_uring'


class UringCase(EngineCase):
    """Mount fsx on io_uring and mnt2 on /dev/fuse (-o nouring)."""
    mount_at_start = False

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(PARAM):
            raise unittest.SkipTest('this kernel has no FUSE over io_uring')
        super().setUpClass()
        with open(PARAM) as f:
            old = f.read().strip()
        try:
            with open(PARAM, 'w') as f:
                f.write('Y\n')
            cls.mnt = cls.engine.mount('fsx')
            cls.mnt2 = cls.engine.mount('mnt2', opts='nouring')
        except BaseException:
            cls.engine.stop()
            raise
        finally:
            with open(PARAM, 'w') as f:
                f.write(old + '\n')
        cls.m1, cls.m2 = cls.engine.mounts[0], cls.engine.mounts[1]

    def p1(self, *a):
        return os.path.join(self.mnt, *a)

    def p2(self, *a):
        return os.path.join(self.mnt2, *a)

    @staticmethod
    def cold_files(d, n):
        """n empty files made in a new directory d, then out of the
        kernel's caches (drop_dentries): unlinking them makes FORGETs."""
        os.mkdir(d)
        names = [os.path.join(d, 'f%04d' % i) for i in range(n)]
        for p in names:
            os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
        drop_dentries()
        return names


class UringTests(UringCase):

    def test_requests_come_over_the_rings(self):
        """ur-1.1: files written, renamed, listed, truncated and removed
        through the io_uring mount: every result checked through the other
        mount, and the mount's counter of requests taken from its rings
        grows by at least one per operation."""
        before = self.m1.counters().get('uring_requests', 0)
        d = self.p1('ur1')
        os.mkdir(d)
        blobs = {}
        for i in range(40):
            data = os.urandom(1 + i * 7919 % (3 << 20))	# up to 3 MiB
            name = 'f%02d' % i
            with open(os.path.join(d, name), 'wb') as f:
                f.write(data)
            blobs[name] = data
        os.rename(os.path.join(d, 'f00'), os.path.join(d, 'g00'))
        blobs['g00'] = blobs.pop('f00')
        os.truncate(os.path.join(d, 'f01'), 5)
        blobs['f01'] = blobs['f01'][:5]
        os.unlink(os.path.join(d, 'f02'))
        del blobs['f02']
        self.assertEqual(sorted(os.listdir(d)), sorted(blobs))
        self.assertEqual(sorted(os.listdir(self.p2('ur1'))), sorted(blobs))
        for name, data in blobs.items():
            with open(self.p2('ur1', name), 'rb') as f:
                self.assertEqual(f.read(), data, name)
            with open(os.path.join(d, name), 'rb') as f:
                self.assertEqual(f.read(), data, name)
        # errors come back as errors
        with self.assertRaises(FileNotFoundError):
            os.stat(os.path.join(d, 'f02'))
        with self.assertRaises(FileExistsError):
            os.mkdir(d)
        with self.assertRaises(OSError) as cm:
            os.rmdir(d)
        self.assertEqual(cm.exception.errno, errno.ENOTEMPTY)
        # xattrs: a request with a payload (the name) and a reply with one
        os.setxattr(os.path.join(d, 'f03'), 'user.k', b'v' * 3000)
        self.assertEqual(os.getxattr(self.p2('ur1', 'f03'), 'user.k'),
                         b'v' * 3000)
        self.assertEqual(os.getxattr(os.path.join(d, 'f03'), 'user.k'),
                         b'v' * 3000)
        after = self.m1.counters().get('uring_requests', 0)
        self.assertGreater(after - before, 200)

    def test_writes_whose_reply_comes_before_the_data_is_sent(self):
        """ur-1.2: the mount replies to a WRITE before its data has gone
        to the OSS; the reply must not overwrite the data in the ring's
        buffer. 200 small writes of distinct bytes, read back at once."""
        p = self.p1('ur12')
        with open(p, 'wb') as f:
            for i in range(200):
                f.write(bytes([i % 251]) * 1000)
                f.flush()
        with open(self.p2('ur12'), 'rb') as f:
            got = f.read()
        self.assertEqual(got, b''.join(bytes([i % 251]) * 1000
                                       for i in range(200)))

    def test_lock_waiters_do_not_hold_up_their_cpu(self):
        """ur-2.1: 6 processes pinned to CPU 0 wait for an flock that a
        seventh, also on CPU 0, holds (each wait occupies a thread of CPU
        0's queue, which starts with 2); the holder's unlock and every
        waiter's turn then go through the same queue. All finish."""
        p = self.p1('ur21')
        open(p, 'w').close()
        script = ('import fcntl, os, sys, time\n'
                  'fd = os.open(sys.argv[1], os.O_RDWR)\n'
                  'fcntl.flock(fd, fcntl.LOCK_EX)\n'
                  'if sys.argv[2] == "hold":\n'
                  '    print("held", flush=True); time.sleep(1.5)\n'
                  'fcntl.flock(fd, fcntl.LOCK_UN)\n'
                  'print("done", flush=True)\n')
        pin = ['taskset', '-c', '0', sys.executable, '-c', script, p]
        holder = subprocess.Popen(pin + ['hold'], stdout=subprocess.PIPE,
                                  text=True)
        self.assertEqual(holder.stdout.readline().strip(), 'held')
        waiters = [subprocess.Popen(pin + ['wait'], stdout=subprocess.PIPE,
                                    text=True) for _ in range(6)]
        try:
            out, _ = holder.communicate(timeout=30)
            self.assertIn('done', out)
            for w in waiters:
                out, _ = w.communicate(timeout=30)
                self.assertEqual(out.strip(), 'done')
        finally:
            for w in waiters + [holder]:
                if w.poll() is None:
                    w.kill()
        # and the mount still answers on that CPU
        r = subprocess.run(['taskset', '-c', '0', 'stat', p],
                           capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 0)

    def test_nouring_keeps_to_dev_fuse(self):
        """ur-3.1: the -o nouring mount takes no request from a ring."""
        for i in range(20):
            with open(self.p2('ur3-%d' % i), 'w') as f:
                f.write('x')
        self.assertEqual(self.m2.counters().get('uring_requests', 0), 0)

    def test_forgets_come_in_batches(self):
        """ur-4.1: 2,000 unlinks after the kernel dropped its caches make
        the kernel forget about 2,000 inodes; they reach the mount in
        batches, in at most half as many reads of /dev/fuse (one each
        without the pause after a FORGET; about one per ten with it, one
        per four under ASan, whose unlinks are slower)."""
        d = self.p1('ur41')
        names = self.cold_files(d, 2000)
        before = self.m1.counters()
        for p in names:
            os.unlink(p)
        time.sleep(0.1)     # the last batch
        after = self.m1.counters()
        forgets = after.get('forgets', 0) - before.get('forgets', 0)
        reads = (after.get('forget_reads', 0) -
                 before.get('forget_reads', 0))
        self.assertGreaterEqual(forgets, 1900)
        self.assertLessEqual(reads, forgets // 2)
        self.assertEqual(os.listdir(d), [])
        self.assertEqual(os.listdir(self.p2('ur41')), [])

    def test_interrupted_lock_wait(self):
        """ur-4.2: a process waiting for an flock that another holds is
        interrupted by a signal: its wait (a request that came over a
        ring) ends with EINTR at once, not when the holder lets go, and
        leaves no lock behind: once the holder unlocks, a third process
        takes the lock without waiting. Right after a burst of unlinks, so
        the /dev/fuse reader that carries the INTERRUPT may be in its
        pause after a FORGET."""
        p = self.p1('ur42')
        open(p, 'w').close()
        hold = ('import fcntl, os, sys, time\n'
                'fd = os.open(sys.argv[1], os.O_RDWR)\n'
                'fcntl.flock(fd, fcntl.LOCK_EX)\n'
                'print("held", flush=True)\n'
                'sys.stdin.readline()\n')
        wait = ('import fcntl, os, signal, sys, time\n'
                'def h(s, f):\n'
                '    raise TimeoutError\n'
                'signal.signal(signal.SIGALRM, h)\n'
                'fd = os.open(sys.argv[1], os.O_RDWR)\n'
                't0 = time.monotonic()\n'
                'signal.setitimer(signal.ITIMER_REAL, 0.5)\n'
                'try:\n'
                '    fcntl.flock(fd, fcntl.LOCK_EX)\n'
                '    print("locked", flush=True)\n'
                'except TimeoutError:\n'
                '    print("interrupted %.3f" % (time.monotonic() - t0),'
                ' flush=True)\n')
        holder = subprocess.Popen([sys.executable, '-c', hold, p],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(holder.stdout.readline().strip(), 'held')
            for q in self.cold_files(self.p1('ur42d'), 300):
                os.unlink(q)
            r = subprocess.run([sys.executable, '-c', wait, p],
                               capture_output=True, text=True, timeout=30)
            out = r.stdout.split()
            self.assertEqual(out[:1], ['interrupted'], r.stdout + r.stderr)
            self.assertLess(float(out[1]), 3.0)
            holder.stdin.write('\n')
            holder.stdin.flush()
            self.assertEqual(holder.wait(30), 0)
        finally:
            if holder.poll() is None:
                holder.kill()
        got = subprocess.run(
            [sys.executable, '-c',
             'import fcntl, os, sys\n'
             'fd = os.open(sys.argv[1], os.O_RDWR)\n'
             'fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n'
             'print("ok")\n', p], capture_output=True, text=True, timeout=30)
        self.assertEqual(got.stdout.strip(), 'ok', got.stderr)

    def test_small_writes_go_through_the_senders(self):
        """ur-5.1: 2,000 writes of 4 KiB (in order, then at random
        offsets) through the io_uring mount: the senders ran them (the
        mount's wb_sent counter), and the other mount reads every byte."""
        before = self.m1.counters().get('wb_sent', 0)
        p = self.p1('ur51')
        blocks = [os.urandom(4096) for _ in range(1000)]
        with open(p, 'wb') as f:
            for b in blocks:
                f.write(b)
                f.flush()
        rnd = random.Random(51)
        fd = os.open(p, os.O_WRONLY)
        try:
            for _ in range(1000):
                k = rnd.randrange(1000)
                blocks[k] = os.urandom(4096)
                os.pwrite(fd, blocks[k], k * 4096)
        finally:
            os.close(fd)
        sent = self.m1.counters().get('wb_sent', 0) - before
        self.assertGreaterEqual(sent, 1500)
        with open(self.p2('ur51'), 'rb') as f:
            self.assertEqual(f.read(), b''.join(blocks))


class UringWriteErrorTests(UringCase):
    n_ost = 1
    n_oss = 1
    ost_capacity = 4 * 1024 * 1024

    def test_sender_failure_reaches_the_writer(self):
        """ur-5.2: 6 MiB written in 64 KiB writes through the io_uring
        mount onto a 4 MiB OST: a sender's write fails with ENOSPC, and
        the writer hears of it at a later write or at close; the file
        ends where written data ends (read from the other mount)."""
        p = self.p1('full')
        chunk = bytes(range(256)) * 256          # 64 KiB, no zero runs
        fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        werr = cerr = None
        try:
            for _ in range(96):
                os.write(fd, chunk)
        except OSError as e:
            werr = e.errno
        try:
            os.close(fd)
        except OSError as e:
            cerr = e.errno
        self.assertIn(errno.ENOSPC, (werr, cerr),
                      'ENOSPC reached neither write nor close')
        self.assertGreater(self.m1.counters().get('wb_sent', 0), 0)
        assert_no_zero_tail(self, self.p2('full'), chunk)


if __name__ == '__main__':
    unittest.main()
