#!/usr/bin/env python3
"""API benchmarks, each beside real baselines measured in the same run,
interleaved, medians of BENCH_REPEAT runs with min and max:

1. Signed DescribeFileSystems under wrk at several concurrencies (1, 8, 32
   connections; QUICK=1: 32 only) against fsxd, against moto_server (the
   mock users would otherwise run; same signed request, same load) and
   against a bare libmicrohttpd server (bench/api_bare.c) returning a fixed
   body of the same size: req/s and p50/p99 latency.
2. Signed CreateFileSystem with a fixed ClientRequestToken under the same
   load: fsxd answers repeats from its idempotency record (the path every
   retrying SDK takes); moto_server creates a new file system each time
   (it ignores the token) and is shown as what it is.
3. CreateFileSystem -> AVAILABLE with the real engine processes, median of
   20, beside one DescribeFileSystems round trip as the floor.
4. Signed DescribeFileSystems req/s (MaxResults 10, and the page holding
   the last one by id) with 10 and with BENCH_API_MANY (1,000) stored file
   systems, every one AVAILABLE with its engine processes (QUICK=1: as
   the 10,000 below), at 32 connections; and with BENCH_API_HUGE (10,000) stored
   file systems: one created through the API (AVAILABLE, with its engine
   processes), its row in fsxd's SQLite store then cloned 9,999 times
   with fsxd stopped (ids and ARNs rewritten in the row and its
   description; 1-2 s), fsxd started again on that store. The clones
   have no engine processes (20,000 processes do not fit this machine);
   DescribeFileSystems reads the same rows, indexes and documents either
   way.

Writes bench/results/api-<date>.json (the figures table bench/report.py
reads)."""
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)
from tests.fsxlib import Fsxd, SCRATCH2  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

BUILD = os.environ.get('FSX_BUILD', os.path.join(TOP, 'build'))
QUICK = os.environ.get('QUICK') == '1'
DUR = os.environ.get('BENCH_DURATION', '2s' if QUICK else '4s')
REPEAT = int(os.environ.get('BENCH_REPEAT', '1' if QUICK else '3'))
CONNS = [32] if QUICK else [1, 8, 32]
MANY = int(os.environ.get('BENCH_API_MANY', '1000'))
HUGE = int(os.environ.get('BENCH_API_HUGE', '10000'))
TARGET = 'AWSSimbaAPIService_v20180301.'


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def signed(url, op, body):
    req = AWSRequest(method='POST', url=url + '/', data=body, headers={
        'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': TARGET + op})
    SigV4Auth(Credentials('test', 'test'), 'fsx', 'us-east-1').add_auth(req)
    return dict(req.headers.items())


def to_ms(text):
    m = re.match(r'([0-9.]+)(us|ms|s)', text)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == 'us' else v * 1000 if m.group(2) == 's' else v


def wrk(url, headers, body, conns, allow_errors=False):
    """(req/s, p50 ms, p99 ms) of one wrk run."""
    lua = tempfile.NamedTemporaryFile('w', suffix='.lua', delete=False)
    lua.write('wrk.method = "POST"\nwrk.body = %s\n' % json.dumps(body))
    for k, v in headers.items():
        lua.write('wrk.headers[%s] = %s\n' % (json.dumps(k), json.dumps(v)))
    lua.close()
    threads = str(min(2, conns))
    out = subprocess.run(['wrk', '-t' + threads, '-c%d' % conns, '-d' + DUR, '--latency',
                          '-s', lua.name, url + '/'],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)
    rps = float(re.search(r'Requests/sec:\s+([0-9.]+)', out).group(1))
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    if non2xx and not allow_errors:
        raise SystemExit('wrk saw error responses from %s:\n%s' % (url, out))
    try:
        p50 = to_ms(re.search(r'^\s+50%\s+(\S+)', out, re.M).group(1))
        p99 = to_ms(re.search(r'^\s+99%\s+(\S+)', out, re.M).group(1))
    except AttributeError:
        raise SystemExit('cannot read wrk output for %s:\n%s' % (url, out))
    return rps, p50, p99


class Moto:
    def __init__(self):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.proc = subprocess.Popen(['moto_server', '-H', '127.0.0.1', '-p', str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(('127.0.0.1', self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit('moto_server did not start')

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()


def summary(samples):
    return {'median': statistics.median(samples), 'min': min(samples), 'max': max(samples),
            'samples': samples}


def post(url, headers, body):
    r = urllib.request.urlopen(urllib.request.Request(url + '/', data=body.encode(),
                                                      headers=headers))
    return r.read()


def clone_rows(state, fs_id, n):
    """Clone file system fs_id's row of fsxd's store (fsxd stopped) n
    times, ids and ARNs rewritten; returns the new ids."""
    db = sqlite3.connect(os.path.join(state, 'fsxd.db'))
    cols = [r[1] for r in db.execute('PRAGMA table_info(file_systems)')]
    row = db.execute('SELECT * FROM file_systems WHERE id = ?', (fs_id,)).fetchone()
    ci = {k: i for i, k in enumerate(cols)}
    ids = []
    with db:
        for i in range(n):
            nid = 'fs-%017x' % (0x1c10e0000000000 + i)
            r = list(row)
            r[ci['seq']] = None
            r[ci['id']] = nid
            for k in ('doc', 'arn'):
                r[ci[k]] = row[ci[k]].replace(fs_id, nid)
            r[ci['created']] = row[ci['created']] + (i + 1) * 1e-3
            db.execute('INSERT INTO file_systems VALUES (%s)' % ','.join('?' * len(r)), r)
            ids.append(nid)
    db.close()
    return ids


def main():
    res = {'quick': QUICK, 'duration': DUR, 'repeat': REPEAT, 'figures': {}}
    fig = res['figures']
    d = Fsxd('--log-level', 'error')
    moto = Moto()
    bare = None
    try:
        c = d.client()
        for _ in range(3):
            c.create_file_system(**SCRATCH2)
        mc = __import__('boto3').client('fsx', endpoint_url=moto.url, region_name='us-east-1',
                                        aws_access_key_id='test', aws_secret_access_key='test')
        for _ in range(3):
            mc.create_file_system(**SCRATCH2)
        body = '{}'
        h_ours = signed(d.url, 'DescribeFileSystems', body)
        h_moto = signed(moto.url, 'DescribeFileSystems', body)
        size = len(post(d.url, h_ours, body))
        bport = free_port()
        bare = subprocess.Popen([os.path.join(BUILD, 'bench', 'api_bare'), str(bport), str(size)],
                                stdout=subprocess.PIPE)
        bare.stdout.readline()
        burl = 'http://127.0.0.1:%d' % bport
        for conns in CONNS:
            runs = {'fsxd': [], 'moto': [], 'bare': []}
            for _ in range(REPEAT):  # interleaved
                runs['fsxd'].append(wrk(d.url, h_ours, body, conns))
                runs['moto'].append(wrk(moto.url, h_moto, body, conns))
                runs['bare'].append(wrk(burl, h_ours, body, conns))
            for who, rr in runs.items():
                fig['describe_rps.c%d.%s' % (conns, who)] = summary([r[0] for r in rr])
                fig['describe_p50_ms.c%d.%s' % (conns, who)] = summary([r[1] for r in rr])
                fig['describe_p99_ms.c%d.%s' % (conns, who)] = summary([r[2] for r in rr])
            print('DescribeFileSystems c=%-3d fsxd %7.0f req/s p50 %.2f p99 %.2f ms | '
                  'moto_server %6.0f req/s p50 %.2f p99 %.2f ms | bare MHD %7.0f req/s' % (
                      conns, fig['describe_rps.c%d.fsxd' % conns]['median'],
                      fig['describe_p50_ms.c%d.fsxd' % conns]['median'],
                      fig['describe_p99_ms.c%d.fsxd' % conns]['median'],
                      fig['describe_rps.c%d.moto' % conns]['median'],
                      fig['describe_p50_ms.c%d.moto' % conns]['median'],
                      fig['describe_p99_ms.c%d.moto' % conns]['median'],
                      fig['describe_rps.c%d.bare' % conns]['median']), flush=True)

        # CreateFileSystem with a fixed token, at 8 connections.
        cbody = json.dumps(dict(SCRATCH2, ClientRequestToken='bench-create-token-1'))
        post(d.url, signed(d.url, 'CreateFileSystem', cbody), cbody)
        h_c_ours = signed(d.url, 'CreateFileSystem', cbody)
        h_c_moto = signed(moto.url, 'CreateFileSystem', cbody)
        rr_o, rr_m = [], []
        for _ in range(REPEAT):
            rr_o.append(wrk(d.url, h_c_ours, cbody, 8))
            rr_m.append(wrk(moto.url, h_c_moto, cbody, 8))
        for who, rr in (('fsxd', rr_o), ('moto', rr_m)):
            fig['create_rps.c8.%s' % who] = summary([r[0] for r in rr])
            fig['create_p99_ms.c8.%s' % who] = summary([r[2] for r in rr])
        print('CreateFileSystem (same token) c=8: fsxd %.0f req/s, moto_server %.0f req/s' % (
            fig['create_rps.c8.fsxd']['median'], fig['create_rps.c8.moto']['median']), flush=True)

        # Create -> AVAILABLE.
        times, floor = [], []
        for _ in range(5 if QUICK else 20):
            t0 = time.monotonic()
            fs_id = c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
            while c.describe_file_systems(FileSystemIds=[fs_id])['FileSystems'][0][
                    'Lifecycle'] != 'AVAILABLE':
                time.sleep(0.002)
            times.append((time.monotonic() - t0) * 1000)
            t0 = time.monotonic()
            c.describe_file_systems(FileSystemIds=[fs_id])
            floor.append((time.monotonic() - t0) * 1000)
            c.delete_file_system(FileSystemId=fs_id)
            d.wait_gone(c, fs_id)
        fig['create_available_ms'] = summary(times)
        fig['describe_roundtrip_ms'] = summary(floor)
        print('CreateFileSystem -> AVAILABLE: median %.1f ms of %d; one DescribeFileSystems'
              ' round trip %.2f ms' % (fig['create_available_ms']['median'], len(times),
                                       fig['describe_roundtrip_ms']['median']), flush=True)
    finally:
        d.stop()
        moto.stop()
        if bare:
            bare.terminate()
            bare.wait()

    # Req/s by number of stored file systems (first page of 100 returned).
    for n in (10, MANY, HUGE):
        real = 1 if n == HUGE or (QUICK and n > 10) else n
        d = Fsxd('--log-level', 'error', '--quota-file-systems', str(n + 5),
                 '--quota-storage', str((n + 5) * 1200))
        try:
            c = d.client()
            t0 = time.monotonic()
            ids = [c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId']
                   for _ in range(real)]
            for fs_id in ids:
                d.wait_state(c, fs_id, 'AVAILABLE', timeout=600)
            if n > real:
                d.terminate()
                ids += clone_rows(d.state, ids[0], n - real)
                d.start()
                got = c.describe_file_systems(FileSystemIds=[ids[-1]])['FileSystems']
                if len(got) != 1 or got[0]['FileSystemId'] != ids[-1]:
                    raise SystemExit('cloned file system %s not served' % ids[-1])
            fig['create_many_s.stored%d' % n] = time.monotonic() - t0
            body = '{"MaxResults": 10}'
            hdr = signed(d.url, 'DescribeFileSystems', body)
            rr = [wrk(d.url, hdr, body, 32) for _ in range(REPEAT)]
            fig['describe_rps.stored%d' % n] = summary([r[0] for r in rr])
            body = json.dumps({'FileSystemIds': [ids[-1]]})
            hdr = signed(d.url, 'DescribeFileSystems', body)
            rr = [wrk(d.url, hdr, body, 32) for _ in range(REPEAT)]
            fig['describe_id_rps.stored%d' % n] = summary([r[0] for r in rr])
            print('%d stored file systems (%d with engines; ready after %.0f s):'
                  ' DescribeFileSystems first page %.0f req/s, by id %.0f req/s' % (
                      n, real, fig['create_many_s.stored%d' % n],
                      fig['describe_rps.stored%d' % n]['median'],
                      fig['describe_id_rps.stored%d' % n]['median']), flush=True)
        finally:
            d.stop()

    os.makedirs(os.path.join(TOP, 'bench', 'results'), exist_ok=True)
    path = os.path.join(TOP, 'bench', 'results', 'api-%s.json' % time.strftime('%Y%m%d-%H%M%S'))
    with open(path, 'w') as f:
        json.dump(res, f, indent=1)
    print('results: ' + path)


if __name__ == '__main__':
    main()
