#!/usr/bin/env python3
"""API benchmarks, each beside its baseline in the same run:

1. Signed DescribeFileSystems requests/s with wrk against fsxd, and the
   same wrk load against a bare libmicrohttpd server (bench/api_bare.c)
   with the same thread settings returning a fixed body of the same size.
   The request is signed once (SigV4 has no nonce; the date stays inside
   the 5-minute window for the run). Target ratio >= 0.7.
2. CreateFileSystem -> AVAILABLE with the real engine processes, median
   of 20 (target <= 300 ms), beside the median time of a DescribeFileSystems
   round trip as the floor.

Prints each figure and writes bench/results/api-<date>.json."""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)
from tests.fsxlib import Fsxd, SCRATCH2  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

BUILD = os.environ.get('FSX_BUILD', os.path.join(TOP, 'build'))
DUR = os.environ.get('BENCH_DURATION', '8s')
REPEAT = int(os.environ.get('BENCH_REPEAT', '3'))


def wrk(url, headers, body):
    lua = tempfile.NamedTemporaryFile('w', suffix='.lua', delete=False)
    lua.write('wrk.method = "POST"\nwrk.body = %s\n' % json.dumps(body))
    for k, v in headers.items():
        lua.write('wrk.headers[%s] = %s\n' % (json.dumps(k), json.dumps(v)))
    lua.close()
    out = subprocess.run(['wrk', '-t2', '-c32', '-d' + DUR, '-s', lua.name, url + '/'],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)
    rps = float(re.search(r'Requests/sec:\s+([0-9.]+)', out).group(1))
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    if non2xx:
        raise SystemExit('wrk saw error responses:\n' + out)
    return rps


def main():
    res = {}
    d = Fsxd('--log-level', 'error')
    try:
        c = d.client()
        # A listing with a few file systems, so the body is realistic.
        for _ in range(3):
            c.create_file_system(**SCRATCH2)
        body = '{}'
        req = AWSRequest(method='POST', url=d.url + '/', data=body, headers={
            'Content-Type': 'application/x-amz-json-1.1',
            'X-Amz-Target': 'AWSSimbaAPIService_v20180301.DescribeFileSystems'})
        SigV4Auth(Credentials('test', 'test'), 'fsx', 'us-east-1').add_auth(req)
        headers = dict(req.headers.items())
        import urllib.request
        r = urllib.request.urlopen(urllib.request.Request(d.url + '/', data=body.encode(),
                                                          headers=headers))
        size = len(r.read())
        bare = subprocess.Popen([os.path.join(BUILD, 'bench', 'api_bare'), '18081', str(size)],
                                stdout=subprocess.PIPE)
        bare.stdout.readline()
        try:
            ours, base = [], []
            for _ in range(REPEAT):
                ours.append(wrk(d.url, headers, body))
                base.append(wrk('http://127.0.0.1:18081', headers, body))
        finally:
            bare.terminate()
            bare.wait()
        res['describe_rps'] = statistics.median(ours)
        res['bare_rps'] = statistics.median(base)
        res['describe_ratio'] = res['describe_rps'] / res['bare_rps']
        res['body_bytes'] = size
        print('signed DescribeFileSystems: %.0f req/s (median of %d), bare MHD %.0f req/s,'
              ' ratio %.2f (target >= 0.70)' % (res['describe_rps'], REPEAT, res['bare_rps'],
                                               res['describe_ratio']))

        # Create -> AVAILABLE, median of 20.
        times, floor = [], []
        for _ in range(20):
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
        res['create_available_ms_median'] = statistics.median(times)
        res['describe_roundtrip_ms_median'] = statistics.median(floor)
        print('CreateFileSystem -> AVAILABLE: median %.1f ms of 20 (target <= 300 ms);'
              ' one DescribeFileSystems round trip %.2f ms' % (
                  res['create_available_ms_median'], res['describe_roundtrip_ms_median']))
    finally:
        d.stop()
    os.makedirs(os.path.join(TOP, 'bench', 'results'), exist_ok=True)
    path = os.path.join(TOP, 'bench', 'results', 'api-%s.json' % time.strftime('%Y%m%d-%H%M%S'))
    with open(path, 'w') as f:
        json.dump(res, f, indent=1)
    print('results: ' + path)


if __name__ == '__main__':
    main()
