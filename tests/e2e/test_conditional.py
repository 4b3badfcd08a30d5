#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Conditional GET: ETag, Last-Modified and Cache-Control on the hello page,
304 Not Modified for If-None-Match / If-Modified-Since (GET and HEAD, / and
/sleep, the latter only after its delay), no validators on 404 and errors,
and a new ETag after a SIGHUP reload of a changed page."""

import email.utils
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_conditional', script_timeout=150)
HELLO = ht.hello_bytes()
NOTFOUND = ht.notfound_bytes()
SLEEP = 0.6     # seconds, the test config's `sleep`
ETAG_RE = re.compile(r'^"[0-9a-f]{16}-[0-9a-f]+"$')


def setup():
    return ht.shared_server(sleep='600ms')


def validators(r, what):
    """(ETag, Last-Modified) of a 200 or 304, checked for form."""
    etag = r.header('ETag')
    lm = r.header('Last-Modified')
    check(etag is not None and ETAG_RE.match(etag),
          '%s: ETag %r is not a strong "HASH-LEN" tag' % (what, etag))
    check(ht.is_imf_fixdate(lm), '%s: Last-Modified %r is not an IMF-fixdate' % (what, lm))
    check_eq(r.header('Cache-Control'), 'no-cache', what + ': Cache-Control')
    return etag, lm


def check_304(r, etag, lm, what):
    """A 304 with the page's validators, Date and Server, and nothing else."""
    check_eq(r.status, 304, what + ': status')
    check_eq(r.reason, 'Not Modified', what + ': reason')
    check_eq(r.header('ETag'), etag, what + ': ETag')
    check_eq(r.header('Last-Modified'), lm, what + ': Last-Modified')
    check_eq(r.header('Cache-Control'), 'no-cache', what + ': Cache-Control')
    ht.check_date(r)
    check(r.header('Server', '').startswith('hellod/'), what + ': no Server header')
    # No Content-Length (and no representation metadata): the choice the
    # README documents; the head ends the message.
    check(r.header('Content-Length') is None, '%s: Content-Length %r on a 304'
          % (what, r.header('Content-Length')))
    check(r.header('Content-Type') is None, what + ': Content-Type on a 304')
    check_eq(r.body, b'', what + ': body')


def hello_validators(s):
    r = s.http('GET', '/')
    ht.check_page(r, 200, HELLO)
    return validators(r, 'GET /')


@run.case
def validators_on_hello():
    s = setup()
    etag, lm = hello_validators(s)
    ht.note('ETag %s, Last-Modified %s' % (etag, lm))
    # Last-Modified is hello.html's mtime (or now, were it in the future).
    mtime = int(os.stat(os.path.join(s.root, 'hello.html')).st_mtime)
    got = int(email.utils.parsedate_to_datetime(lm).timestamp())
    check(got == min(mtime, int(time.time())),
          'Last-Modified %s (%d) is not hello.html\'s mtime %d' % (lm, got, mtime))
    for method, path in (('HEAD', '/'), ('GET', '/?x=1'), ('GET', '/sleep'),
                         ('HEAD', '/sleep')):
        r = s.http(method, path, timeout=10)
        what = '%s %s' % (method, path)
        ht.check_page(r, 200, HELLO, method=method)
        check_eq(validators(r, what), (etag, lm), what + ': validators')


@run.case
def no_validators_on_errors():
    s = setup()
    r = s.http('GET', '/nope')
    ht.check_page(r, 404, NOTFOUND)
    r405 = s.http('POST', '/', headers={'Content-Length': '0'})
    check_eq(r405.status, 405, 'POST / status')
    for r, what in ((r, 'GET /nope'), (r405, 'POST /')):
        check_eq(r.header('Cache-Control'), 'no-cache', what + ': Cache-Control')
        check(r.header('ETag') is None and r.header('Last-Modified') is None,
              '%s: validators on an error page: %r' % (what, r.headers))
    # ... and preconditions do not turn them into 304s.
    for hdr in ({'If-None-Match': '*'},
                {'If-Modified-Since': 'Fri, 31 Dec 9999 23:59:59 GMT'}):
        ht.check_page(s.http('GET', '/nope', headers=hdr), 404, NOTFOUND)


@run.case
def if_none_match():
    s = setup()
    etag, lm = hello_validators(s)
    for value in (etag, 'W/' + etag, '"x", %s, "y"' % etag, '*', ' %s ,' % etag):
        what = 'If-None-Match: %s' % value
        check_304(s.http('GET', '/', headers={'If-None-Match': value}), etag, lm, what)
    # Two field lines make one list.
    r = s.http('GET', '/', headers=[('If-None-Match', '"x"'), ('If-None-Match', etag)])
    check_304(r, etag, lm, 'If-None-Match on two lines')
    # No match, or unusable: the full page.
    for value in ('"x"', etag.upper(), etag.strip('"'), etag + ', junk', 'w/' + etag,
                  '*, ' + etag, ''):
        r = s.http('GET', '/', headers={'If-None-Match': value})
        try:
            ht.check_page(r, 200, HELLO)
        except ht.TestFailure as e:
            raise ht.TestFailure('If-None-Match: %s: %s' % (value, e))


@run.case
def if_modified_since():
    s = setup()
    etag, lm = hello_validators(s)
    t = email.utils.parsedate_to_datetime(lm).timestamp()
    gm = time.gmtime(t)
    rfc850 = time.strftime('%A, %d-%b-%y %H:%M:%S GMT', gm)
    asctime = time.strftime('%a %b ', gm) + '%2d' % gm.tm_mday + time.strftime(' %H:%M:%S %Y', gm)
    later = email.utils.formatdate(t + 3600, usegmt=True)
    for value in (lm, rfc850, asctime, later):
        check_304(s.http('GET', '/', headers={'If-Modified-Since': value}), etag, lm,
                  'If-Modified-Since: %s' % value)
    earlier = email.utils.formatdate(t - 1, usegmt=True)
    for hdrs in ({'If-Modified-Since': earlier},
                 {'If-Modified-Since': 'yesterday'},
                 {'If-Modified-Since': lm.replace('GMT', 'UTC')},
                 # If-None-Match, when present, decides alone
                 {'If-None-Match': '"other"', 'If-Modified-Since': later}):
        r = s.http('GET', '/', headers=hdrs)
        try:
            ht.check_page(r, 200, HELLO)
        except ht.TestFailure as e:
            raise ht.TestFailure('%r: %s' % (hdrs, e))
    r = s.http('GET', '/', headers={'If-None-Match': etag,
                                    'If-Modified-Since': earlier})
    check_304(r, etag, lm, 'matching If-None-Match with an older If-Modified-Since')


@run.case
def head_and_keepalive():
    # 304s have no body: a GET after them on the same connection parses.
    s = setup()
    etag, lm = hello_validators(s)
    with s.conn() as c:
        c.send(ht.build_request('HEAD', '/', {'If-None-Match': etag}) +
               ht.build_request('GET', '/', {'If-None-Match': etag}) +
               ht.build_request('GET', '/', {'If-Modified-Since': lm}) +
               ht.build_request('GET', '/'))
        check_304(c.read_response('HEAD'), etag, lm, 'HEAD with If-None-Match')
        for what in ('GET with If-None-Match', 'GET with If-Modified-Since'):
            r = c.read_response('GET')
            check_304(r, etag, lm, what)
            check('close' not in r.connection_tokens(), what + ': Connection: close')
        ht.check_page(c.read_response('GET'), 200, HELLO)
        c.expect_open(0.2)
    # HTTP/1.0 without keep-alive: 304, then the server closes.
    with s.conn() as c:
        c.request('GET', '/', {'If-None-Match': etag}, version='HTTP/1.0', host=False)
        r = c.read_response('GET')
        check_304(r, etag, lm, 'HTTP/1.0 GET with If-None-Match')
        check_eq(r.version, 'HTTP/1.1', 'version of the 304')
        c.expect_closed(what='HTTP/1.0 connection after a 304')


@run.case
def sleep_304_after_delay():
    s = setup()
    etag, lm = hello_validators(s)
    for method in ('GET', 'HEAD'):
        r = s.http(method, '/sleep', headers={'If-None-Match': etag}, timeout=10)
        what = '%s /sleep with If-None-Match' % method
        ht.note('%s: %d after %.3fs (sleep = %.1fs)' % (what, r.status, r.elapsed, SLEEP))
        check_304(r, etag, lm, what)
        check(r.elapsed >= SLEEP - 0.1, '%s answered after %.3fs: before the %.1fs delay'
              % (what, r.elapsed, SLEEP))
        check(r.elapsed < SLEEP + ht.slow(2.0), '%s answered after %.3fs' % (what, r.elapsed))
    r = s.http('GET', '/sleep', headers={'If-Modified-Since': lm}, timeout=10)
    check_304(r, etag, lm, 'GET /sleep with If-Modified-Since')
    check(r.elapsed >= SLEEP - 0.1, '/sleep 304 after %.3fs: before the delay' % r.elapsed)


@run.case
def access_log_304():
    s = setup()
    etag, _ = hello_validators(s)
    mark = len(s.stderr_text())
    with s.conn() as c:
        c.request('GET', '/', {'If-None-Match': etag})
        check_eq(c.read_response().status, 304, 'status')
        port = c.sock.getsockname()[1]
    rx = re.compile(r'\[access\] 127\.0\.0\.1:%d "GET / HTTP/1\.1" 304 \d+ ' % port)
    check(s.wait_stderr(rx, 2, mark), 'no access line with 304 for port %d: %r'
          % (port, s.stderr_text()[mark:][-600:]))


@run.case
def reload_changes_etag():
    with ht.Server(copy_root=True, sleep='600ms') as s:
        etag1, lm1 = hello_validators(s)
        path = os.path.join(s.root, 'hello.html')
        # The same bytes reloaded (a later mtime): the ETag stays.
        os.utime(path, (time.time() + 2, time.time() + 2))
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reloaded configuration', ht.slow(5), mark),
              'no "reloaded configuration" after SIGHUP: %s' % s.stderr_tail())
        r = s.http('GET', '/', headers={'If-None-Match': etag1})
        check_eq(r.status, 304, 'unchanged page after reload, old ETag')
        check_eq(r.header('ETag'), etag1, 'ETag of the same bytes after reload')
        # Changed bytes: a new ETag, and the old one gets the new page.
        new = HELLO.replace(b'</body>', b'<p>changed</p></body>')
        check(new != HELLO, 'hello.html has no </body> to edit')
        with open(path, 'wb') as f:
            f.write(new)
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reloaded configuration', ht.slow(5), mark),
              'no "reloaded configuration" after SIGHUP: %s' % s.stderr_tail())
        for path_ in ('/', '/sleep'):
            r = s.http('GET', path_, headers={'If-None-Match': etag1}, timeout=10)
            ht.check_page(r, 200, new)
            etag2, lm2 = validators(r, 'GET %s after the change' % path_)
            check(etag2 != etag1, 'ETag %s unchanged after the page changed' % etag2)
        check_304(s.http('GET', '/', headers={'If-None-Match': etag2}), etag2, lm2,
                  'new ETag after reload')
        ht.note('ETag %s -> %s' % (etag1, etag2))
    # A restart on the same bytes gives the same ETag.
    with ht.Server(root=s.root, sleep='600ms') as s2:
        r = s2.http('GET', '/')
        ht.check_page(r, 200, new)
        check_eq(r.header('ETag'), etag2, 'ETag after a restart')


if __name__ == '__main__':
    run.run()
