#!/usr/bin/env python3
"""Soak: SOAK_SECONDS (default 600) of API calls from several clients and
I/O on two mounted file systems, then the verdict.

  - fsxd with two SCRATCH_2 file systems, each mounted with fsx-mount
    through fsxd (as a user would);
  - SOAK_CLIENTS (default 4) API clients in threads, each looping over
    DescribeFileSystems (all, and by id), TagResource, ListTagsForResource,
    UntagResource and DescribeDataRepositoryTasks, checking each answer
    (its own tags come back exactly);
  - one writer per mount: files of 4 KiB .. 4 MiB of random bytes, fsynced,
    their SHA-256 recorded, read back and checked, the oldest removed so a
    few hundred stay; at the end every remaining file is read back again
    through a new mount of the same file system;
  - every SOAK_SAMPLE seconds (default 10) the RSS of fsxd and of each
    engine process and of fsx-mount, written with the figures to
    bench/results/soak-<date>.json (SOAK_OUT: another directory).
Verdict (exit 1 otherwise): zero failed requests, zero corrupted or lost
bytes, and RSS flat after warm-up (the first third of the samples): no
process's last RSS is more than 25% + 4 MiB over its RSS at the end of
warm-up.

    python3 tests/soak/soak.py            (make soak; make soak-short: 30 s)
"""
import datetime
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, TOP)
from tests.fsxlib import BIN, Fsxd, SCRATCH2  # noqa: E402

SECONDS = float(os.environ.get('SOAK_SECONDS', '600'))
CLIENTS = int(os.environ.get('SOAK_CLIENTS', '4'))
SAMPLE = float(os.environ.get('SOAK_SAMPLE', '10'))
KEEP = 200


class Stats:
    def __init__(self):
        self.mu = threading.Lock()
        self.calls = self.failed = self.files = self.bytes = self.corrupt = 0
        self.errors = []

    def fail(self, what):
        with self.mu:
            self.failed += 1
            if len(self.errors) < 20:
                self.errors.append(what)


def rss_kib(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def api_client(d, fs_ids, arns, n, stop, st):
    c = d.client()
    key = 'soak-%d' % n
    i = 0
    while not stop.is_set():
        i += 1
        arn = arns[i % len(arns)]
        try:
            got = {f['FileSystemId'] for f in c.describe_file_systems()['FileSystems']}
            if not set(fs_ids) <= got:
                st.fail('client %d: listing lost %s' % (n, set(fs_ids) - got))
            c.describe_file_systems(FileSystemIds=[fs_ids[i % len(fs_ids)]])
            c.tag_resource(ResourceARN=arn, Tags=[{'Key': key, 'Value': str(i)}])
            tags = {t['Key']: t['Value'] for t in
                    c.list_tags_for_resource(ResourceARN=arn)['Tags']}
            if tags.get(key) != str(i):
                st.fail('client %d: tag %s=%s read back as %r' % (n, key, i, tags.get(key)))
            c.untag_resource(ResourceARN=arn, TagKeys=[key])
            c.describe_data_repository_tasks()
            with st.mu:
                st.calls += 6
        except Exception as e:      # every failure counts, whatever it is
            st.fail('client %d: %r' % (n, e))


def writer(mnt, sums, stop, st, seed):
    rnd = random.Random(seed)
    names = []
    i = 0
    while not stop.is_set():
        i += 1
        name = 'f%06d' % i
        n = rnd.choice((4096, 65536, 1 << 20, 4 << 20)) + rnd.randrange(4096)
        data = os.urandom(n)
        path = os.path.join(mnt, name)
        try:
            with open(path, 'wb') as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            sums[name] = hashlib.sha256(data).hexdigest()
            with open(path, 'rb') as f:
                if hashlib.sha256(f.read()).hexdigest() != sums[name]:
                    with st.mu:
                        st.corrupt += 1
                    st.fail('%s: read back differs' % path)
            names.append(name)
            with st.mu:
                st.files += 1
                st.bytes += n
            if len(names) > KEEP:
                old = names.pop(0)
                os.unlink(os.path.join(mnt, old))
                del sums[old]
        except Exception as e:
            st.fail('%s: %r' % (path, e))


def mount(d, fs, mnt):
    env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
               AWS_DEFAULT_REGION='us-east-1')
    spec = '%s@tcp:/%s' % (fs['DNSName'], fs['LustreConfiguration']['MountName'])
    p = subprocess.run([os.path.join(BIN, 'fsx-mount'), '--endpoint-url', d.url, spec, mnt],
                       capture_output=True, text=True, env=env, timeout=30)
    if p.returncode != 0:
        raise SystemExit('soak: mount failed: %s' % p.stderr)


def mount_pids(mnts):
    out = {}
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % p, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if argv and argv[0].endswith(b'fsx-mount'):
            for m in mnts:
                if m.encode() in argv:
                    out[int(p)] = 'fsx-mount'
    return out


def main():
    t0 = time.time()
    st = Stats()
    d = Fsxd()
    base = tempfile.mkdtemp(prefix='fsx-soak-')
    mnts, fss = [], []
    try:
        c = d.client()
        for _ in range(2):
            fs = c.create_file_system(**SCRATCH2)['FileSystem']
            fss.append(d.wait_state(c, fs['FileSystemId'], 'AVAILABLE', timeout=60)[0])
        for i, fs in enumerate(fss):
            m = os.path.join(base, 'm%d' % i)
            os.mkdir(m)
            mount(d, fs, m)
            mnts.append(m)
        fs_ids = [f['FileSystemId'] for f in fss]
        arns = [f['ResourceARN'] for f in fss]
        stop = threading.Event()
        sums = [{} for _ in mnts]
        threads = [threading.Thread(target=api_client, args=(d, fs_ids, arns, n, stop, st))
                   for n in range(CLIENTS)]
        threads += [threading.Thread(target=writer, args=(m, sums[i], stop, st, i))
                    for i, m in enumerate(mnts)]
        for t in threads:
            t.start()
        samples = []
        end = time.time() + SECONDS
        print('soak: %d clients, %d mounts, %.0f s' % (CLIENTS, len(mnts), SECONDS), flush=True)
        while True:
            procs = {d.proc.pid: 'fsxd'}
            procs.update({p: k for p, k in d.engine_pids()})
            procs.update(mount_pids(mnts))
            samples.append({'t': round(time.time() - t0, 1),
                            'rss_kib': {'%s:%d' % (k, p): rss_kib(p) for p, k in procs.items()}})
            with st.mu:
                print('soak: %5.0f s  calls %d  files %d  MiB %.0f  failed %d' % (
                    time.time() - t0, st.calls, st.files, st.bytes / 2 ** 20, st.failed),
                    flush=True)
            if time.time() >= end:
                break
            time.sleep(min(SAMPLE, max(0.1, end - time.time())))
        stop.set()
        for t in threads:
            t.join(120)
        # everything kept, read again through a new mount of each
        for i, fs in enumerate(fss):
            m2 = os.path.join(base, 'v%d' % i)
            os.mkdir(m2)
            mount(d, fs, m2)
            mnts.append(m2)
            for name, h in sums[i].items():
                with open(os.path.join(m2, name), 'rb') as f:
                    if hashlib.sha256(f.read()).hexdigest() != h:
                        st.corrupt += 1
                        st.fail('%s: differs through a new mount' % name)
        # RSS flat after warm-up
        grew = []
        if len(samples) >= 3:
            warm = samples[len(samples) // 3]['rss_kib']
            last = samples[-1]['rss_kib']
            for k, v in last.items():
                w = warm.get(k)
                if v and w and v > w * 1.25 + 4096:
                    grew.append('%s: %d -> %d KiB' % (k, w, v))
        res = {'seconds': SECONDS, 'clients': CLIENTS, 'mounts': 2,
               'api_calls': st.calls, 'failed': st.failed, 'errors': st.errors,
               'files_written': st.files, 'mib_written': round(st.bytes / 2 ** 20, 1),
               'corrupt': st.corrupt, 'rss_grew': grew, 'samples': samples,
               'date': datetime.datetime.now(datetime.timezone.utc).isoformat()}
        outdir = os.environ.get('SOAK_OUT', os.path.join(TOP, 'bench', 'results'))
        os.makedirs(outdir, exist_ok=True)
        out = os.path.join(outdir, 'soak-%s.json' %
                           datetime.datetime.now().strftime('%Y%m%d-%H%M%S'))
        with open(out, 'w') as f:
            json.dump(res, f, indent=1)
        ok = st.failed == 0 and st.corrupt == 0 and not grew
        print('soak: %s: %d API calls, %d failed; %d files (%.0f MiB) written, %d corrupt;'
              ' RSS %s; %s' % ('PASS' if ok else 'FAIL', st.calls, st.failed, st.files,
                               st.bytes / 2 ** 20, st.corrupt,
                               'flat' if not grew else 'grew: ' + '; '.join(grew),
                               os.path.relpath(out, TOP)))
        for e in st.errors:
            print('soak: error: %s' % e)
        return 0 if ok else 1
    finally:
        for m in reversed(mnts):
            subprocess.run(['fusermount3', '-u', m], capture_output=True)
        d.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
