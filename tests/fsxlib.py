"""Shared helpers for integration tests: start a real fsxd on a free
loopback port with a throwaway state dir, and talk to it with the real
aws CLI and boto3."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import boto3
import botocore.config

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get('FSX_BIN', os.path.join(TOP, 'build', 'bin'))
REGION = 'us-east-1'


def engine_procs(path):
    """(pid, kind, argv) of the live fsx-mds, fsx-oss and fsx-hsm processes whose
    command line names path (zombies left out)."""
    out = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            argv = open('/proc/%s/cmdline' % pid, 'rb').read().split(b'\0')
            stat = open('/proc/%s/stat' % pid).read()
        except OSError:
            continue
        if stat.rsplit(')', 1)[1].split()[0] == 'Z' or not argv[0]:
            continue
        argv = [a.decode(errors='replace') for a in argv if a]
        kind = os.path.basename(argv[0])
        if kind in ('fsx-mds', 'fsx-oss', 'fsx-hsm') and path in ' '.join(argv):
            out.append((int(pid), kind, argv))
    return out


class Fsxd:
    """One fsxd process. Engine processes it starts outlive it (as they
    must, to be adopted after a restart); stop() kills them too."""

    def __init__(self, *args, state=None, env=None):
        self.state = state or tempfile.mkdtemp(prefix='fsxd-test-')
        self.args = list(args)
        self.env = env
        self.proc = None
        self.port = None
        self.start()

    def start(self, port=None):
        cmd = [os.path.join(BIN, 'fsxd'), '--port', str(port if port else (self.port or 0)),
               '--state-dir', self.state, '--log-level', 'warn'] + self.args
        env = dict(os.environ)
        env.update(self.env or {})
        self.log = open(os.path.join(self.state, 'fsxd.log'), 'ab')
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self.proc.stdout.readline().decode()
        if not line.startswith('fsxd ready on'):
            self.proc.kill()
            raise RuntimeError('fsxd did not start: %r; log: %s' % (
                line, open(os.path.join(self.state, 'fsxd.log')).read()[-2000:]))
        self.port = int(line.strip().rsplit(':', 1)[1])
        self.url = 'http://127.0.0.1:%d' % self.port

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def engine_pids(self, fs_id=None):
        """Live engine processes (fsx-mds, fsx-oss) under this state dir."""
        return [(pid, kind) for pid, kind, argv in engine_procs(self.state)
                if fs_id is None or fs_id in ' '.join(argv)]

    def stop(self):
        self.terminate()
        for pid, _ in self.engine_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.state, ignore_errors=True)

    def client(self, key='test', secret='test', region=REGION, token=None):
        return boto3.client('fsx', endpoint_url=self.url, region_name=region,
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            aws_session_token=token,
                            config=botocore.config.Config(retries={'max_attempts': 1}))

    def cli(self, *args, key='test', secret='test', region=REGION):
        """Run `aws fsx ...`; returns (rc, parsed stdout or None, stderr)."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_DEFAULT_REGION=region, AWS_PAGER='', AWS_MAX_ATTEMPTS='1')
        env.pop('AWS_SESSION_TOKEN', None)
        env.pop('AWS_PROFILE', None)
        p = subprocess.run(['aws', 'fsx', '--endpoint-url', self.url, '--output', 'json'] + list(args),
                           capture_output=True, env=env, timeout=60)
        out = None
        if p.stdout.strip():
            out = json.loads(p.stdout)
        return p.returncode, out, p.stderr.decode()

    def wait_state(self, client, fs_id, want, timeout=20):
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            fs = client.describe_file_systems(FileSystemIds=[fs_id])['FileSystems'][0]
            if not seen or seen[-1] != fs['Lifecycle']:
                seen.append(fs['Lifecycle'])
            if fs['Lifecycle'] == want:
                return fs, seen
            time.sleep(0.02)
        raise AssertionError('%s never reached %s; saw %s' % (fs_id, want, seen))

    def wait_gone(self, client, fs_id, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                client.describe_file_systems(FileSystemIds=[fs_id])
            except client.exceptions.FileSystemNotFound:
                return
            time.sleep(0.02)
        raise AssertionError('%s was not deleted' % fs_id)


SCRATCH2 = dict(FileSystemType='LUSTRE', StorageCapacity=1200,
                SubnetIds=['subnet-0123456789abcdef0'],
                LustreConfiguration={'DeploymentType': 'SCRATCH_2'})
