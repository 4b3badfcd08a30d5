#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Journal-friendly logging: when JOURNAL_STREAM ("DEV:INO", set by systemd
for a service whose stderr is the journal) names hellod's stderr, every line
is "<N>message" with its syslog priority (3 error, 4 warning, 6 info and
access, 7 debug) and no timestamp; otherwise lines keep their timestamps.
Here stderr is a plain file and JOURNAL_STREAM is set to that file's device
and inode. This needs no systemd integration, so it runs in every build.

Access entries then become journal entries with fields, sent by libsystemd
(sd_journal_sendv) to its fixed socket, /run/systemd/journal/socket. The cases
that need it run hellod in a private mount namespace where that path is this
test's socket, or missing, where hellod falls back to the "<6>" line
(hellodtest.journal_ns_prefix(); root only, so they come last: without root
the script is skipped from there on). test_systemd_boot.py checks the same
with a real journald."""

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_journal', script_timeout=60, case_timeout=20)
HELLO = ht.hello_bytes()
STAMP_RE = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d')
TIMESTAMPED_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z '
                            r'\[(error|warn|info|debug|access)\] ')


def journal_env(s):
    return {'JOURNAL_STREAM': s.stderr_dev_ino()}


class FakeJournal:
    """A datagram socket standing in for /run/systemd/journal/socket (hellod
    sees it there when started with Server(journal=j.path))."""

    def __init__(self):
        self.path = os.path.join(ht.make_tempdir(), 'journal.socket')
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def close(self):
        self.sock.close()

    def entries(self, n, timeout=5):
        """n entries as lists of (name, value bytes), waiting up to timeout."""
        out = []
        deadline = time.monotonic() + ht.slow(timeout)
        while len(out) < n:
            left = deadline - time.monotonic()
            check(left > 0, 'got %d of %d journal entries: %r' % (len(out), n, out))
            self.sock.settimeout(left)
            try:
                out.append(decode_entry(self.sock.recv(65536)))
            except socket.timeout:
                pass
        return out

    def nothing_more(self, wait=0.3):
        self.sock.settimeout(wait)
        try:
            extra = self.sock.recv(65536)
        except socket.timeout:
            return
        raise ht.TestFailure('unexpected journal entry: %r' % extra)


def decode_entry(data):
    """The native protocol: NAME=value\n, or NAME\n + u64 LE length + value + \n."""
    fields = []
    while data:
        nl = data.index(b'\n')
        line = data[:nl]
        if b'=' in line:
            name, value = line.split(b'=', 1)
            data = data[nl + 1:]
        else:
            name = line
            (n,) = struct.unpack('<Q', data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + n]
            check(data[nl + 9 + n:nl + 10 + n] == b'\n', 'bad binary field %r' % data)
            data = data[nl + 10 + n:]
        check(re.fullmatch(rb'[A-Z][A-Z0-9_]*', name), 'bad field name %r' % name)
        fields.append((name.decode(), value))
    return fields


def lines_of(text):
    return [line for line in text.split('\n') if line]


def has_line(lines, regex):
    return any(re.match(regex, line) for line in lines)


@run.case
def other_stream_keeps_timestamps():
    """JOURNAL_STREAM naming another file (here: a different inode), or
    malformed, means stderr is not the journal."""
    def other(s):
        dev, ino = s.stderr_dev_ino().split(':')
        return {'JOURNAL_STREAM': '%s:%d' % (dev, int(ino) + 1)}
    for env in (other, {'JOURNAL_STREAM': 'journal'}):
        with ht.Server(env=env) as s:
            ht.check_page(s.http('GET', '/'), 200, HELLO)
            check_eq(s.stop(), 0, 'exit status')
            lines = lines_of(s.stderr_text())
        check(lines, 'nothing logged')
        bad = [line for line in lines if not TIMESTAMPED_RE.match(line)]
        check(not bad, 'lines without the timestamp and [level]: %s' % bad[:5])


@run.case
def startup_errors_in_journal():
    """Start-up messages that are not log lines (config errors, -t) get the
    prefix too, and otherwise stay as they were."""
    d = ht.make_tempdir()
    conf = os.path.join(d, 'bad.conf')
    with open(conf, 'w') as f:
        f.write('root = %s\nheader_timeout = banana\n' % ht.STATIC)
        f.write(''.join(line + '\n' for line in ht.user_lines()))
    good = os.path.join(d, 'good.conf')
    with open(good, 'w') as f:
        f.write('root = %s\n' % ht.STATIC)
        f.write(''.join(line + '\n' for line in ht.user_lines()))
    for journal in (True, False):
        for path, rc in ((conf, 78), (good, 0)):
            err_path = os.path.join(d, 'stderr-%s-%d.log' % (journal, rc))
            with open(err_path, 'wb') as err:
                st = os.fstat(err.fileno())
                env = dict(os.environ)
                env.pop('JOURNAL_STREAM', None)
                if journal:
                    env['JOURNAL_STREAM'] = '%d:%d' % (st.st_dev, st.st_ino)
                p = subprocess.run(ht.hellod_cmd(['-c', path] + (['-t'] if rc == 0 else [])),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=err, env=env, timeout=ht.slow(10))
            check_eq(p.returncode, rc, 'exit status of hellod -c %s' % path)
            with open(err_path, encoding='utf-8', errors='replace') as f:
                lines = lines_of(f.read())
            if rc == 78:
                want = ['%s:2: header_timeout: ' % conf,
                        'hellod: configuration %s has errors' % conf]
                prio = '<3>'
            else:
                want = ['hellod: configuration %s ok' % good]
                prio = '<6>'
            check_eq(len(lines), len(want), 'lines of %s' % lines)
            for line, start in zip(lines, want):
                start = (prio if journal else '') + start
                check(line.startswith(start), 'line %r does not start with %r' % (line, start))


# The cases below need a private mount namespace (root): see the docstring.

@run.case
def journal_lines_carry_priority():
    """No journal socket (journal=None): access entries are "<6>" lines too
    (and never reach the journal of the machine running the tests)."""
    with ht.Server(options={'log_level': 'debug', 'access_log': 'on'},
                   env=journal_env, journal=None) as s:
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        # a warning: listen changed on reload; then an error: broken reload
        lines = s.config_lines()
        lines[1] = 'listen = %s:%d' % (ht.HOST, ht.free_port())
        s.write_config(lines)
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reloaded configuration', 5, mark),
              'no reload in the log: %s' % s.stderr_tail())
        s.write_config(s.config_lines() + ['header_timeout = banana'])
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reload failed', 5, mark),
              'no failed reload in the log: %s' % s.stderr_tail())
        check_eq(s.stop(), 0, 'exit status')
        text = s.stderr_text()
    lines = lines_of(text)
    bad = [line for line in lines if not re.match(r'^<[3467]>\S', line)]
    check(not bad, 'lines without a <N> priority prefix: %s' % bad[:5])
    stamped = [line for line in lines if STAMP_RE.search(line)]
    check(not stamped, 'journal lines with a timestamp: %s' % stamped[:5])
    for regex, what in (
            (r'<6>listening on %s:%d$' % (re.escape(ht.HOST), s.port), 'info'),
            (r'<6>%s:\d+ "GET / HTTP/1\.1" 200 ' % re.escape(ht.HOST), 'access'),
            (r'<7>conn \d+: ', 'debug'),
            (r'<4>listen addresses changed', 'warning'),
            (r'<3>reload failed', 'error'),
            (r'<3>%s:\d+: header_timeout: ' % re.escape(s.conf), 'error (config line)')):
        check(has_line(lines, regex), 'no %s line matching %r in: %s'
              % (what, regex, ht._short(lines[-12:], 1500)))


@run.case
def access_entries_go_to_the_journal_socket():
    """With stderr the journal, each access entry is one journal entry with
    fields, and no access line is written to stderr. (Built without
    libsystemd: no entry, the "<6>" line.)"""
    if not ht.hellod_has_systemd():
        j = FakeJournal()
        try:
            with ht.Server(env=journal_env, journal=j.path) as s:
                ht.check_page(s.http('GET', '/'), 200, HELLO)
                check_eq(s.stop(), 0, 'exit status')
            j.nothing_more()
        finally:
            j.close()
        check(re.search(r'^<6>%s:\d+ "GET / HTTP/1\.1" 200 ' % re.escape(ht.HOST),
                        s.stderr_text(), re.M), 'no <6> access line (-systemd):\n%s'
              % s.stderr_tail())
        return
    j = FakeJournal()
    try:
        with ht.Server(options={'workers': 2}, env=journal_env, journal=j.path) as s:
            sent = []       # (request bytes, method for the reader, status, client port)
            for req, method, status in (
                    (b'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'GET', 200),
                    (b'GET /nope?q=%0A HTTP/1.1\r\nHost: a\r\n\r\n', 'GET', 404),
                    (b'HEAD /sleep?x HTTP/1.0\r\n\r\n', 'HEAD', 200),
                    (b'BREW / HTTP/1.1\r\nHost: a\r\n\r\n', 'BREW', 405),
                    (b'GET /\x01 HTTP/1.1\r\n\r\n', 'GET', 400)):
                with ht.Conn(s.port) as c:
                    c.send(req)
                    r = c.read_response(method)
                    check_eq(r.status, status, 'status of %r' % req)
                    sent.append((req, status, c.sock.getsockname()[1],
                                 len(r.raw_head) + len(r.body)))
            got = j.entries(len(sent))
            j.nothing_more()
            check_eq(s.stop(), 0, 'exit status')
            stderr = s.stderr_text()
    finally:
        j.close()
    check(not re.search(r'^<6>%s:\d+ "' % re.escape(ht.HOST), stderr, re.M),
          'access lines on stderr too:\n%s' % stderr)
    by_port = {}
    for e in got:
        d = dict(e)
        check_eq(len(d), len(e), 'a field given twice in %r' % e)
        m = re.fullmatch(r'%s:(\d+)' % re.escape(ht.HOST), d.get('CLIENT_ADDRESS', b'').decode())
        check(m, 'CLIENT_ADDRESS in %r' % e)
        by_port[int(m.group(1))] = d
    for req, status, port, nbytes in sent:
        d = by_port.get(port)
        check(d, 'no entry for the request %r from port %d' % (req, port))
        line = req.split(b'\r\n')[0]
        parsed = status != 400
        want = {'PRIORITY': b'6', 'SYSLOG_IDENTIFIER': b'hellod',
                'HTTP_STATUS': str(status).encode(), 'HTTP_BYTES': str(nbytes).encode()}
        if parsed:
            want['HTTP_METHOD'] = line.split(b' ')[0]
            want['HTTP_PATH'] = re.split(rb'[?#]', line.split(b' ')[1])[0]
        for k, v in want.items():
            check_eq(d.get(k), v, 'field %s of the entry for %r' % (k, line))
        check(d.get('CODE_FUNC') == b'log_journal_access' and
              d.get('CODE_FILE', b'').endswith(b'server/log.c'),
              'CODE_FILE/CODE_FUNC of the entry for %r: %r %r'
              % (line, d.get('CODE_FILE'), d.get('CODE_FUNC')))
        for k in ('HTTP_METHOD', 'HTTP_PATH'):
            check(parsed or k not in d, '%s in the entry for the unparsed %r' % (k, line))
        check(re.fullmatch(rb'\d+', d.get('HTTP_DURATION_US', b'')),
              'HTTP_DURATION_US of %r: %r' % (line, d.get('HTTP_DURATION_US')))
        check(d.get('HELLOD_WORKER') in (b'0', b'1'), 'HELLOD_WORKER %r' % d.get('HELLOD_WORKER'))
        msg = '%s:%d "%s" %d %d ' % (ht.HOST, port, line.decode() if parsed else '-',
                                      status, nbytes)
        check(d.get('MESSAGE', b'').decode().startswith(msg),
              'MESSAGE %r does not start with %r' % (d.get('MESSAGE'), msg))
        check(d['MESSAGE'].endswith(b' w=' + d['HELLOD_WORKER']), 'MESSAGE %r' % d['MESSAGE'])


@run.case
def full_journal_drops_are_counted_in_metrics():
    """A journal that does not read: libsystemd's send waits for it, hellod's
    workers never do. Every request is answered while the journal is stuck
    (the test reads nothing until all are); past the entries hellod queues,
    they are dropped and hellod_journal_dropped_total says how many. Once the
    journal reads again, every entry that was not dropped arrives. (Built
    without libsystemd there are no entries and nothing to drop.)"""
    systemd = ht.hellod_has_systemd()
    j = FakeJournal()
    try:
        j.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        mport = ht.free_port()
        with ht.Server(options={'workers': 1,
                                'metrics_listen': '%s:%d' % (ht.HOST, mport)},
                       env=journal_env, journal=j.path) as s:
            n = 1000
            with ht.Conn(s.port) as c:
                for _ in range(n):
                    c.send(b'GET / HTTP/1.1\r\nHost: a\r\n\r\n')
                    check_eq(c.read_response().status, 200, 'GET / status')
            dropped = int(ht.metric(mport, 'hellod_journal_dropped_total'))
            if not systemd:
                check_eq(dropped, 0, 'hellod_journal_dropped_total (-systemd)')
                j.nothing_more()
                check_eq(s.stop(), 0, 'exit status')
                return
            check(dropped > 0, 'nothing dropped with a journal that never reads')
            check(s.wait_stderr('dropped', 5), 'no warning about dropped entries: %s'
                  % s.stderr_tail())
            received = 0
            j.sock.settimeout(ht.slow(1.0))
            try:
                while True:
                    j.sock.recv(65536)
                    received += 1
            except socket.timeout:
                pass
            ht.note('%d entries: %d received, %d dropped' % (n, received, dropped))
            check_eq(received + dropped, n, 'entries received + dropped')
            check_eq(int(ht.metric(mport, 'hellod_journal_dropped_total')), dropped,
                     'hellod_journal_dropped_total after the journal caught up')
            check_eq(s.stop(), 0, 'exit status')
    finally:
        j.close()


@run.case
def exit_with_a_stuck_journal():
    """SIGTERM while the journal reads nothing and entries wait for it:
    hellod gives them a second, says how many were not sent, and exits 0
    (no hang on the journal, nothing leaked under the sanitizers)."""
    if not ht.hellod_has_systemd():
        return      # no entries without libsystemd (see above)
    j = FakeJournal()
    try:
        with ht.Server(options={'workers': 1}, env=journal_env, journal=j.path) as s:
            with ht.Conn(s.port) as c:
                for _ in range(100):
                    c.send(b'GET / HTTP/1.1\r\nHost: a\r\n\r\n')
                    check_eq(c.read_response().status, 200, 'GET / status')
            t0 = time.monotonic()
            check_eq(s.stop(timeout=10), 0, 'exit status')
            took = time.monotonic() - t0
            check(took < ht.slow(5), 'stopping took %.1fs' % took)
            m = re.search(r'^<4>the journal is not reading: (\d+) access log entries not sent$',
                          s.stderr_text(), re.M)
            check(m, 'no warning about unsent entries: %s' % s.stderr_tail())
            check(0 < int(m.group(1)) <= 100, 'unsent entries: %s' % m.group(1))
    finally:
        j.close()


@run.case
def journal_socket_unused_unless_journal():
    """With a journal there but stderr not the journal: the timestamped
    [access] line, no entry."""
    j = FakeJournal()
    try:
        with ht.Server(journal=j.path) as s:
            ht.check_page(s.http('GET', '/'), 200, HELLO)
            check_eq(s.stop(), 0, 'exit status')
            lines = lines_of(s.stderr_text())
        j.nothing_more()
    finally:
        j.close()
    check(any(re.match(TIMESTAMPED_RE.pattern + r'\S+ "GET / HTTP/1\.1" 200 ', line)
              for line in lines), 'no [access] line in %r' % lines)


if __name__ == '__main__':
    run.run()
