#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""hellod vs nginx, side by side (`make bench`; python3 stdlib only); with
BENCH_BEFORE, the before/after table against nginx and tokio (see below).

Runs the built hellod and Debian's nginx (with the echo module, whose
echo_sleep gives nginx a non-blocking /sleep) back to back on free
127.0.0.1 ports, serving the same hello.html/404.html with access logs off,
and measures:

  1. keep-alive GET / (wrk, BENCH_CONNS connections): requests/s and p99,
     pinned (server on CPU 0 with one worker, wrk -t1 on CPU 1) and
     unpinned (all workers, wrk with one thread per CPU);
  2. the same with a new connection per request (Connection: close);
  3. N concurrent GET /sleep (tests/bench/sleepclient): 200s, wall time from
     the first connect to the last response, TcpExtListenOverflows, and the
     latency of one GET / issued while all N wait;
  4. server memory (all its processes) idle and while the N sleep, i.e.
     bytes per sleeping connection: RSS, and Private_Dirty
     (/proc/PID/smaps_rollup: what the server wrote, shared with no one);
  5. server CPU time (utime+stime, all processes) per 10,000 /sleep;
  6. what the metrics cost: pinned keep-alive GET / of hellod as is against
     hellod with metrics_listen scraped once a second (a Prometheus at a
     1 s interval, 15 times its default rate), and, with
     BENCH_HELLOD_BASELINE=path, against that binary too (e.g. hellod built
     from a commit before the counters), alternating, same pass.

CPU steal (/proc/stat) is recorded per run; a run with more than
BENCH_STEAL_MAX % steal is repeated (BENCH_RETRIES times at most) and the
attempt with the least steal is kept. Each figure is measured BENCH_REPS
times, hellod and nginx alternating, and the medians are printed with the
ratio hellod/nginx. Raw rows go to BENCH_RESULTS/*.csv, the chart of RSS and
completion time against N to BENCH_RESULTS/sleep.png (gnuplot).

Before/after (BENCH_BEFORE=path of a hellod built before the change): one
run, five columns: `before` (that binary), `hellod` (this one), nginx with
1 worker, nginx with max(2, CPUs) workers (`nginx-2` on two CPUs) and
`tokio`, the anchor of tests/bench/tokio built offline with cargo from
Debian's vendored crates (when it cannot be built the run says why, drops
the column and the all-cores target compares with nginx-2 instead). Each
figure BENCH_REPS times, the servers alternating, each repetition in
another order; per core: 1 worker (tokio: current-thread runtime) pinned
to CPU 0, wrk -t1 on CPU 1, keep-alive and `Connection: close` (before,
hellod, nginx-1, tokio); all cores: 2 workers or threads unpinned,
keep-alive (before, hellod, nginx-2, tokio); N = 10,000 concurrent /sleep
(BENCH_N), a fresh server per run (2 workers; nginx-1 one): all 200?, wall
time, Private_Dirty idle and with the N sleeping, bytes per sleeping
connection from Private_Dirty, CPU ms per 10,000 sleeps. One table of
medians with min-max, hellod/before, and the issue's targets as ratios
taken per repetition (median, min-max): per core >= 1.5x nginx-1, all
cores >= 1.0x tokio (or >= 1.5x nginx-2), close >= 1.1x nginx-1, <= 1536 B
per sleeping connection, CPU per 10,000 sleeps <= 0.8x nginx-2. Written
also to BENCH_RESULTS/compare.md and compare.csv (raw rows to wrk.csv and
sleep.csv); figures 1-6 above are not run in this mode.

Environment (make passes its variables of the same names):
  HELLOD, HELLOD_SRCDIR, BENCH_SLEEPCLIENT, BENCH_RESULTS   paths (make sets them)
  BENCH_QUICK=1        3 s wrk runs, 1 repetition, N = 1000 only
  BENCH_REPS           repetitions of each figure (default 3)
  BENCH_DURATION       seconds per wrk run (default 10)
  BENCH_SLEEP          the servers' /sleep delay (default 2s)
  BENCH_N              comma-separated N for /sleep (default 1000,10000,19000)
  BENCH_CONNS          wrk connections (default 100)
  BENCH_SERVERS        comma-separated subset of hellod,nginx
  BENCH_STEAL_MAX      steal % above which a run is repeated (default 5)
  BENCH_RETRIES        extra attempts for such a run (default 2)
  BENCH_NO_INSTALL=1   never run apt-get
  BENCH_HELLOD_BASELINE  a hellod binary to compare in figure 6 (optional)
  BENCH_FIGURES        comma-separated subset of wrk (1-2), sleep (3-5),
                       metrics (6); default all
  BENCH_BEFORE         a hellod binary from before: the before/after table
                       (BENCH_N defaults to 10000 then, BENCH_SERVERS to
                       before,hellod,nginx-1,nginx-2,tokio; BENCH_FIGURES
                       wrk and sleep apply)
  BENCH_TOKIO          the tokio anchor: a binary to use, or no to leave it
                       out (default: build tests/bench/tokio)
  BENCH_TOKIO_BUILD    where to build it (make sets tests/bench/tokio-build)
"""

import csv
import http.client
import os
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.environ.get('HELLOD_SRCDIR') or
                         os.path.join(HERE, os.pardir, os.pardir))
HOST = '127.0.0.1'
APT_PACKAGES = ['nginx', 'libnginx-mod-http-echo', 'wrk', 'gnuplot-nox']
ECHO_MODULE = '/usr/lib/nginx/modules/ngx_http_echo_module.so'
TOKIO_REGISTRY = '/usr/share/cargo/registry'
T0 = time.monotonic()


def log(msg):
    print('[bench %6.1fs] %s' % (time.monotonic() - T0, msg), flush=True)


class BenchError(Exception):
    pass


# ------------------------------------------------------------ processes

_procs = []
_tmpdirs = []


def _max_nofile():
    """Soft descriptor limit = hard limit, in the children (preexec_fn)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start(cmd, **kw):
    """Start cmd in its own process group; it is stopped by cleanup()."""
    p = subprocess.Popen(cmd, start_new_session=True, preexec_fn=_max_nofile,
                         stdin=subprocess.DEVNULL, **kw)
    _procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=5):
    """Stop p (and its process group, which only holds what p started)."""
    if p.poll() is None:
        try:
            os.kill(p.pid, sig)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    if p in _procs:
        _procs.remove(p)


def cleanup():
    for p in list(_procs):
        stop(p, timeout=2)
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


def tempdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)          # nginx workers run as nobody when root
    _tmpdirs.append(d)
    return d


def run(cmd, timeout, **kw):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          errors='replace', timeout=timeout, **kw)


# ------------------------------------------------------------ /proc

def cpu_stat():
    """(total jiffies, steal jiffies) from the cpu line of /proc/stat."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[7]


def steal_pct(a, b):
    total = b[0] - a[0]
    return 100.0 * (b[1] - a[1]) / total if total > 0 else 0.0


def proc_tree(pid):
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir('/proc/%d/task' % p):
                with open('/proc/%d/task/%s/children' % (p, t)) as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def rss_kib(pids, field='VmRSS:'):
    """Sum of a /proc/PID/status size field over pids: VmRSS (all resident
    pages, shared library pages included) or RssAnon (private memory)."""
    total = 0
    for p in pids:
        try:
            with open('/proc/%d/status' % p) as f:
                for line in f:
                    if line.startswith(field):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def private_dirty_kib(pids):
    """Sum of Private_Dirty over pids (/proc/PID/smaps_rollup, or smaps on
    kernels without it): the user-space memory the processes wrote and
    share with no one (heap, stacks, written data; not library text)."""
    total = 0
    for p in pids:
        for name in ('smaps_rollup', 'smaps'):
            try:
                with open('/proc/%d/%s' % (p, name)) as f:
                    for line in f:
                        if line.startswith('Private_Dirty:'):
                            total += int(line.split()[1])
                break
            except OSError:
                continue
    return total


def cpu_ms(pids):
    """utime+stime of pids in milliseconds."""
    hz = os.sysconf('SC_CLK_TCK')
    ticks = 0
    for p in pids:
        try:
            with open('/proc/%d/stat' % p) as f:
                rest = f.read().rsplit(')', 1)[1].split()
            ticks += int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            pass
    return ticks * 1000.0 / hz


def listen_overflows():
    """TcpExtListenOverflows (nstat -az, or /proc/net/netstat without it)."""
    if shutil.which('nstat'):
        r = run(['nstat', '-az', 'TcpExtListenOverflows'], timeout=10)
        m = re.search(r'TcpExtListenOverflows\s+(\d+)', r.stdout)
        if m:
            return int(m.group(1))
    with open('/proc/net/netstat') as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith('TcpExt:'):
            d = dict(zip(names.split()[1:], values.split()[1:]))
            return int(d.get('ListenOverflows', 0))
    return 0


# ------------------------------------------------------------ HTTP

def free_port():
    s = socket.socket()
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def http_get(port, path, timeout=10):
    c = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.request('GET', path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_ready(port, proc, name, timeout=10, log_tail=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError('%s exited with status %s at start%s'
                             % (name, proc.returncode, log_tail and ':\n' + log_tail() or ''))
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise BenchError('%s did not listen on %s:%d within %ds' % (name, HOST, port, timeout))


def static_copy(dest):
    """The pages, copied world-readable to dest/static."""
    dst = os.path.join(dest, 'static')
    os.mkdir(dst, 0o755)
    for name in ('hello.html', '404.html'):
        shutil.copyfile(os.path.join(SRCDIR, 'static', name), os.path.join(dst, name))
        os.chmod(os.path.join(dst, name), 0o644)
    return dst


# ------------------------------------------------------------ servers

def hellod_has_workers(hellod):
    """True if `hellod -h` lists a `workers` config key."""
    r = run([hellod, '-h'], timeout=10)
    return re.search(r'^\s+workers\s', r.stdout, re.M) is not None


class Server:
    """A server on a free port: start(), pids(), stop()."""
    name = '?'

    def __init__(self, workers, pin, sleep_s, static, name=None):
        if name:
            self.name = name        # a column of the comparison, e.g. nginx-2
        self.workers = workers      # None: run as is (hellod without `workers`)
        self.pin = pin
        self.sleep_s = sleep_s
        self.static = static
        self.port = free_port()
        self.dir = tempdir('bench-%s-' % self.name)
        self.proc = None

    def command(self):
        raise NotImplementedError

    def start(self):
        cmd = self.command()
        if self.pin:
            cmd = ['taskset', '-c', '0'] + cmd
        self.log = open(os.path.join(self.dir, 'stderr.log'), 'wb')
        self.proc = start(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        wait_ready(self.port, self.proc, self.name, log_tail=self.stderr_tail)
        return self

    def pids(self):
        return proc_tree(self.proc.pid)

    def stop(self):
        if self.proc is not None:
            stop(self.proc, self.stop_signal)
            self.proc = None
            self.log.close()

    def stderr_tail(self):
        out = ''
        for name in ('stderr.log', 'error.log'):
            try:
                with open(os.path.join(self.dir, name), errors='replace') as f:
                    out += f.read()[-2000:]
            except OSError:
                pass
        return out


class Hellod(Server):
    name = 'hellod'
    stop_signal = signal.SIGINT

    def __init__(self, hellod, *args, **kw):
        self.hellod = hellod
        super().__init__(*args, **kw)

    def command(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        lines = ['# generated by tests/bench/bench.py',
                 'listen = %s:%d' % (HOST, self.port),
                 'root = %s' % self.static,
                 'sleep = %dms' % round(self.sleep_s * 1000),
                 'access_log = off',
                 'log_level = warn',
                 'max_connections = %d' % max(1000, hard - 100)]
        if os.geteuid() == 0:
            # As root hellod needs `user`; root keeps the run as before.
            lines.append('user = root')
        if self.workers is not None:
            lines.append('workers = %d' % self.workers)
        conf = os.path.join(self.dir, 'hellod.conf')
        with open(conf, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        return [self.hellod, '-c', conf]


class HellodMetrics(Hellod):
    """hellod with metrics_listen, scraped once a second while it runs."""
    name = 'hellod+metrics'

    def __init__(self, *args):
        self.mport = free_port()
        self.scrapes = 0
        self._stop = threading.Event()
        self._thread = None
        super().__init__(*args)

    def command(self):
        cmd = super().command()
        with open(cmd[-1], 'a') as f:
            f.write('metrics_listen = %s:%d\n' % (HOST, self.mport))
        return cmd

    def _scrape(self):
        while not self._stop.wait(1.0):
            status, body = http_get(self.mport, '/metrics')
            if status != 200 or b'hellod_http_requests_total' not in body:
                raise BenchError('scrape of /metrics: %d' % status)
            self.scrapes += 1

    def start(self):
        super().start()
        self._thread = threading.Thread(target=self._scrape, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        super().stop()


class HellodBaseline(Hellod):
    name = 'hellod-baseline'


class Nginx(Server):
    name = 'nginx'
    stop_signal = signal.SIGTERM

    def command(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        d = self.dir
        conf = os.path.join(d, 'nginx.conf')
        with open(conf, 'w') as f:
            f.write('''# generated by tests/bench/bench.py
load_module %(echo)s;
worker_processes %(workers)d;
error_log %(d)s/error.log warn;
pid %(d)s/nginx.pid;
events { worker_connections %(wc)d; }
http {
    access_log off;
    default_type text/html;
    charset utf-8;
    sendfile on;
    open_file_cache max=16 inactive=60s;
    open_file_cache_valid 60s;
    keepalive_timeout 5s;
    keepalive_requests 1000000;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    server {
        listen %(host)s:%(port)d backlog=4096;
        root %(static)s;
        error_page 404 /404.html;
        location = / { try_files /hello.html =404; }
        location = /sleep { echo_sleep %(sleep)s; echo_exec /hello.html; }
        location = /hello.html { internal; }
        location = /404.html { internal; }
        location / { return 404; }
    }
}
''' % {'echo': ECHO_MODULE, 'workers': self.workers or 1, 'd': d,
       'wc': max(1024, hard - 200), 'host': HOST, 'port': self.port,
       'static': self.static, 'sleep': '%g' % self.sleep_s})
        return ['nginx', '-p', d + '/', '-c', conf, '-g', 'daemon off;']


class TokioAnchor(Server):
    """tests/bench/tokio: the same server written the ordinary tokio way
    (workers = runtime threads; 1 runs a current-thread runtime)."""
    name = 'tokio'
    stop_signal = signal.SIGTERM

    def __init__(self, binary, *args, **kw):
        self.binary = binary
        super().__init__(*args, **kw)

    def command(self):
        return [self.binary, str(self.port), self.static,
                str(round(self.sleep_s * 1000)), str(self.workers or 1)]


def build_tokio(cfg):
    """The tokio anchor's binary, built offline from tests/bench/tokio with
    Debian's vendored crates; returns (path or None, note)."""
    want = cfg['tokio']
    if want in ('no', 'none', 'off', '0'):
        return None, 'tokio anchor skipped (BENCH_TOKIO=%s)' % want
    if want:
        if not os.access(want, os.X_OK):
            raise BenchError('BENCH_TOKIO=%s is not an executable' % want)
        return want, 'tokio anchor: %s' % want
    src = os.path.join(SRCDIR, 'tests', 'bench', 'tokio')
    cargo = shutil.which('cargo') or os.path.expanduser('~/.cargo/bin/cargo')
    if not os.access(cargo, os.X_OK):
        return None, 'tokio anchor not built: no cargo (apt-get install cargo)'
    if not (os.path.isdir(TOKIO_REGISTRY) and
            any(d.startswith('tokio-1.') for d in os.listdir(TOKIO_REGISTRY))):
        return None, ('tokio anchor not built: no tokio crate in %s '
                      '(apt-get install librust-tokio-dev)' % TOKIO_REGISTRY)
    # Built in a copy: cargo writes Cargo.lock next to Cargo.toml, and the
    # source tree may be read-only (distcheck). Files copied only when they
    # changed, so a second run rebuilds nothing.
    dst = cfg['tokio_build']
    for rel in ('Cargo.toml', os.path.join('src', 'main.rs')):
        a, b = os.path.join(src, rel), os.path.join(dst, rel)
        os.makedirs(os.path.dirname(b), exist_ok=True)
        with open(a, 'rb') as f:
            new = f.read()
        try:
            with open(b, 'rb') as f:
                same = f.read() == new
        except OSError:
            same = False
        if not same:
            with open(b, 'wb') as f:
                f.write(new)
    log('building the tokio anchor in %s (cargo --offline, crates from %s)'
        % (dst, TOKIO_REGISTRY))
    cmd = [cargo, 'build', '--release', '--offline', '--quiet',
           '--config', 'source.crates-io.replace-with="debian"',
           '--config', 'source.debian.directory="%s"' % TOKIO_REGISTRY]
    try:
        r = run(cmd, timeout=900, cwd=dst)
    except subprocess.TimeoutExpired:
        return None, 'tokio anchor not built: cargo build took over 900 s'
    binary = os.path.join(dst, 'target', 'release', 'hellod-tokio-anchor')
    if r.returncode != 0 or not os.access(binary, os.X_OK):
        with open(os.path.join(dst, 'build.log'), 'w') as f:
            f.write(r.stdout)
        lines = r.stdout.strip().splitlines() or ['(no output)']
        first = ([l for l in lines if l.startswith('error')] or lines[-1:])[0]
        return None, ('tokio anchor not built: cargo build failed (%s; all of it in %s)'
                      % (first.strip(), os.path.join(dst, 'build.log')))
    with open(os.path.join(dst, 'Cargo.lock')) as f:
        m = re.search(r'name = "tokio"\nversion = "([^"]+)"', f.read())
    return binary, 'tokio anchor: %s (tokio %s, %s)' % (
        binary, m.group(1) if m else '?', run([cargo, '--version'], timeout=60).stdout.strip())


def verify(srv, sleep_too):
    """Same answers as hellod's: 200 + hello.html, 404 + 404.html."""
    hello = open(os.path.join(srv.static, 'hello.html'), 'rb').read()
    notfound = open(os.path.join(srv.static, '404.html'), 'rb').read()
    checks = [('/', 200, hello), ('/nope', 404, notfound), ('/hello.html', 404, notfound)]
    if sleep_too:
        checks.append(('/sleep', 200, hello))
    for path, want, body in checks:
        t = time.monotonic()
        status, got = http_get(srv.port, path, timeout=srv.sleep_s + 10)
        dt = time.monotonic() - t
        if status != want or got != body:
            raise BenchError('%s: GET %s gave %d with %d body bytes, want %d with the %d bytes '
                             'of the page' % (srv.name, path, status, len(got), want, len(body)))
        if path == '/sleep' and dt < srv.sleep_s * 0.9:
            raise BenchError('%s: GET /sleep answered after %.2fs, sleep is %gs'
                             % (srv.name, dt, srv.sleep_s))


# ------------------------------------------------------------ load

def parse_wrk(out):
    m = re.search(r'Requests/sec:\s+([\d.]+)', out)
    if not m:
        raise BenchError('cannot parse wrk output:\n' + out)
    rps = float(m.group(1))
    p99 = None
    m = re.search(r'^\s+99%\s+([\d.]+)(us|ms|s)\s*$', out, re.M)
    if m:
        p99 = float(m.group(1)) * {'us': 0.001, 'ms': 1.0, 's': 1000.0}[m.group(2)]
    errs = 0
    m = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', out)
    if m:
        errs += sum(int(x) for x in m.groups())
    m = re.search(r'Non-2xx or 3xx responses: (\d+)', out)
    if m:
        errs += int(m.group(1))
    return rps, p99, errs


def wrk(srv, conns, duration, close, pin, threads):
    cmd = ['wrk', '-t%d' % threads, '-c%d' % conns, '-d%ds' % duration, '--latency']
    if close:
        cmd += ['-H', 'Connection: close']
    cmd.append('http://%s:%d/' % (HOST, srv.port))
    if pin:
        cmd = ['taskset', '-c', '1'] + cmd
    pids = srv.pids()
    cpu0 = cpu_ms(pids)
    r = run(cmd, timeout=duration + 30, preexec_fn=_max_nofile)
    cpu1 = cpu_ms(pids)
    if r.returncode != 0:
        raise BenchError('wrk failed (%d):\n%s' % (r.returncode, r.stdout))
    rps, p99, errs = parse_wrk(r.stdout)
    # The server's own CPU time per request: when the load generator, not
    # the server, is what limits req/s (connection per request on two
    # CPUs), this is the figure that tells the servers apart.
    m = re.search(r'(\d+) requests in', r.stdout)
    total = int(m.group(1)) if m else 0
    return {'rps': rps, 'p99_ms': p99, 'errors': errs,
            'cpu_us_per_req': (cpu1 - cpu0) * 1000.0 / total if total else None}


def sleep_run(srv, client, n):
    """N concurrent /sleep against srv (fresh); returns a dict of figures."""
    pids = srv.pids()
    rss_idle = rss_kib(pids)
    anon_idle = rss_kib(pids, 'RssAnon:')
    pd_idle = private_dirty_kib(pids)
    cpu0 = cpu_ms(pids)
    ovf0 = listen_overflows()
    p = start([client, '-p', str(srv.port), '-n', str(n), '-t', '%g' % (srv.sleep_s + 20)],
              stdout=subprocess.PIPE, text=True)
    out = []
    rss_busy = pd_busy = None
    deadline = time.monotonic() + srv.sleep_s + 40
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 1.0)
            if not ready:
                continue
            line = p.stdout.readline()
            if not line:
                break
            line = line.strip()
            if line == 'sent' and rss_busy is None:
                # All requests written: sample while they all sleep.
                time.sleep(min(0.3, srv.sleep_s / 4))
                busy_pids = srv.pids()
                rss_busy = rss_kib(busy_pids)
                pd_busy = private_dirty_kib(busy_pids)
            else:
                out.append(line)
        p.wait(10)
    finally:
        stop(p)
    cpu1 = cpu_ms(srv.pids())
    ovf1 = listen_overflows()
    res = dict(l.split('=', 1) for l in out if '=' in l)
    if 'ok200' not in res:
        raise BenchError('sleepclient gave no result: %r' % out)
    row = {'n': n, 'ok200': int(res['ok200']), 'other': int(res['other']),
           'errors': int(res['errors']), 'connect_s': float(res['connect_s']),
           'sent_s': float(res['sent_s']), 'wall_s': float(res['wall_s']),
           'over_sleep_s': float(res['wall_s']) - srv.sleep_s,
           'probe_ms': float(res['probe_ms']), 'overflows': ovf1 - ovf0,
           'rss_idle_kib': rss_idle, 'rss_busy_kib': rss_busy or 0,
           'anon_idle_kib': anon_idle,
           'pd_idle_kib': pd_idle, 'pd_busy_kib': pd_busy or 0,
           'cpu_ms': cpu1 - cpu0}
    row['bytes_per_conn'] = (row['rss_busy_kib'] - rss_idle) * 1024.0 / n
    row['pd_bytes_per_conn'] = (row['pd_busy_kib'] - pd_idle) * 1024.0 / n
    row['cpu_ms_per_10k'] = row['cpu_ms'] * 10000.0 / n
    return row


def wrk_rep(srv, cfg, mode, pin, threads, config, rep, width):
    """One repetition of wrk against srv (mode 'keepalive' or 'close'),
    repeated while steal is high (measured()); returns its rows, labelled,
    and logs the kept one (names padded to width)."""
    rows = measured(lambda: wrk(srv, cfg['conns'], cfg['duration'],
                                mode == 'close', pin, threads), cfg)
    for r in rows:
        r.update(server=srv.name, config=config, workers=srv.workers or 1,
                 mode=mode, rep=rep)
    k = [r for r in rows if r['kept']][0]
    log('%-*s %-*s %-9s rep %d: %8.0f req/s  p99 %s ms  CPU %s us/req  '
        'steal %.1f%%  errors %d'
        % (width, srv.name, width, config, mode, rep, k['rps'], fmt(k['p99_ms']),
           fmt(k['cpu_us_per_req']), k['steal_pct'], k['errors']))
    return rows


def measured(fn, cfg):
    """Run fn() until steal <= BENCH_STEAL_MAX (bounded); all attempts, best marked kept."""
    attempts = []
    for attempt in range(1 + cfg['retries']):
        a = cpu_stat()
        row = fn()
        row['steal_pct'] = round(steal_pct(a, cpu_stat()), 2)
        row['attempt'] = attempt + 1
        row['kept'] = 0
        attempts.append(row)
        if row['steal_pct'] <= cfg['steal_max']:
            break
        log('  steal %.1f%% > %g%%: repeating' % (row['steal_pct'], cfg['steal_max']))
    min(attempts, key=lambda r: r['steal_pct'])['kept'] = 1
    return attempts


# ------------------------------------------------------------ output

WRK_FIELDS = ['server', 'config', 'workers', 'mode', 'rep', 'attempt', 'kept',
              'steal_pct', 'rps', 'p99_ms', 'errors', 'cpu_us_per_req']
SLEEP_FIELDS = ['server', 'workers', 'n', 'rep', 'attempt', 'kept', 'steal_pct',
                'ok200', 'other', 'errors', 'connect_s', 'sent_s', 'wall_s',
                'over_sleep_s', 'overflows', 'probe_ms', 'rss_idle_kib',
                'rss_busy_kib', 'anon_idle_kib', 'bytes_per_conn', 'pd_idle_kib',
                'pd_busy_kib', 'pd_bytes_per_conn', 'cpu_ms', 'cpu_ms_per_10k']


def write_csv(path, fields, rows):
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction='ignore')
        w.writeheader()
        for r in rows:
            w.writerow(r)


def median(rows, key):
    v = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(v) if v else None


def summarize(wrk_rows, sleep_rows, servers):
    """[(figure, unit, {server: median})] from the kept rows."""
    out = []
    wrk_kept = [r for r in wrk_rows if r['kept']]
    for config, label in (('pinned', '1 worker pinned'),
                          ('all', 'all workers')):
        for mode, mlabel in (('keepalive', 'keep-alive GET /'),
                             ('close', 'conn/request GET /')):
            for key, unit in (('rps', 'req/s'), ('p99_ms', 'p99 ms'),
                              ('cpu_us_per_req', 'server CPU us/req')):
                vals = {}
                for s in servers:
                    rs = [r for r in wrk_kept if r['server'] == s and
                          r['config'] == config and r['mode'] == mode]
                    if rs:
                        vals[s] = median(rs, key)
                if vals:
                    out.append(('%s, %s' % (mlabel, label), unit, vals))
    # The target for all workers is against nginx with one worker.
    if len(servers) == 2:
        a = [r for r in wrk_kept if r['server'] == servers[0] and
             r['config'] == 'all' and r['mode'] == 'keepalive']
        b = [r for r in wrk_kept if r['server'] == servers[1] and
             r['config'] == 'pinned' and r['mode'] == 'keepalive']
        if a and b:
            out.append(('keep-alive GET /, all vs 1 pinned', 'req/s',
                        {servers[0]: median(a, 'rps'), servers[1]: median(b, 'rps')}))
    sleep_kept = [r for r in sleep_rows if r['kept']]
    for n in sorted({r['n'] for r in sleep_kept}):
        for key, unit in (('ok200', '200s of %d' % n), ('connect_s', 'client connect s'),
                          ('wall_s', 'wall s'),
                          ('over_sleep_s', 's over sleep'), ('overflows', 'listen overflows'),
                          ('probe_ms', 'GET / ms meanwhile'),
                          ('rss_idle_kib', 'RSS idle KiB'),
                          ('anon_idle_kib', 'private RSS idle KiB'),
                          ('rss_busy_kib', 'RSS busy KiB'),
                          ('bytes_per_conn', 'B/sleeping conn'),
                          ('pd_idle_kib', 'priv.dirty idle KiB'),
                          ('pd_busy_kib', 'priv.dirty busy KiB'),
                          ('pd_bytes_per_conn', 'B/conn priv.dirty'),
                          ('cpu_ms_per_10k', 'CPU ms/10k sleeps')):
            vals = {}
            for s in servers:
                rs = [r for r in sleep_kept if r['server'] == s and r['n'] == n]
                if rs:
                    vals[s] = median(rs, key)
            if vals:
                out.append(('/sleep x %d' % n, unit, vals))
    return out


def fmt(v):
    if v is None:
        return '-'
    if isinstance(v, float) and abs(v) < 100:
        return '%.3g' % v
    return '%.0f' % v


def table(summary, servers):
    lines = []
    head = '%-34s %-19s' % ('figure (median)', 'unit') + ''.join('%12s' % s for s in servers)
    if len(servers) == 2:
        head += '%14s' % ('%s/%s' % tuple(servers))
    lines.append(head)
    lines.append('-' * len(head))
    for fig, unit, vals in summary:
        line = '%-34s %-19s' % (fig, unit) + ''.join('%12s' % fmt(vals.get(s)) for s in servers)
        if len(servers) == 2:
            a, b = vals.get(servers[0]), vals.get(servers[1])
            line += '%14s' % ('%.2f' % (a / b) if a is not None and b else '-')
        lines.append(line)
    return '\n'.join(lines)


def write_summary_csv(path, summary, servers):
    rows = []
    for fig, unit, vals in summary:
        r = {'figure': fig, 'unit': unit}
        for s in servers:
            r[s] = vals.get(s)
        if len(servers) == 2 and vals.get(servers[0]) is not None and vals.get(servers[1]):
            r['ratio'] = round(vals[servers[0]] / vals[servers[1]], 3)
        rows.append(r)
    write_csv(path, ['figure', 'unit'] + servers + ['ratio'], rows)


def plot(outdir, sleep_rows, servers):
    """sleep.dat + sleep.gp, and sleep.png if gnuplot is there; returns the png or None."""
    kept = [r for r in sleep_rows if r['kept']]
    ns = sorted({r['n'] for r in kept})
    if not ns:
        return None
    dat = os.path.join(outdir, 'sleep.dat')
    with open(dat, 'w') as f:
        f.write('# N' + ''.join(' %s_rss_MiB %s_wall_s' % (s, s) for s in servers) + '\n')
        for n in ns:
            f.write('%d' % n)
            for s in servers:
                rs = [r for r in kept if r['server'] == s and r['n'] == n]
                if rs:
                    f.write(' %.3f %.4f' % (median(rs, 'rss_busy_kib') / 1024.0,
                                            median(rs, 'wall_s')))
                else:
                    f.write(' NaN NaN')
            f.write('\n')
    png = os.path.join(outdir, 'sleep.png')
    gp = os.path.join(outdir, 'sleep.gp')
    rss = ', '.join("'%s' using 1:%d with linespoints title '%s'" % (dat, 2 + 2 * i, s)
                    for i, s in enumerate(servers))
    wall = ', '.join("'%s' using 1:%d with linespoints title '%s'" % (dat, 3 + 2 * i, s)
                     for i, s in enumerate(servers))
    with open(gp, 'w') as f:
        f.write('''set terminal pngcairo size 1100,450
set output '%s'
set datafile missing 'NaN'
set key top left
set grid
set multiplot layout 1,2 title 'N concurrent GET /sleep'
set xtics 5000
set xlabel 'sleeping connections N'
set ylabel 'server RSS while all sleep (MiB)'
plot %s
set ylabel 'first connect -> last response (s)'
plot %s
unset multiplot
''' % (png, rss, wall))
    if not shutil.which('gnuplot'):
        log('gnuplot not found: no chart (%s is the script)' % gp)
        return None
    r = run(['gnuplot', gp], timeout=60)
    if r.returncode != 0:
        raise BenchError('gnuplot failed:\n' + r.stdout)
    return png


def report(outdir, wrk_rows, sleep_rows, servers, notes=()):
    """CSV files, chart and the table; returns the table text."""
    os.makedirs(outdir, exist_ok=True)
    write_csv(os.path.join(outdir, 'wrk.csv'), WRK_FIELDS, wrk_rows)
    write_csv(os.path.join(outdir, 'sleep.csv'), SLEEP_FIELDS, sleep_rows)
    summary = summarize(wrk_rows, sleep_rows, servers)
    write_summary_csv(os.path.join(outdir, 'summary.csv'), summary, servers)
    png = plot(outdir, sleep_rows, servers)
    text = table(summary, servers)
    print('\n' + text)
    for n in notes:
        print('note: ' + n)
    print('raw results: %s/{wrk,sleep,summary}.csv%s' %
          (outdir, ', chart: ' + png if png else ''))
    return text


# ------------------------------------------------------------ before/after

# The targets, as (figure key, reference column or None, op, value).
# A reference of None is an absolute bound on hellod's own median.
KIB_PER_SLEEPER_MAX = 1536


def rotated(seq, k):
    """seq started at its k-th element: each repetition another one goes first."""
    k %= len(seq) or 1
    return list(seq[k:]) + list(seq[:k])


def by_rep(rows, server, key, **match):
    """{rep: value} of the kept rows of server matching **match."""
    out = {}
    for r in rows:
        if r['kept'] and r['server'] == server and r.get(key) is not None and \
                all(r.get(k) == v for k, v in match.items()):
            out[r['rep']] = r[key]
    return out


def spread(values):
    """(median, min, max) or None."""
    v = list(values)
    return (statistics.median(v), min(v), max(v)) if v else None


def ratios(a, b):
    """Per-repetition ratios a/b of two {rep: value} (same pass only)."""
    return [a[k] / b[k] for k in sorted(a) if k in b and b[k]]


def compare_summary(wrk_rows, sleep_rows, cols, ref_all, ref_cpu, ns):
    """The comparison's figures: a list of dicts with the per-repetition
    values of each column, hellod/before and hellod/reference ratios and
    the target."""
    specs = [('keep-alive, per core', 'req/s', 'rps', wrk_rows, 'rps',
              {'config': 'percore', 'mode': 'keepalive'}, ('nginx-1', '>=', 1.5)),
             ('keep-alive, all cores', 'req/s', 'rps', wrk_rows, 'rps',
              {'config': 'allcores', 'mode': 'keepalive'},
              (ref_all, '>=', 1.0 if ref_all == 'tokio' else 1.5)),
             ('Connection: close, per core', 'req/s', 'rps', wrk_rows, 'rps',
              {'config': 'percore', 'mode': 'close'}, ('nginx-1', '>=', 1.1))]
    for n in ns:
        specs += [('/sleep x %d: 200s' % n, 'count', 'int', sleep_rows, 'ok200', {'n': n},
                   ('all', '==', n)),
                  ('/sleep x %d: wall' % n, 's', 'f2', sleep_rows, 'wall_s', {'n': n}, None),
                  ('private dirty, idle', 'KiB', 'int', sleep_rows, 'pd_idle_kib', {'n': n},
                   None),
                  ('private dirty, %d sleeping' % n, 'KiB', 'int', sleep_rows, 'pd_busy_kib',
                   {'n': n}, None),
                  ('per sleeping connection', 'B', 'int', sleep_rows, 'pd_bytes_per_conn',
                   {'n': n}, (None, '<=', KIB_PER_SLEEPER_MAX)),
                  ('CPU per 10,000 sleeps', 'ms', 'int', sleep_rows, 'cpu_ms_per_10k',
                   {'n': n}, (ref_cpu, '<=', 0.8))]
    out = []
    for label, unit, kind, rows, key, match, target in specs:
        vals = {c: by_rep(rows, c, key, **match) for c in cols}
        if not any(vals.values()):
            continue
        f = {'figure': label, 'unit': unit, 'kind': kind, 'vals': vals,
             'before': [] if key == 'ok200' else ratios(vals.get('hellod', {}),
                                                         vals.get('before', {})),
             'target': None, 'against': [], 'met': None}
        if target:
            ref, op, x = target
            mine = list(vals.get('hellod', {}).values())
            if ref == 'all':
                f['target'] = 'all %d' % x
                f['met'] = bool(mine) and all(v == x for v in mine)
            elif ref is None:
                f['target'] = '%s %d %s' % (op, x, unit)
                if mine:
                    f['met'] = statistics.median(mine) <= x
            else:
                f['target'] = '%s %.1fx %s' % (op, x, ref)
                f['against'] = ratios(vals.get('hellod', {}), vals.get(ref, {}))
                if f['against']:
                    m = statistics.median(f['against'])
                    f['met'] = m >= x if op == '>=' else m <= x
        out.append(f)
    return out


def num(v, kind):
    if v is None:
        return '-'
    if kind == 'rps':
        return '%.1fk' % (v / 1000.0)
    if kind == 'int':
        return '%d' % round(v)
    return '%.2f' % v


def cell(values, kind):
    """(median, 'min-max') of values formatted; ('-', '') for none, no
    min-max for one value or equal ones."""
    s = spread(values)
    if s is None:
        return '-', ''
    med, lo, hi = (num(v, kind) for v in s)
    if kind == 'rps':
        lo = lo[:-1]            # 120.1-140.2k
    return med, ('' if len(values) < 2 or s[1] == s[2] else '%s-%s' % (lo, hi))


def verdict(f):
    return {True: 'met', False: 'short', None: ''}[f['met']]


def compare_text(figs, cols):
    """The table for the terminal: medians, and under each its min-max."""
    w = 13
    head = ('%-29s %-6s' % ('figure (median, min-max)', 'unit') +
            ''.join('%*s' % (w, c) for c in cols) +
            '%*s  %-16s%*s  %s' % (w + 3, 'hellod/before', 'target', w, 'hellod/ref', 'verdict'))
    lines = [head, '-' * len(head)]
    for f in figs:
        top, bottom = '%-29s %-6s' % (f['figure'], f['unit']), '%-36s' % ''
        for c in cols:
            a, b = cell(list(f['vals'].get(c, {}).values()), f['kind'])
            top += '%*s' % (w, a)
            bottom += '%*s' % (w, b)
        a, b = cell(f['before'], 'ratio')
        top += '%*s' % (w + 3, a)
        bottom += '%*s' % (w + 3, b)
        a, b = cell(f['against'], 'ratio')
        top += '  %-16s%*s  %s' % (f['target'] or '', w, a if f['against'] else '', verdict(f))
        bottom += '  %-16s%*s' % ('', w, b if f['against'] else '')
        lines.append(top.rstrip())
        if bottom.strip():
            lines.append(bottom.rstrip())
    return '\n'.join(lines)


def compare_markdown(figs, cols):
    def md(values, kind):
        if not values:
            return '' if kind == 'ratio' else '-'
        a, b = cell(values, kind)
        return '%s (%s)' % (a, b.replace('-', '–', 1)) if b else a
    lines = ['| figure | unit | ' + ' | '.join(cols) + ' | hellod/before | target | '
             'hellod/ref | verdict |',
             '|---|---|' + '---:|' * len(cols) + '---:|---|---:|---|']
    for f in figs:
        lines.append('| %s | %s | %s | %s | %s | %s | %s |' % (
            f['figure'], f['unit'],
            ' | '.join(md(list(f['vals'].get(c, {}).values()), f['kind']) for c in cols),
            md(f['before'], 'ratio'), f['target'] or '', md(f['against'], 'ratio'),
            verdict(f)))
    return '\n'.join(lines) + '\n'


def compare_csv(path, figs, cols):
    fields = ['figure', 'unit']
    for c in cols + ['hellod/before', 'hellod/ref']:
        fields += ['%s_median' % c, '%s_min' % c, '%s_max' % c]
    fields += ['target', 'verdict']
    rows = []
    for f in figs:
        r = {'figure': f['figure'], 'unit': f['unit'], 'target': f['target'] or '',
             'verdict': verdict(f)}
        for c, values in ([(c, list(f['vals'].get(c, {}).values())) for c in cols] +
                          [('hellod/before', f['before']), ('hellod/ref', f['against'])]):
            s = spread(values)
            if s:
                for k, v in zip(('median', 'min', 'max'), s):
                    r['%s_%s' % (c, k)] = round(v, 4)
        rows.append(r)
    write_csv(path, fields, rows)


def compare_report(outdir, wrk_rows, sleep_rows, cols, ref_all, ref_cpu, ns, notes):
    os.makedirs(outdir, exist_ok=True)
    write_csv(os.path.join(outdir, 'wrk.csv'), WRK_FIELDS, wrk_rows)
    write_csv(os.path.join(outdir, 'sleep.csv'), SLEEP_FIELDS, sleep_rows)
    figs = compare_summary(wrk_rows, sleep_rows, cols, ref_all, ref_cpu, ns)
    compare_csv(os.path.join(outdir, 'compare.csv'), figs, cols)
    with open(os.path.join(outdir, 'compare.md'), 'w') as f:
        f.write(compare_markdown(figs, cols))
        f.write(''.join('\n- ' + n for n in notes) + '\n')
    text = compare_text(figs, cols)
    print('\n' + text)
    for n in notes:
        print('note: ' + n)
    print('raw results: %s/{wrk,sleep}.csv, the table: %s/compare.{md,csv}' % (outdir, outdir))
    return text


def compare(cfg, static):
    """BENCH_BEFORE: the binary from before, the new hellod, nginx with 1 and
    with all workers and the tokio anchor, alternating, in one run."""
    ncpu = os.cpu_count() or 1
    nall = max(2, ncpu)
    nginx_all = 'nginx-%d' % nall
    pin = bool(ncpu >= 2 and shutil.which('taskset'))
    notes = []
    for path in (cfg['before'], cfg['hellod']):
        if not os.access(path, os.X_OK):
            raise BenchError('%s is not an executable' % path)
        if not hellod_has_workers(path):
            raise BenchError('%s -h lists no `workers` key: the comparison needs it' % path)
    tokio, note = (None, 'tokio anchor not asked for (BENCH_SERVERS)')
    cols = cfg['servers'] or ['before', 'hellod', 'nginx-1', nginx_all, 'tokio']
    unknown = set(cols) - {'before', 'hellod', 'nginx-1', nginx_all, 'tokio'}
    if unknown:
        raise BenchError('BENCH_SERVERS: with BENCH_BEFORE, a subset of before, hellod, '
                         'nginx-1, %s, tokio (not %s)' % (nginx_all, ', '.join(sorted(unknown))))
    if 'tokio' in cols:
        tokio, note = build_tokio(cfg)
        if tokio is None:
            cols.remove('tokio')
    notes.append(note)
    ref_all = 'tokio' if 'tokio' in cols else nginx_all
    if ref_all != 'tokio':
        notes.append('no tokio column: the all-cores target is >= 1.5x %s instead' % nginx_all)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ns = [n for n in cfg['ns'] if n <= hard - 500]
    if ns != cfg['ns']:
        notes.append('N above the descriptor limit (%d) dropped: %s'
                     % (hard, [n for n in cfg['ns'] if n not in ns]))
    log('before/after: %s; reps %d, wrk %ds x %d conns, sleep %gs, N %s'
        % (', '.join(cols), cfg['reps'], cfg['duration'], cfg['conns'], cfg['sleep_s'], ns))

    def make(name, workers, pinned):
        args = (pinned, cfg['sleep_s'], static)
        if name == 'before':
            return Hellod(cfg['before'], workers, *args, name='before')
        if name == 'hellod':
            return Hellod(cfg['hellod'], workers, *args)
        if name == 'nginx-1':
            return Nginx(1, *args, name='nginx-1')
        if name == nginx_all:
            return Nginx(nall, *args, name=nginx_all)
        return TokioAnchor(tokio, workers, *args)

    wrk_rows, sleep_rows = [], []
    # Per core: one worker (tokio: a current-thread runtime) on CPU 0, wrk -t1
    # on CPU 1; all cores: nall workers or threads, wrk with one thread per CPU.
    phases = [('percore', 1, pin, 1, ('keepalive', 'close'),
               [c for c in cols if c != nginx_all]),
              ('allcores', nall, False, ncpu, ('keepalive',),
               [c for c in cols if c != 'nginx-1'])]
    for phase, workers, pinned, threads, modes, names in (phases if 'wrk' in cfg['figures']
                                                          else ()):
        if not names:
            continue
        live = []
        try:
            for name in names:
                live.append(make(name, workers, pinned).start())
            for srv in live:
                verify(srv, sleep_too=(phase == 'allcores'))
            for rep in range(1, cfg['reps'] + 1):
                for mode in modes:
                    for srv in rotated(live, rep - 1):
                        wrk_rows.extend(wrk_rep(srv, cfg, mode, pinned, threads, phase,
                                                rep, 8))
        finally:
            for srv in live:
                srv.stop()

    # N concurrent /sleep: a fresh, unpinned server per run (nginx-1 and
    # nginx-all as named, the others with nall workers or threads).
    for rep in range(1, cfg['reps'] + 1 if 'sleep' in cfg['figures'] else 1):
        for n in ns:
            for name in rotated(cols, rep - 1):
                def one():
                    srv = make(name, nall, False).start()
                    try:
                        verify(srv, sleep_too=False)
                        time.sleep(0.2)
                        return sleep_run(srv, cfg['client'], n)
                    finally:
                        srv.stop()
                rows = measured(one, cfg)
                for r in rows:
                    r.update(server=name, rep=rep,
                             workers={'nginx-1': 1}.get(name, nall))
                sleep_rows.extend(rows)
                k = [r for r in rows if r['kept']][0]
                log('%-8s sleep N=%-5d rep %d: %d x 200, wall %.2fs, overflows %d, '
                    'private dirty %d -> %d KiB (%.0f B/conn), CPU %.0f ms, steal %.1f%%'
                    % (name, n, rep, k['ok200'], k['wall_s'], k['overflows'],
                       k['pd_idle_kib'], k['pd_busy_kib'], k['pd_bytes_per_conn'],
                       k['cpu_ms'], k['steal_pct']))

    kept = [r for r in wrk_rows + sleep_rows if r['kept']]
    if kept:
        st = [r['steal_pct'] for r in kept]
        notes.append('CPU steal over the %d kept runs: median %.1f%%, max %.1f%%; %d run(s) '
                     'repeated for steal above %g%%'
                     % (len(st), statistics.median(st), max(st),
                        sum(1 for r in wrk_rows + sleep_rows if r['attempt'] > 1),
                        cfg['steal_max']))
    notes += ['before = %s, hellod = %s' % (cfg['before'], cfg['hellod']),
              'per core: 1 worker (tokio: current-thread runtime) pinned to CPU 0, wrk -t1 on '
              'CPU 1%s; all cores: %d workers/threads unpinned, wrk -t%d; %d connections, '
              '%d s per wrk run' % ('' if pin else ' (NOT pinned: no second CPU or taskset)',
                                    nall, ncpu, cfg['conns'], cfg['duration']),
              '/sleep: a fresh unpinned server per run (%d workers; nginx-1 one), sleep = %gs, '
              'memory = Private_Dirty summed over the server\'s processes '
              '(/proc/PID/smaps_rollup), per connection = (with N sleeping - idle) / N'
              % (nall, cfg['sleep_s']),
              'ratios are taken per repetition (same pass), then their median and min-max; '
              '%d repetition(s), servers alternating, each repetition in another order'
              % cfg['reps']]
    compare_report(cfg['results'], wrk_rows, sleep_rows, cols, ref_all, nginx_all, ns, notes)


# ------------------------------------------------------------ main

def config():
    e = os.environ.get
    quick = e('BENCH_QUICK', '') not in ('', '0', 'no')
    before = e('BENCH_BEFORE') or None
    return {
        'quick': quick,
        'reps': int(e('BENCH_REPS') or (1 if quick else 3)),
        'duration': int(e('BENCH_DURATION') or (3 if quick else 10)),
        'sleep_s': float((e('BENCH_SLEEP') or '2').rstrip('s')),
        'ns': [int(x) for x in (e('BENCH_N') or ('1000' if quick else '10000' if before
                                                 else '1000,10000,19000')).split(',')],
        'conns': int(e('BENCH_CONNS') or 100),
        'servers': [s for s in (e('BENCH_SERVERS') or ('' if before else 'hellod,nginx'))
                    .split(',') if s],
        'steal_max': float(e('BENCH_STEAL_MAX') or 5),
        'retries': int(e('BENCH_RETRIES') or 2),
        'no_install': e('BENCH_NO_INSTALL', '') not in ('', '0', 'no'),
        'hellod': e('HELLOD') or os.path.join(os.getcwd(), 'server', 'hellod'),
        'baseline': e('BENCH_HELLOD_BASELINE') or None,
        'before': before,
        'tokio': e('BENCH_TOKIO') or None,
        'tokio_build': e('BENCH_TOKIO_BUILD') or os.path.join(os.getcwd(), 'tests', 'bench',
                                                              'tokio-build'),
        'figures': set((e('BENCH_FIGURES') or 'wrk,sleep,metrics').split(',')),
        'client': e('BENCH_SLEEPCLIENT') or os.path.join(os.getcwd(), 'tests', 'bench', 'sleepclient'),
        'results': e('BENCH_RESULTS') or os.path.join(os.getcwd(), 'tests', 'bench', 'results'),
    }


def install(cfg):
    # gnuplot only draws the chart of the N sweep: without it (and no way to
    # install it), or with BENCH_BEFORE, which draws none, run without it.
    wanted = ('nginx', 'wrk') if cfg['before'] else ('nginx', 'wrk', 'gnuplot')
    missing = [c for c in wanted if not shutil.which(c)]
    if not os.path.exists(ECHO_MODULE):
        missing.append('echo module')
    if missing == ['gnuplot'] and (os.geteuid() != 0 or cfg['no_install']):
        log('gnuplot not found: no chart')
        return
    if not missing:
        return
    if os.geteuid() != 0 or cfg['no_install']:
        raise BenchError('missing %s: run as root, or apt-get install -y %s'
                         % (', '.join(missing), ' '.join(APT_PACKAGES)))
    log('installing %s (missing: %s)' % (' '.join(APT_PACKAGES), ', '.join(missing)))
    cmd = ['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'install', '-y'] + APT_PACKAGES
    r = run(cmd, timeout=900, env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
    if r.returncode != 0:
        r = run(['apt-get', 'update'], timeout=600)
        r = run(cmd, timeout=900, env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
    if r.returncode != 0:
        raise BenchError('apt-get install failed:\n' + r.stdout[-3000:])


def make_server(name, cfg, workers, pin, static):
    if name == 'hellod':
        return Hellod(cfg['hellod'], workers if cfg['has_workers'] else None, pin,
                      cfg['sleep_s'], static)
    return Nginx(workers if cfg['has_workers'] else 1, pin, cfg['sleep_s'], static)


def metrics_cost(cfg, static, pin):
    """Figure 6: keep-alive req/s and CPU per request of hellod as is, with
    metrics scraped at 1 Hz, and the baseline binary if given; returns the
    rows and note lines."""
    kinds = [('hellod', lambda: Hellod(cfg['hellod'], 1, pin, cfg['sleep_s'], static)),
             ('hellod+metrics', lambda: HellodMetrics(cfg['hellod'], 1, pin, cfg['sleep_s'],
                                                      static))]
    if cfg['baseline']:
        kinds.append(('hellod-baseline', lambda: HellodBaseline(cfg['baseline'], 1, pin,
                                                                cfg['sleep_s'], static)))
    rows = []
    live = [(name, mk().start()) for name, mk in kinds]
    try:
        for rep in range(1, cfg['reps'] + 1):
            for name, srv in live:
                got = measured(lambda: wrk(srv, cfg['conns'], cfg['duration'], False, pin, 1),
                               cfg)
                for r in got:
                    r.update(server=name, config='metrics', workers=1, mode='keepalive',
                             rep=rep)
                rows.extend(got)
                k = [r for r in got if r['kept']][0]
                log('%-15s metrics   rep %d: %8.0f req/s  CPU %s us/req  steal %.1f%%'
                    % (name, rep, k['rps'], fmt(k['cpu_us_per_req']), k['steal_pct']))
        scrapes = [srv.scrapes for name, srv in live if name == 'hellod+metrics'][0]
    finally:
        for _, srv in live:
            srv.stop()
    kept = [r for r in rows if r['kept']]
    med = {name: (median([r for r in kept if r['server'] == name], 'rps'),
                  median([r for r in kept if r['server'] == name], 'cpu_us_per_req'))
           for name, _ in kinds}
    notes = ['metrics cost (1 worker pinned, keep-alive GET /, medians of %d): hellod %.0f req/s '
             '%s us/req; with metrics_listen scraped every 1 s (%d scrapes) %.0f req/s %s us/req, '
             'ratio %.3f' % (cfg['reps'], med['hellod'][0], fmt(med['hellod'][1]), scrapes,
                             med['hellod+metrics'][0], fmt(med['hellod+metrics'][1]),
                             med['hellod+metrics'][0] / med['hellod'][0])]
    if cfg['baseline']:
        notes.append('metrics cost: baseline %s %.0f req/s %s us/req; hellod/baseline ratio %.3f'
                     % (cfg['baseline'], med['hellod-baseline'][0],
                        fmt(med['hellod-baseline'][1]),
                        med['hellod'][0] / med['hellod-baseline'][0]))
    return rows, notes


def main():
    cfg = config()
    servers = cfg['servers']
    install(cfg)
    if cfg['before']:
        compare(cfg, static_copy(tempdir('bench-pages-')))
        log('done')
        return
    ncpu = os.cpu_count() or 1
    cfg['has_workers'] = hellod_has_workers(cfg['hellod'])
    notes = []
    if cfg['has_workers']:
        notes.append('hellod has `workers`: workers = 1 pinned, workers = %d unpinned; '
                     'nginx worker_processes the same' % ncpu)
    else:
        notes.append('hellod -h lists no `workers` key: hellod runs as is (one event loop) '
                     'in every configuration, and nginx with worker_processes 1')
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ns = [n for n in cfg['ns'] if n <= hard - 500]
    if ns != cfg['ns']:
        notes.append('N above the descriptor limit (%d) dropped: %s'
                     % (hard, [n for n in cfg['ns'] if n not in ns]))
    if ncpu < 2:
        notes.append('one CPU: the pinned runs share it with wrk')
    log('%s; reps %d, wrk %ds x %d conns, sleep %gs, N %s, servers %s'
        % ('quick' if cfg['quick'] else 'full', cfg['reps'], cfg['duration'], cfg['conns'],
           cfg['sleep_s'], ns, ','.join(servers)))
    static = static_copy(tempdir('bench-pages-'))
    wrk_rows, sleep_rows = [], []
    pin_ok = ncpu >= 2 and shutil.which('taskset')

    # Figures 1 and 2: wrk, per core and all workers; servers started together, idle in turn.
    for config_name, workers, pin, threads in ((('pinned', 1, pin_ok, 1),
                                               ('all', ncpu, False, ncpu))
                                              if 'wrk' in cfg['figures'] else ()):
        live = [make_server(s, cfg, workers, pin, static).start() for s in servers]
        try:
            for srv in live:
                verify(srv, sleep_too=(config_name == 'all'))
            for rep in range(1, cfg['reps'] + 1):
                for mode in ('keepalive', 'close'):
                    for srv in live:
                        wrk_rows.extend(wrk_rep(srv, cfg, mode, pin, threads, config_name,
                                                rep, 6))
        finally:
            for srv in live:
                srv.stop()

    # Figure 6: what the metrics cost.
    if 'hellod' in servers and cfg['has_workers'] and 'metrics' in cfg['figures']:
        rows, more = metrics_cost(cfg, static, pin_ok)
        wrk_rows.extend(rows)
        notes.extend(more)

    # Figures 3-5: N concurrent /sleep, a fresh server (all workers) per run.
    for rep in range(1, cfg['reps'] + 1 if 'sleep' in cfg['figures'] else 1):
        for n in ns:
            for name in servers:
                def one():
                    srv = make_server(name, cfg, ncpu, False, static).start()
                    try:
                        verify(srv, sleep_too=False)
                        time.sleep(0.2)
                        return sleep_run(srv, cfg['client'], n)
                    finally:
                        srv.stop()
                rows = measured(one, cfg)
                for r in rows:
                    r.update(server=name, workers=ncpu if cfg['has_workers'] else 1, rep=rep)
                sleep_rows.extend(rows)
                k = [r for r in rows if r['kept']][0]
                log('%-6s sleep N=%-5d rep %d: %d x 200, wall %.2fs, overflows %d, GET / %.2f ms, '
                    'RSS %d -> %d KiB (%.0f B/conn), CPU %.0f ms, steal %.1f%%'
                    % (name, n, rep, k['ok200'], k['wall_s'], k['overflows'], k['probe_ms'],
                       k['rss_idle_kib'], k['rss_busy_kib'], k['bytes_per_conn'], k['cpu_ms'],
                       k['steal_pct']))

    notes.append('sleep = %gs; wall time counts from the first connect, so the bound is '
                 'sleep + 0.5 s' % cfg['sleep_s'])
    report(cfg['results'], wrk_rows, sleep_rows, servers, notes)
    log('done')


def _on_signal(signum, frame):
    raise KeyboardInterrupt()


if __name__ == '__main__':
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    rc = 0
    try:
        main()
    except KeyboardInterrupt:
        print('bench: interrupted', file=sys.stderr)
        rc = 130
    except (BenchError, subprocess.TimeoutExpired, OSError) as e:
        print('bench: %s' % e, file=sys.stderr)
        rc = 1
    finally:
        cleanup()
    sys.exit(rc)
