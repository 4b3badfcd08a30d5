#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Lifecycle lines reach the journal under a minute of full load (issue 15, 3).

Usage: test_journal_load.py PATH/TO/hellod_*.deb       (run by `make check-deb`)
       test_journal_load.py --access-log stderr DEB     (the old behaviour: fails)
       test_journal_load.py --report DEB                (`make journal-report`)

The container, the package and the load are test_restarts.py's (Box, Load):
systemd 252 as PID 1 in an nspawn container of the machine's own /usr, the
.deb installed with dpkg, restartload (10 keep-alive, 10 Connection: close
and 10 /sleep connections, as fast as they go) in the container's network
namespace.  The installed config is the shipped one, access_log (the file
/var/log/hellod/access.log) included; only `sleep` is shortened to 200ms,
and the unit is the shipped one, with no drop-in.  With the load running
for 60 s, `systemctl restart hellod` at 15, 30 and 45 s, then `systemctl
stop hellod` (which also makes the last process write out its buffered
access lines), the journal of hellod.service must hold, for each of the 4
processes (by _PID): "listening on 127.0.0.1:7878", "hellod VERSION ready",
"systemd watchdog: ...", for those started after a restart "took N listening
socket(s) ... back from systemd", and "SIGTERM received", "stopped listening
on ...", "shutting down: ...", "exited cleanly" (server/*.c's log_info);
journald must not have said "Suppressed N messages from hellod.service";
and the access log file must hold one 200 line per response the client
counted ok, plus curl's one from the install (at most `unfinished` more:
requests the server answered after the client stopped reading).

--access-log stderr sets `access_log = stderr` (before the packaged file,
the default): one journal entry per request, and journald's per-unit rate
limit (10,000 messages in 30 s, scaled up with free space) drops lifecycle
lines; the test then fails, which shows it can.  The access check then
counts the journal's access entries (HTTP_STATUS=) instead of the file.

--report prints the lifecycle counts per process, then measures throughput
under the same systemd: hellod with the shipped config (file access log)
against Debian's nginx with Debian's own /etc/nginx (nginx.conf, its
access_log /var/log/nginx/access.log, worker_processes auto) and one site,
the same hello.html on 127.0.0.1:7878 in place of sites-enabled/default;
each started with `systemctl start`, then `wrk -t1 -c50 -d5s` in the
container's network namespace, keep-alive and `Connection: close`, servers
alternating, REPS rounds.  The client and the server share the machine's
cores.  Per run: steal (the 8th number of /proc/stat's cpu line) and "other
CPU", the machine's busy time that neither wrk nor the server's
processes used, both in % of all cores' time: other jobs on a shared
machine show there (and softirq time charged to no process); and the
server's CPU time per request, which such jobs disturb less than req/s.

Skips (77) as test_restarts.py does.  Logs (the client's failures, the
journal) go to tests/restart/logs/ in the build tree.
"""

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))

import hellodtest as ht  # noqa: E402
import test_restarts as tr  # noqa: E402

DURATION = 60               # seconds of load
RESTART_AT = (15, 30, 45)   # seconds into the load
ACCESS_LOG = '/var/log/hellod/access.log'

# What every process logs (by _PID), as regular expressions.
START_LINES = (r'^listening on 127\.0\.0\.1:%d\b' % tr.PORT,
               r'^hellod \S+ ready: ',
               r'^systemd watchdog: \d+ ms')
TAKEN_LINE = r'^took \d+ listening socket\(s\) of \S+ back from systemd$'
STOP_LINES = (r'^SIGTERM received$',
              r'^stopped listening on 127\.0\.0\.1:%d$' % tr.PORT,
              r'^shutting down: (no connections to drain|draining \d+ connection\(s\))',
              r'^exited cleanly$')
SUPPRESSED = re.compile(r'Suppressed (\d+) messages from hellod\.service')

REPS = 5                    # rounds of the throughput comparison
WRK = ('-t1', '-c50', '-d5s')
MODES = (('keep-alive', ()), ('close', ('-H', 'Connection: close')))

NGINX_SITE = """# The page of hellod, in place of Debian's sites-enabled/default.
server {
    listen 127.0.0.1:%d;
    root /srv/restart/www;
    index hello.html;
}
""" % tr.PORT


def message(e):
    m = e.get('MESSAGE', '')
    if isinstance(m, list):         # not UTF-8: an array of bytes
        m = bytes(m).decode('utf-8', 'replace')
    return m or ''


def expected(i):
    """The patterns the i-th process (0: the one the load starts on) must
    have logged; every process is started after a restart (the install
    restarts the one dpkg started) but the check is only sure of it from
    the second on."""
    want = list(START_LINES) + list(STOP_LINES)
    if i > 0:
        want.insert(1, TAKEN_LINE)
    return want


def journal_scenario(box):
    """The minute of load and its restarts; returns what the checks need."""
    c = box.c
    pids = [box.main_pid('hellod')]
    load = tr.Load(box, 'journal')
    t0 = time.monotonic()
    try:
        for at in RESTART_AT:
            time.sleep(max(0.0, t0 + at - time.monotonic()))
            box.sh('systemctl restart hellod')
            pids.append(box.main_pid('hellod'))
        time.sleep(max(0.0, t0 + DURATION - time.monotonic()))
    finally:
        totals, fails, _ = load.stop()
    box.sh('systemctl stop hellod')
    c.run(['journalctl', '--sync'])
    raw = c.run(['journalctl', '-u', 'hellod', '-o', 'json', '--no-pager'],
                timeout=120).stdout
    entries = [json.loads(line) for line in raw.splitlines() if line.strip()]
    with open(os.path.join(tr.log_dir(), 'journal.journal'), 'w') as f:
        for e in entries:
            if 'HTTP_STATUS' not in e:
                f.write('%s %s %s\n' % (e.get('__MONOTONIC_TIMESTAMP'), e.get('_PID', '-'),
                                        message(e)))
    journald = c.run(['journalctl', '-t', 'systemd-journald', '-o', 'cat', '--no-pager'],
                     timeout=60).stdout
    suppressed = [int(n) for n in SUPPRESSED.findall(journald)]
    if box.access_log == 'file':
        r = c.run(['sh', '-c', 'wc -l < %s; grep -c \'" 200 \' %s' % (ACCESS_LOG, ACCESS_LOG)],
                  timeout=120)
        n = r.stdout.split()
        lines, ok200 = (int(n[0]), int(n[1])) if len(n) == 2 else (None, None)
    else:
        lines = sum(1 for e in entries if 'HTTP_STATUS' in e)
        ok200 = sum(1 for e in entries if e.get('HTTP_STATUS') == '200')
    return {'pids': pids, 'totals': totals, 'fails': len(fails), 'entries': entries,
            'suppressed': suppressed, 'lines': lines, 'ok200': ok200}


def lifecycle(res):
    """Per process: (pid, [(pattern, times found)], lines of its own)."""
    by_pid = {}
    for e in res['entries']:
        if 'HTTP_STATUS' in e:
            continue
        by_pid.setdefault(e.get('_PID'), []).append(message(e))
    out = []
    for i, pid in enumerate(res['pids']):
        msgs = by_pid.get(str(pid), [])
        found = [(p, sum(1 for m in msgs if re.search(p, m))) for p in expected(i)]
        out.append((pid, found, len(msgs)))
    return out


def lifecycle_table(res):
    rows = ['| process | lifecycle lines found | missing |', '|---|--:|---|']
    for i, (pid, found, _) in enumerate(lifecycle(res)):
        have = sum(1 for _, n in found if n)
        rows.append('| %d (pid %d) | %d of %d | %s |' % (
            i + 1, pid, have, len(found),
            ', '.join(p.strip('^$').split(' ')[0] + '...' for p, n in found if not n) or '-'))
    return '\n'.join(rows)


def describe(res):
    t = res['totals']
    return ('ok=%s unfinished=%s failed=%d, access lines %s (200: %s), suppressed %s'
            % (t['ok'], t['unfinished'], res['fails'], res['lines'], res['ok200'],
               res['suppressed'] or 'none'))


# --------------------------------------------------------------- throughput

def cpu_times():
    with open('/proc/stat') as f:
        w = f.readline().split()
    return [int(x) for x in w[1:]]


def server_cpu(box, comm):
    """CPU seconds used so far by the container's processes named comm
    (all their threads; systemd's CPUUsageNSec is not set here: no CPU
    accounting in the container's cgroup v1 hierarchy)."""
    ns = os.readlink('/proc/%d/ns/pid' % box.c.pid1)
    hz = os.sysconf('SC_CLK_TCK')
    used = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            if os.readlink('/proc/%s/ns/pid' % pid) != ns:
                continue
            with open('/proc/%s/stat' % pid) as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index('(') + 1:st.rindex(')')]
        if name == comm:
            w = st[st.rindex(')') + 2:].split()
            used += int(w[11]) + int(w[12])     # utime, stime
    return used / hz


def wrk(box, unit, extra):
    """One wrk run in the container's netns: (req/s, errors, steal %,
    others %, server us): steal and the CPU that neither wrk nor the
    server's processes used (other work on the machine, and the kernel's
    softirq time not charged to a process), in % of all cores' time; the
    server's CPU time per request, in microseconds."""
    argv = (['nsenter', '-t', str(box.c.pid1), '-n', 'wrk'] + list(WRK) + list(extra)
            + ['http://127.0.0.1:%d/' % tr.PORT])
    s0 = server_cpu(box, unit)
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    a = cpu_times()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60)
    b = cpu_times()
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s1 = server_cpu(box, unit)
    d = [y - x for x, y in zip(a, b)]
    total = max(1, sum(d[:8]))
    steal = 100.0 * d[7] / total
    hz = os.sysconf('SC_CLK_TCK')
    busy = (total - d[3] - d[4] - d[7]) / hz          # but idle, iowait, steal
    ours = u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime + s1 - s0
    others = 100.0 * max(0.0, busy - ours) * hz / total
    m = re.search(r'Requests/sec:\s+([\d.]+)', r.stdout)
    if r.returncode != 0 or m is None:
        raise ht.TestFailure('wrk: exit %d\n%s' % (r.returncode, r.stdout))
    errors = sum(int(n) for n in re.findall(r'(?:connect|read|write|timeout) (\d+)',
                                            r.stdout))
    m2 = re.search(r'Non-2xx or 3xx responses: (\d+)', r.stdout)
    errors += int(m2.group(1)) if m2 else 0
    m3 = re.search(r'(\d+) requests in', r.stdout)
    us = 1e6 * (s1 - s0) / int(m3.group(1)) if m3 and int(m3.group(1)) else 0.0
    return float(m.group(1)), errors, steal, others, us


def nginx_setup(box):
    """Debian's /etc/nginx (this machine's copy), one site for the page."""
    ours = os.path.join(box.work, 'srv', 'etc-nginx')
    shutil.copytree('/etc/nginx', ours, symlinks=True)
    os.chmod(ours, 0o755)
    box.write('nginx-site', NGINX_SITE)
    # Is /etc/nginx as Debian ships it? Say which conffiles are not.
    r = subprocess.run(['dpkg-query', '-W', '-f=${Conffiles}\\n', 'nginx', 'nginx-common'],
                       stdout=subprocess.PIPE, text=True)
    changed = []
    for line in r.stdout.splitlines():
        w = line.split()
        if len(w) >= 2 and w[0].startswith('/etc/nginx/') and os.path.exists(w[0]):
            got = subprocess.run(['md5sum', w[0]], stdout=subprocess.PIPE,
                                 text=True).stdout.split()[0]
            if got != w[1]:
                changed.append(w[0])
    box.sh('rm -rf /etc/nginx && cp -a /srv/restart/etc-nginx /etc/nginx && '
           'rm -f /etc/nginx/sites-enabled/* && '
           'cp /srv/restart/nginx-site /etc/nginx/sites-enabled/hello && '
           'mkdir -p /var/log/nginx && chown www-data:adm /var/log/nginx && nginx -t -q')
    return changed


def bench(box):
    """REPS rounds, servers alternating; {(server, mode): [(rps, errors, steal)]}."""
    units = {'hellod': 'hellod', 'nginx': 'nginx'}
    logs = {'hellod': ACCESS_LOG, 'nginx': '/var/log/nginx/access.log'}
    out = {}
    for rep in range(REPS):
        order = ('hellod', 'nginx') if rep % 2 == 0 else ('nginx', 'hellod')
        for server in order:
            box.sh('systemctl start %s' % units[server])
            box.wait_serving()
            for mode, extra in MODES:
                out.setdefault((server, mode), []).append(wrk(box, units[server], extra))
            # the logs live on the container's tmpfs root: empty them
            box.sh('systemctl stop %s && : > %s' % (units[server], logs[server]))
    return out


def bench_table(out):
    rows = ['| server | mode | median req/s | min - max | runs (req/s) | steal % | '
            'other CPU % | server CPU us/req (median) | errors |',
            '|---|---|--:|--:|---|---|---|--:|--:|']
    for (server, mode), runs in sorted(out.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rps = [r[0] for r in runs]
        rows.append('| %s | %s | %.0f | %.0f - %.0f | %s | %s | %s | %.1f | %d |' % (
            server, mode, statistics.median(rps), min(rps), max(rps),
            ' '.join('%.0f' % r[0] for r in runs),
            ' '.join('%.1f' % r[2] for r in runs),
            ' '.join('%.0f' % r[3] for r in runs),
            statistics.median(r[4] for r in runs), sum(r[1] for r in runs)))
    return '\n'.join(rows)


def report(deb, access_log):
    box = make_box(deb, access_log)
    try:
        box.boot()
        box.install(conf='hellod.conf', dropin=False)
        version = box.sh("dpkg-query -W -f='${Version}' hellod")
        t0 = time.monotonic()
        res = journal_scenario(box)
        took = time.monotonic() - t0
        changed = nginx_setup(box)
        nginx = 'nginx ' + box.sh('nginx -v 2>&1').strip().split('/')[-1]
        out = bench(box)
    finally:
        box.shutdown()
    print('hellod %s (access_log = %s), %s, %s UTC, %d cores\n'
          % (version, access_log, nginx, time.strftime('%Y-%m-%d %H:%M', time.gmtime()),
             os.cpu_count()))
    print('%d s of load, systemctl restart at %s s, then stop (%.0f s): %s\n'
          % (DURATION, '/'.join(map(str, RESTART_AT)), took, describe(res)))
    print(lifecycle_table(res))
    print('\nwrk %s, %d rounds, servers alternating, client and server on the same %d '
          'cores%s\n' % (' '.join(WRK), REPS, os.cpu_count(),
                         '; /etc/nginx differs from Debian in ' + ', '.join(changed)
                         if changed else '; /etc/nginx as Debian ships it'))
    print(bench_table(out))


def make_box(deb, access_log):
    keys = [('sleep', tr.SLEEP)]
    if access_log != 'file':
        keys.append(('access_log', access_log))
    box = tr.Box(deb, keys=tuple(keys))
    box.access_log = access_log
    return box


# ------------------------------------------------------------------ the test

run = ht.Runner('test_journal_load', script_timeout=240, case_timeout=60)


class State:
    deb = None
    access_log = 'file'
    box = None
    res = None


S = State()


def need_res():
    if S.res is None:
        raise ht.TestFailure('no measurement (an earlier case failed)')


@run.case(timeout=180)
def minute_of_load_with_three_restarts():
    S.box = make_box(S.deb, S.access_log)
    S.box.boot()
    S.box.install(conf='hellod.conf', dropin=False)
    t0 = time.monotonic()
    S.res = journal_scenario(S.box)
    ht.note('the load, its restarts and the stop took %.1fs' % (time.monotonic() - t0))
    ht.note(describe(S.res))
    for line in lifecycle_table(S.res).splitlines():
        ht.note(line)


@run.case
def four_processes():
    need_res()
    pids = S.res['pids']
    ht.check(len(set(pids)) == len(pids) and all(pids),
             'main PIDs across the restarts: %s' % pids)


@run.case
def every_lifecycle_line_in_journal():
    need_res()
    missing = []
    for i, (pid, found, n) in enumerate(lifecycle(S.res)):
        gone = [p for p, k in found if not k]
        if gone:
            missing.append('process %d (pid %d, %d lines in the journal): %s'
                           % (i + 1, pid, n, ', '.join(repr(p) for p in gone)))
    ht.check(not missing, 'lifecycle lines missing from the journal: ' + '; '.join(missing))


@run.case
def journald_suppressed_nothing():
    need_res()
    ht.check(not S.res['suppressed'], 'journald: "Suppressed N messages from hellod.service",'
             ' N = %s' % S.res['suppressed'])


@run.case
def access_log_holds_every_response():
    need_res()
    t = S.res['totals']
    ok, unfinished = int(t['ok']), int(t['unfinished'])
    want = ok + 1                   # and install's curl
    got = S.res['ok200']
    where = ACCESS_LOG if S.access_log == 'file' else 'the journal (HTTP_STATUS=200)'
    ht.check(got is not None and want <= got <= want + unfinished,
             '%s: %s lines of status 200, want %d (the client\'s ok + 1) to %d '
             '(+ unfinished)' % (where, got, want, want + unfinished))
    ht.check_eq(S.res['lines'], got, 'all access lines (200 or not)')


@run.case
def container_shuts_down():
    if S.box is not None:
        box, S.box = S.box, None
        box.shutdown()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--report', action='store_true',
                    help='print the lifecycle counts and a throughput table vs nginx')
    ap.add_argument('--access-log', default='file', choices=('file', 'stderr'),
                    help='file: the shipped config (default); stderr: the old behaviour')
    ap.add_argument('deb')
    a = ap.parse_args()
    why = tr.skip_reason()
    if not why and a.report and shutil.which('wrk') is None:
        why = 'no wrk (Debian package wrk)'
    if why:
        tr.skip('test_journal_load', why)
    if a.report:
        report(a.deb, a.access_log)
        return
    S.deb = a.deb
    S.access_log = a.access_log
    tr.run_cases(run, S)


if __name__ == '__main__':
    main()
