/* SPDX-License-Identifier: ISC */
/*
 * Counters for the metrics, and their Prometheus text exposition.
 *
 * Each worker counts into its own struct stats, written only by its own
 * thread: stats_add() is a relaxed atomic load and store, which on the
 * machines hellod runs on is a plain add to memory, with no lock prefix
 * and no cache line shared with another worker. The main thread reads
 * them (relaxed loads) when /metrics is scraped or the STATUS= line is
 * due, and sums the workers' (stats_sum). A sum read while workers count
 * may be a request or two behind, never torn.
 *
 * Durations are counted per bucket, not cumulatively, so a request
 * touches one bucket; stats_write() accumulates them as Prometheus wants.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hellod.h"

/* The statuses hellod answers, in the order counted. */
static const int	stats_codes[STATS_NCODES] = {
	200, 304, 400, 404, 405, 408, 413, 414, 431, 500, 505,
};

/* Upper bounds of the duration buckets, in microseconds. */
static const uint64_t	stats_bounds[STATS_NBUCKETS] = {
	100, 500, 1000, 5000, 10000, 50000, 100000, 500000, 1000000,
	2500000, 5000000, 5100000, 5500000, 10000000, 30000000,
};

static const char	*stats_route_names[STATS_ROUTE_COUNT] = {
	"/", "/sleep", "other",
};

static const char	*stats_close_names[STATS_CLOSE_COUNT] = {
	"done", "timeout", "client_gone", "error", "shutdown",
	"max_connections",
};

/* Zero every counter. */
void
stats_init(struct stats *st)
{
	memset(st, 0, sizeof *st);
}

/* The index status is counted under; an unknown one counts as 500. */
static size_t
stats_code_index(int status)
{
	size_t	i;

	for (i = 0; i < STATS_NCODES; i++) {
		if (stats_codes[i] == status)
			return (i);
	}
	for (i = 0; stats_codes[i] != 500; i++)
		;
	return (i);
}

/* A response was queued: count it and how long it took, in µs. */
void
stats_request(struct stats *st, enum stats_route route, int status,
    uint64_t us)
{
	size_t	b;

	stats_add(&st->st_requests[route][stats_code_index(status)], 1);
	for (b = 0; b < STATS_NBUCKETS && us > stats_bounds[b]; b++)
		;
	stats_add(&st->st_bucket[route][b], 1);
	stats_add(&st->st_duration_us[route], us);
}

/* Add a worker's counters into sum (only the main thread writes sum). */
void
stats_sum(struct stats *sum, const struct stats *st)
{
	size_t	i, j;

	stats_add(&sum->st_accepted, stats_get(&st->st_accepted));
	for (i = 0; i < STATS_CLOSE_COUNT; i++)
		stats_add(&sum->st_closed[i], stats_get(&st->st_closed[i]));
	for (i = 0; i < STATS_ROUTE_COUNT; i++) {
		for (j = 0; j < STATS_NCODES; j++)
			stats_add(&sum->st_requests[i][j],
			    stats_get(&st->st_requests[i][j]));
		for (j = 0; j <= STATS_NBUCKETS; j++)
			stats_add(&sum->st_bucket[i][j],
			    stats_get(&st->st_bucket[i][j]));
		stats_add(&sum->st_duration_us[i],
		    stats_get(&st->st_duration_us[i]));
	}
	stats_add(&sum->st_sleeping, stats_get(&st->st_sleeping));
	stats_add(&sum->st_emfile_pauses, stats_get(&st->st_emfile_pauses));
	stats_add(&sum->st_stalls, stats_get(&st->st_stalls));
	stats_max(&sum->st_stall_max_us, stats_get(&st->st_stall_max_us));
	stats_add(&sum->st_bytes_in, stats_get(&st->st_bytes_in));
	stats_add(&sum->st_bytes_out, stats_get(&st->st_bytes_out));
}

/* Requests answered, over every route and status. */
uint64_t
stats_total_requests(const struct stats *st)
{
	uint64_t	n = 0;
	size_t		i, j;

	for (i = 0; i < STATS_ROUTE_COUNT; i++) {
		for (j = 0; j < STATS_NCODES; j++)
			n += stats_get(&st->st_requests[i][j]);
	}
	return (n);
}

/*
 * The figures of the whole server: every worker's counters summed into
 * sum, and the server's own into ss (the journal's and the access log's
 * drop counts are theirs to tell: left 0). Main thread only.
 */
void
stats_server(const struct server *s, struct stats *sum,
    struct stats_server *ss)
{
	unsigned int	k;

	stats_init(sum);
	for (k = 0; k < s->s_nworkers; k++)
		stats_sum(sum, &s->s_workers[k].w_stats);
	memset(ss, 0, sizeof *ss);
	ss->ss_workers = s->s_nworkers;
	ss->ss_open = atomic_load(&s->s_nconns);
	ss->ss_paused = atomic_load(&s->s_limited);
	ss->ss_limit_pauses = atomic_load(&s->s_limit_pauses);
	ss->ss_reloads = s->s_reloads;
	ss->ss_reload_failures = s->s_reload_failures;
}

/*
 * Field n (1 = pid) of /proc/self/stat, whose text after the command name's
 * ')' is rest (field 3 on), as a number; 0 if it is not there.
 */
static unsigned long long
stats_stat_field(const char *rest, int n)
{
	const char	*p = rest;
	int		 i;

	for (i = 3; i < n && p != NULL; i++) {
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	}
	return (p != NULL ? strtoull(p, NULL, 10) : 0);
}

/* The open descriptors: the entries of /proc/self/fd, less opendir's own. */
static uint64_t
stats_open_fds(void)
{
	struct dirent	*de;
	DIR		*d;
	uint64_t	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (0);
	/* Only the main thread reads directories: readdir() is safe here. */
	/* cppcheck-suppress readdirCalled */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return (n > 0 ? n - 1 : 0);
}

/*
 * The system's boot time (Unix seconds), from /proc/stat; 0 if unknown.
 * It does not change: read once (only the main thread scrapes).
 */
static unsigned long long
stats_btime(void)
{
	static unsigned long long	 btime;
	FILE				*f;
	char				 buf[256];

	if (btime != 0 || (f = fopen("/proc/stat", "re")) == NULL)
		return (btime);
	while (fgets(buf, sizeof buf, f) != NULL) {
		if (strncmp(buf, "btime ", 6) == 0) {
			btime = strtoull(buf + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return (btime);
}

/*
 * The process's descriptors, memory, CPU time and start time, as
 * Prometheus's client libraries report them. Returns -1 if /proc could
 * not be read (the figures are then 0).
 */
int
stats_process(struct stats_process *sp)
{
	struct rlimit		 rl;
	FILE			*f;
	char			 buf[1024], *p;
	unsigned long long	 btime;
	long			 tck = sysconf(_SC_CLK_TCK);
	long			 page = sysconf(_SC_PAGESIZE);
	size_t			 n;

	memset(sp, 0, sizeof *sp);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		sp->sp_max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 :
		    (uint64_t)rl.rlim_cur;
	sp->sp_open_fds = stats_open_fds();

	if ((f = fopen("/proc/self/stat", "re")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold anything: start after its ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || tck <= 0 ||
	    page <= 0)
		return (-1);
	p += 2;
	sp->sp_cpu = (double)(stats_stat_field(p, 14) +
	    stats_stat_field(p, 15)) / (double)tck;
	sp->sp_vsize = stats_stat_field(p, 23);
	sp->sp_rss = stats_stat_field(p, 24) * (uint64_t)page;
	if ((btime = stats_btime()) > 0)
		sp->sp_start = (double)btime +
		    (double)stats_stat_field(p, 22) / (double)tck;
	return (sp->sp_open_fds > 0 ? 0 : -1);
}

/* "# HELP" and "# TYPE" for a family. */
static void
stats_family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A family of one sample without labels. */
static void
stats_one(struct evbuffer *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	stats_family(b, name, type, help);
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* The same, for a value in seconds or another fraction. */
static void
stats_onef(struct evbuffer *b, const char *name, const char *type,
    const char *help, double v)
{
	stats_family(b, name, type, help);
	evbuffer_add_printf(b, "%s %.6f\n", name, v);
}

/* The request duration histogram, one series per route. */
static void
stats_histogram(struct evbuffer *b, const struct stats *st)
{
	const char	*name = "hellod_http_request_duration_seconds";
	uint64_t	 cum;
	size_t		 r, i;

	stats_family(b, name, "histogram", "Time from a request's first "
	    "byte to its response being queued, /sleep's delay included.");
	for (r = 0; r < STATS_ROUTE_COUNT; r++) {
		cum = 0;
		for (i = 0; i < STATS_NBUCKETS; i++) {
			cum += stats_get(&st->st_bucket[r][i]);
			evbuffer_add_printf(b, "%s_bucket{route=\"%s\","
			    "le=\"%g\"} %llu\n", name, stats_route_names[r],
			    (double)stats_bounds[i] / 1e6,
			    (unsigned long long)cum);
		}
		cum += stats_get(&st->st_bucket[r][STATS_NBUCKETS]);
		evbuffer_add_printf(b, "%s_bucket{route=\"%s\",le=\"+Inf\"} "
		    "%llu\n", name, stats_route_names[r],
		    (unsigned long long)cum);
		evbuffer_add_printf(b, "%s_sum{route=\"%s\"} %.6f\n", name,
		    stats_route_names[r],
		    (double)stats_get(&st->st_duration_us[r]) / 1e6);
		evbuffer_add_printf(b, "%s_count{route=\"%s\"} %llu\n", name,
		    stats_route_names[r], (unsigned long long)cum);
	}
}

/* Build, workers and the connections' counts: opened, open, closed. */
static void
stats_write_conns(struct evbuffer *b, const struct stats *st,
    const struct stats_server *ss)
{
	const char	*name;
	size_t		 i;

	stats_family(b, "hellod_build_info", "gauge",
	    "Always 1; the version of hellod serving.");
	evbuffer_add_printf(b, "hellod_build_info{version=\"%s\"} 1\n",
	    PACKAGE_VERSION);
	stats_one(b, "hellod_workers", "gauge",
	    "Worker threads, each with its own event loop.", ss->ss_workers);

	stats_one(b, "hellod_connections_open", "gauge",
	    "Client connections open now.", ss->ss_open);
	stats_one(b, "hellod_connections_accepted_total", "counter",
	    "Client connections accepted.", stats_get(&st->st_accepted));
	name = "hellod_connections_closed_total";
	stats_family(b, name, "counter", "Client connections closed, by "
	    "reason.");
	for (i = 0; i < STATS_CLOSE_COUNT; i++)
		evbuffer_add_printf(b, "%s{reason=\"%s\"} %llu\n", name,
		    stats_close_names[i],
		    (unsigned long long)stats_get(&st->st_closed[i]));
}

/*
 * Responses by route and status (the pairs seen so far, and 200 for /
 * and /sleep always), the sleeping requests and the durations.
 */
static void
stats_write_requests(struct evbuffer *b, const struct stats *st)
{
	const char	*name = "hellod_http_requests_total";
	uint64_t	 v;
	size_t		 i, j;

	stats_family(b, name, "counter", "Responses sent, by route and "
	    "status code.");
	for (i = 0; i < STATS_ROUTE_COUNT; i++) {
		for (j = 0; j < STATS_NCODES; j++) {
			v = stats_get(&st->st_requests[i][j]);
			if (v == 0 && !(stats_codes[j] == 200 &&
			    i != STATS_ROUTE_OTHER))
				continue;
			evbuffer_add_printf(b, "%s{route=\"%s\",code=\"%d\"} "
			    "%llu\n", name, stats_route_names[i],
			    stats_codes[j], (unsigned long long)v);
		}
	}
	stats_one(b, "hellod_http_requests_sleeping", "gauge",
	    "GET /sleep requests waiting on their timer now.",
	    stats_get(&st->st_sleeping));
	stats_histogram(b, st);
}

/* Accept pauses, reloads and event loop stalls. */
static void
stats_write_server(struct evbuffer *b, const struct stats *st,
    const struct stats_server *ss)
{
	const char	*name = "hellod_accept_pauses_total";

	stats_family(b, name, "counter", "Times accepting paused: at "
	    "max_connections, or out of descriptors.");
	evbuffer_add_printf(b, "%s{reason=\"max_connections\"} %llu\n", name,
	    (unsigned long long)ss->ss_limit_pauses);
	evbuffer_add_printf(b, "%s{reason=\"descriptors\"} %llu\n", name,
	    (unsigned long long)stats_get(&st->st_emfile_pauses));
	stats_one(b, "hellod_accept_paused", "gauge",
	    "1 while accepting is paused at max_connections.",
	    (uint64_t)ss->ss_paused);

	stats_one(b, "hellod_reloads_total", "counter",
	    "Configuration reloads (SIGHUP) that took effect.",
	    ss->ss_reloads);
	stats_one(b, "hellod_reload_failures_total", "counter",
	    "Reloads that failed; the previous configuration kept serving.",
	    ss->ss_reload_failures);

	stats_one(b, "hellod_event_loop_stalls_total", "counter",
	    "Times a worker's event loop ran its check timer later than "
	    "stall_warn.", stats_get(&st->st_stalls));
	stats_onef(b, "hellod_event_loop_stall_seconds_max", "gauge",
	    "The longest such lateness seen.",
	    (double)stats_get(&st->st_stall_max_us) / 1e6);
}

/* Bytes in and out, and the access log entries dropped. */
static void
stats_write_io(struct evbuffer *b, const struct stats *st,
    const struct stats_server *ss)
{
	stats_one(b, "hellod_received_bytes_total", "counter",
	    "Bytes read from client connections.",
	    stats_get(&st->st_bytes_in));
	stats_one(b, "hellod_sent_bytes_total", "counter",
	    "Bytes written to client connections.",
	    stats_get(&st->st_bytes_out));

	stats_one(b, "hellod_journal_dropped_total", "counter",
	    "Access log entries dropped because the journal did not keep "
	    "up.", ss->ss_journal_dropped);
	stats_one(b, "hellod_access_log_dropped_total", "counter",
	    "Access log lines dropped because a write to the access log file "
	    "failed.", ss->ss_access_log_dropped);
}

/* The process's figures, named as Prometheus's client libraries do. */
static void
stats_write_process(struct evbuffer *b, const struct stats_process *sp)
{
	stats_one(b, "process_open_fds", "gauge",
	    "Open file descriptors.", sp->sp_open_fds);
	stats_one(b, "process_max_fds", "gauge",
	    "The limit on open file descriptors.", sp->sp_max_fds);
	stats_one(b, "process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.", sp->sp_rss);
	stats_one(b, "process_virtual_memory_bytes", "gauge",
	    "Virtual memory size in bytes.", sp->sp_vsize);
	stats_onef(b, "process_cpu_seconds_total", "counter",
	    "User and system CPU time spent, in seconds.", sp->sp_cpu);
	stats_onef(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch, in seconds.",
	    sp->sp_start);
}

/*
 * The whole exposition, in the Prometheus text format (version 0.0.4):
 * st is the sum over the workers, ss the server's own figures, sp the
 * process's. Requests by route and status show the pairs seen so far,
 * and 200 for / and /sleep always, so that those series exist from the
 * start.
 */
void
stats_write(struct evbuffer *b, const struct stats *st,
    const struct stats_server *ss, const struct stats_process *sp)
{
	stats_write_conns(b, st, ss);
	stats_write_requests(b, st);
	stats_write_server(b, st, ss);
	stats_write_io(b, st, ss);
	stats_write_process(b, sp);
}

/* n with a comma every three digits: 1,204. */
static size_t
stats_thousands(char *buf, size_t size, uint64_t n)
{
	char	digits[32];
	size_t	len, i, out = 0;

	len = (size_t)snprintf(digits, sizeof digits, "%llu",
	    (unsigned long long)n);
	for (i = 0; i < len && out + 1 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0 && out + 2 < size)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	if (size > 0)
		buf[out] = '\0';
	return (out);
}

/*
 * systemd's STATUS= text: "42 connections, 17 sleeping, 1,204 req/s".
 * Returns its length.
 */
size_t
stats_status(char *buf, size_t size, uint64_t conns, uint64_t sleeping,
    uint64_t rps)
{
	char	c[32], s[32], r[32];
	int	n;

	stats_thousands(c, sizeof c, conns);
	stats_thousands(s, sizeof s, sleeping);
	stats_thousands(r, sizeof r, rps);
	n = snprintf(buf, size, "%s connection%s, %s sleeping, %s req/s", c,
	    conns == 1 ? "" : "s", s, r);
	return (n < 0 ? 0 : (size_t)n);
}
