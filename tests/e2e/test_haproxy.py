#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Rolling restarts behind HAProxy lose no request.

The shipped packaging/haproxy/hellod.cfg, with its three ports (8080, 7878,
7879) remapped to free ones and nothing else changed (except that its log
goes to a file instead of /dev/log, and its user/group lines are dropped
when not run as root), runs in a real haproxy (-db, foreground) in front of
two real hellods. Client threads put constant load through haproxy: GET /
on keep-alive connections, GET / with `Connection: close`, and GET /sleep
(sleep = 300ms), at full speed around each SIGTERM and paced in between.
Meanwhile each hellod is restarted in turn, twice:

  restart   SIGTERM, wait for the exit, start again on the same port at once;
  delayed   SIGTERM, wait for the exit, start again only 3.5 s later, so that
            haproxy must route around a dead instance (its health checks
            mark it DOWN; requests in between are refused and redispatched).

After each restart the test waits until haproxy has the instance UP again
before touching the other one, as an operator would. Every request must
get its 200 and the page; the counts are printed, and haproxy's request
log must show redispatched requests (or the races were not exercised).
Skips when haproxy is not installed (in CI, .ci/run counts a skip as a
failure)."""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check  # noqa: E402

run = ht.Runner('test_haproxy', script_timeout=60, case_timeout=55)
CFG = os.path.join(ht.SRCDIR, 'packaging', 'haproxy', 'hellod.cfg')
SLEEP = '300ms'
# Seconds an instance stays down in the delayed mode: longer than haproxy
# keeps retrying one server (retries 3, 1 s apart), so the requests sent to
# it before the checks marked it DOWN only succeed if they are redispatched.
DELAY = 3.5
CLIENT_TIMEOUT = 10.0   # one request through haproxy, /sleep included
PAUSE = 0.005           # between two requests of a client, outside bursts


def haproxy_path():
    for p in (shutil.which('haproxy'), '/usr/sbin/haproxy'):
        if p and os.access(p, os.X_OK):
            return p
    raise ht.Skip('haproxy not found: install the Debian package haproxy')


def remapped_cfg(front, ports):
    """The shipped config with 127.0.0.1:8080 -> front and 7878, 7879 ->
    ports; each must occur exactly once, so a changed shape fails here."""
    with open(CFG) as f:
        lines = f.read().split('\n')
    for old, new in ((8080, front), (7878, ports[0]), (7879, ports[1])):
        pat = re.compile(r'\b127\.0\.0\.1:%d\b' % old)
        n = 0
        for i, line in enumerate(lines):
            code, hash_, comment = line.partition('#')
            code, k = pat.subn('127.0.0.1:%d' % new, code)
            n += k
            lines[i] = code + hash_ + comment
        check(n == 1, '%s: 127.0.0.1:%d should occur once outside comments, not %d times'
              % (CFG, old, n))
    text = '\n'.join(lines)
    # Its request log to the test's file instead of syslog.
    text, n = re.subn(r'(?m)^(\s*)log\s+/dev/log\s+(\S+)',
                      r'\1log stdout format raw \2', text)
    check(n == 1, '%s: one `log /dev/log FACILITY` line expected, found %d' % (CFG, n))
    if os.geteuid() != 0:
        # haproxy could not switch to the haproxy user: stay this user.
        ht.note('not root: running the config without its user/group lines')
        text = re.sub(r'(?m)^\s*(user|group)\s.*$', '', text)
    return text


class Haproxy:
    """haproxy -db -f CFG; its stderr (warnings: servers UP/DOWN) and its
    stdout (the request log) each in a file."""

    def __init__(self, cfg_text, front):
        self.dir = ht.make_tempdir('hellod-haproxy-')
        self.cfg = os.path.join(self.dir, 'haproxy.cfg')
        self.err = os.path.join(self.dir, 'haproxy.err')
        self.log = os.path.join(self.dir, 'haproxy.log')
        self.front = front
        with open(self.cfg, 'w') as f:
            f.write(cfg_text)
        self.proc = None

    def start(self):
        hp = haproxy_path()
        p = subprocess.run([hp, '-c', '-f', self.cfg], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors='replace', timeout=30)
        check(p.returncode == 0, 'haproxy -c rejects the config:\n%s' % p.stdout)
        self._out = open(self.log, 'wb')
        self._err = open(self.err, 'wb')
        self.proc = subprocess.Popen([hp, '-db', '-f', self.cfg],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)
        ok = ht.wait_for(lambda: self.proc.poll() is not None
                         or not ht.connect_refused(self.front), 10)
        check(ok and self.proc.poll() is None,
              'haproxy did not start:\n%s' % self.text()[-2000:])

    def text(self, path=None):
        try:
            with open(path or self.err, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def state(self, server, start=0):
        """'UP', 'DOWN' or None: the last state change of hellod/SERVER haproxy
        reported after offset start of its log."""
        found = re.findall(r'Server hellod/%s is (UP|DOWN)' % server,
                           self.text()[start:])
        return found[-1] if found else None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None:
            self._out.close()
            self._err.close()

    def retries(self):
        """(requests logged, retried, redispatched, not 200) from the
        request log: httplog's fifth counter is the retries, with a + when
        the request was redispatched to another server."""
        n = retried = redispatched = bad = 0
        for m in re.finditer(r' (\d{3}) \d+ \S+ \S+ \S{4} \d+/\d+/\d+/\d+/(\+?)(\d+) ',
                             self.text(self.log)):
            n += 1
            retried += int(m.group(3)) > 0
            redispatched += m.group(2) == '+'
            bad += m.group(1) != '200'
        return n, retried, redispatched, bad


class Load:
    """Client threads sending requests through haproxy until stop()."""

    KINDS = ('keepalive', 'close', 'sleep')

    def __init__(self, port, per_kind=2):
        self.port = port
        self.page = ht.hello_bytes()
        self.lock = threading.Lock()
        self.ok = {k: 0 for k in self.KINDS}
        self.failed = {k: 0 for k in self.KINDS}
        self.errors = []
        self.done = threading.Event()
        # Set: no pause between requests. Full speed only around each
        # SIGTERM, where the races are, so the test does not hog the CPUs
        # other tests run on for all of its 20 s.
        self.burst = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(k,), daemon=True)
                        for k in self.KINDS for _ in range(per_kind)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(CLIENT_TIMEOUT + 5)
        check(not any(t.is_alive() for t in self.threads), 'a client thread hangs')

    def _count(self, kind, err):
        with self.lock:
            if err is None:
                self.ok[kind] += 1
            else:
                self.failed[kind] += 1
                if len(self.errors) < 20:
                    self.errors.append('%.3f %s: %s' % (time.monotonic(), kind, err))

    def _client(self, kind):
        # The query (ignored by hellod) marks client requests in the access
        # log: haproxy's health checks are GET / too.
        path = ('/sleep' if kind == 'sleep' else '/') + '?client=' + kind
        headers = {'Connection': 'close'} if kind == 'close' else None
        c = None
        while not self.done.is_set():
            err = None
            try:
                if c is None:
                    c = ht.Conn(self.port, timeout=CLIENT_TIMEOUT)
                c.request('GET', path, headers)
                r = c.read_response('GET')
                if r.status != 200:
                    err = 'status %d %s' % (r.status, r.body[:200])
                elif r.body != self.page:
                    err = 'wrong body (%d bytes)' % len(r.body)
                if kind == 'close' or 'close' in r.connection_tokens():
                    c.close()
                    c = None
            except Exception as e:      # refused, reset, closed, timed out
                err = '%s: %s' % (type(e).__name__, e)
                if c is not None:
                    c.close()
                    c = None
            self._count(kind, err)
            if not self.burst.is_set():
                time.sleep(PAUSE)
        if c is not None:
            c.close()

    def summary(self):
        with self.lock:
            return ('ok %d, failed %d (%s)'
                    % (sum(self.ok.values()), sum(self.failed.values()),
                       ', '.join('%s %d/%d' % (k, self.ok[k], self.failed[k])
                                 for k in self.KINDS)))


def hellod(port):
    return ht.Server(port=port, sleep=SLEEP).start()


def wait_up(hap, name, mark, what):
    """Wait until haproxy has NAME in rotation: a server haproxy marked DOWN
    after offset mark must be reported UP again; one it never marked DOWN
    gets two check intervals (rise 2, inter 1s) to pass its checks."""
    time.sleep(2.5)
    ok = ht.wait_for(lambda: hap.state(name, mark) != 'DOWN', 8, 0.1)
    check(ok, '%s: haproxy still has %s DOWN 10 s after its restart:\n%s'
          % (what, name, hap.text()[mark:][-2000:]))


@run.case(timeout=55)
def rolling_restarts():
    haproxy_path()
    front = ht.free_port()
    ports = [ht.free_port(), ht.free_port()]
    while ports[1] == ports[0] or front in ports:
        front, ports[1] = ht.free_port(), ht.free_port()
    names = ['hellod1', 'hellod2']
    servers = [hellod(p) for p in ports]
    hap = Haproxy(remapped_cfg(front, ports), front)
    load = None
    try:
        hap.start()
        # Both servers in rotation before the load starts.
        check(ht.wait_for(lambda: all(ht.http(front).status == 200 for _ in range(4)), 5),
              'GET / through haproxy fails before any restart:\n%s' % hap.text()[-2000:])
        load = Load(front)
        load.start()
        time.sleep(1.0)
        for mode in ('restart', 'delayed'):
            for i in (0, 1):
                mark = len(hap.text())
                load.burst.set()
                time.sleep(0.3)
                t0 = time.monotonic()
                servers[i].signal(signal.SIGTERM)
                rc = servers[i].wait_exit(ht.slow(10))
                check(rc == 0, '%s %s: hellod exited with %r after SIGTERM:\n%s'
                      % (mode, names[i], rc, servers[i].stderr_tail()))
                servers[i].stop()
                if mode == 'delayed':
                    time.sleep(DELAY)
                    check(hap.state(names[i], mark) == 'DOWN',
                          'delayed %s: haproxy did not mark it DOWN within %.1f s:\n%s'
                          % (names[i], DELAY, hap.text()[mark:][-2000:]))
                servers[i] = hellod(ports[i])
                time.sleep(0.3)
                load.burst.clear()
                ht.note('%s %s: down for %.2f s; load so far: %s'
                        % (mode, names[i], time.monotonic() - t0, load.summary()))
                wait_up(hap, names[i], mark, '%s %s' % (mode, names[i]))
        time.sleep(1.0)
        load.stop()
        summary = load.summary()
        ht.note('through haproxy: %s' % summary)
        for e in load.errors:
            ht.note('  failed: %s' % e)
        check(sum(load.ok.values()) > 100 and all(load.ok.values()),
              'too little load got through: %s' % summary)
        check(sum(load.failed.values()) == 0,
              '%d request(s) failed: %s' % (sum(load.failed.values()), summary))
        # Both instances served clients since their last start: the
        # balancing works (access log lines; the checks have no query).
        for s, name in zip(servers, names):
            check('"GET /?client=' in s.stderr_text(),
                  '%s served no client after its last restart:\n%s'
                  % (name, s.stderr_tail()))
        check(hap.proc.poll() is None, 'haproxy died:\n%s' % hap.text()[-2000:])
        n, retried, redispatched, bad = hap.retries()
        ht.note('haproxy logged %d requests: %d retried, %d of them redispatched, '
                '%d not 200' % (n, retried, redispatched, bad))
        # The delayed restarts leave requests sent to a dead instance before
        # its checks fail: if none was redispatched, the races this test is
        # about were not exercised.
        check(redispatched > 0, 'haproxy redispatched no request: the test did not '
              'exercise what it should')
    finally:
        if load is not None:
            load.done.set()
        hap.stop()
        for s in servers:
            s.stop(timeout=5)


if __name__ == '__main__':
    run.run()
