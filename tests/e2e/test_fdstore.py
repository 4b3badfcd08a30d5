#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Listening sockets that outlive the process (systemd's file-descriptor
store), and one owner per address (issue 15, sections 1 and 2).

The test plays systemd: a NOTIFY_SOCKET that keeps the sockets hellod hands
over with FDSTORE=1/FDNAME= (SCM_RIGHTS), forgets those it removes with
FDSTOREREMOVE=1, and starts the next hellod with them as LISTEN_FDS,
LISTEN_FDNAMES and LISTEN_PID, as systemd 252 does on a restart. Between two
processes the stored sockets keep listening: connections made then wait in
the kernel's queue and the next process answers them, whatever its
`workers`. A second hellod on an address that one serves exits 71 with
"Address already in use".

Skipped (77) when hellod is built without the systemd integration."""

import array
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

run = ht.Runner('test_fdstore', script_timeout=150, case_timeout=40)
HELLO = ht.hello_bytes()
REQUEST = b'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'


def name_of(kind, port):
    return '%s_%s_%d' % (kind, ht.HOST, port)


class Manager:
    """systemd's side of one unit: the notify socket and the fd store."""

    def __init__(self):
        ht.require_systemd()
        self.notify = ht.Notify()
        self.store = []         # [name, fd] in the order stored
        self.tmpdir = ht.make_tempdir()
        self.proc = None
        self.log_path = None
        self.runs = 0

    def close(self):
        self.stop()
        for _, fd in self.store:
            os.close(fd)
        self.store = []
        self.notify.close()

    def recv(self, timeout):
        """One datagram; keeps what FDSTORE=1 brings, drops what
        FDSTOREREMOVE=1 names. Returns (pid, fields) or None."""
        s = self.notify.sock
        s.settimeout(max(timeout, 0.001))
        try:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12) +
                                        socket.CMSG_SPACE(64 * 4))
        except socket.timeout:
            return None
        pid, fds = None, []
        for level, typ, payload in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = int.from_bytes(payload[:4], sys.byteorder)
            elif level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                a = array.array('i')
                a.frombytes(payload[:len(payload) - len(payload) % a.itemsize])
                fds += list(a)
        fields = dict(line.split('=', 1) for line in data.decode().split('\n')
                      if '=' in line)
        if fields.get('FDSTORE') == '1':
            for fd in fds:
                # systemd keeps one copy of each open file
                st = os.fstat(fd)
                if any(os.fstat(f).st_ino == st.st_ino for _, f in self.store):
                    os.close(fd)
                else:
                    self.store.append([fields.get('FDNAME', 'stored'), fd])
        else:
            for fd in fds:
                os.close(fd)
        if fields.get('FDSTOREREMOVE') == '1':
            for entry in [e for e in self.store if e[0] == fields.get('FDNAME')]:
                os.close(entry[1])
                self.store.remove(entry)
        self.notify.log.append((pid, data.decode()))
        return pid, fields

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        while self.recv(deadline - time.monotonic()) is not None:
            pass

    def names(self):
        return sorted(n for n, _ in self.store)

    def start(self, port, workers, metrics_port=None):
        """Start hellod with the stored sockets; wait for READY=1."""
        self.runs += 1
        conf = os.path.join(self.tmpdir, 'hellod-%d.conf' % self.runs)
        with open(conf, 'w') as f:
            f.write('listen = %s:%d\nroot = %s\nworkers = %d\n'
                    % (ht.HOST, port, ht.STATIC, workers))
            if metrics_port is not None:
                f.write('metrics_listen = %s:%d\n' % (ht.HOST, metrics_port))
            f.write(''.join(line + '\n' for line in ht.user_lines()))
        env = dict(os.environ, **self.notify.env())
        for k in ('LISTEN_FDS', 'LISTEN_FDNAMES', 'LISTEN_PID'):
            env.pop(k, None)
        high = []
        if self.store:
            env['LISTEN_FDS'] = str(len(self.store))
            env['LISTEN_FDNAMES'] = ':'.join(n for n, _ in self.store)
            high = [os.dup(fd) for _, fd in self.store]

        def place():
            for i, fd in enumerate(high):
                os.dup2(fd, 3 + i)
        # LISTEN_PID must be hellod's own pid: sh exec()s it in place.
        cmd = ['sh', '-c', 'LISTEN_PID=$$ exec "$@"', 'sh'] + ht.hellod_cmd(['-c', conf])
        if not self.store:
            cmd = ht.hellod_cmd(['-c', conf])
        self.log_path = os.path.join(self.tmpdir, 'stderr-%d.log' % self.runs)
        with open(self.log_path, 'wb') as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, env=env, preexec_fn=place,
                                         pass_fds=[3 + i for i in range(len(high))])
        for fd in high:
            os.close(fd)
        deadline = time.monotonic() + ht.slow(10)
        while time.monotonic() < deadline:
            got = self.recv(0.1)
            if got is not None and got[1].get('READY') == '1':
                check_eq(got[0], self.proc.pid, 'READY=1 sender')
                self.pump(0.3)          # FDSTORE follows READY
                return
            if self.proc.poll() is not None:
                break
        raise ht.TestFailure('hellod not ready (exit %s): %s'
                             % (self.proc.poll(), self.log()[-800:]))

    def log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(ht.slow(10))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.pump(0.05)
        self.proc = None
        return rc


def queue_requests(port, n):
    """n connections with a whole request each, made while no process
    listens: each must connect (not be refused)."""
    conns = []
    for i in range(n):
        try:
            c = socket.create_connection((ht.HOST, port), timeout=2)
        except OSError as e:
            for c in conns:
                c.close()
            raise ht.TestFailure('connection %d while hellod was down: %s' % (i, e))
        c.sendall(REQUEST)
        conns.append(c)
    return conns


def read_all(conns, what):
    ok = 0
    for c in conns:
        c.settimeout(ht.slow(5))
        data = b''
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                data += d
        except OSError as e:
            data += ('<%s>' % e).encode()
        c.close()
        if data.startswith(b'HTTP/1.1 200 ') and data.endswith(HELLO):
            ok += 1
    check_eq(ok, len(conns), '%s: connections answered 200 with the page' % what)


@run.case
def a_second_hellod_on_a_served_address_exits_71():
    for first, second in ((2, 2), (2, 1), (1, 2)):
        with ht.Server(options={'workers': first}) as s:
            conf = os.path.join(s.tmpdir, 'second.conf')
            with open(conf, 'w') as f:
                f.write('listen = %s:%d\nroot = %s\nworkers = %d\n'
                        % (ht.HOST, s.port, ht.STATIC, second))
                f.write(''.join(line + '\n' for line in ht.user_lines()))
            p = ht.run_hellod(['-c', conf], timeout=ht.slow(10))
            what = 'second hellod (workers %d) beside one with workers %d' % (second, first)
            check_eq(p.returncode, 71, what + ': exit status')
            check('listen %s:%d: Address already in use' % (ht.HOST, s.port) in p.stderr,
                  what + ': stderr %r' % p.stderr[-300:])
            for _ in range(10):
                ht.check_page(s.http('GET', '/'), 200, HELLO)
            check_eq(s.stop(), 0, 'first hellod exit status')


@run.case
def restart_keeps_the_sockets_listening():
    port, mport = ht.free_port(), ht.free_port()
    m = Manager()
    try:
        m.start(port, 2, mport)
        check_eq(m.names(), sorted([name_of('listen', port)] * 2 +
                                   [name_of('metrics', mport)]),
                 'sockets in the store (2 workers: one each, and metrics)')
        ht.check_page(ht.http(port), 200, HELLO)
        check_eq(m.stop(), 0, 'exit status')
        conns = queue_requests(port, 20)
        metrics = socket.create_connection((ht.HOST, mport), timeout=2)
        metrics.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        m.start(port, 2, mport)
        check('took 2 listening socket(s) of %s:%d back from systemd' % (ht.HOST, port)
              in m.log(), 'log says the sockets were taken back: %s' % m.log()[-600:])
        check('(kept by systemd)' in m.log(), 'metrics socket taken back: %s'
              % m.log()[-600:])
        read_all(conns, 'queued while no hellod ran')
        metrics.settimeout(ht.slow(5))
        got = b''
        while True:
            d = metrics.recv(65536)
            if not d:
                break
            got += d
        metrics.close()
        check(got.startswith(b'HTTP/1.1 200 ') and b'hellod_build_info' in got,
              'metrics request queued while down: %r' % got[:200])
        check_eq(len(m.store), 3, 'sockets in the store after the restart')
        check_eq(m.stop(), 0, 'exit status')
    finally:
        m.close()


@run.case
def a_workers_change_serves_every_stored_socket():
    port = ht.free_port()
    m = Manager()
    try:
        m.start(port, 2)
        check_eq(len(m.store), 2, 'sockets stored by 2 workers')
        m.stop()
        # SO_REUSEPORT spreads these over both stored sockets' queues
        conns = queue_requests(port, 40)
        m.start(port, 1)
        read_all(conns, 'queued for 2 sockets, served by 1 worker')
        check_eq(len(m.store), 2, 'sockets in the store with 1 worker')
        m.stop()
        conns = queue_requests(port, 40)
        m.start(port, 3)
        read_all(conns, 'queued for 2 sockets, served by 3 workers')
        check_eq(len(m.store), 2, 'sockets in the store with 3 workers')
        for _ in range(30):
            ht.check_page(ht.http(port), 200, HELLO)
        check_eq(m.stop(), 0, 'exit status')
    finally:
        m.close()


@run.case
def a_socket_no_longer_wanted_is_removed():
    old, new = ht.free_port(), ht.free_port()
    m = Manager()
    try:
        m.start(old, 1)
        check_eq(m.names(), [name_of('listen', old)], 'stored')
        m.stop()
        m.start(new, 1)
        check_eq(m.names(), [name_of('listen', new)],
                 'store after a restart on another port (old one removed)')
        check('FDSTOREREMOVE=1\nFDNAME=%s' % name_of('listen', old)
              in [t for _, t in m.notify.log], 'FDSTOREREMOVE sent')
        check(re.search(r'listen_127\.0\.0\.1_%d \(fd \d+\) matches no listen key: '
                        r'removed from the store and closed' % old, m.log()),
              'warning about the removed socket: %s' % m.log()[-600:])
        check(ht.connect_refused(old), 'old port still listening')
        ht.check_page(ht.http(new), 200, HELLO)
        check_eq(m.stop(), 0, 'exit status')
    finally:
        m.close()


if __name__ == '__main__':
    run.run()
