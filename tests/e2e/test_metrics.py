#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Prometheus metrics (`metrics_listen`), checked with Prometheus's own
tools: `promtool check metrics` lints a scrape; exact counter values after a
known sequence of requests (requests by route and code, connections accepted
and closed by reason, histogram counts, bytes in and out); the metrics
listener's HTTP (HEAD, 404, 405, keep-alive; /metrics is 404 on the public
port); two workers summed; reload counters after a good and a bad SIGHUP;
accept pauses at a small max_connections; the process_* figures against
/proc; and a real Prometheus server (Debian's `prometheus` package, on
loopback with a temporary config and data directory) that scrapes hellod
every second while 50 /sleep requests wait, then says through its HTTP query
API that it saw all 50 sleeping. Skips (77) when the package is not
installed."""

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_metrics', script_timeout=120, case_timeout=45)
HELLO = ht.hello_bytes()
PROMETHEUS = '/usr/bin/prometheus'
PROMTOOL = '/usr/bin/promtool'
CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

# Every family hellod exposes: name -> (type, label names). test_docs.py
# checks the documentation against what a live hellod emits; this table is
# the contract the cases below check the exposition against.
FAMILIES = {
    'hellod_build_info': ('gauge', ['version']),
    'hellod_workers': ('gauge', []),
    'hellod_connections_open': ('gauge', []),
    'hellod_connections_accepted_total': ('counter', []),
    'hellod_connections_closed_total': ('counter', ['reason']),
    'hellod_http_requests_total': ('counter', ['code', 'route']),
    'hellod_http_requests_sleeping': ('gauge', []),
    'hellod_http_request_duration_seconds': ('histogram', ['route']),
    'hellod_accept_pauses_total': ('counter', ['reason']),
    'hellod_accept_paused': ('gauge', []),
    'hellod_reloads_total': ('counter', []),
    'hellod_reload_failures_total': ('counter', []),
    'hellod_event_loop_stalls_total': ('counter', []),
    'hellod_event_loop_stall_seconds_max': ('gauge', []),
    'hellod_received_bytes_total': ('counter', []),
    'hellod_sent_bytes_total': ('counter', []),
    'hellod_journal_dropped_total': ('counter', []),
    'hellod_access_log_dropped_total': ('counter', []),
    'process_open_fds': ('gauge', []),
    'process_max_fds': ('gauge', []),
    'process_resident_memory_bytes': ('gauge', []),
    'process_virtual_memory_bytes': ('gauge', []),
    'process_cpu_seconds_total': ('counter', []),
    'process_start_time_seconds': ('gauge', []),
}
CLOSE_REASONS = ['done', 'timeout', 'client_gone', 'error', 'shutdown', 'max_connections']
PAUSE_REASONS = ['max_connections', 'descriptors']
BUCKETS = ['0.0001', '0.0005', '0.001', '0.005', '0.01', '0.05', '0.1', '0.5',
           '1', '2.5', '5', '5.1', '5.5', '10', '30', '+Inf']


def require_prometheus():
    """Skip the script (exit 77) without Debian's prometheus package."""
    for tool in (PROMETHEUS, PROMTOOL):
        if not os.access(tool, os.X_OK):
            raise ht.Skip('%s missing: prometheus package not installed: '
                          'apt-get install prometheus' % tool)


# ---------------------------------------------------------------- exposition

_SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


class Exposition:
    """A parsed text exposition (format 0.0.4): .types and .helps by family
    name, .samples {(name, ((label, value), ...)): float} in sorted label
    order, and .order, the family names as they first appear."""

    def __init__(self, text):
        self.text = text
        self.types = {}
        self.helps = {}
        self.samples = {}
        self.order = []
        check(text.endswith('\n'), 'exposition does not end with a newline')
        for n, line in enumerate(text.split('\n')[:-1], 1):
            if line.startswith('# HELP '):
                name, _, help_text = line[7:].partition(' ')
                check(name not in self.helps, 'line %d: second HELP for %s' % (n, name))
                self.helps[name] = help_text
                self._family(name)
            elif line.startswith('# TYPE '):
                name, _, typ = line[7:].partition(' ')
                check(name not in self.types, 'line %d: second TYPE for %s' % (n, name))
                check(not any(self.family_of(s[0]) == name for s in self.samples),
                      'line %d: TYPE for %s after its samples' % (n, name))
                self.types[name] = typ
                self._family(name)
            elif line.startswith('#'):
                continue
            else:
                m = _SAMPLE_RE.match(line)
                check(m is not None, 'line %d: not a sample: %r' % (n, line))
                labels = self._labels(m.group(2) or '', n)
                key = (m.group(1), tuple(sorted(labels.items())))
                check(key not in self.samples, 'line %d: sample given twice: %r' % (n, line))
                try:
                    self.samples[key] = float(m.group(3))
                except ValueError:
                    raise ht.TestFailure('line %d: bad value %r' % (n, m.group(3)))
                self._family(self.family_of(m.group(1)))

    def _family(self, name):
        if name not in self.order:
            self.order.append(name)

    @staticmethod
    def _labels(text, n):
        labels = {}
        pos = 0
        while pos < len(text):
            m = _LABEL_RE.match(text, pos)
            check(m is not None, 'line %d: bad labels {%s}' % (n, text))
            check(m.group(1) not in labels, 'line %d: label %s twice' % (n, m.group(1)))
            labels[m.group(1)] = re.sub(r'\\(.)', lambda e: '\n' if e.group(1) == 'n'
                                        else e.group(1), m.group(2))
            pos = m.end()
        return labels

    def family_of(self, sample_name):
        """The family a sample name belongs to (histogram suffixes stripped
        when that family is a declared histogram)."""
        for suffix in ('_bucket', '_sum', '_count'):
            base = sample_name[:-len(suffix)]
            if sample_name.endswith(suffix) and self.types.get(base) == 'histogram':
                return base
        return sample_name

    def get(self, name, **labels):
        key = (name, tuple(sorted(labels.items())))
        if key not in self.samples:
            raise ht.TestFailure('no sample %s%s in the scrape; %s has: %s'
                                 % (name, fmt_labels(labels), name,
                                    ' '.join(fmt_labels(dict(k[1]))
                                             for k in self.samples if k[0] == name) or 'none'))
        return self.samples[key]

    def series(self, name):
        """[(labels dict, value)] of every sample called name."""
        return [(dict(k[1]), v) for k, v in self.samples.items() if k[0] == name]

    def total(self, name, **labels):
        """Sum of the samples called name whose labels include labels."""
        return sum(v for lab, v in self.series(name)
                   if all(lab.get(k) == w for k, w in labels.items()))


def fmt_labels(labels):
    if not labels:
        return ''
    return '{%s}' % ','.join('%s="%s"' % kv for kv in sorted(labels.items()))


# ---------------------------------------------------------------- hellod

class MetricsServer(ht.Server):
    """A Server with `metrics_listen = 127.0.0.1:MPORT` (a free port, picked
    again with each new public port Server.start tries)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.mport = None
        self._mport_for = None

    def config_lines(self):
        if self._mport_for != self.port:
            self.mport = ht.free_port()
            self._mport_for = self.port
        return super().config_lines() + ['metrics_listen = %s:%d' % (ht.HOST, self.mport)]

    def start(self):
        super().start()
        check(ht.wait_for(lambda: not ht.connect_refused(self.mport), ht.slow(5), 0.05),
              'nothing listens on metrics_listen %s:%d; stderr:\n%s'
              % (ht.HOST, self.mport, self.stderr_tail()))
        # Server.start's probe connection to the public port (made once
        # hellod logs that it is ready) counts as accepted and closed:
        # wait until hellod has seen both, so that cases start settled.
        check(ht.wait_for(lambda: self.settled(self.scrape()), ht.slow(5)),
              'the start-up probe connection never accepted and closed: %s'
              % self.scrape().text[:1500])
        return self

    @staticmethod
    def settled(e):
        accepted = e.get('hellod_connections_accepted_total')
        return (accepted >= 1 and e.get('hellod_connections_open') == 0
                and e.total('hellod_connections_closed_total') == accepted)

    def scrape(self):
        """GET /metrics on the metrics listener, checked and parsed."""
        r = ht.http(self.mport, 'GET', '/metrics', timeout=ht.slow(5))
        check_eq(r.status, 200, 'GET /metrics status')
        check_eq(r.header('Content-Type'), CONTENT_TYPE, 'GET /metrics Content-Type')
        return Exposition(r.body.decode('utf-8'))


def exchange(port, data):
    """Send data (a request with `Connection: close`, or bad bytes) on a new
    connection and read until hellod closes it; returns every byte received.
    Exactly len(data) bytes went in and len(result) came out."""
    with ht.Conn(port, timeout=ht.slow(5)) as c:
        c.send(data)
        got, _ = c.wait_closed(ht.slow(5))
        return got


def status_of(raw_response):
    m = re.match(rb'HTTP/1\.1 (\d{3}) ', raw_response)
    check(m is not None, 'not an HTTP/1.1 response: %r' % raw_response[:80])
    return int(m.group(1))


def request(method, path, close=True, body=b''):
    hdrs = [('Connection', 'close')] if close else []
    if method == 'POST':
        hdrs.append(('Content-Length', str(len(body))))
    return ht.build_request(method, path, hdrs, body=body)


def deltas(before, after, name):
    """{labels tuple: after - before} for every series of name in after."""
    out = {}
    for lab, v in after.series(name):
        key = tuple(sorted(lab.items()))
        out[key] = v - before.samples.get((name, key), 0.0)
    return out


def nonzero(d):
    return {k: v for k, v in d.items() if v != 0}


def lab(**kw):
    return tuple(sorted(kw.items()))


# ---------------------------------------------------------------- cases

@run.case
def exposition_well_formed_and_promtool_clean():
    require_prometheus()
    with MetricsServer(sleep='200ms') as s:
        # Some traffic first, so the histograms have data.
        status_of(exchange(s.port, request('GET', '/')))
        status_of(exchange(s.port, request('GET', '/sleep')))
        status_of(exchange(s.port, request('GET', '/nope')))
        e = s.scrape()
        missing = [f for f in FAMILIES if f not in e.types]
        check(not missing, 'families missing from the scrape: %s' % missing)
        extra = [f for f in e.types if f not in FAMILIES]
        check(not extra, 'families this test does not know (add them to FAMILIES '
              'and the docs): %s' % extra)
        for name, (typ, labels) in FAMILIES.items():
            check_eq(e.types[name], typ, '# TYPE of %s' % name)
            check(e.helps.get(name, '').strip(), '%s has no (or an empty) # HELP' % name)
            series = e.series(name + ('_bucket' if typ == 'histogram' else ''))
            check(series, 'no samples for %s' % name)
            for labs, _ in series:
                got = sorted(k for k in labs if not (typ == 'histogram' and k == 'le'))
                check_eq(got, labels, 'label names of %s%s' % (name, fmt_labels(labs)))
        # Samples that must be there even before anything happened to them.
        version = re.search(r'^hellod (\S+)', ht.hellod_version()).group(1)
        check_eq(e.get('hellod_build_info', version=version), 1.0, 'hellod_build_info')
        for reason in CLOSE_REASONS:
            e.get('hellod_connections_closed_total', reason=reason)
        for reason in PAUSE_REASONS:
            e.get('hellod_accept_pauses_total', reason=reason)
        for route in ('/', '/sleep'):
            e.get('hellod_http_requests_total', route=route, code='200')
        # Histogram buckets as documented, cumulative, +Inf == _count.
        for route in ('/', '/sleep', 'other'):
            les = [lb['le'] for lb, _ in e.series('hellod_http_request_duration_seconds_bucket')
                   if lb['route'] == route]
            check_eq(les, BUCKETS, 'buckets (le, in order) of route %s' % route)
            vals = [e.get('hellod_http_request_duration_seconds_bucket', route=route, le=le)
                    for le in BUCKETS]
            check(vals == sorted(vals), 'route %s buckets not cumulative: %s' % (route, vals))
            check_eq(vals[-1], e.get('hellod_http_request_duration_seconds_count', route=route),
                     'route %s: +Inf bucket vs _count' % route)
            check_eq(vals[-1], 1.0, 'route %s: requests in the histogram' % route)
        # libevent arms the /sleep timer from its cached (coarse) clock, so
        # the timer can fire a few ms before 200 ms after the first byte.
        check(0.19 <= e.get('hellod_http_request_duration_seconds_sum', route='/sleep') < 5.0,
              '/sleep duration sum %r with sleep = 200ms'
              % e.get('hellod_http_request_duration_seconds_sum', route='/sleep'))
        # promtool: parses and lints (names, suffixes, units, HELP); any
        # complaint is on stdout with exit status 3, a parse error exit 1.
        p = subprocess.run([PROMTOOL, 'check', 'metrics'], input=e.text,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=30)
        check(p.returncode == 0 and not p.stdout.strip(),
              'promtool check metrics: exit %d: %s' % (p.returncode, p.stdout.strip()[:1500]))
        ht.note('scrape: %d families, %d samples, %d bytes; promtool check metrics: clean'
                % (len(e.types), len(e.samples), len(e.text)))


@run.case
def exact_counters_after_known_requests():
    with MetricsServer(sleep='3s', options={'header_timeout': '1s', 'workers': '1'}) as s:
        before = s.scrape()
        sent = recv = 0

        def one(data, want):
            nonlocal sent, recv
            got = exchange(s.port, data)
            check_eq(status_of(got) if got else None, want, 'response to %r' % data[:40])
            sent += len(data)
            recv += len(got)

        for _ in range(3):
            one(request('GET', '/'), 200)
        for _ in range(2):
            one(request('GET', '/nope'), 404)
        one(b'\x01\x02 garbage\r\n\r\n', 400)
        one(request('POST', '/', body=b'abc'), 405)     # route "other": not GET or HEAD
        # header_timeout: a silent connection is closed without a word, a
        # started head gets 408.
        one(b'', None)
        one(b'GET / HTTP/1.1\r\nHost: x\r\n', 408)
        # client_gone: the client leaves while its /sleep waits; closing is
        # noticed long before the 3 s timer would fire.
        c = ht.Conn(s.port)
        c.send(request('GET', '/sleep'))
        sent += len(request('GET', '/sleep'))
        check(ht.wait_for(lambda: s.scrape().get('hellod_http_requests_sleeping') == 1,
                          ht.slow(2)), 'hellod_http_requests_sleeping never 1')
        c.close()
        check(ht.wait_for(lambda: s.scrape().get('hellod_connections_closed_total',
                                                  reason='client_gone') == 1, ht.slow(2.5)),
              'no client_gone close within 2.5 s of the client leaving its /sleep')
        after = s.scrape()
        check_eq(after.get('hellod_http_requests_sleeping'), 0.0, 'sleeping after the close')
        check_eq(after.get('hellod_connections_open'), 0.0, 'connections open at the end')
        check_eq(after.get('hellod_connections_accepted_total')
                 - before.get('hellod_connections_accepted_total'), 10.0,
                 'connections accepted (10 made on the public port)')
        check_eq(nonzero(deltas(before, after, 'hellod_connections_closed_total')),
                 {lab(reason='done'): 6.0, lab(reason='error'): 1.0,
                  lab(reason='timeout'): 2.0, lab(reason='client_gone'): 1.0},
                 'connections closed by reason')
        check_eq(nonzero(deltas(before, after, 'hellod_http_requests_total')),
                 {lab(route='/', code='200'): 3.0, lab(route='other', code='404'): 2.0,
                  lab(route='other', code='400'): 1.0, lab(route='other', code='405'): 1.0,
                  lab(route='other', code='408'): 1.0},
                 'requests by route and code')
        for route in ('/', '/sleep', 'other'):
            check_eq(after.get('hellod_http_request_duration_seconds_count', route=route),
                     after.total('hellod_http_requests_total', route=route),
                     'route %s: histogram _count vs requests' % route)
        check_eq(after.get('hellod_received_bytes_total')
                 - before.get('hellod_received_bytes_total'), float(sent),
                 'received bytes (every byte the test sent)')
        check_eq(after.get('hellod_sent_bytes_total')
                 - before.get('hellod_sent_bytes_total'), float(recv),
                 'sent bytes (every byte the test received)')
        ht.note('10 connections: %d bytes in, %d bytes out, counted exactly' % (sent, recv))


@run.case
def metrics_listener_http():
    s = ht.shared_server(sleep='1s')
    check_eq(s.http('GET', '/metrics').status, 404, 'GET /metrics on the public port')
    with MetricsServer() as m:
        accepted = m.scrape().get('hellod_connections_accepted_total')
        with ht.Conn(m.mport) as c:
            # keep-alive: GET, HEAD, GET on one connection
            c.request('GET', '/metrics')
            r1 = c.read_response()
            check_eq(r1.status, 200, 'GET /metrics')
            check_eq(r1.header('Content-Type'), CONTENT_TYPE, 'Content-Type')
            check_eq(r1.header('Content-Length'), str(len(r1.body)), 'Content-Length')
            check('close' not in r1.connection_tokens(), 'GET /metrics closes the connection')
            c.request('HEAD', '/metrics')
            r2 = c.read_response('HEAD')
            check_eq(r2.status, 200, 'HEAD /metrics')
            check_eq(r2.header('Content-Type'), CONTENT_TYPE, 'HEAD Content-Type')
            check(r2.header('Content-Length', '').isdigit(),
                  'HEAD /metrics Content-Length %r' % r2.header('Content-Length'))
            c.request('GET', '/metrics')
            check_eq(c.read_response().status, 200, 'third request on one connection')
            c.expect_open(0.2)          # HEAD sent no body: nothing left over
        check_eq(m.http('GET', '/metrics').status, 404, 'GET /metrics on the public port')
        for path in ('/', '/sleep', '/metrics/', '/metricsx', '/nope'):
            check_eq(ht.http(m.mport, 'GET', path).status, 404,
                     'GET %s on the metrics port' % path)
        for method in ('POST', 'PUT', 'DELETE'):
            r = ht.http(m.mport, method, '/metrics',
                        headers=[('Content-Length', '0')])
            check_eq(r.status, 405, '%s /metrics' % method)
            check_eq(r.header('Allow'), 'GET, HEAD', '%s /metrics Allow' % method)
        with ht.Conn(m.mport) as c:
            # A body is read past, and the connection stays usable.
            c.request('POST', '/metrics', body=b'hello')
            check_eq(c.read_response().status, 405, 'POST /metrics with a body')
            c.request('GET', '/metrics')
            check_eq(c.read_response().status, 200, 'GET /metrics after a POST with a body')
        e = m.scrape()
        check_eq(e.get('hellod_connections_accepted_total') - accepted, 1.0,
                 'accepted: only the public connection (the metrics listener\'s are not counted)')


@run.case
def metrics_listener_bounds():
    """At most 16 connections to the metrics listener, and each must bring a
    whole request within header_timeout: trickling a byte at a time does not
    keep it open. A scrape after them still works."""
    with MetricsServer(options={'header_timeout': '1s'}) as s:
        # a trickling client: one byte every 0.2 s, never a whole head
        c = ht.Conn(s.mport, timeout=ht.slow(5))
        t0 = time.monotonic()
        closed_after = None
        try:
            for b in b'GET /metrics HTTP/1.1\r\nX-Slow: ' + b'a' * 200:
                c.sock.sendall(bytes([b]))
                time.sleep(0.2)
                if time.monotonic() - t0 > ht.slow(4):
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed_after = time.monotonic() - t0
        if closed_after is None:
            try:
                c.sock.settimeout(0.5)
                closed_after = time.monotonic() - t0 if c.sock.recv(1) == b'' else None
            except (socket.timeout, ConnectionResetError):
                closed_after = None
        c.close()
        ht.note('trickling client closed after %s s (header_timeout 1 s)' % closed_after)
        check(closed_after is not None and closed_after < ht.slow(3),
              'a client trickling bytes to the metrics port was not closed near '
              'header_timeout (1 s): %s' % closed_after)
        # 20 idle connections: the first 16 are kept, the rest closed at once
        # (well within header_timeout: those kept are not closed yet)
        conns = [ht.Conn(s.mport) for _ in range(20)]
        try:
            time.sleep(0.3)
            closed = 0
            for k in conns:
                k.sock.setblocking(False)
                try:
                    if k.sock.recv(1) == b'':
                        closed += 1
                except BlockingIOError:
                    pass
                except ConnectionResetError:
                    closed += 1
            check_eq(closed, 4, 'metrics connections closed at once of 20 (limit 16)')
        finally:
            for k in conns:
                k.close()
        check(ht.wait_for(lambda: s.scrape() is not None, ht.slow(3)),
              'no scrape once they left')


@run.case
def two_workers_summed():
    with MetricsServer(options={'workers': '2'}) as s:
        before = s.scrape()
        check_eq(before.get('hellod_workers'), 2.0, 'hellod_workers with workers = 2')
        mark = len(s.stderr_text())
        n = 0
        seen = set()
        # Batches of concurrent connections until both workers served some
        # (SO_REUSEPORT spreads by hash of the 4-tuple; 20 in a batch make
        # one worker alone a 1 in 2^19 chance).
        while len(seen) < 2 and n < 200:
            socks = ht.connect_many(s.port, 20)
            try:
                for sk in socks:
                    sk.sendall(request('GET', '/'))
                for sk in socks:
                    c = ht.Conn(s.port, sock=sk)
                    check_eq(c.read_response().status, 200, 'GET /')
            finally:
                for sk in socks:
                    sk.close()
            n += 20
            ht.wait_for(lambda: s.stderr_text()[mark:].count('[access]') >= n, ht.slow(5))
            seen = set(re.findall(r'\[access\] .* w=(\d+)$', s.stderr_text()[mark:], re.M))
        check_eq(sorted(seen), ['0', '1'], 'workers that served (access log w=N)')
        # The access line is written with the response; the close is
        # counted when the worker reads the client's EOF, which can come
        # later (under valgrind it did, for the last of 20): wait until
        # every accepted connection has been seen closed.
        check(ht.wait_for(lambda: s.settled(s.scrape()), ht.slow(5)),
              'connections never all closed after the batches: %s' % s.scrape().text[:1500])
        e = s.scrape()

        def grew(name, **labels):
            return e.get(name, **labels) - before.get(name, **labels)
        check_eq(grew('hellod_http_requests_total', route='/', code='200'), float(n),
                 'GET / 200 summed over both workers')
        check_eq(grew('hellod_connections_accepted_total'), float(n), 'accepted')
        check_eq(grew('hellod_http_request_duration_seconds_count', route='/'), float(n),
                 'histogram _count')
        check_eq(grew('hellod_connections_closed_total', reason='done'), float(n),
                 'closed (done)')
        ht.note('%d GET / over 2 workers, summed' % n)


@run.case
def reload_counters():
    with MetricsServer() as s:
        e = s.scrape()
        check_eq((e.get('hellod_reloads_total'), e.get('hellod_reload_failures_total')),
                 (0.0, 0.0), '(reloads, failures) at start')
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(ht.wait_for(lambda: s.scrape().get('hellod_reloads_total') == 1, ht.slow(5)),
              'hellod_reloads_total not 1 after a good SIGHUP; stderr: %s'
              % s.stderr_text()[mark:][-500:])
        check_eq(s.scrape().get('hellod_reload_failures_total'), 0.0, 'failures after a good reload')
        good = s.config_lines()
        s.write_config(good + ['no_such_key = 1'])
        s.signal(signal.SIGHUP)
        check(ht.wait_for(lambda: s.scrape().get('hellod_reload_failures_total') == 1,
                          ht.slow(5)),
              'hellod_reload_failures_total not 1 after a bad SIGHUP; stderr: %s'
              % s.stderr_text()[mark:][-500:])
        e = s.scrape()
        check_eq(e.get('hellod_reloads_total'), 1.0, 'reloads that took effect, after good + bad')
        check_eq(s.http('GET', '/').status, 200, 'GET / after the failed reload')


@run.case
def accept_pauses_at_max_connections():
    with MetricsServer(sleep='2s', options={'workers': '1', 'max_connections': '4'}) as s:
        e = s.scrape()
        check_eq(e.get('hellod_accept_paused'), 0.0, 'accept_paused at start')
        busy = [ht.Conn(s.port, timeout=ht.slow(10)) for _ in range(4)]
        late = None
        try:
            for c in busy:
                c.request('GET', '/sleep', headers=[('Connection', 'close')])
            check(ht.wait_for(lambda: s.scrape().get('hellod_http_requests_sleeping') == 4,
                              ht.slow(2)), '4 /sleep not all sleeping')
            late = ht.Conn(s.port, timeout=ht.slow(10))    # the kernel's queue holds it
            late.request('GET', '/', headers=[('Connection', 'close')])
            check(ht.wait_for(lambda: s.scrape().get('hellod_accept_paused') == 1, ht.slow(1.5)),
                  'hellod_accept_paused not 1 with 4 of 4 connections busy')
            e = s.scrape()
            check_eq(e.get('hellod_accept_pauses_total', reason='max_connections'), 1.0,
                     'accept pauses (max_connections)')
            check_eq(e.get('hellod_connections_open'), 4.0, 'connections open while paused')
            r = late.read_response()
            check_eq(r.status, 200, 'the queued connection, served once the /sleep are done')
            for c in busy:
                check_eq(c.read_response().status, 200, '/sleep')
        finally:
            for c in busy + [late]:
                if c is not None:
                    c.close()
        check(ht.wait_for(lambda: s.scrape().get('hellod_connections_open') == 0, ht.slow(2)),
              'connections left open')
        e = s.scrape()
        check_eq(e.get('hellod_accept_paused'), 0.0, 'accept_paused after the resume')
        # Accepting resumes at 3 of 4 connections: if the queued client is
        # accepted before the last /sleep connections have closed, the
        # count is back at 4 and accepting pauses once more.
        check(e.get('hellod_accept_pauses_total', reason='max_connections') in (1.0, 2.0),
              'accept pauses (max_connections) at the end: %r, want 1 (or 2)'
              % e.get('hellod_accept_pauses_total', reason='max_connections'))
        check_eq(e.get('hellod_accept_pauses_total', reason='descriptors'), 0.0,
                 'accept pauses (descriptors)')


@run.case
def idle_connection_reclaimed_at_max_connections():
    # A connection that brings the count to max_connections makes hellod
    # close its longest-idle keep-alive connection at once (a FIN).
    with MetricsServer(options={'workers': '1', 'max_connections': '3'}) as s:
        idle = [ht.Conn(s.port) for _ in range(2)]
        try:
            for c in idle:
                c.request('GET', '/')
                check_eq(c.read_response().status, 200, 'GET / (kept alive)')
            check_eq(s.scrape().get('hellod_connections_closed_total',
                                    reason='max_connections'), 0.0, 'reclaimed before the limit')
            check_eq(s.http('GET', '/').status, 200, 'GET / from a 3rd client')
            check_eq(idle[0].expect_closed(ht.slow(2), 'the longest-idle connection'),
                     'eof', 'how the longest-idle connection ended')
            idle[1].expect_open(0.1)
            # hellod shut its side (FIN) and reads on until the client
            # closes (or 250 ms pass): then it is counted as closed.
            idle[0].close()
            ht.wait_for(lambda: s.scrape().get('hellod_connections_closed_total',
                                               reason='max_connections') == 1.0, ht.slow(2))
            e = s.scrape()
            check_eq(e.get('hellod_connections_closed_total', reason='max_connections'), 1.0,
                     'closed to make room (max_connections)')
            check_eq(e.get('hellod_accept_pauses_total', reason='max_connections'), 0.0,
                     'accept pauses (an idle connection made room instead)')
        finally:
            for c in idle:
                c.close()

NOFILE = 40             # hellod's descriptor limit in the next case


def low_nofile():
    """preexec_fn: hellod runs with RLIMIT_NOFILE = NOFILE."""
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


@run.case
def accept_pauses_out_of_descriptors():
    # 60 clients stay connected to a hellod with 40 descriptors: accept()
    # fails with EMFILE and the worker pauses. A scrape waiting meanwhile
    # cannot be accepted either: the metrics listener must pause and retry
    # too, not spin on its readable socket (CPU) or log each failed accept.
    ht.raise_nofile(200)
    with MetricsServer(options={'header_timeout': '60s', 'workers': '1'},
                       popen_kw={'preexec_fn': low_nofile}) as s:
        e = s.scrape()
        check_eq(e.get('process_max_fds'), float(NOFILE) if not ht.WRAPPER
                 else e.get('process_max_fds'), 'process_max_fds under RLIMIT_NOFILE')
        mark = len(s.stderr_text())
        conns = ht.connect_many(s.port, 60)
        scrape = None
        try:
            check(s.wait_stderr('pausing accept', ht.slow(3), mark),
                  'no "pausing accept" warning; stderr:\n%s' % s.stderr_tail())
            scrape = ht.Conn(s.mport, timeout=ht.slow(10))
            scrape.request('GET', '/metrics')
            used, dt, logged = ht.idle_cost(s, 2)
            ht.note('out of descriptors with a scrape waiting: %.3f s CPU in %.1f s, '
                    '%d log lines' % (used, dt, logged))
            check(used < 0.1 * dt, 'hellod used %.3f s of CPU in %.1f s out of descriptors '
                  'with a scrape waiting (spinning?)' % (used, dt))
            check(logged <= 2, '%d log lines in %.1f s out of descriptors with a scrape '
                  'waiting: %r' % (logged, dt, s.stderr_text()[-300:]))
        finally:
            for c in conns:
                c.close()
        try:
            r = scrape.read_response()
            check_eq(r.status, 200, 'the scrape that waited')
            e = Exposition(r.body.decode('utf-8'))
        except (ConnectionResetError, ht.ProtocolError) as x:
            if not ht.WRAPPER:
                raise
            ht.note('the waiting scrape was closed (%s); scraping again' % x)
            e = scrape_through_wrapper(s)
        finally:
            scrape.close()
        # Each client that leaves frees a descriptor that the next queued
        # one takes, so the worker may pause again: at least one pause.
        pauses = e.get('hellod_accept_pauses_total', reason='descriptors')
        check(pauses >= 1, 'accept pauses (descriptors): %r' % pauses)
        check_eq(e.get('hellod_accept_paused'), 0.0,
                 'hellod_accept_paused (max_connections only)')
        check_eq(s.http('GET', '/').status, 200, 'GET / once the clients left')


def scrape_through_wrapper(s):
    """A scrape of a hellod under valgrind that was just out of descriptors.
    valgrind shows hellod a lower descriptor limit than the kernel's; a
    descriptor accept() returns between the two is closed by valgrind
    itself ("invalid file descriptor N in syscall accept()" in its log) and
    hellod sees EMFILE. Its client is reset, or sees EOF if its request had
    not arrived yet, for as long as the worker is still taking the queued
    clients' descriptors. Without a wrapper the kernel refuses the accept
    and no client is closed: any such error is a failure there."""
    deadline = time.monotonic() + ht.slow(5)
    while True:
        try:
            return s.scrape()
        except (ConnectionResetError, ht.ProtocolError) as x:
            if not ht.WRAPPER or time.monotonic() > deadline:
                raise
            ht.note('scrape closed under %s (%s); again' % (ht.WRAPPER[0], x))
            time.sleep(0.1)


def proc_start_time(pid):
    """Start time of pid in seconds since the epoch, from /proc."""
    with open('/proc/%d/stat' % pid) as f:
        ticks = int(f.read().rsplit(')', 1)[1].split()[19])
    with open('/proc/stat') as f:
        btime = int(re.search(r'(?m)^btime (\d+)$', f.read()).group(1))
    return btime + ticks / os.sysconf('SC_CLK_TCK')


def proc_limit_nofile(pid):
    with open('/proc/%d/limits' % pid) as f:
        m = re.search(r'(?m)^Max open files\s+(\d+)', f.read())
    return int(m.group(1))


@run.case
def process_figures_sane():
    t0 = time.time()
    with MetricsServer() as s:
        check_eq(s.http('GET', '/').status, 200, 'GET /')
        e = s.scrape()
        # The hellod is the wrapper's process (valgrind's fds and memory
        # count too), so the bounds are loose where a wrapper adds to them.
        fds = e.get('process_open_fds')
        real = ht.settled_fd_count(s.pid)
        check(fds >= 4 and abs(fds - real) <= 2,
              'process_open_fds %r, /proc/%d/fd has %d' % (fds, s.pid, real))
        # valgrind keeps a few descriptors for itself: getrlimit() under it
        # says a little less than /proc/PID/limits.
        limit = proc_limit_nofile(s.pid)
        maxfds = e.get('process_max_fds')
        check(maxfds == limit or (ht.WRAPPER and limit - 64 <= maxfds < limit),
              'process_max_fds %r, /proc/%d/limits says %d' % (maxfds, s.pid, limit))
        rss = e.get('process_resident_memory_bytes')
        vm = e.get('process_virtual_memory_bytes')
        real_rss = ht.rss_kib(s.pid) * 1024
        check(0 < rss and 0.5 * real_rss <= rss <= 2 * real_rss,
              'process_resident_memory_bytes %r, VmRSS %d bytes' % (rss, real_rss))
        check(vm >= rss, 'virtual %r < resident %r' % (vm, rss))
        start = e.get('process_start_time_seconds')
        check(abs(start - proc_start_time(s.pid)) <= 1.0 and t0 - 2 <= start <= time.time(),
              'process_start_time_seconds %.3f, /proc says %.3f, test started %.3f'
              % (start, proc_start_time(s.pid), t0))
        cpu = e.get('process_cpu_seconds_total')
        check(0 <= cpu <= ht.cpu_seconds(s.pid) + 0.05,
              'process_cpu_seconds_total %r, /proc says %r' % (cpu, ht.cpu_seconds(s.pid)))
        ht.note('open fds %d, max fds %d, rss %.1f MiB, vm %.1f MiB, cpu %.3f s'
                % (fds, e.get('process_max_fds'), rss / 2**20, vm / 2**20, cpu))


# ---------------------------------------------------------------- Prometheus

class Prometheus:
    """A Prometheus server on a free loopback port with a temporary config
    (one job, `hellod`, scraping target every second) and data directory.
    Always stopped by stop() (SIGTERM, then SIGKILL)."""

    def __init__(self, target):
        self.tmp = ht.make_tempdir('hellod-prometheus-')
        self.target = target
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.tmp, 'prometheus.log')
        self.ready_after = None

    def start(self, timeout=30):
        conf = os.path.join(self.tmp, 'prometheus.yml')
        with open(conf, 'w') as f:
            f.write('global:\n'
                    '  scrape_interval: 1s\n'
                    '  scrape_timeout: 1s\n'
                    '  evaluation_interval: 1s\n'
                    'scrape_configs:\n'
                    '  - job_name: hellod\n'
                    '    static_configs:\n'
                    '      - targets: [\'%s\']\n' % self.target)
        for _ in range(3):
            self.port = ht.free_port()
            data = os.path.join(self.tmp, 'data')
            shutil.rmtree(data, ignore_errors=True)
            t0 = time.monotonic()
            with open(self.log_path, 'wb') as log:
                self.proc = subprocess.Popen(
                    [PROMETHEUS, '--config.file=' + conf, '--storage.tsdb.path=' + data,
                     '--web.listen-address=%s:%d' % (ht.HOST, self.port)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    cwd=self.tmp)
            _live.append(self)
            deadline = t0 + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.get('/-/ready', 1).startswith('Prometheus Server is Ready'):
                        self.ready_after = time.monotonic() - t0
                        return self
                except (OSError, urllib.error.URLError):
                    pass
                time.sleep(0.1)
            if self.proc.poll() is not None and 'address already in use' in self.log():
                continue
            break
        self.stop()
        raise ht.TestFailure('prometheus not ready within %ds (exit %r); log:\n%s'
                             % (timeout, self.proc.returncode, self.log()[-2000:]))

    def log(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def get(self, path, timeout=5):
        with urllib.request.urlopen('http://%s:%d%s' % (ht.HOST, self.port, path),
                                    timeout=timeout) as r:
            return r.read().decode('utf-8')

    def query(self, promql):
        """An instant query: [(labels, value)], value a float."""
        body = json.loads(self.get('/api/v1/query?' + urllib.parse.urlencode({'query': promql})))
        check_eq(body.get('status'), 'success', 'query %s' % promql)
        check_eq(body['data']['resultType'], 'vector', 'result type of %s' % promql)
        return [(r['metric'], float(r['value'][1])) for r in body['data']['result']]

    def query_one(self, promql):
        """The single value of an instant query, None if its result is empty."""
        res = self.query(promql)
        check(len(res) <= 1, '%s: more than one series: %s' % (promql, res))
        return res[0][1] if res else None

    def wait_value(self, promql, pred, timeout):
        """Poll promql until pred(value) holds; returns the last value."""
        got = []

        def ok():
            got[:] = [self.query_one(promql)]
            return got[0] is not None and pred(got[0])
        ht.wait_for(ok, timeout, 0.25)
        return got[0] if got else None

    def stop(self):
        if self in _live:
            _live.remove(self)
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


_live = []


def _stop_all():
    for p in list(_live):
        p.stop()


# Stop a Prometheus a failed case left behind (registered after
# hellodtest's atexit, so it runs before the temporary directories go).
import atexit  # noqa: E402
atexit.register(_stop_all)

SLEEPERS = 50


@run.case
def prometheus_sees_sleeping_requests():
    require_prometheus()
    t_case = time.monotonic()
    with MetricsServer(sleep='4s', options={'workers': '2'}) as s:
        prom = Prometheus('%s:%d' % (ht.HOST, s.mport))
        try:
            prom.start()
            ht.note('prometheus ready after %.2f s' % prom.ready_after)
            check_eq(prom.wait_value('up{job="hellod"}', lambda v: v == 1, ht.slow(10)), 1.0,
                     'up{job="hellod"} (target health: %s)' % prom.get('/api/v1/targets'))
            # 50 /sleep at once, on 50 connections.
            conns = [ht.Conn(s.port, timeout=ht.slow(15)) for _ in range(SLEEPERS)]
            try:
                for c in conns:
                    c.request('GET', '/sleep', headers=[('Connection', 'close')])
                check(ht.wait_for(lambda: s.scrape().get('hellod_http_requests_sleeping')
                                  == SLEEPERS, ht.slow(3), 0.05),
                      'hellod itself never reported %d sleeping' % SLEEPERS)
                t_all = time.monotonic()
                sel = selectors.DefaultSelector()
                for c in conns:
                    sel.register(c.sock, selectors.EVENT_READ)
                check(sel.select(ht.slow(10)), 'no /sleep answered within 10 s')
                t_first = time.monotonic()
                sel.close()
                for c in conns:
                    r = c.read_response()
                    check(r.status == 200 and r.body == HELLO, '/sleep answered %r' % r)
            finally:
                for c in conns:
                    c.close()
            # All 50 were sleeping together for `window` seconds: with a
            # scrape every second, at least one scrape (if window >= 2 s,
            # whatever the phase) saw exactly 50; none can have seen more
            # (only 50 /sleep were ever sent to this hellod).
            window = t_first - t_all
            ht.note('all %d sleeping for %.2f s (scrape_interval 1s)' % (SLEEPERS, window))
            check(window >= 2.0, '50 sleeping for only %.2f s: a 1 s scrape could miss it'
                  % window)
            # A scrape after the load is stored: the counter shows all 50.
            done = 'hellod_http_requests_total{job="hellod",route="/sleep",code="200"}'
            check_eq(prom.wait_value(done, lambda v: v == SLEEPERS, ht.slow(10)),
                     float(SLEEPERS), done)
            peak = prom.query_one('max_over_time(hellod_http_requests_sleeping[1m])')
            check_eq(peak, float(SLEEPERS),
                     'max_over_time(hellod_http_requests_sleeping[1m]) in Prometheus')
            check_eq(prom.query_one('up{job="hellod"}'), 1.0, 'up{job="hellod"}')
            rate = prom.query_one('sum(rate(hellod_http_requests_total{route="/sleep"}[1m]))')
            check(rate is not None and 0 < rate <= SLEEPERS,
                  'sum(rate(hellod_http_requests_total{route="/sleep"}[1m])) = %r' % rate)
            median = prom.query_one('histogram_quantile(0.5, sum by (le) ('
                                    'hellod_http_request_duration_seconds_bucket'
                                    '{route="/sleep"}))')
            check(median is not None and 2.5 < median <= 5.0,
                  'median /sleep duration %r, want in the (2.5, 5] bucket for sleep = 4s'
                  % median)
            scraped = prom.query_one('scrape_samples_scraped{job="hellod"}')
            ht.note('prometheus: max sleeping %g, /sleep rate %.3f/s, median %.2f s, '
                    '%d samples a scrape' % (peak, rate, median, scraped))
        finally:
            prom.stop()
    ht.note('prometheus case: %.1f s' % (time.monotonic() - t_case))


if __name__ == '__main__':
    run.run()
