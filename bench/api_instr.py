#!/usr/bin/env python3
"""Instructions per signed DescribeFileSystems request, fsxd beside bare
libmicrohttpd (bench/api_bare.c), counted by valgrind's callgrind: the
VM has no PMU, and wall-clock rates on two shared cores vary by +-30%
between runs, while instruction counts repeat to 0.1%.

Each server runs under callgrind; one keep-alive connection sends
API_INSTR_WARM requests, the counters are zeroed (callgrind_control -z),
API_INSTR_N (3,000) more are sent, the counters are dumped, and the dump's
total and libc memset's share (libmicrohttpd zeroing its connection pool
before each kept-alive request) are divided by N. fsxd serves three
stored file systems, started by a plain fsxd on the same state dir.

Caveats: valgrind hides SHA-NI, so SigV4's SHA-256 counts as the AVX2
code (several times the instructions it costs natively), and `rep stosb`
counts one instruction per byte. Prints one line per server; the
callgrind dumps stay in a temporary directory (path printed) for
callgrind_annotate."""
import glob
import http.client
import os
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)
sys.path.insert(0, os.path.join(TOP, 'bench'))
from tests.fsxlib import Fsxd, SCRATCH2, BIN  # noqa: E402
from api_bench import BUILD, free_port, post, signed  # noqa: E402

N = int(os.environ.get('API_INSTR_N', '3000'))
WARM = int(os.environ.get('API_INSTR_WARM', '200'))
OUT = tempfile.mkdtemp(prefix='api-instr-')


def wait_port(port):
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection('127.0.0.1', port, timeout=1)
            conn.connect()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit('server on port %d did not start' % port)


def count(name, argv, port):
    """Instructions per request (total, memset) of the server argv."""
    out = os.path.join(OUT, 'cg.%s' % name)
    proc = subprocess.Popen(['valgrind', '--tool=callgrind', '--callgrind-out-file=' + out]
                            + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        url = 'http://127.0.0.1:%d' % port
        hdr = signed(url, 'DescribeFileSystems', '{}')
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)

        def send(n):
            for _ in range(n):
                conn.request('POST', '/', '{}', hdr)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    raise SystemExit('%s answered %d' % (name, r.status))

        send(WARM)
        subprocess.run(['callgrind_control', '-z', str(proc.pid)], check=True,
                       capture_output=True)
        send(N)
        subprocess.run(['callgrind_control', '-d', str(proc.pid)], check=True,
                       capture_output=True)
    finally:
        proc.terminate()
        proc.wait()
    dump = sorted(glob.glob(out + '.*'))[0]
    ann = subprocess.run(['callgrind_annotate', '--inclusive=yes', '--threshold=100', dump],
                         capture_output=True, text=True, check=True).stdout
    total = memset = 0
    for line in ann.splitlines():
        parts = line.split()
        if not parts or not parts[0][0].isdigit():
            continue
        v = int(parts[0].replace(',', ''))
        if 'PROGRAM TOTALS' in line:
            total = v
        elif '__memset' in line:
            memset = max(memset, v)
    return total / N, memset / N


def main():
    d = Fsxd('--log-level', 'error')
    try:
        c = d.client()
        for _ in range(3):
            c.create_file_system(**SCRATCH2)
        size = len(post(d.url, signed(d.url, 'DescribeFileSystems', '{}'), '{}'))
        d.terminate()
        port = free_port()
        rows = [('fsxd', count('fsxd', [os.path.join(BIN, 'fsxd'), '--port', str(port),
                                        '--state-dir', d.state, '--log-level', 'error'],
                               port))]
        port = free_port()
        rows.append(('bare', count('bare', [os.path.join(BUILD, 'bench', 'api_bare'),
                                            str(port), str(size)], port)))
    finally:
        d.stop()
    for name, (total, memset) in rows:
        print('%-5s %8.0f instructions/request (%6.0f in memset, %6.0f elsewhere)' % (
            name, total, memset, total - memset))
    print('callgrind dumps: ' + OUT)


if __name__ == '__main__':
    main()
