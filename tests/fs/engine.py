"""Harness for the file-system integration tests: real engine processes
(1 fsx-mds, OSSes serving 4 OSTs) in a temporary directory, real FUSE mounts
through fsx-mount in dev mode, and a minimal client of the engine wire
protocol (src/msg/msg.h) for the malformed-frame tests.

Binaries come from $FSX_BIN (default: build/bin of this checkout). Set
FSX_KEEP=1 to keep the temporary directory (logs, objects) after a run.
"""
import atexit
import errno
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get('FSX_BIN') or os.path.join(REPO, 'build', 'bin')
FS_ID = 'fs-0123456789abcdef0'
GiB = 1024 ** 3
MiB = 1024 ** 2
KiB = 1024

# --- wire protocol (src/msg/msg.h) -----------------------------------------

MSG_MAGIC = 0x4d585346
MSG_VERSION = 1
MSG_HDR = struct.Struct('<IHHIiQIIII')      # 40 bytes
MSG_F_REPLY = 0x1
OP_HELLO, OP_PING, OP_STATS = 1, 2, 3
OP_MDS_GETATTR = 42
OP_OST_STATFS = 27
OP_MDS_OSTMAP = 40
OP_MDS_OSTADD = 63                         # admin: bulk msg_ost_ent[]
OP_OST_SETCAP = 64                         # admin: body msg_ost_cap
OST_ENT = struct.Struct('<IHH48sQ')        # msg_ost_ent, 64 bytes
OST_CAP = struct.Struct('<IIQ')            # msg_ost_cap, 16 bytes
LOV_MAGIC = 0x0BD10BD0
LOV_HDR = struct.Struct('<IIiiII')          # msg_layout, 24 bytes
LOV_ENT = struct.Struct('<IIQ')             # msg_layout_ent, 16 bytes


def _crc32c_table():
    tab = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        tab.append(c)
    return tab


_CRC_TAB = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xffffffff
    for b in data:
        crc = _CRC_TAB[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc ^ 0xffffffff


def frame(op, body=b'', bulk=b'', flags=0, reqid=1, status=0, magic=MSG_MAGIC,
          version=MSG_VERSION, body_len=None, bulk_len=None, bulk_crc=None,
          hdr_crc=None):
    """Encode one frame; every header field can be overridden to forge a
    malformed one."""
    body_len = len(body) if body_len is None else body_len
    bulk_len = len(bulk) if bulk_len is None else bulk_len
    if bulk_crc is None:
        bulk_crc = crc32c(bulk) if bulk else 0
    head = struct.pack('<IHHIiQIII', magic, version, op, flags, status, reqid,
                       body_len, bulk_len, bulk_crc)
    if hdr_crc is None:
        hdr_crc = crc32c(head)
    return head + struct.pack('<I', hdr_crc) + body + bulk


def recv_exact(sock, n):
    buf = b''
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionResetError('EOF after %d of %d bytes' % (len(buf), n))
        buf += chunk
    return buf


def recv_frame(sock):
    """Read one reply: (header tuple, body, bulk)."""
    h = MSG_HDR.unpack(recv_exact(sock, MSG_HDR.size))
    magic, version, op, flags, status, reqid, body_len, bulk_len, bulk_crc, hdr_crc = h
    if magic != MSG_MAGIC:
        raise ValueError('bad magic in reply: %#x' % magic)
    if body_len > 64 * 1024 or bulk_len > 8 * MiB:
        raise ValueError('reply lengths out of range')
    body = recv_exact(sock, body_len)
    bulk = recv_exact(sock, bulk_len)
    return h, body, bulk


class Client:
    """A synchronous engine-protocol client: HELLO then request/reply."""

    def __init__(self, port, secret, host='127.0.0.1', timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reqid = 0
        body = secret + struct.pack('<II', os.getuid(), 0)
        h, rbody, _ = self.call(OP_HELLO, body)
        if h[4] != 0:
            raise OSError(-h[4], 'HELLO refused')
        self.server_id, self.kind, self.nost = struct.unpack('<QII', rbody[:16])

    def call(self, op, body=b'', bulk=b'', flags=0):
        self.reqid += 1
        self.sock.sendall(frame(op, body, bulk, flags=flags, reqid=self.reqid))
        h, rbody, rbulk = recv_frame(self.sock)
        if h[2] != op or h[5] != self.reqid or not h[3] & MSG_F_REPLY:
            raise ValueError('reply does not match request: %r' % (h,))
        return h, rbody, rbulk

    def ping(self):
        h, body, _ = self.call(OP_PING)
        return h[4], body

    def checked(self, op, body=b'', bulk=b''):
        """call(), raising OSError for an error status."""
        h, rbody, rbulk = self.call(op, body, bulk)
        if h[4] != 0:
            raise OSError(-h[4], 'opcode %d: %s' % (op, os.strerror(-h[4])))
        return rbody, rbulk

    def ostadd(self, ents):
        """MDS_OSTADD of [(idx, host, port, capacity)]."""
        bulk = b''.join(OST_ENT.pack(i, p, 0, h.encode(), c)
                        for i, h, p, c in ents)
        self.checked(OP_MDS_OSTADD, bulk=bulk)

    def setcap(self, ost, capacity):
        self.checked(OP_OST_SETCAP, OST_CAP.pack(ost, 0, capacity))

    def ostmap(self):
        """MDS_OSTMAP: [(idx, host, port, capacity)]."""
        _, bulk = self.checked(OP_MDS_OSTMAP)
        out = []
        for k in range(0, len(bulk), OST_ENT.size):
            i, p, _, h, c = OST_ENT.unpack_from(bulk, k)
            out.append((i, h.split(b'\0')[0].decode(), p, c))
        return out

    def close(self):
        self.sock.close()


# --- layouts ----------------------------------------------------------------

def lov_pack(count, size, offset=-1):
    return LOV_HDR.pack(LOV_MAGIC, size, count, offset, 0, 0)


def lov_unpack(raw):
    """Decode a lustre.lov value: dict(stripe_size, stripe_count,
    stripe_offset, ents=[(ost, oid)])."""
    if len(raw) < LOV_HDR.size:
        raise ValueError('lustre.lov too short: %d bytes' % len(raw))
    magic, size, count, offset, nent, _ = LOV_HDR.unpack_from(raw)
    if magic != LOV_MAGIC:
        raise ValueError('bad lov magic %#x' % magic)
    if len(raw) < LOV_HDR.size + nent * LOV_ENT.size:
        raise ValueError('lustre.lov truncated')
    ents = []
    for i in range(nent):
        ost, _, oid = LOV_ENT.unpack_from(raw, LOV_HDR.size + i * LOV_ENT.size)
        ents.append((ost, oid))
    return dict(stripe_size=size, stripe_count=count, stripe_offset=offset,
                ents=ents)


def set_layout(path, count, size, offset=-1):
    """Set a directory's default layout, or create `path` as an empty file
    with that layout."""
    if not os.path.isdir(path):
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.close(fd)
    os.setxattr(path, 'lustre.lov', lov_pack(count, size, offset))


def get_layout(path):
    return lov_unpack(os.getxattr(path, 'lustre.lov'))


def object_bytes(size, stripe_size, count, k):
    """Bytes that stripe k of a file of `size` bytes holds (RAID-0)."""
    full, rem = divmod(size, stripe_size * count)
    n = full * stripe_size
    start = k * stripe_size
    if rem > start:
        n += min(stripe_size, rem - start)
    return n


# --- processes --------------------------------------------------------------

def drop_dentries():
    """Write back, then have the kernel drop its dentries and inodes:
    the next path walks reach the file system (LOOKUPs), and the inodes
    dropped come back to it as FORGETs."""
    os.sync()
    with open('/proc/sys/vm/drop_caches', 'w') as f:
        f.write('2\n')


def fsync_dir(path):
    """fsync(2) of a directory: on a mount, the unlinks it acknowledged
    early there have reached the MDS when it returns (fm_unl.c), and one
    that failed is its error."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def assert_no_zero_tail(test, path, chunk):
    """After writes of `chunk` over and over onto a full OST, some of
    which failed and were told: the file (read through `path`) ends where
    written data ends, its last 64 KiB are the chunk's bytes (a failed
    write between two that landed may leave a hole: it was told)."""
    with open(path, 'rb') as f:
        got = f.read()
    tail = min(len(got), 64 * 1024)
    want = chunk * (len(got) // len(chunk) + 1)
    test.assertEqual(got[len(got) - tail:], want[len(got) - tail:len(got)],
                     'the last %d bytes of %d were written' %
                     (tail, len(got)))


def need_fuse(cls=None):
    if not os.path.exists('/dev/fuse'):
        raise unittest.SkipTest('/dev/fuse is missing: no FUSE in this environment')


def binpath(name):
    p = os.path.join(BIN, name)
    if not os.access(p, os.X_OK):
        raise AssertionError('%s not built (FSX_BIN=%s)' % (p, BIN))
    return p


def wait_for(pred, timeout=10.0, what='condition', proc=None, log=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        if proc is not None and proc.poll() is not None:
            raise AssertionError('%s: process exited with %s before %s\n%s' %
                                 (proc.args[0], proc.returncode, what, tail(log)))
        time.sleep(0.02)
    raise AssertionError('timed out waiting for %s\n%s' % (what, tail(log)))


def tail(path, n=30):
    if not path or not os.path.exists(path):
        return ''
    with open(path, 'rb') as f:
        lines = f.read().decode('utf-8', 'replace').splitlines()
    return '--- %s ---\n%s' % (path, '\n'.join(lines[-n:]))


def read_port(path):
    try:
        with open(path) as f:
            s = f.read().strip()
        return int(s) if s else 0
    except (OSError, ValueError):
        return 0


def is_mounted(mnt):
    mnt = os.path.realpath(mnt)
    with open('/proc/self/mountinfo') as f:
        for line in f:
            if line.split()[4] == mnt:
                return True
    return False


class Server:
    """One engine process: argv is fixed at first start; restart() reuses it
    with the port the first start got, so clients find it again."""

    def __init__(self, name, argv, workdir, tag):
        self.name = name
        self.tag = tag
        self.port_file = os.path.join(workdir, '%s.port' % tag)
        self.pid_file = os.path.join(workdir, '%s.pid' % tag)
        self.log = os.path.join(workdir, '%s.log' % tag)
        self.argv = argv
        self.proc = None
        self.port = 0

    def start(self):
        argv = [binpath(self.name)] + list(self.argv)
        listen = '127.0.0.1:%d' % self.port
        argv += ['--listen', listen, '--port-file', self.port_file,
                 '--pid-file', self.pid_file]
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        logf = open(self.log, 'ab')
        self.proc = subprocess.Popen(argv, stdout=logf, stderr=logf,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        port = wait_for(lambda: read_port(self.port_file), 15,
                        '%s port file' % self.tag, self.proc, self.log)
        if self.port and port != self.port:
            raise AssertionError('%s restarted on port %d, not %d' %
                                 (self.tag, port, self.port))
        self.port = port

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def restart(self):
        # The old socket may linger briefly; retry a few times on bind errors.
        for _ in range(50):
            try:
                self.start()
                return
            except AssertionError:
                if self.proc.poll() is None:
                    raise
                time.sleep(0.1)
        self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.alive():
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def vmhwm_kib(self):
        try:
            with open('/proc/%d/status' % self.proc.pid) as f:
                for line in f:
                    if line.startswith('VmHWM:'):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0


def parse_counters(lines):
    """{name: int} from a mount's stats lines, each "name N" (fm_stats.c);
    any other line is an error."""
    out = {}
    for line in lines:
        k, v = line.split()
        out[k] = int(v)
    return out


class Mount:
    def __init__(self, engine, mnt, opts=None, foreground=True):
        self.engine = engine
        self.mnt = mnt
        self.log = mnt.rstrip('/') + '.log'
        self.stats_path = mnt.rstrip('/') + '.stats'
        if opts and 'stats=' in opts:
            self.stats_path = opts.split('stats=')[1].split(',')[0]
        else:
            opts = (opts + ',' if opts else '') + 'stats=' + self.stats_path
        self.opts = opts
        self.proc = None
        self.foreground = foreground

    def start(self):
        os.makedirs(self.mnt, exist_ok=True)
        argv = [binpath('fsx-mount'), '--mds', '127.0.0.1:%d' % self.engine.mds.port,
                '--secret-file', self.engine.secret_file]
        if self.foreground:
            argv.append('-f')
        opts = 'allow_other'
        if self.opts:
            opts += ',' + self.opts
        argv += ['-o', opts, FS_ID, self.mnt]
        logf = open(self.log, 'ab')
        self.proc = subprocess.Popen(argv, stdout=logf, stderr=logf,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        if self.foreground:
            wait_for(lambda: is_mounted(self.mnt), 15, 'mount of ' + self.mnt,
                     self.proc, self.log)
        else:
            rc = self.proc.wait(30)
            if rc != 0:
                raise AssertionError('fsx-mount exited %d\n%s' % (rc, tail(self.log)))
            wait_for(lambda: is_mounted(self.mnt), 15, 'mount of ' + self.mnt,
                     None, self.log)

    def counters(self):
        """The mount's counters now (fm_stats.c: SIGUSR1 rewrites the stats
        file): FUSE operations, round trips by opcode, local reads."""
        if os.path.exists(self.stats_path):
            os.unlink(self.stats_path)
        os.kill(self.proc.pid if self.foreground else self.daemon_pid(),
                signal.SIGUSR1)
        wait_for(lambda: os.path.exists(self.stats_path), 5, 'stats file')
        with open(self.stats_path) as f:
            return parse_counters(f)

    def daemon_pid(self):
        r = subprocess.run(['pgrep', '-f', 'fsx-mount .* %s$' % re.escape(self.mnt)],
                           capture_output=True, text=True)
        return int(r.stdout.split()[0])

    def stop(self):
        if is_mounted(self.mnt):
            r = subprocess.run(['fusermount3', '-u', self.mnt],
                               capture_output=True)
            if r.returncode != 0:
                subprocess.run(['umount', '-l', self.mnt], capture_output=True)
        if self.proc is not None and self.foreground and self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


_LIVE = []


@atexit.register
def _stop_live_engines():
    """An interrupted run must not leave servers and mounts behind."""
    for e in list(_LIVE):
        try:
            e.stop()
        except Exception:
            pass


class Engine:
    """1 MDS and `n_oss` OSS processes serving `n_ost` OSTs between them, in
    a fresh temporary directory."""

    def __init__(self, n_ost=4, n_oss=2, ost_capacity=16 * GiB, base=None,
                 mds_args=()):
        _LIVE.append(self)
        self.mds_args = list(mds_args)
        self.dir = tempfile.mkdtemp(prefix='fsx-fs-', dir=base or '/var/tmp')
        os.chmod(self.dir, 0o755)
        self.n_ost = n_ost
        self.ost_capacity = ost_capacity
        self.secret = os.urandom(32)
        self.secret_file = os.path.join(self.dir, 'secret')
        with open(self.secret_file, 'w') as f:
            f.write(self.secret.hex() + '\n')
        os.chmod(self.secret_file, 0o600)
        self.ost_dirs = {}
        self.oss = []
        self.ost_of_oss = {}
        per = (n_ost + n_oss - 1) // n_oss
        for s in range(n_oss):
            argv = ['--secret-file', self.secret_file]
            idxs = list(range(s * per, min(n_ost, (s + 1) * per)))
            for i in idxs:
                d = os.path.join(self.dir, 'ost%04d' % i)
                os.makedirs(d)
                self.ost_dirs[i] = d
                argv += ['--ost', '%d:%s' % (i, d)]   # capacity: SETCAP
            srv = Server('fsx-oss', argv, self.dir, 'oss%d' % s)
            self.oss.append(srv)
            for i in idxs:
                self.ost_of_oss[i] = srv
        self.mds_dir = os.path.join(self.dir, 'mds')
        os.makedirs(self.mds_dir)
        self.mds = None
        self.mounts = []

    def start(self):
        """Start the OSSes, then the MDS, then tell them the topology over
        the protocol, as fsxd does: SETCAP to every OSS, OSTADD with every
        OST and SETCAP to the MDS."""
        try:
            for s in self.oss:
                s.start()
            self.mds = Server('fsx-mds', ['--dir', self.mds_dir,
                                          '--secret-file', self.secret_file] +
                              self.mds_args, self.dir, 'mds')
            self.mds.start()
            self.tell_topology()
        except BaseException:
            self.stop()
            raise
        return self

    def admin(self, srv):
        """An authenticated protocol client of one engine process."""
        return Client(srv.port, self.secret)

    def tell_topology(self, capacity=None):
        cap = capacity or self.ost_capacity
        for i in sorted(self.ost_dirs):
            c = self.admin(self.ost_of_oss[i])
            try:
                c.setcap(i, cap)
            finally:
                c.close()
        c = self.admin(self.mds)
        try:
            c.ostadd([(i, '127.0.0.1', self.ost_of_oss[i].port, cap)
                      for i in sorted(self.ost_dirs)])
            for i in sorted(self.ost_dirs):
                c.setcap(i, cap)
        finally:
            c.close()

    def mount(self, name='mnt', opts=None, foreground=True):
        m = Mount(self, os.path.join(self.dir, name), opts, foreground)
        self.mounts.append(m)
        m.start()
        return m.mnt

    def servers(self):
        return ([self.mds] if self.mds else []) + self.oss

    def logs(self):
        out = []
        for s in self.servers():
            out.append(tail(s.log, 15))
        for m in self.mounts:
            out.append(tail(m.log, 15))
        return '\n'.join(x for x in out if x)

    SANITIZER_MARKS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer',
                       'runtime error:', 'WARNING: ThreadSanitizer')

    def sanitizer_reports(self):
        """Sanitizer reports in any engine or mount log (ASan/UBSan builds)."""
        found = []
        logs = [s.log for s in self.servers()] + [m.log for m in self.mounts]
        for path in logs:
            try:
                with open(path, 'rb') as f:
                    text = f.read().decode('utf-8', 'replace')
            except OSError:
                continue
            for mark in self.SANITIZER_MARKS:
                i = text.find(mark)
                if i >= 0:
                    found.append('%s:\n%s' % (path, text[max(0, i - 200):i + 2000]))
                    break
        return found

    def stop(self):
        """Unmount, stop every process, remove the directory. Returns the
        sanitizer reports found in the logs (empty on a clean run)."""
        for m in reversed(self.mounts):
            try:
                m.stop()
            except Exception:
                pass
        for s in self.servers():
            s.stop()
        if self in _LIVE:
            _LIVE.remove(self)
        reports = self.sanitizer_reports()
        if reports and not os.environ.get('FSX_KEEP'):
            print('\n'.join(reports))
        if os.environ.get('FSX_KEEP'):
            print('kept', self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return reports

    def object_path(self, ost, oid):
        d = os.path.join(self.ost_dirs[ost], 'O', '%02x' % (oid % 256))
        return os.path.join(d, str(oid))


class EngineCase(unittest.TestCase):
    """A test class with its own engine and one mount at self.mnt."""
    n_ost = 4
    n_oss = 2
    ost_capacity = 16 * GiB
    mount_opts = None
    mount_at_start = True
    mds_args = ()

    @classmethod
    def setUpClass(cls):
        need_fuse()
        cls.engine = Engine(cls.n_ost, cls.n_oss, cls.ost_capacity,
                            mds_args=cls.mds_args).start()
        if not cls.mount_at_start:
            return
        try:
            cls.mnt = cls.engine.mount(opts=cls.mount_opts)
        except BaseException:
            cls.engine.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        reports = cls.engine.stop()
        if reports:
            raise AssertionError('sanitizer reports in engine logs:\n' +
                                 '\n'.join(r[:3000] for r in reports))

    def path(self, *parts):
        return os.path.join(self.mnt, *parts)

    def fresh_dir(self, name):
        p = self.path(name)
        os.mkdir(p)
        return p



class TwoMountCase(EngineCase):
    """An EngineCase with a second mount of the same file system."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.mnt2 = cls.engine.mount('mnt2')
        except BaseException:
            cls.engine.stop()
            raise

    def p1(self, *a):
        return os.path.join(self.mnt, *a)

    def p2(self, *a):
        return os.path.join(self.mnt2, *a)


def as_nobody(argv, **kw):
    """Run argv as nobody:nogroup with no supplementary groups."""
    return subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup',
                           '--clear-groups'] + argv, capture_output=True,
                          text=True, **kw)


def errno_of(fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


__all__ = ['Engine', 'EngineCase', 'Client', 'frame', 'recv_frame', 'crc32c',
           'set_layout', 'get_layout', 'lov_pack', 'lov_unpack',
           'object_bytes', 'as_nobody', 'errno_of', 'errno', 'GiB', 'MiB',
           'KiB', 'binpath', 'wait_for', 'is_mounted', 'FS_ID', 'REPO', 'BIN',
           'parse_counters']
