#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Keep-alive and pipelining."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_keepalive', script_timeout=150)
HELLO = ht.hello_bytes()
NOTFOUND = ht.notfound_bytes()


def server():
    # keepalive_timeout long enough that it never interferes here
    return ht.shared_server(sleep='1s', options={'keepalive_timeout': '10s'})


@run.case
def two_requests_one_connection():
    s = server()
    with s.conn() as c:
        c.request('GET', '/')
        r1 = c.read_response()
        ht.check_page(r1, 200, HELLO)
        check('close' not in r1.connection_tokens(), 'first response has Connection: close')
        c.expect_open(0.2)
        c.request('GET', '/nope')
        r2 = c.read_response()
        ht.check_page(r2, 404, NOTFOUND)
        c.request('GET', '/')
        ht.check_page(c.read_response(), 200, HELLO)
        c.expect_open(0.2)


@run.case
def connection_close_honoured():
    s = server()
    with s.conn() as c:
        c.request('GET', '/', {'Connection': 'close'})
        r = c.read_response()
        ht.check_page(r, 200, HELLO)
        check('close' in r.connection_tokens(), 'response lacks Connection: close: %r' % r.headers)
        c.expect_closed(3, 'after Connection: close')


@run.case
def connection_close_case_insensitive():
    s = server()
    with s.conn() as c:
        c.request('GET', '/nope', {'Connection': 'Close'})
        r = c.read_response()
        ht.check_page(r, 404, NOTFOUND)
        check('close' in r.connection_tokens(), 'response lacks Connection: close: %r' % r.headers)
        c.expect_closed(3, 'after Connection: Close')


@run.case
def http10_closes_by_default():
    s = server()
    with s.conn() as c:
        c.request('GET', '/', version='HTTP/1.0', host=False)
        r = c.read_response()
        ht.check_page(r, 200, HELLO)      # also checks the status line says HTTP/1.1
        check('close' in r.connection_tokens(),
              'HTTP/1.0 response lacks Connection: close: %r' % r.headers)
        check('keep-alive' not in r.connection_tokens(), 'HTTP/1.0 response says keep-alive')
        c.expect_closed(3, 'after HTTP/1.0 request')


@run.case
def http10_keep_alive():
    s = server()
    with s.conn() as c:
        c.request('GET', '/', {'Connection': 'keep-alive'}, version='HTTP/1.0', host=False)
        r = c.read_response()
        ht.check_page(r, 200, HELLO)
        check('keep-alive' in r.connection_tokens(),
              'HTTP/1.0 keep-alive response lacks Connection: keep-alive: %r' % r.headers)
        c.expect_open(0.3)
        c.request('GET', '/nope', {'Connection': 'Keep-Alive'}, version='HTTP/1.0', host=False)
        r = c.read_response()
        ht.check_page(r, 404, NOTFOUND)
        check('keep-alive' in r.connection_tokens(),
              'second HTTP/1.0 keep-alive response lacks Connection: keep-alive')
        c.expect_open(0.2)
        # and a plain 1.0 request on it ends the connection
        c.request('GET', '/', version='HTTP/1.0', host=False)
        r = c.read_response()
        ht.check_page(r, 200, HELLO)
        check('close' in r.connection_tokens(), 'final HTTP/1.0 response lacks Connection: close')
        c.expect_closed(3, 'after final HTTP/1.0 request')


@run.case
def pipelining_in_order():
    s = server()
    with s.conn(timeout=10) as c:
        t0 = time.monotonic()
        c.send(ht.build_request('GET', '/sleep') + ht.build_request('GET', '/')
               + ht.build_request('GET', '/nope'))
        r1 = c.read_response()
        r2 = c.read_response()
        r3 = c.read_response()
        t1, t2, t3 = r1.time - t0, r2.time - t0, r3.time - t0
        ht.note('pipelined /sleep, /, /nope answered at %.3f, %.3f, %.3f s' % (t1, t2, t3))
        ht.check_page(r1, 200, HELLO)
        ht.check_page(r2, 200, HELLO)
        ht.check_page(r3, 404, NOTFOUND)
        check(t1 >= 0.9, '/sleep answered after %.3fs' % t1)
        check(t2 >= 0.9, 'GET / behind /sleep answered after %.3fs: not in order' % t2)
        check(t3 < 3.0, 'pipeline took %.3fs' % t3)
        c.expect_open(0.2)


@run.case
def pipelining_split_requests():
    # requests split at odd places across writes
    s = server()
    data = ht.build_request('GET', '/') + ht.build_request('GET', '/nope') + ht.build_request('HEAD', '/')
    with s.conn() as c:
        for i in range(0, len(data), 7):
            c.send(data[i:i + 7])
            time.sleep(0.002)
        ht.check_page(c.read_response(), 200, HELLO)
        ht.check_page(c.read_response(), 404, NOTFOUND)
        ht.check_page(c.read_response('HEAD'), 200, HELLO, method='HEAD')
        c.expect_open(0.2)


@run.case
def pipelining_fifty():
    s = server()
    n = 50
    with s.conn(timeout=10) as c:
        reqs = []
        for i in range(n):
            reqs.append(ht.build_request('GET', '/' if i % 5 else '/nope?i=%d' % i))
        c.send(b''.join(reqs))
        for i in range(n):
            r = c.read_response()
            try:
                if i % 5:
                    ht.check_page(r, 200, HELLO)
                else:
                    ht.check_page(r, 404, NOTFOUND)
            except ht.TestFailure as e:
                raise ht.TestFailure('pipelined response %d: %s' % (i, e))
        c.expect_open(0.3)
        c.request('GET', '/')
        ht.check_page(c.read_response(), 200, HELLO)


@run.case
def pipelining_stops_at_connection_close():
    s = server()
    with s.conn() as c:
        c.send(ht.build_request('GET', '/') + ht.build_request('GET', '/nope', {'Connection': 'close'})
               + ht.build_request('GET', '/'))
        r1 = c.read_response()
        ht.check_page(r1, 200, HELLO)
        r2 = c.read_response()
        ht.check_page(r2, 404, NOTFOUND)
        check('close' in r2.connection_tokens(), 'response to Connection: close lacks it')
        c.expect_closed(3, 'after pipelined Connection: close (the third request must not be answered)')


@run.case
def pipelining_slow_reader():
    # 3000 pipelined requests (4 MiB of responses) to a client that reads
    # nothing for a while, with a small receive buffer: the responses no
    # longer fit the socket buffers, so hellod must stop, let the socket
    # drain and carry on with the rest of the pipeline as the client reads.
    s = server()
    n = 3000
    with s.conn(timeout=10, rcvbuf=4096) as c:
        c.send(b''.join(ht.build_request('GET', '/') for _ in range(n)))
        time.sleep(0.5)
        for i in range(n):
            try:
                ht.check_page(c.read_response(), 200, HELLO)
            except ht.TestFailure as e:
                raise ht.TestFailure('pipelined response %d of %d: %s' % (i + 1, n, e))
        c.request('GET', '/nope')
        ht.check_page(c.read_response(), 404, NOTFOUND)


@run.case
def pipelining_then_half_close():
    # 3000 pipelined requests, then the client shuts its sending side:
    # everything it sent is answered, in order, and then hellod closes
    # (whether the last response says Connection: close depends on when
    # hellod reads the EOF; none before it may).
    # The client reads nothing for a while, with a small receive buffer,
    # so hellod reads the last requests and the EOF while it still has
    # responses to write.
    s = server()
    n = 3000
    with s.conn(timeout=10, rcvbuf=4096) as c:
        c.send(b''.join(ht.build_request('GET', '/' if i % 3 else '/nope') for i in range(n)))
        c.sock.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
        for i in range(n):
            try:
                r = c.read_response()
                ht.check_page(r, 200 if i % 3 else 404, HELLO if i % 3 else NOTFOUND)
            except ht.TestFailure as e:
                raise ht.TestFailure('response %d of %d after the half-close: %s' % (i + 1, n, e))
            check(i == n - 1 or 'close' not in r.connection_tokens(),
                  'response %d of %d: Connection: %s' % (i + 1, n, r.header('Connection')))
        c.expect_closed(3, 'after the last response')


@run.case
def request_sent_during_sleep():
    # The next request arrives while /sleep waits (1 s here): it must not
    # restart the sleep, and it is answered right after, in order.
    s = server()
    with s.conn(timeout=5) as c:
        t0 = time.monotonic()
        c.request('GET', '/sleep')
        time.sleep(0.4)
        c.request('GET', '/nope')
        r1 = c.read_response()
        dt = time.monotonic() - t0
        ht.check_page(r1, 200, HELLO)
        check(0.9 <= dt < 0.9 + ht.slow(0.45), '/sleep answered %.2fs after it was sent (sleep 1s)' % dt)
        ht.check_page(c.read_response(), 404, NOTFOUND)
        c.request('GET', '/')
        ht.check_page(c.read_response(), 200, HELLO)


@run.case
def pipelined_input_bounded_during_sleep():
    # While /sleep waits, hellod takes pipelined input only up to one
    # request head plus a read (max_header_size 8 KiB + 4 KiB, so at most
    # 16 KiB in its buffer) and leaves the rest in the kernel; all of it is
    # answered, in order, once the sleep is over.
    s = server()
    n = 2000
    with s.conn(timeout=10) as c:
        c.request('GET', '/sleep')
        time.sleep(0.2)
        reqs = b''.join(ht.build_request('GET', '/' if i % 2 else '/nope') for i in range(n))
        c.send(reqs)
        time.sleep(0.3)
        unread = ht.tcp_queues(s.port, c.sock.getsockname()[1])[1]
        check(unread >= len(reqs) - 16384,
              'hellod read %d of %d pipelined bytes during /sleep (at most 16384 expected)'
              % (len(reqs) - unread, len(reqs)))
        ht.check_page(c.read_response(), 200, HELLO)
        for i in range(n):
            try:
                if i % 2:
                    ht.check_page(c.read_response(), 200, HELLO)
                else:
                    ht.check_page(c.read_response(), 404, NOTFOUND)
            except ht.TestFailure as e:
                raise ht.TestFailure('pipelined response %d of %d: %s' % (i + 1, n, e))
        c.expect_open(0.2)


@run.case
def keepalive_timeout_zero_disables():
    with ht.Server(sleep='1s', options={'keepalive_timeout': '0'}) as s:
        with s.conn() as c:
            c.request('GET', '/')
            r = c.read_response()
            ht.check_page(r, 200, HELLO)
            check('close' in r.connection_tokens(),
                  'keepalive_timeout = 0: response lacks Connection: close')
            c.expect_closed(3, 'with keepalive_timeout = 0')
        with s.conn() as c:
            c.request('GET', '/', {'Connection': 'keep-alive'}, version='HTTP/1.0', host=False)
            r = c.read_response()
            ht.check_page(r, 200, HELLO)
            check('keep-alive' not in r.connection_tokens(),
                  'keepalive_timeout = 0: HTTP/1.0 response says keep-alive')
            c.expect_closed(3, 'HTTP/1.0 keep-alive with keepalive_timeout = 0')


@run.case
def many_sequential_requests():
    s = server()
    with s.conn() as c:
        t0 = time.monotonic()
        for i in range(200):
            c.request('GET', '/')
            r = c.read_response()
            check_eq(r.status, 200, 'request %d status' % i)
            check(r.body == HELLO, 'request %d body' % i)
        dt = time.monotonic() - t0
        ht.note('200 sequential keep-alive requests in %.3fs' % dt)
        check(dt < ht.slow(10), '200 keep-alive requests took %.1fs' % dt)


if __name__ == '__main__':
    run.run()
