#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Timeouts: header_timeout (408 / silent close), keepalive_timeout, write_timeout."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_timeouts', script_timeout=170)
HELLO = ht.hello_bytes()


def server():
    return ht.shared_server(sleep='1s', options={'header_timeout': '1s',
                                                  'keepalive_timeout': '1s',
                                                  'write_timeout': '1s'})


@run.case
def dripping_head_gets_408():
    s = server()
    with s.conn(timeout=6) as c:
        stop = threading.Event()
        t0 = time.monotonic()
        c.send(b'GET / HTTP/1.1\r\nHost: localhost\r\n')

        def drip():
            while not stop.is_set():
                if stop.wait(0.3):
                    break
                try:
                    c.sock.send(b'a')
                except OSError:
                    break
        th = threading.Thread(target=drip, daemon=True)
        th.start()
        try:
            r = c.read_response(timeout=6)
        finally:
            stop.set()
        dt = r.time - t0
        ht.note('dripping client got %d after %.3fs (header_timeout = 1s)' % (r.status, dt))
        check_eq(r.status, 408, 'status for a head that never completes')
        check('close' in r.connection_tokens(), '408 lacks Connection: close')
        check(0.8 <= dt <= 2.5, '408 after %.3fs, want 0.8..2.5s' % dt)
        got, how = c.wait_closed(3)
        check(got == b'', 'bytes after 408: %r' % got[:100])
        th.join(2)
    check_eq(s.http('GET', '/').status, 200, 'GET / on a new connection afterwards')


@run.case
def partial_head_then_silence_gets_408():
    s = server()
    with s.conn(timeout=6) as c:
        t0 = time.monotonic()
        c.send(b'GET / HT')
        r = c.read_response(timeout=6)
        dt = r.time - t0
        ht.note('partial head got %d after %.3fs' % (r.status, dt))
        check_eq(r.status, 408, 'status for a partial head')
        check(0.8 <= dt <= 2.5, '408 after %.3fs, want 0.8..2.5s' % dt)
        c.wait_closed(3)


@run.case
def idle_keepalive_closed():
    s = server()
    with s.conn(timeout=6) as c:
        c.request('GET', '/')
        r = c.read_response()
        ht.check_page(r, 200, HELLO)
        t_resp = r.time
        got, how = c.wait_closed(5)
        dt = time.monotonic() - t_resp
        ht.note('idle keep-alive connection closed (%s) %.3fs after the response '
                '(keepalive_timeout = 1s)' % (how, dt))
        check(got == b'', 'bytes sent on an idle keep-alive connection: %r' % got[:200])
        check(0.8 <= dt <= 2.5, 'closed %.3fs after the response, want 0.8..2.5s' % dt)


@run.case
def keepalive_timer_restarts_per_request():
    # requests every 0.6 s keep a connection alive well past keepalive_timeout
    s = server()
    with s.conn(timeout=6) as c:
        for i in range(5):
            c.request('GET', '/')
            ht.check_page(c.read_response(), 200, HELLO)
            time.sleep(0.6)
        c.request('GET', '/')
        ht.check_page(c.read_response(), 200, HELLO)


@run.case
def late_slow_request_gets_header_timeout():
    # keepalive_timeout (1 s) bounds only the wait for a request's first
    # byte; once it has come, the head has header_timeout (4 s) from that
    # byte, and a head still incomplete then gets 408, not a silent close.
    with ht.Server(sleep='1s', options={'header_timeout': '4s',
                                        'keepalive_timeout': '1s',
                                        'write_timeout': '1s'}) as s:
        with s.conn(timeout=10) as c:
            c.request('GET', '/')
            ht.check_page(c.read_response(), 200, HELLO)
            time.sleep(0.7)             # late, but within keepalive_timeout
            t0 = time.monotonic()
            c.send(b'G')
            stop = threading.Event()

            def drip():
                for b in b'ET / HTTP/1.1\r\nHost: x\r\n':
                    if stop.wait(0.3):
                        break
                    try:
                        c.sock.send(bytes([b]))
                    except OSError:
                        break
            th = threading.Thread(target=drip, daemon=True)
            th.start()
            try:
                r = c.read_response(timeout=ht.slow(8))
            finally:
                stop.set()
            dt = r.time - t0
            ht.note('late slow second request got %d %.3fs after its first byte '
                    '(header_timeout 4s, keepalive_timeout 1s)' % (r.status, dt))
            check_eq(r.status, 408, 'status for a slow second request')
            check(3.8 <= dt <= 4 + ht.slow(1.5),
                  '408 %.3fs after the first byte, want header_timeout (4s)' % dt)
            th.join(2)


@run.case
def silent_new_connection_closed():
    s = server()
    with s.conn(timeout=6) as c:
        t0 = time.monotonic()
        got, how = c.wait_closed(5)
        dt = time.monotonic() - t0
        ht.note('silent connection closed (%s) after %.3fs (header_timeout = 1s)' % (how, dt))
        check(got == b'', 'bytes sent to a silent connection: %r (want a silent close)' % got[:200])
        check(0.8 <= dt <= 2.5, 'closed after %.3fs, want 0.8..2.5s' % dt)


@run.case
def sleep_not_cut_by_header_timeout():
    # a pending /sleep is not a header wait: sleep = 1.5s > header_timeout = 1s
    with ht.Server(sleep='1500ms', options={'header_timeout': '1s', 'keepalive_timeout': '1s',
                                            'write_timeout': '1s'}) as s:
        r = s.http('GET', '/sleep', timeout=6)
        ht.check_page(r, 200, HELLO)
        check(r.elapsed >= 1.4, '/sleep answered after %.3fs' % r.elapsed)


@run.case
def non_reading_client_closed():
    s = server()
    base = ht.settled_fd_count(s.pid)
    # tiny receive buffer, many pipelined requests, never read
    c = s.conn(timeout=5, rcvbuf=4096)
    try:
        n = 20000
        per = len(HELLO) + 300
        data = ht.build_request('GET', '/') * n
        ht.note('sending %d pipelined GET / (%d bytes; ~%d MB of responses), never reading'
                % (n, len(data), n * per // 1000000))
        c.sock.setblocking(False)
        sent = 0
        t0 = time.monotonic()
        while sent < len(data) and time.monotonic() - t0 < 3:
            try:
                sent += c.sock.send(data[sent:sent + 65536])
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break
        c.sock.setblocking(True)
        c.sock.settimeout(5)
        nreq = sent // len(ht.build_request('GET', '/'))
        ht.note('sent %d bytes (%d requests) in %.2fs' % (sent, nreq, time.monotonic() - t0))

        # others are still served meanwhile
        r = s.http('GET', '/', timeout=2)
        ht.check_page(r, 200, HELLO)
        check(r.elapsed < ht.slow(0.5), 'GET / took %.3fs while a client stalls' % r.elapsed)

        # the server drops the stalled connection (write_timeout = 1s)
        if base is not None:
            freed = ht.wait_for(lambda: ht.fd_count(s.pid) <= base, 10, 0.05)
            dt = time.monotonic() - t0
            ht.note('server fds back to baseline %d after %.2fs: %s' % (base, dt, bool(freed)))
            check(freed, 'stalled connection still open on the server after %.1fs '
                  '(fds %s, baseline %d)' % (dt, ht.fd_count(s.pid), base))
        # draining what is left must end in EOF/reset, well short of all responses
        total = 0
        how = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                d = c.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except (ConnectionResetError, ConnectionAbortedError):
                how = 'reset'
                break
            if not d:
                how = 'eof'
                break
            total += len(d)
        ht.note('drained %d bytes then %s; all responses would be ~%d bytes'
                % (total, how, nreq * per))
        check(how is not None, 'connection not closed within 10s of draining')
        check(total < nreq * len(HELLO),
              'received %d bytes >= all %d responses: the server never gave up on the '
              'non-reading client' % (total, nreq))
    finally:
        c.close()
    r = s.http('GET', '/')
    ht.check_page(r, 200, HELLO)


if __name__ == '__main__':
    run.run()
