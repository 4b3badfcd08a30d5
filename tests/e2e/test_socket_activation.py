#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Socket activation through systemd-socket-activate: it binds the sockets,
and on the first connection execs hellod (same pid) with LISTEN_FDS; hellod
must serve on exactly those fds and ignore its `listen` keys (the port in the
config must stay closed), tell the NOTIFY_SOCKET it is ready, keep serving on
the inherited sockets across a reload that changes `listen`, and exit 0 with
STOPPING=1 on SIGTERM. A passed socket that is not a TCP listener is refused
with exit status 78. systemd-socket-activate passes no environment except
what -E names, so NOTIFY_SOCKET goes through -E.

Skipped (77) without systemd-socket-activate or when hellod is built without
the systemd integration (`hellod -V` says "(-systemd)")."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_socket_activation', script_timeout=60, case_timeout=20)
HELLO = ht.hello_bytes()
ACTIVATE = shutil.which('systemd-socket-activate')


def require():
    if ACTIVATE is None:
        raise ht.Skip('systemd-socket-activate not found (Debian package systemd)')
    ht.require_systemd()


class Activated:
    """hellod under systemd-socket-activate, listening on `nports` fresh
    ports (-l each), with a config whose own `listen` port is another free
    port (self.conf_port) that must never be bound."""

    def __init__(self, notify, nports=1, flags=(), extra_env=None):
        self.notify = notify
        self.nports = nports
        self.flags = list(flags)
        self.tmpdir = ht.make_tempdir()
        self.conf = os.path.join(self.tmpdir, 'hellod.conf')
        self.log_path = os.path.join(self.tmpdir, 'stderr.log')
        self.proc = None
        self.ports = []
        self.conf_port = None
        self.env = dict(notify.env(), **(extra_env or {}))

    def write_config(self, listen_port):
        with open(self.conf, 'w') as f:
            f.write('listen = %s:%d\nroot = %s\n' % (ht.HOST, listen_port, ht.STATIC))
            f.write(''.join(line + '\n' for line in ht.user_lines()))

    def start(self):
        for attempt in range(3):
            self.ports = [ht.free_port() for _ in range(self.nports)]
            self.conf_port = ht.free_port()
            self.write_config(self.conf_port)
            cmd = [ACTIVATE] + self.flags
            for p in self.ports:
                cmd += ['-l', '%s:%d' % (ht.HOST, p)]
            # sanitizer builds need their options in the exec'd child too
            for name in sorted(self.env) + ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'HELLOD_TEST_CASE']:
                if name in self.env or name in os.environ:
                    cmd += ['-E', name]
            cmd += ht.hellod_cmd(['-c', self.conf])
            with open(self.log_path, 'wb') as log:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=log, env=dict(os.environ, **self.env))
            want = ['Listening on %s:%d' % (ht.HOST, p) for p in self.ports]
            ok = ht.wait_for(lambda: self.proc.poll() is not None
                             or all(w in self.log() for w in want), 5)
            if ok and self.proc.poll() is None:
                return self
            self.stop()
            if 'in use' not in self.log():
                break
        raise ht.TestFailure('systemd-socket-activate did not start: %s' % self.log()[-800:])

    def log(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    @property
    def pid(self):
        return self.proc.pid

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        # SIGTERM first: hellod under valgrind (make check-valgrind) must
        # exit normally to report.
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            if self.wait_exit(ht.slow(5)) is None:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def first_request(a, port):
    """The first connection makes systemd-socket-activate exec hellod, which
    then serves it from the backlog."""
    r = ht.http(port, 'GET', '/')
    ht.check_page(r, 200, HELLO)
    return r


@run.case
def serves_on_the_passed_socket():
    require()
    with ht.Notify() as n, Activated(n) as a:
        port = a.ports[0]
        first_request(a, port)
        f = n.expect('READY', a.pid)
        status = f.get('STATUS', '')
        check('serving on %s:%d' % (ht.HOST, port) in status,
              'READY STATUS=%r does not name %s:%d' % (status, ht.HOST, port))
        log = a.log()
        check('listening on %s:%d (socket-activated fd 3)' % (ht.HOST, port) in log,
              'the log does not name socket-activated fd 3: %s' % log[-800:])
        check(re.search(r'`listen` key\(s\) in %s are ignored' % re.escape(a.conf), log),
              'the log does not say the listen keys are ignored: %s' % log[-800:])
        check(ht.connect_refused(a.conf_port),
              'the `listen` port %d from the config is open' % a.conf_port)
        ht.check_page(ht.http(port, 'GET', '/'), 200, HELLO)

        # reload with a different `listen`: still the inherited socket only
        a.write_config(ht.free_port())
        os.kill(a.pid, signal.SIGHUP)
        n.expect('RELOADING', a.pid)
        f = n.expect('READY', a.pid)
        check(f.get('STATUS', '').startswith('reloaded'),
              'STATUS after reload: %r' % f.get('STATUS'))
        ht.check_page(ht.http(port, 'GET', '/'), 200, HELLO)
        check(ht.connect_refused(a.conf_port), 'the old `listen` port opened on reload')
        check('restart hellod to apply' not in a.log(),
              'a reload under socket activation asks for a restart: %s' % a.log()[-600:])
        check('listen keys changed: ignored, serving on the sockets passed by systemd'
              in a.log(),
              'a reload that changes `listen` under socket activation does not say '
              'the keys are ignored: %s' % a.log()[-600:])

        os.kill(a.pid, signal.SIGTERM)
        n.expect('STOPPING', a.pid)
        check_eq(a.wait_exit(5), 0, 'exit status after SIGTERM')


@run.case
def serves_on_two_sockets():
    require()
    with ht.Notify() as n, Activated(n, nports=2) as a:
        first_request(a, a.ports[0])
        f = n.expect('READY', a.pid)
        ht.check_page(ht.http(a.ports[1], 'GET', '/'), 200, HELLO)
        ht.check_page(ht.http(a.ports[0], 'GET', '/'), 200, HELLO)
        status = f.get('STATUS', '')
        for fd, port in ((3, a.ports[0]), (4, a.ports[1])):
            check('%s:%d' % (ht.HOST, port) in status,
                  'READY STATUS=%r lacks %s:%d' % (status, ht.HOST, port))
            check('listening on %s:%d (socket-activated fd %d)' % (ht.HOST, port, fd)
                  in a.log(), 'no log line for fd %d: %s' % (fd, a.log()[-800:]))
        check(ht.connect_refused(a.conf_port),
              'the `listen` port %d from the config is open' % a.conf_port)
        os.kill(a.pid, signal.SIGTERM)
        n.expect('STOPPING', a.pid)
        check_eq(a.wait_exit(5), 0, 'exit status after SIGTERM')


@run.case
def refuses_a_datagram_socket():
    require()
    with ht.Notify() as n, Activated(n, flags=['--datagram']) as a:
        # a datagram makes the socket readable, so the child is exec'd
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.sendto(b'hello?', (ht.HOST, a.ports[0]))
        rc = a.wait_exit(5)
        check_eq(rc, 78, 'exit status with a UDP socket passed')
        check('socket-activated fd 3: not a listening TCP socket' in a.log(),
              'no clear error for the UDP socket: %s' % a.log()[-600:])
        check(not [t for t in n.log if 'READY=1' in t[1]], 'READY=1 sent: %s' % n.log)


@run.case
def sockets_for_another_pid_are_not_taken():
    """LISTEN_PID names another process: the fds are not hellod's, and it
    listens on its config's address instead."""
    ht.require_systemd()
    with ht.Server(env={'LISTEN_PID': '1', 'LISTEN_FDS': '1'}) as s:
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        check('socket-activated' not in s.stderr_text(),
              'took fds meant for pid 1: %s' % s.stderr_tail())


@run.case
def malformed_listen_fds_is_an_error():
    """LISTEN_FDS that is not a number: exit 71 with the reason, nothing
    served."""
    ht.require_systemd()
    tmp = ht.make_tempdir()
    conf = os.path.join(tmp, 'hellod.conf')
    with open(conf, 'w') as f:
        f.write('listen = %s:%d\nroot = %s\n' % (ht.HOST, ht.free_port(), ht.STATIC))
        f.write(''.join(line + '\n' for line in ht.user_lines()))
    r = subprocess.run(['/bin/sh', '-c', 'LISTEN_PID=$$ LISTEN_FDS=two exec "$0" -c "$1"',
                        ht.hellod_path(), conf], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10,
                       text=True, errors='replace')
    check_eq(r.returncode, 71, 'exit status with LISTEN_FDS=two')
    check('sd_listen_fds: Invalid argument' in r.stderr,
          'no clear error for LISTEN_FDS=two: %r' % r.stderr[-400:])


if __name__ == '__main__':
    run.run()
