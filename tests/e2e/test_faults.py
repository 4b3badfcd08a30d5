#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Hostile clients: 2,000 slowloris clients dripping a request head one byte
a second do not slow down anyone else, and header_timeout cuts them off with
408; clients that pipeline requests and never read the responses are
dropped by write_timeout, with the memory they cost bounded, while others
are served. (Out of descriptors and max_connections: test_limits.py; signals
under load: test_signals.py; the long floods and the soak: tests/stress/.)"""

import os
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_faults', script_timeout=150)
HELLO = ht.hello_bytes()

NSLOW = 2000                 # slowloris clients
HEADER_TIMEOUT = 4           # seconds, hellod's header_timeout for them
TICK = 0.05                  # each tick, 1/20 of them sends a byte: 1 byte/s each


def probe(s, probes):
    """One GET / on a new connection; append its time (or the error)."""
    try:
        r = s.http('GET', '/', timeout=ht.slow(5))
        ht.check_page(r, 200, HELLO)
        probes.append(r.elapsed)
    except (OSError, ht.TestFailure) as e:
        probes.append(e)


@run.case
def slowloris_does_not_starve_others():
    ht.raise_nofile(NSLOW + 500)
    with ht.Server(options={'header_timeout': '%ds' % HEADER_TIMEOUT}) as s:
        base = ht.settled_fd_count(s.pid, settle=0.3)
        head = b'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + b'a' * 200
        t_conn = time.monotonic()
        socks = ht.connect_many(s.port, NSLOW)
        ht.note('%d slowloris clients connected in %.2fs'
                % (NSLOW, time.monotonic() - t_conn))
        sel = selectors.DefaultSelector()
        nsent = [0] * NSLOW
        first = [None] * NSLOW       # time of the first byte
        got = [b''] * NSLOW
        took = [None] * NSLOW        # first byte to end of the response
        how = [None] * NSLOW
        probes = []
        try:
            for i, sk in enumerate(socks):
                sk.setblocking(False)
                sel.register(sk, selectors.EVENT_READ, i)
            left = NSLOW
            t0 = time.monotonic()
            deadline = t0 + HEADER_TIMEOUT + ht.slow(6)
            tick = 0
            next_tick = next_probe = t0
            while left and time.monotonic() < deadline:
                now = time.monotonic()
                if now >= next_tick:
                    # one byte from every 20th client, in turn
                    for i in range(tick % 20, NSLOW, 20):
                        if how[i] is None and nsent[i] < len(head):
                            try:
                                socks[i].send(head[nsent[i]:nsent[i] + 1])
                            except OSError:
                                continue
                            if first[i] is None:
                                first[i] = now
                            nsent[i] += 1
                    tick += 1
                    next_tick += TICK
                if now >= next_probe and left > NSLOW // 2:
                    probe(s, probes)
                    next_probe = time.monotonic() + 0.2
                for key, _ in sel.select(timeout=TICK / 2):
                    i = key.data
                    try:
                        d = socks[i].recv(65536)
                    except (ConnectionResetError, ConnectionAbortedError):
                        d, how[i] = b'', 'reset'
                    except BlockingIOError:
                        continue
                    if d:
                        got[i] += d
                        continue
                    how[i] = how[i] or 'eof'
                    took[i] = time.monotonic() - (first[i] or t0)
                    sel.unregister(socks[i])
                    left -= 1
        finally:
            sel.close()
            for sk in socks:
                sk.close()
        errors = [p for p in probes if not isinstance(p, float)]
        times = sorted(p for p in probes if isinstance(p, float))
        check(times, 'no GET / probe made while the slowloris clients waited')
        ht.note('GET / during %d slowloris clients: %d probes, median %.1f ms, '
                'max %.1f ms' % (NSLOW, len(times), 1000 * times[len(times) // 2],
                                 1000 * times[-1]))
        check(not errors, '%d of %d GET / probes failed: %r'
              % (len(errors), len(probes), errors[:3]))
        check(times[-1] < ht.slow(1.0), 'GET / took %.3f s with %d slowloris '
              'clients (want < 1 s)' % (times[-1], NSLOW))
        open_ = sum(1 for h in how if h is None)
        check(open_ == 0, '%d slowloris connections still open %.0f s after '
              'header_timeout' % (open_, ht.slow(6)))
        n408 = sum(1 for g in got if g.startswith(b'HTTP/1.1 408 '))
        bad = [g[:40] for g in got if not g.startswith(b'HTTP/1.1 408 ')]
        done = sorted(t for t in took if t is not None)
        ht.note('%d of %d got 408 (%d reset), after %.2f..%.2f s from their first '
                'byte (header_timeout %d s); each sent %d..%d bytes'
                % (n408, NSLOW, how.count('reset'), done[0], done[-1],
                   HEADER_TIMEOUT, min(nsent), max(nsent)))
        check(not bad, '%d slowloris clients got no 408, e.g. %r' % (len(bad), bad[:3]))
        # The head deadline runs from the first byte; bytes do not restart it.
        check(done[0] >= HEADER_TIMEOUT - 0.5, 'a slowloris client was cut off '
              'after %.2f s, before header_timeout (%d s)' % (done[0], HEADER_TIMEOUT))
        check(done[-1] <= HEADER_TIMEOUT + ht.slow(3), 'a slowloris client was cut '
              'off only after %.2f s (header_timeout %d s)' % (done[-1], HEADER_TIMEOUT))
        back = ht.wait_for(lambda: ht.fd_count(s.pid) <= base, ht.slow(5), 0.05)
        check(back, 'server descriptors %s, %d before the slowloris clients'
              % (ht.fd_count(s.pid), base))
        ht.check_page(s.http('GET', '/'), 200, HELLO)


NSTALL = 20                  # clients that never read
PIPELINE = 5000              # GET / each sends, without reading


@run.case
def clients_that_never_read_are_dropped():
    with ht.Server(options={'write_timeout': '1s'}) as s:
        base = ht.settled_fd_count(s.pid, settle=0.3)
        rss0 = ht.rss_kib(s.pid)
        data = ht.build_request('GET', '/') * PIPELINE
        socks = []
        try:
            for i in range(NSTALL):
                sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(sk)
                sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sk.settimeout(ht.slow(5))
                sk.connect((ht.HOST, s.port))
                sk.setblocking(False)
            # Send until every client's buffers are full both ways: hellod
            # stops parsing once HELLOD_MAX_OUTPUT of responses is queued.
            sent = [0] * NSTALL
            t0 = time.monotonic()
            stuck = set()
            while len(stuck) < NSTALL and time.monotonic() - t0 < ht.slow(3):
                for i, sk in enumerate(socks):
                    if i in stuck:
                        continue
                    try:
                        n = sk.send(data[sent[i]:sent[i] + 65536])
                        sent[i] += n
                        if sent[i] >= len(data):
                            stuck.add(i)
                    except BlockingIOError:
                        stuck.add(i)
                    except OSError:
                        stuck.add(i)
                time.sleep(0.01)
            per = len(ht.build_request('GET', '/'))
            ht.note('%d clients sent %d..%d requests each, reading nothing'
                    % (NSTALL, min(sent) // per, max(sent) // per))
            rss = ht.rss_kib(s.pid)
            ht.note('hellod RSS %d KiB before, %d KiB with %d stalled clients (+%d KiB)'
                    % (rss0, rss, NSTALL, rss - rss0))
            # Per stalled client hellod holds at most HELLOD_MAX_OUTPUT (64 KiB)
            # of queued output and one read of input: 1 MiB each is generous.
            check(rss - rss0 < NSTALL * 1024, 'hellod grew by %d KiB for %d '
                  'clients that do not read' % (rss - rss0, NSTALL))
            # Others are served meanwhile.
            for i in range(5):
                r = s.http('GET', '/', timeout=ht.slow(2))
                ht.check_page(r, 200, HELLO)
                check(r.elapsed < ht.slow(0.5), 'GET / took %.3fs while %d clients '
                      'stall' % (r.elapsed, NSTALL))
            # write_timeout (1 s) drops every stalled client.
            freed = ht.wait_for(lambda: ht.fd_count(s.pid) <= base, ht.slow(6), 0.05)
            dt = time.monotonic() - t0
            check(freed, '%d stalled connections still open after %.1fs'
                  % (ht.fd_count(s.pid) - base, dt))
            ht.note('all %d dropped %.2fs after they stopped reading' % (NSTALL, dt))
            # Each gets at most what was queued, then EOF or reset.
            for i, sk in enumerate(socks):
                sk.setblocking(True)
                sk.settimeout(ht.slow(5))
                total, end = 0, None
                while end is None:
                    try:
                        d = sk.recv(1 << 20)
                    except (ConnectionResetError, ConnectionAbortedError):
                        end = 'reset'
                        break
                    except socket.timeout:
                        end = 'timeout'
                        break
                    if not d:
                        end = 'eof'
                    total += len(d)
                check(end in ('eof', 'reset'), 'stalled client %d: connection not '
                      'closed (%s)' % (i, end))
                check(total < (sent[i] // per) * len(HELLO), 'stalled client %d got '
                      'all %d responses: never dropped' % (i, sent[i] // per))
        finally:
            for sk in socks:
                sk.close()
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        check_eq(s.alive(), True, 'server alive')


if __name__ == '__main__':
    run.run()
