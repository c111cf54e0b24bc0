#!/usr/bin/env python3
"""Peers in the same run (make bench PEERS=1): the parallel file systems a
user would otherwise run, on this machine, beside fsx-local and libfuse's
passthrough_ll, all over the same disk, with the same jobs interleaved:

  fsx        fsx-local's engine: 1 MDS, 4 OSTs on 2 OSSes, 4 stripes of 1 MiB
  gluster    GlusterFS (Debian glusterfs-server): a distributed volume of 4
             bricks on this host, FUSE-mounted (mount -t glusterfs)
  moosefs    MooseFS (Debian moosefs-master, -chunkserver, -client): a master
             and 4 chunk servers on this host, mfsmount
  passthrough  libfuse's passthrough_ll (the FUSE floor)

Jobs (fio psync, and the mdtest-like loop of engine_bench.metadata):
sequential 1 MiB write + cold read, 4 KiB random read, create/stat/unlink of
BENCH_PEER_FILES files. Medians of BENCH_REPS. The peers are installed with
apt when missing (root), brought up under a temporary directory and torn
down at the end, whatever happens.

MooseFS refuses loopback addresses, so it binds the host's first global
IPv4 address. Writes bench/results/peers-<date>.json with a table that
bench/report.py shows."""
import datetime
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import engine_bench as eb  # noqa: E402
from tests.fs import engine as eng  # noqa: E402

QUICK = os.environ.get('QUICK') == '1'
REPS = int(os.environ.get('BENCH_REPS', '1' if QUICK else '3'))
SEQ_MB = int(os.environ.get('BENCH_PEER_MB', '256' if QUICK else '1024'))
NFILES = int(os.environ.get('BENCH_PEER_FILES', '1000' if QUICK else '5000'))
RAND_SECS = 3 if QUICK else 5
NBRICK = 4
MiB = 1024 * 1024
PKGS = ['glusterfs-server', 'glusterfs-client', 'moosefs-master', 'moosefs-chunkserver',
        'moosefs-client']


def sh(*argv, check=True):
    r = subprocess.run(list(argv), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError('%s: %s %s' % (' '.join(argv), r.stdout[-1000:], r.stderr[-1000:]))
    return r.stdout


def host_ip():
    for a in sh('hostname', '-I').split():
        if '.' in a and not a.startswith('127.'):
            return a
    raise RuntimeError('moosefs needs a non-loopback IPv4 address')


class Gluster:
    name = 'gluster'

    def __init__(self, work):
        self.work = os.path.join(work, 'gluster')
        self.mnt = os.path.join(self.work, 'mnt')
        os.makedirs(self.mnt)
        self.host = socket.gethostname()
        sh('glusterd', '-p', os.path.join(self.work, 'glusterd.pid'),
           '--log-file=' + os.path.join(self.work, 'glusterd.log'))
        for _ in range(50):
            if subprocess.run(['gluster', '--mode=script', 'volume', 'list'],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        bricks = []
        for i in range(NBRICK):
            b = os.path.join(self.work, 'brick%d' % i)
            os.makedirs(b)
            bricks.append('%s:%s' % (self.host, b))
        sh('gluster', '--mode=script', 'volume', 'create', 'fsxbench', 'transport', 'tcp',
           *bricks, 'force')
        sh('gluster', '--mode=script', 'volume', 'start', 'fsxbench')
        sh('mount', '-t', 'glusterfs', '%s:/fsxbench' % self.host, self.mnt)

    def stop(self):
        subprocess.run(['umount', self.mnt], capture_output=True)
        subprocess.run(['gluster', '--mode=script', 'volume', 'stop', 'fsxbench', 'force'],
                       capture_output=True)
        subprocess.run(['gluster', '--mode=script', 'volume', 'delete', 'fsxbench'],
                       capture_output=True)
        subprocess.run(['pkill', '-x', 'glusterfsd'], capture_output=True)
        subprocess.run(['pkill', '-x', 'glusterd'], capture_output=True)
        subprocess.run(['pkill', '-f', 'glusterfs.*fsxbench'], capture_output=True)


class Moose:
    name = 'moosefs'

    def __init__(self, work):
        self.work = os.path.join(work, 'moosefs')
        self.mnt = os.path.join(self.work, 'mnt')
        ip = self.ip = host_ip()
        os.makedirs(os.path.join(self.work, 'master'))
        os.makedirs(self.mnt)
        shutil.copy('/var/lib/mfs/metadata.mfs.empty',
                    os.path.join(self.work, 'master', 'metadata.mfs'))
        with open(os.path.join(self.work, 'exports.cfg'), 'w') as f:
            f.write('* / rw,alldirs,maproot=0\n')
        self.master = os.path.join(self.work, 'master.cfg')
        with open(self.master, 'w') as f:
            f.write('WORKING_USER = root\nWORKING_GROUP = root\nDATA_PATH = %s\n'
                    'EXPORTS_FILENAME = %s\nMATOCS_LISTEN_HOST = %s\nMATOCL_LISTEN_HOST = %s\n'
                    'MATOML_LISTEN_HOST = %s\n' % (os.path.join(self.work, 'master'),
                                                   os.path.join(self.work, 'exports.cfg'),
                                                   ip, ip, ip))
        sh('mfsmaster', '-c', self.master, 'start')
        self.cs = []
        for i in range(NBRICK):
            d = os.path.join(self.work, 'cs%d' % i)
            os.makedirs(os.path.join(d, 'data'))
            with open(os.path.join(d, 'hdd.cfg'), 'w') as f:
                f.write(os.path.join(d, 'data') + '\n')
            cfg = os.path.join(d, 'cs.cfg')
            with open(cfg, 'w') as f:
                f.write('WORKING_USER = root\nWORKING_GROUP = root\nDATA_PATH = %s\n'
                        'HDD_CONF_FILENAME = %s\nMASTER_HOST = %s\nCSSERV_LISTEN_PORT = %d\n'
                        'BIND_HOST = %s\n' % (d, os.path.join(d, 'hdd.cfg'), ip, 9440 + i, ip))
            sh('mfschunkserver', '-c', cfg, 'start')
            self.cs.append(cfg)
        time.sleep(2)
        sh('mfsmount', self.mnt, '-H', ip)
        eng.wait_for(lambda: eng.is_mounted(self.mnt), 10, 'mfsmount')
        # chunk servers register asynchronously; wait until writes land
        for _ in range(100):
            try:
                with open(os.path.join(self.mnt, '.probe'), 'wb') as f:
                    f.write(b'x' * 65536)
                    f.flush()
                    os.fsync(f.fileno())
                os.unlink(os.path.join(self.mnt, '.probe'))
                break
            except OSError:
                time.sleep(0.2)

    def stop(self):
        subprocess.run(['umount', self.mnt], capture_output=True)
        for cfg in self.cs:
            subprocess.run(['mfschunkserver', '-c', cfg, 'stop'], capture_output=True)
        subprocess.run(['mfsmaster', '-c', self.master, 'stop'], capture_output=True)


def jobs(d, tag):
    """One rep of every job on directory d; {figure: value}."""
    sub = os.path.join(d, 'b')
    os.makedirs(sub, exist_ok=True)
    f = os.path.join(sub, 'seq.dat')
    w = eb.fio('w', f, 'write', '1M', SEQ_MB, ['--end_fsync=1'])
    eb.drop_caches()
    r = eb.fio('r', f, 'read', '1M', SEQ_MB)
    eb.drop_caches()
    rr = eb.fio('rr', f, 'randread', '4k', SEQ_MB, ['--time_based', '--runtime=%d' % RAND_SECS])
    os.unlink(f)
    c, s, u = eb.metadata(os.path.join(sub, 'md'), NFILES)
    out = {'seq_write_mibps': w['mbps'], 'seq_read_mibps': r['mbps'],
           'rand4k_read_iops': rr['iops'], 'create_ops': c, 'stat_ops': s, 'unlink_ops': u}
    eb.log('%s: %s' % (tag, ', '.join('%s %.0f' % kv for kv in sorted(out.items()))))
    return out


def main():
    if os.geteuid() != 0:
        sys.exit('peers bench: run as root')
    subprocess.run(['sh', os.path.join(os.path.dirname(HERE), 'tools', 'deps.sh')] + PKGS,
                   check=True)
    work = tempfile.mkdtemp(prefix='fsx-peers-', dir=eb.BASE)
    subjects = {}
    got = {}
    e = None
    try:
        e = eng.Engine(n_ost=NBRICK, n_oss=2, ost_capacity=64 * 1024 ** 3, base=work).start()
        m = e.mount('fsx')
        d = os.path.join(m, 'bench')
        os.mkdir(d)
        eng.set_layout(d, NBRICK, MiB)
        subjects['fsx'] = (d, None)
        pt = eb.Passthrough(os.path.join(work, 'ptsrc'), os.path.join(work, 'pt'))
        subjects['passthrough'] = (pt.mnt, pt)
        for cls in (Gluster, Moose):
            try:
                p = cls(work)
                subjects[p.name] = (p.mnt, p)
            except Exception as ex:  # a peer that will not start is reported, not fatal
                eb.log('%s did not start: %s' % (cls.name, ex))
                got[cls.name] = None
        for i in range(REPS):
            for name, (d, _) in subjects.items():
                for k, v in jobs(d, '%s rep %d' % (name, i)).items():
                    got.setdefault(name, {}).setdefault(k, []).append(v)
    finally:
        for name, (_, p) in subjects.items():
            if p is not None:
                p.stop()
        if e:
            e.stop()
        shutil.rmtree(work, ignore_errors=True)
    res = {'date': datetime.datetime.now().isoformat(timespec='seconds'),
           'host': os.uname().nodename, 'reps': REPS, 'seq_mb': SEQ_MB, 'files': NFILES,
           'figures': {}, 'samples': {}, 'table': []}
    for name, figs in got.items():
        for k, xs in (figs or {}).items():
            res['figures']['%s.%s' % (k, name)] = statistics.median(xs)
            res['samples']['%s.%s' % (k, name)] = xs
    F = res['figures']
    for k in ('seq_write_mibps', 'seq_read_mibps', 'rand4k_read_iops', 'create_ops',
              'stat_ops', 'unlink_ops'):
        ours = F.get('%s.fsx' % k)
        for peer in ('gluster', 'moosefs', 'passthrough'):
            b = F.get('%s.%s' % (k, peer))
            res['table'].append({'figure': k, 'ours': '%.0f' % ours if ours else 'not measured',
                                 'baseline': '%s %.0f' % (peer, b) if b else
                                 '%s not measured' % peer,
                                 'ratio': '%.2f' % (ours / b) if ours and b else '—'})
    print('%-18s %10s %10s %10s %12s' % ('figure', 'fsx', 'gluster', 'moosefs', 'passthrough'))
    for k in ('seq_write_mibps', 'seq_read_mibps', 'rand4k_read_iops', 'create_ops',
              'stat_ops', 'unlink_ops'):
        print('%-18s %10s %10s %10s %12s' % ((k,) + tuple(
            '%.0f' % F['%s.%s' % (k, n)] if '%s.%s' % (k, n) in F else '-'
            for n in ('fsx', 'gluster', 'moosefs', 'passthrough'))))
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    path = os.path.join(HERE, 'results', 'peers-%s.json' % time.strftime('%Y%m%d-%H%M%S'))
    with open(path, 'w') as f:
        json.dump(res, f, indent=1, sort_keys=True)
    print('results: ' + path)


if __name__ == '__main__':
    main()
