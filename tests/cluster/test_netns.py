"""The emulated cluster's infrastructure (tests/cluster/netns.sh, issue 13):
network namespaces as hosts on one bridge, sshd on each storage node.

  netns-1  every storage node takes the generated key over ssh from fsx-ctl,
           and the command runs in that node's namespace
  netns-2  fsx-cl reaches every storage node's address
  netns-3  node-down makes n2 unreachable while its sshd goes on running;
           node-up brings it back; n1 and n3 stay reachable throughout
  netns-4  env and fsxd-conf print what the tests and fsxd's ssh driver use
  netns-5  the root namespace gets no bridge, interface or 10.77 address
  netns-6  down leaves no namespace, bridge, sshd or state dir; twice is fine

Needs root and `ip netns`; skipped otherwise. The state dir is its own
(FSX_CLUSTER_DIR=/tmp/fsx-cluster-test), but the namespace names are fixed:
it is skipped, rather than tearing it down, when a cluster it did not make
(make cluster) is up.
"""
import os
import shlex
import shutil
import subprocess
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS = os.path.join(HERE, 'netns.sh')
STATE = '/tmp/fsx-cluster-test'
NAMESPACES = ['fsx-br', 'fsx-ctl', 'fsx-n1', 'fsx-n2', 'fsx-n3', 'fsx-cl']
ADDR = {'n1': '10.77.0.11', 'n2': '10.77.0.12', 'n3': '10.77.0.13'}
ENV = dict(os.environ, FSX_CLUSTER_DIR=STATE, FSX_BIN='/opt/fsx/bin')


def sh(*args, timeout=60):
    return subprocess.run(['bash', NETNS] + list(args), env=ENV, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)


def namespaces():
    r = subprocess.run(['ip', 'netns', 'list'], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, universal_newlines=True)
    return {l.split()[0] for l in r.stdout.splitlines() if l.strip()}


def tcp_ok(ns, addr, port=22, secs=2):
    return subprocess.run(
        ['ip', 'netns', 'exec', ns, 'timeout', str(secs), 'bash', '-c',
         'exec 3<>/dev/tcp/%s/%d' % (addr, port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def ssh(node, cmd, secs=5, strict=False):
    known = ['-o', 'StrictHostKeyChecking=yes',
             '-o', 'UserKnownHostsFile=%s/known_hosts' % STATE] if strict else \
        ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null']
    return subprocess.run(
        ['ip', 'netns', 'exec', 'fsx-ctl', 'ssh', '-i', STATE + '/id_ed25519',
         '-o', 'BatchMode=yes'] + known + ['-o', 'LogLevel=ERROR',
         '-o', 'ConnectTimeout=%d' % secs, 'root@' + ADDR[node], cmd],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, universal_newlines=True, timeout=secs + 5)


def live_sshds():
    """Live (not zombie) sshd processes whose command line names STATE."""
    out = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmd = f.read().replace(b'\0', b' ').decode(errors='replace')
            with open('/proc/%s/stat' % pid) as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if 'sshd' in cmd and STATE in cmd and state != 'Z':
            out.append((int(pid), cmd))
    return out


def skip_reason():
    if os.geteuid() != 0:
        return 'needs root (network namespaces, sshd)'
    if shutil.which('ip') is None:
        return 'no ip command (iproute2)'
    r = subprocess.run(['ip', 'netns', 'list'], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0:
        return 'ip netns unavailable: %s' % r.stderr.strip()
    if not os.access('/usr/sbin/sshd', os.X_OK) or shutil.which('ssh') is None:
        return 'no sshd or ssh: sh tools/deps.sh iproute2 openssh-client openssh-server'
    if namespaces() & set(NAMESPACES) and not os.path.exists(STATE + '/.fsx-cluster'):
        return 'a cluster this test did not make is up (make cluster-down first)'
    return None


@unittest.skipIf(skip_reason() is not None, skip_reason() or '')
class NetnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        t0 = time.monotonic()
        r = sh('up')
        cls.up_secs = time.monotonic() - t0
        if r.returncode != 0:
            sh('down')
            raise AssertionError('netns.sh up failed:\n' + r.stdout)
        cls.sshd_pids = {}
        for n in ADDR:
            with open('%s/ssh/%s/sshd.pid' % (STATE, n)) as f:
                cls.sshd_pids[n] = int(f.read().split()[0])

    @classmethod
    def tearDownClass(cls):
        sh('down')		# a no-op after test_z_down

    def test_netns_1_ssh_every_node(self):
        for n in ADDR:
            r = ssh(n, 'ip netns identify $$; echo $(id -u)')
            self.assertEqual(r.returncode, 0, '%s: %s' % (n, r.stderr))
            self.assertEqual(r.stdout.split(), ['fsx-' + n, '0'], n)
        # the host keys in STATE/known_hosts are the nodes' own
        r = ssh('n3', 'true', strict=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_netns_2_client_reaches_nodes(self):
        for n, a in ADDR.items():
            self.assertTrue(tcp_ok('fsx-cl', a), 'fsx-cl cannot reach %s %s:22' % (n, a))

    def test_netns_3_node_down_up(self):
        r = sh('node-down', 'n2')
        self.assertEqual(r.returncode, 0, r.stdout)
        try:
            self.assertFalse(tcp_ok('fsx-cl', ADDR['n2'], secs=1), 'n2 reachable while down')
            self.assertNotEqual(ssh('n2', 'true', secs=1).returncode, 0)
            os.kill(self.sshd_pids['n2'], 0)	# its sshd goes on
            self.assertTrue(tcp_ok('fsx-cl', ADDR['n1']))
            self.assertTrue(tcp_ok('fsx-ctl', ADDR['n3']))
        finally:
            r = sh('node-up', 'n2')
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertTrue(tcp_ok('fsx-cl', ADDR['n2'], secs=5), 'n2 unreachable after node-up')
        self.assertEqual(ssh('n2', 'true').returncode, 0)

    def test_netns_4_env_and_fsxd_conf(self):
        r = sh('env')
        self.assertEqual(r.returncode, 0)
        env = {}
        for line in r.stdout.splitlines():
            k, v = shlex.split(line)[1].split('=', 1)
            env[k] = v
        self.assertEqual(env['FSX_CLUSTER_DIR'], STATE)
        self.assertEqual(env['FSX_CLUSTER_KEY'], STATE + '/id_ed25519')
        self.assertEqual(env['FSX_CLUSTER_KNOWN_HOSTS'], STATE + '/known_hosts')
        self.assertTrue(os.path.exists(env['FSX_CLUSTER_KEY'] + '.pub'))
        self.assertEqual(env['FSX_NODES'].split(), ['n1', 'n2', 'n3'])
        self.assertEqual(env['FSX_CTL_ADDR'], '10.77.0.10')
        self.assertEqual(env['FSX_CLIENT_ADDR'], '10.77.0.20')
        want = []
        for n, a in ADDR.items():
            u = n.upper()
            self.assertEqual(env['FSX_NODE_%s_ADDR' % u], a)
            self.assertEqual(env['FSX_NODE_%s_DIR' % u], '%s/%s' % (STATE, n))
            self.assertTrue(os.path.isdir(env['FSX_NODE_%s_DIR' % u]))
            want.append('node = %s driver=ssh host=root@%s address=%s dir=%s/%s'
                        ' bin=/opt/fsx/bin capacity=9600 key=%s/id_ed25519'
                        % (n, a, a, STATE, n, STATE))
        r = sh('fsxd-conf')
        self.assertEqual(r.stdout.splitlines(), want)

    def test_netns_5_root_namespace_untouched(self):
        r = subprocess.run(['ip', '-br', 'addr'], stdout=subprocess.PIPE,
                           universal_newlines=True)
        self.assertNotIn('10.77.0.', r.stdout)
        self.assertNotIn('fsxbr0', r.stdout)
        self.assertNotIn('v-n1', r.stdout)

    def test_z_down(self):
        self.assertLess(self.up_secs, 20, 'netns.sh up took %.1f s' % self.up_secs)
        r = sh('down')
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(namespaces() & set(NAMESPACES), set())
        self.assertFalse(os.path.exists(STATE))
        deadline = time.monotonic() + 3
        while live_sshds() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(live_sshds(), [])
        for n, pid in self.sshd_pids.items():
            try:
                with open('/proc/%d/stat' % pid) as f:
                    st = f.read().rsplit(')', 1)[1].split()[0]
            except OSError:
                continue
            self.assertEqual(st, 'Z', '%s sshd pid %d still running' % (n, pid))
        r = sh('down')		# twice is fine
        self.assertEqual(r.returncode, 0, r.stdout)
