#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Signals: SIGHUP reload (pages + config, broken config keeps the old one),
SIGTERM/SIGINT graceful shutdown, second SIGTERM exits at once; SIGHUP every
100 ms under load fails no request and drops no connection; SIGTERM under
load loses no response that hellod took on."""

import itertools
import os
import random
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_signals', script_timeout=170)
HELLO = ht.hello_bytes()
NOTFOUND = ht.notfound_bytes()
NEW_HELLO = (b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Reloaded</title>'
             b'</head><body><p>reloaded page \xc3\xa9</p></body></html>\n')


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def wait_body(s, path, body, timeout=5):
    """Poll GET path until it returns body; returns the last response."""
    last = [None]

    def probe():
        last[0] = s.http('GET', path)
        return last[0].body == body
    ht.wait_for(probe, timeout, 0.1)
    return last[0]


@run.case
def sighup_reloads_page():
    with ht.Server(copy_root=True) as s:
        with s.conn() as k:
            k.request('GET', '/')
            ht.check_page(k.read_response(), 200, HELLO)
            mark = len(s.stderr_text())
            write(os.path.join(s.root, 'hello.html'), NEW_HELLO)
            s.signal(signal.SIGHUP)
            r = wait_body(s, '/', NEW_HELLO)
            ht.check_page(r, 200, NEW_HELLO)
            check(s.wait_stderr('reloaded configuration from %s' % s.conf, 3, mark),
                  'no "reloaded configuration from %s" in stderr: %s' % (s.conf, s.stderr_tail()))
            # the keep-alive connection opened before the reload still works
            k.request('GET', '/')
            r = k.read_response()
            check_eq(r.status, 200, 'GET / on the pre-reload connection')
            check(r.body in (HELLO, NEW_HELLO), 'pre-reload connection got an unexpected body')
            k.request('GET', '/nope')
            ht.check_page(k.read_response(), 404, NOTFOUND)
        ht.check_page(s.http('GET', '/sleep', timeout=5), 200, NEW_HELLO)
        check(s.alive(), 'server died')


@run.case
def sighup_reloads_config():
    with ht.Server(sleep='3s') as s:
        mark = len(s.stderr_text())
        s.options['sleep'] = '300ms'
        s.write_config()
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reloaded configuration', 5, mark),
              'no "reloaded configuration" after SIGHUP: %s' % s.stderr_tail())
        r = s.http('GET', '/sleep', timeout=6)
        ht.note('/sleep after reloading sleep 3s -> 300ms took %.3fs' % r.elapsed)
        ht.check_page(r, 200, HELLO)
        check(0.25 <= r.elapsed < 1.5, '/sleep took %.3fs after reload to 300ms' % r.elapsed)


@run.case
def sighup_broken_config_keeps_old():
    with ht.Server(copy_root=True) as s:
        mark = len(s.stderr_text())
        lines = s.config_lines() + ['bogus = 1']
        bad_line = len(lines)
        s.write_config(lines)
        # page edits must not be applied by a failed reload either
        write(os.path.join(s.root, 'hello.html'), NEW_HELLO)
        s.signal(signal.SIGHUP)
        needle = '%s:%d:' % (s.conf, bad_line)
        check(s.wait_stderr(needle, 5, mark),
              'stderr lacks %r after a broken reload: %s' % (needle, s.stderr_tail()))
        check(s.wait_stderr('reload failed', 1, mark),
              'stderr lacks "reload failed": %s' % s.stderr_tail())
        time.sleep(0.2)
        check(s.alive(), 'server died on a broken config reload')
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        ht.check_page(s.http('GET', '/nope'), 404, NOTFOUND)
        # fixing the config and reloading again picks up the new page
        mark = len(s.stderr_text())
        s.write_config()
        s.signal(signal.SIGHUP)
        r = wait_body(s, '/', NEW_HELLO)
        ht.check_page(r, 200, NEW_HELLO)
        check(s.wait_stderr('reloaded configuration', 3, mark), 'no reload message after fix')


@run.case
def sighup_missing_page_keeps_old():
    with ht.Server(copy_root=True) as s:
        mark = len(s.stderr_text())
        os.unlink(os.path.join(s.root, 'hello.html'))
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reload failed', 5, mark),
              'stderr lacks "reload failed" after removing hello.html: %s' % s.stderr_tail())
        check('hello.html' in s.stderr_text()[mark:],
              'the reload error does not name hello.html: %s' % s.stderr_tail())
        time.sleep(0.2)
        check(s.alive(), 'server died')
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        ht.check_page(s.http('GET', '/nope'), 404, NOTFOUND)


@run.case
def sighup_listen_change_warns():
    with ht.Server() as s:
        mark = len(s.stderr_text())
        old_port = s.port
        lines = s.config_lines()
        lines[1] = 'listen = %s:%d' % (ht.HOST, ht.free_port())
        s.write_config(lines)
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('listen addresses changed', 5, mark),
              'no "listen addresses changed" warning: %s' % s.stderr_tail())
        check('[warn]' in s.stderr_text()[mark:], 'listen change not logged as [warn]')
        ht.check_page(ht.http(old_port, 'GET', '/'), 200, HELLO)


@run.case
def sigterm_finishes_pending_request():
    with ht.Server(sleep='2s') as s:
        port = s.port
        with s.conn(timeout=8) as a:
            t0 = time.monotonic()
            a.request('GET', '/sleep')
            time.sleep(0.3)
            t_sig = time.monotonic()
            s.signal(signal.SIGTERM)
            refused = ht.wait_for(lambda: ht.connect_refused(port), 1.0, 0.02)
            t_ref = time.monotonic() - t_sig
            check(refused, 'new connections still accepted 1s after SIGTERM')
            ht.note('listener closed %.3fs after SIGTERM' % t_ref)
            check(s.alive(), 'server exited with a request pending (rc %s)' % s.proc.poll())
            r = a.read_response(timeout=6)
            dt = r.time - t0
            ht.check_page(r, 200, HELLO)
            check('close' in r.connection_tokens(),
                  'response finished during shutdown lacks Connection: close: %r' % r.headers)
            check(dt >= 1.9, 'pending /sleep answered after %.3fs (sleep = 2s)' % dt)
            a.expect_closed(3, 'after the shutdown response')
        rc = s.wait_exit(3)
        ht.note('exit status %s, %.3fs after SIGTERM' % (rc, time.monotonic() - t_sig))
        check_eq(rc, 0, 'exit status after graceful shutdown')


def idle_shutdown(sig):
    with ht.Server() as s:
        conns = []
        for i in range(3):
            c = s.conn()
            c.request('GET', '/')
            ht.check_page(c.read_response(), 200, HELLO)
            conns.append(c)
        conns.append(s.conn())     # connected, nothing sent
        time.sleep(0.1)
        t0 = time.monotonic()
        s.signal(sig)
        rc = s.wait_exit(2)
        dt = time.monotonic() - t0
        ht.note('exit status %s %.3fs after signal %d' % (rc, dt, sig))
        check(rc is not None, 'still running 2s after the signal with only idle connections')
        check(dt < 1.0, 'exit took %.3fs with only idle connections (want < 1s)' % dt)
        check_eq(rc, 0, 'exit status')
        for i, c in enumerate(conns):
            got, how = c.wait_closed(2)
            check(got == b'', 'idle connection %d got bytes at shutdown: %r' % (i, got[:100]))
            c.close()


@run.case
def sigterm_idle_exits_quickly():
    idle_shutdown(signal.SIGTERM)


@run.case
def sigint_idle_exits_quickly():
    idle_shutdown(signal.SIGINT)


@run.case
def second_sigterm_exits_at_once():
    with ht.Server(sleep='5s', options={'shutdown_timeout': '10s'}) as s:
        with s.conn(timeout=8) as a:
            a.request('GET', '/sleep')
            time.sleep(0.3)
            s.signal(signal.SIGTERM)
            rc = s.wait_exit(0.5)
            check(rc is None, 'exited (%s) on the first SIGTERM with a /sleep pending' % rc)
            t0 = time.monotonic()
            s.signal(signal.SIGTERM)
            rc = s.wait_exit(2)
            dt = time.monotonic() - t0
            ht.note('second SIGTERM: exit status %s after %.3fs' % (rc, dt))
            check(rc is not None and dt < 1.0, 'second SIGTERM did not exit at once (%.3fs)' % dt)


@run.case
def shutdown_timeout_bounds_exit():
    with ht.Server(sleep='10s', options={'shutdown_timeout': '1s'}) as s:
        with s.conn(timeout=8) as a:
            a.request('GET', '/sleep')
            time.sleep(0.3)
            t0 = time.monotonic()
            s.signal(signal.SIGTERM)
            rc = s.wait_exit(4)
            dt = time.monotonic() - t0
            ht.note('exit status %s %.3fs after SIGTERM (shutdown_timeout = 1s)' % (rc, dt))
            check(rc is not None, 'still running 4s after SIGTERM with shutdown_timeout = 1s')
            check(0.8 <= dt <= 3.0, 'exit after %.3fs, want ~1s' % dt)
            check_eq(rc, 0, 'exit status after shutdown_timeout')


# ------------------------------------------------------------- under load

PAGE_A = NEW_HELLO.replace(b'reloaded page', b'page A')
PAGE_B = NEW_HELLO.replace(b'reloaded page', b'page B')


def replace_file(path, data):
    """Write path atomically (rename), so a reload never reads half a page."""
    tmp = path + '.tmp'
    write(tmp, data)
    os.replace(tmp, path)


class Load:
    """Client threads hammering a server until stop(): `keepalive` threads
    each keep one connection for the whole run, `short` threads open one
    per request. fn(conn, i) does request i on conn and returns False when
    the connection is done; errors are collected."""

    def __init__(self, s, keepalive, short, fn):
        self.s = s
        self.fn = fn
        self.done = threading.Event()
        self.errors = []
        self.count = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(keep,), daemon=True)
                        for keep in [True] * keepalive + [False] * short]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def error(self, msg):
        with self.lock:
            self.errors.append(msg)

    def run(self, keep):
        i = 0
        try:
            c = self.s.conn(timeout=ht.slow(5)) if keep else None
            while not self.done.is_set():
                if not keep:
                    c = self.s.conn(timeout=ht.slow(5))
                try:
                    ok = self.fn(c, i)
                finally:
                    if not keep:
                        c.close()
                with self.lock:
                    self.count += 1
                i += 1
                if not ok:
                    return
            if keep:
                c.close()
        except Exception as e:
            self.error('%s client, request %d: %s: %s'
                       % ('keep-alive' if keep else 'short', i, type(e).__name__, e))

    def stop(self, timeout):
        self.done.set()
        for t in self.threads:
            t.join(timeout)
        return [t for t in self.threads if t.is_alive()]


@run.case
def sighup_every_100ms_under_load():
    # Reload every 100 ms, with hello.html swapped between two versions
    # each time, while keep-alive and new connections ask for /, a 404 and
    # /sleep (which spans reloads): every request succeeds with one of the
    # pages, and no keep-alive connection is closed.
    pages = (HELLO, PAGE_A, PAGE_B)
    with ht.Server(copy_root=True, sleep='300ms') as s:
        page = os.path.join(s.root, 'hello.html')

        def request(c, i):
            path = ('/sleep', '/nope', '/', '/', '/')[i % 5]
            c.request('GET', path)
            r = c.read_response()
            if path == '/nope':
                ht.check_page(r, 404, NOTFOUND)
            else:
                check_eq(r.status, 200, 'status of %s' % path)
                check(r.body in pages, 'body of %s is none of the pages: %r'
                      % (path, r.body[:80]))
            check('close' not in r.connection_tokens(),
                  'a reload closed a connection: %r' % (r.headers,))
            return True

        mark = len(s.stderr_text())
        load = Load(s, keepalive=6, short=3, fn=request).start()
        nsig = 0
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 3:
                replace_file(page, pages[1 + nsig % 2])
                s.signal(signal.SIGHUP)
                nsig += 1
                time.sleep(0.1)
        finally:
            stuck = load.stop(ht.slow(5))
        text = s.stderr_text()[mark:]
        nreload = text.count('reloaded configuration from')
        ht.note('%d SIGHUPs in %.1fs: %d reloads logged, %d requests, %d errors'
                % (nsig, time.monotonic() - t0, nreload, load.count, len(load.errors)))
        check(not stuck, '%d client threads hung' % len(stuck))
        check(not load.errors, '%d requests failed, first: %s'
              % (len(load.errors), load.errors[0] if load.errors else ''))
        check('reload failed' not in text, 'a reload failed: %s' % s.stderr_tail())
        # Signals 100 ms apart are not merged: one reload each.
        check(nreload >= nsig - 1, '%d reloads for %d SIGHUPs' % (nreload, nsig))
        check(load.count > 5 * nsig, 'only %d requests during the reloads' % load.count)
        r = wait_body(s, '/', pages[1 + (nsig - 1) % 2])
        check_eq(r.body, pages[1 + (nsig - 1) % 2], 'page after the last reload')
        check(s.alive(), 'server died')


GRACE = ht.slow(0.2)     # hellod has read a request sent this long ago
ID_RE = re.compile(r'"GET /(?:sleep)?\?id=(\d+) HTTP/1\.1" (\d{3}) ')


def exchange(c, path):
    """Send GET path on c and read its response: ('full', Response),
    ('none', how) if the connection ended before any byte of it, or
    ('partial', text) if it ended inside the response."""
    try:
        c.request('GET', path)
    except OSError as e:
        return 'none', 'send: %s' % e.strerror
    try:
        return 'full', c.read_response()
    except (ConnectionResetError, ConnectionAbortedError):
        if c.buf:
            return 'partial', 'reset after %d bytes' % len(c.buf)
        return 'none', 'reset'
    except ht.ProtocolError as e:
        if 'before a response' in str(e):
            return 'none', 'eof'
        return 'partial', str(e)


@run.case
def sigterm_under_load_loses_no_response():
    # Keep-alive and short-lived clients send GET / and /sleep, each
    # request tagged ?id=N, when SIGTERM comes. Every request must end in
    # a whole response, or with no byte at all: hellod never read it (the
    # connection was still in the listen queue, which the kernel resets
    # when the listener closes, or idle: closed with the request unread,
    # which also makes a reset). Never in a cut-off response. Every
    # request in the access log (hellod answered it) must have reached its
    # client whole. And a request sent well before the signal on an open
    # connection has been read, so it must be answered: /sleep requests
    # sent GRACE + 0.1 s before the signal are sure to be among them.
    rnd = random.Random(5)
    sleep_ms = int(1000 * (GRACE + 0.5))
    with ht.Server(sleep='%dms' % sleep_ms, options={'shutdown_timeout': '10s'}) as s:
        ids = itertools.count()
        outcomes = {}
        sent_at = {}
        lock = threading.Lock()

        def request(c, i, keep, sleep=None):
            n = next(ids)
            if sleep is None:
                sleep = keep and rnd.random() < 0.1
            path = ('/sleep?id=%d' if sleep else '/?id=%d') % n
            t_sent = time.monotonic()
            kind, what = exchange(c, path)
            if kind == 'none':
                what += ', first request' if i == 0 else ', keep-alive'
            with lock:
                outcomes[n] = (kind, what)
                sent_at[n] = t_sent
            if kind == 'full':
                ht.check_page(what, 200, HELLO)
                return 'close' not in what.connection_tokens()
            return False

        def client(keep):
            # Reconnects after each closed connection, until refused.
            while True:
                try:
                    c = s.conn(timeout=ht.slow(8))
                except (ConnectionRefusedError, ConnectionResetError):
                    return      # listener closed (reset: while in its queue)
                with c:
                    i = 0
                    while request(c, i, keep) and keep:
                        i += 1

        def sleeper(c):
            with c:
                request(c, 1, True, sleep=True)

        errors = []

        def guard(fn, *args):
            try:
                fn(*args)
            except Exception as e:
                errors.append('%s: %s' % (type(e).__name__, e))
        threads = [threading.Thread(target=guard, args=(client, k), daemon=True)
                   for k in [True] * 8 + [False] * 8]
        for t in threads:
            t.start()
        sleepers = [s.conn(timeout=ht.slow(8)) for i in range(4)]
        time.sleep(1.0)
        for c in sleepers:
            threads.append(threading.Thread(target=guard, args=(sleeper, c),
                                            daemon=True))
            threads[-1].start()
        time.sleep(GRACE + 0.1)
        t_sig = time.monotonic()
        s.signal(signal.SIGTERM)
        rc = s.wait_exit(ht.slow(8))
        dt = time.monotonic() - t_sig
        for t in threads:
            t.join(ht.slow(5))
        check(not any(t.is_alive() for t in threads), 'client threads hung')
        check(not errors, '%d clients failed, first: %s'
              % (len(errors), errors[0] if errors else ''))
        kinds = {}
        for kind, what in outcomes.values():
            key = kind if kind != 'none' else 'none (%s)' % what
            kinds[key] = kinds.get(key, 0) + 1
        ht.note('SIGTERM under load: exit %s after %.2fs; %d requests: %s'
                % (rc, dt, len(outcomes), ', '.join('%s %d' % kv for kv in
                                                    sorted(kinds.items()))))
        check_eq(rc, 0, 'exit status after a graceful shutdown under load')
        partial = [(n, w) for n, (k, w) in outcomes.items() if k == 'partial']
        check(not partial, '%d responses cut off, e.g. id %s' % (len(partial),
                                                                 partial[:3]))
        logged = {int(m.group(1)): int(m.group(2))
                  for m in ID_RE.finditer(s.stderr_text())}
        check(len(logged) > 20, 'only %d requests were answered' % len(logged))
        lost = sorted(n for n in logged if outcomes.get(n, ('?',))[0] != 'full')
        check(not lost, '%d responses in the access log never reached their '
              'client whole, e.g. id %s: %s' % (len(lost), lost[:3],
                                                [outcomes.get(n) for n in lost[:3]]))
        unlogged = sorted(n for n, (k, w) in outcomes.items()
                          if k == 'full' and n not in logged)
        check(not unlogged, 'responses not in the access log: %s' % unlogged[:5])
        # A request sent well before the signal has been read by hellod
        # (on an accepted connection: the first one on a connection may
        # only just have been accepted): it must not be dropped.
        dropped = sorted(n for n, (k, w) in outcomes.items()
                         if k != 'full' and 'first request' not in w
                         and sent_at[n] < t_sig - GRACE)
        check(not dropped, '%d requests sent over %.1fs before SIGTERM on an open '
              'connection got no response, e.g. id %s: %s'
              % (len(dropped), GRACE, dropped[:3], [outcomes[n] for n in dropped[:3]]))


if __name__ == '__main__':
    run.run()
