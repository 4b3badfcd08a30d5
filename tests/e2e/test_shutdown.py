#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Closing an idle connection loses no request (issue 15, section 2).

At SIGTERM, and when max_connections makes room by closing an idle
keep-alive connection, a request whose bytes have already arrived, unread,
is answered (with Connection: close) before the connection closes, and a
request sent in the moment after SIGTERM is answered too; a connection that
sends nothing is closed with a FIN, never a reset. Connections still in the
listen queue at SIGTERM are accepted and answered, not reset by the close
of the listening socket.

To have the bytes arrive before hellod's loop reads them, these cases use
server/hellod-testhooks: SIGUSR2 blocks every worker's loop for
HELLOD_TEST_STALL_MS. SIGTERM (or the new connection) is queued first and
the request bytes after it, so that the stalled loop sees the shutdown (or
the accept) before the readable socket, as it does now and then under
load."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_shutdown', script_timeout=90, case_timeout=25)
HELLO = ht.hello_bytes()
STALL_MS = int(ht.slow(1000))
ht.HELLOD = os.environ.get('HELLOD_TESTHOOKS') or os.path.join(
    ht.BUILDDIR, 'server', 'hellod-testhooks')


def server(**options):
    opts = {'workers': 1, 'shutdown_timeout': '10s'}
    opts.update(options)
    return ht.Server(options=opts, env={'HELLOD_TEST_STALL_MS': str(STALL_MS)})


def stall(s):
    """Block the worker's loop for STALL_MS, from about now."""
    s.signal(signal.SIGUSR2)
    time.sleep(ht.slow(0.1))


def idle_and_new(s):
    """A keep-alive connection between requests, and a new one that has
    sent nothing yet."""
    idle = s.conn()
    idle.request('GET', '/')
    ht.check_page(idle.read_response(), 200, HELLO)
    return idle, s.conn()


def check_close_answer(c, what):
    r = c.read_response()
    ht.check_page(r, 200, HELLO)
    check('close' in r.connection_tokens(),
          '%s: answered without Connection: close (%s)' % (what, r.header('connection')))
    got, how = c.wait_closed(ht.slow(3))
    check_eq((got, how), (b'', 'eof'), '%s: how the connection ended after the answer' % what)


@run.case
def sigterm_answers_requests_already_in_the_socket():
    # A keep-alive connection between requests and a new one that has sent
    # nothing yet: both send a request once SIGTERM is queued for the
    # stalled worker. Closing them unread would reset both.
    with server() as s:
        idle, new = idle_and_new(s)
        time.sleep(ht.slow(0.2))          # accepted: CONN_IDLE_NEW
        stall(s)
        t0 = time.monotonic()
        s.signal(signal.SIGTERM)
        time.sleep(ht.slow(0.2))          # the stop message waits in the pipe
        idle.request('GET', '/?idle')
        new.request('GET', '/?new')
        check(time.monotonic() - t0 < STALL_MS / 1000 - 0.2,
              'requests sent after the stall ended: the case proves nothing')
        check_close_answer(idle, 'idle keep-alive connection')
        check_close_answer(new, 'new connection')
        check_eq(s.wait_exit(ht.slow(5)), 0, 'exit status')


@run.case
def sigterm_answers_a_request_sent_just_after():
    # The grace: a request that reaches an idle connection within
    # HELLOD_CLOSE_GRACE_MS (250 ms) of SIGTERM is answered.
    with server() as s:
        idle, new = idle_and_new(s)
        time.sleep(0.1)
        s.signal(signal.SIGTERM)
        time.sleep(0.05)
        idle.request('GET', '/?idle')
        new.request('GET', '/?new')
        check_close_answer(idle, 'idle keep-alive connection')
        check_close_answer(new, 'new connection')
        check_eq(s.wait_exit(ht.slow(5)), 0, 'exit status')


@run.case
def sigterm_closes_silent_connections_with_fin():
    # Nothing sent: closed with a FIN within the grace, and a request that
    # crosses the FIN is read and dropped, not answered with a reset.
    with server() as s:
        idle, new = idle_and_new(s)
        time.sleep(0.1)
        t0 = time.monotonic()
        s.signal(signal.SIGTERM)
        for c, what in ((idle, 'idle keep-alive'), (new, 'new')):
            got, how = c.wait_closed(ht.slow(3))
            check_eq((got, how), (b'', 'eof'), '%s connection at shutdown' % what)
        dt = time.monotonic() - t0
        check(dt >= 0.2, 'closed %.3fs after SIGTERM: no grace for a request on its '
              'way' % dt)
        idle.request('GET', '/?after-fin')
        time.sleep(0.1)
        got, how = idle.wait_closed(ht.slow(3))
        check_eq((got, how), (b'', 'eof'), 'a request sent after the FIN')
        check_eq(s.wait_exit(ht.slow(5)), 0, 'exit status')


@run.case
def sigterm_answers_connections_still_in_the_listen_queue():
    # Connections the kernel has queued but hellod has not accepted when
    # SIGTERM comes: closing the listening socket would reset them all.
    with server() as s:
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        stall(s)
        t0 = time.monotonic()
        s.signal(signal.SIGTERM)
        time.sleep(ht.slow(0.2))          # the stop message waits in the pipe
        queued = []
        for i in range(20):
            c = s.conn()
            c.request('GET', '/?queued=%d' % i)
            queued.append(c)
        check(time.monotonic() - t0 < STALL_MS / 1000 - 0.2,
              'connections made after the stall ended: the case proves nothing')
        for i, c in enumerate(queued):
            check_close_answer(c, 'queued connection %d' % i)
        check_eq(s.wait_exit(ht.slow(5)), 0, 'exit status')


@run.case
def eviction_answers_a_request_already_in_the_socket():
    # max_connections = 2: a new connection makes room by closing the
    # idle keep-alive one, whose next request arrived (unread) after the
    # new connection was queued.
    with server(max_connections=2) as s:
        idle = s.conn()
        idle.request('GET', '/')
        ht.check_page(idle.read_response(), 200, HELLO)
        stall(s)
        t0 = time.monotonic()
        new = s.conn()                      # queued before the request
        time.sleep(ht.slow(0.1))
        idle.request('GET', '/?idle')
        check(time.monotonic() - t0 < STALL_MS / 1000 - 0.2,
              'request sent after the stall ended: the case proves nothing')
        check_close_answer(idle, 'evicted keep-alive connection')
        new.request('GET', '/?new')
        ht.check_page(new.read_response(), 200, HELLO)
        check_eq(s.stop(), 0, 'exit status')


@run.case
def eviction_of_a_silent_connection_is_a_fin():
    with server(max_connections=2) as s:
        idle, new = idle_and_new(s)
        got, how = idle.wait_closed(ht.slow(3))
        check_eq((got, how), (b'', 'eof'), 'evicted idle connection')
        new.request('GET', '/')
        ht.check_page(new.read_response(), 200, HELLO)
        check_eq(s.stop(), 0, 'exit status')


if __name__ == '__main__':
    run.run()
