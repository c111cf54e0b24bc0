"""Regression tests for engine defects (issue 10), on two mounts of one
file system. Each case says what failed before its fix.

  defects-1.*: truncate and mmap writes keep the size the program set
  defects-5.*: write-behind failures reach close(2)
  defects-6.*: fallocate modes and allocated blocks
  defects-7.*: the MDS reconstructs the replies of resent requests
              (7.3: APPEND and SETATTR too)
  defects-8.*: explicit atime and later readers
  defects-9.*: writes by others clear set-user-ID, set-group-ID and
              security.capability
  defects-10.*: a backup leaves out APPEND ranges not written yet
"""
import errno
import mmap
import os
import socket
import struct
import time

from .engine import (TwoMountCase, EngineCase, set_layout, frame, recv_frame,
                     OP_HELLO, MSG_F_REPLY, MiB, KiB, as_nobody,
                     assert_no_zero_tail)


class AtimeTests(TwoMountCase):

    def test_atime_moves_after_utime_while_writer_open(self):
        """defects-8.1: a utime while another handle is open made the MDS
        ignore the reads of every later handle until the file had no
        handle left (a late CLOSE of the writer kept it open)."""
        p = self.p1('atime-open')
        fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            os.write(fd, b'x' * 5000)
            os.fsync(fd)
            os.utime(p, (1000, 2000))
            with open(self.p2('atime-open'), 'rb') as f:
                self.assertEqual(len(f.read()), 5000)
            time.sleep(1.2)         # past the 1 s attribute cache
            st = os.stat(self.p2('atime-open'))
            self.assertGreater(st.st_atime, time.time() - 60,
                               'a read after the utime moves atime')
        finally:
            os.close(fd)


class TruncateTests(TwoMountCase):

    def test_truncate_down_while_reading_keeps_size(self):
        """defects-1.1: a read in flight during a truncate saw the old
        objects and raised the client's size back; the writer's close
        then stored that size at the MDS (xfstests fsx: "TRUNCATE DOWN
        from 0x40000 to 0x5730", then size 0x32000 on every mount)."""
        import threading
        p = self.p1('trunc-race')
        stop = threading.Event()
        big = 1 * MiB

        def reader():
            fd = os.open(p, os.O_RDONLY | os.O_DIRECT)
            buf = mmap.mmap(-1, 256 * KiB)
            try:
                while not stop.is_set():
                    for off in range(0, big, 256 * KiB):
                        try:
                            os.preadv(fd, [buf], off)
                        except OSError:
                            pass
            finally:
                os.close(fd)

        with open(p, 'wb') as f:
            f.write(b'a' * big)
        t = threading.Thread(target=reader)
        t.start()
        bad = []
        try:
            for i in range(60):
                fd = os.open(p, os.O_RDWR)
                try:
                    os.pwrite(fd, b'b' * big, 0)
                    small = 1000 + i
                    os.ftruncate(fd, small)
                    if os.fstat(fd).st_size != small:
                        bad.append((i, os.fstat(fd).st_size))
                finally:
                    os.close(fd)
                time.sleep(0.05)
                st = os.stat(self.p2('trunc-race')).st_size
                if st != small and st != big:
                    bad.append((i, st))
                with open(self.p2('trunc-race'), 'rb') as f:
                    n = len(f.read())
                if n != small:
                    bad.append(('read', i, n))
        finally:
            stop.set()
            t.join()
        self.assertEqual(bad, [])


def fallocate(fd, mode, off, length):
    """fallocate(2) through libc (Python has only posix_fallocate)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64,
                               ctypes.c_int64]
    if libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_ZERO_RANGE = 0x10


class FallocateTests(TwoMountCase):

    def test_fallocate_modes_match_a_model(self):
        """defects-6.1: fallocate answered EOPNOTSUPP for every mode.
        Mode 0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE and ZERO_RANGE (with and
        without KEEP_SIZE) on a file striped over 4 OSTs, checked against
        a model on both mounts."""
        p = self.p1('falloc')
        set_layout(p, 4, 64 * KiB)
        data = bytearray(os.urandom(3 * MiB + 5))
        fd = os.open(p, os.O_RDWR)
        try:
            os.write(fd, data)
            fallocate(fd, 0, 3 * MiB, MiB)              # grows
            data += bytes(4 * MiB - len(data))
            fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      100 * KiB + 3, 200 * KiB)
            data[100 * KiB + 3:300 * KiB + 3] = bytes(200 * KiB)
            fallocate(fd, FALLOC_FL_ZERO_RANGE, MiB - 7, 300 * KiB)
            data[MiB - 7:MiB - 7 + 300 * KiB] = bytes(300 * KiB)
            fallocate(fd, FALLOC_FL_KEEP_SIZE, 4 * MiB, MiB)   # no growth
            self.assertEqual(os.fstat(fd).st_size, len(data))
            fallocate(fd, FALLOC_FL_ZERO_RANGE, 4 * MiB + 10, 10)
            data += bytes(20)
            self.assertEqual(os.fstat(fd).st_size, len(data))
            self.assertEqual(os.pread(fd, len(data) + 10, 0), bytes(data))
            with self.assertRaises(OSError) as cm:
                fallocate(fd, 0x08, 0, 4096)     # COLLAPSE_RANGE
            self.assertEqual(cm.exception.errno, errno.EOPNOTSUPP)
        finally:
            os.close(fd)
        with open(self.p2('falloc'), 'rb') as f:
            self.assertTrue(f.read() == bytes(data), 'mount 2 agrees')
        self.assertEqual(os.stat(self.p2('falloc')).st_size, len(data))


class BlocksTests(TwoMountCase):

    def test_sparse_file_blocks_count_what_is_written(self):
        """defects-6.2: st_blocks was the size in 512-byte units, so a
        1 GiB file holding 1 MiB showed 1 GiB in du, open or closed."""
        p = self.p1('sparse')
        fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            os.ftruncate(fd, 1024 * MiB)
            os.pwrite(fd, os.urandom(MiB), 512 * MiB)
            os.fsync(fd)
            # open for write: the MDS glimpses the objects
            st = os.stat(self.p2('sparse'))
            self.assertEqual(st.st_size, 1024 * MiB)
            self.assertLess(st.st_blocks * 512, 8 * MiB, 'while open')
            self.assertGreaterEqual(st.st_blocks * 512, MiB)
        finally:
            os.close(fd)
        time.sleep(1.2)             # past the 1 s attribute cache
        for q in (p, self.p2('sparse')):
            st = os.stat(q)
            self.assertEqual(st.st_size, 1024 * MiB)
            self.assertLess(st.st_blocks * 512, 8 * MiB, q)
            self.assertGreaterEqual(st.st_blocks * 512, MiB, q)
        # a punched hole gives its blocks back
        fd = os.open(p, os.O_RDWR)
        try:
            fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      512 * MiB, MiB)
        finally:
            os.close(fd)
        time.sleep(1.2)
        self.assertLess(os.stat(self.p2('sparse')).st_blocks * 512, 64 * KiB)


class KillPrivTests(TwoMountCase):

    def write_as_nobody(self, p, flags):
        r = as_nobody(['python3', '-c', 'import os, sys; fd = os.open(sys.argv[1], '
                       'os.O_WRONLY | %d); os.write(fd, b"y"); os.close(fd)' % flags, p],
                      cwd='/')
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_append_by_another_user_clears_setuid(self):
        """defects-9.1: an O_APPEND write (direct I/O, so the kernel
        leaves it to the file system) and an open with O_TRUNC (the
        truncate travels in the OPEN) by a user without CAP_FSETID kept
        S_ISUID and S_ISGID, as no write through the page cache or
        truncate(2) does: a world-writable set-user-ID file stayed one
        after anyone changed it. Both mounts see the bits go; root's
        appends keep them; S_ISGID without group execute (mandatory
        locking) stays."""
        for flags, name in ((os.O_APPEND, 'app'), (0, 'buffered'),
                            (os.O_TRUNC, 'trunc'), (os.O_CREAT | os.O_TRUNC, 'creat')):
            p = self.p1('kp-' + name)
            with open(p, 'wb') as f:
                f.write(b'x')
            os.chmod(p, 0o6777)
            with open(p, 'ab') as f:            # root: CAP_FSETID
                f.write(b'r')
            self.assertEqual(os.stat(p).st_mode & 0o7777, 0o6777, name)
            self.assertEqual(os.stat(self.p2('kp-' + name)).st_mode & 0o7777, 0o6777)
            self.write_as_nobody(p, flags)
            for q in (p, self.p2('kp-' + name)):
                self.assertEqual(os.stat(q).st_mode & 0o7777, 0o777, (name, q))
            # and through the other mount
            os.chmod(p, 0o6777)
            self.write_as_nobody(self.p2('kp-' + name), flags | os.O_TRUNC)
            for q in (p, self.p2('kp-' + name)):
                self.assertEqual(os.stat(q).st_mode & 0o7777, 0o777, (name, q, 2))
            os.chmod(p, 0o2666)                 # no group execute
            self.write_as_nobody(p, flags)
            for q in (p, self.p2('kp-' + name)):
                self.assertEqual(os.stat(q).st_mode & 0o7777, 0o2666, (name, q))

    def test_chown_clears_setuid(self):
        """defects-9.3: a chown of a regular file clears S_ISUID, and
        S_ISGID with group execute, whoever makes it (pjdfstest chown/00:
        the kernel leaves that to the file system once the mount takes
        FUSE_HANDLE_KILLPRIV_V2, and libfuse 3.14 drops the SETATTR's
        FATTR_KILL_SUIDGID; the mount reads it itself, fm_io.c), of a
        FIFO too. A chmod keeps what it sets; a directory keeps its
        bits."""
        p = self.p1('kp-chown')
        with open(p, 'wb') as f:
            f.write(b'x')
        for mode, want in ((0o6755, 0o755), (0o2644, 0o2644),
                           (0o4644, 0o644)):
            os.chmod(p, mode)
            os.chown(p, 65534, 65533)
            for q in (p, self.p2('kp-chown')):
                self.assertEqual(os.stat(q).st_mode & 0o7777, want,
                                 (oct(mode), q))
            self.assertEqual(os.stat(p).st_uid, 65534)
        os.chmod(p, 0o6755)
        self.assertEqual(os.stat(p).st_mode & 0o7777, 0o6755)
        f = self.p1('kp-chown-fifo')      # any kind but a directory
        os.mkfifo(f)
        os.chmod(f, 0o6755)
        os.chown(f, 65534, 65533)
        self.assertEqual(os.stat(f).st_mode & 0o7777, 0o755)
        d = self.p1('kp-chown-dir')
        os.mkdir(d)
        os.chmod(d, 0o2755)
        os.chown(d, 65534, 65533)
        self.assertEqual(os.stat(d).st_mode & 0o7777, 0o2755)

    def test_write_to_unlinked_file_past_a_second(self):
        """defects-9.4: a write to an open file whose name is gone, past
        the second in which the mount remembers that it has no
        capability, still succeeds (the check before the write, fm_io.c,
        must not fail it), by root and by another user."""
        p = self.p1('kp-gone')
        fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o666)
        try:
            os.write(fd, b'a')
            os.unlink(p)
            time.sleep(1.1)
            os.write(fd, b'b')
            os.fsync(fd)
            self.assertEqual(os.pread(fd, 2, 0), b'ab')
        finally:
            os.close(fd)
        d = self.p1('kp-gone-d')
        os.mkdir(d)
        os.chmod(d, 0o777)
        r = as_nobody(['python3', '-c', 'import os, sys, time\n'
                       'p = sys.argv[1]\n'
                       'fd = os.open(p, os.O_CREAT | os.O_RDWR, 0o6755)\n'
                       'os.write(fd, b"a"); os.unlink(p); time.sleep(1.1)\n'
                       'os.write(fd, b"b"); os.fsync(fd)\n'
                       'assert os.pread(fd, 2, 0) == b"ab"\n',
                       os.path.join(d, 'f')], cwd='/')
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_write_drops_capability(self):
        """defects-9.2: any write removes the file's security.capability,
        root's too, as on ext4 (the kernel asked for it before every
        buffered write and cleared it; with FUSE_HANDLE_KILLPRIV_V2 the
        mount does, and now for O_APPEND's direct writes as well, which
        kept it). Through either mount, seen by both; a read keeps it.
        A mount without a lease on the file may not know of a capability
        set elsewhere for 1 s (fm_xattr.c), as with any attribute."""
        import subprocess
        for flags, name in ((0, 'buffered'), (os.O_APPEND, 'app')):
            p = self.p1('cap-' + name)
            with open(p, 'wb') as f:
                f.write(b'x')
            os.chmod(p, 0o666)
            r = subprocess.run(['setcap', 'cap_net_raw+ep', p],
                               capture_output=True, text=True)
            if r.returncode != 0:
                self.skipTest('setcap: %s' % r.stderr.strip())
            for q in (p, self.p2('cap-' + name)):
                with open(q, 'rb') as f:
                    f.read()
                self.assertGreater(len(os.getxattr(q, 'security.capability')), 0)
            for who, w in (('root', p), ('nobody', p),
                           ('nobody', self.p2('cap-' + name))):
                subprocess.run(['setcap', 'cap_net_raw+ep', p], check=True)
                if not w.startswith(self.p1('')):
                    # a mount that holds no lease on the file sees
                    # another's change within the attribute timeout
                    time.sleep(1.1)
                if who == 'root':
                    fd = os.open(w, os.O_WRONLY | flags)
                    os.write(fd, b'r')
                    os.close(fd)
                else:
                    self.write_as_nobody(w, flags)
                for q in (p, self.p2('cap-' + name)):
                    with self.assertRaises(OSError, msg=(name, who, w, q)) as e:
                        os.getxattr(q, 'security.capability')
                    self.assertEqual(e.exception.errno, errno.ENODATA)


class WriteErrorTests(TwoMountCase):
    n_ost = 1
    n_oss = 1
    ost_capacity = 4 * MiB

    def test_write_behind_enospc_reaches_the_writers_close(self):
        """defects-5.1: a write-behind failure was kept once per inode and
        handed to whichever handle of the inode flushed first: a reader's
        close took it and the writer's close returned 0, leaving a file
        whose tail read as zeros."""
        p = self.p1('full')
        fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
        werr = None
        chunk = bytes(range(256)) * 4096          # 1 MiB, no zero runs
        try:
            for _ in range(6):
                os.write(fd, chunk)
        except OSError as e:
            werr = e.errno
        # another handle of the same inode opens and closes meanwhile
        try:
            with open(p, 'rb') as r:
                r.read(1)
        except OSError:
            pass                # a reader may hear of it too
        try:
            os.close(fd)
            cerr = None
        except OSError as e:
            cerr = e.errno
        self.assertIn(errno.ENOSPC, (werr, cerr),
                      'ENOSPC reached neither write nor close')
        assert_no_zero_tail(self, self.p2('full'), chunk)
        os.unlink(p)


OP_MDS_CREATE, OP_MDS_UNLINK, OP_MDS_RENAME = 44, 48, 50
MSG_HELLO_CLIENT_ID = 0x1
MSG_F_RESENT = 0x4
MSG_CR_EXCL = 0x1
ROOT = 1
CREATE = struct.Struct('<QIIIIQII')         # msg_create, 40 bytes
NAME = struct.Struct('<QIIII')              # msg_name, 24 bytes
RENAME = struct.Struct('<QQIIIIII')         # msg_rename, 40 bytes

OP_MDS_SETATTR, OP_MDS_APPEND = 43, 62
SETATTR = struct.Struct('<QIIIIIIQqqqqqq')   # msg_setattr, 88 bytes
MSG_SA_MODE = 0x01
APPEND = struct.Struct('<QQQII')            # msg_append, 32 bytes


class Conn:
    """A raw MDS connection that names its client in HELLO, and sends
    requests with the reqid it is given (a resend reuses one)."""

    def __init__(self, srv, secret, client_id):
        self.sock = socket.create_connection(('127.0.0.1', srv.port),
                                             timeout=10)
        body = secret + struct.pack('<IIQ', 0, MSG_HELLO_CLIENT_ID,
                                    client_id)
        h, _ = self.call(OP_HELLO, body, reqid=1)
        assert h[4] == 0, h

    def call(self, op, body, reqid, bulk=b'', resent=False):
        self.sock.sendall(frame(op, body, bulk, reqid=reqid,
                                flags=MSG_F_RESENT if resent else 0))
        h, rbody, _ = recv_frame(self.sock)
        assert h[2] == op and h[5] == reqid and h[3] & MSG_F_REPLY, h
        return h, rbody

    def close(self):
        self.sock.close()


def create_body(name, excl=True):
    n = name.encode()
    return CREATE.pack(ROOT, 0, 0, 0o100644, MSG_CR_EXCL if excl else 0, 0,
                       len(n), 0) + n


class ResendTests(EngineCase):
    mount_at_start = False

    def conn(self, client_id):
        c = Conn(self.engine.mds, self.engine.secret, client_id)
        self.addCleanup(c.close)
        return c

    def open_for_append(self, c, name, reqid, n):
        """CREATE name on c: its inode and an APPEND body of n bytes on
        the handle."""
        h, rb = c.call(OP_MDS_CREATE, create_body(name), reqid=reqid)
        self.assertEqual(h[4], 0)
        ino = struct.unpack_from('<Q', rb)[0]
        handle = struct.unpack_from('<Q', rb, 112)[0]
        return ino, APPEND.pack(ino, handle, n, 0, 0)

    def test_resent_exclusive_create_gets_its_first_reply(self):
        """defects-7.1: the MDS executed a resent request again: an
        exclusive create whose reply was lost got EEXIST on resend (the
        client then opened whatever had the name, even another client's
        file). Replies are rebuilt per (client, reqid), across reconnects
        and an MDS restart; another client, or a new reqid, is not a
        resend."""
        me, other = 0x1234567890abcdef, 0x0fedcba987654321
        body = create_body('resend-x')
        h, rb = self.conn(me).call(OP_MDS_CREATE, body, reqid=1000)
        self.assertEqual(h[4], 0)
        ino = struct.unpack_from('<Q', rb)[0]
        # the reply was "lost": the same request on a new connection
        h, rb = self.conn(me).call(OP_MDS_CREATE, body, reqid=1000,
                                   resent=True)
        self.assertEqual(h[4], 0, 'resend answered %d' % h[4])
        self.assertEqual(struct.unpack_from('<Q', rb)[0], ino)
        handle = struct.unpack_from("<Q", rb, 112)[0]
        self.assertNotEqual(handle, 0, 'the resend gets an open handle')
        # another client with the same reqid, or a new request: EEXIST
        h, _ = self.conn(other).call(OP_MDS_CREATE, body, reqid=1000,
                                     resent=True)
        self.assertEqual(h[4], -errno.EEXIST)
        h, _ = self.conn(me).call(OP_MDS_CREATE, body, reqid=1001)
        self.assertEqual(h[4], -errno.EEXIST)
        # the record survives kill -9 of the MDS
        self.engine.mds.kill9()
        self.engine.mds.restart()
        h, rb = self.conn(me).call(OP_MDS_CREATE, body, reqid=1000,
                                   resent=True)
        self.assertEqual(h[4], 0, 'resend after restart answered %d' % h[4])
        self.assertEqual(struct.unpack_from('<Q', rb)[0], ino)

    def test_resent_unlink_and_rename_succeed_again(self):
        """defects-7.2: a resent unlink got ENOENT and a resent rename
        ENOENT (the client guessed success from them)."""
        me = 0x5555aaaa5555aaaa
        c = self.conn(me)
        self.assertEqual(c.call(OP_MDS_CREATE, create_body('rn-a'),
                                reqid=7)[0][4], 0)
        a, b = b'rn-a', b'rn-b'
        rn = RENAME.pack(ROOT, ROOT, 0, 0, len(a), len(b), 0, 0) + a + b
        self.assertEqual(c.call(OP_MDS_RENAME, rn, reqid=8)[0][4], 0)
        self.assertEqual(self.conn(me).call(OP_MDS_RENAME, rn, reqid=8,
                                            resent=True)[0][4], 0)
        ul = NAME.pack(ROOT, 0, 0, len(b), 0) + b
        self.assertEqual(c.call(OP_MDS_UNLINK, ul, reqid=9)[0][4], 0)
        self.assertEqual(self.conn(me).call(OP_MDS_UNLINK, ul, reqid=9,
                                            resent=True)[0][4], 0)
        # a new unlink of the same name is a new request
        self.assertEqual(self.conn(me).call(OP_MDS_UNLINK, ul,
                                            reqid=10)[0][4], -errno.ENOENT)

    def test_resent_append_gets_its_first_range(self):
        """defects-7.3: a resent APPEND reserved a second range (the
        first then read as a hole of zeros) and a resent SETATTR ran
        again over what others changed since; both are recorded now and
        answered with their first execution's result."""
        me, other = 0x7777000011112222, 0x7777000011113333
        c = self.conn(me)
        ino, ap = self.open_for_append(c, 'ap-x', 20, 100)
        # 21 and 22 each on a connection that then broke (a client sends
        # its next request on a connection only after reading the reply)
        h, rb = self.conn(me).call(OP_MDS_APPEND, ap, reqid=21)
        self.assertEqual((h[4], struct.unpack_from('<Q', rb)[0]), (0, 0))
        h, rb = self.conn(me).call(OP_MDS_APPEND, ap, reqid=22)
        self.assertEqual((h[4], struct.unpack_from('<Q', rb)[0]), (0, 100))
        # the reply of 21 was lost: the resend gets offset 0 again
        h, rb = self.conn(me).call(OP_MDS_APPEND, ap, reqid=21, resent=True)
        self.assertEqual((h[4], struct.unpack_from('<Q', rb)[0]), (0, 0))
        # and the size did not grow by a second range
        h, rb = c.call(OP_MDS_APPEND, ap, reqid=23)
        self.assertEqual(struct.unpack_from('<Q', rb)[0], 200)
        # a SETATTR (mode 0600) resent after another client's chmod to
        # 0640 does not undo it; it answers the attributes as they are
        sa = SETATTR.pack(ino, 0, 0, MSG_SA_MODE, 0o600, 0, 0, 0, 0, 0, 0, 0,
                          0, 0)
        h, rb = c.call(OP_MDS_SETATTR, sa, reqid=24)
        self.assertEqual(h[4], 0)
        sa2 = SETATTR.pack(ino, 0, 0, MSG_SA_MODE, 0o640, 0, 0, 0, 0, 0, 0, 0,
                           0, 0)
        self.assertEqual(self.conn(other).call(OP_MDS_SETATTR, sa2,
                                               reqid=5)[0][4], 0)
        h, rb = self.conn(me).call(OP_MDS_SETATTR, sa, reqid=24, resent=True)
        self.assertEqual(h[4], 0)
        mode = struct.unpack_from('<I', rb, 24)[0]
        self.assertEqual(mode & 0o777, 0o640, 'the resend ran again')
        # the records survive kill -9 of the MDS
        self.engine.mds.kill9()
        self.engine.mds.restart()
        h, rb = self.conn(me).call(OP_MDS_APPEND, ap, reqid=22, resent=True)
        self.assertEqual((h[4], struct.unpack_from('<Q', rb)[0]), (0, 100))

    def test_records_of_answered_requests_go(self):
        """defects-7.4: every record stayed for an hour, so the xid
        table of a busy client, and the MDS's page cache with it, grew
        all that time (a 10-minute soak: the MDS from 5.7 to 8.6 MiB).
        A request on a connection means its client read the reply of the
        one before it there, whose record goes then: one record per
        connection is left, and the last request of each can still be
        resent."""
        from .test_coherence import server_stats
        me = 0x2468ace013579bdf
        c = self.conn(me)
        _, ap = self.open_for_append(c, 'rec-x', 100, 10)
        for i in range(200):
            h, rb = c.call(OP_MDS_APPEND, ap, reqid=101 + i)
            self.assertEqual((h[4], struct.unpack_from('<Q', rb)[0]),
                             (0, 10 * i))
        n = server_stats(self.engine, self.engine.mds)['mds_reply_records']
        self.assertLessEqual(n, 1, '%d records left' % n)
        # the last one is still answered from its record
        h, rb = self.conn(me).call(OP_MDS_APPEND, ap, reqid=300,
                                   resent=True)
        self.assertEqual((h[4], struct.unpack_from('<Q', rb)[0]), (0, 1990))


OP_MDS_SNAP = 81
SNAP = struct.Struct('<II64s')                # msg_snap


class BackupAppendTests(EngineCase):
    mount_at_start = False

    def test_backup_leaves_out_reserved_appends(self):
        """defects-10.1: an APPEND reserves its range at the MDS, and its
        data reaches the OSTs a moment later. A backup taken in between
        stored the reserved size for the file open for write, so the
        restored file ended in zeros where the record was to go (CI
        caught it: record 202 of a log read back as zeros). The backup
        takes the size before the reservations, then what the objects
        hold."""
        import sqlite3
        c = Conn(self.engine.mds, self.engine.secret, 0x7777000011114444)
        self.addCleanup(c.close)
        h, rb = c.call(OP_MDS_CREATE, create_body('ap-snap'), reqid=30)
        self.assertEqual(h[4], 0)
        ino = struct.unpack_from('<Q', rb)[0]
        handle = struct.unpack_from('<Q', rb, 112)[0]
        h, rb = c.call(OP_MDS_APPEND, APPEND.pack(ino, handle, 100, 0, 0),
                       reqid=31)
        self.assertEqual((h[4], struct.unpack_from('<Q', rb)[0]), (0, 0))
        h, _ = c.call(OP_MDS_SNAP, SNAP.pack(0, 0, b'defects10'), reqid=32)
        self.assertEqual(h[4], 0)
        db = sqlite3.connect(os.path.join(self.engine.mds_dir, 'snap',
                                          'defects10', 'mds.db'))
        try:
            size, = db.execute('SELECT size FROM inode WHERE ino = ?',
                               (ino,)).fetchone()
        finally:
            db.close()
        self.assertEqual(size, 0, 'the reserved range is not in the objects')
