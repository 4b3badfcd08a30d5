#!/usr/bin/env python3
"""Journal-friendly logging: when JOURNAL_STREAM ("DEV:INO", set by systemd
for a service whose stderr is the journal) names hellod's stderr, every line
is "<N>message" with its syslog priority (3 error, 4 warning, 6 info and
access, 7 debug) and no timestamp; otherwise lines keep their timestamps.
Here stderr is a plain file and JOURNAL_STREAM is set to that file's device
and inode. This needs no systemd integration, so it runs in every build."""

import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

run = ht.Runner('test_journal', script_timeout=60, case_timeout=20)
HELLO = ht.hello_bytes()
STAMP_RE = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d')
TIMESTAMPED_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z '
                            r'\[(error|warn|info|debug|access)\] ')


def journal_env(s):
    return {'JOURNAL_STREAM': s.stderr_dev_ino()}


def lines_of(text):
    return [line for line in text.split('\n') if line]


def has_line(lines, regex):
    return any(re.match(regex, line) for line in lines)


@run.case
def journal_lines_carry_priority():
    with ht.Server(options={'log_level': 'debug', 'access_log': 'on'},
                   env=journal_env) as s:
        ht.check_page(s.http('GET', '/'), 200, HELLO)
        # a warning: listen changed on reload; then an error: broken reload
        lines = s.config_lines()
        lines[1] = 'listen = %s:%d' % (ht.HOST, ht.free_port())
        s.write_config(lines)
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reloaded configuration', 5, mark),
              'no reload in the log: %s' % s.stderr_tail())
        s.write_config(s.config_lines() + ['header_timeout = banana'])
        mark = len(s.stderr_text())
        s.signal(signal.SIGHUP)
        check(s.wait_stderr('reload failed', 5, mark),
              'no failed reload in the log: %s' % s.stderr_tail())
        check_eq(s.stop(), 0, 'exit status')
        text = s.stderr_text()
    lines = lines_of(text)
    bad = [line for line in lines if not re.match(r'^<[3467]>\S', line)]
    check(not bad, 'lines without a <N> priority prefix: %s' % bad[:5])
    stamped = [line for line in lines if STAMP_RE.search(line)]
    check(not stamped, 'journal lines with a timestamp: %s' % stamped[:5])
    for regex, what in (
            (r'<6>listening on %s:%d$' % (re.escape(ht.HOST), s.port), 'info'),
            (r'<6>%s:\d+ "GET / HTTP/1\.1" 200 ' % re.escape(ht.HOST), 'access'),
            (r'<7>conn \d+: ', 'debug'),
            (r'<4>listen addresses changed', 'warning'),
            (r'<3>reload failed', 'error'),
            (r'<3>%s:\d+: header_timeout: ' % re.escape(s.conf), 'error (config line)')):
        check(has_line(lines, regex), 'no %s line matching %r in: %s'
              % (what, regex, ht._short(lines[-12:], 1500)))


@run.case
def other_stream_keeps_timestamps():
    """JOURNAL_STREAM naming another file (here: a different inode), or
    malformed, means stderr is not the journal."""
    def other(s):
        dev, ino = s.stderr_dev_ino().split(':')
        return {'JOURNAL_STREAM': '%s:%d' % (dev, int(ino) + 1)}
    for env in (other, {'JOURNAL_STREAM': 'journal'}):
        with ht.Server(env=env) as s:
            ht.check_page(s.http('GET', '/'), 200, HELLO)
            check_eq(s.stop(), 0, 'exit status')
            lines = lines_of(s.stderr_text())
        check(lines, 'nothing logged')
        bad = [line for line in lines if not TIMESTAMPED_RE.match(line)]
        check(not bad, 'lines without the timestamp and [level]: %s' % bad[:5])


@run.case
def startup_errors_in_journal():
    """Start-up messages that are not log lines (config errors, -t) get the
    prefix too, and otherwise stay as they were."""
    d = ht.make_tempdir()
    conf = os.path.join(d, 'bad.conf')
    with open(conf, 'w') as f:
        f.write('root = %s\nheader_timeout = banana\n' % ht.STATIC)
        f.write(''.join(line + '\n' for line in ht.user_lines()))
    good = os.path.join(d, 'good.conf')
    with open(good, 'w') as f:
        f.write('root = %s\n' % ht.STATIC)
        f.write(''.join(line + '\n' for line in ht.user_lines()))
    for journal in (True, False):
        for path, rc in ((conf, 78), (good, 0)):
            err_path = os.path.join(d, 'stderr-%s-%d.log' % (journal, rc))
            with open(err_path, 'wb') as err:
                st = os.fstat(err.fileno())
                env = dict(os.environ)
                env.pop('JOURNAL_STREAM', None)
                if journal:
                    env['JOURNAL_STREAM'] = '%d:%d' % (st.st_dev, st.st_ino)
                p = subprocess.run(ht.hellod_cmd(['-c', path] + (['-t'] if rc == 0 else [])),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=err, env=env, timeout=ht.slow(10))
            check_eq(p.returncode, rc, 'exit status of hellod -c %s' % path)
            with open(err_path, encoding='utf-8', errors='replace') as f:
                lines = lines_of(f.read())
            if rc == 78:
                want = ['%s:2: header_timeout: ' % conf,
                        'hellod: configuration %s has errors' % conf]
                prio = '<3>'
            else:
                want = ['hellod: configuration %s ok' % good]
                prio = '<6>'
            check_eq(len(lines), len(want), 'lines of %s' % lines)
            for line, start in zip(lines, want):
                start = (prio if journal else '') + start
                check(line.startswith(start), 'line %r does not start with %r' % (line, start))


if __name__ == '__main__':
    run.run()
