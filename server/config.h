/* SPDX-License-Identifier: ISC */
/*
 * config.h: the configuration: file, -o overrides, keys, values.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_CONFIG_H
#define HELLOD_CONFIG_H

/* config.c, config_keys.c, config_value.c */
#define CONFIG_MAX_KEYS	32	/* room in a parse for the key table */

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
	char			**cf_overrides;	/* -o KEY=VALUE list, for
						   reloads; NULL-terminated */
};

/*
 * Where a value was written: relative paths resolve against cs_base's
 * directory (NULL: the current one); cs_line is 0 for an -o.
 */
struct config_src {
	const char		*cs_base;
	unsigned int		 cs_line;
};

/* config.c: the file, the -o overrides, the pages check */
struct config	*config_parse(const char *, const char *, size_t, char **);
const char	*config_where(const struct config *, unsigned int,
		     const char *, const char *, char *, size_t);
struct pages;
struct config	*config_load(const char *, char *const *, struct pages **,
		     char **);
void		 config_free(struct config *);

/* config_keys.c: the key table and a setter per type */
const struct config_key	*config_keys(size_t *);
const struct config_key	*config_key_find(const char *);
int		 config_key_set(struct config *, const struct config_key *,
		     const char *, const struct config_src *, char **);
int		 config_key_defaults(struct config *);
void		 config_usage(FILE *);

/* config_value.c: values parsed, compared and copied */
void		 config_causef(char **, const char *, ...) printflike(2, 3);
/* A message in *cause, and -1, for `return (config_cause(...))`: a macro,
 * so that the analyzers see the -1 (they do not follow variadic calls). */
#define config_cause(cause, ...)	(config_causef((cause), __VA_ARGS__), -1)
int		 config_parse_uint(const char *, uint64_t *);
int		 config_parse_duration(const char *, uint64_t *);
int		 config_parse_size(const char *, uint64_t *);
int		 config_parse_listen(const char *, struct listen_addr *, char **);
int		 config_parse_workers(const char *, uint64_t *);
unsigned int	 config_workers(const struct config *, long);
int		 config_same_addr(const struct listen_addr *,
		     const struct listen_addr *);
void		 config_free_addr(struct listen_addr *);
void		 config_clear_listen(struct config *);
int		 config_same_listen(const struct config *, const struct config *);
int		 config_copy_listen(struct config *, const struct config *);
int		 config_same_metrics(const struct config *,
		     const struct config *);
int		 config_copy_metrics(struct config *, const struct config *);
int		 config_same_user(const struct config *, const struct config *);
int		 config_copy_user(struct config *, const struct config *);

#endif /* HELLOD_CONFIG_H */
