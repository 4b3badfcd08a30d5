#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Routes: /, /sleep, 404s, HEAD, 405, absolute-form targets, query strings."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_routes', script_timeout=150)
HELLO = ht.hello_bytes()
NOTFOUND = ht.notfound_bytes()


def setup():
    return ht.shared_server(sleep='1s')


@run.case
def get_root():
    s = setup()
    r = s.http('GET', '/')
    ht.check_page(r, 200, HELLO)
    check_eq(r.reason, 'OK', 'reason phrase')
    check(len(r.body) > 0, 'hello.html is empty')
    check('close' not in r.connection_tokens(), 'HTTP/1.1 GET / answered with Connection: close')


@run.case
def server_header_matches_version():
    s = setup()
    p = ht.run_hellod(['-V'])
    check_eq(p.returncode, 0, 'hellod -V exit status')
    out = p.stdout.strip()
    check(out.startswith('hellod '), '-V output %r does not start with "hellod "' % out)
    version = out.split()[1]
    r = s.http('GET', '/')
    check_eq(r.header('Server'), 'hellod/' + version, 'Server header vs -V')


@run.case
def get_sleep():
    s = setup()
    r = s.http('GET', '/sleep', timeout=10)
    ht.note('GET /sleep took %.3fs (sleep = 1s)' % r.elapsed)
    ht.check_page(r, 200, HELLO)
    check(r.elapsed >= 0.9, '/sleep answered after %.3fs, want >= 0.9s' % r.elapsed)
    check(r.elapsed < 1 + ht.slow(2.0), '/sleep answered after %.3fs, want < 3s' % r.elapsed)


@run.case
def get_sleep_with_query():
    s = setup()
    r = s.http('GET', '/sleep?x=1', timeout=10)
    ht.note('GET /sleep?x=1 took %.3fs' % r.elapsed)
    ht.check_page(r, 200, HELLO)
    check(r.elapsed >= 0.9, '/sleep?x=1 answered after %.3fs, want >= 0.9s' % r.elapsed)
    check(r.elapsed < 1 + ht.slow(2.0), '/sleep?x=1 answered after %.3fs, want < 3s' % r.elapsed)


@run.case
def root_with_query():
    s = setup()
    for path in ('/?a=b', '/?', '/?x=1&y=%20z'):
        r = s.http('GET', path)
        try:
            ht.check_page(r, 200, HELLO)
        except ht.TestFailure as e:
            raise ht.TestFailure('GET %s: %s' % (path, e))
        check(r.elapsed < 0.5, 'GET %s took %.3fs: it must not sleep' % (path, r.elapsed))


@run.case
def not_found():
    s = setup()
    for path in ('/nope', '/sleep/', '/hello.html', '/index.html', '/404.html',
                 '/Sleep', '//', '/nope?x=1', '/sleepy'):
        r = s.http('GET', path)
        try:
            ht.check_page(r, 404, NOTFOUND)
            check_eq(r.reason, 'Not Found', 'reason phrase')
        except ht.TestFailure as e:
            raise ht.TestFailure('GET %s: %s' % (path, e))
        check(r.elapsed < 0.5, 'GET %s took %.3fs: it must not sleep' % (path, r.elapsed))


@run.case
def head_requests():
    s = setup()
    with s.conn(timeout=10) as c:
        for path, status, page in (('/', 200, HELLO), ('/nope', 404, NOTFOUND),
                                   ('/sleep', 200, HELLO)):
            c.request('HEAD', path)
            r = c.read_response('HEAD')
            try:
                ht.check_page(r, status, page, method='HEAD')
            except ht.TestFailure as e:
                raise ht.TestFailure('HEAD %s: %s' % (path, e))
            # the next response on the same connection must parse right: a body
            # after the HEAD response would show up here as a bad status line
            c.request('GET', '/')
            r2 = c.read_response('GET')
            try:
                ht.check_page(r2, 200, HELLO)
            except ht.TestFailure as e:
                raise ht.TestFailure('GET / after HEAD %s on same connection: %s' % (path, e))
        c.expect_open(0.2)


@run.case
def head_pipelined():
    # HEAD / and GET /nope in one write: the HEAD response must not carry a body
    s = setup()
    with s.conn() as c:
        c.send(ht.build_request('HEAD', '/') + ht.build_request('GET', '/nope'))
        r1 = c.read_response('HEAD')
        ht.check_page(r1, 200, HELLO, method='HEAD')
        r2 = c.read_response('GET')
        ht.check_page(r2, 404, NOTFOUND)


@run.case
def methods_not_allowed():
    s = setup()
    for method in ('POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'BREW'):
        for path in ('/', '/nope', '/sleep'):
            r = s.http(method, path, headers={'Content-Length': '0'})
            what = '%s %s' % (method, path)
            check_eq(r.status, 405, what + ' status')
            check_eq(r.reason, 'Method Not Allowed', what + ' reason')
            check_eq(r.header('Allow'), 'GET, HEAD', what + ' Allow')
            ht.check_common_headers(r)
            check_eq(r.header('Content-Length'), str(len(r.body)), what + ' Content-Length')
            check(r.elapsed < 0.5, '%s took %.3fs: it must not sleep' % (what, r.elapsed))


@run.case
def absolute_form():
    s = setup()
    base = 'http://127.0.0.1:%d' % s.port
    r = s.http('GET', base + '/')
    ht.check_page(r, 200, HELLO)
    r = s.http('GET', base + '/nope')
    ht.check_page(r, 404, NOTFOUND)
    r = s.http('GET', base + '/?q=1')
    ht.check_page(r, 200, HELLO)


@run.case
def absolute_form_sleep():
    s = setup()
    r = s.http('GET', 'http://127.0.0.1:%d/sleep' % s.port, timeout=10)
    ht.check_page(r, 200, HELLO)
    check(r.elapsed >= 0.9, 'absolute /sleep answered after %.3fs, want >= 0.9s' % r.elapsed)


TS = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z'


@run.case
def startup_log_lines():
    s = setup()
    err = s.stderr_text()
    check(re.search(r'(?m)^%s \[info\] listening on 127\.0\.0\.1:%d$' % (TS, s.port), err),
          'no "TIMESTAMP [info] listening on 127.0.0.1:%d" line: %r' % (s.port, err[:600]))
    check(re.search(r'(?m)^%s \[info\] hellod \S+ ready: 1 listener\(s\), [1-9]\d* worker\(s\), '
                    r'root %s$' % (TS, re.escape(s.root)), err),
          'no "[info] hellod VERSION ready: 1 listener(s), N worker(s), root %s" line: %r'
          % (s.root, err[:600]))


@run.case
def access_log_lines():
    s = setup()
    mark = len(s.stderr_text())
    with s.conn() as c:
        c.request('GET', '/nope?a=1')
        check_eq(c.read_response().status, 404, 'status')
        c.request('HEAD', '/')
        check_eq(c.read_response('HEAD').status, 200, 'status')
        port = c.sock.getsockname()[1]
    pat = (r'(?m)^%s \[access\] 127\.0\.0\.1:%d "%s" %d \d+ \d+(\.\d+)?ms w=\d+$')
    for req, status in (('GET /nope?a=1 HTTP/1.1', 404), ('HEAD / HTTP/1.1', 200)):
        rx = re.compile(pat % (TS, port, re.escape(req), status))
        check(s.wait_stderr(rx, 2, mark), 'no access line for "%s" %d from port %d: %r'
              % (req, status, port, s.stderr_text()[mark:][-600:]))


@run.case
def access_log_off():
    with ht.Server(options={'access_log': 'off'}) as s:
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        ht.check_page(s.http('GET', '/nope'), 404, NOTFOUND)
        time.sleep(0.2)
        err = s.stderr_text()
        check('[access]' not in err, 'access lines logged with access_log = off: %r' % err[-400:])
        check('ready' in err, 'no ready line (log level info): %r' % err[-400:])


if __name__ == '__main__':
    run.run()
