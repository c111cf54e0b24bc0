"""A dev cluster end to end (issue 13): fsxd in one namespace provisions a
file system's MDS and OSSes on three storage nodes over ssh (the `ssh`
driver running fsx-node there), a client in a fourth namespace mounts it.

  cluster-1  4 OSTs placed over the three nodes, each bound to its node's
             address; striped data written and read back from the client
  cluster-2  a node taken off the network during I/O: reads that need its
             OST wait (EIO on a mount whose retry= ran out), another OST
             keeps serving, fsxd reports the node down; its OSS dies while
             it is away; when it returns fsxd restarts the OSS there and
             the waiting read completes, intact
  cluster-3  fsxd killed -9 and restarted while the remote processes keep
             running: it adopts them (same pids), the mount never notices
  cluster-4  DeleteFileSystem ends the processes on every node and removes
             their stores

Needs root, `ip netns`, sshd and FUSE; skipped otherwise, and skipped (not
torn down) when a cluster it did not make (make cluster) is up.
"""
import filecmp
import json
import os
import subprocess
import tempfile
import time
import unittest

from tests.fsxlib import engine_procs

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
NETNS = os.path.join(HERE, 'netns.sh')
STATE = '/tmp/fsx-cluster-e2e'
BIN = os.environ.get('FSX_BIN', os.path.join(TOP, 'build', 'bin'))
ENV = dict(os.environ, FSX_CLUSTER_DIR=STATE, FSX_BIN=BIN, FSX_PORT='4566',
           AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
           AWS_DEFAULT_REGION='us-east-1', AWS_PAGER='', AWS_MAX_ATTEMPTS='1')
URL = 'http://10.77.0.10:4566'
NODES = {'n1': '10.77.0.11', 'n2': '10.77.0.12', 'n3': '10.77.0.13'}


def sh(*args, timeout=120):
    return subprocess.run(['bash', NETNS] + list(args), env=ENV, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


def aws(*args):
    p = subprocess.run(['ip', 'netns', 'exec', 'fsx-cl', 'aws', 'fsx', '--endpoint-url',
                        URL, '--output', 'json'] + list(args), env=ENV,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError('aws %s: %s' % (args[0], p.stderr))
    return json.loads(p.stdout) if p.stdout.strip() else None


def metrics():
    return subprocess.run(['ip', 'netns', 'exec', 'fsx-ctl', 'curl', '-s', URL + '/metrics'],
                          capture_output=True, text=True, timeout=20).stdout


def engines():
    """(pid, kind, node) of live engine processes under STATE."""
    out = []
    for pid, kind, argv in engine_procs(STATE):
        line = ' '.join(argv)
        node = [n for n in NODES if '%s/%s/' % (STATE, n) in line]
        out.append((pid, kind, node[0] if node else None))
    return out


def usable():
    if os.geteuid() != 0:
        return 'needs root'
    for tool in ('ip', '/usr/sbin/sshd', 'aws', 'curl', 'nsenter'):
        if subprocess.run(['sh', '-c', 'command -v %s' % tool],
                          capture_output=True).returncode != 0:
            return 'needs %s' % tool
    if not os.path.exists('/dev/fuse'):
        return 'needs /dev/fuse'
    r = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True)
    if 'fsx-ctl' in r.stdout:
        return 'a cluster is already up (make cluster-down first)'
    return None


@unittest.skipIf(usable(), usable())
class Cluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = sh('up')
        if r.returncode != 0:
            sh('down')
            raise AssertionError('netns up: ' + r.stdout)
        r = sh('fsxd-start')
        if r.returncode != 0:
            sh('down')
            raise AssertionError('fsxd-start: ' + r.stdout)
        cls.mnt = tempfile.mkdtemp(prefix='fsx-cl-mnt-')
        cls.mounted = False

    @classmethod
    def tearDownClass(cls):
        if cls.mounted:
            subprocess.run(['umount', '-l', cls.mnt], capture_output=True)
        sh('fsxd-stop')
        sh('down')
        os.rmdir(cls.mnt)

    def wait_available(self, fs_id, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            fs = aws('describe-file-systems', '--file-system-ids', fs_id)['FileSystems'][0]
            if fs['Lifecycle'] in ('AVAILABLE', 'FAILED'):
                return fs
            time.sleep(0.5)
        raise AssertionError('%s not AVAILABLE' % fs_id)

    def test_cluster(self):
        cls = type(self)
        # cluster-1
        fs = aws('create-file-system', '--file-system-type', 'LUSTRE',
                 '--storage-capacity', '4800', '--subnet-ids', 'subnet-0123456789abcdef0',
                 '--lustre-configuration', 'DeploymentType=SCRATCH_2')['FileSystem']
        fs_id = fs['FileSystemId']
        fs = self.wait_available(fs_id)
        self.assertEqual(fs['Lifecycle'], 'AVAILABLE', fs)
        procs = engines()
        osses = [n for _, k, n in procs if k == 'fsx-oss']
        self.assertEqual(len(osses), 4, procs)
        self.assertEqual(sorted(set(osses)), ['n1', 'n2', 'n3'])
        for pid, kind, node in procs:
            argv = open('/proc/%d/cmdline' % pid, 'rb').read().split(b'\0')
            listen = argv[argv.index(b'--listen') + 1].decode()
            self.assertEqual(listen.split(':')[0], NODES[node])
        p = subprocess.run(['nsenter', '--net=/run/netns/fsx-cl', os.path.join(BIN, 'fsx-mount'),
                            '-o', 'retry=60', '--endpoint-url', URL, fs_id, cls.mnt],
                           env=ENV, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        cls.mounted = True
        src = os.path.join(STATE, 'src.bin')
        with open(src, 'wb') as f:
            f.write(os.urandom(12 * 1024 * 1024))
        os.mkdir(os.path.join(cls.mnt, 'wide'))
        subprocess.run([os.path.join(BIN, 'lfs'), 'setstripe', '-c', '4', '-S', '1M',
                        os.path.join(cls.mnt, 'wide')], check=True)
        subprocess.run(['cp', src, os.path.join(cls.mnt, 'wide', 'f')], check=True)
        self.assertTrue(filecmp.cmp(src, os.path.join(cls.mnt, 'wide', 'f'), shallow=False))
        # lfs shows which node serves each OST
        df = subprocess.run([os.path.join(BIN, 'lfs'), 'df', '-v', cls.mnt],
                            capture_output=True, text=True, check=True).stdout
        served = {}
        for line in df.splitlines():
            if '[OST:' in line:
                ost = int(line.split('[OST:')[1].split(']')[0])
                served[ost] = line.split()[-1].split(':')[0]
        self.assertEqual(sorted(served), [0, 1, 2, 3], df)
        self.assertEqual(set(served.values()), set(NODES.values()), df)
        gs = subprocess.run([os.path.join(BIN, 'lfs'), 'getstripe', '-v',
                             os.path.join(cls.mnt, 'wide', 'f')],
                            capture_output=True, text=True, check=True).stdout
        rows = [l.split() for l in gs.splitlines() if l.strip() and l.split()[0].isdigit()]
        self.assertEqual(len(rows), 4, gs)
        for r in rows:
            self.assertEqual(r[-1].split(':')[0], served[int(r[0])], gs)
        # one-stripe files, one per OST, to know which survive a node
        for ost in range(4):
            d = os.path.join(cls.mnt, 'ost%d' % ost)
            os.mkdir(d)
            subprocess.run([os.path.join(BIN, 'lfs'), 'setstripe', '-c', '1', '-i', str(ost),
                            d], check=True)
            with open(os.path.join(d, 'f'), 'wb') as f:
                f.write(b'%d' % ost * 100000)
        subprocess.run(['sh', '-c', 'echo 3 > /proc/sys/vm/drop_caches'])
        # cluster-2: which OSTs are on n2
        oss_node = {}
        for pid, kind, node in procs:
            if kind != 'fsx-oss':
                continue
            argv = open('/proc/%d/cmdline' % pid, 'rb').read().split(b'\0')
            for i, a in enumerate(argv):
                if a == b'--ost':
                    oss_node[int(argv[i + 1].split(b':')[0])] = node
        mds_node = [n for _, k, n in procs if k == 'fsx-mds'][0]
        down = [n for n in ('n3', 'n2', 'n1') if n != mds_node and n in oss_node.values()][0]
        lost = [o for o, n in oss_node.items() if n == down]
        kept = [o for o, n in oss_node.items() if n != down]
        # a second mount that gives up after 2 s
        quick = tempfile.mkdtemp(prefix='fsx-cl-quick-')
        p = subprocess.run(['nsenter', '--net=/run/netns/fsx-cl', os.path.join(BIN, 'fsx-mount'),
                            '-o', 'retry=2', '--endpoint-url', URL, fs_id, quick],
                           env=ENV, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(sh('node-down', down).returncode == 0)
        t0 = time.time()
        with self.assertRaises(OSError) as cm:
            with open(os.path.join(quick, 'ost%d' % lost[0], 'f'), 'rb') as f:
                f.read()
        self.assertEqual(cm.exception.errno, 5)            # EIO, after retry=
        self.assertLess(time.time() - t0, 30)
        subprocess.run(['umount', '-l', quick])
        os.rmdir(quick)
        reader = subprocess.Popen(['cat', os.path.join(cls.mnt, 'ost%d' % lost[0], 'f')],
                                  stdout=subprocess.PIPE)
        # the other OSTs keep serving
        for o in kept:
            with open(os.path.join(cls.mnt, 'ost%d' % o, 'f'), 'rb') as f:
                self.assertEqual(f.read(), b'%d' % o * 100000)
        deadline = time.time() + 30
        while time.time() < deadline and 'fsxd_node_up{node="%s"} 0' % down not in metrics():
            time.sleep(0.5)
        self.assertIn('fsxd_node_up{node="%s"} 0' % down, metrics())
        self.assertIsNone(reader.poll(), 'a read on an unreachable OST returned')
        # while the node is away its OSS dies too: it must come back
        gone = [pid for pid, kind, node in engines() if kind == 'fsx-oss' and node == down]
        for pid in gone:
            os.kill(pid, 9)
        self.assertTrue(sh('node-up', down).returncode == 0)
        out, _ = reader.communicate(timeout=60)
        self.assertEqual(out, b'%d' % lost[0] * 100000)
        restarted = [pid for pid, kind, node in engines() if kind == 'fsx-oss' and node == down]
        self.assertEqual(len(restarted), len(gone))
        self.assertFalse(set(restarted) & set(gone))
        deadline = time.time() + 30
        while time.time() < deadline and 'fsxd_node_up{node="%s"} 1' % down not in metrics():
            time.sleep(0.5)
        self.assertIn('fsxd_node_up{node="%s"} 1' % down, metrics())
        # cluster-3
        before = sorted(pid for pid, _, _ in engines())
        subprocess.run(['pkill', '-9', '-f', 'fsxd --listen 10.77.0.10'])
        time.sleep(0.5)
        self.assertEqual(sh('fsxd-start').returncode, 0)
        time.sleep(3)
        self.assertEqual(sorted(pid for pid, _, _ in engines()), before)
        self.assertTrue(filecmp.cmp(src, os.path.join(cls.mnt, 'wide', 'f'), shallow=False))
        # cluster-4
        subprocess.run(['umount', cls.mnt], check=True)
        cls.mounted = False
        aws('delete-file-system', '--file-system-id', fs_id)
        # a node ends the engines, then removes their stores (node_purge):
        # wait for both
        def stores():
            return [(n, x) for n in NODES
                    for x in (os.listdir(os.path.join(STATE, n, 'fs'))
                              if os.path.isdir(os.path.join(STATE, n, 'fs'))
                              else [])]
        deadline = time.time() + 60
        while time.time() < deadline and (engines() or stores()):
            time.sleep(0.5)
        self.assertEqual(engines(), [])
        self.assertEqual(stores(), [])
