/* SPDX-License-Identifier: ISC */
/*
 * systemd.h: libsystemd: notify, listen fds, fd store, journal.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_SYSTEMD_H
#define HELLOD_SYSTEMD_H

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

#endif /* HELLOD_SYSTEMD_H */
