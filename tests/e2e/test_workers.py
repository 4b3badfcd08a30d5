#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Worker threads (`workers = N`): hellod runs 1 + N threads; connections
spread over the workers (the access line's `w=N` names the worker); 200
concurrent /sleep requests all finish in about one sleep; max_connections
caps all workers together; a SIGHUP reload reaches every worker; SIGTERM
drains every worker's /sleep requests; a stuck worker stops the watchdog
pings (the test freezes one worker thread with ptrace); socket activation
with two workers serves the passed socket from both, each through its own
dup() of it. The watchdog and socket activation cases skip without
the systemd integration (and the latter without systemd-socket-activate)."""

import ctypes
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_workers', script_timeout=150, case_timeout=40)
HELLO = ht.hello_bytes()
WORKER_RE = re.compile(r'\[access\] \S+ "[^"]*" \d+ \d+ [\d.]+ms w=(\d+)$', re.M)


def tasks(pid):
    """The thread ids of pid (Linux /proc)."""
    return sorted(int(t) for t in os.listdir('/proc/%d/task' % pid))


def fd_ino(pid, fd):
    """The inode of pid's descriptor fd, None if it was closed meanwhile (a
    connection's, say, between listing /proc/PID/fd and looking at it)."""
    try:
        return os.stat('/proc/%d/fd/%s' % (pid, fd)).st_ino
    except FileNotFoundError:
        return None


def ready_tasks(s):
    """The thread ids of server s once it has logged "ready" (the Server
    is up as soon as it listens, before the worker threads are started)."""
    check(s.wait_stderr(re.compile(r'ready: \d+ listener\(s\)'), 5),
          'no "ready:" line: %s' % s.stderr_tail())
    return tasks(s.pid)


def workers_seen(text):
    """{worker index: number of access lines} in a log text."""
    seen = {}
    for m in WORKER_RE.finditer(text):
        w = int(m.group(1))
        seen[w] = seen.get(w, 0) + 1
    return seen


def parallel(n, fn):
    """Run fn(i) in n threads at once; returns the results (or exceptions)."""
    results = [None] * n
    start = threading.Barrier(n)

    def one(i):
        try:
            start.wait(10)
            results[i] = fn(i)
        except BaseException as e:  # noqa: B902 -- reported by the caller
            results[i] = e
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def check_all_hello(results, what):
    bad = [r for r in results if isinstance(r, BaseException) or r.status != 200
           or r.body != HELLO]
    check(not bad, '%d of %d %s not answered with hello.html; first: %r'
          % (len(bad), len(results), what, bad[:1]))


@run.case
def thread_count():
    with ht.Server(options={'workers': '4'}) as s:
        t = ready_tasks(s)
        ht.note('workers = 4: %d threads' % len(t))
        check_eq(len(t), 5, 'threads of hellod with workers = 4 (main + 4)')
        check(s.wait_stderr(re.compile(r'ready: 1 listener\(s\), 4 worker\(s\)'), 2),
              'ready line does not say 4 worker(s): %s' % s.stderr_tail())
        check_eq(s.stderr_text().count('listening on'), 1,
                 '"listening on" lines (one per address, not per worker)')
    with ht.Server(options={'workers': '1'}) as s:
        check_eq(len(ready_tasks(s)), 2, 'threads of hellod with workers = 1')
    ncpu = os.cpu_count() or 1
    with ht.Server() as s:
        check_eq(len(ready_tasks(s)), 1 + min(ncpu, 256),
                 'threads with the default workers = auto on %d CPU(s)' % ncpu)


@run.case
def connections_spread_over_workers():
    with ht.Server(options={'workers': '4'}) as s:
        mark = len(s.stderr_text())
        results = parallel(200, lambda i: ht.http(s.port, 'GET', '/'))
        check_all_hello(results, 'concurrent GET /')
        check(ht.wait_for(lambda: sum(workers_seen(s.stderr_text()[mark:]).values()) >= 200,
                          5), 'fewer than 200 access lines')
        seen = workers_seen(s.stderr_text()[mark:])
        ht.note('200 connections per worker: %s' % seen)
        check(len(seen) > 1, 'all 200 connections served by one worker: %s' % seen)
        check(set(seen) <= {0, 1, 2, 3}, 'worker index out of range: %s' % seen)


@run.case
def concurrent_sleeps_in_about_one_sleep():
    with ht.Server(sleep='1s', options={'workers': '2'}) as s:
        mark = len(s.stderr_text())
        t0 = time.monotonic()
        results = parallel(200, lambda i: ht.http(s.port, 'GET', '/sleep', timeout=15))
        took = time.monotonic() - t0
        check_all_hello(results, 'concurrent GET /sleep')
        ht.note('200 concurrent /sleep (sleep = 1s, 2 workers) took %.2fs' % took)
        check(took < 6.0, '200 concurrent /sleep took %.2fs, want about 1s' % took)
        check(ht.wait_for(lambda: len(workers_seen(s.stderr_text()[mark:])) == 2, 3),
              'not both workers served /sleep: %s' % workers_seen(s.stderr_text()[mark:]))


@run.case
def max_connections_is_process_wide():
    limit, nworkers, nconns = 20, 4, 40
    with ht.Server(sleep='1s', options={'workers': str(nworkers),
                                        'max_connections': str(limit)}) as s:
        check(ht.wait_for(lambda: ht.fd_count(s.pid) == ht.settled_fd_count(s.pid, 0.3), 5),
              'server descriptors never settled')
        base = ht.settled_fd_count(s.pid, 0.3)
        peak = [0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                n = ht.fd_count(s.pid)
                if n is not None:
                    peak[0] = max(peak[0], n - base)
                time.sleep(0.005)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            results = parallel(nconns, lambda i: ht.http(s.port, 'GET', '/sleep', timeout=20))
        finally:
            stop.set()
            sampler.join(2)
        check_all_hello(results, '/sleep requests beyond max_connections')
        ht.note('max_connections = %d, %d workers, %d clients: at most %d connections '
                'open at once' % (limit, nworkers, nconns, peak[0]))
        # A worker sees the process-wide pause before its next accept; two
        # workers accepting at the same instant may each take one more.
        check(peak[0] <= limit + nworkers - 1,
              '%d connections open at once with max_connections = %d (per-worker limit?)'
              % (peak[0], limit))
        check(peak[0] >= limit // 2, 'only %d connections at once: limit too low?' % peak[0])
        text = s.stderr_text()
        check_eq(text.count('max_connections (%d) reached' % limit) >= 1, True,
                 '"max_connections reached" logged')
        check(s.wait_stderr('accepting again', 3), 'no "accepting again": %s'
              % s.stderr_tail())
        ht.check_page(s.http('GET', '/'), 200, HELLO)


@run.case
def reload_reaches_every_worker():
    with ht.Server(copy_root=True, options={'workers': '4'}) as s:
        new = HELLO.replace(b'</body>', b'<p>reloaded</p></body>')
        check(new != HELLO, 'hello.html has no </body>')
        with open(os.path.join(s.root, 'hello.html'), 'wb') as f:
            f.write(new)
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reloaded configuration', 5, mark), 'no reload: %s'
              % s.stderr_tail())
        mark = len(s.stderr_text())
        results = parallel(100, lambda i: ht.http(s.port, 'GET', '/'))
        old = [r for r in results if not isinstance(r, BaseException) and r.body == HELLO]
        check(not old, '%d of 100 responses after the reload still have the old page'
              % len(old))
        bad = [r for r in results if isinstance(r, BaseException) or r.body != new]
        check(not bad, 'bad responses after the reload: %r' % bad[:1])
        check(ht.wait_for(lambda: sum(workers_seen(s.stderr_text()[mark:]).values()) >= 100,
                          5), 'fewer than 100 access lines')
        seen = workers_seen(s.stderr_text()[mark:])
        ht.note('new page from workers %s' % seen)
        check(len(seen) > 1, 'only one worker served after the reload: %s' % seen)

        # workers cannot change on a reload
        s.options['workers'] = '2'
        s.write_config()
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('workers changed (4 to 2): restart hellod to apply', 5, mark),
              'no warning about a changed workers key: %s' % s.stderr_tail())
        check_eq(len(tasks(s.pid)), 5, 'threads after a reload that changes workers')
        ht.check_page(s.http('GET', '/'), 200, new)


@run.case
def sigterm_drains_every_worker():
    n = 40
    with ht.Server(sleep='2s', options={'workers': '2', 'shutdown_timeout': '20s'}) as s:
        mark = len(s.stderr_text())
        conns = [s.conn(timeout=15) for _ in range(n)]
        for c in conns:
            c.request('GET', '/sleep')
        check(ht.wait_for(lambda: ht.fd_count(s.pid) is not None
                          and ht.fd_count(s.pid) >= n, 5), 'connections not accepted')
        time.sleep(0.3)     # let both workers read the requests
        s.signal(signal.SIGTERM)
        for c in conns:
            r = c.read_response(timeout=15)
            ht.check_page(r, 200, HELLO)
            check('close' in r.connection_tokens(), 'drained response without '
                  'Connection: close: %r' % r.headers)
            c.close()
        check_eq(s.wait_exit(10), 0, 'exit status after draining')
        text = s.stderr_text()[mark:]
        check('draining %d connection(s)' % n in text, 'no "draining %d connection(s)": %s'
              % (n, text[-800:]))
        seen = workers_seen(text)
        ht.note('drained /sleep per worker: %s' % seen)
        check_eq(sorted(seen), [0, 1], 'workers that drained /sleep requests')
        check('exited cleanly' in text, 'no "exited cleanly": %s' % text[-600:])


# ptrace(2) requests, <sys/ptrace.h>.
PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000       # __WALL: wait for any thread


def libc_ptrace():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    return libc.ptrace


def freeze_thread(tid):
    """Stop one thread of a process (the others run on) with PTRACE_SEIZE +
    PTRACE_INTERRUPT; returns a function that lets it go again."""
    ptrace = libc_ptrace()
    if ptrace(PTRACE_SEIZE, tid, None, None) != 0:
        err = ctypes.get_errno()
        raise ht.TestFailure('PTRACE_SEIZE %d: %s' % (tid, os.strerror(err)))
    if ptrace(PTRACE_INTERRUPT, tid, None, None) != 0:
        err = ctypes.get_errno()
        ptrace(PTRACE_DETACH, tid, None, None)
        raise ht.TestFailure('PTRACE_INTERRUPT %d: %s' % (tid, os.strerror(err)))
    os.waitpid(tid, WALL)

    def thaw():
        if ptrace(PTRACE_DETACH, tid, None, None) != 0:
            raise ht.TestFailure('PTRACE_DETACH %d: %s'
                                 % (tid, os.strerror(ctypes.get_errno())))
    return thaw


def watchdog_pings(n, pid, seconds):
    """WATCHDOG=1 datagrams from pid within seconds."""
    count = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = n.recv(end - time.monotonic())
        if got is None:
            break
        if got[0] == pid and got[2] == 'WATCHDOG=1':
            count += 1
    return count


@run.case
def stuck_worker_stops_watchdog():
    ht.require_systemd()
    with ht.Notify() as n:
        with ht.Server(options={'workers': '2'},
                       env=n.env(WATCHDOG_USEC='400000')) as s:
            n.expect('READY', s.pid)
            check(watchdog_pings(n, s.pid, 1.0) >= 3, 'no WATCHDOG=1 pings while all run')
            worker = [t for t in tasks(s.pid) if t != s.pid][0]
            thaw = freeze_thread(worker)
            try:
                time.sleep(0.6)         # longer than the 400 ms interval
                n.drain()
                frozen = watchdog_pings(n, s.pid, 1.0)
                ht.note('WATCHDOG=1 pings in 1s with worker thread %d stopped: %d'
                        % (worker, frozen))
                check_eq(frozen, 0, 'WATCHDOG=1 pings while a worker is stuck')
                check(s.wait_stderr(re.compile(r'worker \d stuck for \d+ ms'), 2),
                      'no "worker N stuck" error: %s' % s.stderr_tail())
                # the other worker still serves (its own connections)
            finally:
                thaw()
            check(watchdog_pings(n, s.pid, 1.0) >= 3, 'pings did not resume after the '
                  'worker ran again')
            check(s.wait_stderr('all workers running again', 2),
                  'no "all workers running again": %s' % s.stderr_tail())


@run.case
def socket_activation_with_two_workers():
    import test_socket_activation as tsa
    tsa.require()

    class Activated2(tsa.Activated):
        def write_config(self, listen_port):
            with open(self.conf, 'w') as f:
                f.write('listen = %s:%d\nroot = %s\nworkers = 2\n'
                        % (ht.HOST, listen_port, ht.STATIC))
                f.write(''.join(line + '\n' for line in ht.user_lines()))

    with ht.Notify() as n, Activated2(n) as a:
        port = a.ports[0]
        tsa.first_request(a, port)
        f = n.expect('READY', a.pid)
        check('2 worker(s)' in f.get('STATUS', ''), 'STATUS=%r lacks "2 worker(s)"'
              % f.get('STATUS'))
        check_eq(len(tasks(a.pid)), 3, 'threads with workers = 2')
        # fd 3 and one dup() of it: the same socket, twice
        ino = os.stat('/proc/%d/fd/3' % a.pid).st_ino
        same = [fd for fd in os.listdir('/proc/%d/fd' % a.pid)
                if fd_ino(a.pid, fd) == ino]
        check_eq(len(same), 2, 'descriptors of the passed socket (fd 3 + one dup)')
        check_eq(a.log().count('listening on %s:%d (socket-activated fd 3)' % (ht.HOST, port)),
                 1, '"listening on" lines')
        results = parallel(100, lambda i: ht.http(port, 'GET', '/'))
        check_all_hello(results, 'requests on the passed socket')
        ht.note('socket-activated requests per worker: %s' % workers_seen(a.log()))
        check(ht.connect_refused(a.conf_port), 'the config\'s own port is open')
        os.kill(a.pid, signal.SIGTERM)
        check_eq(a.wait_exit(10), 0, 'exit status')
        f = n.expect('STOPPING', a.pid)


if __name__ == '__main__':
    run.run()
