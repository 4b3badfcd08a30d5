#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Documentation stays in step with the program: every config key printed by
`hellod -h` is documented in conf/hellod.conf and, with the same default, in
the hellod.conf(5) man page; hellod(8) documents the options and exit codes;
every metric family a live hellod exposes on its `metrics_listen` port is
documented in hellod(8)'s METRICS section, and no other; both man pages
render without warnings. README.md, the front door, is at most 300 lines,
holds the two quick-start commands as they are, and names only options,
keys, metric families and files that exist."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check  # noqa: E402

run = ht.Runner('test_docs', script_timeout=60)
README = os.path.join(ht.SRCDIR, 'README.md')
CONF = os.path.join(ht.SRCDIR, 'conf', 'hellod.conf')
# The man pages as built (make fills in the configured paths, e.g. the
# default `root`), so their defaults must equal what this hellod prints.
MAN8 = os.path.join(ht.BUILDDIR, 'server', 'hellod.8')
MAN5 = os.path.join(ht.BUILDDIR, 'conf', 'hellod.conf.5')
HEADER = os.path.join(ht.SRCDIR, 'server', 'hellod.h')
README_MAX_LINES = 300
# The two quick-start commands, each a line of README.md as it is: .ci/run
# greps README.md for the second and runs it.
README_BUILD_AND_START = (
    'apt-get update && apt-get install -y build-essential autoconf automake '
    'autoconf-archive pkg-config libevent-dev libsystemd-dev check python3 && '
    'autoreconf -fi && ./configure && make -j2 && server/hellod -c conf/hellod.conf')
README_TEST_ALL = ('tests/install-deps && autoreconf -fi && ./configure '
                   '--enable-werror && make -j2 && make check-all')


def help_keys():
    """Keys from the table after `Configuration keys:` in `hellod -h`: the first
    word of each indented line up to the first non-indented line."""
    return list(help_defaults())


def help_defaults():
    """{key: default} from `hellod -h`'s key table, in table order: the
    second word of each key line (defaults contain no blanks)."""
    p = ht.run_hellod(['-h'])
    check(p.returncode == 0, 'hellod -h exited %d' % p.returncode)
    lines = p.stdout.splitlines()
    start = None
    for i, line in enumerate(lines):
        if line.strip().lower().startswith('configuration keys'):
            start = i + 1
            break
    check(start is not None, 'no "Configuration keys:" line in hellod -h: %r' % p.stdout[-600:])
    keys = {}
    for line in lines[start:]:
        if not line.strip():
            if keys:
                break           # blank line ends the table
            continue
        if not line[0].isspace():
            break
        words = line.split()
        if re.match(r'^[a-z][a-z0-9_]*$', words[0]):
            check(len(words) >= 2, 'hellod -h: no default on %r' % line)
            check(words[0] not in keys, 'keys listed twice: %s' % words[0])
            keys[words[0]] = words[1]
    return keys


def man_keys():
    """{key: [defaults]} from the KEYS section of the built hellod.conf(5):
    each `.It Ic KEY ...` entry must hold `Default:` followed by a line
    `.Ql VALUE .`, or the line `Default: not set.` for a key that `hellod -h`
    shows with the default `-` (see the comment at the top of
    conf/hellod.conf.5.in)."""
    text = read(MAN5)
    m = re.search(r'(?ms)^\.Sh KEYS\n(.*?)^\.Sh ', text)
    check(m is not None, '%s: no ".Sh KEYS" section' % MAN5)
    entries = re.split(r'(?m)^\.It Ic ', m.group(1))[1:]
    check(entries, '%s: no ".It Ic KEY" entries in KEYS' % MAN5)
    keys = {}
    for e in entries:
        name = e.split()[0]
        check(name not in keys, '%s: key %s documented twice' % (MAN5, name))
        keys[name] = (re.findall(r'(?m)^Default:\n\.Ql (\S+) \.$', e)
                      + ['-' for _ in re.findall(r'(?m)^Default: not set\.$', e)])
    return keys


def read(path):
    check(os.path.isfile(path), 'missing %s' % path)
    with open(path, encoding='utf-8') as f:
        return f.read()


@run.case
def help_key_table_complete():
    keys = help_keys()
    ht.note('hellod -h keys: %s' % ' '.join(keys))
    missing = [k for k in ht.SPEC_KEYS if k not in keys]
    check(not missing, 'hellod -h key table lacks %s' % missing)
    dups = sorted({k for k in keys if keys.count(k) > 1})
    check(not dups, 'keys listed twice: %s' % dups)


@run.case
def readme_is_short():
    n = len(read(README).splitlines())
    ht.note('README.md: %d lines' % n)
    check(n <= README_MAX_LINES, 'README.md has %d lines, more than %d: the reference '
          'belongs in the man pages and tests/*/README' % (n, README_MAX_LINES))


@run.case
def readme_has_the_quick_start_commands():
    lines = read(README).splitlines()
    for cmd in (README_BUILD_AND_START, README_TEST_ALL):
        check(cmd in lines, 'README.md has no line that is exactly %r' % cmd)


@run.case
def readme_names_only_known_keys():
    """Every key README.md sets, as `-o KEY=VALUE` or as a `KEY = VALUE`
    line or quote, is one that `hellod -h` lists."""
    keys = set(help_keys())
    text = read(README)
    named = (re.findall(r'-o ([a-z_]+)=', text)
             + re.findall(r'(?m)(?:^|`)([a-z_]+) = ', text))
    check(len(named) >= 3, 'README.md sets hardly any keys: %r' % named)
    unknown = sorted(set(named) - keys)
    check(not unknown, 'README.md sets keys hellod does not know: %s' % unknown)


# Files README.md names that are neither in the source nor the build tree:
# tests/install-deps is command two's first step, which .ci/run runs.
README_PATHS_ELSEWHERE = ('tests/install-deps',)


@run.case
def readme_names_only_existing_files():
    """Every relative path README.md names under server/, conf/, static/,
    tests/ or packaging/ (a link target, a file in a command) exists in the
    source tree or, for what make builds, in the build tree."""
    text = read(README)
    paths = sorted(set(re.findall(
        r'(?<![\w/.~-])((?:server|conf|static|tests|packaging)/[\w./-]*[\w/])', text)))
    check(len(paths) >= 8, 'README.md names only %r' % paths)
    missing = [p for p in paths if p not in README_PATHS_ELSEWHERE
               and not os.path.exists(os.path.join(ht.SRCDIR, p))
               and not os.path.exists(os.path.join(ht.BUILDDIR, p))]
    check(not missing, 'README.md names files that do not exist: %s' % missing)


@run.case
def conf_documents_every_key():
    keys = help_keys()
    text = read(CONF)
    missing = [k for k in keys
               if not re.search(r'(?m)^\s*(#\s*)?%s\s*=' % re.escape(k), text)]
    check(not missing, 'conf/hellod.conf has no "KEY =" or "# KEY =" line for %s' % missing)


@run.case
def conf_mentions_only_known_keys():
    keys = set(help_keys())
    text = read(CONF)
    unknown = sorted({m.group(2) for m in re.finditer(r'(?m)^\s*(#\s*)?([a-z_]+)\s*=', text)}
                     - keys)
    check(not unknown, 'conf/hellod.conf sets or documents unknown keys %s' % unknown)


@run.case
def man_documents_every_key_with_its_default():
    want = help_defaults()
    got = man_keys()
    ht.note('hellod.conf.5 keys: %s' % ' '.join(got))
    missing = [k for k in want if k not in got]
    check(not missing, 'hellod.conf.5 KEYS lacks %s' % missing)
    extra = sorted(set(got) - set(want))
    check(not extra, 'hellod.conf.5 documents keys hellod does not know: %s' % extra)
    wrong = ['%s: man %s, hellod -h %r' % (k, got[k] or 'no "Default:" line', want[k])
             for k in want if got[k] != [want[k]]]
    check(not wrong, 'hellod.conf.5 defaults differ from hellod -h: %s' % '; '.join(wrong))


def help_options():
    """The single-letter options of the `usage:` line of `hellod -h`."""
    p = ht.run_hellod(['-h'])
    m = re.search(r'(?m)^usage: hellod (.*)$', p.stdout)
    check(m is not None, 'no "usage: hellod" line in hellod -h')
    opts = re.findall(r'\[-([A-Za-z])\b', m.group(1))
    check(opts, 'no options in %r' % m.group(0))
    return opts


@run.case
def man8_documents_options_and_exit_codes():
    text = read(MAN8)
    opts = help_options()
    missing = [o for o in opts if not re.search(r'(?m)^\.It Fl %s\b' % o, text)]
    check(not missing, 'hellod.8 has no ".It Fl X" entry for options %s' % missing)
    # Every HELLOD_EXIT_* code of hellod.h, and 0, in the EXIT STATUS list.
    codes = ['0'] + re.findall(r'(?m)^#define\s+HELLOD_EXIT_\w+\s+(\d+)', read(HEADER))
    check(len(codes) > 1, 'no HELLOD_EXIT_* in %s' % HEADER)
    m = re.search(r'(?ms)^\.Sh EXIT STATUS\n(.*?)^\.Sh ', text)
    check(m is not None, 'hellod.8: no EXIT STATUS section')
    listed = re.findall(r'(?m)^\.It (\d+)$', m.group(1))
    check(sorted(listed, key=int) == sorted(codes, key=int),
          'hellod.8 EXIT STATUS lists %s, hellod.h has %s' % (listed, codes))


def render_warnings(page):
    """Warnings from formatting page as man(1) does on Debian (groff with
    -mandoc, every warning on) and, when installed, from `mandoc -T lint`
    at level warning (style hints are not counted)."""
    out = []
    env = dict(os.environ, LC_ALL='C.UTF-8', MANWIDTH='80')
    p = subprocess.run(['groff', '-mandoc', '-Tutf8', '-ww', '-z', page],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=30, env=env)
    if p.returncode != 0 or p.stderr.strip():
        out.append('groff rc %d: %s' % (p.returncode, p.stderr.strip()))
    if shutil.which('mandoc'):
        p = subprocess.run(['mandoc', '-T', 'lint', '-W', 'warning', page],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=30, env=env)
        if p.returncode != 0 or p.stdout.strip():
            out.append('mandoc -T lint rc %d: %s' % (p.returncode, p.stdout.strip()))
    return out


@run.case
def man_pages_render_without_warnings():
    check(shutil.which('groff'), 'groff not found: install groff-base (man-db needs it)')
    if not shutil.which('mandoc'):
        ht.note('mandoc not installed: only groff checks the pages')
    for page in (MAN8, MAN5):
        read(page)
        bad = render_warnings(page)
        check(not bad, '%s: %s' % (page, ' | '.join(bad)))


@run.case
def readme_options_are_documented():
    """README.md shows -c, -o and -t, and every option it gives hellod on a
    command line has its entry in hellod(8), which man8_documents_options_
    and_exit_codes holds to the usage line."""
    text = read(README)
    missing = [o for o in ('-c', '-o', '-t') if not re.search(r'`%s\b' % re.escape(o), text)
               and not re.search(r'(?m)^\s*(server/)?hellod .*%s\b' % re.escape(o), text)]
    check(not missing, 'README.md does not mention options %s' % missing)
    used = set()
    for line in re.findall(r'(?m)(?:^|&& |`)(?:server/)?hellod( [^`\n]*)', text):
        used.update(re.findall(r' -([A-Za-z])\b', line))
    check({'c', 'o', 't'} <= used, 'README.md runs hellod only with %s' % sorted(used))
    man = read(MAN8)
    undocumented = sorted(o for o in used if not re.search(r'(?m)^\.It Fl %s\b' % o, man))
    check(not undocumented, 'README.md uses options hellod.8 does not document: %s'
          % undocumented)


def live_metric_families():
    """The family names (`# TYPE` lines) a live hellod's /metrics has."""
    with ht.Server(options={'metrics_listen': '%s:%d' % (ht.HOST, ht.free_port())}) as s:
        port = int(s.options['metrics_listen'].rsplit(':', 1)[1])
        check(ht.wait_for(lambda: not ht.connect_refused(port), ht.slow(5)),
              'nothing listens on metrics_listen port %d' % port)
        r = ht.http(port, 'GET', '/metrics')
    check(r.status == 200, 'GET /metrics: %d' % r.status)
    names = re.findall(r'(?m)^# TYPE (\S+) ', r.body.decode('utf-8'))
    check(len(names) > 10, 'only %d families in /metrics: %r' % (len(names), names))
    return names


def section(text, start, end, what):
    m = re.search(r'(?ms)^%s\n(.*?)^%s' % (start, end), text)
    check(m is not None, 'no %s section' % what)
    return m.group(1)


@run.case
def metric_families_documented():
    names = live_metric_families()
    ht.note('%d metric families: %s' % (len(names), ' '.join(names)))
    # README.md names a few families as examples: each must exist.
    readme = section(read(README), '## Metrics', '## ', 'README.md "## Metrics"')
    named = set(re.findall(r'`((?:hellod|process)_[a-z_]+)`', readme))
    check(len(named) >= 3, 'README.md "## Metrics" names hardly any families: %r' % named)
    stale = sorted(n for n in named if n not in names)
    check(not stale, 'README.md names metric families hellod does not expose: %s' % stale)
    man = section(read(MAN8), r'\.Sh METRICS', r'\.Sh ', 'hellod.8 METRICS')
    items = [w for line in re.findall(r'(?m)^\.It Li (.*)$', man)
             for w in re.findall(r'[a-z_]+', line) if w not in ('Pq', 'Ar', 'Li')]
    missing = [n for n in names if n not in items]
    check(not missing, 'hellod.8 METRICS has no ".It Li NAME" for %s' % missing)
    stale = [w for w in items if re.match(r'^(hellod|process)_', w) and w not in names]
    check(not stale, 'hellod.8 METRICS documents families hellod does not expose: %s'
          % stale)


if __name__ == '__main__':
    run.run()
