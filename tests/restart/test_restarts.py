#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Requests lost when systemd restarts hellod under load (issue 15, part 4).

Usage: test_restarts.py PATH/TO/hellod_*.deb            (run by `make check-deb`)
       test_restarts.py --report [--nginx] PATH/TO/hellod_*.deb
                                                        (`make restart-report`)

A container of the machine's own /usr is booted with a real systemd as PID 1
(../e2e/nspawn.py; a throw-away writable layer over /usr and /var/lib, as in
../e2e/test_deb_install.py) and the .deb is installed in it with dpkg.  The
installed config gets `sleep = 200ms`, `access_log = off` (one journal line
per request would have journald drop messages and eat a core) and
`workers = 2`; a test drop-in sets WatchdogSec=2s (the unit ships 10s) and
StartLimitIntervalSec=0 (10 restarts in 12 s would hit the default limit of
5 starts in 10 s), nothing else.  Then restartload (restartload.c) runs in the container's
network namespace with 10 keep-alive GET /, 10 Connection: close GET / and
10 keep-alive GET /sleep connections, as fast as they go, while the driver,
with 1 s of load between events, does:

    10 x systemctl restart hellod
     1 x dpkg -i --force-confold of the same .deb (the package upgrade path:
         postinst restarts the service; confold keeps the edited config)
     2 x systemctl restart after `workers` changed, from 2 to 3 and back
     1 x watchdog kill: SIGSTOP to the main PID until systemd's watchdog
         kills it (SIGABRT) and Restart=on-failure starts a new one

Each failure the client records (refused, reset, idle close by FIN or by
RST, timeout, other; CLOCK_MONOTONIC time stamps) is given to the event
whose window holds it: from the start of the event's command to the start
of the next event.  The test passes when the restarts, the upgrade and the
workers change refuse, reset, time out and fail 0 requests, and close idle
keep-alive connections by FIN only (idle_rst 0), and the watchdog kill
refuses none and fails at most as many requests as there are connections
(only those inside the frozen process).  --report prints a markdown table
instead of asserting; --nginx adds Debian's nginx in the same container
(its own minimal config on the same port, the echo module for /sleep)
under 10 x systemctl restart nginx.

Skips (77) when not root, systemd-nspawn is missing or CAP_NET_ADMIN or
CAP_SYS_ADMIN is not in the effective set (--private-network and nspawn's
mounts need them; a container's default set lacks both); with CI=true in
the environment a skip is a failure.  Logs (the client's failure list, the journal) go to
tests/restart/logs/ in the build tree.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))

import hellodtest as ht  # noqa: E402
import nspawn  # noqa: E402

PORT = 7878                 # the shipped `listen`, and nginx's here
CONNS = (10, 10, 10)        # keep-alive, close, /sleep connections
SLEEP = '200ms'
WATCHDOG_SEC = 2
GAP = 1.0                   # seconds of load before, between and after events
RESTARTS = 10
CLIENT_TIMEOUT = 10         # a request not over after this long is a timeout
CONF = '/etc/hellod/hellod.conf'
FAIL_CLASSES = ('refused', 'reset', 'idle_fin', 'idle_rst', 'timeout', 'other')


def client_path():
    return os.environ.get('HELLOD_RESTARTLOAD') or os.path.join(
        ht.BUILDDIR, 'tests', 'restart', 'restartload')


def log_dir():
    d = os.path.join(ht.BUILDDIR, 'tests', 'restart', 'logs')
    os.makedirs(d, exist_ok=True)
    return d


def skip_reason():
    """nspawn.skip_reason() (root, the tools, CAP_NET_ADMIN and CAP_SYS_ADMIN),
    then the load client."""
    why = nspawn.skip_reason()
    if why:
        return why
    if not os.access(client_path(), os.X_OK):
        return 'no %s (make check builds it)' % client_path()
    return None


def set_key(text, key, value):
    line = '%s = %s' % (key, value)
    if re.search(r'^%s\s*=' % key, text, re.M):
        return re.sub(r'^%s\s*=.*$' % key, line, text, flags=re.M)
    return text + '\n' + line + '\n'


NGINX_CONF = """# nginx for test_restarts.py: the same page on the same port as hellod.
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
user www-data;
worker_processes 2;
pid /run/nginx.pid;
error_log stderr;
events { worker_connections 1024; }
http {
    access_log off;
    default_type text/html;
    server {
        listen 127.0.0.1:%d;
        root /srv/restart/www;
        location = / { try_files /hello.html =404; }
        location = /hello.html { internal; }
        location = /sleep { echo_sleep 0.2; echo_exec /hello.html; }
    }
}
""" % PORT


class Box:
    """The container, the package in it, and the files bound into it."""

    def __init__(self, deb, keys=(('sleep', SLEEP), ('access_log', 'off'))):
        self.deb = os.path.abspath(deb)
        self.keys = keys            # (key, value) set in the installed config
        self.work = tempfile.mkdtemp(prefix='hellod-restart-')
        os.chmod(self.work, 0o755)
        self.c = None

    def write(self, rel, text, mode=0o644):
        path = os.path.join(self.work, 'srv', rel)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, mode)

    def boot(self):
        srv = os.path.join(self.work, 'srv')
        os.makedirs(srv, 0o755)
        shutil.copy(self.deb, os.path.join(srv, 'hellod.deb'))
        os.chmod(os.path.join(srv, 'hellod.deb'), 0o644)
        # The shipped config, edited: the copies are put in place with cp.
        x = os.path.join(self.work, 'x')
        subprocess.run(['dpkg-deb', '-x', self.deb, x], check=True)
        conf = open(x + CONF).read()
        for key, value in self.keys:
            conf = set_key(conf, key, value)
        self.write('hellod.conf', conf)
        self.write('hellod-w2.conf', set_key(conf, 'workers', '2'))
        self.write('hellod-w3.conf', set_key(conf, 'workers', '3'))
        # 10 restarts in 12 s would hit the default start limit (5 starts
        # in 10 s): "start of the service was attempted too often".
        nolimit = '[Unit]\nStartLimitIntervalSec=0\n'
        self.write('test.conf', nolimit + '[Service]\nWatchdogSec=%ds\n' % WATCHDOG_SEC)
        self.write('nginx-test.conf', nolimit)
        self.write('nginx/nginx.conf', NGINX_CONF)
        page = ht.hello_bytes().decode()
        self.write('www/hello.html', page)
        self.page_len = len(ht.hello_bytes())
        self.c = nspawn.Container(self.work)
        t0 = time.monotonic()
        # dpkg needs the users and groups its database names (statoverride),
        # nginx its www-data.
        self.c.boot([(srv, '/srv/restart'), ('/etc/passwd', '/etc/passwd'),
                     ('/etc/group', '/etc/group')],
                    overlays=[('/usr', '/usr'), ('/var/lib', '/var/lib')])
        ht.note('container booted in %.2fs' % (time.monotonic() - t0))

    def sh(self, cmd, timeout=60):
        r = self.c.run(['sh', '-c', cmd], timeout=timeout)
        if r.returncode != 0:
            log = self.c.run(['journalctl', '--no-pager', '-o', 'cat', '-n', '15']).stdout
            raise ht.TestFailure('%s: exit %d\n%s%s--- the journal\'s last lines:\n%s'
                                 % (cmd, r.returncode, r.stdout, r.stderr, log))
        return r.stdout

    def install(self, conf='hellod-w2.conf', dropin=True):
        """dpkg -i, then conf (under /srv/restart) as the config, with
        dropin the test drop-in, and a restart."""
        # Container images may carry a policy-rc.d that stops maintainer
        # scripts from starting services; a real Debian system has none.
        self.sh('rm -f /usr/sbin/policy-rc.d')
        self.sh('dpkg -i /srv/restart/hellod.deb', timeout=120)
        self.sh('cp /srv/restart/%s %s && hellod -t -c %s' % (conf, CONF, CONF))
        if dropin:
            self.sh('mkdir -p /etc/systemd/system/hellod.service.d && '
                    'cp /srv/restart/test.conf /etc/systemd/system/hellod.service.d/ && '
                    'systemctl daemon-reload')
        self.sh('systemctl restart hellod')
        self.wait_serving()

    def wait_serving(self, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            r = self.c.run(['curl', '-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}',
                            'http://127.0.0.1:%d/' % PORT])
            if r.stdout == '200':
                return
            if time.monotonic() > deadline:
                raise ht.TestFailure('nothing serves on port %d (curl %d %s)'
                                     % (PORT, r.returncode, r.stdout))
            time.sleep(0.1)

    def main_pid(self, unit):
        return int(self.c.show(unit, 'MainPID') or 0)

    def shutdown(self):
        if self.c is not None:
            self.c.shutdown()
            self.c = None
        shutil.rmtree(self.work, ignore_errors=True)


class Load:
    """restartload in the container's network namespace."""

    def __init__(self, box, name):
        self.out = os.path.join(log_dir(), name + '.failures')
        argv = ['nsenter', '-t', str(box.c.pid1), '-n', client_path(), '-p', str(PORT),
                '-k', str(CONNS[0]), '-c', str(CONNS[1]), '-s', str(CONNS[2]),
                '-d', '600', '-t', str(CLIENT_TIMEOUT), '-l', str(box.page_len),
                '-o', self.out]
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        out, _ = self.p.communicate(timeout=30)
        totals = dict(line.split('=', 1) for line in out.split())
        fails, bins = [], []
        for line in open(self.out):
            w = line.split()
            if w[0] == 'fail':
                fails.append((w[1], w[2], float(w[3]), float(w[4]), int(w[5]), int(w[6])))
            elif w[0] == 'okbin':
                bins.append((float(w[1]), int(w[2])))
        return totals, fails, bins


def attribute(events, fails, bins, end):
    """Per event: counts of each class, ok, and the refused window (s).

    An event owns [its start, the next event's start); what comes before
    the first event is 'steady'."""
    starts = [('steady', 0.0)] + [(name, t0) for name, t0, _ in events]
    rows = []
    for i, (name, t0) in enumerate(starts):
        t1 = starts[i + 1][1] if i + 1 < len(starts) else end + 1
        row = dict((k, 0) for k in FAIL_CLASSES)
        row['name'] = name
        row['ok'] = sum(n for t, n in bins if t0 <= t < t1)
        refused = []
        row['detail'] = {}
        for cl, kind, ts, te, sent, got in fails:
            if t0 <= te < t1:
                row[cl] += 1
                what = '%s %s%s' % (cl, kind, ' (request sent)' if sent else '')
                row['detail'][what] = row['detail'].get(what, 0) + 1
                if cl == 'refused':
                    refused.append(te)
        row['refused_window'] = max(refused) - min(refused) if refused else 0.0
        row['duration'] = events[i - 1][2] if i > 0 else 0.0
        rows.append(row)
    return rows


def merge(rows, prefix, label):
    """Sum the rows whose name starts with prefix into one."""
    picked = [r for r in rows if r['name'].startswith(prefix)]
    out = dict((k, sum(r[k] for r in picked)) for k in FAIL_CLASSES + ('ok',))
    out['name'] = label
    out['n'] = len(picked)
    out['refused_window'] = max([r['refused_window'] for r in picked] or [0.0])
    out['duration'] = max([r['duration'] for r in picked] or [0.0])
    return out


def timed(events, name, fn):
    t0 = time.monotonic()
    fn()
    events.append((name, t0, time.monotonic() - t0))
    time.sleep(GAP)


def hellod_scenario(box):
    """The load across the hellod events; returns (totals, rows)."""
    c = box.c
    events = []
    load = Load(box, 'hellod')
    try:
        time.sleep(GAP)
        for i in range(RESTARTS):
            timed(events, 'restart %d' % (i + 1),
                  lambda: box.sh('systemctl restart hellod'))
        timed(events, 'dpkg -i',
              lambda: box.sh('dpkg -i --force-confold /srv/restart/hellod.deb', timeout=120))

        # Up, then down: going down, a listening socket of the old process
        # has no worker left to take it over.
        for a, b in ((2, 3), (3, 2)):
            timed(events, 'workers %d -> %d' % (a, b), lambda b=b: box.sh(
                'cp /srv/restart/hellod-w%d.conf %s && systemctl restart hellod' % (b, CONF)))

        def watchdog():
            old = box.main_pid('hellod')
            n0 = int(c.show('hellod', 'NRestarts'))
            box.sh('kill -STOP %d' % old)
            deadline = time.monotonic() + WATCHDOG_SEC + 15
            while time.monotonic() < deadline:
                if (int(c.show('hellod', 'NRestarts')) > n0
                        and c.show('hellod', 'ActiveState') == 'active'):
                    break
                time.sleep(0.05)
            else:
                raise ht.TestFailure('hellod not restarted %ds after SIGSTOP'
                                     % (WATCHDOG_SEC + 15))
        timed(events, 'watchdog kill', watchdog)
    finally:
        totals, fails, bins = load.stop()
        journal = c.run(['journalctl', '-u', 'hellod', '--no-pager', '-o', 'short-monotonic'],
                        timeout=30).stdout
        with open(os.path.join(log_dir(), 'hellod.journal'), 'w') as f:
            f.write(journal)
    rows = attribute(events, fails, bins, float(totals['end']))
    return totals, rows


def nginx_scenario(box):
    box.sh('systemctl stop hellod && mkdir -p /var/log/nginx /var/lib/nginx && '
           'rm -rf /etc/nginx && mkdir /etc/nginx && cp /srv/restart/nginx/nginx.conf /etc/nginx/ && '
           'mkdir -p /etc/systemd/system/nginx.service.d && '
           'cp /srv/restart/nginx-test.conf /etc/systemd/system/nginx.service.d/test.conf && '
           'systemctl daemon-reload && systemctl start nginx')
    box.wait_serving()
    events = []
    load = Load(box, 'nginx')
    try:
        time.sleep(GAP)
        for i in range(RESTARTS):
            timed(events, 'restart %d' % (i + 1), lambda: box.sh('systemctl restart nginx'))
    finally:
        totals, fails, bins = load.stop()
    return totals, attribute(events, fails, bins, float(totals['end']))


def summary(rows):
    return [merge(rows, 'steady', 'steady load (1 s)'),
            merge(rows, 'restart', '%d x systemctl restart' % RESTARTS),
            merge(rows, 'dpkg', 'dpkg -i of the same .deb'),
            merge(rows, 'workers', '2 x restart, workers 2 -> 3 -> 2'),
            merge(rows, 'watchdog', 'watchdog kill (SIGSTOP, WatchdogSec=%ds)' % WATCHDOG_SEC)]


def table(results):
    out = ['| event | server | ok | refused | reset | idle close FIN / RST | timeout / other '
           '| refused window |',
           '|---|---|--:|--:|--:|--:|--:|--:|']
    for label, server, r in results:
        if r['n'] == 0:
            continue
        out.append('| %s | %s | %d | %d | %d | %d / %d | %d / %d | %s |' % (
            label, server, r['ok'], r['refused'], r['reset'], r['idle_fin'], r['idle_rst'],
            r['timeout'], r['other'],
            '%.0f ms' % (1000 * r['refused_window']) if r['refused'] else '-'))
    return '\n'.join(out)


def report(deb, with_nginx):
    box = Box(deb)
    try:
        box.boot()
        box.install()
        version = box.sh("dpkg-query -W -f='${Version}' hellod")
        totals, rows = hellod_scenario(box)
        results = [(r['name'], 'hellod', r) for r in summary(rows)]
        if with_nginx:
            ntotals, nrows = nginx_scenario(box)
            nginx = 'nginx ' + box.sh('nginx -v 2>&1').strip().split('/')[-1]
            nsum = summary(nrows)
            # each nginx row right under hellod's of the same event
            results.insert(2, (nsum[1]['name'], nginx, nsum[1]))
            results.insert(1, (nsum[0]['name'], nginx, nsum[0]))
    finally:
        box.shutdown()
    print('hellod %s, %s UTC, %d+%d+%d connections (keep-alive / close / sleep %s)\n'
          % (version, time.strftime('%Y-%m-%d %H:%M', time.gmtime()), CONNS[0], CONNS[1],
             CONNS[2], SLEEP))
    print(table(results))
    print('\nhellod totals: ' + ' '.join('%s=%s' % kv for kv in sorted(totals.items())
                                         if kv[0] not in ('start', 'end')))
    if with_nginx:
        print('nginx totals: ' + ' '.join('%s=%s' % kv for kv in sorted(ntotals.items())
                                          if kv[0] not in ('start', 'end')))


# ------------------------------------------------------------------ the test

run = ht.Runner('test_restarts', script_timeout=240, case_timeout=120)


class State:
    deb = None
    box = None
    rows = None


S = State()


def need_rows():
    if S.rows is None:
        raise ht.TestFailure('no measurement (an earlier case failed)')


def describe(r):
    return ', '.join('%s %d' % (k, r[k]) for k in ('ok',) + FAIL_CLASSES) + (
        ', refused window %.0f ms' % (1000 * r['refused_window']) if r['refused'] else '')


@run.case(timeout=150)
def boot_install_and_load():
    S.box = Box(S.deb)
    S.box.boot()
    S.box.install()
    t0 = time.monotonic()
    totals, rows = hellod_scenario(S.box)
    ht.note('load: ' + ' '.join('%s=%s' % kv for kv in sorted(totals.items())
                                if kv[0] not in ('start', 'end')))
    ht.note('the load and its %d events took %.1fs' % (len(rows) - 1, time.monotonic() - t0))
    S.rows = rows
    for r in rows:
        ht.note('%-15s %s' % (r['name'], describe(r)))


def lossless(prefix):
    need_rows()
    bad = [r for r in S.rows if r['name'].startswith(prefix)
           and any(r[k] for k in FAIL_CLASSES if k != 'idle_fin')]
    detail = {}
    for r in bad:
        for k, n in r['detail'].items():
            detail[k] = detail.get(k, 0) + n
    ht.check(not bad, 'requests lost: ' + '; '.join(
        '%s: %s' % (r['name'], describe(r)) for r in bad) + '\nby class and connection: '
        + ', '.join('%s %d' % kv for kv in sorted(detail.items())))


@run.case
def steady_load_loses_nothing():
    lossless('steady')


@run.case
def restarts_lose_nothing():
    lossless('restart')


@run.case
def upgrade_loses_nothing():
    lossless('dpkg')


@run.case
def workers_change_loses_nothing():
    lossless('workers')


@run.case
def idle_closes_end_in_fin():
    # A process killed by the watchdog cannot shut its connections down
    # cleanly: those are watchdog_kill_loses_only_in_flight's.
    need_rows()
    rows = [r for r in S.rows if not r['name'].startswith('watchdog')]
    fin = sum(r['idle_fin'] for r in rows)
    rst = sum(r['idle_rst'] for r in rows)
    ht.note('idle keep-alive connections closed (but at the watchdog kill): '
            '%d by FIN, %d by RST' % (fin, rst))
    ht.check_eq(rst, 0, 'idle keep-alive connections closed by RST')


@run.case
def watchdog_kill_loses_only_in_flight():
    need_rows()
    r = merge(S.rows, 'watchdog', 'watchdog')
    ht.check_eq(r['refused'], 0, 'refused across the watchdog kill')
    lost = sum(r[k] for k in FAIL_CLASSES if k != 'refused')
    ht.check(lost <= sum(CONNS), 'the watchdog kill lost %d requests, more than the %d '
             'connections that can be inside the frozen process: %s'
             % (lost, sum(CONNS), describe(r)))


@run.case
def container_shuts_down():
    if S.box is not None:
        box, S.box = S.box, None
        box.shutdown()


def skip(name, why):
    """Exit 77 saying why, or 1 under CI=true, where a skip is a failure
    (nspawn.skip)."""
    nspawn.skip(name, why)


def run_cases(runner, state):
    """Run the cases; whatever container state.box holds at exit is shut
    down."""
    import atexit

    def stop():
        if state.box is not None:
            state.box.shutdown()
    atexit.register(stop)
    runner.run()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--report', action='store_true', help='print a markdown table, assert nothing')
    ap.add_argument('--nginx', action='store_true', help='with --report: nginx too')
    ap.add_argument('deb')
    a = ap.parse_args()
    why = skip_reason()
    if why:
        skip('test_restarts', why)
    if a.report:
        report(a.deb, a.nginx)
        return
    S.deb = a.deb
    run_cases(run, S)


if __name__ == '__main__':
    main()
