#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""access_log = PATH: access lines go to a file, buffered per worker, not to
stderr. Every response's line reaches the file: at exit, and within the
flush interval while hellod runs. SIGUSR1 after a rename (what logrotate
does) sends new lines to a fresh file while the renamed one keeps the old
ones, lines buffered before the signal included; nothing is lost. A file
that cannot be opened at start is a config error (exit 78) naming the
key's line; a reload can name another file, and a reload naming a file
that cannot be opened is refused. A failing write (/dev/full) is logged
once and counted in hellod_access_log_dropped_total, and hellod keeps
serving."""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_access_log', script_timeout=180)
TS = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z'
LINE = re.compile(r'^%s \[access\] 127\.0\.0\.1:\d+ "GET (/\S*) HTTP/1\.1" (\d{3}) \d+ '
                  r'\d+\.\d\dms w=[01]$' % TS)
FLUSH_S = 1.0                   # HELLOD_ACCESSLOG_FLUSH_MS


def lines(path):
    """The lines of path ([] if it does not exist), each checked against
    the format."""
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except FileNotFoundError:
        return []
    check(text == '' or text.endswith('\n'), '%s ends in a partial line: %r'
          % (path, text[-200:]))
    out = text.splitlines()
    for line in out:
        check(LINE.match(line), '%s: not an access line: %r' % (path, line))
    return out


def requests(s, n, path):
    """n requests for path: half on one keep-alive connection, half on a
    connection each, so that both workers are likely to serve some."""
    with s.conn() as c:
        for _ in range(n // 2):
            c.request('GET', path)
            c.read_response()
    for _ in range(n - n // 2):
        s.http('GET', path)


def server(tmp, name='access.log', **kw):
    opts = {'access_log': os.path.join(tmp, name), 'workers': '2'}
    opts.update(kw.pop('options', {}))
    return ht.Server(options=opts, **kw)


@run.case
def every_line_in_the_file_at_exit():
    tmp = ht.make_tempdir()
    log = os.path.join(tmp, 'access.log')
    s = server(tmp).start()
    try:
        check(os.path.exists(log), 'access log not created at start')
        requests(s, 300, '/exit')
        check_eq(s.stop(), 0, 'exit status')
    finally:
        s.stop()
    got = lines(log)
    check_eq(len([x for x in got if '"GET /exit ' in x]), 300, 'lines in the file')
    err = s.stderr_text()
    check('[access]' not in err, 'access lines on stderr too: %r' % err[-400:])
    check('exited cleanly' in err, 'no "exited cleanly" on stderr: %r' % err[-400:])
    check_eq(sorted(set(re.findall(r'w=(\d)$', '\n'.join(got), re.M))), ['0', '1'],
             'workers that wrote lines')


@run.case
def lines_flushed_within_a_second():
    tmp = ht.make_tempdir()
    log = os.path.join(tmp, 'access.log')
    with server(tmp) as s:
        requests(s, 50, '/soon')
        t0 = time.monotonic()
        ok = ht.wait_for(lambda: len(lines(log)) == 50, ht.slow(FLUSH_S + 1.5))
        ht.note('50 lines in the file %.2fs after the last response' % (time.monotonic() - t0))
        check(ok, 'after %.1fs, %d of 50 lines in the file while hellod runs'
              % (FLUSH_S + 1.5, len(lines(log))))


@run.case
def sigusr1_reopens_after_rename():
    tmp = ht.make_tempdir()
    log = os.path.join(tmp, 'access.log')
    old = log + '.1'
    with server(tmp) as s:
        requests(s, 100, '/before')
        # Still buffered (no flush yet, or only part): they must end up in
        # the renamed file, not the new one.
        os.rename(log, old)
        mark = len(s.stderr_text())
        s.signal(signal.SIGUSR1)
        check(s.wait_stderr('[info] SIGUSR1: reopened access log %s' % log, 5, mark),
              'no "SIGUSR1: reopened access log" line: %r' % s.stderr_tail(400))
        check(os.path.exists(log), 'no new %s after SIGUSR1' % log)
        requests(s, 60, '/after')
        check_eq(s.stop(), 0, 'exit status')
    a, b = lines(old), lines(log)
    check_eq((sum('"GET /before ' in x for x in a), sum('"GET /after ' in x for x in a)),
             (100, 0), '(before, after) lines in the renamed file')
    check_eq((sum('"GET /before ' in x for x in b), sum('"GET /after ' in x for x in b)),
             (0, 60), '(before, after) lines in the new file')


@run.case
def unopenable_file_is_a_config_error():
    tmp = ht.make_tempdir()
    bad = os.path.join(tmp, 'no', 'such', 'dir', 'access.log')
    s = ht.Server(options={'access_log': bad})
    s.port = ht.free_port()
    s.write_config()
    p = ht.run_hellod(['-c', s.conf])
    check_eq(p.returncode, 78, 'exit status; stderr: %r' % p.stderr[-400:])
    n = [i + 1 for i, line in enumerate(s.config_lines()) if line.startswith('access_log')][0]
    want = '%s:%d: access_log: %s: No such file or directory' % (s.conf, n, bad)
    check(want in p.stderr.splitlines(), 'no line %r in stderr: %r' % (want, p.stderr[-400:]))
    check('configuration %s has errors' % s.conf in p.stderr, 'no summary line: %r'
          % p.stderr[-400:])



@run.case
def unopenable_file_from_o_names_the_option():
    # Set with -o, the file has no line in the config: the message names
    # the option instead of FILE:0.
    tmp = ht.make_tempdir()
    bad = os.path.join(tmp, 'no', 'such', 'dir', 'access.log')
    s = ht.Server()
    s.port = ht.free_port()
    s.write_config()
    p = ht.run_hellod(['-c', s.conf, '-o', 'access_log=' + bad])
    check_eq(p.returncode, 78, 'exit status; stderr: %r' % p.stderr[-400:])
    want = '-o access_log=%s: access_log: %s: No such file or directory' % (bad, bad)
    check(want in p.stderr.splitlines(), 'no line %r in stderr: %r' % (want, p.stderr[-400:]))
    check(':0:' not in p.stderr, 'a line number 0 in stderr: %r' % p.stderr[-400:])

def reload_with(s, access_log):
    """Rewrite s's config with access_log and SIGHUP it; returns where its
    stderr stood before the signal."""
    s.options['access_log'] = access_log
    s.write_config()
    mark = len(s.stderr_text())
    s.signal(signal.SIGHUP)
    return mark


@run.case
def reload_switches_file():
    tmp = ht.make_tempdir()
    a, b = os.path.join(tmp, 'a.log'), os.path.join(tmp, 'b.log')
    bad = os.path.join(tmp, 'missing', 'c.log')
    with server(tmp, 'a.log') as s:
        requests(s, 40, '/a')
        mark = reload_with(s, b)
        check(s.wait_stderr('reloaded configuration', 5, mark), 'no reload: %r'
              % s.stderr_tail(400))
        requests(s, 30, '/b')
        # A reload naming a file that cannot be opened is refused whole.
        mark = reload_with(s, bad)
        check(s.wait_stderr('reload failed, keeping running config', 5, mark),
              'no "reload failed": %r' % s.stderr_tail(400))
        check(s.wait_stderr(': access_log: %s: No such file or directory' % bad, 5, mark),
              'no access_log error line: %r' % s.stderr_tail(400))
        requests(s, 20, '/b2')
        # And off stops the file.
        mark = reload_with(s, 'off')
        check(s.wait_stderr('reloaded configuration', 5, mark), 'no reload: %r'
              % s.stderr_tail(400))
        requests(s, 10, '/off')
        check_eq(s.stop(), 0, 'exit status')
    la, lb = lines(a), lines(b)
    check_eq([sum('"GET %s ' % p in x for x in la) for p in ('/a', '/b', '/b2', '/off')],
             [40, 0, 0, 0], 'lines for /a, /b, /b2, /off in a.log')
    check_eq([sum('"GET %s ' % p in x for x in lb) for p in ('/a', '/b', '/b2', '/off')],
             [0, 30, 20, 0], 'lines for /a, /b, /b2, /off in b.log')
    check('[access]' not in s.stderr_text(), 'access lines on stderr')


@run.case
def failing_writes_logged_once():
    if not os.path.exists('/dev/full'):
        raise ht.Skip('no /dev/full')
    mport = ht.free_port()
    with ht.Server(options={'access_log': '/dev/full', 'workers': '1',
                            'metrics_listen': '%s:%d' % (ht.HOST, mport)}) as s:
        for _ in range(3):
            requests(s, 10, '/full')
            time.sleep(FLUSH_S + 0.3)
        check_eq(int(ht.metric(mport, 'hellod_access_log_dropped_total')), 30,
                 'hellod_access_log_dropped_total')
        ht.check_page(s.http('GET', '/'), 200, ht.hello_bytes())
        err = s.stderr_text()
        warns = re.findall(r'(?m)^%s \[warn\] access log /dev/full: write failed, access '
                           r'lines are dropped until a write succeeds: No space left on '
                           r'device$' % TS, err)
        check_eq(len(warns), 1, 'write failure warnings (%r)' % err[-600:])
        check('[access]' not in err, 'access lines on stderr')


if __name__ == '__main__':
    run.run()
