#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Soak (`make stress`): 1,000,000 keep-alive requests, then 100,000 short
connections (one request each, Connection: close), against one hellod, each
response checked by tests/stress/loadclient. Afterwards hellod's open
descriptors must be exactly what they were before, its malloc heap in use
(gdb calls malloc_stats() in hellod) within HEAP_SLACK bytes of it, and its
RSS within RSS_SLACK_KIB.

The baseline is taken after a warm-up of the same traffic, so glibc's heap
and each worker's arena are already as big as the run needs. A leak of one
small allocation (32 bytes, malloc's smallest chunk) per 1,000 requests
would add 32 KiB of heap over 1,000,000, and one per connection 3 MiB over
100,000; RSS (which also counts freed memory glibc keeps) is the coarser
check of the two.

STRESS_KEEPALIVE and STRESS_SHORT override the counts (e.g. for a quick run).
"""

import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, 'e2e'))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

NKEEP = int(os.environ.get('STRESS_KEEPALIVE') or 1000000)
NSHORT = int(os.environ.get('STRESS_SHORT') or 100000)
CONNS = 50
RSS_SLACK_KIB = 2048
HEAP_SLACK = 64 * 1024
CLIENT = os.environ.get('STRESS_LOADCLIENT') or os.path.join(
    ht.BUILDDIR, 'tests', 'stress', 'loadclient')

run = ht.Runner('test_soak', script_timeout=1500, case_timeout=900)
state = {}


def server():
    # No access log: 1.1 million lines would only measure the log file.
    return ht.shared_server(options={'access_log': 'off'})


def settled(s):
    """(RSS KiB, descriptors, heap in use, heap size) once the connections
    are gone."""
    fds = ht.settled_fd_count(s.pid, settle=1.0)
    return (ht.rss_kib(s.pid), fds) + s.malloc_stats()


def load(s, n, short, timeout):
    """Run loadclient for n requests; returns its key=value output as a
    dict, with the peak RSS of hellod while it ran."""
    check(os.access(CLIENT, os.X_OK), 'no load client at %s' % CLIENT)
    cmd = [CLIENT, '-p', str(s.port), '-n', str(n), '-c', str(CONNS),
           '-s' if short else '-k', '-t', str(int(timeout)),
           '-b', os.path.join(ht.STATIC, 'hello.html')]
    peak = [ht.rss_kib(s.pid)]
    done = threading.Event()

    def sample():
        while not done.wait(0.5):
            try:
                peak[0] = max(peak[0], ht.rss_kib(s.pid))
            except (OSError, ht.TestFailure):
                return
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout + 30)
    finally:
        done.set()
        t.join()
    out = dict(line.split('=', 1) for line in p.stdout.split())
    out['peak_kib'] = peak[0]
    ht.note('%s: %s requests in %s s (%s/s): ok %s, bad %s, errors %s; hellod peak '
            'RSS %d KiB' % ('short' if short else 'keep-alive', out.get('n'),
                            out.get('wall_s'), out.get('rps'), out.get('ok'),
                            out.get('bad'), out.get('errors'), peak[0]))
    check(p.returncode == 0 and out.get('ok') == str(n), 'loadclient exit %d: %s %s'
          % (p.returncode, p.stdout.replace('\n', ' '), p.stderr[-300:]))
    check(s.alive(), 'hellod died')
    return out


@run.case
def warm_up_and_baseline():
    s = server()
    ht.raise_nofile(CONNS * 4)
    cold = settled(s)
    load(s, 20000, False, 120)
    load(s, 2000, True, 120)
    state['base'] = settled(s)
    ht.note('baseline: RSS %d KiB, %d descriptors, heap %d bytes in use of %d '
            '(at start: %d KiB, %d, %d of %d)' % (state['base'] + cold))


def after(what):
    s = server()
    rss, fds, heap, arena = settled(s)
    rss0, fds0, heap0, arena0 = state['base']
    ht.note('after %s: RSS %d KiB (%+d KiB from the baseline %d), descriptors %d '
            '(baseline %d), heap %d bytes in use (%+d from %d) of %d (%+d)'
            % (what, rss, rss - rss0, rss0, fds, fds0, heap, heap - heap0, heap0,
               arena, arena - arena0))
    check_eq(fds, fds0, 'descriptors after %s' % what)
    check(heap - heap0 <= HEAP_SLACK, '%d bytes more heap in use after %s (slack %d)'
          % (heap - heap0, what, HEAP_SLACK))
    check(rss - rss0 <= RSS_SLACK_KIB, 'RSS grew by %d KiB over %s (slack %d KiB)'
          % (rss - rss0, what, RSS_SLACK_KIB))


@run.case
def keepalive_requests():
    check('base' in state, 'no baseline')
    load(server(), NKEEP, False, 600)
    after('%d keep-alive requests' % NKEEP)


@run.case
def short_connections():
    check('base' in state, 'no baseline')
    load(server(), NSHORT, True, 600)
    after('%d short connections' % NSHORT)


@run.case
def still_serves_and_exits_cleanly():
    s = server()
    ht.check_page(s.http('GET', '/'), 200, ht.hello_bytes())
    t0 = time.monotonic()
    check_eq(s.stop(), 0, 'exit status after SIGTERM')
    ht.note('exited %.2fs after SIGTERM' % (time.monotonic() - t0))


if __name__ == '__main__':
    run.run()
