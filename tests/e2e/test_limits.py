#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Connection limits: max_connections closes idle keep-alive connections
first and then pauses accepting, until the count is down to 90%; running out
of descriptors (EMFILE) pauses accepting without spinning the loop or
flooding the log, and serving resumes once descriptors are free again."""

import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_limits', script_timeout=120)
HELLO = ht.hello_bytes()


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
    # All three responses are read before any client closes: hellod keeps
    # each connection (lingering) until its client does, so all three are
    # answered while the count is at the limit, however far apart their
    # timers fire. (Closing each after reading it let a slow machine answer
    # the next one after the count fell below 90%, rightly with keep-alive.)
    # With several workers the same holds; test_workers.py covers that.
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
        for c in busy:
            c.close()
        r = late.read_response(timeout=5)
        waited = time.monotonic() - t0
        ht.check_page(r, 200, HELLO)
        ht.note('connection beyond the limit answered after %.3fs' % waited)
        check(waited < ht.slow(3.0), 'answered after %.3fs: accepting did not resume '
              'promptly' % waited)
        check(s.wait_stderr('accepting again', timeout=2),
              'no "accepting again" line; stderr:\n%s' % s.stderr_tail())
        late.close()
        ht.check_page(s.http('GET', '/'), 200, HELLO)


@run.case
def accept_resumes_only_at_90_percent():
    # Hysteresis: paused at max_connections = 20, still paused at 19, and
    # accepting again at 18 (90%). Silent new connections cannot be closed
    # to make room (only idle keep-alive ones can), so they hold the count.
    with ht.Server(options={'max_connections': '20', 'workers': '1',
                            'header_timeout': '60s'}) as s:
        settle(s)
        base = ht.fd_count(s.pid)
        mark = len(s.stderr_text())
        held = ht.connect_many(s.port, 20)
        try:
            check(s.wait_stderr('max_connections (20) reached', ht.slow(3), mark),
                  'no "max_connections (20) reached"; stderr:\n%s' % s.stderr_tail())
            check(ht.wait_for(lambda: ht.fd_count(s.pid) == base + 20, ht.slow(3)),
                  'server holds %d connections, want 20'
                  % (ht.fd_count(s.pid) - base))
            late = s.conn(timeout=ht.slow(5))
            late.request('GET', '/')
            late.expect_open(wait=0.5)
            check_eq(ht.fd_count(s.pid) - base, 20,
                     'connections held while paused (the 21st must wait '
                     'in the backlog)')
            held.pop().close()          # 19 left: above the low mark
            check(ht.wait_for(lambda: ht.fd_count(s.pid) == base + 19,
                              ht.slow(3)), 'closed connection not freed')
            late.expect_open(wait=1.0)
            check('accepting again' not in s.stderr_text()[mark:],
                  'resumed at 19 of 20 connections: no hysteresis; stderr:\n%s'
                  % s.stderr_tail())
            held.pop().close()          # 18 left: 90%, resume
            r = late.read_response(timeout=ht.slow(3))
            ht.check_page(r, 200, HELLO)
            check(s.wait_stderr('below max_connections: accepting again',
                                ht.slow(2), mark),
                  'no "accepting again" line; stderr:\n%s' % s.stderr_tail())
            late.close()
        finally:
            for c in held:
                c.close()
        ht.check_page(s.http('GET', '/'), 200, HELLO)


NOFILE = 64          # hellod's descriptor limit in the next case
NCLIENTS = 200


def low_nofile():
    """preexec_fn: hellod runs with RLIMIT_NOFILE = NOFILE."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


@run.case
def out_of_descriptors_pauses_without_spinning():
    # hellod starts with 64 descriptors and 200 clients connect and stay:
    # once accept() fails with EMFILE the listeners pause and retry every
    # 500 ms. The server must stay up, idle (no spinning on the readable
    # listening socket), log the episode once instead of per attempt, and
    # serve again once the clients go.
    ht.raise_nofile(NCLIENTS + 100)
    with ht.Server(options={'header_timeout': '60s'},
                   popen_kw={'preexec_fn': low_nofile}) as s:
        base = ht.settled_fd_count(s.pid, settle=0.3)
        check(base is not None, 'no /proc/PID/fd')
        mark = len(s.stderr_text())
        conns = ht.connect_many(s.port, NCLIENTS)
        try:
            check(s.wait_stderr('pausing accept', ht.slow(3), mark),
                  'no "pausing accept" warning; stderr:\n%s' % s.stderr_tail())
            check(s.alive(), 'server died when out of descriptors')
            held = ht.settled_fd_count(s.pid, settle=0.5) - base
            ht.note('%d clients, hellod (RLIMIT_NOFILE %d, %d descriptors at '
                    'start) holds %d of them' % (NCLIENTS, NOFILE, base, held))
            check(0 < held < NCLIENTS, 'hellod holds %d connections' % held)
            # While out of descriptors the loops must idle.
            used, dt, logged = ht.idle_cost(s, 3)
            ht.note('CPU used during %.1f s out of descriptors: %.3f s (%.1f%% of '
                    'a core); log lines meanwhile: %d' % (dt, used, 100 * used / dt,
                                                          logged))
            check(used < 0.1 * dt, 'server used %.3f s of CPU in %.1f s while out '
                  'of descriptors (spinning?)' % (used, dt))
            check(logged == 0, '%d log lines while out of descriptors: the retries '
                  'flood the log' % logged)
            nwarn = s.stderr_text()[mark:].count('pausing accept')
            check_eq(nwarn, 1, '"pausing accept" lines for one episode')
            # Clients leave one at a time, the oldest (held) first: each
            # close frees a descriptor, hellod accepts the next client from
            # the backlog and is out of descriptors again. The warning must
            # not come back with each of these flaps.
            lines0 = s.stderr_text().count('\n')
            t0 = time.monotonic()
            for i in range(held + 20):
                conns.pop(0).close()
                time.sleep(0.02)
            while conns:
                conns.pop().close()
            logged = s.stderr_text().count('\n') - lines0
            ht.note('clients closed one by one over %.1f s: %d log lines'
                    % (time.monotonic() - t0, logged))
        finally:
            for c in conns:
                c.close()
        # Serving resumes once descriptors are free again: the backlog's
        # closed connections are accepted and dropped, then a new one served.
        deadline = time.monotonic() + ht.slow(5)
        while True:
            try:
                r = s.http('GET', '/', timeout=2)
                break
            except (OSError, ht.TestFailure):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        ht.check_page(r, 200, HELLO)
        check(s.wait_stderr('accepting again', ht.slow(2), mark),
              'no "accepting again" line; stderr:\n%s' % s.stderr_tail())
        back = ht.wait_for(lambda: ht.fd_count(s.pid) <= base, ht.slow(5), 0.05)
        check(back, 'descriptors %s after the clients left, %d at start'
              % (ht.fd_count(s.pid), base))
        lines = len(s.stderr_text()[mark:].splitlines())
        ht.note('log lines for the whole episode (%d clients): %d' % (NCLIENTS, lines))
        check(lines <= 3, '%d log lines for one out-of-descriptors episode:\n%s'
              % (lines, s.stderr_text()[mark:][-1500:]))
        check(s.alive(), 'server died')


if __name__ == '__main__':
    run.run()
