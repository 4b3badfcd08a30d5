/* SPDX-License-Identifier: ISC */
/*
 * What hellod tells systemd while it runs, from the main loop: the
 * STATUS= line (what it serves, then live figures once a second, for
 * systemctl status) and WATCHDOG=1 pings, sent only while every worker's
 * loop runs (their heartbeats say so). Below daemon.c, which starts it
 * once the server is ready; it talks to systemd through systemd.c.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>

#include "hellod.h"

static void	notify_status_cb(evutil_socket_t, short, void *);
static void	notify_watchdog_cb(evutil_socket_t, short, void *);

/* "serving on ADDR, ADDR, root DIR, N worker(s)", for STATUS=. */
void
notify_status_line(struct server *s, char *buf, size_t size)
{
	struct worker	*w0 = &s->s_workers[0];
	size_t		 i, len;

	len = (size_t)snprintf(buf, size, "serving on");
	for (i = 0; i < w0->w_nlisteners && len < size; i++) {
		/* Stored sockets of one address may all be worker 0's. */
		if (i > 0 && strcmp(w0->w_listeners[i].l_name,
		    w0->w_listeners[i - 1].l_name) == 0)
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s %s",
		    i > 0 ? "," : "", w0->w_listeners[i].l_name);
	}
	if (len < size)
		snprintf(buf + len, size - len, ", root %s, %u worker(s)",
		    s->s_snap->sn_cf->cf_root, s->s_nworkers);
}

/*
 * Once the server is ready: the live STATUS= timer (under systemd) and,
 * with usec > 0 (WATCHDOG_USEC), WATCHDOG=1 pings every usec / 2.
 */
int
notify_start(struct server *s, uint64_t usec)
{
	struct timeval	tv;

	/* Live figures in STATUS=, for systemctl status: see
	 * notify_status_cb(). */
	if (systemd_available()) {
		s->s_status_ms = clock_now_ms();
		s->s_status_ev = event_new(s->s_base, -1, EV_PERSIST,
		    notify_status_cb, s);
		clock_tv(1000, &tv);
		if (s->s_status_ev == NULL ||
		    event_add(s->s_status_ev, &tv) == -1)
			return (-1);
	}

	if (usec == 0)
		return (0);
	log_info("systemd watchdog: %llu ms, sending WATCHDOG=1 every %llu ms",
	    (unsigned long long)(usec / 1000),
	    (unsigned long long)(usec / 2000));
	usec /= 2;
	if (usec < 1000)
		usec = 1000;	/* a zero timer would spin the loop */
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	s->s_watchdog = event_new(s->s_base, -1, EV_PERSIST,
	    notify_watchdog_cb, s);
	if (s->s_watchdog == NULL || event_add(s->s_watchdog, &tv) == -1)
		return (-1);
	return (0);
}

/*
 * Once a second: the live STATUS= line, "42 connections, 17 sleeping,
 * 1,204 req/s" (req/s over the last second), sent only when its text
 * changed, so an idle server sends nothing. While stopping it says so.
 */
static void
notify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server		*s = arg;
	struct stats		 sum;
	struct stats_server	 ss;
	char			 line[sizeof s->s_status];
	uint64_t		 now = clock_now_ms(), reqs, rps;
	size_t			 n = 0;

	(void)fd;
	(void)what;
	stats_server(s, &sum, &ss);
	reqs = stats_total_requests(&sum);
	rps = now > s->s_status_ms && reqs >= s->s_status_reqs ?
	    ((reqs - s->s_status_reqs) * 1000 + (now - s->s_status_ms) / 2) /
	    (now - s->s_status_ms) : 0;
	s->s_status_reqs = reqs;
	s->s_status_ms = now;
	if (s->s_stopping)
		n = (size_t)snprintf(line, sizeof line, "stopping: ");
	(void)stats_status(line + n, sizeof line - n, ss.ss_open,
	    stats_get(&sum.st_sleeping), rps);
	if (strcmp(line, s->s_status) == 0)
		return;
	(void)snprintf(s->s_status, sizeof s->s_status, "%s", line);
	systemd_notify("STATUS=%s", line);
}

/*
 * Ping systemd's watchdog if every running worker's loop has run within
 * the watchdog interval; a stuck worker withholds the ping (logged once).
 */
static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server	*s = arg;
	struct worker	*w;
	uint64_t	 now = clock_now_ms(), beat;
	unsigned int	 k;

	(void)fd;
	(void)what;
	for (k = 0; k < s->s_nworkers; k++) {
		w = &s->s_workers[k];
		if (!w->w_started)
			continue;	/* exited: drained */
		beat = atomic_load_explicit(&w->w_heartbeat,
		    memory_order_relaxed);
		if (now > beat && now - beat >= s->s_watchdog_ms) {
			if (!s->s_stuck_warned)
				log_error("worker %u stuck for %llu ms: not "
				    "sending WATCHDOG=1", k,
				    (unsigned long long)(now - beat));
			s->s_stuck_warned = 1;
			return;
		}
	}
	if (s->s_stuck_warned) {
		log_info("all workers running again: sending WATCHDOG=1");
		s->s_stuck_warned = 0;
	}
	systemd_notify_watchdog();
}
