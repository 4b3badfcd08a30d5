#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Command line and configuration file: -t, -h, -V, -o KEY=VALUE, errors as
PATH:LINE: message (the pages under root checked in the same pass), exit codes
0 / 64 / 71 / 78."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_config', script_timeout=120)
TMP = ht.make_tempdir()
_n = [0]


def conf(lines, name=None):
    """Write a config file into the temp dir; returns its path. Run as root,
    `user = root` is appended (after the lines, so that line numbers in the
    expected errors stay as written) unless the lines set `user`."""
    _n[0] += 1
    path = os.path.join(TMP, name or 'c%03d.conf' % _n[0])
    if not any(line.split('=')[0].strip() == 'user' for line in lines):
        lines = list(lines) + ht.user_lines()
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def base_lines():
    return ['# test config', 'listen = 127.0.0.1:7878', 'root = %s' % ht.STATIC]


def test(path):
    p = ht.run_hellod(['-t', '-c', path])
    return p.returncode, p.stdout, p.stderr


def expect_ok(lines, what):
    path = conf(lines)
    rc, out, err = test(path)
    check(rc == 0, '%s: hellod -t exited %d, want 0; stderr: %s' % (what, rc, err.strip()[-600:]))
    check('configuration %s ok' % path in err,
          '%s: stderr lacks "configuration %s ok": %r' % (what, path, err[-600:]))


def error_lines(err, path):
    """Line numbers of `PATH:LINE: message` errors in err."""
    return sorted({int(m.group(1)) for m in
                   re.finditer(re.escape(path) + r':(\d+): *\S', err)})


def expect_errors(lines, want_lines, what):
    path = conf(lines)
    rc, out, err = test(path)
    check(rc == 78, '%s: hellod -t exited %d, want 78; stderr: %s' % (what, rc, err.strip()[-600:]))
    got = error_lines(err, path)
    check(got == sorted(want_lines), '%s: errors reported for lines %s, want %s; stderr: %s'
          % (what, got, sorted(want_lines), err.strip()[-800:]))
    return err


@run.case
def good_config_ok():
    expect_ok(base_lines() + ['sleep = 1s', 'header_timeout = 10s', 'keepalive_timeout = 5s',
                              'write_timeout = 10s', 'shutdown_timeout = 10s',
                              'max_connections = 100', 'max_header_size = 8KiB',
                              'log_level = debug', 'access_log = off'], 'full config')


@run.case
def shipped_config_ok():
    path = os.path.join(ht.SRCDIR, 'conf', 'hellod.conf')
    check(os.path.isfile(path), 'missing %s' % path)
    rc, out, err = test(path)
    check(rc == 0, 'hellod -t -c %s exited %d: %s' % (path, rc, err.strip()[-600:]))
    check('configuration %s ok' % path in err, 'stderr lacks "configuration %s ok": %r'
          % (path, err[-400:]))


@run.case
def comments_and_blank_lines_ok():
    expect_ok(['', '# comment', '   # indented comment', 'listen = 127.0.0.1:7878  # trailing',
               '', 'root = %s' % ht.STATIC, 'sleep = 2s # two seconds', '\t', 'log_level=warn',
               '  access_log   =   on  '], 'comments/blank lines/spacing')


@run.case
def three_errors_reported():
    lines = ['# three errors below',      # 1
             'bogus = 1',                 # 2 unknown key
             'root = %s' % ht.STATIC,     # 3
             'sleep = 5x',                # 4 bad duration
             'listen = 127.0.0.1:70000']  # 5 port out of range
    err = expect_errors(lines, [2, 4, 5], 'three errors')
    check('bogus' in err, 'unknown key error does not name the key: %r' % err)


@run.case
def durations_accepted():
    for v in ('500ms', '2m', '3', '10s'):
        expect_ok(base_lines() + ['sleep = %s' % v], 'sleep = %s' % v)
    for v in ('1500ms', '1m', '30'):
        expect_ok(base_lines() + ['header_timeout = %s' % v, 'write_timeout = %s' % v,
                                  'shutdown_timeout = %s' % v, 'keepalive_timeout = %s' % v],
                  'timeouts = %s' % v)
    expect_ok(base_lines() + ['keepalive_timeout = 0'], 'keepalive_timeout = 0')


@run.case
def sizes_accepted():
    for v in ('16KiB', '4096', '16K', '1MiB', '1M', '256B', '256', '1024B'):
        expect_ok(base_lines() + ['max_header_size = %s' % v], 'max_header_size = %s' % v)


@run.case
def listen_forms_accepted():
    expect_ok(['root = %s' % ht.STATIC, 'listen = 127.0.0.1:7878', 'listen = [::1]:7878',
               'listen = 0.0.0.0:8080', 'listen = 127.0.0.1:0'], 'several listen lines')


@run.case
def single_value_errors():
    cases = [
        ('sleep = 5x', 'bad duration'),
        ('sleep = -1s', 'negative duration'),
        ('sleep = s', 'duration without number'),
        ('sleep =', 'empty value'),
        ('sleep 5s', 'missing ='),
        ('max_header_size = 8XB', 'bad size'),
        ('max_header_size = 100', 'size below 256B'),
        ('max_header_size = 2MiB', 'size above 1MiB'),
        ('max_connections = many', 'bad number'),
        ('log_level = loud', 'bad log level'),
        ('access_log = maybe', 'bad on/off'),
        ('listen = 127.0.0.1:70000', 'port out of range'),
        ('listen = 127.0.0.1:-1', 'negative port'),
        ('listen = 300.1.2.3:80', 'bad IPv4 address'),
        ('listen = [::1:80', 'bad IPv6 bracket'),
        ('nosuchkey = 1', 'unknown key'),
    ]
    failures = []
    for line, what in cases:
        lines = base_lines() + ['sleep = 1s' if not line.startswith('sleep') else '# -', line]
        try:
            expect_errors(lines, [len(lines)], '%s (%r)' % (what, line))
        except ht.TestFailure as e:
            failures.append(str(e))
    check(not failures, '%d of %d bad values not reported right:\n%s'
          % (len(failures), len(cases), '\n'.join(failures)))


@run.case
def duplicate_single_valued_key():
    lines = base_lines() + ['sleep = 1s', 'log_level = info', 'sleep = 2s']
    expect_errors(lines, [6], 'sleep given twice')
    lines = base_lines() + ['root = %s' % ht.STATIC]
    expect_errors(lines, [4], 'root given twice')


@run.case
def duplicate_listen_address():
    lines = base_lines() + ['listen = 127.0.0.1:7879', 'listen = 127.0.0.1:7878']
    expect_errors(lines, [5], 'same listen address twice')


@run.case
def missing_pages():
    empty = os.path.join(TMP, 'emptyroot')
    os.makedirs(empty, exist_ok=True)
    path = conf(['listen = 127.0.0.1:7878', 'root = %s' % empty])
    rc, out, err = test(path)
    check(rc != 0, 'root without pages accepted by -t')
    check_eq(rc, 78, 'exit status for missing pages')
    check(os.path.join(empty, 'hello.html') in err or os.path.join(empty, '404.html') in err,
          'error does not name the missing page path under %s: %r' % (empty, err[-600:]))
    # only 404.html missing
    half = os.path.join(TMP, 'halfroot')
    os.makedirs(half, exist_ok=True)
    with open(os.path.join(half, 'hello.html'), 'wb') as f:
        f.write(ht.hello_bytes())
    path = conf(['listen = 127.0.0.1:7878', 'root = %s' % half])
    rc, out, err = test(path)
    check_eq(rc, 78, 'exit status for missing 404.html')
    check(os.path.join(half, '404.html') in err,
          'error does not name %s: %r' % (os.path.join(half, '404.html'), err[-600:]))


@run.case
def relative_root_resolved_against_config_dir():
    d = os.path.join(TMP, 'relconf')
    os.makedirs(d, exist_ok=True)
    ht.copy_static(d)
    path = os.path.join(d, 'hellod.conf')
    with open(path, 'w') as f:
        f.write('listen = 127.0.0.1:7878\nroot = static\n')
        f.write(''.join(line + '\n' for line in ht.user_lines()))
    # run from another directory: a relative root must not depend on the cwd
    p = ht.run_hellod(['-t', '-c', path], cwd='/')
    check(p.returncode == 0, 'relative root: exit %d: %s' % (p.returncode, p.stderr[-600:]))


@run.case
def missing_config_file():
    path = os.path.join(TMP, 'does-not-exist.conf')
    rc, out, err = test(path)
    ht.note('missing config: exit %d' % rc)
    check(rc != 0, 'missing config file accepted')
    check(path in err, 'error does not name %s: %r' % (path, err[-600:]))
    # also without -t
    p = ht.run_hellod(['-c', path])
    check(p.returncode != 0, 'hellod started with a missing config file')
    check(path in p.stderr, 'error does not name %s: %r' % (path, p.stderr[-600:]))


@run.case
def help_lists_keys():
    for opt in ('-h', '--help'):
        p = ht.run_hellod([opt])
        check_eq(p.returncode, 0, '%s exit status' % opt)
        for key in ht.SPEC_KEYS:
            check(re.search(r'(?m)^\s+%s\b' % re.escape(key), p.stdout),
                  '%s output does not list key %s: %r' % (opt, key, p.stdout[-800:]))
        for o in ('-c', '-t', '-h', '-V'):
            check(o in p.stdout, '%s output does not mention %s' % (opt, o))


@run.case
def version():
    for opt in ('-V', '--version'):
        p = ht.run_hellod([opt])
        check_eq(p.returncode, 0, '%s exit status' % opt)
        # the build's features follow: (+systemd) or (-systemd)
        check(re.match(r'^hellod \d+\.\d+\S* \([+-]systemd\)\n?$', p.stdout),
              '%s printed %r, want "hellod VERSION (+systemd)" or "(-systemd)"'
              % (opt, p.stdout))


@run.case
def long_options():
    path = conf(base_lines())
    p = ht.run_hellod(['--test', '--config', path])
    check(p.returncode == 0, '--test --config: exit %d: %s' % (p.returncode, p.stderr[-400:]))
    p = ht.run_hellod(['--test', '--config=%s' % path])
    check(p.returncode == 0, '--test --config=FILE: exit %d: %s' % (p.returncode, p.stderr[-400:]))


@run.case
def usage_errors_exit_64():
    for args in (['-Z'], ['--bogus'], ['-c'], ['extra-argument']):
        try:
            p = ht.run_hellod(args, timeout=5)
        except subprocess.TimeoutExpired:
            raise ht.TestFailure('hellod %s did not exit (started serving?)' % ' '.join(args))
        check_eq(p.returncode, 64, 'exit status of hellod %s' % ' '.join(args))
        check(p.stderr.strip() != '', 'hellod %s printed nothing on stderr' % ' '.join(args))


@run.case
def bind_failure_exits_71():
    blocker = socket.socket()
    blocker.bind((ht.HOST, 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        path = conf(['listen = 127.0.0.1:%d' % port, 'root = %s' % ht.STATIC])
        try:
            p = ht.run_hellod(['-c', path], timeout=5)
        except subprocess.TimeoutExpired:
            raise ht.TestFailure('hellod kept running although its port is taken')
        check_eq(p.returncode, 71, 'exit status when the port is taken')
        check(str(port) in p.stderr, 'bind error does not name the port: %r' % p.stderr[-400:])
    finally:
        blocker.close()


@run.case
def config_error_at_start_exits_78():
    path = conf(base_lines() + ['sleep = forever'])
    try:
        p = ht.run_hellod(['-c', path], timeout=5)
    except subprocess.TimeoutExpired:
        raise ht.TestFailure('hellod started with a broken config')
    check_eq(p.returncode, 78, 'exit status with a broken config')
    check('%s:4:' % path in p.stderr, 'stderr lacks %s:4: %r' % (path, p.stderr[-400:]))


@run.case
def port_zero_logs_actual_port():
    s = ht.Server()
    # start by hand: the helper would choose the port
    s.port = 0
    s.write_config()
    f = open(s.stderr_path, 'wb')
    proc = subprocess.Popen(ht.hellod_cmd(['-c', s.conf]), stdin=subprocess.DEVNULL,
                            stdout=f, stderr=f)
    s.proc = proc
    ht._live_servers.append(s)
    try:
        m = s.wait_stderr(re.compile(r'listening on 127\.0\.0\.1:(\d+)'), 10)
        check(m, 'no "listening on 127.0.0.1:PORT" line: %s' % s.stderr_tail())
        port = int(m.group(1))
        check(port != 0, 'logged port 0 instead of the actual port')
        ready = s.wait_stderr(re.compile(r'\[info\] hellod \S+ ready: 1 listener\(s\), '
                                         r'[1-9]\d* worker\(s\), root '
                                         + re.escape(ht.STATIC)), 5)
        check(ready, 'no "[info] hellod VERSION ready: 1 listener(s), N worker(s), root %s" '
              'line: %s'
              % (ht.STATIC, s.stderr_tail()))
        ht.check_page(ht.http(port, 'GET', '/'), 200, ht.hello_bytes())
    finally:
        s.stop()
        f.close()
    check_eq(proc.returncode, 0, 'exit status after SIGTERM')


def user_overrides():
    """-o user=root when the tests run as root (see ht.user_lines())."""
    return ['-o', 'user=root'] if os.geteuid() == 0 else []


def start_shipped(overrides):
    """Start hellod from the source tree as a user would, `hellod -c
    conf/hellod.conf -o ...`, with stderr in a file; returns (proc, stderr
    path). The caller stops it."""
    err = os.path.join(TMP, 'shipped%03d.log' % len(os.listdir(TMP)))
    f = open(err, 'wb')
    proc = subprocess.Popen(ht.hellod_cmd(['-c', 'conf/hellod.conf'] + overrides
                                          + user_overrides()),
                            cwd=ht.SRCDIR, stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    f.close()
    return proc, err


def read_text(path):
    with open(path, errors='replace') as f:
        return f.read()


def wait_log(proc, path, needle, timeout, start=0):
    """Wait until needle is in the log after offset start; False if hellod
    exited or the time ran out."""
    return ht.wait_for(lambda: needle in read_text(path)[start:] or proc.poll() is not None,
                       ht.slow(timeout)) and needle in read_text(path)[start:]


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(ht.slow(10))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@run.case
def override_listen_with_shipped_config():
    """`hellod -c conf/hellod.conf -o listen=127.0.0.1:PORT` serves the hello
    page on PORT: the file's relative root stays relative to conf/."""
    port = ht.free_port()
    proc, err = start_shipped(['-o', 'listen=127.0.0.1:%d' % port])
    try:
        check(wait_log(proc, err, 'listening on 127.0.0.1:%d' % port, 10),
              'no "listening on 127.0.0.1:%d" (exit %s): %s'
              % (port, proc.poll(), read_text(err)[-600:]))
        check('7878' not in read_text(err), 'still listening on the file\'s port: %s'
              % read_text(err)[-600:])
        ht.check_page(ht.http(port, 'GET', '/'), 200, ht.hello_bytes())
    finally:
        stop(proc)


@run.case
def override_survives_reload():
    """SIGHUP re-reads the file and applies the -o again: same port, no
    "listen addresses changed" warning, and -o sleep still wins over the
    file's new value."""
    path = conf(base_lines() + ['sleep = 4s'])
    port = ht.free_port()
    err = os.path.join(TMP, 'reload.log')
    with open(err, 'wb') as f:
        proc = subprocess.Popen(ht.hellod_cmd(['-c', path, '-o', 'listen=127.0.0.1:%d' % port,
                                               '-o', 'sleep=50ms']),
                                stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    try:
        check(wait_log(proc, err, ' ready: ', 10), 'not ready: %s' % read_text(err)[-600:])
        mark = len(read_text(err))
        conf(base_lines() + ['sleep = 3s'], name=os.path.basename(path))
        proc.send_signal(signal.SIGHUP)
        check(wait_log(proc, err, 'reloaded configuration', 10, mark),
              'no "reloaded configuration": %s' % read_text(err)[mark:][-600:])
        check('changed' not in read_text(err)[mark:],
              'the reload saw the file\'s values, not the -o ones: %s' % read_text(err)[mark:])
        ht.check_page(ht.http(port, 'GET', '/'), 200, ht.hello_bytes())
        t0 = time.monotonic()
        r = ht.http(port, 'GET', '/sleep')
        check_eq(r.status, 200, 'GET /sleep status')
        took = time.monotonic() - t0
        check(took < ht.slow(2.0), 'GET /sleep took %.1fs after the reload: the file\'s '
              'sleep = 3s won over -o sleep=50ms' % took)
    finally:
        stop(proc)


@run.case
def override_errors_exit_78():
    """A bad -o value or an unknown key is an error named by its -o, reported
    in the same run as the file's errors, with the config exit status."""
    path = conf(base_lines() + ['sleep = forever'])
    p = ht.run_hellod(['-t', '-c', path, '-o', 'listen=foo', '-o', 'nokey=1',
                       '-o', 'header_timeout=2s'])
    check_eq(p.returncode, 78, 'exit status with bad -o values')
    for want in ('%s:4: sleep: bad duration' % path,
                 "-o listen=foo: listen: bad address 'foo'",
                 "-o nokey=1: unknown key 'nokey'"):
        check(want in p.stderr, 'stderr lacks %r: %r' % (want, p.stderr[-800:]))
    check('header_timeout' not in p.stderr, 'a good -o reported: %r' % p.stderr[-800:])
    # without -t too, and an -o fixing the file's error is no error
    try:
        p = ht.run_hellod(['-c', path, '-o', 'bogus=1'], timeout=5)
    except subprocess.TimeoutExpired:
        raise ht.TestFailure('hellod started with an unknown -o key')
    check_eq(p.returncode, 78, 'exit status with an unknown -o key at start')
    check("-o bogus=1: unknown key 'bogus'" in p.stderr, 'stderr: %r' % p.stderr[-800:])
    p = ht.run_hellod(['-t', '-c', path, '-o', 'sleep=1s'])
    check('%s:4:' % path in p.stderr and p.returncode == 78,
          'the file\'s error must still count with -o sleep (exit %d): %r'
          % (p.returncode, p.stderr[-600:]))
    p = ht.run_hellod(['-t', '-c', conf(base_lines()), '-o', 'sleep=1s', '-o', 'listen=[::1]:1'])
    check_eq(p.returncode, 0, 'exit status of -t with good -o values (%r)' % p.stderr[-400:])


@run.case
def bad_root_reported_with_other_errors():
    """A syntax error and a root without pages: both in one run, each at its
    line; a relative root is shown resolved (absolute)."""
    d = os.path.join(TMP, 'badroot')
    os.makedirs(d, exist_ok=True)
    conf(['listen = 127.0.0.1:7878', 'sleep = forever', 'root = ../nothere/pages'],
         name='badroot.conf')
    p = ht.run_hellod(['-t', '-c', os.path.join('..', 'badroot.conf')], cwd=d)
    check_eq(p.returncode, 78, 'exit status with a bad root and a bad line')
    rel = os.path.join('..', 'badroot.conf')
    shown = os.path.join(os.path.dirname(os.path.realpath(TMP)), 'nothere', 'pages',
                         'hello.html')
    for want in ('%s:2: sleep: bad duration' % rel,
                 '%s:3: root: %s: No such file or directory' % (rel, shown)):
        check(want in p.stderr, 'stderr lacks %r: %r' % (want, p.stderr[-800:]))
    # root from -o: named by the -o, relative to the current directory
    p = ht.run_hellod(['-t', '-c', conf(base_lines()), '-o', 'root=nothere'], cwd=d)
    check_eq(p.returncode, 78, 'exit status with -o root=nothere')
    want = '-o root=nothere: root: %s: No such file or directory' % os.path.join(
        os.path.realpath(d), 'nothere', 'hello.html')
    check(want in p.stderr, 'stderr lacks %r: %r' % (want, p.stderr[-800:]))


if __name__ == '__main__':
    run.run()
