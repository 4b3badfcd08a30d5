#!/usr/bin/env python3
"""Connection limits: max_connections closes idle keep-alive connections
first and then pauses accepting; running out of descriptors (EMFILE) pauses
accepting without spinning the loop or flooding the log, and serving resumes
once descriptors are free again."""

import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_limits', script_timeout=120)
HELLO = ht.hello_bytes()


def cpu_seconds(pid):
    """User + system CPU time of pid, from /proc/PID/stat."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    ticks = os.sysconf('SC_CLK_TCK')
    return (int(fields[11]) + int(fields[12])) / ticks


def settle(s):
    """Wait until the start-up probe connection is gone, so that the
    server's connection count is exactly what the case opens."""
    check(ht.wait_for(lambda: ht.fd_count(s.pid) == ht.settled_fd_count(
        s.pid, settle=0.3), 5), 'server descriptors never settled')


@run.case
def idle_keepalive_closed_first_at_limit():
    # One worker: a worker at the limit closes its own longest-idle
    # connections, so "the oldest of all" holds for one worker only
    # (test_workers.py checks the process-wide limit with several).
    with ht.Server(options={'max_connections': '4', 'workers': '1',
                            'keepalive_timeout': '30s'}) as s:
        settle(s)
        idle = []
        for i in range(3):
            c = s.conn()
            c.request('GET', '/')
            ht.check_page(c.read_response(), 200, HELLO)
            idle.append(c)
        # The fourth connection reaches the limit: the oldest idle one
        # makes room, and the newcomer is served.
        d = s.conn()
        d.request('GET', '/')
        ht.check_page(d.read_response(), 200, HELLO)
        idle[0].expect_closed(timeout=2, what='oldest idle connection')
        for c in idle[1:]:
            c.expect_open(wait=0.2)
            c.request('GET', '/')
            ht.check_page(c.read_response(), 200, HELLO)
        for c in idle[1:] + [d]:
            c.close()


@run.case
def accept_pauses_at_limit_and_resumes():
    # One worker: all three /sleep timers then fire in one loop pass, before
    # any close brings the count below 90%. With several workers, a worker
    # whose timer fires after another worker's connection closed answers
    # with keep-alive, rightly (test_workers.py covers the limit there).
    with ht.Server(sleep='1s', options={'max_connections': '3', 'workers': '1',
                                        'keepalive_timeout': '30s'}) as s:
        settle(s)
        busy = []
        for i in range(3):
            c = s.conn()
            c.request('GET', '/sleep')
            busy.append(c)
        check(s.wait_stderr('max_connections (3) reached', timeout=2),
              'no "max_connections reached" warning; stderr:\n%s'
              % s.stderr_tail())
        # The kernel's backlog holds the newcomer until a slot frees up.
        t0 = time.monotonic()
        late = s.conn()
        late.request('GET', '/')
        late.expect_open(wait=0.5)
        for c in busy:
            r = c.read_response(timeout=5)
            ht.check_page(r, 200, HELLO)
            # at the limit, finished connections give up their slot
            check_eq(r.header('Connection'), 'close',
                     'Connection header of a response while at the limit')
            c.close()
        r = late.read_response(timeout=5)
        waited = time.monotonic() - t0
        ht.check_page(r, 200, HELLO)
        ht.note('connection beyond the limit answered after %.3fs' % waited)
        check(waited < 3.0, 'answered after %.3fs: accepting did not resume '
              'promptly' % waited)
        check(s.wait_stderr('accepting again', timeout=2),
              'no "accepting again" line; stderr:\n%s' % s.stderr_tail())
        late.close()
        ht.check_page(s.http('GET', '/'), 200, HELLO)


@run.case
def out_of_descriptors_pauses_without_spinning():
    with ht.Server(options={'header_timeout': '30s'}) as s:
        base = ht.settled_fd_count(s.pid, settle=0.3)
        check(base is not None, 'no /proc/PID/fd')
        # Leave room for 5 connections only.
        limit = base + 5
        resource.prlimit(s.pid, resource.RLIMIT_NOFILE, (limit, limit))
        conns = []
        for i in range(40):
            c = socket.create_connection((ht.HOST, s.port), timeout=5)
            conns.append(c)
        check(s.wait_stderr('pausing accept', timeout=3),
              'no "pausing accept" warning; stderr:\n%s' % s.stderr_tail())
        check(s.alive(), 'server died when out of descriptors')
        # While out of descriptors the loop must idle, not spin on the
        # readable listening socket.
        cpu0 = cpu_seconds(s.pid)
        time.sleep(1.5)
        used = cpu_seconds(s.pid) - cpu0
        ht.note('CPU used during 1.5 s out of descriptors: %.3f s' % used)
        check(used < 0.2, 'server used %.3f s of CPU in 1.5 s while out of '
              'descriptors (spinning?)' % used)
        text = s.stderr_text()
        nwarn = text.count('pausing accept')
        check(nwarn <= 2, '%d "pausing accept" lines: the log floods' % nwarn)
        for c in conns:
            c.close()
        # Serving resumes once descriptors are free again.
        deadline = time.monotonic() + 5
        while True:
            try:
                r = s.http('GET', '/', timeout=2)
                break
            except (OSError, ht.TestFailure):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        ht.check_page(r, 200, HELLO)
        check(s.alive(), 'server died')


if __name__ == '__main__':
    run.run()
