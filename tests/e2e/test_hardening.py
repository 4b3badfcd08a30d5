#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""The hardened build: `hardening-check` (Debian devscripts) on the built
server/hellod and on the hellod that `make install DESTDIR=...` installs.

Every line of its report must say "yes", with three exceptions, each checked
some other way instead of being waved through:

  Fortify Source functions   may be missing only when configure left
                             _FORTIFY_SOURCE out on purpose and said why
                             (HELLOD_FORTIFY=off:..., --enable-sanitizers or
                             no -O).
  Stack clash protection     hardening-check (devscripts 2.23) looks for one
                             probing-loop sequence that gcc 12 does not emit:
                             even a 100 KiB frame built with
                             -fstack-clash-protection is "unknown" to it. So
                             on "unknown" every server/*.c compile unit's
                             DW_AT_producer (gcc records its switches with -g,
                             clang with configure's -grecord-command-line)
                             must list -fstack-clash-protection.
  Control flow integrity     the IBT/SHSTK note survives linking only if every
                             input has it, and Debian 12's glibc crt files
                             (Scrt1.o, crti.o, crtn.o) do not. So a "no" is
                             accepted only if an empty program linked by the
                             same $CC with -fcf-protection gets "no" too, and
                             every server/*.c unit was built with
                             -fcf-protection. Where the toolchain can mark a
                             program, hellod must be marked.

A control case runs the same judgement on a deliberately unhardened program
and expects it to fail. A build configured with --disable-hardening fails
this test. Skips (77) when hardening-check is not installed."""

import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check  # noqa: E402

run = ht.Runner('test_hardening', script_timeout=300, case_timeout=150)

ART = os.path.join(ht.BUILDDIR, 'tests', 'e2e', 'artifacts')
DESTDIR = os.path.join(ART, 'hardening-destdir')
SCRATCH = os.path.join(ART, 'hardening-scratch')
SBINDIR = os.environ.get('HELLOD_SBINDIR', '')
CC = shlex.split(os.environ.get('HELLOD_CC') or 'cc')
# yes / cflags / off:WHY / disabled: what configure did about _FORTIFY_SOURCE.
FORTIFY = os.environ.get('HELLOD_FORTIFY', 'yes')
CHECKER = shutil.which('hardening-check')
READELF = shutil.which('readelf')

EMPTY_C = 'int\nmain(void)\n{\n\treturn (0);\n}\n'
# Unhardened on purpose: no stack protector, no PIE, lazy binding, no RELRO,
# no CET, and a fortifiable call built without _FORTIFY_SOURCE.
WEAK_C = ('#include <stdio.h>\n#include <string.h>\n'
          'int\nmain(int argc, char **argv)\n{\n\tchar b[64];\n\n'
          '\tsnprintf(b, sizeof(b), "%s", argv[0]);\n'
          '\tmemcpy(b, argv[0], strlen(argv[0]) % sizeof(b));\n'
          '\treturn (b[argc]);\n}\n')
WEAK_FLAGS = ['-O2', '-g', '-U_FORTIFY_SOURCE', '-fno-stack-protector',
              '-fno-stack-clash-protection', '-fcf-protection=none', '-fno-PIE',
              '-no-pie', '-Wl,-z,lazy', '-Wl,-z,norelro']
_cache = {}


def require_tools():
    if CHECKER is None:
        raise ht.Skip('hardening-check not found: install the Debian package devscripts')
    if READELF is None:
        raise ht.Skip('readelf not found: install the Debian package binutils')


def report(path):
    """hardening-check's report on path: {name: verdict}, and the raw text."""
    p = subprocess.run([CHECKER, path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors='replace', timeout=120)
    lines = {}
    for line in p.stdout.splitlines():
        m = re.match(r'^ (\S.*?): (.*)$', line)
        if m:
            lines[m.group(1)] = m.group(2)
    check(len(lines) >= 7, 'hardening-check %s printed no report (rc %d):\n%s'
          % (path, p.returncode, p.stdout[-2000:]))
    return lines, p.stdout.rstrip()


def producers(path):
    """{compile unit name: DW_AT_producer} of path's server/*.c units."""
    p = subprocess.run([READELF, '--debug-dump=info', '--dwarf-depth=1', path],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True, errors='replace',
                       timeout=120)
    units, cur = {}, None
    for line in p.stdout.splitlines():
        if 'DW_TAG_compile_unit' in line:
            cur = {}
        elif cur is not None:
            m = re.search(r'DW_AT_(producer|name)\s*:\s*'
                          r'(?:\((?:indirect|indexed) [^)]*\):\s*)?(.*)$', line)
            if m:
                cur[m.group(1)] = m.group(2).strip()
                if 'name' in cur and 'producer' in cur:
                    if re.search(r'(^|/)server/[a-z_]+\.c$', cur['name']):
                        units[cur['name']] = cur['producer']
                    cur = None
    return units


def units_built_with(path, flag_re, what):
    """Problems if some server/*.c unit of path was not built with flag_re."""
    units = producers(path)
    if not any(n.endswith('server/main.c') for n in units):
        return ['%s: cannot tell: no DW_AT_producer for server/main.c in %s '
                '(build with -g; with clang also -grecord-command-line)' % (what, path)]
    return ['%s: %s was built without it (%s)' % (what, n, p)
            for n, p in sorted(units.items()) if not re.search(flag_re, p)]


def compile_program(name, source, flags):
    """Build SCRATCH/name from source with $CC and flags; returns its path."""
    os.makedirs(SCRATCH, exist_ok=True)
    src = os.path.join(SCRATCH, name + '.c')
    out = os.path.join(SCRATCH, name)
    with open(src, 'w', encoding='utf-8') as f:
        f.write(source)
    p = subprocess.run(CC + flags + ['-o', out, src], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors='replace', timeout=120)
    check(p.returncode == 0, '%s %s failed:\n%s'
          % (' '.join(CC + flags), src, p.stdout[-2000:]))
    return out


def toolchain_marks_cet():
    """Does $CC -fcf-protection give even an empty program the IBT/SHSTK note?"""
    if 'cet' not in _cache:
        ref = compile_program('cet-empty', EMPTY_C, ['-fcf-protection'])
        lines, _ = report(ref)
        _cache['cet'] = lines.get('Control flow integrity', '').startswith('yes')
        if not _cache['cet']:
            ht.note('an empty program linked by %s -fcf-protection has no '
                    'IBT/SHSTK note either (the C library\'s crt files lack it), '
                    'so hellod cannot have one' % ' '.join(CC))
    return _cache['cet']


def problems(path, fortify=None, units=True):
    """What is not hardened in the binary at path (empty: all good)."""
    fortify = FORTIFY if fortify is None else fortify
    lines, text = report(path)
    ht.note('hardening-check %s:' % path)
    for line in text.splitlines()[1:]:
        ht.note('  ' + line.strip())
    bad = []
    for name in ('Position Independent Executable', 'Stack protected',
                 'Read-only relocations', 'Immediate binding'):
        if not lines.get(name, '').startswith('yes'):
            bad.append('%s: %s' % (name, lines.get(name, 'not reported')))

    name = 'Fortify Source functions'
    got = lines.get(name, 'not reported')
    if fortify.startswith('off:'):
        ht.note('%s: %s (configure left _FORTIFY_SOURCE out: %s)'
                % (name, got, fortify[4:]))
    elif not got.startswith('yes'):
        bad.append('%s: %s (configure: %s)' % (name, got, fortify))

    name = 'Stack clash protection'
    got = lines.get(name, 'not reported')
    if not got.startswith('yes'):
        if not got.startswith('unknown') or not units:
            bad.append('%s: %s' % (name, got))
        else:
            bad += units_built_with(path, r'(^| )-fstack-clash-protection( |$)', name)

    name = 'Control flow integrity'
    got = lines.get(name, 'not reported')
    if not got.startswith('yes'):
        if toolchain_marks_cet() or not units:
            bad.append('%s: %s' % (name, got))
        else:
            bad += units_built_with(path, r'(^| )-fcf-protection(=full)?( |$)', name)
    return bad


def install():
    """`make install DESTDIR=...` once; returns the installed hellod."""
    if 'installed' in _cache:
        return _cache['installed']
    check(SBINDIR != '', 'HELLOD_SBINDIR not set: run through make check')
    ht.make_install(DESTDIR)
    path = os.path.normpath(DESTDIR + '/' + SBINDIR + '/hellod')
    check(os.path.isfile(path), 'make install put no hellod at %s' % path)
    _cache['installed'] = path
    return path


@run.case
def built_binary_hardened():
    require_tools()
    bad = problems(ht.hellod_path())
    check(not bad, 'built %s is not hardened:\n%s' % (ht.HELLOD, '\n'.join(bad)))


@run.case
def installed_binary_hardened():
    require_tools()
    path = install()
    bad = problems(path)
    check(not bad, 'installed %s is not hardened:\n%s' % (path, '\n'.join(bad)))


@run.case
def unhardened_program_fails():
    # The control: the same judgement on a program built without any of
    # it must find PIE, the stack protector, RELRO, BIND_NOW and fortify
    # missing (and stack clash and CET not proven either way).
    require_tools()
    weak = compile_program('weak', WEAK_C, WEAK_FLAGS)
    bad = problems(weak, fortify='yes', units=False)
    ht.note('unhardened control: %d problem(s) found' % len(bad))
    for want in ('Position Independent Executable', 'Stack protected',
                 'Read-only relocations', 'Immediate binding',
                 'Fortify Source functions', 'Stack clash protection',
                 'Control flow integrity'):
        check(any(b.startswith(want + ':') for b in bad),
              'an unhardened program passes the %r check: %s' % (want, bad))


if __name__ == '__main__':
    run.run()
