#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Concurrency: many pending /sleep requests do not block each other or GET /;
clients that disconnect during /sleep are freed at once."""

import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_concurrency', script_timeout=150)
HELLO = ht.hello_bytes()


def sleepers(port, n, results, barrier):
    """n threads each doing one GET /sleep on its own connection."""
    def one(i):
        try:
            c = ht.Conn(port, timeout=10)
        except Exception as e:
            results[i] = e
            barrier.abort()
            return
        try:
            try:
                barrier.wait(10)
            except threading.BrokenBarrierError:
                pass
            t0 = time.monotonic()
            c.request('GET', '/sleep')
            r = c.read_response(timeout=10)
            r.elapsed = r.time - t0
            results[i] = r
        except Exception as e:
            results[i] = e
        finally:
            c.close()
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    return threads


@run.case
def hundred_concurrent_sleeps():
    n = 100
    with ht.Server(sleep='1s') as s:
        results = [None] * n
        barrier = threading.Barrier(n + 1)
        threads = sleepers(s.port, n, results, barrier)
        barrier.wait(10)          # all connected; requests go out now
        t0 = time.monotonic()
        time.sleep(0.3)
        # while they all wait, GET / is answered promptly
        fast = s.http('GET', '/', timeout=2)
        ht.note('GET / during %d pending /sleep: %.1f ms' % (n, fast.elapsed * 1000))
        for t in threads:
            t.join(max(0.1, 15 - (time.monotonic() - t0)))
        total = time.monotonic() - t0
        errors = [(i, r) for i, r in enumerate(results) if not isinstance(r, ht.Response)]
        ok = [r for r in results if isinstance(r, ht.Response)]
        if ok:
            el = sorted(r.elapsed for r in ok)
            ht.note('%d /sleep answered: min %.3fs median %.3fs max %.3fs; batch %.3fs'
                    % (len(ok), el[0], el[len(el) // 2], el[-1], total))
        check(not errors, '%d of %d /sleep requests failed, e.g. #%d: %r'
              % (len(errors), n, errors[0][0], errors[0][1]) if errors else '')
        ht.check_page(fast, 200, HELLO)
        check(fast.elapsed < ht.slow(0.1), 'GET / took %.1f ms while /sleep requests pend (want < 100 ms)'
              % (fast.elapsed * 1000))
        for i, r in enumerate(results):
            check_eq(r.status, 200, '/sleep #%d status' % i)
            check(r.body == HELLO, '/sleep #%d body' % i)
            check(r.elapsed >= 0.9, '/sleep #%d answered after %.3fs' % (i, r.elapsed))
        check(total < 1 + ht.slow(1.5), '%d concurrent /sleep took %.3fs (want < 2.5s)' % (n, total))


@run.case
def sleep_never_early():
    # Each /sleep response leaves no earlier than `sleep` after its request
    # was read: the client sees at least the delay from before it sent the
    # request, and hellod's access log (first byte to response, on a fresh
    # clock) at least the delay too, for every one of 40 concurrent sleeps.
    n = 40
    with ht.Server(sleep='500ms', options={'access_log': 'on'}) as s:
        mark = len(s.stderr_text())
        results = [None] * n
        barrier = threading.Barrier(n + 1)
        threads = sleepers(s.port, n, results, barrier)
        barrier.wait(10)
        for t in threads:
            t.join(10)
        for i, r in enumerate(results):
            check(isinstance(r, ht.Response), '/sleep #%d failed: %r' % (i, r))
            check_eq(r.status, 200, '/sleep #%d status' % i)
        el = sorted(r.elapsed for r in results)
        ht.note('%d /sleep seen by the client after min %.4fs median %.4fs (sleep 0.5s)'
                % (n, el[0], el[n // 2]))
        check(el[0] >= 0.5, 'a /sleep answered %.4fs after its request was sent' % el[0])
        rx = re.compile(r'\[access\] \S+ "GET /sleep HTTP/1\.1" 200 \d+ (\d+(?:\.\d+)?)ms')
        check(ht.wait_for(lambda: len(rx.findall(s.stderr_text()[mark:])) >= n, ht.slow(2)),
              'fewer than %d /sleep access lines: %r' % (n, s.stderr_text()[mark:][-600:]))
        ms = sorted(float(m) for m in rx.findall(s.stderr_text()[mark:]))
        ht.note('access log durations: min %.3f ms median %.3f ms' % (ms[0], ms[n // 2]))
        check(ms[0] >= 500.0, 'a /sleep took %.3f ms in the access log, less than sleep'
              % ms[0])


@run.case
def disconnect_during_sleep_frees_connection():
    # sleep = 5s, so anything freed within ~1s was freed because of the disconnect
    # (both stretched alike under valgrind)
    with ht.Server(sleep='%ds' % ht.slow(5)) as s:
        base = ht.settled_fd_count(s.pid)
        if base is None:
            ht.note('no /proc/PID/fd: only checking that the server keeps answering')
        n = 50
        conns = []
        try:
            for i in range(n):
                c = s.conn(timeout=5)
                c.request('GET', '/sleep')
                conns.append(c)
            if base is not None:
                up = ht.wait_for(lambda: ht.fd_count(s.pid) >= base + n, 2)
                check(up, 'server fds %s, want %d + %d while requests pend'
                      % (ht.fd_count(s.pid), base, n))
            time.sleep(0.2)
        finally:
            t_close = time.monotonic()
            for c in conns:
                c.close()
        if base is not None:
            back = ht.wait_for(lambda: ht.fd_count(s.pid) <= base, ht.slow(1.5), 0.01)
            dt = time.monotonic() - t_close
            ht.note('server fds back to %s (baseline %d) %.3fs after the clients closed'
                    % (ht.fd_count(s.pid), base, dt))
            check(back and dt <= ht.slow(1.0), 'connections not freed within 1s of the disconnect '
                  '(fds %s, baseline %d, after %.3fs)' % (ht.fd_count(s.pid), base, dt))
        r = s.http('GET', '/', timeout=2)
        ht.check_page(r, 200, HELLO)
        check(r.elapsed < ht.slow(0.5), 'GET / took %.3fs after the disconnects' % r.elapsed)
        check(s.alive(), 'server died')


@run.case
def reset_during_sleep_frees_connection():
    # same with an abortive close (RST) instead of FIN
    with ht.Server(sleep='%ds' % ht.slow(5)) as s:
        base = ht.settled_fd_count(s.pid)
        if base is None:
            raise ht.TestFailure('no /proc/PID/fd on this system')
        conns = []
        for i in range(20):
            c = s.conn(timeout=5)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\x01\x00\x00\x00\x00\x00\x00\x00')
            c.request('GET', '/sleep')
            conns.append(c)
        ht.wait_for(lambda: ht.fd_count(s.pid) >= base + 20, 2)
        time.sleep(0.2)
        t_close = time.monotonic()
        for c in conns:
            c.close()
        back = ht.wait_for(lambda: ht.fd_count(s.pid) <= base, ht.slow(1.5), 0.01)
        dt = time.monotonic() - t_close
        check(back and dt <= ht.slow(1.0), 'reset connections not freed within 1s (fds %s, baseline %d)'
              % (ht.fd_count(s.pid), base))
        ht.check_page(s.http('GET', '/'), 200, HELLO)


@run.case
def concurrent_mixed_keepalive_clients():
    # 20 threads x 50 keep-alive requests mixing / and /nope
    with ht.Server(sleep='1s') as s:
        errors = []
        nf = ht.notfound_bytes()

        def client(k):
            try:
                with s.conn(timeout=10) as c:
                    for i in range(50):
                        path = '/nope' if (i + k) % 3 == 0 else '/'
                        c.request('GET', path)
                        r = c.read_response()
                        want = (404, nf) if path == '/nope' else (200, HELLO)
                        if (r.status, r.body) != want:
                            errors.append('client %d req %d: %r' % (k, i, r))
                            return
            except Exception as e:
                errors.append('client %d: %r' % (k, e))
        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(20)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        ht.note('1000 requests over 20 keep-alive connections in %.2fs' % (time.monotonic() - t0))
        check(not errors, '%d errors, first: %s' % (len(errors), errors[0] if errors else ''))


if __name__ == '__main__':
    run.run()
