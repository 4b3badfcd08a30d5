#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Responses held inside hellod: small socket buffers in a private netns.

On loopback the kernel's send buffers grow to megabytes, so responses
rarely stay queued inside hellod. This script re-runs itself in a new
network namespace (unshare -n, as root) whose TCP buffers are fixed at
4 KiB (net.ipv4.tcp_wmem/tcp_rmem are per namespace), so a few pipelined
responses are enough to leave some in hellod's own output buffer.
"""

import fcntl
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hellodtest as ht  # noqa: E402
from hellodtest import check, check_eq  # noqa: E402

NETNS_FLAG = 'HELLOD_TEST_SMALL_BUFFERS_NETNS'
BUF = 4096


def lo_up():
    """Bring up the new namespace's loopback (as `ip link set lo up`,
    without needing iproute2)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, siocgifflags, struct.pack('16sh', b'lo', 0))
        flags = struct.unpack('16sh', ifr[:18])[1]
        fcntl.ioctl(s, siocsifflags, struct.pack('16sh', b'lo', flags | iff_up))


def enter_netns():
    """Re-run this script in a fresh network namespace with small buffers."""
    if os.environ.get(NETNS_FLAG) == '1':
        lo_up()
        for name in ('tcp_wmem', 'tcp_rmem'):
            with open('/proc/sys/net/ipv4/' + name, 'w') as f:
                f.write('%d %d %d' % (BUF, BUF, BUF))
        return
    if os.geteuid() != 0:
        print('# SKIP: needs root for a private network namespace')
        sys.exit(77)
    env = dict(os.environ)
    env[NETNS_FLAG] = '1'
    os.execvpe('unshare', ['unshare', '--net', sys.executable,
                           os.path.abspath(__file__)] + sys.argv[1:], env)


enter_netns()

run = ht.Runner('test_small_buffers', script_timeout=120)
HELLO = ht.hello_bytes()


@run.case
def half_close_during_sleep_with_queued_output():
    # Pipelined GET / responses that the kernel cannot take stay queued in
    # hellod while the /sleep after them waits; the client then shuts its
    # side. hellod writes the queued responses, never answers the /sleep,
    # closes, and the sleeping gauge goes back to 0.
    mport = ht.free_port()
    with ht.Server(sleep='3s', options={'keepalive_timeout': '10s',
                                        'metrics_listen': '%s:%d' % (ht.HOST, mport)}) as s:
        check(ht.wait_for(lambda: not ht.connect_refused(mport), ht.slow(5), 0.05),
              'nothing listens on metrics_listen')
        n = 30
        with s.conn(timeout=ht.slow(10), rcvbuf=BUF) as c:
            c.send(b''.join(ht.build_request('GET', '/') for _ in range(n))
                   + ht.build_request('GET', '/sleep'))
            check(ht.wait_for(lambda: ht.metric(mport, 'hellod_http_requests_sleeping') == 1,
                              ht.slow(2)), '/sleep never counted as sleeping')
            time.sleep(0.2)
            me = c.sock.getsockname()[1]
            srv_tx, _ = ht.tcp_queues(s.port, me)
            _, cli_rx = ht.tcp_queues(me, s.port)
            # Every response is at least len(HELLO) bytes: what the kernel
            # holds is less than all of them, so the rest is in hellod.
            ht.note('kernel holds %d (hellod send queue) + %d (client receive queue) bytes '
                    'of %d responses (> %d bytes)' % (srv_tx, cli_rx, n, n * len(HELLO)))
            check(srv_tx + cli_rx < n * len(HELLO),
                  'the kernel took every response (%d + %d bytes): nothing is queued in '
                  'hellod, so this case tests nothing' % (srv_tx, cli_rx))
            c.sock.shutdown(socket.SHUT_WR)
            check(ht.wait_for(lambda: ht.metric(mport, 'hellod_http_requests_sleeping') == 0,
                              ht.slow(2)),
                  'hellod_http_requests_sleeping still %g after the client half-closed'
                  % ht.metric(mport, 'hellod_http_requests_sleeping'))
            for i in range(n):
                try:
                    ht.check_page(c.read_response(), 200, HELLO)
                except ht.TestFailure as e:
                    raise ht.TestFailure('queued response %d of %d: %s' % (i + 1, n, e))
            got, how = c.wait_closed(ht.slow(5))
            check_eq(got, b'', 'bytes after the queued responses (the /sleep must not be answered)')
        check(ht.wait_for(lambda: ht.metric(mport, 'hellod_connections_open') == 0, ht.slow(2)),
              'connection still open after the close')
        check_eq(ht.metric(mport, 'hellod_http_requests_sleeping'), 0.0,
                 'sleeping gauge after the connection closed')


if __name__ == '__main__':
    run.run()
