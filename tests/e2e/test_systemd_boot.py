#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""hellod under a real systemd as PID 1 (level 3 of the systemd tests).

The build is installed with `make install DESTDIR=...`, then a container is
booted from the machine's own /usr with

    systemd-nspawn --directory=/ --volatile=yes --boot --private-network ...

(a tmpfs root, the host /usr read-only, nothing written to the host), with the
installed prefix and the installed hellod.service and hellod.socket bound into
it.  The cases then drive it as a user would: start the socket, a first request
starts the service, status shows the STATUS= line, reload keeps the main PID
and serves a changed page (and a broken config keeps serving), the journal has
hellod's lines with their priorities, an access entry carries its fields
(journalctl -u hellod HTTP_STATUS=404), a SIGSTOPped hellod is restarted by the
watchdog, and stop drains a pending /sleep and closes the port.  Finally the
container is shut down and its leftovers removed.

The only change to the installed units is a test drop-in with a short
WatchdogSec (and sanitizer options when the build has them).  Skips (77),
with one line naming everything missing, when not root, when systemd-nspawn,
nsenter or curl is missing, or when CAP_NET_ADMIN or CAP_SYS_ADMIN is not in
the effective capability set (a container's default set, Docker's or
nspawn's, lacks both: nspawn would start and fail half-way); with CI=true in
the environment such a skip is a failure (nspawn.skip_reason, nspawn.skip).
See ../shared/notes/systemd-testing.md for why each nspawn option is there.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
import nspawn  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_systemd_boot', script_timeout=240, case_timeout=60)

PORT = 7878                  # hellod.socket's ListenStream, in the container's own netns
URL = 'http://127.0.0.1:%d' % PORT
WATCHDOG_SEC = 2             # the test drop-in's WatchdogSec
SLEEP = '1500ms'             # `sleep` in the installed config, set by the test


# ------------------------------------------------------------------ setup

class State:
    destdir = None
    unitdir = None
    conf = None              # installed config (host path inside destdir)
    page = None              # installed hello.html (host path inside destdir)
    box = None
    pid = None


S = State()


def install():
    """make install DESTDIR=...; returns the destdir."""
    work = ht.make_tempdir('hellod-nspawn-')
    os.chmod(work, 0o755)    # DynamicUser's user must reach the bound files
    dest = os.path.join(work, 'destdir')
    env = dict(os.environ)
    for k in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES'):
        env.pop(k, None)
    old = os.umask(0o022)
    try:
        r = subprocess.run(['make', '-C', ht.BUILDDIR, 'install', 'DESTDIR=' + dest],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env, timeout=120)
    finally:
        os.umask(old)
    if r.returncode != 0:
        raise ht.TestFailure('make install failed:\n%s' % r.stdout[-3000:])
    return work, dest


def find_one(top, name):
    hits = []
    for d, _, files in os.walk(top):
        if name in files:
            hits.append(os.path.join(d, name))
    check(len(hits) == 1, 'expected one installed %s under %s, found %r' % (name, top, hits))
    return hits[0]


def exec_start(unit_text):
    m = re.search(r'^ExecStart=(\S+)(.*)$', unit_text, re.M)
    check(m, 'no ExecStart= in hellod.service')
    return m.group(1), m.group(2).split()


def mounts_for(dest):
    """Mounts that show the installed tree at its real paths in the container.

    Returns (binds, overlays).  The container's root is a tmpfs where any
    mount point can be made, except /usr, the host's, read-only: an install
    under /usr (/usr/local, or /usr itself) is laid over it as an overlay
    layer.  /etc is a tmpfs of the container's own, so what is installed
    there is bound one level down (/etc/hellod).  The unit directory's files
    are bound into /etc/systemd/system by the caller instead.
    """
    binds, overlays = [], []
    for top in sorted(os.listdir(dest)):
        src = os.path.join(dest, top)
        if top == 'usr':
            overlays.append(('/usr:' + src, '/usr'))
        elif top == 'etc':
            binds += [(os.path.join(src, sub), '/etc/' + sub) for sub in sorted(os.listdir(src))]
        elif top != 'lib':
            binds.append((src, '/' + top))
    return binds, overlays


def boot():
    ht.require_systemd()            # the unit is Type=notify
    work, dest = install()
    S.destdir = dest
    service = find_one(dest, 'hellod.service')
    socket_unit = find_one(dest, 'hellod.socket')
    S.unitdir = os.path.dirname(service)
    text = open(service).read()
    binary, args = exec_start(text)
    check(os.access(dest + binary, os.X_OK), 'ExecStart binary %s not installed' % binary)
    # make distcheck installs under its build tree, which may be in a place
    # the unit's sandbox hides from the service: no such install can run.
    hidden = re.match(r'/(tmp|var/tmp|root|home|run/user)(/|$)', binary)
    if hidden:
        raise ht.Skip('the installed hellod (%s) is under /%s, which the unit\'s %s '
                      'hides from the service' % (binary, hidden.group(1),
                                                  'PrivateTmp=yes' if 'tmp' in hidden.group(1)
                                                  else 'ProtectHome=yes'))
    check('-c' in args, 'ExecStart does not name the config with -c: %r' % args)
    S.conf = dest + args[args.index('-c') + 1]
    check(os.path.isfile(S.conf), 'installed config %s missing' % S.conf)
    root = re.search(r'^root\s*=\s*(\S+)', open(S.conf).read(), re.M)
    check(root, 'installed config sets no root')
    S.page = dest + root.group(1) + '/hello.html'
    check(os.path.isfile(S.page), 'installed page %s missing' % S.page)
    set_conf('sleep', SLEEP)

    dropin = os.path.join(work, 'dropin')
    os.mkdir(dropin, 0o755)
    lines = ['[Service]', 'WatchdogSec=%d' % WATCHDOG_SEC, 'RestartSec=200ms']
    for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS'):
        if k in os.environ:
            # LeakSanitizer's exit scan needs ptrace, which the unit's
            # SystemCallFilter forbids; the other e2e tests check leaks.
            v = os.environ[k]
            if k == 'ASAN_OPTIONS':
                v += ':detect_leaks=0'          # the last setting wins
            lines.append('Environment=%s=%s' % (k, v))
    with open(os.path.join(dropin, 'test.conf'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.chmod(os.path.join(dropin, 'test.conf'), 0o644)

    binds = [(service, '/etc/systemd/system/hellod.service'),
             (socket_unit, '/etc/systemd/system/hellod.socket'),
             (dropin, '/etc/systemd/system/hellod.service.d')]
    more, overlays = mounts_for(dest)
    S.box = nspawn.Container(work)
    t0 = time.monotonic()
    S.box.boot(binds + more, overlays)
    ht.note('container booted to "running" in %.2fs' % (time.monotonic() - t0))


def set_conf(key, value):
    text = open(S.conf).read()
    line = '%s = %s' % (key, value)
    if re.search(r'^%s\s*=' % key, text, re.M):
        text = re.sub(r'^%s\s*=.*$' % key, line, text, flags=re.M)
    else:
        text += '\n' + line + '\n'
    with open(S.conf, 'w') as f:
        f.write(text)


def curl(path='/', timeout=10, extra=()):
    """curl inside the container; returns (rc, status, body)."""
    r = S.box.run(['curl', '-s', '-m', str(timeout), '-o', '-', '-w', '\n%{http_code}']
                  + list(extra) + [URL + path], timeout=timeout + 5)
    body, _, code = r.stdout.rpartition('\n')
    return r.returncode, code, body


def journal(unit='hellod.service'):
    r = S.box.run(['journalctl', '-u', unit, '--no-pager', '-o', 'json'], check_rc=True)
    out = []
    for line in r.stdout.splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        msg = e.get('MESSAGE')
        if isinstance(msg, list):        # non-UTF-8 messages come as byte arrays
            msg = bytes(msg).decode('utf-8', 'replace')
        out.append((int(e.get('PRIORITY', -1)), msg or '', e.get('_PID', '')))
    return out


def service_log(lines=30):
    r = S.box.run(['journalctl', '-u', 'hellod.service', '--no-pager', '-o', 'short-monotonic',
                   '-n', str(lines)])
    return r.stdout + r.stderr


def wait_show(unit, prop, pred, timeout):
    last = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = S.box.show(unit, prop)
        if pred(last):
            return last
        time.sleep(0.1)
    raise ht.TestFailure('%s %s stayed %r for %ss' % (unit, prop, last, timeout))


def while_running(argv, command, timeout):
    """Start argv inside the container, run command there 0.5 s later, and
    wait up to timeout for argv to end. Returns (command's result, how long
    it took, argv's output)."""
    bg = subprocess.Popen(['nsenter', '-t', str(S.box.pid1), '-a', 'env', '-i',
                           'PATH=' + nspawn.PATH] + argv,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        r = S.box.run(command, timeout=30)
        took = time.monotonic() - t0
        out, _ = bg.communicate(timeout=timeout)
    finally:
        if bg.poll() is None:
            bg.kill()
            bg.wait()
    return r, took, out


def need_box(service=True):
    if S.box is None or S.box.pid1 is None:
        raise ht.TestFailure('no container (the boot case failed)')
    if service and S.pid is None:
        raise ht.TestFailure('hellod.service never started (see the first request case)')


# ------------------------------------------------------------------ cases

@run.case(timeout=150)
def boot_container():
    boot()


@run.case
def socket_starts_service_on_first_request():
    need_box(service=False)
    S.box.run(['systemctl', 'start', 'hellod.socket'], check_rc=True)
    check_eq(S.box.show('hellod.socket', 'ActiveState'), 'active', 'hellod.socket state')
    check_eq(S.box.show('hellod.service', 'ActiveState'), 'inactive',
             'hellod.service before any request')
    rc, code, body = curl('/')
    check((rc, code) == (0, '200'), 'first GET /: curl rc %d, status %s; hellod.service log:\n%s'
          % (rc, code, service_log()))
    check_eq(body, ht.hello_bytes().decode(), 'body of GET /')
    check_eq(S.box.show('hellod.service', 'ActiveState'), 'active', 'hellod.service state')
    S.pid = S.box.show('hellod.service', 'MainPID')
    check(S.pid not in ('', '0'), 'no MainPID')
    msgs = [m for _, m, _ in journal()]
    check(any('socket-activated' in m for m in msgs),
          'hellod did not log that it uses the socket-activated fd:\n%s' % '\n'.join(msgs))


@run.case
def status_shows_notify_line():
    need_box()
    r = S.box.run(['systemctl', 'status', '--no-pager', '--lines=0', 'hellod.service'])
    check_eq(r.returncode, 0, 'systemctl status exit code')
    check(re.search(r'Active: active \(running\)', r.stdout), 'not running:\n' + r.stdout)
    check(re.search(r'TriggeredBy: .*hellod\.socket', r.stdout),
          'not triggered by the socket:\n' + r.stdout)
    status = S.box.show('hellod.service', 'StatusText')
    check(status, 'empty StatusText')
    check('Status: "%s"' % status in r.stdout, 'status does not show %r:\n%s' % (status, r.stdout))
    ht.note('StatusText: %s' % status)
    # Live figures: with 3 /sleep requests pending (1.5 s each), a STATUS=
    # of the next once-a-second update says so, and systemctl status shows it.
    want = re.compile(r'Status: "3 connections, 3 sleeping, [0-9,]+ req/s"')
    curls = [subprocess.Popen(['nsenter', '-t', str(S.box.pid1), '-a', 'curl', '-s', '-m', '10',
                               '-o', '/dev/null', URL + '/sleep'],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(3)]
    seen = None
    try:
        deadline = time.monotonic() + 3
        while seen is None and time.monotonic() < deadline:
            r = S.box.run(['systemctl', 'status', '--no-pager', '--lines=0', 'hellod.service'])
            m = want.search(r.stdout)
            seen = m.group(0) if m else None
            time.sleep(0.05)
    finally:
        for c in curls:
            try:
                c.wait(timeout=12)
            except subprocess.TimeoutExpired:
                c.kill()
                c.wait()
    check(seen, 'systemctl status never showed "3 connections, 3 sleeping, N req/s" '
          'while 3 /sleep requests were pending; last:\n%s' % r.stdout)
    check_eq([c.returncode for c in curls], [0, 0, 0], 'curl /sleep exit codes')
    ht.note('systemctl status showed: %s' % seen)


@run.case
def reload_keeps_pid_and_serves_changed_page():
    need_box()
    with open(S.page, 'a') as f:
        f.write('<!-- reloaded by test_systemd_boot -->\n')
    S.box.run(['systemctl', 'reload', 'hellod.service'], check_rc=True)
    check_eq(S.box.show('hellod.service', 'MainPID'), S.pid, 'MainPID after reload')
    check_eq(S.box.show('hellod.service', 'ActiveState'), 'active', 'state after reload')
    rc, code, body = curl('/')
    check_eq((rc, code), (0, '200'), 'GET / after reload')
    check(body.endswith('<!-- reloaded by test_systemd_boot -->\n'),
          'GET / does not serve the changed page: %r' % body[-80:])


@run.case
def failed_reload_keeps_serving():
    need_box()
    good = open(S.conf).read()
    with open(S.conf, 'a') as f:
        f.write('no_such_key = 1\n')
    bad_line = good.count('\n') + 1
    try:
        # systemctl reload: ExecReload's `hellod -t` fails the job and hellod
        # is never signalled.
        status = S.box.show('hellod.service', 'StatusText')
        r = S.box.run(['systemctl', 'reload', 'hellod.service'])
        check(r.returncode != 0, 'systemctl reload of a broken config succeeded')
        check_eq(S.box.show('hellod.service', 'MainPID'), S.pid, 'MainPID after failed reload')
        check_eq(S.box.show('hellod.service', 'ActiveState'), 'active', 'state')
        # hellod never heard of it: its STATUS= is still a live figures
        # line (which may have moved on since), not a reload's
        after = S.box.show('hellod.service', 'StatusText')
        check(ht.LIVE_STATUS.match(status) is None or ht.LIVE_STATUS.match(after),
              'StatusText after a reload job that never reached hellod: %r (before: %r)'
              % (after, status))
        check(not after.startswith('reload failed'),
              'StatusText after a reload job that never reached hellod: %r' % after)
        log = service_log(60)
        check(re.search(r':%d: unknown key' % bad_line, log),
              'the reload job\'s error (line %d) is not in the journal:\n%s' % (bad_line, log))
        rc, code, _ = curl('/')
        check_eq((rc, code), (0, '200'), 'GET / after a failed reload job')
        # A SIGHUP straight to hellod: it reports the failure itself.
        S.box.run(['systemctl', 'kill', '--kill-who=main', '--signal=HUP', 'hellod.service'],
                  check_rc=True)
        status = wait_show('hellod.service', 'StatusText', lambda v: 'fail' in v, 5)
        check(':%d:' % bad_line in status, 'StatusText %r does not name line %d'
              % (status, bad_line))
        check_eq(S.box.show('hellod.service', 'MainPID'), S.pid, 'MainPID after SIGHUP')
        rc, code, _ = curl('/')
        check_eq((rc, code), (0, '200'), 'GET / after a failed SIGHUP reload')
    finally:
        with open(S.conf, 'w') as f:
            f.write(good)
    S.box.run(['systemctl', 'reload', 'hellod.service'], check_rc=True)
    wait_show('hellod.service', 'StatusText', lambda v: 'fail' not in v, 5)


@run.case
def journal_has_priorities():
    need_box()
    entries = [(p, m) for p, m, pid in journal() if pid == S.pid]
    check(entries, 'no journal entries from hellod (pid %s)' % S.pid)
    by = {}
    for p, m in entries:
        by.setdefault(p, []).append(m)
    text = '\n'.join('%d %s' % e for e in entries)
    check(any(m.startswith('listening on ') for m in by.get(6, [])),
          'no "listening on" line at priority 6 (info):\n' + text)
    check(any('no_such_key' in m for m in by.get(3, []) + by.get(4, [])),
          'the failed reload is not logged at priority 3 or 4:\n' + text)
    # The installed config writes access lines to a file, not the journal.
    check(not any('GET / HTTP/1.1' in m for m in by.get(6, [])),
          'access lines in the journal with the installed config:\n' + text)
    # DynamicUser= starts hellod unprivileged: the installed config's `user`
    # is not applied, which is logged (info), not an error.
    check(any(re.search(r':\d+: user \S+ not applied: hellod was not started as root', m)
              for m in by.get(6, [])),
          'no "user ... not applied" line at priority 6 (info):\n' + text)
    check(not any('dropped root' in m for m in by.get(6, [])),
          'hellod dropped root under DynamicUser=:\n' + text)
    for p, m in entries:
        check(not re.match(r'<\d>', m), 'priority prefix left in the message: %r' % m)
        check(not re.match(r'\d{4}-\d\d-\d\dT', m), 'timestamp in a journal line: %r' % m)


def box_lines(path, needle):
    """Lines of path inside the container that contain needle."""
    r = S.box.run(['cat', path])
    return [x for x in r.stdout.splitlines() if needle in x] if r.returncode == 0 else []


def wait_box_lines(path, needle, n, timeout=5):
    ht.wait_for(lambda: len(box_lines(path, needle)) >= n, timeout, 0.1)
    return box_lines(path, needle)


@run.case
def access_log_file_in_logs_directory_and_rotated():
    """The installed config writes access lines to /var/log/hellod/access.log
    (LogsDirectory=hellod, which DynamicUser= puts under /var/log/private),
    not to the journal; after a rename, the shipped logrotate postrotate
    command makes hellod reopen it, and no line is lost."""
    need_box()
    log = '/var/log/hellod/access.log'
    # S.conf is DESTDIR/SYSCONFDIR/hellod/hellod.conf.
    rot = os.path.join(os.path.dirname(os.path.dirname(S.conf)), 'logrotate.d', 'hellod')
    check(os.path.isfile(rot), 'no installed logrotate rules %s' % rot)
    post = re.search(r'(?ms)^\s*postrotate\n(.*?)^\s*endscript', open(rot).read())
    check(post, '%s has no postrotate script' % rot)
    r = S.box.run(['readlink', '-f', '/var/log/hellod'], check_rc=True)
    check_eq(r.stdout.strip(), '/var/log/private/hellod', 'LogsDirectory= under DynamicUser=')
    before, after = '/rot-a-%d' % os.getpid(), '/rot-b-%d' % os.getpid()
    for _ in range(20):
        curl(before)
    # Some may still sit in a worker's buffer: rotate now, as logrotate would.
    S.box.run(['mv', log, log + '.1'], check_rc=True)
    S.box.run(['sh', '-c', post.group(1)], check_rc=True)
    for _ in range(10):
        curl(after)
    old = wait_box_lines(log + '.1', before, 20)
    new = wait_box_lines(log, after, 10)
    check_eq((len(old), len(box_lines(log + '.1', after))), (20, 0),
             'lines for (%s, %s) in the rotated file' % (before, after))
    check_eq((len(box_lines(log, before)), len(new)), (0, 10),
             'lines for (%s, %s) in the new file' % (before, after))
    msgs = [m for _, m, _ in journal()]
    check(not any(before in m or after in m for m in msgs),
          'access lines in the journal too')
    check(any('SIGUSR1: reopened access log %s' % log in m for m in msgs),
          'no "SIGUSR1: reopened access log" line in the journal')
    check_eq(S.box.show('hellod.service', 'MainPID'), S.pid, 'MainPID after SIGUSR1')


@run.case
def access_entries_have_journal_fields():
    """With access_log = stderr, access entries go to the journal's native
    socket with fields that journalctl can match on (HTTP_STATUS=404), not
    as stderr lines."""
    need_box()
    set_conf('access_log', 'stderr')
    S.box.run(['systemctl', 'reload', 'hellod.service'], check_rc=True)
    t0 = time.monotonic()
    path = '/journal-%d' % os.getpid()
    r = S.box.run(['curl', '-s', '-m', '10', '-o', '/dev/null', '-w',
                   '%{http_code} %{local_port} %{size_header} %{size_download}',
                   URL + path + '?q=1'], timeout=15)
    check_eq(r.returncode, 0, 'curl exit code (%s)' % r.stderr.strip())
    code, port, head, body = r.stdout.split()
    check_eq(code, '404', 'status of GET %s' % path)
    entries = []
    deadline = time.monotonic() + 5
    while not entries and time.monotonic() < deadline:
        r = S.box.run(['journalctl', '-u', 'hellod', '-o', 'json', '--no-pager',
                       'HTTP_STATUS=404', 'HTTP_PATH=' + path], check_rc=True)
        entries = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        if not entries:
            time.sleep(0.1)
    check_eq(len(entries), 1, 'journal entries with HTTP_STATUS=404 HTTP_PATH=%s' % path)
    e = entries[0]
    want = {
        'PRIORITY': '6', 'SYSLOG_IDENTIFIER': 'hellod', '_TRANSPORT': 'journal',
        '_PID': S.pid, '_SYSTEMD_UNIT': 'hellod.service',
        'HTTP_METHOD': 'GET', 'HTTP_PATH': path, 'HTTP_STATUS': '404',
        'HTTP_BYTES': str(int(head) + int(body)),
        'CLIENT_ADDRESS': '127.0.0.1:%s' % port,
    }
    for k, v in want.items():
        check_eq(e.get(k), v, 'field %s of %r' % (k, e))
    check(re.fullmatch(r'\d+', e.get('HTTP_DURATION_US', '')) and
          int(e['HTTP_DURATION_US']) < 10 * 1000 * 1000,
          'HTTP_DURATION_US not a plausible integer: %r' % e.get('HTTP_DURATION_US'))
    check(re.fullmatch(r'\d+', e.get('HELLOD_WORKER', '')),
          'HELLOD_WORKER not an integer: %r' % e.get('HELLOD_WORKER'))
    line = '"GET %s?q=1 HTTP/1.1" 404 %s ' % (path, want['HTTP_BYTES'])
    check(e.get('MESSAGE', '').startswith('127.0.0.1:%s %s' % (port, line)),
          'MESSAGE %r is not the access line' % e.get('MESSAGE'))
    check(e['MESSAGE'].endswith(' w=%s' % e['HELLOD_WORKER']), 'MESSAGE %r' % e['MESSAGE'])
    # Once only: not also as a line on stderr.
    same = [m for _, m, _ in journal() if path in m]
    check_eq(len(same), 1, 'journal messages naming %s: %r' % (path, same))
    ht.note('access entry in the journal with fields after %.2fs: %s'
            % (time.monotonic() - t0, ' '.join('%s=%s' % (k, e[k]) for k in sorted(e)
                                               if k.startswith(('HTTP_', 'CLIENT_', 'HELLOD_')))))


@run.case(timeout=40)
def watchdog_restarts_stopped_process():
    need_box()
    before = S.box.show('hellod.service', 'NRestarts')
    S.box.run(['kill', '-STOP', S.pid], check_rc=True)
    t0 = time.monotonic()
    new = wait_show('hellod.service', 'MainPID', lambda v: v not in ('', '0', S.pid),
                    6 * WATCHDOG_SEC + 10)
    ht.note('watchdog restart after %.1fs (WatchdogSec=%d)' % (time.monotonic() - t0,
                                                               WATCHDOG_SEC))
    check_eq(S.box.show('hellod.service', 'NRestarts'), str(int(before) + 1), 'NRestarts')
    r = S.box.run(['journalctl', '-u', 'hellod.service', '--no-pager', '-o', 'cat'])
    check('watchdog' in r.stdout.lower(), 'journal does not mention the watchdog:\n'
          + r.stdout[-2000:])
    wait_show('hellod.service', 'ActiveState', lambda v: v == 'active', 10)
    S.pid = new
    rc, code, _ = curl('/')
    check_eq((rc, code), (0, '200'), 'GET / after the restart')


@run.case(timeout=40)
def stop_drains_and_closes_port():
    need_box()
    # A /sleep in flight (1.5 s) when the stop comes must still be answered.
    r, took, out = while_running(['curl', '-s', '-m', '15', '-o', '/dev/null',
                                  '-w', '%{http_code}', URL + '/sleep'],
                                 ['systemctl', 'stop', 'hellod.service', 'hellod.socket'], 20)
    check_eq(r.returncode, 0, 'systemctl stop exit code (%s)' % r.stderr.strip())
    check_eq(out, '200', 'status of the /sleep pending at stop')
    check(took >= 0.5, 'stop returned in %.2fs, before the pending /sleep finished' % took)
    ht.note('systemctl stop took %.2fs with one /sleep pending' % took)
    check_eq(S.box.show('hellod.service', 'ActiveState'), 'inactive', 'service after stop')
    check_eq(S.box.show('hellod.service', 'Result'), 'success', 'service result')
    rc, _, _ = curl('/', timeout=3)
    check_eq(rc, 7, 'curl exit code after stop (7 = connection refused)')


@run.case(timeout=60)
def restart_keeps_the_listening_sockets():
    # hellod.service alone (no .socket): once ready it hands its listening
    # sockets to systemd's store; `systemctl restart` in the middle of a
    # stream of requests then refuses none (the store keeps listening while
    # no hellod runs, the next one takes the sockets back); `systemctl
    # stop` empties the store and closes the port.
    need_box(service=False)
    r = S.box.run(['systemctl', 'start', 'hellod.service'], timeout=30)
    check_eq(r.returncode, 0, 'systemctl start hellod.service (%s)' % r.stderr.strip())
    n = wait_show('hellod.service', 'NFileDescriptorStore', lambda v: v not in ('', '0'), 10)
    ht.note('NFileDescriptorStore=%s after start' % n)
    r, _, out = while_running(['sh', '-c', 'for i in $(seq 400); do curl -s -m 5 -o /dev/null '
                               '-w "%%{http_code}\\n" %s/; done' % URL],
                              ['systemctl', 'restart', 'hellod.service'], 60)
    check_eq(r.returncode, 0, 'systemctl restart (%s)' % r.stderr.strip())
    codes = out.split()
    bad = [c for c in codes if c != '200']
    ht.note('%d requests around the restart: %d not 200 %s' % (len(codes), len(bad), bad[:5]))
    check_eq(len(codes), 400, 'requests made')
    check_eq(bad, [], 'requests not answered 200 across the restart')
    check_eq(S.box.show('hellod.service', 'NFileDescriptorStore'), n,
             'NFileDescriptorStore after the restart')
    took = [m for _, m, _ in journal() if 'back from systemd' in m]
    check(took, 'no "took N listening socket(s) ... back from systemd" in the journal')
    r = S.box.run(['systemctl', 'stop', 'hellod.service'], timeout=30)
    check_eq(r.returncode, 0, 'systemctl stop')
    check_eq(S.box.show('hellod.service', 'NFileDescriptorStore'), '0',
             'NFileDescriptorStore after stop')
    rc, _, _ = curl('/', timeout=3)
    check_eq(rc, 7, 'curl exit code after stop (7 = connection refused)')


@run.case
def container_shuts_down_clean():
    need_box(service=False)
    box, S.box = S.box, None
    t0 = time.monotonic()
    rc = box.shutdown()
    ht.note('container shut down in %.2fs' % (time.monotonic() - t0))
    check_eq(rc, 0, 'systemd-nspawn exit status')
    left = [d for base in box.cgroups for d in (base + '/payload', base + '/supervisor')
            if os.path.exists(d)]
    check(not left, 'cgroups left behind: %r' % left)



if __name__ == '__main__':
    nspawn.main(run, 'test_systemd_boot', lambda: S.box)
