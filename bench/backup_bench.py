#!/usr/bin/env python3
"""Backup figures (docs/backups.md), each beside a baseline measured in the
same run on the same disk:

  backup      a file system holding SIZE in FILES files (default 1 GiB in
              1,000): CreateBackup -> AVAILABLE, beside `tar -cf` of the
              same tree to the same disk (+ sync, as the backup syncs);
              both read the disk, not the page cache (the OSS writes
              large transfers O_DIRECT; the tree is evicted before tar)
  incremental after changing 1% of the files: seconds and bytes stored
              (du of STATE/backups before and after)
  restore     CreateFileSystemFromBackup -> AVAILABLE, beside `tar -xf`
              of an evicted archive (+ sync); the restore links objects of
              up to 64 MiB (copy-on-write, docs/backups.md), copies larger
  pause       the longest a client appending 4 KiB records (open, write,
              close) waits during a backup, beside the longest it waits
              over the same time without one; and the same for a client
              writing each record to a new file (create, write, close), which
              no copy-up touches: what the snapshot's hold itself costs

Usage: bench/backup_bench.py [--mib 1024] [--files 1000]
Writes bench/results/backup-<time>.json and .txt."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)
from tests.fsxlib import BIN, Fsxd  # noqa: E402

SUBNET = ['subnet-0123456789abcdef0']
P1 = dict(FileSystemType='LUSTRE', StorageCapacity=4800, SubnetIds=SUBNET,
          LustreConfiguration={'DeploymentType': 'PERSISTENT_1',
                               'PerUnitStorageThroughput': 50})


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def evict(path):
    """Drop a tree's pages from the cache (after a sync), so a baseline
    reads the disk as the backup reads objects the OSS wrote O_DIRECT."""
    for dirpath, _, files in os.walk(path) if os.path.isdir(path) else [('', [], [path])]:
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def du(path):
    out = subprocess.run(['du', '-s', '--block-size=1', path], capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[0])


class Bench:
    def __init__(self, mib, files):
        self.mib, self.files = mib, files
        self.work = tempfile.mkdtemp(prefix='fsx-bkbench-')
        os.mkdir(os.path.join(self.work, 'state'))
        self.d = Fsxd('--log-level', 'info', state=os.path.join(self.work, 'state'))
        self.c = self.d.client()
        self.mnt = os.path.join(self.work, 'mnt')
        os.mkdir(self.mnt)
        self.mounted = False

    def mount(self, fs_id):
        env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
                   AWS_DEFAULT_REGION='us-east-1')
        subprocess.run([os.path.join(BIN, 'fsx-mount'), '--endpoint-url', self.d.url,
                        fs_id, self.mnt], check=True, env=env, capture_output=True)
        self.mounted = True

    def umount(self):
        if self.mounted:
            subprocess.run(['fusermount3', '-u', self.mnt], capture_output=True)
            self.mounted = False

    def wait_backup(self, bid):
        while True:
            b = self.c.describe_backups(BackupIds=[bid])['Backups'][0]
            if b['Lifecycle'] in ('AVAILABLE', 'FAILED'):
                if b['Lifecycle'] == 'FAILED':
                    raise RuntimeError(b.get('FailureDetails'))
                return b
            time.sleep(0.02)

    def backup(self, fs_id):
        bid = self.c.create_backup(FileSystemId=fs_id)['Backup']['BackupId']
        self.wait_backup(bid)
        return bid

    def run(self):
        r = dict(mib=self.mib, files=self.files)
        src = os.path.join(self.work, 'tree')
        os.mkdir(src)
        per = self.mib * 2 ** 20 // self.files
        for i in range(self.files):
            d = os.path.join(src, 'd%02d' % (i % 50))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, 'f%04d' % i), 'wb') as f:
                f.write(os.urandom(per))
        sh('sync')
        fs_id = self.c.create_file_system(**P1)['FileSystem']['FileSystemId']
        self.d.wait_state(self.c, fs_id, 'AVAILABLE', 60)
        self.mount(fs_id)
        sh('cp', '-a', src + '/.', self.mnt)
        self.umount()
        sh('sync')
        # baseline: tar of the same tree to the same disk
        tarf = os.path.join(self.work, 'tree.tar')
        evict(src)
        r['tar_c_s'] = timed(lambda: (sh('tar', '-cf', tarf, '-C', src, '.'), sh('sync')))
        store = os.path.join(self.d.state, 'backups')
        r['backup_s'] = timed(lambda: self.backup(fs_id))
        r['backup_bytes'] = du(store)
        r['backup_vs_tar'] = r['backup_s'] / r['tar_c_s']
        # incremental: 1% of the files rewritten
        self.mount(fs_id)
        for i in range(0, self.files, 100):
            p = os.path.join(self.mnt, 'd%02d' % (i % 50), 'f%04d' % i)
            with open(p, 'r+b') as f:
                f.write(os.urandom(per))
        self.umount()
        sh('sync')
        before = du(store)
        r['incr_s'] = timed(lambda: self.backup(fs_id))
        r['incr_bytes'] = du(store) - before
        r['incr_changed_bytes'] = per * len(range(0, self.files, 100))
        # pause seen by a writing client: without, then during a backup
        self.mount(fs_id)
        r['pause_idle_ms'], _ = self.writer_pause(lambda: time.sleep(r['incr_s'] + 1))
        bid = [None]
        r['pause_backup_ms'], r['pause_records'] = self.writer_pause(
            lambda: bid.__setitem__(0, self.backup(fs_id)))
        r['pause_new_idle_ms'], _ = self.writer_pause(
            lambda: time.sleep(r['incr_s'] + 1), new_files=True)
        r['pause_new_backup_ms'], r['pause_new_records'] = self.writer_pause(
            lambda: self.c.delete_backup(BackupId=self.backup(fs_id)), new_files=True)
        self.umount()
        r['mds_hold_us'] = self.engine_hold(fs_id)
        # restore vs tar -x
        dest = os.path.join(self.work, 'untar')
        os.mkdir(dest)
        evict(tarf)
        r['tar_x_s'] = timed(lambda: (sh('tar', '-xf', tarf, '-C', dest), sh('sync')))

        def restore():
            fs = self.c.create_file_system_from_backup(BackupId=bid[0], SubnetIds=SUBNET)
            self.d.wait_state(self.c, fs['FileSystem']['FileSystemId'], 'AVAILABLE', 600)
        r['restore_s'] = timed(restore)
        r['restore_vs_tar_x'] = r['restore_s'] / r['tar_x_s']
        return r

    def writer_pause(self, during, new_files=False):
        stop = threading.Event()
        st = dict(max=0.0, n=0)
        path = os.path.join(self.mnt, 'pause.log')
        if new_files:
            os.makedirs(os.path.join(self.mnt, 'pause.d'), exist_ok=True)

        def writer():
            rec = os.urandom(4096)
            while not stop.is_set():
                p = os.path.join(self.mnt, 'pause.d', 'r%d' % st['n']) if new_files else path
                t0 = time.monotonic()
                fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                os.write(fd, rec)
                os.close(fd)
                st['max'] = max(st['max'], time.monotonic() - t0)
                st['n'] += 1
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.3)
        st['max'] = 0.0
        try:
            during()
        finally:
            stop.set()
            t.join()
        return st['max'] * 1000, st['n']

    def engine_hold(self, fs_id):
        """The MDS's namespace hold of the last snapshot (its log line;
        the OSS freeze lies inside it)."""
        hold = None
        logdir = os.path.join(self.d.state, 'run', fs_id)
        for name in os.listdir(logdir):
            if name.startswith('mds') and name.endswith('.log'):
                for line in open(os.path.join(logdir, name), errors='replace'):
                    if 'namespace held' in line:
                        hold = int(line.rsplit('held', 1)[1].split()[0])
        return hold

    def close(self):
        if os.environ.get('FSX_BENCH_LOG'):
            os.system("grep -h 'job_backup:\\|held' %s/fsxd.log %s/run/*/*.log" % (
                self.d.state, self.d.state))
        self.umount()
        self.d.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mib', type=int, default=1024)
    ap.add_argument('--files', type=int, default=1000)
    a = ap.parse_args()
    b = Bench(a.mib, a.files)
    try:
        r = b.run()
    finally:
        b.close()
    stamp = time.strftime('%Y%m%d-%H%M%S', time.gmtime())
    out = os.path.join(TOP, 'bench', 'results', 'backup-%s' % stamp)
    json.dump(r, open(out + '.json', 'w'), indent=1)
    text = (
        'backup of %(mib)d MiB in %(files)d files: %(backup_s).2f s;'
        ' tar -cf of the same tree: %(tar_c_s).2f s (ratio %(backup_vs_tar).2f)\n'
        'incremental after 1%% changed (%(incr_changed_bytes)d bytes): %(incr_s).2f s,'
        ' %(incr_bytes)d bytes stored\n'
        'restore to AVAILABLE: %(restore_s).2f s; tar -xf: %(tar_x_s).2f s'
        ' (ratio %(restore_vs_tar_x).2f)\n'
        'longest append+close of a writing client: %(pause_backup_ms).1f ms during a'
        ' backup (%(pause_records)d records), %(pause_idle_ms).1f ms without;'
        ' MDS namespace hold %(mds_hold_us)s us\n'
        'longest create+write+close of a client writing new files: %(pause_new_backup_ms).1f ms'
        ' during a backup (%(pause_new_records)d files), %(pause_new_idle_ms).1f ms without\n') % r
    open(out + '.txt', 'w').write(text)
    sys.stdout.write(text)


if __name__ == '__main__':
    main()
