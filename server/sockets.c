/* SPDX-License-Identifier: ISC */
/*
 * The server's listening sockets as a whole: where they come from at
 * start, and how they outlive the process.
 *
 * At start hellod takes what systemd passes (sd_listen_fds_with_names()):
 *   - sockets of a .socket unit (any name but ours): hellod serves on
 *     exactly those and ignores its `listen` keys;
 *   - sockets it handed to systemd's file-descriptor store in an earlier
 *     run, named "listen_ADDR" or "metrics_ADDR" (ADDR as 127.0.0.1_7878
 *     or [__1]_7878: systemd's names may not hold ':'). Each is matched to
 *     a `listen` (or `metrics_listen`) address by its name and by
 *     getsockname(); every one that matches is served, by as many workers
 *     as there are (a worker may serve several, or share one), so that no
 *     connection queued in it is lost when `workers` changed. One that no
 *     longer matches is removed from the store (FDSTOREREMOVE=1) and
 *     closed: the connections queued in it are reset.
 * Only what is still missing is bound. With more than one worker each
 * binds its own socket with SO_REUSEPORT; a probe bind first makes sure
 * nobody else (another hellod) serves the address already
 * (listener_open()).
 *
 * Once ready, hellod hands every socket it bound or took from the store
 * to the store (FDSTORE=1): systemd keeps a copy, which keeps listening
 * while no hellod runs, so connections that arrive during a restart wait
 * in the kernel's queue for the next process instead of being refused.
 * Without systemd, or with FileDescriptorStoreMax=0, nothing is kept and
 * a restart binds anew, as before.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

/* The running configuration. */
#define sockets_cf(s)	((s)->s_snap->sn_cf)

enum sockets_kind {
	SOCKETS_UNIT,		/* from a .socket unit */
	SOCKETS_LISTEN,		/* from the store: a `listen` address */
	SOCKETS_METRICS,	/* from the store: metrics_listen */
};

/* One socket systemd passed. */
struct sockets_passed {
	int			 p_fd;
	const char		*p_name;
	enum sockets_kind	 p_kind;
	int			 p_taken;	/* served, or closed */
	struct sockaddr_storage	 p_ss;
	socklen_t		 p_sslen;
};

static const char *const sockets_prefix[] = {
	[SOCKETS_LISTEN] = "listen_",
	[SOCKETS_METRICS] = "metrics_",
};

/*
 * The store name of a socket bound to sa: PREFIX then the address with
 * each ':' as '_', e.g. listen_127.0.0.1_7878.
 */
static void
sockets_name(enum sockets_kind kind, const struct sockaddr *sa,
    socklen_t len, char *buf, size_t size)
{
	char	addr[64], *p;

	addr_format(sa, len, addr, sizeof addr);
	for (p = addr; *p != '\0'; p++) {
		if (*p == ':')
			*p = '_';
	}
	(void)snprintf(buf, size, "%s%s", sockets_prefix[kind], addr);
}

/*
 * Is a socket bound to b what the configured address a asks for? The
 * same family and address, and the same port or a is port 0 (any).
 */
static int
sockets_match(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss_family != b->ss_family)
		return (0);
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		return (a4->sin_addr.s_addr == b4->sin_addr.s_addr &&
		    (a4->sin_port == 0 || a4->sin_port == b4->sin_port));
	}
	if (a->ss_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)(const void *)a;
		b6 = (const struct sockaddr_in6 *)(const void *)b;
		return (memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof a6->sin6_addr) == 0 &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    (a6->sin6_port == 0 || a6->sin6_port == b6->sin6_port));
	}
	return (0);
}

/*
 * Sort out what systemd passed. A socket of a .socket unit that hellod
 * cannot serve on is a configuration error (HELLOD_EXIT_CONFIG); one of
 * the store's that is not a listening TCP socket under its own name is
 * dropped from the store.
 */
static int
sockets_sort(struct sockets_passed *p, int n, char **names, char **cause)
{
	enum sockets_kind	 k;
	char			 want[128];
	int			 i, r;

	for (i = 0; i < n; i++) {
		p[i].p_fd = SYSTEMD_LISTEN_FDS_START + i;
		p[i].p_name = names != NULL && names[i] != NULL ? names[i] :
		    "unknown";
		p[i].p_kind = SOCKETS_UNIT;
		for (k = SOCKETS_LISTEN; k <= SOCKETS_METRICS; k++) {
			if (strncmp(p[i].p_name, sockets_prefix[k],
			    strlen(sockets_prefix[k])) == 0)
				p[i].p_kind = k;
		}
		r = systemd_is_socket_inet(p[i].p_fd);
		p[i].p_sslen = sizeof p[i].p_ss;
		if (r > 0 && getsockname(p[i].p_fd,
		    (struct sockaddr *)&p[i].p_ss, &p[i].p_sslen) == -1)
			r = -errno;
		if (p[i].p_kind == SOCKETS_UNIT && r <= 0) {
			if (asprintf(cause, "socket-activated fd %d: %s",
			    p[i].p_fd, r < 0 ? strerror(-r) : "not a "
			    "listening TCP socket (hellod needs ListenStream= "
			    "with an IP address)") == -1)
				*cause = NULL;
			return (HELLOD_EXIT_CONFIG);
		}
		if (p[i].p_kind == SOCKETS_UNIT)
			continue;
		if (r > 0)
			sockets_name(p[i].p_kind,
			    (struct sockaddr *)&p[i].p_ss, p[i].p_sslen, want,
			    sizeof want);
		if (r <= 0 || strcmp(want, p[i].p_name) != 0) {
			log_warnx("fd store: %s (fd %d) is not a listening "
			    "socket of that address: dropped", p[i].p_name,
			    p[i].p_fd);
			systemd_fd_store_remove(p[i].p_name);
			close(p[i].p_fd);
			p[i].p_taken = 1;
		}
	}
	return (0);
}

/*
 * Serve on the stored sockets of one `listen` address, m of them (the
 * indexes in idx): each by one worker if there are at least as many as
 * workers, else each worker takes one, sharing them (a dup()).
 */
static int
sockets_adopt_stored(struct server *s, struct sockets_passed *p,
    const int *idx, unsigned int m, char **cause)
{
	struct worker	*w;
	struct listener	*l;
	unsigned int	 j, n, nw = s->s_nworkers;
	int		 flags;

	if (nw == 0 || m == 0)
		return (0);
	w = &s->s_workers[0];
	n = m > nw ? m : nw;
	for (j = 0; j < n; j++) {
		w = &s->s_workers[j % nw];
		l = &w->w_listeners[w->w_nlisteners];
		flags = LISTENER_STORED | (j > 0 ? LISTENER_QUIET : 0);
		if (listener_adopt(w, p[idx[j % m]].p_fd, j >= m, flags, l,
		    cause) == -1)
			return (HELLOD_EXIT_OSERR);
		l->l_stored = j < m;
		w->w_nlisteners++;
		p[idx[j % m]].p_taken = 1;
	}
	log_info("took %u listening socket(s) of %s back from systemd",
	    m, w->w_listeners[w->w_nlisteners - 1].l_name);
	return (0);
}

/* Bind a `listen` address once per worker (SO_REUSEPORT if > 1). */
static int
sockets_bind(struct server *s, const struct listen_addr *la, char **cause)
{
	struct worker	*w, *w0 = &s->s_workers[0];
	struct listener	*l0;
	unsigned int	 k;
	int		 flags;

	flags = s->s_nworkers > 1 ? LISTENER_REUSEPORT : 0;
	l0 = &w0->w_listeners[w0->w_nlisteners];
	if (listener_open(w0, la, NULL, 0, flags, l0, cause) == -1)
		return (HELLOD_EXIT_OSERR);
	l0->l_stored = 1;
	w0->w_nlisteners++;
	/* The others bind where the first did (port 0: same port). */
	for (k = 1; k < s->s_nworkers; k++) {
		w = &s->s_workers[k];
		if (listener_open(w, la, (struct sockaddr *)&l0->l_ss,
		    l0->l_sslen, flags | LISTENER_QUIET,
		    &w->w_listeners[w->w_nlisteners], cause) == -1)
			return (HELLOD_EXIT_OSERR);
		w->w_listeners[w->w_nlisteners++].l_stored = 1;
	}
	return (0);
}

/* Every `listen` address: on its stored sockets, or bound. */
static int
sockets_listen_config(struct server *s, struct sockets_passed *p, int n,
    char **cause)
{
	struct config	*cf = sockets_cf(s);
	unsigned int	 m;
	size_t		 i;
	int		 j, r, *idx;

	if ((idx = calloc((size_t)n + 1, sizeof *idx)) == NULL) {
		*cause = strdup("out of memory");
		return (HELLOD_EXIT_OSERR);
	}
	for (i = 0; i < cf->cf_nlisten; i++) {
		for (m = 0, j = 0; j < n; j++) {
			if (!p[j].p_taken && p[j].p_kind == SOCKETS_LISTEN &&
			    sockets_match(&cf->cf_listen[i].la_ss, &p[j].p_ss))
				idx[m++] = j;
		}
		if (m > 0)
			r = sockets_adopt_stored(s, p, idx, m, cause);
		else
			r = sockets_bind(s, &cf->cf_listen[i], cause);
		if (r != 0) {
			free(idx);
			return (r);
		}
	}
	free(idx);
	s->s_nlisteners = cf->cf_nlisten;
	return (0);
}

/* Serve on the sockets of a .socket unit; the `listen` keys are ignored. */
static int
sockets_listen_unit(struct server *s, struct sockets_passed *p, int n,
    char **cause)
{
	struct worker	*w;
	unsigned int	 k;
	size_t		 nunit = 0;
	int		 i;

	/* Workers 1.. get a dup() each; worker 0, last, the fd itself. */
	for (i = 0; i < n; i++) {
		if (p[i].p_taken || p[i].p_kind != SOCKETS_UNIT)
			continue;
		for (k = s->s_nworkers; k-- > 0;) {
			w = &s->s_workers[k];
			if (listener_adopt(w, p[i].p_fd, k != 0,
			    k != 0 ? LISTENER_QUIET : 0,
			    &w->w_listeners[w->w_nlisteners], cause) == -1)
				return (HELLOD_EXIT_OSERR);
			w->w_nlisteners++;
		}
		p[i].p_taken = 1;
		nunit++;
	}
	log_info("using %zu socket-activated fd(s) from systemd: the %zu "
	    "`listen` key(s) in %s are ignored", nunit,
	    sockets_cf(s)->cf_nlisten, sockets_cf(s)->cf_path);
	s->s_nlisteners = nunit;
	s->s_activated = 1;
	return (0);
}

/* metrics_listen: on its stored socket, or bound. */
static int
sockets_listen_metrics(struct server *s, struct sockets_passed *p, int n,
    char **cause)
{
	const struct listen_addr	*la = sockets_cf(s)->cf_metrics;
	int				 i, fd = -1;

	if (la == NULL)
		return (0);
	for (i = 0; i < n && fd == -1; i++) {
		if (!p[i].p_taken && p[i].p_kind == SOCKETS_METRICS &&
		    sockets_match(&la->la_ss, &p[i].p_ss)) {
			fd = p[i].p_fd;
			p[i].p_taken = 1;
		}
	}
	if ((s->s_metrics = metrics_open(s, la, fd, cause)) == NULL)
		return (HELLOD_EXIT_OSERR);
	return (0);
}

/*
 * Open every listener: the public ones in each worker, and the metrics
 * one. Returns 0, or the exit status to leave with and a cause:
 * HELLOD_EXIT_CONFIG for a socket of a .socket unit that hellod cannot
 * serve on (the unit must be fixed; retrying cannot help),
 * HELLOD_EXIT_OSERR for failures to bind or listen, and for an address
 * another process serves already.
 */
int
sockets_listen(struct server *s, char **cause)
{
	struct sockets_passed	*p = NULL;
	char			**names = NULL;
	size_t			 per;
	unsigned int		 k;
	int			 i, n, nunit = 0, r;

	*cause = NULL;
	if ((n = systemd_listen_fds(&names)) < 0) {
		if (asprintf(cause, "sd_listen_fds: %s", strerror(-n)) == -1)
			*cause = NULL;
		return (HELLOD_EXIT_OSERR);
	}
	if (n > 0 && (p = calloc((size_t)n, sizeof *p)) == NULL)
		goto oom;
	if ((r = sockets_sort(p, n, names, cause)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		nunit += p[i].p_kind == SOCKETS_UNIT;
	/* At most: every passed socket, or a socket per address. */
	per = (size_t)n + sockets_cf(s)->cf_nlisten;
	for (k = 0; k < s->s_nworkers; k++) {
		s->s_workers[k].w_listeners = calloc(per,
		    sizeof *s->s_workers[k].w_listeners);
		if (s->s_workers[k].w_listeners == NULL)
			goto oom;
	}
	if ((r = sockets_listen_metrics(s, p, n, cause)) != 0)
		goto out;
	if (nunit > 0)
		r = sockets_listen_unit(s, p, n, cause);
	else
		r = sockets_listen_config(s, p, n, cause);
	if (r != 0)
		goto out;
	/* Stored sockets nothing wants any more. */
	for (i = 0; i < n; i++) {
		if (p[i].p_taken)
			continue;
		log_warnx("fd store: %s (fd %d) matches no %s key: removed "
		    "from the store and closed; connections queued in it are "
		    "reset", p[i].p_name, p[i].p_fd,
		    p[i].p_kind == SOCKETS_METRICS ? "metrics_listen" :
		    nunit > 0 ? "socket (hellod.socket serves)" : "listen");
		systemd_fd_store_remove(p[i].p_name);
		close(p[i].p_fd);
		p[i].p_taken = 1;
	}
	goto out;

oom:
	*cause = strdup("out of memory");
	r = HELLOD_EXIT_OSERR;
out:
	/* On failure the caller exits; what was not taken closes then. */
	free(p);
	systemd_names_free(names);
	return (r);
}

/*
 * Hand every listening socket hellod bound or took from the store to
 * systemd's fd store, one message per name (per address), not per
 * socket: with many workers, a message each could fill the notify
 * socket's queue (net.unix.max_dgram_qlen is 10 here) faster than
 * systemd reads it. A socket stored already is stored once, so this is
 * safe to repeat. Sockets of a .socket unit are systemd's own and are not
 * sent.
 */
void
sockets_store(struct server *s)
{
	struct listener		*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	char			 name[128], other[128];
	int			*fds, fd;
	size_t			 i, j, total = 0, nfd;
	unsigned int		 k, k2;

	for (k = 0; k < s->s_nworkers; k++)
		total += s->s_workers[k].w_nlisteners;
	if ((fds = calloc(total + 1, sizeof *fds)) == NULL) {
		log_warnx("fd store: out of memory: sockets not stored");
		return;
	}
	for (k = 0; k < s->s_nworkers; k++) {
		for (i = 0; i < s->s_workers[k].w_nlisteners; i++) {
			l = &s->s_workers[k].w_listeners[i];
			if (!l->l_stored || l->l_sent)
				continue;
			sockets_name(SOCKETS_LISTEN, (struct sockaddr *)&l->l_ss,
			    l->l_sslen, name, sizeof name);
			/* Every socket of this name, in every worker. */
			nfd = 0;
			for (k2 = k; k2 < s->s_nworkers; k2++) {
				for (j = 0; j < s->s_workers[k2].w_nlisteners;
				    j++) {
					l = &s->s_workers[k2].w_listeners[j];
					if (!l->l_stored || l->l_sent)
						continue;
					sockets_name(SOCKETS_LISTEN,
					    (struct sockaddr *)&l->l_ss,
					    l->l_sslen, other, sizeof other);
					if (strcmp(name, other) != 0)
						continue;
					fds[nfd++] = listener_fd(l);
					l->l_sent = 1;
				}
			}
			systemd_fd_store(name, fds, nfd);
		}
	}
	free(fds);
	if (s->s_metrics != NULL && (fd = metrics_fd(s->s_metrics)) != -1 &&
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0) {
		sockets_name(SOCKETS_METRICS, (struct sockaddr *)&ss, sslen,
		    name, sizeof name);
		systemd_fd_store(name, &fd, 1);
	}
}
