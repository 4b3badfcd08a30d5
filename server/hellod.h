/*
 * hellod: the Rust async book's /sleep server, done properly in C.
 *
 * This header is the map of the daemon: shared types first, then the
 * prototypes grouped by the file that defines them.
 */
#ifndef HELLOD_H
#define HELLOD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#ifndef HELLOD_CONFIG_FILE
#define HELLOD_CONFIG_FILE	"/etc/hellod/hellod.conf"
#endif
#ifndef HELLOD_ROOT
#define HELLOD_ROOT		"/usr/share/hellod"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION		"0.0.0"
#endif

#define printflike(a, b)	__attribute__((__format__(printf, a, b)))
#define hellod_dead		__attribute__((__noreturn__))

/* Limits that are not configuration keys. */
#define HELLOD_LISTEN_BACKLOG	4096	/* capped by net.core.somaxconn */
#define HELLOD_MAX_BODY		(1024 * 1024)	/* bytes of discarded body */
#define HELLOD_MAX_OUTPUT	(64 * 1024)	/* queued response bytes before
						   we stop parsing pipelined
						   requests */
#define HELLOD_LINGER_MS	2000	/* lingering close: read and drop
					   input this long after a final
					   response */
#define HELLOD_CLOSE_GRACE_MS	250	/* closing an idle connection
					   (shutdown, max_connections):
					   wait this long for a request
					   on the way, and linger this
					   long after shutting our side */
#define HELLOD_READ_MAX		4096	/* bytes read from a connection
					   at a time */
#define HELLOD_ACCEPT_RETRY_MS	500	/* retry accept after EMFILE */
#define HELLOD_EMFILE_LOG_MS	10000	/* at most one EMFILE warning in */
#define HELLOD_PAGE_MAX		(1024 * 1024)	/* largest page file */
#define HELLOD_MAX_WORKERS	256	/* "workers" upper bound */
#define HELLOD_HEARTBEAT_MS	1000	/* longest worker heartbeat period */

/* Exit statuses (sysexits.h values). */
#define HELLOD_EXIT_USAGE	64
#define HELLOD_EXIT_OSERR	71
#define HELLOD_EXIT_CONFIG	78

/* log.c */
enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Bytes of a journal field value (longer ones are cut). */
#define HELLOD_JOURNAL_VALUE_MAX	1024
/*
 * Access entries waiting for the journal thread (systemd.c); more are
 * dropped and counted (hellod_journal_dropped_total).
 */
#define HELLOD_JOURNAL_QUEUE		256
/* At exit, how long the journal thread may take to send what is queued. */
#define HELLOD_JOURNAL_CLOSE_MS		1000

/* One response, for the access log (log_access_request()). */
struct log_request {
	const char	*lr_client;	/* peer "address:port" */
	const char	*lr_line;	/* request line; NULL if none parsed */
	const char	*lr_path;	/* path without query; NULL if none */
	size_t		 lr_path_len;
	int		 lr_status;
	size_t		 lr_bytes;	/* response bytes queued */
	uint64_t	 lr_usec;	/* first request byte to response */
	unsigned int	 lr_worker;
};

void		 log_init(void);
int		 log_journal_match(const char *, dev_t, ino_t);
void		 log_set_journal(int);
int		 log_get_journal(void);
size_t		 log_prefix(char *, size_t, int, int, const char *,
		     const struct timeval *);
void		 log_set_level(int);
int		 log_get_level(void);
const char	*log_level_name(int);
void		 log_warn(const char *, ...) printflike(1, 2);
void		 log_warnx(const char *, ...) printflike(1, 2);
void		 log_error(const char *, ...) printflike(1, 2);
void		 log_info(const char *, ...) printflike(1, 2);
void		 log_debug(const char *, ...) printflike(1, 2);
void		 log_access(const char *, ...) printflike(1, 2);
size_t		 log_access_text(char *, size_t,
		     const struct log_request *);
void		 log_access_request(const struct log_request *);
void		 log_plain(int, const char *, ...) printflike(2, 3);
hellod_dead void fatal(const char *, ...) printflike(1, 2);
hellod_dead void fatalx(const char *, ...) printflike(1, 2);

/*
 * accesslog.c: access_log = PATH. The file is shared and counted; each
 * worker has a buffer of its own and writes whole lines to the file.
 */
#define HELLOD_ACCESSLOG_BUF	(64 * 1024)	/* a worker's buffer */
#define HELLOD_ACCESSLOG_LINE_MAX 1200	/* longest line: stamp, tag and
					   log_access_text()'s 1023 */
#define HELLOD_ACCESSLOG_FLUSH_MS 1000	/* a line waits at most this */

struct accesslog {
	atomic_uint		 al_refs;
	int			 al_fd;		/* O_APPEND */
	char			*al_path;
	atomic_int		 al_failing;	/* a write failed */
	_Atomic uint64_t	 al_lost;	/* lines dropped since */
};

struct accesslog_buf {
	struct accesslog	*ab_log;	/* held reference, or NULL */
	char			*ab_data;	/* HELLOD_ACCESSLOG_BUF,
						   from the first line */
	size_t			 ab_len;
	struct event		*ab_timer;	/* flush; while ab_len */
	time_t			 ab_stamp_sec;
	char			 ab_stamp[32];	/* ab_stamp_sec as text */
};

struct accesslog *accesslog_open(const char *, char **);
struct accesslog *accesslog_ref(struct accesslog *);
void		 accesslog_unref(struct accesslog *);
int		 accesslog_buf_init(struct accesslog_buf *,
		     struct event_base *);
int		 accesslog_buf_add(struct accesslog_buf *,
		     const struct log_request *);
void		 accesslog_buf_flush(struct accesslog_buf *);
void		 accesslog_buf_switch(struct accesslog_buf *,
		     struct accesslog *);
void		 accesslog_buf_free(struct accesslog_buf *);
uint64_t	 accesslog_dropped(void);

/* config.c */
enum conf_type {
	CONF_DURATION,		/* milliseconds; ms, s, m suffixes */
	CONF_SIZE,		/* bytes; B, K, KiB, M, MiB suffixes */
	CONF_UINT,
	CONF_LISTEN,		/* repeatable address:port */
	CONF_PATH,
	CONF_LOGLEVEL,
	CONF_BOOL,		/* on/off */
	CONF_WORKERS,		/* 1..HELLOD_MAX_WORKERS, or auto (0) */
	CONF_USER,		/* an account of the password database */
	CONF_ADDR,		/* one address:port, or unset (-) */
	CONF_ACCESSLOG,		/* off, stderr (or on), or a file path */
};

/* Where access lines go (cf_access_log). */
enum access_log_mode {
	ACCESS_LOG_OFF = 0,
	ACCESS_LOG_STDERR,	/* stderr, or journal entries under systemd */
	ACCESS_LOG_FILE,	/* cf_access_path, buffered (accesslog.c) */
};

struct config_key {
	const char	*k_name;
	enum conf_type	 k_type;
	uint64_t	 k_min;
	uint64_t	 k_max;
	const char	*k_default;	/* as it would be written */
	size_t		 k_offset;	/* into struct config */
	const char	*k_help;
};

struct listen_addr {
	char			*la_text;	/* as written */
	struct sockaddr_storage	 la_ss;
	socklen_t		 la_len;
};

struct config {
	char			*cf_path;	/* file it came from */
	struct listen_addr	*cf_listen;
	size_t			 cf_nlisten;
	char			*cf_root;	/* resolved against cf_path */
	uint64_t		 cf_sleep;		/* ms */
	uint64_t		 cf_header_timeout;	/* ms */
	uint64_t		 cf_keepalive_timeout;	/* ms */
	uint64_t		 cf_write_timeout;	/* ms */
	uint64_t		 cf_shutdown_timeout;	/* ms */
	uint64_t		 cf_max_connections;
	uint64_t		 cf_max_header_size;	/* bytes */
	uint64_t		 cf_log_level;
	uint64_t		 cf_access_log;	/* access_log_mode */
	char			*cf_access_path; /* ACCESS_LOG_FILE: resolved
						    against cf_path */
	unsigned int		 cf_access_line; /* where set */
	uint64_t		 cf_workers;	/* 0: auto, one per CPU */
	struct listen_addr	*cf_metrics;	/* metrics_listen; NULL: off */
	uint64_t		 cf_stall_warn;	/* ms; 0: off */
	char			*cf_user;	/* NULL: not set */
	uid_t			 cf_uid;	/* cf_user's, looked up */
	gid_t			 cf_gid;	/* cf_user's primary group */
	unsigned int		 cf_user_line;	/* where set, for messages */
};

const struct config_key	*config_keys(size_t *);
struct config	*config_parse(const char *, const char *, size_t, char **);
struct config	*config_load(const char *, char **);
void		 config_free(struct config *);
int		 config_parse_duration(const char *, uint64_t *);
int		 config_parse_size(const char *, uint64_t *);
int		 config_parse_listen(const char *, struct listen_addr *, char **);
int		 config_parse_workers(const char *, uint64_t *);
unsigned int	 config_workers(const struct config *, long);
int		 config_same_listen(const struct config *, const struct config *);
int		 config_copy_listen(struct config *, const struct config *);
int		 config_same_metrics(const struct config *,
		     const struct config *);
int		 config_copy_metrics(struct config *, const struct config *);
int		 config_same_user(const struct config *, const struct config *);
int		 config_copy_user(struct config *, const struct config *);
void		 config_usage(FILE *);

/*
 * priv.c: least privilege. Started as root, hellod binds its sockets and
 * loads its files, then becomes `user` (priv_drop()) before any worker
 * thread exists; priv_plan() says what is to be done for a config and an
 * effective uid.
 */
enum priv_plan {
	PRIV_KEEP,		/* not root: serve as we are */
	PRIV_ROOT,		/* root, and `user` has uid 0: stay root */
	PRIV_DROP,		/* root: become cf_uid, cf_gid and groups */
	PRIV_REFUSE,		/* root, and `user` not set */
};

int		 priv_lookup(const char *, uid_t *, gid_t *, char **);
enum priv_plan	 priv_plan(const struct config *, uid_t);
int		 priv_check(const struct config *, char **);
int		 priv_drop(const struct config *, char **);

/* http.c */
enum http_method {
	HTTP_M_OTHER = 0,
	HTTP_M_GET,
	HTTP_M_HEAD,
};

enum http_result {
	HTTP_NEED_MORE,		/* wait for more input */
	HTTP_COMPLETE,		/* head and body consumed */
	HTTP_ERROR,		/* r_status says what to answer; close */
};

enum http_state {
	HTTP_S_START = 0,	/* no byte of this request seen */
	HTTP_S_LINE,		/* reading the request line */
	HTTP_S_HEADERS,
	HTTP_S_BODY,		/* Content-Length body */
	HTTP_S_CHUNK_SIZE,	/* chunked body: chunk-size line */
	HTTP_S_CHUNK_DATA,
	HTTP_S_CHUNK_CRLF,	/* the CRLF after chunk data */
	HTTP_S_TRAILER,		/* trailer fields, then the empty line */
	HTTP_S_DONE,
	HTTP_S_ERROR,
};

#define HTTP_CHUNK_LINE_MAX	1024	/* longest chunk-size line */
#define HTTP_INM_MAX		8	/* If-None-Match entity-tags kept */
#define HTTP_LINE_INLINE	56	/* request lines this short need no
					   malloc */

/* Character classes (RFC 9110 5.6.3, RFC 5234 B.1) of the parser's files. */
#define IS_OWS(c)	((c) == ' ' || (c) == '\t')
#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define IS_HEXDIG(c)	(IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || \
			    ((c) >= 'A' && (c) <= 'F'))

/* What If-None-Match said (RFC 9110 13.1.2). */
enum http_inm {
	HTTP_INM_NONE = 0,	/* absent: If-Modified-Since decides */
	HTTP_INM_LIST,		/* r_inm_tag[0 .. r_inm_n - 1] */
	HTTP_INM_ANY,		/* "*" */
	HTTP_INM_UNUSABLE,	/* malformed, or more than HTTP_INM_MAX
				   tags: matches nothing */
};

/*
 * One request being parsed from a connection's input. The parser never
 * holds more than one line in memory, and judges each byte once, as it
 * arrives.
 */
struct http_request {
	enum http_state	 r_state;
	enum http_method r_method;
	int		 r_lex;		/* where in the line (lex.c) */
	int		 r_lex_n;	/* bytes of the version matched */
	size_t		 r_max_head;	/* max_header_size */
	size_t		 r_head;	/* bytes of the head consumed */
	size_t		 r_scan;	/* bytes of the current line judged */
	uint64_t	 r_body_left;	/* body bytes still to discard */
	uint64_t	 r_clen;
	uint64_t	 r_body_total;	/* chunked body bytes so far */

	int		 r_minor;	/* HTTP/1.r_minor */
	int		 r_nhost;	/* Host fields seen */
	int		 r_te_nchunked;	/* times chunked was named */
	int		 r_status;	/* with HTTP_ERROR */
	const char	*r_error;	/* why, for the log */
	char		*r_line;	/* request line, NUL-terminated */
	char		 r_line_inline[HTTP_LINE_INLINE];
	size_t		 r_path_off;	/* path (no query) inside r_line */
	size_t		 r_path_len;

	/* Preconditions, as numbers: no copy of a header is kept. */
	enum http_inm	 r_inm;
	int		 r_inm_n;
	int		 r_nims;	/* If-Modified-Since fields seen */

	/* Flags, a byte each: a sleeping connection keeps its request. */
	unsigned char	 r_conn_close;	/* Connection: close */
	unsigned char	 r_conn_keepalive; /* Connection: keep-alive */
	unsigned char	 r_has_clen;
	unsigned char	 r_has_te;
	unsigned char	 r_te_chunked;	/* chunked is the final coding */
	unsigned char	 r_ims_ok;	/* r_ims holds a valid HTTP-date */
	unsigned char	 r_tls;		/* with HTTP_ERROR: the request began
					   like a TLS handshake (0x16) */
	time_t		 r_ims;
	uint64_t	 r_inm_tag[HTTP_INM_MAX]; /* cond_hash() of each
						    opaque-tag, quotes
						    included, W/ dropped */
};

void		 http_request_init(struct http_request *, size_t);
void		 http_request_reset(struct http_request *);
void		 http_request_clear(struct http_request *);
enum http_result http_parse(struct http_request *, struct evbuffer *);
int		 http_keepalive(const struct http_request *);
const char	*http_path(const struct http_request *, size_t *);
const char	*http_reason(int);

/* lex.c */
int		 lex_line(struct http_request *, const unsigned char *, size_t,
		     size_t *);

/* target.c */
const char	*target_parse(struct http_request *, size_t, size_t, int);

/* date.c */
void		 date_format(time_t, char *, size_t);
int		 date_parse(const char *, size_t, time_t *);

/* cond.c */
void		 cond_if_none_match(struct http_request *, const char *,
		     size_t);
void		 cond_if_modified_since(struct http_request *, const char *,
		     size_t);
uint64_t	 cond_hash(const void *, size_t);
int		 cond_not_modified(const struct http_request *, uint64_t,
		     time_t);

/* page.c */
#define PAGE_DATE_LEN	29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define PAGE_ETAG_LEN	36	/* "\"HASH-LEN\"" and its NUL, at most */

/*
 * A response prebuilt once: status line and fixed headers, and a body.
 * A page with validators (ETag, Last-Modified) points to its prebuilt
 * 304, which pages_answer() picks when the request's preconditions say
 * the client's copy is current.
 */
struct page {
	int		 p_status;
	char		*p_head;	/* up to, not including, Date */
	size_t		 p_headlen;
	char		*p_body;
	size_t		 p_bodylen;
	const struct page *p_notmod;	/* its 304; NULL: no validators */
	uint64_t	 p_tag;		/* cond_hash() of the ETag value */
	time_t		 p_mtime;	/* Last-Modified */
};

enum page_id {
	PAGE_HELLO = 0,		/* 200 hello.html */
	PAGE_HELLO_304,		/* 304 for it: validators, no body */
	PAGE_NOT_FOUND,		/* 404 404.html */
	PAGE_400,
	PAGE_405,
	PAGE_408,
	PAGE_413,
	PAGE_414,
	PAGE_431,
	PAGE_500,
	PAGE_505,
	PAGE_COUNT,
};

struct pages {
	char		*ps_root;
	struct page	 ps_page[PAGE_COUNT];
};

struct pages	*pages_load(const char *, char **);
void		 pages_free(struct pages *);
const struct page *pages_get(const struct pages *, enum page_id);
const struct page *pages_for_status(const struct pages *, int);
const struct page *pages_answer(const struct pages *, enum page_id,
		     const struct http_request *);
size_t		 page_etag(char *, size_t, const char *, size_t);
int		 page_build(struct page *, int, const char *, const char *,
		     size_t);
void		 page_clear(struct page *);
size_t		 page_write(struct evbuffer *, const struct page *, int,
		     const char *, const char *);

/* routes.c */
enum route_id {
	ROUTE_HELLO,		/* GET / */
	ROUTE_SLEEP,		/* GET /sleep, after the delay */
	ROUTE_NOT_FOUND,	/* 404 */
	ROUTE_BAD_METHOD,	/* 405 */
};

struct route {
	const char	*rt_path;
	enum route_id	 rt_id;
};

enum route_id	 route_match(enum http_method, const char *, size_t);
enum page_id	 route_page(enum route_id);
const char	*route_name(enum route_id);

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
int		 stats_process(struct stats_process *);
void		 stats_write(struct evbuffer *, const struct stats *,
		     const struct stats_server *, const struct stats_process *);
size_t		 stats_status(char *, size_t, uint64_t, uint64_t, uint64_t);

/* listener.c */
struct worker;
struct listener {
	struct worker		*l_w;
	struct evconnlistener	*l_lev;
	struct sockaddr_storage	 l_ss;		/* bound address */
	socklen_t		 l_sslen;
	int			 l_quiet;	/* not the first worker's: the
						   address is logged once */
	int			 l_stored;	/* goes to systemd's fd store
						   (not a dup(), not a
						   .socket unit's) */
	int			 l_sent;	/* sockets_store() sent it */
	char			 l_name[64];	/* bound address */
};

#define LISTENER_REUSEPORT	0x1	/* SO_REUSEPORT: one per worker */
#define LISTENER_QUIET		0x2	/* don't log (not worker 0) */
#define LISTENER_STORED		0x4	/* adopted from the fd store */

int		 listener_open(struct worker *, const struct listen_addr *,
		     const struct sockaddr *, socklen_t, int,
		     struct listener *, char **);
int		 listener_adopt(struct worker *, int, int, int,
		     struct listener *, char **);
void		 listener_close(struct listener *);
int		 listener_fd(struct listener *);
void		 listener_drain(struct listener *, size_t);
void		 listener_enable(struct worker *, int);
int		 listener_out_of_resources(int);
void		 listener_format(const struct sockaddr *, socklen_t, char *,
		     size_t);

/* conn.c */
#define CONN_ADDR_LEN	(INET6_ADDRSTRLEN + sizeof "[]:65535" - 1)
enum conn_state {
	CONN_IDLE_NEW,		/* accepted, no byte yet */
	CONN_IDLE_KEEPALIVE,	/* between requests, no byte yet */
	CONN_READING,		/* part of a request head has arrived */
	CONN_SLEEPING,		/* /sleep timer armed */
	CONN_WRITING,		/* output above HELLOD_MAX_OUTPUT */
	CONN_CLOSING,		/* final response queued, flushing */
	CONN_LINGERING,		/* output flushed, write side shut */
};

struct conn {
	TAILQ_ENTRY(conn)	 c_entry;	/* server's list of all */
	TAILQ_ENTRY(conn)	 c_idle_entry;	/* while keep-alive idle */
	struct worker		*c_w;
	uint64_t		 c_id;
	struct bufferevent	*c_bev;		/* owned */
	struct event		 c_timer;	/* header, idle, sleep, linger */
	uint64_t		 c_start_us;	/* request start, monotonic */
	size_t			 c_unsent;	/* queued, not yet counted
						   as sent */
	evutil_socket_t		 c_fd;		/* owned; c_bev's socket */
	enum conn_state		 c_state;
	enum stats_route	 c_route;	/* of the request at hand */
	enum stats_close	 c_reason;	/* counted when it closes
						   after a final response */
	struct http_request	 c_req;

	/* Flags, a byte each: thousands of connections may sleep. */
	unsigned char		 c_idle;	/* on w_idle list */
	unsigned char		 c_close;	/* close after this response */
	unsigned char		 c_eof;		/* client shut its write side */
	unsigned char		 c_linger;	/* lingering close wanted */
	unsigned char		 c_nodelay;	/* TCP_NODELAY set */
	unsigned char		 c_head_timer;	/* CONN_READING: c_timer is
						   the head deadline */
	unsigned char		 c_quick;	/* linger HELLOD_CLOSE_GRACE_MS,
						   not HELLOD_LINGER_MS */
	char			 c_addr[CONN_ADDR_LEN];	/* peer, for logs */
};

TAILQ_HEAD(conn_list, conn);

int		 conn_new(struct worker *, evutil_socket_t,
		     const struct sockaddr *, socklen_t);
void		 conn_close(struct conn *, enum stats_close, const char *);
int		 conn_reclaim(struct conn *);
void		 conn_shutdown(struct conn *);

/*
 * systemd.c: sd_notify, socket activation and journal entries through
 * libsystemd. Built only with the systemd integration (configure
 * --with-systemd, libsystemd found); without it these are the no-op stubs
 * below, so that callers need no #ifdef: nothing is sent, no watchdog is
 * asked for, no socket is ever passed and there is no journal to send
 * entries to.
 */
#define SYSTEMD_LISTEN_FDS_START	3	/* SD_LISTEN_FDS_START */

#ifdef HAVE_SYSTEMD
int		 systemd_available(void);
void		 systemd_notify(const char *, ...) printflike(1, 2);
void		 systemd_notify_reloading(void);
void		 systemd_notify_watchdog(void);
int		 systemd_watchdog_usec(uint64_t *);
int		 systemd_listen_fds(char ***);
void		 systemd_names_free(char **);
void		 systemd_fd_store(const char *, const int *, size_t);
void		 systemd_fd_store_remove(const char *);
int		 systemd_is_socket_inet(int);
int		 systemd_journal_send(const char *, int, const char *,
		     const struct iovec *, size_t);
uint64_t	 systemd_journal_dropped(void);
void		 systemd_journal_close(unsigned int);
#else
static inline int
systemd_available(void)
{
	return (0);
}
static inline void printflike(1, 2)
systemd_notify(const char *fmt, ...)
{
	(void)fmt;
}
static inline void
systemd_notify_reloading(void)
{
}
static inline void
systemd_notify_watchdog(void)
{
}
static inline int
systemd_watchdog_usec(uint64_t *usec)
{
	(void)usec;
	return (0);
}
static inline int
systemd_listen_fds(char ***names)
{
	*names = NULL;
	return (0);
}
static inline void
systemd_names_free(char **names)
{
	(void)names;
}
static inline void
systemd_fd_store(const char *name, const int *fds, size_t n)
{
	(void)name;
	(void)fds;
	(void)n;
}
static inline void
systemd_fd_store_remove(const char *name)
{
	(void)name;
}
static inline int
systemd_is_socket_inet(int fd)
{
	(void)fd;
	return (0);
}
static inline int
systemd_journal_send(const char *file, int line, const char *func,
    const struct iovec *iov, size_t n)
{
	(void)file;
	(void)line;
	(void)func;
	(void)iov;
	(void)n;
	return (-1);
}
static inline uint64_t
systemd_journal_dropped(void)
{
	return (0);
}
static inline void
systemd_journal_close(unsigned int timeout_ms)
{
	(void)timeout_ms;
}
#endif

/*
 * snapshot.c: one loaded configuration and its pages, immutable once made
 * and shared by the main thread and every worker. Each holder owns one
 * reference; the last to let go frees it, in whichever thread that is.
 */
struct snapshot {
	atomic_uint		 sn_refs;
	struct config		*sn_cf;
	struct pages		*sn_pages;
};

struct snapshot	*snapshot_new(struct config *, struct pages *);
struct snapshot	*snapshot_ref(struct snapshot *);
void		 snapshot_unref(struct snapshot *);

/*
 * worker.c: one thread, one event loop. A worker owns its listeners (one
 * socket per address with SO_REUSEPORT, or a dup of each socket systemd
 * passed), its connections, its timers and its Date cache; nothing of it
 * is touched by another thread once it runs, except the atomics marked
 * below. The main thread talks to it through w_pipe (struct worker_msg).
 */
enum worker_msg_type {
	WORKER_MSG_RELOAD,	/* wm_snap: swap to it, and to wm_log
				   (references passed) */
	WORKER_MSG_ACCESSLOG,	/* wm_log: write to it (reference passed;
				   SIGUSR1) */
	WORKER_MSG_SYNC,	/* s_limited changed: pause or resume */
	WORKER_MSG_STOP,	/* stop accepting, drain, exit the loop */
	WORKER_MSG_EXIT,	/* exit the loop now */
#ifdef HELLOD_TEST_HOOKS
	WORKER_MSG_STALL,	/* test builds: block the loop a while */
#endif
};

#ifdef HELLOD_TEST_HOOKS
#define HELLOD_TEST_STALL_MS	300
#endif

struct worker_msg {
	enum worker_msg_type	 wm_type;
	struct snapshot		*wm_snap;
	struct accesslog	*wm_log;	/* NULL: no access log file */
};

struct server;
struct worker {
	struct server		*w_srv;
	unsigned int		 w_index;	/* 0 .. s_nworkers - 1 */
	pthread_t		 w_thread;
	int			 w_started;	/* w_thread is running */
	struct event_base	*w_base;
	struct snapshot		*w_snap;	/* held reference */
	struct config		*w_cf;		/* = w_snap->sn_cf */
	struct pages		*w_pages;	/* = w_snap->sn_pages */

	int			 w_pipe[2];	/* main -> worker messages */
	struct event		*w_pipe_ev;
	atomic_int		 w_wake;	/* a SYNC is in w_pipe */
	int			 w_limited;	/* paused at max_connections */
	_Atomic uint64_t	 w_heartbeat;	/* monotonic ms, for the
						   watchdog */
	struct event		*w_heartbeat_ev;

	struct listener		*w_listeners;
	size_t			 w_nlisteners;
	int			 w_accepting;	/* listeners enabled */
	int			 w_emfile;	/* paused: out of descriptors */
	int			 w_emfile_episode; /* no accept since it was */
	struct event		*w_accept_retry;

	struct conn_list	 w_conns;
	struct conn_list	 w_idle;	/* keep-alive idle, oldest
						   first */
	size_t			 w_nconns;	/* this worker's */
	uint64_t		 w_next_id;
	int			 w_stopping;
	int			 w_draining;	/* worker_stop() is accepting
						   what is queued */

	const struct timeval	*w_tv_sleep;	/* common timeouts */
	const struct timeval	*w_tv_header;
	const struct timeval	*w_tv_keepalive;
	struct timeval		 w_tv_sleep_raw;
	struct timeval		 w_tv_header_raw;
	struct timeval		 w_tv_keepalive_raw;

	time_t			 w_date_time;
	char			 w_date[PAGE_DATE_LEN + 1];

	struct stats		 w_stats;	/* written here, read by main */
	struct accesslog_buf	 w_alog;	/* access_log = PATH */
	struct event		*w_stall_ev;	/* stall check timer */
	uint64_t		 w_stall_period; /* its period, ms */
	uint64_t		 w_stall_due;	/* when it should run, µs */
	int			 w_stalled;	/* the last run was late */
	const char		*w_doing;	/* the callback running, for
						   stall warnings */
	uint64_t		 w_doing_id;	/* its connection, or 0 */
};

int		 worker_init(struct worker *, struct server *, unsigned int,
		     struct snapshot *);
int		 worker_start(struct worker *, uint64_t);
void		 worker_send(struct worker *, enum worker_msg_type,
		     struct snapshot *, struct accesslog *);
void		 worker_join(struct worker *);
void		 worker_free(struct worker *);
uint64_t	 worker_now_ms(void);
uint64_t	 worker_now_us(void);
void		 worker_ms_tv(uint64_t, struct timeval *);
const char	*worker_date(struct worker *);
void		 worker_conn_opened(struct worker *);
void		 worker_conn_closed(struct worker *);
void		 worker_accept_pause(struct worker *);
void		 worker_accept_update(struct worker *);

/* What w's loop is doing now, for a stall warning: a pointer store. */
static inline void
worker_doing(struct worker *w, const char *what, uint64_t id)
{
	w->w_doing = what;
	w->w_doing_id = id;
}

/* metrics.c */
struct metrics;
struct metrics	*metrics_open(struct server *, const struct listen_addr *, int,
		     char **);
void		 metrics_close(struct metrics *);
int		 metrics_fd(struct metrics *);

/* daemon.c */
enum server_note {
	SERVER_NOTE_EXITED,	/* a worker's loop has ended */
};

struct server_note_msg {
	enum server_note	 sm_type;
	unsigned int		 sm_worker;
};

struct server {
	struct event_base	*s_base;	/* main thread: signals etc. */
	struct snapshot		*s_snap;	/* current config and pages */
	struct worker		*s_workers;
	unsigned int		 s_nworkers;
	unsigned int		 s_nrunning;	/* started, not yet exited */

	atomic_size_t		 s_nconns;	/* all workers' connections */
	atomic_int		 s_limited;	/* paused at max_connections */
	_Atomic uint64_t	 s_limit_pauses;	/* times s_limited set */
	atomic_int		 s_emfile_warned; /* EMFILE logged, this
						   episode */
	_Atomic uint64_t	 s_emfile_log_ms; /* when last logged */
	atomic_uint		 s_emfile_unlogged; /* episodes since */

	int			 s_notes[2];	/* worker -> main notes */
	struct event		*s_notes_ev;

	int			 s_activated;	/* sockets of a .socket unit */
	size_t			 s_nlisteners;	/* addresses served */
	uint64_t		 s_watchdog_ms;	/* 0: no watchdog */
	struct event		*s_watchdog;	/* WATCHDOG=1 pings */
	int			 s_stuck_warned; /* a worker is stuck */

	struct metrics		*s_metrics;	/* metrics_listen, or NULL */
	struct accesslog	*s_alog;	/* access_log = PATH, or NULL */
	uint64_t		 s_reloads;	/* main thread only */
	uint64_t		 s_reload_failures;
	struct event		*s_status_ev;	/* live STATUS= for systemd */
	char			 s_status[128];	/* the last one sent */
	uint64_t		 s_status_reqs;	/* requests then */
	uint64_t		 s_status_ms;	/* and when */

	int			 s_stopping;
	int			 s_failed;	/* a worker ended on its own */
	struct event		*s_sig[6];
	struct event		*s_stop_timer;
};

struct event_base *server_base_new(void);
int		 server_init(struct server *, struct config *, struct pages *);
int		 server_open_log(struct server *, char **);

/* sockets.c: the listening sockets, from systemd and back to its store. */
int		 sockets_listen(struct server *, char **);
void		 sockets_store(struct server *);
int		 server_ready(struct server *);
int		 server_run(struct server *);
void		 server_free(struct server *);
void		 server_note(struct server *, enum server_note, unsigned int);
void		 server_stats(struct server *, struct stats *,
		     struct stats_server *);
void		 server_reload(struct server *);
void		 server_stop(struct server *);

#endif /* HELLOD_H */
