/* SPDX-License-Identifier: ISC */
/*
 * log.h: log lines to stderr or the journal; the access log's lines.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_LOG_H
#define HELLOD_LOG_H

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
typedef int (*log_journal_fn)(const char *, int, const char *,
		     const struct iovec *, size_t);
void		 log_set_journal_sender(log_journal_fn);
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

#endif /* HELLOD_LOG_H */
