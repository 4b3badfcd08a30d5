#!/usr/bin/env python3
"""Signals: SIGHUP reload (pages + config, broken config keeps the old one),
SIGTERM/SIGINT graceful shutdown, second SIGTERM exits at once."""

import os
import signal
import sys
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


if __name__ == '__main__':
    run.run()
