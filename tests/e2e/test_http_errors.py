#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Bad requests: each class of bad input gets its status, `Connection: close`,
and the connection is closed; the server keeps serving new connections."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_http_errors', script_timeout=150)
HELLO = ht.hello_bytes()

H = 'Host: localhost\r\n'


def server():
    return ht.shared_server(sleep='1s')


def expect_error(raw_bytes, status, what, background=False):
    """Send raw_bytes on a new connection; expect `status`, Connection: close and
    a closed connection; then a new connection must still get GET / = 200."""
    s = server()
    c = ht.Conn(s.port, timeout=5)
    try:
        if background:
            # big request: send from a thread, the server may answer and close early
            ht.send_in_background(c.sock, raw_bytes)
        else:
            try:
                c.send(raw_bytes)
            except (BrokenPipeError, ConnectionResetError):
                pass
        try:
            r = c.read_response('GET', timeout=5)
        except ConnectionResetError:
            raise ht.TestFailure('%s: connection reset before a complete response '
                                 '(server closed without draining the request?)' % what)
        check_eq(r.status, status, what + ' status')
        check_eq(r.version, 'HTTP/1.1', what + ' status line version')
        check('close' in r.connection_tokens(),
              '%s: response lacks Connection: close (headers %r)' % (what, r.headers))
        check_eq(r.header('Content-Type'), 'text/html; charset=utf-8', what + ' Content-Type')
        check(r.header('Server', '').startswith('hellod/'), what + ': no Server header')
        ht.check_date(r)
        check_eq(r.header('Content-Length'), str(len(r.body)), what + ' Content-Length')
        check(len(r.body) > 0, what + ': empty error body (want a small HTML page)')
        try:
            got, how = c.wait_closed(5)
        except ht.TestFailure as e:
            raise ht.TestFailure('%s: %s' % (what, e))
        check(got == b'', '%s: bytes after the error response: %r' % (what, got[:200]))
    finally:
        c.close()
    # the server keeps serving
    r = s.http('GET', '/')
    check_eq(r.status, 200, 'GET / on a new connection after %s' % what)
    check(r.body == HELLO, 'GET / body after %s' % what)


def add(name, raw_bytes, status, background=False):
    def case():
        expect_error(raw_bytes, status, name, background)
    case.__name__ = name
    run.case(case)


# HTTP/1.1 needs Host
add('no_host_http11', b'GET / HTTP/1.1\r\n\r\n', 400)
# message framing
add('content_length_and_transfer_encoding',
    ('POST / HTTP/1.1\r\n' + H + 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc').encode(),
    400)
add('content_length_and_transfer_encoding_get',
    ('GET / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n').encode(),
    400)
add('two_different_content_lengths',
    ('POST / HTTP/1.1\r\n' + H + 'Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd').encode(), 400)
add('bad_content_length',
    ('POST / HTTP/1.1\r\n' + H + 'Content-Length: 3x\r\n\r\nabc').encode(), 400)
add('negative_content_length',
    ('POST / HTTP/1.1\r\n' + H + 'Content-Length: -1\r\n\r\n').encode(), 400)
# malformed request lines
add('double_space_request_line', ('GET  / HTTP/1.1\r\n' + H + '\r\n').encode(), 400)
add('http09_request_line', b'GET /\r\n\r\n', 400)
add('bad_method_char', ('G@T / HTTP/1.1\r\n' + H + '\r\n').encode(), 400)
add('garbage_version', ('GET / HTPT/1.1\r\n' + H + '\r\n').encode(), 400)
add('trailing_space_request_line', ('GET / HTTP/1.1 \r\n' + H + '\r\n').encode(), 400)
# malformed headers
add('header_without_colon', ('GET / HTTP/1.1\r\n' + H + 'Foo bar\r\n\r\n').encode(), 400)
add('space_before_colon', ('GET / HTTP/1.1\r\n' + H + 'Foo : bar\r\n\r\n').encode(), 400)
add('empty_header_name', ('GET / HTTP/1.1\r\n' + H + ': bar\r\n\r\n').encode(), 400)
add('nul_in_header', ('GET / HTTP/1.1\r\n' + H + 'X-A: a\x00b\r\n\r\n').encode(), 400)
add('bare_cr_in_header', ('GET / HTTP/1.1\r\n' + H + 'X-A: a\rb\r\n\r\n').encode(), 400)
add('obs_fold', ('GET / HTTP/1.1\r\n' + H + 'X-A: a\r\n  b\r\n\r\n').encode(), 400)
# a line ends with CRLF only: a bare LF is the shape of request smuggling
add('bare_lf_in_head', ('GET / HTTP/1.1\n' + H + '\r\n').encode(), 400)
add('bare_lf_after_header',
    ('GET / HTTP/1.1\r\n' + H + 'Dummy: x\nContent-Length: 23\r\n\r\n'
     'GET /nope HTTP/1.1\r\n\r\n').encode(), 400)
add('bare_lf_ends_head', ('GET / HTTP/1.1\r\n' + H + '\n').encode(), 400)
# the target: no fragment, and an absolute-form authority as RFC 3986 says
add('fragment_in_target', ('GET /#top HTTP/1.1\r\n' + H + '\r\n').encode(), 400)
add('authority_at_signs', ('GET http://@@ HTTP/1.1\r\n' + H + '\r\n').encode(), 400)
add('authority_brace', ('GET http://} HTTP/1.1\r\n' + H + '\r\n').encode(), 400)
add('authority_pipe', ('GET http://| HTTP/1.1\r\n' + H + '\r\n').encode(), 400)
add('authority_userinfo', ('GET http://user@localhost/ HTTP/1.1\r\n' + H + '\r\n').encode(),
    400)
add('connect_without_port', ('CONNECT localhost HTTP/1.1\r\n' + H + '\r\n').encode(), 400)
# versions
add('http_2_0', ('GET / HTTP/2.0\r\n' + H + '\r\n').encode(), 505)
add('http_3_0', ('GET / HTTP/3.0\r\n' + H + '\r\n').encode(), 505)
# sizes (default max_header_size = 8KiB)
add('uri_too_long', ('GET /' + 'a' * 9000 + ' HTTP/1.1\r\n' + H + '\r\n').encode(), 414,
    background=True)
add('head_too_large',
    ('GET / HTTP/1.1\r\n' + H
     + ''.join('X-Filler-%03d: %s\r\n' % (i, 'v' * 60) for i in range(150)) + '\r\n').encode(),
    431, background=True)
# Transfer-Encoding: chunked bodies are read and discarded; anything else is 400
add('transfer_encoding_gzip',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: gzip\r\n\r\nabc').encode(), 400)
add('transfer_encoding_chunked_not_last',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n').encode(), 400)
add('transfer_encoding_http10',
    b'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400)
add('chunk_data_longer_than_size',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n').encode(),
    400)
add('chunk_extension_without_name',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n\r\n2;\r\nab\r\n0\r\n\r\n').encode(),
    400)
add('chunk_size_trailing_space',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n\r\na \r\n0123456789\r\n'
     '0\r\n\r\n').encode(), 400)
add('chunk_extension_unclosed_quote',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n\r\n2;a="b\r\nab\r\n'
     '0\r\n\r\n').encode(), 400)
add('chunk_line_bare_lf',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n').encode(),
    400)
add('chunk_data_then_bare_lf',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n\r\n5\r\nhell\r\n0\r\n\r\n').encode(),
    400)
add('trailer_bare_lf',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n').encode(),
    400)
add('chunk_size_not_hex',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n').encode(),
    400)
add('chunked_body_too_large',
    ('POST / HTTP/1.1\r\n' + H + 'Transfer-Encoding: chunked\r\n\r\n').encode()
    + (b'%x\r\n' % (600 * 1024) + b'z' * (600 * 1024) + b'\r\n') * 2 + b'0\r\n\r\n',
    413, background=True)
add('body_too_large',
    ('POST / HTTP/1.1\r\n' + H + 'Content-Length: %d\r\n\r\n' % (1536 * 1024)).encode()
    + b'x' * (1536 * 1024), 413, background=True)


# The first bytes of a TLS ClientHello, as a browser pointed at https:// on
# this port sends them (record type 0x16, TLS 1.0 record version, a
# ClientHello of 0xf1 bytes): no CRLF will ever come.
CLIENT_HELLO = (b'\x16\x03\x01\x00\xf1\x01\x00\x00\xed\x03\x03' + bytes(range(32))
                + b'\x20' + bytes(range(32, 64)) + b'\x00\x08\x13\x02\x13\x03\x13\x01\x00\xff'
                + b'\x01\x00')
# Issue 14: bytes that can never begin a request are answered within 100 ms.
AT_ONCE_MS = 100


def expect_error_at_once(raw_bytes, what):
    """Send raw_bytes, which never end a line: hellod must answer 400 and close
    within AT_ONCE_MS (stretched under valgrind), not wait for header_timeout
    (10 s, then 408)."""
    s = server()
    c = ht.Conn(s.port, timeout=5)
    try:
        t0 = time.monotonic()
        c.send(raw_bytes)
        r = c.read_response('GET', timeout=5)
        ms = (r.time - t0) * 1000
        check_eq(r.status, 400, what + ' status')
        check(ms < ht.slow(AT_ONCE_MS), '%s: 400 after %.1f ms, want < %d ms'
              % (what, ms, ht.slow(AT_ONCE_MS)))
        check('close' in r.connection_tokens(), '%s: no Connection: close' % what)
        got, how = c.wait_closed(5)
        check(got == b'', '%s: bytes after the 400: %r' % (what, got[:200]))
    finally:
        c.close()
    r = s.http('GET', '/')
    check_eq(r.status, 200, 'GET / on a new connection after %s' % what)


@run.case
def tls_client_hello_400_at_once():
    expect_error_at_once(CLIENT_HELLO, 'TLS ClientHello')


@run.case
def nul_bytes_400_at_once():
    expect_error_at_once(b'\x00\x00\x00\x00', 'NUL bytes')


@run.case
def control_byte_in_target_400_at_once():
    expect_error_at_once(b'GET /\x01', 'control byte in the target')


@run.case
def bad_version_400_at_once():
    expect_error_at_once(b'GET / HTTX', 'bad version prefix')


@run.case
def partial_request_waits():
    # a valid prefix is only unfinished: no answer, the connection stays
    s = server()
    with s.conn() as c:
        c.send(b'GET / HTTP/1.')
        c.expect_open(0.3)
        c.send(b'1\r\n' + H.encode() + b'\r\n')
        ht.check_page(c.read_response(), 200, HELLO)


@run.case
def tls_handshake_logged():
    # Depends on conn.c logging r_tls (issue 14, section 3): one line a
    # default log_level shows, naming the client.
    s = server()
    mark = len(s.stderr_text())
    c = ht.Conn(s.port, timeout=5)
    try:
        c.send(CLIENT_HELLO)
        check_eq(c.read_response('GET', timeout=5).status, 400, 'TLS ClientHello status')
    finally:
        c.close()
    check(s.wait_stderr('TLS handshake on a plain HTTP listener', timeout=ht.slow(5), start=mark),
          'no "TLS handshake on a plain HTTP listener" in the log; stderr:\n%s'
          % s.stderr_tail())
    lines = [ln for ln in s.stderr_text()[mark:].splitlines()
             if 'TLS handshake on a plain HTTP listener' in ln]
    check_eq(len(lines), 1, 'TLS log lines for one handshake')
    check('[info]' in lines[0] or '[warn]' in lines[0],
          'TLS line not at a level shown by default: %r' % lines[0])
    check('127.0.0.1' in lines[0], 'TLS line does not name the client: %r' % lines[0])
    # a plain bad request is no TLS handshake
    mark = len(s.stderr_text())
    r, c = s.raw(b'\x00\x00')
    c.close()
    check_eq(r.status, 400, 'NUL bytes status')
    r = s.http('GET', '/')          # a round trip: the worker has logged by now
    check_eq(r.status, 200, 'GET / after the NUL bytes')
    check('TLS handshake' not in s.stderr_text()[mark:],
          'NUL bytes logged as a TLS handshake')


@run.case
def connect_405_with_allow():
    s = server()
    with s.conn() as c:
        c.send(b'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
        r = c.read_response()
        check_eq(r.status, 405, 'CONNECT example.com:443 status')
        check_eq(r.header('Allow'), 'GET, HEAD', 'CONNECT Allow')
        check('close' not in r.connection_tokens(), 'CONNECT 405 closed the connection')
        c.request('GET', '/')
        ht.check_page(c.read_response(), 200, HELLO)


@run.case
def absolute_form_with_ipv6_authority_ok():
    s = server()
    r, c = s.raw(b'GET http://[::1]:7878/ HTTP/1.1\r\nHost: [::1]:7878\r\n\r\n')
    c.close()
    ht.check_page(r, 200, HELLO)


@run.case
def head_just_under_limit_ok():
    # a ~7 KiB head is fine (limit is 8 KiB)
    s = server()
    hdrs = [('X-Filler-%03d' % i, 'v' * 60) for i in range(95)]
    req = ht.build_request('GET', '/', hdrs)
    check(6000 < len(req) < 8000, 'test bug: request is %d bytes' % len(req))
    r, c = s.raw(req)
    c.close()
    ht.check_page(r, 200, HELLO)


@run.case
def http10_without_host_ok():
    s = server()
    r, c = s.raw(b'GET / HTTP/1.0\r\n\r\n')
    c.close()
    ht.check_page(r, 200, HELLO)


@run.case
def same_content_length_twice_ok():
    s = server()
    with s.conn() as c:
        c.send('POST / HTTP/1.1\r\n' + H + 'Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc')
        r = c.read_response()
        check_eq(r.status, 405, 'POST with the same Content-Length twice')
        c.request('GET', '/')
        r = c.read_response()
        ht.check_page(r, 200, HELLO)


@run.case
def body_discarded_framing_kept():
    s = server()
    with s.conn() as c:
        # the body looks like a request: if it were not consumed, it would be answered
        body = b'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n'
        c.send(b'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n' % len(body)
               + body + ht.build_request('GET', '/'))
        r = c.read_response()
        check_eq(r.status, 405, 'POST / status')
        check_eq(r.header('Allow'), 'GET, HEAD', 'Allow')
        r = c.read_response()
        ht.check_page(r, 200, HELLO)
        c.expect_open(0.3)


@run.case
def get_with_body_discarded():
    s = server()
    with s.conn() as c:
        c.send(b'GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc'
               + ht.build_request('GET', '/nope'))
        ht.check_page(c.read_response(), 200, HELLO)
        ht.check_page(c.read_response(), 404, ht.notfound_bytes())


@run.case
def body_of_one_mib_ok():
    # exactly 1 MiB is allowed (bodies *over* 1 MiB get 413)
    s = server()
    n = 1024 * 1024
    with s.conn(timeout=10) as c:
        t = ht.send_in_background(c.sock, b'POST / HTTP/1.1\r\nHost: localhost\r\n'
                                  b'Content-Length: %d\r\n\r\n' % n + b'y' * n
                                  + ht.build_request('GET', '/'))
        r = c.read_response()
        check_eq(r.status, 405, 'POST / with a 1 MiB body')
        r = c.read_response()
        ht.check_page(r, 200, HELLO)
        t.join(5)


@run.case
def body_split_across_writes():
    s = server()
    with s.conn() as c:
        c.send(b'POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabcde')
        time.sleep(0.2)
        c.send(b'fghij' + ht.build_request('GET', '/'))
        check_eq(c.read_response().status, 405, 'POST /x')
        ht.check_page(c.read_response(), 200, HELLO)


@run.case
def max_header_size_configurable():
    with ht.Server(options={'max_header_size': '1KiB'}) as s:
        ok = ht.build_request('GET', '/', [('X-Pad', 'p' * 700)])
        check(len(ok) < 1024, 'test bug')
        r, c = s.raw(ok)
        c.close()
        ht.check_page(r, 200, HELLO)
        big = ht.build_request('GET', '/', [('X-Pad-%d' % i, 'p' * 100) for i in range(15)])
        r, c = s.raw(big)
        check_eq(r.status, 431, 'head of %d bytes with max_header_size = 1KiB' % len(big))
        c.close()
        r, c = s.raw(ht.build_request('GET', '/' + 'a' * 1500))
        check_eq(r.status, 414, 'request line of 1.5 KiB with max_header_size = 1KiB')
        c.close()


@run.case
def chunked_body_discarded_framing_kept():
    s = server()
    with s.conn() as c:
        # chunk data that looks like a request must be consumed, not answered;
        # extensions after ';' are ignored and trailers allowed
        piece = b' /nope HTTP/1.1\r\nHost: x\r\n\r\n'
        c.send(b'POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n'
               b'3;name=value\r\nGET\r\n' + b'%X\r\n' % len(piece) + piece + b'\r\n'
               b'0\r\nX-Trailer: yes\r\n\r\n' + ht.build_request('GET', '/'))
        r = c.read_response()
        check_eq(r.status, 405, 'chunked POST / status')
        check('close' not in r.connection_tokens(), 'chunked POST closed the connection')
        ht.check_page(c.read_response(), 200, HELLO)
        c.expect_open(0.3)


@run.case
def chunked_get_then_next_request():
    s = server()
    with s.conn() as c:
        c.send(b'GET / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'
               b'5\r\nhello\r\n0\r\n\r\n' + ht.build_request('GET', '/nope'))
        ht.check_page(c.read_response(), 200, HELLO)
        ht.check_page(c.read_response(), 404, ht.notfound_bytes())


@run.case
def chunked_body_split_across_writes():
    s = server()
    data = (b'POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n'
            b'a\r\n0123456789\r\n1\r\nZ\r\n0\r\n\r\n' + ht.build_request('GET', '/'))
    with s.conn() as c:
        for i in range(0, len(data), 5):
            c.send(data[i:i + 5])
            time.sleep(0.002)
        check_eq(c.read_response().status, 405, 'POST /x')
        ht.check_page(c.read_response(), 200, HELLO)


@run.case
def chunked_body_of_one_mib_ok():
    s = server()
    n = 1024 * 1024
    with s.conn(timeout=10) as c:
        t = ht.send_in_background(c.sock, b'POST / HTTP/1.1\r\nHost: localhost\r\n'
                                  b'Transfer-Encoding: chunked\r\n\r\n'
                                  + (b'%x\r\n' % (n // 2) + b'q' * (n // 2) + b'\r\n') * 2
                                  + b'0\r\n\r\n' + ht.build_request('GET', '/'))
        check_eq(c.read_response().status, 405, 'POST / with a 1 MiB chunked body')
        ht.check_page(c.read_response(), 200, HELLO)
        t.join(5)


if __name__ == '__main__':
    run.run()
