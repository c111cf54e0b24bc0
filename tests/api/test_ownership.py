"""fsxd owns its engine processes whatever happens to it (issue 9, points
6-8): kill -9 at any moment of a create, grow or delete never leaves a
process the next fsxd does not know; every secret stays private; a process
that is alive but silent is replaced."""
import os
import random
import signal
import stat
import subprocess
import time
import unittest
import urllib.request

from tests.fsxlib import BIN, Fsxd, SCRATCH2, engine_procs


def metric(url, name):
    text = urllib.request.urlopen(url + '/metrics', timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith(name + ' ') or line.startswith(name + '{'):
            yield line


class Ownership(unittest.TestCase):
    def setUp(self):
        self.d = Fsxd('--update-gap', '0', '--max-oss', '2', '--max-ost', '4')
        self.c = self.d.client()

    def tearDown(self):
        self.d.stop()

    def restart(self):
        self.d.kill9()
        self.d.start()
        self.c = self.d.client()

    def settle(self, fs_ids, timeout=60):
        """Every listed file system ends AVAILABLE (none FAILED)."""
        for fs_id in fs_ids:
            fs, seen = self.d.wait_state(self.c, fs_id, 'AVAILABLE', timeout=timeout)
            self.assertNotIn('FAILED', seen)

    def test_kill9_during_create_grow_delete_leaves_no_orphan(self):
        """A loop of kill -9 of fsxd 0-100 ms into creates, grows and
        deletes; then a restart and a delete of everything: no engine
        process of the state dir survives, and no store is left."""
        rnd = random.Random(int(os.environ.get('FSX_SEED', '9')))
        live = []
        for i in range(12):
            op = ['create', 'create', 'grow', 'delete'][i % 4]
            if op == 'create' or not live:
                fs = self.c.create_file_system(**SCRATCH2)['FileSystem']
                live.append(fs['FileSystemId'])
            elif op == 'grow':
                self.settle(live[-1:])
                self.c.update_file_system(FileSystemId=live[-1],
                                          StorageCapacity=2400 * (1 + i // 4))
            else:
                self.settle(live[:1])
                self.c.delete_file_system(FileSystemId=live.pop(0))
            time.sleep(rnd.uniform(0, 0.1))
            self.restart()
            # The restarted fsxd finishes what was cut short.
            self.settle(live)
        # Storage grew to what was asked, on every engine.
        for fs_id in live:
            fs = self.c.describe_file_systems(FileSystemIds=[fs_id])['FileSystems'][0]
            self.assertIn(fs['Lifecycle'], ('AVAILABLE',))
        # One process per store: never two MDSes for one file system.
        for fs_id in live:
            kinds = [k for _, k in self.d.engine_pids(fs_id)]
            self.assertEqual(kinds.count('fsx-mds'), 1, (fs_id, kinds))
        for fs_id in live:
            self.c.delete_file_system(FileSystemId=fs_id)
        self.restart()
        for fs_id in live:
            self.d.wait_gone(self.c, fs_id, timeout=30)
        deadline = time.time() + 10
        while self.d.engine_pids() and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.d.engine_pids(), [])
        self.assertEqual(os.listdir(os.path.join(self.d.state, 'fs')), [])

    def test_orphan_store_without_row_is_ended_at_start(self):
        fs_id = self.c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
        self.settle([fs_id])
        pids = self.d.engine_pids(fs_id)
        self.assertTrue(pids)
        # The row goes behind fsxd's back (a delete cut short after it).
        self.d.kill9()
        subprocess.run(['sqlite3', os.path.join(self.d.state, 'fsxd.db'),
                        "DELETE FROM file_systems WHERE id = '%s'" % fs_id], check=True)
        self.d.start()
        store = os.path.join(self.d.state, 'fs', fs_id)
        deadline = time.time() + 15
        while (self.d.engine_pids(fs_id) or os.path.exists(store)) and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.d.engine_pids(fs_id), [])
        self.assertFalse(os.path.exists(store))

    def test_stopped_oss_is_replaced(self):
        """An OSS that is alive but does not answer (SIGSTOP) is killed and
        restarted; the event is logged and counted in /metrics."""
        fs_id = self.c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
        self.settle([fs_id])
        oss = [p for p, k in self.d.engine_pids(fs_id) if k == 'fsx-oss']
        self.assertTrue(oss)
        os.kill(oss[0], signal.SIGSTOP)
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                now = [p for p, k in self.d.engine_pids(fs_id) if k == 'fsx-oss']
                if oss[0] not in now and len(now) == len(oss):
                    break
                time.sleep(0.2)
            self.assertNotIn(oss[0], [p for p, _ in self.d.engine_pids(fs_id)])
        finally:
            try:
                os.kill(oss[0], signal.SIGCONT)
            except ProcessLookupError:
                pass
        lines = list(metric(self.d.url, 'fsxd_engine_restarts_total'))
        self.assertIn('fsxd_engine_restarts_total{cause="unresponsive"} 1', lines)
        self.assertIn('does not answer', open(os.path.join(self.d.state, 'fsxd.log')).read())
        fs = self.c.describe_file_systems(FileSystemIds=[fs_id])['FileSystems'][0]
        self.assertEqual(fs['Lifecycle'], 'AVAILABLE')


class Secrets(unittest.TestCase):
    def test_state_private_even_if_dir_existed(self):
        """`make run` pre-creates ./var 0755: fsxd still makes the state dir
        0700 and the database and every secret 0600, so another local user
        can read none of them."""
        import tempfile
        top = tempfile.mkdtemp(prefix='fsxd-perm-')
        os.chmod(top, 0o755)
        state = os.path.join(top, 'var')
        os.mkdir(state, 0o755)
        os.chmod(state, 0o755)
        d = Fsxd(state=state)
        try:
            c = d.client()
            fs_id = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
            d.wait_state(c, fs_id, 'AVAILABLE')
            self.assertEqual(stat.S_IMODE(os.stat(state).st_mode), 0o700)
            db = os.path.join(state, 'fsxd.db')
            secret = os.path.join(state, 'run', fs_id, 'secret')
            for p in (db, db + '-wal', secret):
                self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o600, p)
            # Even with the directory opened up again, the files hold.
            os.chmod(state, 0o755)
            os.chmod(os.path.join(state, 'run'), 0o755)
            os.chmod(os.path.join(state, 'run', fs_id), 0o755)
            for p in (db, secret):
                r = subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup',
                                    '--clear-groups', 'cat', p], capture_output=True)
                self.assertNotEqual(r.returncode, 0, p)
                self.assertIn(b'Permission denied', r.stderr)
        finally:
            d.stop()
            subprocess.run(['rm', '-rf', top])

    def test_second_fsxd_on_same_state_dir_refused(self):
        d = Fsxd()
        try:
            p = subprocess.run([os.path.join(BIN, 'fsxd'), '--port', '0',
                                '--state-dir', d.state],
                               capture_output=True, timeout=20)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b'in use by fsxd pid %d' % d.proc.pid, p.stderr)
        finally:
            d.stop()


if __name__ == '__main__':
    unittest.main()


class Topology(unittest.TestCase):
    """OSTs and capacities are rows that reach the engines only over the
    engine protocol; a grow past --max-ost still raises every OST's
    quota (issue 9, point 3)."""

    def setUp(self):
        self.d = Fsxd('--update-gap', '0', '--max-ost', '1')
        self.c = self.d.client()

    def tearDown(self):
        self.d.stop()

    def engine(self, fs_id, name):
        import struct
        from tests.fs.engine import Client
        run = os.path.join(self.d.state, 'run', fs_id)
        secret = bytes.fromhex(open(os.path.join(run, 'secret')).read().strip())
        port = int(open(os.path.join(run, name + '.port')).read())
        return Client(port, secret), struct

    def capacities(self, fs_id):
        """(OSS OST_STATFS blocks*bsize of OST 0, MDS OSTMAP capacity of
        OST 0)."""
        from tests.fs.engine import OP_MDS_OSTMAP, OP_OST_STATFS
        oss, struct = self.engine(fs_id, 'oss0')
        h, body, _ = oss.call(OP_OST_STATFS, struct.pack('<IIQ', 0, 0, 0))
        self.assertEqual(h[4], 0)
        bsize, blocks = struct.unpack('<QQ', body[:16])
        mds, _ = self.engine(fs_id, 'mds0')
        h, _, bulk = mds.call(OP_MDS_OSTMAP)
        self.assertEqual(h[4], 0)
        self.assertEqual(len(bulk) % 64, 0)
        ost, port, _, host, cap = struct.unpack('<IHH48sQ', bulk[:64])
        self.assertEqual(ost, 0)
        return bsize * blocks, cap

    def test_grow_past_max_ost_raises_quota_everywhere(self):
        fs_id = self.c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
        self.d.wait_state(self.c, fs_id, 'AVAILABLE')
        self.assertEqual(self.capacities(fs_id), (1200 << 30, 1200 << 30))
        self.c.update_file_system(FileSystemId=fs_id, StorageCapacity=2400)
        deadline = time.time() + 20
        while time.time() < deadline:
            fs = self.c.describe_file_systems(FileSystemIds=[fs_id])['FileSystems'][0]
            acts = fs.get('AdministrativeActions', [])
            if fs['Lifecycle'] == 'AVAILABLE' and acts and acts[0]['Status'] == 'COMPLETED':
                break
            time.sleep(0.05)
        self.assertEqual(fs['StorageCapacity'], 2400)
        self.assertEqual(sorted(x for x in os.listdir(os.path.join(self.d.state, 'fs', fs_id))
                                if x.startswith('ost')), ['ost0000'])
        self.assertEqual(self.capacities(fs_id), (2400 << 30, 2400 << 30))
        # No text file carries topology any more.
        self.assertFalse(os.path.exists(os.path.join(self.d.state, 'run', fs_id, 'ostmap')))
        # A restarted OSS enforces it before fsxd says anything again.
        oss = [p for p, k in self.d.engine_pids(fs_id) if k == 'fsx-oss']
        self.d.kill9()
        os.kill(oss[0], signal.SIGKILL)
        self.d.start()
        self.c = self.d.client()
        deadline = time.time() + 20
        while time.time() < deadline and not [
                p for p, k in self.d.engine_pids(fs_id) if k == 'fsx-oss']:
            time.sleep(0.1)
        time.sleep(0.5)
        self.assertEqual(self.capacities(fs_id)[0], 2400 << 30)


class Control(unittest.TestCase):
    def test_status_and_stop_end_fsxd_and_every_engine(self):
        d = Fsxd()
        try:
            c = d.client()
            fs_id = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
            d.wait_state(c, fs_id, 'AVAILABLE')
            ctl = os.path.join(os.path.dirname(os.path.dirname(__file__)), '..',
                               'tools', 'fsxctl.sh')
            out = subprocess.run(['sh', ctl, 'status', d.state], capture_output=True,
                                 text=True, check=True).stdout
            self.assertIn('fsxd: running, pid %d' % d.proc.pid, out)
            for pid, kind in d.engine_pids(fs_id):
                self.assertIn('%s pid %d' % (kind, pid), out)
            out = subprocess.run(['sh', ctl, 'stop', d.state], capture_output=True,
                                 text=True, check=True).stdout
            self.assertIn('engine process(es) stopped', out)
            d.proc.wait(10)
            self.assertEqual(d.engine_pids(), [])
            out = subprocess.run(['sh', ctl, 'status', d.state], capture_output=True,
                                 text=True, check=True).stdout
            self.assertIn('fsxd: not running', out)
            self.assertIn('(no process)', out)
        finally:
            d.stop()

    def test_version(self):
        want = open(os.path.join(os.path.dirname(__file__), '..', '..',
                                 'VERSION')).read().strip()
        for prog in ('fsxd', 'fsx-mds', 'fsx-oss', 'fsx-mount', 'fsx-node'):
            p = subprocess.run([os.path.join(BIN, prog), '--version'],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(p.returncode, 0, (prog, p.stderr))
            self.assertRegex(p.stdout, r'^%s %s \(.+\)\n$' % (prog, want.replace('.', r'\.')))


def pids_under(path):
    return [(pid, kind) for pid, kind, _ in engine_procs(path)]


class Nodes(unittest.TestCase):
    """Engine processes placed across storage nodes (here three nodes of
    the local driver, each with its own address and data dir)."""

    def test_placement_across_nodes(self):
        import tempfile
        top = tempfile.mkdtemp(prefix='fsx-nodes-')
        nodes = []
        for i, cap in ((1, 4800), (2, 9600), (3, 7200)):
            nodes += ['--node', 'n%d driver=local address=127.0.0.%d dir=%s/n%d capacity=%d'
                      % (i, 10 + i, top, i, cap)]
        d = Fsxd('--max-oss', '4', *nodes)
        try:
            c = d.client()
            fs_id = c.create_file_system(**dict(SCRATCH2, StorageCapacity=4800))[
                'FileSystem']['FileSystemId']
            d.wait_state(c, fs_id, 'AVAILABLE')
            where = {}
            for pid, kind in pids_under(top):
                argv = open('/proc/%d/cmdline' % pid, 'rb').read().split(b'\0')
                argv = [a.decode() for a in argv if a]
                listen = argv[argv.index('--listen') + 1]
                node = [n for n in ('n1', 'n2', 'n3') if '%s/%s/' % (top, n) in ' '.join(argv)]
                self.assertEqual(len(node), 1, argv)
                self.assertEqual(listen.split(':')[0], '127.0.0.%d' % (10 + int(node[0][1])))
                where.setdefault(kind, []).append(node[0])
            # 4 OSSes over 3 nodes: every node serves one, the roomiest two
            self.assertEqual(sorted(set(where['fsx-oss'])), ['n1', 'n2', 'n3'])
            self.assertEqual(len(where['fsx-oss']), 4)
            self.assertEqual(where['fsx-mds'], ['n2'])     # the most free
            # nothing of it under the state dir itself
            self.assertFalse(os.path.exists(os.path.join(d.state, 'fs', fs_id)))
            lines = list(metric(d.url, 'fsxd_node_up'))
            for n in ('n1', 'n2', 'n3'):
                self.assertIn('fsxd_node_up{node="%s"} 1' % n, lines)
            # a second file system goes where there is room
            fs2 = c.create_file_system(**dict(SCRATCH2, StorageCapacity=1200))[
                'FileSystem']['FileSystemId']
            d.wait_state(c, fs2, 'AVAILABLE')
            # delete ends the processes on every node and removes their stores
            for f in (fs_id, fs2):
                c.delete_file_system(FileSystemId=f)
            for f in (fs_id, fs2):
                d.wait_gone(c, f)
            self.assertEqual(pids_under(top), [])
            for n in ('n1', 'n2', 'n3'):
                self.assertEqual(os.listdir(os.path.join(top, n, 'fs')), [])
        finally:
            d.stop()
            for pid, _ in pids_under(top):
                os.kill(pid, signal.SIGKILL)
            subprocess.run(['rm', '-rf', top])
