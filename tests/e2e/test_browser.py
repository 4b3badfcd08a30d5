#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A real browser (headless Chromium) renders / and /nope; screenshots are saved
under $HELLOD_BUILDDIR/tests/e2e/screenshots/.  A reload of / is revalidated
and served as 304, and loading /, /nope or a built-in error page makes no
/favicon.ico request (the pages declare an inline icon) (Chromium driven
over the DevTools protocol on a pipe).  Skips (77) without Chromium."""

import fcntl
import html
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check  # noqa: E402

run = ht.Runner('test_browser', script_timeout=300, case_timeout=130)
SHOTS = os.path.join(ht.BUILDDIR, 'tests', 'e2e', 'screenshots')
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
CHROMIUM_TIMEOUT = 60


def find_chromium():
    for c in (os.environ.get('CHROMIUM'), '/usr/bin/chromium', shutil.which('chromium'),
              shutil.which('chromium-browser')):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


CHROMIUM = find_chromium()


def chromium(args):
    """Run chromium headless with args; returns (rc, stdout, stderr).  Always
    kills its whole process group afterwards."""
    profile = ht.make_tempdir('hellod-chromium-')
    cmd = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
           '--no-first-run', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--disable-dev-shm-usage', '--user-data-dir=' + profile] + args
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=CHROMIUM_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ht.TestFailure('chromium did not finish within %ds: %s' % (CHROMIUM_TIMEOUT, cmd))
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        if p.poll() is None:
            p.kill()
        p.wait(5)
    return p.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


class DevTools:
    """Chromium driven over --remote-debugging-pipe: the DevTools protocol as
    NUL-terminated JSON messages, commands on the child's fd 3, replies and
    events on its fd 4 (what Puppeteer's pipe transport does; no WebSocket,
    so python3's stdlib is enough). Events are kept in self.events."""

    def __init__(self):
        profile = ht.make_tempdir('hellod-chromium-')
        cmd_r, self.cmd_w = os.pipe()
        self.out_r, out_w = os.pipe()
        # Move the child's ends above 10 (close-on-exec), so that putting
        # them on 3 and 4 in the child cannot overwrite one with the other.
        child_r = fcntl.fcntl(cmd_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(out_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(cmd_r)
        os.close(out_w)
        self.buf = b''
        self.next_id = 0
        self.events = []

        def child_fds():
            os.dup2(child_r, 3)     # inheritable: kept across exec
            os.dup2(child_w, 4)

        cmd = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
               '--no-first-run', '--disable-background-networking',
               '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
               '--remote-debugging-pipe', '--user-data-dir=' + profile, 'about:blank']
        try:
            # close_fds=False: Python's own descriptors are close-on-exec
            # anyway, and closing would take 3 and 4 too.
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         start_new_session=True, close_fds=False,
                                         preexec_fn=child_fds)
        finally:
            os.close(child_r)
            os.close(child_w)

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait(10)
        for fd in (self.cmd_w, self.out_r):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_message(self, deadline):
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ht.TestFailure('no DevTools message from chromium in time')
            r, _, _ = select.select([self.out_r], [], [], left)
            if r:
                data = os.read(self.out_r, 65536)
                if not data:
                    raise ht.TestFailure('chromium closed its DevTools pipe (exit %s)'
                                         % self.proc.poll())
                self.buf += data
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=30):
        """Send a command; return its result (events seen meanwhile are kept)."""
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session is not None:
            msg['sessionId'] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b'\0')
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get('id') == self.next_id:
                if 'error' in m:
                    raise ht.TestFailure('DevTools %s: %s' % (method, m['error']))
                return m.get('result', {})
            if 'method' in m:
                self.events.append(m)

    def wait_event(self, method, start, timeout=30):
        """The first event named method at or after index start of self.events."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(start, len(self.events)):
                if self.events[i]['method'] == method:
                    return i
            self.events.append(self._read_message(deadline))

    def page_session(self):
        """Attach to the page Chromium opened; returns the session id."""
        targets = self.call('Target.getTargets')['targetInfos']
        pages = [t for t in targets if t['type'] == 'page']
        check(pages, 'chromium has no page target: %r' % targets)
        return self.call('Target.attachToTarget', {'targetId': pages[0]['targetId'],
                                                   'flatten': True})['sessionId']


def server():
    return ht.shared_server(sleep='1s')


def dom_text(dom):
    text = re.sub(r'(?s)<(script|style)\b.*?</\1>', ' ', dom)
    text = re.sub(r'(?s)<[^>]*>', ' ', text)
    return ' '.join(html.unescape(text).split())


def check_dom(path, title, text):
    if CHROMIUM is None:
        raise ht.Skip('chromium not found (/usr/bin/chromium, or chromium on PATH)')
    s = server()
    rc, out, err = chromium(['--dump-dom', s.url(path)])
    check(rc == 0, 'chromium --dump-dom exited %d: %s' % (rc, err[-600:]))
    m = re.search(r'(?is)<title>(.*?)</title>', out)
    check(m is not None, 'no <title> in the rendered DOM of %s: %r' % (path, out[:400]))
    got = ' '.join(html.unescape(m.group(1)).split())
    check(got == title, 'title of %s is %r, want %r' % (path, got, title))
    body = dom_text(out)
    check(text in body, 'rendered text of %s lacks %r: %r' % (path, text, body[:400]))
    return out


def png_size(data):
    if len(data) < 24 or data[12:16] != b'IHDR':
        return None
    return struct.unpack('>II', data[16:24])


def screenshot(path, name):
    if CHROMIUM is None:
        raise ht.Skip('chromium not found (/usr/bin/chromium, or chromium on PATH)')
    s = server()
    os.makedirs(SHOTS, exist_ok=True)
    dest = os.path.join(SHOTS, name)
    if os.path.exists(dest):
        os.unlink(dest)
    rc, out, err = chromium(['--screenshot=' + dest, '--window-size=1024,768', '--hide-scrollbars',
                             s.url(path)])
    check(rc == 0, 'chromium --screenshot exited %d: %s' % (rc, err[-600:]))
    check(os.path.isfile(dest), 'no screenshot written at %s' % dest)
    with open(dest, 'rb') as f:
        data = f.read()
    check(data.startswith(PNG_MAGIC), '%s is not a PNG' % dest)
    check(len(data) > 1024, '%s is only %d bytes' % (dest, len(data)))
    ht.note('%s: %d bytes, %s' % (dest, len(data), 'x'.join(map(str, png_size(data) or ()))))
    return dest


@run.case
def dom_hello():
    check_dom('/', 'Hello!', 'Hi from hellod')


@run.case
def dom_not_found():
    check_dom('/nope', '404 Not Found', 'Oops!')


@run.case
def screenshot_hello():
    screenshot('/', 'hello.png')


@run.case
def screenshot_not_found():
    screenshot('/nope', 'notfound.png')


def main_document(events, start, url):
    """(request id, extra request headers, raw response status and headers) of
    the first request for url among events[start:], as Chromium's network
    stack sent and received them (the *ExtraInfo events carry the headers
    and the status line as they were on the wire)."""
    rid = None
    for e in events[start:]:
        if e['method'] == 'Network.requestWillBeSent' and e['params']['request']['url'] == url:
            rid = e['params']['requestId']
            break
    check(rid is not None, 'no request for %s in %d DevTools events' % (url, len(events) - start))
    req_headers = resp = None
    for e in events[start:]:
        p = e['params']
        if p.get('requestId') != rid:
            continue
        if e['method'] == 'Network.requestWillBeSentExtraInfo':
            req_headers = {k.lower(): v for k, v in p['headers'].items()}
        elif e['method'] == 'Network.responseReceivedExtraInfo':
            resp = (p['statusCode'], {k.lower(): v for k, v in p['headers'].items()})
    return rid, req_headers, resp


@run.case
def reload_is_304():
    # Load /, reload it: Chromium keeps the page (Cache-Control: no-cache)
    # and revalidates it with If-None-Match; hellod must answer 304, as its
    # access log shows, and the page must still render from the cache.
    if CHROMIUM is None:
        raise ht.Skip('chromium not found (/usr/bin/chromium, or chromium on PATH)')
    s = server()
    url = s.url('/')
    etag = s.http('GET', '/').header('ETag')
    access = re.compile(r'\[access\] 127\.0\.0\.1:\d+ "GET / HTTP/1\.1" (\d{3}) ')
    with DevTools() as dt:
        sid = dt.page_session()
        dt.call('Network.enable', session=sid)
        dt.call('Page.enable', session=sid)

        mark = len(s.stderr_text())
        n = len(dt.events)
        dt.call('Page.navigate', {'url': url}, session=sid)
        dt.wait_event('Page.loadEventFired', n)
        check(s.wait_stderr(access, ht.slow(5), mark), 'no access line for the first load')
        first = access.findall(s.stderr_text()[mark:])
        check(first == ['200'], 'first load: hellod answered %r, want one 200' % first)
        _, _, resp = main_document(dt.events, n, url)
        check(resp is not None and resp[0] == 200, 'first load: Chromium saw %r' % (resp,))

        mark = len(s.stderr_text())
        n = len(dt.events)
        dt.call('Page.reload', session=sid)
        dt.wait_event('Page.loadEventFired', n)
        check(s.wait_stderr(access, ht.slow(5), mark), 'no access line for the reload: %s'
              % s.stderr_tail())
        # What the server sent: hellod's own log of the reload's request.
        second = access.findall(s.stderr_text()[mark:])
        ht.note('hellod answered the load with 200, the reload with %s' % ', '.join(second))
        check(second == ['304'], 'reload: hellod answered %r, want one 304' % second)
        # What went over the wire, from Chromium's network stack.
        _, req_headers, resp = main_document(dt.events, n, url)
        check(req_headers is not None and req_headers.get('if-none-match') == etag,
              'reload request carried If-None-Match %r, want %r'
              % ((req_headers or {}).get('if-none-match'), etag))
        check(resp is not None and resp[0] == 304, 'reload: raw response %r, want 304'
              % (resp,))
        check(resp[1].get('etag') == etag, 'reload: 304 carries ETag %r, want %r'
              % (resp[1].get('etag'), etag))
        title = dt.call('Runtime.evaluate', {'expression': 'document.title'},
                        session=sid)['result'].get('value')
        check(title == 'Hello!', 'title after the 304 reload is %r' % title)


FAVICON = re.compile(r'\[access\] 127\.0\.0\.1:\d+ "GET /favicon\.ico HTTP/1\.1" (\d{3}) ')
ICON_LINK = re.compile(rb'<link rel="icon" href="data:,">\n')


def load_in_browser(dt, sid, url):
    """Navigate the page to url and wait for its load event."""
    n = len(dt.events)
    dt.call('Page.navigate', {'url': url}, session=sid)
    dt.wait_event('Page.loadEventFired', n)


@run.case
def no_favicon_request():
    # A page without an icon of its own makes the browser ask for
    # /favicon.ico, which hellod answers (and logs) as a 404. hellod's pages
    # declare an empty inline icon instead, so loading them asks nothing
    # more. First, as a control, a copy of the pages without that line:
    # Chromium must ask for /favicon.ico there (or this test could not see
    # the request at all); how long it took after the load event sets how
    # long the real pages are watched.
    if CHROMIUM is None:
        raise ht.Skip('chromium not found (/usr/bin/chromium, or chromium on PATH)')
    for name in ('hello.html', '404.html'):
        check(len(ICON_LINK.findall(ht.read_static(name))) == 1,
              'static/%s does not declare <link rel="icon" href="data:,"> once' % name)
    bare = ht.Server(copy_root=True)
    for name in ('hello.html', '404.html'):
        path = os.path.join(bare.root, name)
        with open(path, 'rb') as f:
            page = f.read()
        with open(path, 'wb') as f:
            f.write(ICON_LINK.sub(b'', page))
    s = server()
    with bare, DevTools() as dt:
        sid = dt.page_session()
        dt.call('Page.enable', session=sid)

        load_in_browser(dt, sid, bare.url('/'))
        t0 = time.monotonic()
        check(bare.wait_stderr(FAVICON, ht.slow(10)),
              'control: Chromium did not ask for /favicon.ico of a page without an icon '
              'within %.0fs: %s' % (ht.slow(10), bare.stderr_tail()))
        asked = time.monotonic() - t0
        ht.note('control: without the icon line, Chromium asked for /favicon.ico %.2fs '
                'after the load event (hellod answered %s)'
                % (asked, FAVICON.findall(bare.stderr_text())[0]))
        # Watch the real pages 3 times as long, and at least 2 s.
        window = max(2.0, 3 * asked)

        # The two pages of static/, then one of hellod's built-in pages: a
        # form posted to / gets the 405 page.
        post = ("var f = document.createElement('form'); f.method = 'post'; "
                "f.action = '/'; document.body.appendChild(f); f.submit();")
        for what, title in (('/', 'Hello!'), ('/nope', '404 Not Found'),
                            ('POST /', '405 Method Not Allowed')):
            mark = len(s.stderr_text())
            if what == 'POST /':
                n = len(dt.events)
                dt.call('Runtime.evaluate', {'expression': post}, session=sid)
                dt.wait_event('Page.loadEventFired', n)
            else:
                load_in_browser(dt, sid, s.url(what))
            got = dt.call('Runtime.evaluate', {'expression': 'document.title'},
                          session=sid)['result'].get('value')
            check(got == title, 'title of %s is %r, want %r' % (what, got, title))
            time.sleep(window)
            asks = FAVICON.findall(s.stderr_text()[mark:])
            check(not asks, 'loading %s made Chromium ask for /favicon.ico (hellod answered %s)'
                  % (what, ', '.join(asks)))
        ht.note('loading /, /nope and a POST / (405): no /favicon.ico request in %.1fs '
                'after each load' % window)


@run.case
def browser_requests_logged():
    s = server()
    err = s.stderr_text()
    check(re.search(r'\[access\] 127\.0\.0\.1:\d+ "GET / HTTP/1\.1" 200 \d+ ', err),
          'no access line for the browser GET /: %s' % s.stderr_tail())
    check(re.search(r'\[access\] 127\.0\.0\.1:\d+ "GET /nope HTTP/1\.1" 404 \d+ ', err),
          'no access line for the browser GET /nope: %s' % s.stderr_tail())
    # Nor did any of the browsers above (--dump-dom, --screenshot, DevTools).
    asks = FAVICON.findall(err)
    check(not asks, 'the browser visits asked for /favicon.ico %d times' % len(asks))
    check(s.alive(), 'server died')


if __name__ == '__main__':
    if CHROMIUM is None:
        print('# SKIP test_browser: chromium not found (/usr/bin/chromium, or chromium on PATH)')
        sys.exit(ht.EX_SKIP)
    run.run()
