#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""systemd notifications: the test plays the service manager. It binds the
NOTIFY_SOCKET datagram socket (with SO_PASSCRED, so every datagram carries its
sender's pid), starts hellod with NOTIFY_SOCKET and WATCHDOG_USEC, and checks
READY=1 -> WATCHDOG=1 at half the interval -> RELOADING=1 + MONOTONIC_USEC ->
READY=1 on SIGHUP -> a failed reload in STATUS= while serving goes on ->
STOPPING=1 on SIGTERM. Skipped (77) when hellod is built --with-systemd=no."""

import os
import re
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_systemd_notify', script_timeout=60, case_timeout=20)
HELLO = ht.hello_bytes()
WATCHDOG_USEC = 400000          # systemd's WatchdogSec=400ms
WINDOW = 1.0                    # seconds of watchdog pings counted


def mono_usec():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def write_conf(s, extra_lines):
    s.write_config(s.config_lines() + extra_lines)


def sighup_reloading(s, n):
    """SIGHUP; the next datagram is RELOADING=1 with a MONOTONIC_USEC taken
    between the signal and the datagram's arrival."""
    before = mono_usec()
    s.signal(signal.SIGHUP)
    f = n.expect('RELOADING', s.pid)
    after = mono_usec()
    check_eq(f['RELOADING'], '1', 'RELOADING')
    check('MONOTONIC_USEC' in f, 'RELOADING=1 without MONOTONIC_USEC: %r' % f)
    check(re.match(r'^[0-9]+$', f['MONOTONIC_USEC']) is not None,
          'MONOTONIC_USEC is not a number: %r' % f['MONOTONIC_USEC'])
    t = int(f['MONOTONIC_USEC'])
    check(before <= t <= after,
          'MONOTONIC_USEC=%d is not between the SIGHUP (%d) and the datagram (%d)'
          % (t, before, after))


@run.case
def notify_sequence():
    ht.require_systemd()
    with ht.Notify() as n:
        with ht.Server(env=n.env(WATCHDOG_USEC=str(WATCHDOG_USEC))) as s:
            # READY=1 first, with a STATUS= naming the address and the root
            f = n.expect('READY', s.pid, skip_watchdog=False)
            check_eq(f['READY'], '1', 'READY')
            status = f.get('STATUS', '')
            ht.note('READY status: %s' % status)
            check('serving on %s:%d' % (ht.HOST, s.port) in status,
                  'STATUS=%r does not say "serving on %s:%d"' % (status, ht.HOST, s.port))
            check(s.root in status, 'STATUS=%r does not name the root %s' % (status, s.root))
            ht.check_page(s.http('GET', '/'), 200, HELLO)
            check(s.wait_stderr('systemd watchdog: 400 ms, sending WATCHDOG=1 every 200 ms', 2),
                  'no watchdog interval in the log: %s' % s.stderr_tail())

            # The live STATUS= shows the GET's second ("1 req/s"), then
            # "0 req/s"; from then on the figures do not change, so
            # nothing but WATCHDOG=1 may come: STATUS= only on a change.
            time.sleep(2.5)
            # WATCHDOG=1 every WATCHDOG_USEC/2, from hellod's pid
            half = WATCHDOG_USEC / 2e6
            n.drain()
            times = []
            end = time.monotonic() + WINDOW
            while time.monotonic() < end:
                got = n.recv(end - time.monotonic())
                if got is None:
                    break
                pid, fields, text = got
                check_eq(text, 'WATCHDOG=1', 'datagram while idle')
                check_eq(pid, s.pid, 'sender pid of WATCHDOG=1')
                times.append(time.monotonic())
            want = WINDOW / half
            ht.note('%d WATCHDOG=1 in %.1fs (interval %.0f ms: about %.0f)'
                    % (len(times), WINDOW, half * 1000, want))
            check(want * 0.6 <= len(times) <= want * 1.5 + 1,
                  '%d WATCHDOG=1 pings in %.1fs, want about %.0f (one per %.0f ms)'
                  % (len(times), WINDOW, want, half * 1000))
            gap = statistics.median(b - a for a, b in zip(times, times[1:]))
            check(half * 0.6 <= gap <= half * 1.5,
                  'median gap between pings %.0f ms, want about %.0f ms'
                  % (gap * 1000, half * 1000))

            # a good reload: RELOADING=1 then READY=1, STATUS=reloaded
            sighup_reloading(s, n)
            f = n.expect('READY', s.pid)
            check(f.get('STATUS', '').startswith('reloaded'),
                  'STATUS after a good reload: %r' % f.get('STATUS'))

            # a broken config: READY=1 (reload over) with the first error
            lines = s.config_lines() + ['header_timeout = banana']
            s.write_config(lines)
            bad_line = len(lines)
            sighup_reloading(s, n)
            f = n.expect('READY', s.pid)
            status = f.get('STATUS', '')
            ht.note('STATUS after a broken reload: %s' % status)
            check(status.startswith('reload failed: %s:%d: ' % (s.conf, bad_line)),
                  'STATUS=%r does not start with "reload failed: %s:%d: "'
                  % (status, s.conf, bad_line))
            check(status.endswith('serving the previous configuration'),
                  'STATUS=%r does not say the previous configuration serves' % status)
            ht.check_page(s.http('GET', '/'), 200, HELLO)

            # fixed again
            s.write_config()
            sighup_reloading(s, n)
            f = n.expect('READY', s.pid)
            check(f.get('STATUS', '').startswith('reloaded'),
                  'STATUS after the fixed reload: %r' % f.get('STATUS'))

            # SIGTERM: STOPPING=1, exit 0
            s.signal(signal.SIGTERM)
            f = n.expect('STOPPING', s.pid)
            check_eq(f['STOPPING'], '1', 'STOPPING')
            check_eq(s.wait_exit(5), 0, 'exit status after SIGTERM')


@run.case
def live_status():
    """STATUS= carries live figures: connections, sleeping /sleep requests and
    requests per second, at most once a second and only when they change."""
    ht.require_systemd()
    nsleep = 7
    with ht.Notify() as n:
        with ht.Server(env=n.env(), sleep='4s') as s:
            n.expect('READY', s.pid)
            conns = []
            try:
                for _ in range(nsleep):
                    c = ht.Conn(s.port)
                    c.send(b'GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n')
                    conns.append(c)
                want = '%d connections, %d sleeping, ' % (nsleep, nsleep)
                statuses, stamps = [], []
                deadline = time.monotonic() + 3.5
                while time.monotonic() < deadline:
                    got = n.recv(deadline - time.monotonic())
                    if got is None:
                        break
                    pid, fields, text = got
                    if 'STATUS' not in fields:
                        continue
                    check_eq(pid, s.pid, 'sender of %r' % text)
                    check(ht.is_live_status(fields), 'not a live STATUS=: %r' % text)
                    statuses.append(fields['STATUS'])
                    stamps.append(time.monotonic())
                ht.note('live STATUS= lines: %r' % statuses)
                check(any(st.startswith(want) for st in statuses),
                      'no STATUS=%r... while %d /sleep requests wait: %r'
                      % (want, nsleep, statuses))
                # at most one a second (timer jitter allowed), never twice
                # the same text in a row
                for a, b in zip(stamps, stamps[1:]):
                    check(b - a > 0.8, 'two STATUS= %.2fs apart: %r' % (b - a, statuses))
                for a, b in zip(statuses, statuses[1:]):
                    check(a != b, 'the same STATUS= sent twice in a row: %r' % a)
                # while the figures stand still, nothing is sent
                check(len(statuses) <= 2,
                      '%d STATUS= in 3.5s with the figures unchanged: %r'
                      % (len(statuses), statuses))
                # 200 keep-alive requests in about a second: a req/s figure
                k = ht.Conn(s.port)
                t0 = time.monotonic()
                for _ in range(200):
                    k.send(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
                    check_eq(k.read_response().status, 200, 'GET / status')
                while time.monotonic() - t0 < 1.0:
                    time.sleep(0.05)
                rates = []
                deadline = time.monotonic() + 2.5
                while time.monotonic() < deadline:
                    got = n.recv(deadline - time.monotonic())
                    if got is None:
                        break
                    m = re.search(r', ([0-9,]+) req/s$', got[1].get('STATUS', ''))
                    if m:
                        rates.append(int(m.group(1).replace(',', '')))
                ht.note('req/s figures after 200 requests: %r' % rates)
                check(rates and max(rates) >= 50 and sum(rates) <= 260,
                      'req/s figures %r after 200 requests in about a second' % rates)
                k.close()
            finally:
                for c in conns:
                    c.close()


@run.case
def failed_page_reload_in_status():
    ht.require_systemd()
    with ht.Notify() as n:
        with ht.Server(copy_root=True, env=n.env()) as s:
            n.expect('READY', s.pid)
            os.unlink(os.path.join(s.root, 'hello.html'))
            sighup_reloading(s, n)
            f = n.expect('READY', s.pid)
            status = f.get('STATUS', '')
            check(status.startswith('reload failed: ') and 'hello.html' in status,
                  'STATUS=%r does not say the reload failed on hello.html' % status)
            ht.check_page(s.http('GET', '/'), 200, HELLO)


@run.case
def no_watchdog_unless_asked():
    """No WATCHDOG_USEC, or one meant for another pid: no pings."""
    ht.require_systemd()
    with ht.Notify() as n:
        for env in ({}, {'WATCHDOG_USEC': '100000', 'WATCHDOG_PID': '1'}):
            with ht.Server(env=n.env(**env)) as s:
                n.expect('READY', s.pid, skip_watchdog=False)
                time.sleep(0.5)
                pings = [t for t in n.drain() if 'WATCHDOG=1' in t]
                check(not pings, 'with %r: %d WATCHDOG=1 in 0.5s' % (env, len(pings)))
                check('watchdog' not in s.stderr_text(),
                      'with %r the log mentions a watchdog: %s' % (env, s.stderr_tail()))
                s.signal(signal.SIGTERM)
                n.expect('STOPPING', s.pid, skip_watchdog=False)
                check_eq(s.wait_exit(5), 0, 'exit status')


@run.case
def bad_watchdog_usec_is_logged():
    ht.require_systemd()
    with ht.Notify() as n:
        with ht.Server(env=n.env(WATCHDOG_USEC='soon')) as s:
            n.expect('READY', s.pid, skip_watchdog=False)
            check(s.wait_stderr('WATCHDOG_USEC', 2),
                  'a malformed WATCHDOG_USEC is not logged: %s' % s.stderr_tail())
            ht.check_page(s.http('GET', '/'), 200, HELLO)


@run.case
def abstract_notify_socket():
    """NOTIFY_SOCKET=@name is a socket in the abstract namespace."""
    ht.require_systemd()
    with ht.Notify(abstract=True) as n:
        check(n.path.startswith('@'), 'not an abstract name: %r' % n.path)
        with ht.Server(env=n.env()) as s:
            n.expect('READY', s.pid, skip_watchdog=False)
            s.signal(signal.SIGTERM)
            n.expect('STOPPING', s.pid, skip_watchdog=False)
            check_eq(s.wait_exit(5), 0, 'exit status')


if __name__ == '__main__':
    run.run()
