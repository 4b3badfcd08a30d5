#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Least privilege (the `user` key): started as root, hellod binds, loads its
pages, then switches every thread to `user` with that user's groups before it
serves, and cannot get root back; reloads then read the files as that user.
Root without `user` is refused (exit 78, `hellod -t` too), `user = root` is
the explicit opt-in, an unknown user is a PATH:LINE error, and started
unprivileged hellod serves as it is, whatever `user` says.

Needs root (skips otherwise: the suite runs as root in CI)."""

import os
import pwd
import re
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq, check_in  # noqa: E402

run = ht.Runner('test_privileges', script_timeout=150, case_timeout=40)

NOBODY = pwd.getpwnam('nobody')
# Files the tests write must be readable by nobody after the switch.
os.umask(0o022)


def require_root():
    if os.geteuid() != 0:
        raise ht.Skip('needs root: hellod only switches users when started as root')


def status_ids(pid, tid):
    """{'Uid': [r, e, s, fs], 'Gid': [...], 'Groups': [...], 'CapEff': int,
    'CapPrm': int} from /proc/PID/task/TID/status."""
    out = {}
    with open('/proc/%d/task/%d/status' % (pid, tid)) as f:
        for line in f:
            key, _, value = line.partition(':')
            if key in ('Uid', 'Gid', 'Groups'):
                out[key] = [int(v) for v in value.split()]
            elif key in ('CapEff', 'CapPrm'):
                out[key] = int(value.strip(), 16)
    return out


def tasks(pid):
    return sorted(int(t) for t in os.listdir('/proc/%d/task' % pid))


def wait_ready(s):
    """Server.start() returns once the port accepts, which the kernel does
    before hellod has switched users and started its workers: wait for the
    `ready` line, logged after both."""
    check(s.wait_stderr(' ready: '), 'no "ready" line: %s' % s.stderr_tail())


def check_all_tasks(pid, uid, gid, groups, caps_zero=True, min_tasks=1):
    """Every thread of pid runs with uid/gid (real, effective, saved, fs) and
    exactly groups; without capabilities if caps_zero."""
    tids = tasks(pid)
    check(len(tids) >= min_tasks, 'pid %d has %d task(s), want at least %d (workers)'
          % (pid, len(tids), min_tasks))
    for tid in tids:
        st = status_ids(pid, tid)
        what = '/proc/%d/task/%d/status' % (pid, tid)
        check_eq(st['Uid'], [uid] * 4, what + ' Uid')
        check_eq(st['Gid'], [gid] * 4, what + ' Gid')
        check_eq(sorted(st['Groups']), sorted(set(groups)), what + ' Groups')
        if caps_zero:
            check_eq((st['CapEff'], st['CapPrm']), (0, 0), what + ' CapEff/CapPrm')
    return tids


def nobody_groups():
    return os.getgrouplist('nobody', NOBODY.pw_gid)


def readable_server(**kw):
    """A Server whose temp dir (config and copied pages) nobody can read."""
    s = ht.Server(copy_root=True, **kw)
    os.chmod(s.tmpdir, 0o755)
    return s


def conf_file(lines):
    d = ht.make_tempdir()
    os.chmod(d, 0o755)
    path = os.path.join(d, 'hellod.conf')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def base_lines():
    return ['listen = 127.0.0.1:%d' % ht.free_port(), 'root = %s' % ht.STATIC]


@run.case
def switch_to_nobody_every_thread():
    require_root()
    # Started with root's group 0 as a supplementary group: it must go.
    with readable_server(options={'user': 'nobody', 'workers': 2},
                         popen_kw={'extra_groups': [0]}) as s:
        wait_ready(s)
        tids = check_all_tasks(s.pid, NOBODY.pw_uid, NOBODY.pw_gid, nobody_groups(),
                               min_tasks=3)
        ht.note('%d task(s), all uid %d gid %d groups %s'
                % (len(tids), NOBODY.pw_uid, NOBODY.pw_gid, nobody_groups()))
        err = s.stderr_text()
        check_in('dropped root: serving as user nobody (uid %d, gid %d'
                 % (NOBODY.pw_uid, NOBODY.pw_gid), err, 'stderr')
        # The switch comes before the workers start and before readiness.
        drop = err.index('dropped root')
        ready = err.index(' ready: ')
        check(drop < ready, 'dropped root logged after ready: %r' % err[-800:])
        r = s.http()
        ht.check_page(r, 200, ht.hello_bytes())
        # Shutdown (and, in a sanitizer build, the leak check) still works.
        check_eq(s.stop(), 0, 'exit status after SIGTERM')


@run.case
def reload_as_nobody():
    require_root()
    with readable_server(options={'user': 'nobody', 'workers': 2}) as s:
        wait_ready(s)
        # The new page and config are read by nobody.
        with open(os.path.join(s.root, 'hello.html'), 'wb') as f:
            f.write(b'<p>reloaded as nobody</p>\n')
        s.options['sleep'] = '200ms'
        s.write_config()
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reloaded configuration', start=mark),
              'no reload: %s' % s.stderr_tail())
        r = s.http()
        check_eq(r.body, b'<p>reloaded as nobody</p>\n', 'page after reload')
        r = s.http(path='/sleep')
        check_eq(r.status, 200, '/sleep after reload')

        # A config only root can read: the reload fails (so it runs as
        # nobody), the old configuration keeps serving.
        os.chmod(s.conf, 0o600)
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reload failed', start=mark),
              'a config nobody cannot read was reloaded: %s' % s.stderr_tail())
        check_in('Permission denied', s.stderr_text()[mark:], 'reload error')
        os.chmod(s.conf, 0o644)
        check_eq(s.http().status, 200, 'status after a failed reload')

        # `user` cannot change without a restart: a warning, same ids.
        s.options['user'] = 'root'
        s.write_config()
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reloaded configuration', start=mark),
              'no reload: %s' % s.stderr_tail())
        check_in('user changed (nobody to root): restart hellod to apply',
                 s.stderr_text()[mark:], 'reload log')
        check_all_tasks(s.pid, NOBODY.pw_uid, NOBODY.pw_gid, nobody_groups(), min_tasks=3)
        check_eq(s.http().status, 200, 'status after a user change')


@run.case
def root_without_user_refused():
    require_root()
    lines = base_lines()
    path = conf_file(lines)
    port = int(lines[0].rsplit(':', 1)[1])
    want = '%s: `user` is not set and hellod was started as root' % path
    p = ht.run_hellod(['-c', path], timeout=10)
    check_eq(p.returncode, 78, 'exit status as root without user')
    check_in(want, p.stderr, 'stderr')
    check_in('user = root', p.stderr, 'stderr (the opt-in)')
    check(ht.connect_refused(port), 'something listens on %d after the refusal' % port)
    p = ht.run_hellod(['-t', '-c', path])
    check_eq(p.returncode, 78, 'hellod -t exit status as root without user')
    check_in(want, p.stderr, 'hellod -t stderr')


@run.case
def root_opt_in():
    require_root()
    with ht.Server(options={'user': 'root', 'workers': 2}) as s:
        wait_ready(s)
        check_all_tasks(s.pid, 0, 0, status_ids(s.pid, s.pid)['Groups'], caps_zero=False,
                        min_tasks=3)
        check(re.search(r'\[warn\] \S+:\d+: user root has uid 0: serving as root',
                        s.stderr_text()), 'no warning for user = root: %s' % s.stderr_tail())
        check_eq(s.http().status, 200, 'status as root')


@run.case
def unknown_user_is_config_error():
    require_root()
    lines = base_lines() + ['sleep = 1s', 'user = hellod-no-such-user']
    path = conf_file(lines)
    want = "%s:4: user: unknown user 'hellod-no-such-user'" % path
    p = ht.run_hellod(['-t', '-c', path])
    check_eq(p.returncode, 78, 'hellod -t exit status')
    check_in(want, p.stderr, 'hellod -t stderr')
    p = ht.run_hellod(['-c', path], timeout=10)
    check_eq(p.returncode, 78, 'exit status at start')
    check_in(want, p.stderr, 'stderr at start')
    p = ht.run_hellod(['-t', '-c', conf_file(base_lines() + ['user = nobody'])])
    check_eq(p.returncode, 0, 'hellod -t with user = nobody: %s' % p.stderr)


def as_nobody():
    return {'user': NOBODY.pw_uid, 'group': NOBODY.pw_gid, 'extra_groups': []}


def binary_for_nobody():
    """A copy of hellod that nobody can run: the build tree may be somewhere
    nobody cannot reach (a checkout under /root, mode 0700)."""
    d = ht.make_tempdir('hellod-bin-')
    os.chmod(d, 0o755)
    path = os.path.join(d, 'hellod')
    shutil.copy2(ht.hellod_path(), path)
    os.chmod(path, 0o755)
    return path


@run.case
def started_unprivileged():
    """Started as nobody (as under systemd's DynamicUser=), hellod serves as it
    is: `user` unset or naming nobody is silent, another account is logged."""
    require_root()
    binary = ht.HELLOD
    ht.HELLOD = binary_for_nobody()
    try:
        started_unprivileged_cases()
    finally:
        ht.HELLOD = binary


def started_unprivileged_cases():
    for user, logged in ((None, False), ('nobody', False), ('root', True)):
        with readable_server(options={'user': user}, popen_kw=as_nobody()) as s:
            wait_ready(s)
            check_all_tasks(s.pid, NOBODY.pw_uid, NOBODY.pw_gid, [])
            check_eq(s.http().status, 200, 'status, user = %s' % user)
            err = s.stderr_text()
            check('dropped root' not in err, 'user = %s: claims to drop root: %s' % (user, err))
            got = re.search(r'\[info\] %s:\d+: user %s not applied: hellod was not started '
                            r'as root and serves as uid %d' % (re.escape(s.conf), user,
                                                               NOBODY.pw_uid), err)
            check(bool(got) == logged, 'user = %s: "not applied" logged: %s, want %s: %s'
                  % (user, bool(got), logged, err[-600:]))
            check('[warn]' not in err and '[error]' not in err,
                  'user = %s: warnings: %s' % (user, err[-600:]))


if __name__ == '__main__':
    run.run()
