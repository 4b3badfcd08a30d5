#!/usr/bin/env python3
"""Documentation stays in step with the program: every config key printed by
`hellod -h` is documented in README.md (table row) and in conf/hellod.conf."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check  # noqa: E402

run = ht.Runner('test_docs', script_timeout=60)
README = os.path.join(ht.SRCDIR, 'README.md')
CONF = os.path.join(ht.SRCDIR, 'conf', 'hellod.conf')


def help_keys():
    """Keys from the table after `Configuration keys:` in `hellod -h`: the first
    word of each indented line up to the first non-indented line."""
    p = ht.run_hellod(['-h'])
    check(p.returncode == 0, 'hellod -h exited %d' % p.returncode)
    lines = p.stdout.splitlines()
    start = None
    for i, line in enumerate(lines):
        if line.strip().lower().startswith('configuration keys'):
            start = i + 1
            break
    check(start is not None, 'no "Configuration keys:" line in hellod -h: %r' % p.stdout[-600:])
    keys = []
    for line in lines[start:]:
        if not line.strip():
            if keys:
                break           # blank line ends the table
            continue
        if not line[0].isspace():
            break
        word = line.split()[0]
        if re.match(r'^[a-z][a-z0-9_]*$', word):
            keys.append(word)
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
def readme_documents_every_key():
    keys = help_keys()
    text = read(README)
    missing = [k for k in keys
               if not re.search(r'(?m)^\|\s*`%s`' % re.escape(k), text)]
    check(not missing, 'README.md has no table row "| `KEY`" for %s' % missing)


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
def readme_documents_options():
    text = read(README)
    missing = [o for o in ('-c', '-t', '-h', '-V') if not re.search(r'`%s\b' % re.escape(o), text)
               and not re.search(r'(?m)^\s*hellod .*%s\b' % re.escape(o), text)]
    check(not missing, 'README.md does not mention options %s' % missing)


if __name__ == '__main__':
    run.run()
