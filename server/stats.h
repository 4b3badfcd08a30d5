/* SPDX-License-Identifier: ISC */
/*
 * stats.h: counters and the metrics text.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_STATS_H
#define HELLOD_STATS_H

/*
 * stats.c: counters for the metrics. Each worker has a struct stats that
 * only its own thread writes (stats_add: a relaxed load and store, no
 * locked instruction) and the main thread reads, summing the workers'
 * when /metrics is scraped (stats_sum) and for systemd's STATUS= line.
 */
enum stats_close {
	STATS_CLOSE_DONE,	/* after its last response, or between
				   requests at the client's EOF */
	STATS_CLOSE_TIMEOUT,	/* header, keep-alive or write timeout */
	STATS_CLOSE_GONE,	/* the client left mid-request or reset */
	STATS_CLOSE_ERROR,	/* a bad request, or an error of ours */
	STATS_CLOSE_SHUTDOWN,	/* the server was stopping */
	STATS_CLOSE_RECLAIMED,	/* idle, closed at max_connections */
	STATS_CLOSE_COUNT,
};

enum stats_route {
	STATS_ROUTE_HELLO,	/* GET / */
	STATS_ROUTE_SLEEP,	/* GET /sleep */
	STATS_ROUTE_OTHER,	/* anything else, and unparsed requests */
	STATS_ROUTE_COUNT,
};

#define STATS_NCODES	12	/* statuses hellod answers, see stats.c */
#define STATS_NBUCKETS	15	/* finite duration buckets */

struct stats {
	_Atomic uint64_t	st_accepted;
	_Atomic uint64_t	st_closed[STATS_CLOSE_COUNT];
	_Atomic uint64_t	st_requests[STATS_ROUTE_COUNT][STATS_NCODES];
	_Atomic uint64_t	st_bucket[STATS_ROUTE_COUNT][STATS_NBUCKETS + 1];
	_Atomic uint64_t	st_duration_us[STATS_ROUTE_COUNT];
	_Atomic uint64_t	st_sleeping;	/* gauge */
	_Atomic uint64_t	st_emfile_pauses;
	_Atomic uint64_t	st_stalls;
	_Atomic uint64_t	st_stall_max_us;
	_Atomic uint64_t	st_bytes_in;
	_Atomic uint64_t	st_bytes_out;
};

/* Server-wide figures, summed or read by the main thread. */
struct stats_server {
	unsigned int		ss_workers;
	uint64_t		ss_open;		/* connections */
	int			ss_paused;		/* at max_connections */
	uint64_t		ss_limit_pauses;
	uint64_t		ss_reloads;
	uint64_t		ss_reload_failures;
	uint64_t		ss_journal_dropped;	/* access entries */
	uint64_t		ss_access_log_dropped;	/* failed writes */
};

/* What the process itself uses, from /proc. */
struct stats_process {
	uint64_t		sp_open_fds;
	uint64_t		sp_max_fds;
	uint64_t		sp_rss;			/* bytes */
	uint64_t		sp_vsize;		/* bytes */
	double			sp_cpu;			/* seconds */
	double			sp_start;		/* Unix time */
};

static inline void
stats_add(_Atomic uint64_t *v, uint64_t n)
{
	atomic_store_explicit(v, atomic_load_explicit(v,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

static inline void
stats_sub(_Atomic uint64_t *v, uint64_t n)
{
	atomic_store_explicit(v, atomic_load_explicit(v,
	    memory_order_relaxed) - n, memory_order_relaxed);
}

/* Read a counter another thread may be writing. */
static inline uint64_t
stats_get(const _Atomic uint64_t *v)
{
	return (atomic_load_explicit(v, memory_order_relaxed));
}

/* Raise a maximum to n (only its owner writes it). */
static inline void
stats_max(_Atomic uint64_t *v, uint64_t n)
{
	if (n > stats_get(v))
		atomic_store_explicit(v, n, memory_order_relaxed);
}

void		 stats_init(struct stats *);
void		 stats_request(struct stats *, enum stats_route, int,
		     uint64_t);
void		 stats_sum(struct stats *, const struct stats *);
uint64_t	 stats_total_requests(const struct stats *);
struct server;
void		 stats_server(const struct server *, struct stats *,
		     struct stats_server *);
int		 stats_process(struct stats_process *);
void		 stats_write(struct evbuffer *, const struct stats *,
		     const struct stats_server *, const struct stats_process *);
size_t		 stats_status(char *, size_t, uint64_t, uint64_t, uint64_t);

#endif /* HELLOD_STATS_H */
