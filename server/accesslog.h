/* SPDX-License-Identifier: ISC */
/*
 * accesslog.h: access_log = PATH: a buffered file per worker.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_ACCESSLOG_H
#define HELLOD_ACCESSLOG_H

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

#endif /* HELLOD_ACCESSLOG_H */
