#!/usr/bin/env python3
"""A real browser (headless Chromium) renders / and /nope; screenshots are saved
under $HELLOD_BUILDDIR/tests/e2e/screenshots/.  Skips (77) without Chromium."""

import html
import os
import re
import shutil
import signal
import struct
import subprocess
import sys

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


@run.case
def browser_requests_logged():
    s = server()
    err = s.stderr_text()
    check(re.search(r'\[access\] 127\.0\.0\.1:\d+ "GET / HTTP/1\.1" 200 \d+ ', err),
          'no access line for the browser GET /: %s' % s.stderr_tail())
    check(re.search(r'\[access\] 127\.0\.0\.1:\d+ "GET /nope HTTP/1\.1" 404 \d+ ', err),
          'no access line for the browser GET /nope: %s' % s.stderr_tail())
    check(s.alive(), 'server died')


if __name__ == '__main__':
    if CHROMIUM is None:
        print('# SKIP test_browser: chromium not found (/usr/bin/chromium, or chromium on PATH)')
        sys.exit(ht.EX_SKIP)
    run.run()
