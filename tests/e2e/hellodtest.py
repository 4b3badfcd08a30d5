# SPDX-License-Identifier: ISC
"""Helpers for the hellod end-to-end tests (python3 stdlib only).

The test scripts are run by automake from the build directory with:
  HELLOD           absolute path of the built server/hellod
  HELLOD_SRCDIR    top source directory (static pages, conf, README); may be read-only
  HELLOD_BUILDDIR  top build directory (artefacts go under tests/e2e/ there)
and optionally (`make check-valgrind` sets both):
  HELLOD_WRAPPER   a command line hellod is run under, e.g. "valgrind --log-file=..."
                   (split like a shell would; see hellod_cmd())
  HELLOD_TEST_SLOWDOWN  factor (default 1) by which slow() stretches the tests'
                   generous functional time bounds for a slowed-down hellod

Provided here:
  Server      context manager running hellod on a free 127.0.0.1 port with a temp config
  Conn        a client connection that sends raw bytes and parses HTTP/1.x responses
              (status line, headers, Content-Length framed bodies) from a buffer,
              so keep-alive and pipelining can be checked
  Response    one parsed response
  Runner      runs cases, prints `ok - NAME` / `not ok - NAME: reason`, exits 0/1/77
  Notify      an AF_UNIX datagram socket playing systemd's NOTIFY_SOCKET end
  journal_ns_prefix  run hellod where libsystemd's journal socket is the test's
  hellod_has_systemd / require_systemd   built --with-systemd? (from `hellod -V`)
  assorted check helpers (check, check_eq, is_imf_fixdate, fd_count, rss_kib,
  cpu_seconds, connect_many, ...)
"""

import atexit
import email.utils
import struct
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.environ.get('HELLOD_SRCDIR')
                        or os.path.join(HERE, os.pardir, os.pardir))
BUILDDIR = os.path.abspath(os.environ.get('HELLOD_BUILDDIR') or os.getcwd())
HELLOD = os.environ.get('HELLOD') or os.path.join(BUILDDIR, 'server', 'hellod')
STATIC = os.path.join(SRCDIR, 'static')

HOST = '127.0.0.1'
EX_SKIP = 77

# Running hellod under a wrapper (valgrind) slows it down many times: the
# tests' time bounds that only say "it works" are stretched by SLOWDOWN
# through slow(). Bounds that are the point of a test (a timeout fires
# after about its length) are left alone: the wrapper does not change
# hellod's clock.
WRAPPER = shlex.split(os.environ.get('HELLOD_WRAPPER', ''))
SLOWDOWN = max(1.0, float(os.environ.get('HELLOD_TEST_SLOWDOWN') or 1))
# Runner sets it to SCRIPT.CASE for each case; until then, the script.
os.environ.setdefault('HELLOD_TEST_CASE', os.path.splitext(os.path.basename(sys.argv[0]))[0]
                      or 'hellodtest')


def slow(seconds):
    """A generous functional time bound, stretched when hellod is wrapped."""
    return seconds * SLOWDOWN


DEFAULT_TIMEOUT = slow(5.0)    # seconds, for any single socket operation

# The keys the spec defines; the tests check that -h / README / conf know them.
SPEC_KEYS = ['listen', 'root', 'sleep', 'header_timeout', 'keepalive_timeout',
             'write_timeout', 'shutdown_timeout', 'max_connections',
             'max_header_size', 'log_level', 'access_log', 'workers', 'user']


def user_lines():
    """Config lines a test config needs to start as this user: as root, hellod
    refuses to run without `user`, and the suite opts in to root explicitly
    (`user = root`) so that its tests can read files anywhere and send signals
    as before; tests/e2e/test_privileges.py checks the switch itself."""
    return ['user = root'] if os.geteuid() == 0 else []


# ---------------------------------------------------------------- failures

class TestFailure(AssertionError):
    pass


class Skip(Exception):
    """Raised to skip the whole script (exit 77)."""


class CaseTimeout(BaseException):
    """Raised from SIGALRM when a case (or the script) takes too long."""


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure('%s: got %s, want %s' % (what, _short(got), _short(want)))


def check_in(item, container, what):
    if item not in container:
        raise TestFailure('%s: %s not in %s' % (what, _short(item), _short(container)))


def _short(v, limit=200):
    r = repr(v)
    if len(r) > limit:
        r = r[:limit] + '...(%d chars)' % len(r)
    return r


# ---------------------------------------------------------------- files

def read_static(name):
    with open(os.path.join(STATIC, name), 'rb') as f:
        return f.read()


def hello_bytes():
    return read_static('hello.html')


def notfound_bytes():
    return read_static('404.html')


def make_tempdir(prefix='hellod-e2e-'):
    d = tempfile.mkdtemp(prefix=prefix)
    _cleanup_dirs.append(d)
    return d


def copy_static(dest_dir):
    """Copy $HELLOD_SRCDIR/static to dest_dir/static, writable (srcdir may be read-only)."""
    dst = os.path.join(dest_dir, 'static')
    shutil.copytree(STATIC, dst)
    for base, dirs, files in os.walk(dst):
        os.chmod(base, 0o755)
        for f in files:
            os.chmod(os.path.join(base, f), 0o644)
    return dst


_cleanup_dirs = []
_live_servers = []


def _cleanup_all():
    for s in list(_live_servers):
        try:
            s.stop(timeout=2)
        except Exception:
            pass
    for d in _cleanup_dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup_all)


def _on_term(signum, frame):
    # make sure atexit runs (and kills the servers) when the harness stops us
    sys.exit(1)


try:
    signal.signal(signal.SIGTERM, _on_term)
except ValueError:
    pass  # not in main thread


# ---------------------------------------------------------------- ports

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def connect_refused(port, host=HOST):
    """True if a TCP connect to host:port is refused (nothing listens)."""
    try:
        sk = socket.create_connection((host, port), timeout=1)
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    sk.close()
    return False


def hellod_path():
    if not os.path.isfile(HELLOD) or not os.access(HELLOD, os.X_OK):
        raise TestFailure('hellod binary not found or not executable: %s (set HELLOD)' % HELLOD)
    return HELLOD


def hellod_cmd(args=()):
    """The command line that runs hellod with args: under $HELLOD_WRAPPER if set."""
    return WRAPPER + [hellod_path()] + list(args)


def make_install(destdir):
    """`make install DESTDIR=destdir` of this build tree (destdir emptied
    first); a TestFailure with make's output if it fails."""
    shutil.rmtree(destdir, ignore_errors=True)
    # A make started from a test must not talk to the outer make's jobserver.
    env = {k: v for k, v in os.environ.items()
           if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'DESTDIR')}
    p = subprocess.run([os.environ.get('HELLOD_MAKE') or 'make', '-C', BUILDDIR, 'install',
                        'DESTDIR=' + destdir],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors='replace',
                       timeout=120, env=env)
    check(p.returncode == 0, 'make install DESTDIR=%s failed (rc %d):\n%s'
          % (destdir, p.returncode, p.stdout[-3000:]))


def run_hellod(args, timeout=10, **kw):
    """Run hellod with args to completion; returns CompletedProcess (text)."""
    return subprocess.run(hellod_cmd(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=slow(timeout), text=True, errors='replace', **kw)


# ---------------------------------------------------------------- responses

class ProtocolError(TestFailure):
    pass


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version      # 'HTTP/1.1'
        self.status = status        # int
        self.reason = reason        # str
        self.headers = headers      # list of (name, value) in order
        self.body = body            # bytes
        self.raw_head = raw_head    # bytes, status line + headers + CRLFCRLF
        self.time = None            # time.monotonic() when fully received

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def connection_tokens(self):
        toks = set()
        for v in self.header_all('Connection'):
            for t in v.split(','):
                if t.strip():
                    toks.add(t.strip().lower())
        return toks

    def __repr__(self):
        return '<Response %s %d %s, %d body bytes>' % (self.version, self.status,
                                                      self.reason, len(self.body))


_STATUS_RE = re.compile(rb'^(HTTP/\d\.\d) (\d{3}) ?(.*)$')
_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def parse_head(head):
    """Parse a response head (bytes without the final blank line)."""
    lines = head.split(b'\r\n')
    m = _STATUS_RE.match(lines[0])
    if not m:
        raise ProtocolError('bad status line %s' % _short(lines[0]))
    version = m.group(1).decode('ascii')
    status = int(m.group(2))
    reason = m.group(3).decode('latin-1')
    headers = []
    for line in lines[1:]:
        if b':' not in line:
            raise ProtocolError('bad header line %s' % _short(line))
        k, v = line.split(b':', 1)
        k = k.decode('latin-1')
        if not _TOKEN_RE.match(k):
            raise ProtocolError('bad header name %s' % _short(k))
        headers.append((k, v.strip(b' \t').decode('latin-1')))
    return version, status, reason, headers


class Conn:
    """A client connection with a receive buffer.

    send() writes raw bytes; read_response() parses one response from the buffer
    (reading more as needed).  Every blocking operation has a timeout.
    """

    def __init__(self, port, host=HOST, timeout=DEFAULT_TIMEOUT, sock=None, rcvbuf=None):
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.settimeout(timeout)
            try:
                sock.connect((host, port))
            except Exception:
                sock.close()
                raise
        self.sock = sock
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.buf = b''
        self.eof = False
        self.port = port
        self.host = host

    # -- plumbing
    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode('latin-1')
        self.sock.sendall(data)

    def _fill(self, deadline):
        """Read more bytes into buf; returns False on EOF."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TestFailure('timed out waiting for data (have %d buffered bytes: %s)'
                              % (len(self.buf), _short(self.buf[:120])))
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TestFailure('timed out waiting for data (have %d buffered bytes: %s)'
                              % (len(self.buf), _short(self.buf[:120])))
        finally:
            self.sock.settimeout(self.timeout)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    # -- requests
    def request(self, method='GET', path='/', headers=None, version='HTTP/1.1',
                body=b'', host=True):
        self.send(build_request(method, path, headers, version, body, host,
                                '%s:%d' % (self.host, self.port)))

    def read_response(self, method='GET', timeout=None):
        """Parse one response; method tells whether a body follows (HEAD: none)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while b'\r\n\r\n' not in self.buf:
            if len(self.buf) > 1 << 20:
                raise ProtocolError('response head larger than 1 MiB')
            if not self._fill(deadline):
                if self.buf:
                    raise ProtocolError('connection closed inside response head: %s'
                                        % _short(self.buf))
                raise ProtocolError('connection closed before a response')
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        raw_head = head + b'\r\n\r\n'
        version, status, reason, headers = parse_head(head)
        resp = Response(version, status, reason, headers, b'', raw_head)
        if method == 'HEAD' or 100 <= status < 200 or status in (204, 304):
            resp.time = time.monotonic()
            return resp
        cls = resp.header_all('Content-Length')
        if resp.header('Transfer-Encoding') is not None:
            raise ProtocolError('unexpected Transfer-Encoding in response')
        if cls:
            if len(set(cls)) != 1 or not cls[0].isdigit():
                raise ProtocolError('bad Content-Length %r' % cls)
            n = int(cls[0])
            while len(self.buf) < n:
                if not self._fill(deadline):
                    raise ProtocolError('connection closed after %d of %d body bytes'
                                        % (len(self.buf), n))
            resp.body, self.buf = self.buf[:n], self.buf[n:]
        else:
            # no framing: body runs to close
            while self._fill(deadline):
                pass
            resp.body, self.buf = self.buf, b''
        resp.time = time.monotonic()
        return resp

    def wait_closed(self, timeout=DEFAULT_TIMEOUT):
        """Wait until the peer closes.  Returns (bytes_received, how) with how in
        {'eof', 'reset'}; raises TestFailure if still open after timeout."""
        deadline = time.monotonic() + timeout
        got = self.buf
        self.buf = b''
        if self.eof:
            return got, 'eof'
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TestFailure('connection still open after %.1fs (received %s)'
                                  % (timeout, _short(got[:120])))
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, ConnectionAbortedError):
                return got, 'reset'
            finally:
                try:
                    self.sock.settimeout(self.timeout)
                except OSError:
                    pass
            if not data:
                self.eof = True
                return got, 'eof'
            got += data

    def expect_closed(self, timeout=DEFAULT_TIMEOUT, what='connection'):
        """Assert the server closes with no further bytes."""
        got, how = self.wait_closed(timeout)
        check(got == b'', '%s: unexpected bytes before close: %s' % (what, _short(got[:200])))
        return how

    def expect_open(self, wait=0.3):
        """Assert the server neither closes nor sends anything for `wait` seconds."""
        if self.buf:
            raise TestFailure('unexpected buffered bytes %s' % _short(self.buf))
        if self.eof:
            raise TestFailure('connection already closed')
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        except ConnectionError as e:
            raise TestFailure('connection reset while it should be open: %s' % e)
        finally:
            self.sock.settimeout(self.timeout)
        if not data:
            self.eof = True
            raise TestFailure('server closed a connection that should stay open')
        self.buf += data
        raise TestFailure('unexpected bytes on idle connection: %s' % _short(data))


def build_request(method='GET', path='/', headers=None, version='HTTP/1.1',
                  body=b'', host=True, host_value='localhost'):
    if isinstance(body, str):
        body = body.encode('latin-1')
    lines = ['%s %s %s' % (method, path, version)]
    hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in hdrs}
    if host and 'host' not in names:
        lines.append('Host: %s' % host_value)
    for k, v in hdrs:
        lines.append('%s: %s' % (k, v))
    if body and 'content-length' not in names and 'transfer-encoding' not in names:
        lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


def http(port, method='GET', path='/', headers=None, version='HTTP/1.1',
         body=b'', host=True, timeout=DEFAULT_TIMEOUT):
    """One request on a fresh connection; returns the Response (with .elapsed)."""
    with Conn(port, timeout=timeout) as c:
        t0 = time.monotonic()
        c.request(method, path, headers, version, body, host)
        r = c.read_response(method, timeout=timeout)
        r.elapsed = r.time - t0
        return r


def metric(port, name):
    """The value of the unlabelled sample name in a scrape of a metrics
    listener on port (GET /metrics)."""
    r = http(port, 'GET', '/metrics')
    check_eq(r.status, 200, 'GET /metrics status')
    for line in r.body.decode().split('\n'):
        if line.startswith(name + ' '):
            return float(line.split(' ', 1)[1])
    raise TestFailure('no %s in /metrics:\n%s' % (name, r.body.decode()))


def raw(port, data, method='GET', timeout=DEFAULT_TIMEOUT):
    """Send raw bytes on a fresh connection, return (Response, Conn) (Conn still open)."""
    c = Conn(port, timeout=timeout)
    try:
        c.send(data)
        r = c.read_response(method, timeout=timeout)
    except BaseException:
        c.close()
        raise
    return r, c


# ---------------------------------------------------------------- checks

_IMF_RE = re.compile(r'^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} '
                     r'(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} '
                     r'\d{2}:\d{2}:\d{2} GMT$')


def is_imf_fixdate(value):
    if value is None or not _IMF_RE.match(value):
        return False
    try:
        email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return True


def check_date(resp, slack=120):
    d = resp.header('Date')
    check(is_imf_fixdate(d), 'Date header is not an IMF-fixdate: %r' % (d,))
    ts = email.utils.parsedate_to_datetime(d).timestamp()
    check(abs(ts - time.time()) < slack, 'Date %r is %.0fs away from now' % (d, ts - time.time()))


def check_common_headers(resp):
    check_eq(resp.version, 'HTTP/1.1', 'status line version')
    srv = resp.header('Server')
    check(srv is not None and srv.startswith('hellod/') and len(srv) > len('hellod/'),
          'Server header %r does not start with hellod/VERSION' % (srv,))
    check_date(resp)
    check_eq(resp.header('Content-Type'), 'text/html; charset=utf-8', 'Content-Type')
    cl = resp.header_all('Content-Length')
    check(len(cl) == 1, 'expected one Content-Length, got %r' % (cl,))


def check_page(resp, status, body, method='GET'):
    """Status, common headers, Content-Length == len(body), and body bytes."""
    check_eq(resp.status, status, 'status')
    check_common_headers(resp)
    check_eq(resp.header('Content-Length'), str(len(body)), 'Content-Length')
    if method == 'HEAD':
        check_eq(resp.body, b'', 'HEAD body')
    else:
        check(resp.body == body, 'body differs from expected page (%d bytes, want %d): %s'
              % (len(resp.body), len(body), _short(resp.body[:120])))


def fd_count(pid):
    """Number of open fds of pid (Linux), or None if /proc is not usable."""
    try:
        return len(os.listdir('/proc/%d/fd' % pid))
    except OSError:
        return None


def settled_fd_count(pid, settle=0.5):
    """Lowest fd count of pid seen over `settle` seconds (lets closing connections go)."""
    best = fd_count(pid)
    if best is None:
        return None
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        time.sleep(0.02)
        n = fd_count(pid)
        if n is not None and n < best:
            best = n
    return best


def cpu_seconds(pid):
    """User + system CPU time of pid (all its threads), from /proc/PID/stat."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def idle_cost(server, seconds):
    """Wait seconds; return (CPU seconds server used, seconds waited, lines
    it logged) meanwhile: what a server that should be idle still spends."""
    lines0 = server.stderr_text().count('\n')
    cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
    time.sleep(seconds)
    used, dt = cpu_seconds(server.pid) - cpu0, time.monotonic() - t0
    return used, dt, server.stderr_text().count('\n') - lines0


def rss_kib(pid):
    """Resident set size of pid in KiB (VmRSS in /proc/PID/status)."""
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise TestFailure('no VmRSS in /proc/%d/status' % pid)


def raise_nofile(need):
    """Raise this process's soft descriptor limit to its hard limit (servers
    started later inherit it); fail if that is still below need."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    check(hard == resource.RLIM_INFINITY or hard >= need,
          'descriptor hard limit %d is below the %d this test needs' % (hard, need))


IP_BIND_ADDRESS_NO_PORT = getattr(socket, 'IP_BIND_ADDRESS_NO_PORT', 24)


def connect_many(port, n, nsrc=8, timeout=DEFAULT_TIMEOUT, linger0=False):
    """n blocking connections to 127.0.0.1:port, from the source addresses
    127.0.0.1 .. 127.0.0.nsrc in turn (IP_BIND_ADDRESS_NO_PORT: only the
    4-tuple must be unique, so many connections, and the TIME_WAIT of those
    we close first, do not run out of ephemeral ports). With linger0 their
    close() sends a reset. On failure the ones made so far are closed."""
    socks = []
    try:
        for i in range(n):
            sk = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sk)
            sk.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            if linger0:
                sk.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack('ii', 1, 0))
            sk.bind(('127.0.0.%d' % (1 + i % nsrc), 0))
            sk.settimeout(timeout)
            sk.connect((HOST, port))
    except BaseException:
        for sk in socks:
            sk.close()
        raise
    return socks


def tcp_queues(local_port, remote_port):
    """(tx_queue, rx_queue) in bytes of the loopback TCP socket from
    local_port to remote_port, from /proc/net/tcp: what the kernel holds
    unsent, and unread, on that side of the connection."""
    with open('/proc/net/tcp') as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, queues = fields[1], fields[2], fields[4]
            if (int(local.split(':')[1], 16) == local_port
                    and int(remote.split(':')[1], 16) == remote_port):
                tx, rx = queues.split(':')
                return int(tx, 16), int(rx, 16)
    raise TestFailure('no TCP socket from port %d to %d in /proc/net/tcp'
                      % (local_port, remote_port))


def wait_for(pred, timeout, interval=0.02):
    """Poll pred() until truthy or timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------- server

class Server:
    """Run hellod with a generated config in a temp dir.

    root:      document root (default $HELLOD_SRCDIR/static)
    copy_root: copy the static dir into the temp dir and use that (for tests that edit pages)
    sleep:     value of `sleep` (default 1s)
    options:   dict of further key = value settings (value None drops a default key;
               `user` defaults to root when the tests run as root, see user_lines())
    extra:     list of raw lines appended to the config
    env:       dict of extra environment variables for hellod, or a callable
               env(server) returning one, called once the stderr log is open
               (so it can use server.stderr_dev_ino())
    journal:   False (default): run hellod as it is; else run it in a private
               mount namespace where /run/systemd/journal/socket, the socket
               libsystemd sends journal entries to, is the socket at this path,
               or missing if None (see journal_ns_prefix(); root only)
    popen_kw:  dict of further subprocess.Popen arguments (e.g. user=, group=)
    port:      listen on this port (default: a free one, picked at each start)
    """

    def __init__(self, root=None, copy_root=False, sleep='1s', options=None,
                 extra=None, start_timeout=10.0, shared=False, env=None,
                 popen_kw=None, journal=False, port=None):
        self.fixed_port = port
        self.shared = shared        # shared by several cases: not stopped between cases
        self.tmpdir = make_tempdir()
        if copy_root:
            self.root = copy_static(self.tmpdir)
        else:
            self.root = os.path.abspath(root or STATIC)
        self.options = {'sleep': sleep}
        if os.geteuid() == 0:
            self.options['user'] = 'root'
        if SLOWDOWN > 1:
            # Under valgrind every callback runs ~SLOWDOWN times slower:
            # stretch the stall threshold alike, or a slow-but-normal
            # callback would log a stall warning that tests counting
            # warnings or log lines would trip over.
            self.options['stall_warn'] = '%dms' % int(100 * SLOWDOWN)
        self.options.update(options or {})
        self.extra = list(extra or [])
        self.start_timeout = slow(start_timeout)
        self.env = env
        self.popen_kw = dict(popen_kw or {})
        self.journal = journal
        self.conf = os.path.join(self.tmpdir, 'hellod.conf')
        self.stderr_path = os.path.join(self.tmpdir, 'stderr.log')
        self.proc = None
        self.port = None
        self.returncode = None
        self._stderr_file = None

    # -- config
    def config_lines(self):
        lines = ['# generated by tests/e2e/hellodtest.py',
                 'listen = %s:%d' % (HOST, self.port),
                 'root = %s' % self.root]
        for k, v in self.options.items():
            if v is not None:
                lines.append('%s = %s' % (k, v))
        return lines + self.extra

    def write_config(self, lines=None):
        with open(self.conf, 'w') as f:
            f.write('\n'.join(self.config_lines() if lines is None else lines) + '\n')

    # -- lifecycle
    def start(self):
        hellod_path()
        last_err = None
        for attempt in range(3):
            self.port = self.fixed_port or free_port()
            self.write_config()
            if self._stderr_file:
                self._stderr_file.close()
            self._stderr_file = open(self.stderr_path, 'wb')
            env = None
            if self.env is not None:
                extra = self.env(self) if callable(self.env) else self.env
                env = dict(os.environ, **extra)
            cmd = hellod_cmd(['-c', self.conf])
            if self.journal is not False:
                cmd = journal_ns_prefix(self.journal) + cmd
            self.proc = subprocess.Popen(cmd,
                                         stdin=subprocess.DEVNULL,
                                         stdout=self._stderr_file, stderr=self._stderr_file,
                                         env=env, **self.popen_kw)
            _live_servers.append(self)
            try:
                self._wait_ready()
                return self
            except _BindFailed as e:
                last_err = e
                self._reap()
                continue
            except BaseException:
                self.stop(timeout=2)
                raise
        raise TestFailure('hellod could not bind after 3 attempts: %s' % last_err)

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                err = self.stderr_text()
                if rc == 71 or 'in use' in err.lower():
                    raise _BindFailed('exit %d: %s' % (rc, err.strip()[-500:]))
                raise TestFailure('hellod exited with %d at start; stderr:\n%s' % (rc, err))
            if self._logged_listening():
                try:
                    s = socket.create_connection((HOST, self.port), timeout=0.5)
                    s.close()
                    return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise TestFailure('hellod not accepting on port %d after %.0fs; stderr:\n%s'
                                  % (self.port, self.start_timeout, self.stderr_text()))
            time.sleep(0.05)

    def _logged_listening(self):
        # With parallel test scripts another hellod could, in a rare race, get
        # our port: only trust the connect once our server said it listens there.
        # The kernel completes connections as soon as the socket listens; wait
        # for "ready" too, logged once every worker thread runs (under valgrind
        # that can be a while later).
        if str(self.options.get('log_level', 'info')) in ('error', 'warn'):
            return True
        text = self.stderr_text()
        return ('listening on %s:%d' % (HOST, self.port)) in text and ' ready: ' in text

    def _reap(self):
        if self in _live_servers:
            _live_servers.remove(self)
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc:
            self.returncode = self.proc.returncode

    def stop(self, timeout=5.0):
        """SIGTERM, wait up to timeout (stretched by slow()), then SIGKILL.
        Returns the exit status."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    self.proc.send_signal(signal.SIGTERM)
                    self.proc.wait(slow(timeout))
                except subprocess.TimeoutExpired:
                    if WRAPPER:
                        note('hellod (pid %d) still running %.0fs after SIGTERM: '
                             'SIGKILL, so %s cannot report'
                             % (self.proc.pid, slow(timeout), WRAPPER[0]))
                    self.proc.kill()
                    self.proc.wait(5)
            if self.proc is not None:
                self.returncode = self.proc.returncode
        finally:
            if self in _live_servers:
                _live_servers.remove(self)
            if self._stderr_file:
                self._stderr_file.close()
                self._stderr_file = None
        return self.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- info / control
    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """Wait for the process to exit; returns its exit code or None if still running."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stderr_text(self):
        try:
            with open(self.stderr_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def wait_stderr(self, needle, timeout=5.0, start=0):
        """Wait until stderr (from offset start) contains needle (str or compiled regex)."""
        def found():
            text = self.stderr_text()[start:]
            if hasattr(needle, 'search'):
                return needle.search(text)
            return needle in text
        return wait_for(found, timeout, 0.05)

    def stderr_dev_ino(self):
        """'DEV:INO' of hellod's stderr file, as systemd puts it in JOURNAL_STREAM."""
        st = os.fstat(self._stderr_file.fileno())
        return '%d:%d' % (st.st_dev, st.st_ino)

    def stderr_tail(self, n=1500):
        return self.stderr_text()[-n:]

    def malloc_stats(self):
        """(in use, system) bytes of hellod's malloc heap, all arenas: gdb
        attaches and calls glibc's malloc_stats(), which prints them on
        hellod's stderr. Unlike RSS, "in use" does not count freed memory
        that glibc keeps for later. Needs gdb and ptrace; hellod should be
        idle (a thread stopped inside malloc would block the call).
        scheduler-locking keeps the other threads stopped during the call:
        gdb would otherwise let them run, and a worker whose stall check
        finds the loop held up by the attach logs a warning, which could
        land between malloc_stats()'s lines."""
        gdb = shutil.which('gdb')
        check(gdb is not None, 'gdb is needed to read hellod\'s heap (apt-get install gdb)')
        mark = len(self.stderr_text())
        p = subprocess.run([gdb, '-nx', '-batch', '-p', str(self.pid),
                            '-ex', 'set scheduler-locking on',
                            '-ex', 'call (void)malloc_stats()'], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=slow(60), text=True, errors='replace')
        pat = re.compile(r'Total \(incl\. mmap\):\s*system bytes\s*=\s*(\d+)\s*'
                         r'in use bytes\s*=\s*(\d+)')
        m = self.wait_stderr(pat, slow(5), mark)
        check(m, 'no malloc_stats() output from hellod (gdb exit %d: %s; hellod\'s '
              'stderr since the call: %s)' % (p.returncode, p.stdout[-500:],
                                               self.stderr_text()[mark:][-1500:]))
        return int(m.group(2)), int(m.group(1))

    def conn(self, timeout=DEFAULT_TIMEOUT, **kw):
        return Conn(self.port, timeout=timeout, **kw)

    def http(self, method='GET', path='/', headers=None, version='HTTP/1.1',
             body=b'', host=True, timeout=DEFAULT_TIMEOUT):
        return http(self.port, method, path, headers, version, body, host, timeout)

    def raw(self, data, method='GET', timeout=DEFAULT_TIMEOUT):
        return raw(self.port, data, method, timeout)

    def url(self, path='/'):
        return 'http://%s:%d%s' % (HOST, self.port, path)


class _BindFailed(Exception):
    pass


_shared = {}


def shared_server(**kw):
    """A Server started once per script for the given settings and reused by the
    cases (restarted if it died); stopped at exit."""
    key = repr(sorted(kw.items()))
    s = _shared.get(key)
    if s is None or not s.alive():
        s = Server(shared=True, **kw)
        s.start()
        _shared[key] = s
    return s


# ---------------------------------------------------------------- systemd

def hellod_version():
    """The line `hellod -V` prints, e.g. 'hellod 0.1.0 (+systemd)'."""
    p = run_hellod(['-V'])
    check(p.returncode == 0, 'hellod -V exited %d: %s' % (p.returncode, p.stderr))
    return p.stdout.strip()


def hellod_has_systemd():
    """Was hellod built with the systemd integration (configure --with-systemd)?"""
    v = hellod_version()
    check(re.match(r'^hellod \S+ \([+-]systemd\)$', v) is not None,
          'hellod -V prints %r, not "hellod VERSION (+systemd)" or "(-systemd)"' % v)
    return '(+systemd)' in v


def require_systemd():
    """Skip the script (exit 77) when hellod was built without the systemd integration."""
    if not hellod_has_systemd():
        raise Skip('hellod was built --with-systemd=no (hellod -V: %r)' % hellod_version())


LIVE_STATUS = re.compile(r'^(stopping: )?[0-9,]+ connections?, [0-9,]+ sleeping, '
                         r'[0-9,]+ req/s$')


def is_live_status(fields):
    """A datagram of nothing but hellod's live STATUS= figures."""
    return list(fields) == ['STATUS'] and LIVE_STATUS.match(fields['STATUS']) is not None


class Notify:
    """The service manager's end of $NOTIFY_SOCKET: an AF_UNIX datagram socket
    with SO_PASSCRED, so each datagram comes with its sender's pid.

    n.env() gives the NOTIFY_SOCKET variable for the child; n.recv() returns
    (pid, fields, text) for one datagram, fields being the VAR=value dict.
    """

    def __init__(self, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            # An abstract socket name: "@name" in NOTIFY_SOCKET.
            name = 'hellod-notify-%d-%d' % (os.getpid(), id(self))
            self.sock.bind('\0' + name)
            self.path = '@' + name
        else:
            self.path = os.path.join(make_tempdir('hellod-notify-'), 'notify')
            self.sock.bind(self.path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.log = []           # every (pid, text) received, for messages

    def env(self, **extra):
        return dict({'NOTIFY_SOCKET': self.path}, **extra)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def recv(self, timeout=DEFAULT_TIMEOUT):
        """One datagram: (pid, fields, text); None if none came within timeout."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            return None
        pid = None
        for level, typ, payload in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack('iII', payload[:12])[0]
        text = data.decode('utf-8', 'replace')
        fields = {}
        for line in text.split('\n'):
            if '=' in line:
                k, v = line.split('=', 1)
                fields[k] = v
        self.log.append((pid, text))
        return pid, fields, text

    def expect(self, key, pid, timeout=DEFAULT_TIMEOUT, skip_watchdog=True):
        """The next datagram (WATCHDOG=1 pings, live STATUS= figures and
        FDSTORE= messages skipped) must set key and come from pid; returns
        its fields."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.recv(deadline - time.monotonic())
            if got is None:
                raise TestFailure('no %s datagram within %.1fs; received so far: %s'
                                  % (key, timeout, _short(self.log[-6:], 600)))
            sender, fields, text = got
            if skip_watchdog and list(fields) == ['WATCHDOG']:
                continue
            if key != 'STATUS' and is_live_status(fields):
                continue        # the once-a-second figures
            if key not in fields and ('FDSTORE' in fields or 'FDSTOREREMOVE' in fields):
                continue        # sockets for the fd store (test_fdstore.py)
            check(key in fields, 'expected a %s datagram, got %r' % (key, text))
            check_eq(sender, pid, 'sender pid (SCM_CREDENTIALS) of %r' % text)
            return fields

    def drain(self):
        """Drop what is queued; returns the datagrams' texts."""
        texts = []
        while True:
            got = self.recv(0.001)
            if got is None:
                return texts
            texts.append(got[2])


# ---------------------------------------------------------------- journal

# libsystemd's sd_journal_sendv() sends to this fixed path; no variable
# moves it. The script below runs its arguments with that path made the
# test's socket ($1), or with no such socket ($1 empty), in a private mount
# namespace: a tmpfs over /run/systemd (over /run if there is none) hides
# the machine's journal, and nothing outside the namespace changes. unshare
# and sh exec, so the pid is hellod's.
JOURNAL_SOCKET = '/run/systemd/journal/socket'
_JOURNAL_NS_SH = r"""
top=/run/systemd; [ -d "$top" ] || top=/run
mount -t tmpfs -o mode=0755 hellod-test-journal "$top" || exit 70
mkdir -p /run/systemd/journal || exit 70
if [ -n "$1" ]; then ln -s "$1" %s || exit 70; fi
shift
exec "$@"
""" % JOURNAL_SOCKET
_journal_ns_ok = None


def journal_ns_prefix(socket_path):
    """The command prefix that runs a command where JOURNAL_SOCKET is the
    socket at socket_path (None: there is no journal socket), so a test can
    be the journal, or have none, without touching the machine's. Needs root
    (a mount namespace); raises Skip without it."""
    global _journal_ns_ok
    prefix = ['unshare', '--mount', '--propagation', 'private', '--',
              'sh', '-c', _JOURNAL_NS_SH, 'sh']
    if _journal_ns_ok is None:
        _journal_ns_ok = ''
        if os.geteuid() != 0:
            _journal_ns_ok = 'not root'
        elif shutil.which('unshare') is None:
            _journal_ns_ok = 'no unshare (util-linux)'
        else:
            p = subprocess.run(prefix + ['', 'test', '!', '-e', JOURNAL_SOCKET],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=30)
            if p.returncode != 0:
                _journal_ns_ok = 'unshare --mount failed (rc %d): %s' % (
                    p.returncode, p.stdout.strip())
    if _journal_ns_ok:
        raise Skip('no private mount namespace for a test journal: %s' % _journal_ns_ok)
    return prefix + [socket_path or '']


# ---------------------------------------------------------------- runner

class Runner:
    """Register cases with @runner.case; runner.run() prints results and exits.

    Each case is bounded by case_timeout seconds and the whole script by
    script_timeout (SIGALRM).  Raising Skip from a case (or from setup) skips
    the whole script with exit status 77.
    """

    def __init__(self, name, script_timeout=180, case_timeout=60):
        self.name = name
        self.cases = []
        self.script_timeout = slow(script_timeout)
        self.case_timeout = slow(case_timeout)

    def case(self, func=None, name=None, timeout=None):
        def reg(f):
            self.cases.append((name or f.__name__, f,
                               slow(timeout) if timeout else self.case_timeout))
            return f
        return reg(func) if func is not None else reg

    def run(self):
        def on_alarm(signum, frame):
            raise CaseTimeout()
        signal.signal(signal.SIGALRM, on_alarm)
        start = time.monotonic()
        script_deadline = start + self.script_timeout
        failed = 0
        print('# %s: %d cases, hellod=%s' % (self.name, len(self.cases), HELLOD), flush=True)
        for i, (name, func, timeout) in enumerate(self.cases):
            left = script_deadline - time.monotonic()
            if left <= 0:
                for n, _, _ in self.cases[i:]:
                    print('not ok - %s: script time limit (%ds) exhausted' % (n, self.script_timeout))
                    failed += 1
                break
            limit = min(timeout, left)
            # valgrind's --log-file=...%q{HELLOD_TEST_CASE}... names its
            # log after the case that started the hellod it watched.
            os.environ['HELLOD_TEST_CASE'] = '%s.%s' % (self.name, name)
            signal.alarm(max(1, int(limit + 0.999)))
            t0 = time.monotonic()
            try:
                try:
                    func()
                finally:
                    signal.alarm(0)
                dt = time.monotonic() - t0
                print('ok - %s' % name, flush=True)
                if dt >= 1.0:
                    note('%s took %.2fs' % (name, dt))
            except Skip as e:
                print('# SKIP %s: %s' % (name, e), flush=True)
                _cleanup_all()
                sys.exit(EX_SKIP)
            except CaseTimeout:
                failed += 1
                print('not ok - %s: timed out after %.0fs' % (name, limit), flush=True)
            except TestFailure as e:
                failed += 1
                print('not ok - %s: %s' % (name, _oneline(e)), flush=True)
                _print_details(e)
            except Exception as e:
                failed += 1
                print('not ok - %s: %s: %s' % (name, type(e).__name__, _oneline(e)), flush=True)
                traceback.print_exc(file=sys.stdout)
            finally:
                # a case must not leave servers behind (shared ones stay up)
                for s in list(_live_servers):
                    if not s.shared:
                        s.stop(timeout=2)
        print('# %s: %d/%d passed in %.1fs' % (self.name, len(self.cases) - failed,
                                               len(self.cases), time.monotonic() - start),
              flush=True)
        _cleanup_all()
        sys.exit(1 if failed else 0)


def _oneline(e):
    s = str(e)
    return s.splitlines()[0] if s else type(e).__name__


def _print_details(e):
    lines = str(e).splitlines()
    if len(lines) > 1:
        for line in lines[1:]:
            print('#   ' + line)
    sys.stdout.flush()


def note(msg):
    """Print a diagnostic comment line."""
    print('# ' + msg, flush=True)


def send_in_background(sock, data):
    """sendall() in a thread, ignoring errors (the peer may close/reset early).
    Returns the thread."""
    def run():
        try:
            sock.sendall(data)
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t
