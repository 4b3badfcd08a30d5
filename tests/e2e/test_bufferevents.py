#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Every accepted connection is one libevent bufferevent from accept to
close: hellod runs with tests/e2e/bevcount.so preloaded, which logs each
accept, bufferevent_socket_new and bufferevent_free by socket, and the
log must read accept, new, free for every connection, whatever it did:
plain requests, keep-alive, pipelining, /sleep, a bad request, a client
that sends nothing, one that leaves mid-sleep."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_bufferevents', script_timeout=120)
HELLO = ht.hello_bytes()
BEVCOUNT = os.environ.get('HELLOD_BEVCOUNT') or os.path.join(
    os.environ.get('HELLOD_BUILDDIR', '.'), 'tests', 'e2e', 'bevcount.so')


def preload_env(log):
    env = {'BEVCOUNT_FILE': log,
           'LD_PRELOAD': ' '.join(p for p in (os.environ.get('LD_PRELOAD'), BEVCOUNT) if p)}
    # An ASan build wants its runtime first among the libraries; a
    # preloaded one that is not instrumented does no harm.
    opts = os.environ.get('ASAN_OPTIONS', '')
    env['ASAN_OPTIONS'] = (opts + ':' if opts else '') + 'verify_asan_link_order=0'
    return env


def traffic(s):
    """Connections of every kind; returns how many were made."""
    n = 0
    for _ in range(10):                         # one request each, then close
        ht.check_page(s.http('GET', '/', headers={'Connection': 'close'}), 200, HELLO)
        n += 1
    for _ in range(3):                          # keep-alive, 3 requests each
        with s.conn() as c:
            for path, status in (('/', 200), ('/nope', 404), ('/', 200)):
                c.request('GET', path)
                check_eq(c.read_response().status, status, 'keep-alive GET %s' % path)
        n += 1
    for _ in range(2):                          # 5 pipelined requests in one write
        with s.conn() as c:
            c.send(b''.join(ht.build_request('GET', '/') for _ in range(5)))
            for i in range(5):
                ht.check_page(c.read_response(), 200, HELLO)
        n += 1
    sleepers = [s.conn(timeout=ht.slow(5)) for _ in range(3)]   # /sleep
    for c in sleepers:
        c.request('GET', '/sleep')
    for c in sleepers:
        ht.check_page(c.read_response(timeout=ht.slow(5)), 200, HELLO)
        c.close()
    n += 3
    with s.conn() as c:                         # a bad request: 400
        c.send(b'\x01\x02 garbage\r\n\r\n')
        check_eq(c.read_response().status, 400, 'status of garbage')
    n += 1
    c = s.conn()                                # leaves during /sleep
    c.request('GET', '/sleep')
    time.sleep(0.05)
    c.close()
    n += 1
    c = ht.Conn(s.port)                         # sends nothing
    c.sock.shutdown(socket.SHUT_WR)
    c.wait_closed(ht.slow(5))
    c.close()
    n += 1
    return n


@run.case
def one_bufferevent_per_connection():
    check(os.path.isfile(BEVCOUNT), 'no %s (make check builds it)' % BEVCOUNT)
    tmp = ht.make_tempdir()
    log = os.path.join(tmp, 'bevcount.log')
    s = ht.Server(sleep='300ms', options={'workers': '2'}, env=preload_env(log))
    s.start()
    try:
        made = traffic(s)
    finally:
        rc = s.stop()
    check_eq(rc, 0, 'hellod exit status')
    with open(log) as f:
        events = [line.split() for line in f]
    seq = {}
    accepted = 0
    for what, fd in events:
        seq.setdefault(fd, []).append(what)
        accepted += what == 'accept'
    ht.note('%d connections made here, %d accepted in all (with the start-up probe), '
            '%d events' % (made, accepted, len(events)))
    check(accepted >= made, 'only %d accepts logged for %d connections: is %s preloaded?'
          % (accepted, made, BEVCOUNT))
    for fd, whats in seq.items():
        check_eq(whats, ['accept', 'new', 'free'] * (len(whats) // 3) or ['accept', 'new', 'free'],
                 'events on socket %s (want accept, new, free for each connection)' % fd)
    check_eq(sum(w.count('new') for w in seq.values()), accepted,
             'bufferevents made for %d accepted connections' % accepted)


if __name__ == '__main__':
    run.run()
