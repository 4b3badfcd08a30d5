/* SPDX-License-Identifier: ISC */
/*
 * conn.h: a connection: its socket, bufferevent and timer.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_CONN_H
#define HELLOD_CONN_H

/* conn.c */
#define CONN_ADDR_LEN	(INET6_ADDRSTRLEN + sizeof "[]:65535" - 1)
/*
 * A connection's state, and the deadline its one timer serves:
 *	CONN_IDLE_NEW		header_timeout, then close quietly
 *	CONN_IDLE_KEEPALIVE	keepalive_timeout, then close quietly
 *				(in a shutdown, both: HELLOD_CLOSE_GRACE_MS
 *				for a request on its way, then
 *				serve_close_idle())
 *	CONN_READING		header_timeout from the request's first byte
 *				(or from the end of the previous response),
 *				then 408
 *	CONN_SLEEPING		sleep, then answer
 *	CONN_LINGERING		HELLOD_LINGER_MS (HELLOD_CLOSE_GRACE_MS
 *				after serve_close_idle()), then close
 * A client that stops reading is caught by the bufferevent write timeout.
 */
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

/* The callbacks a connection's owner (serve.c) hands conn_open(). */
struct conn_callbacks {
	bufferevent_data_cb	 cb_read;
	bufferevent_data_cb	 cb_write;
	bufferevent_event_cb	 cb_event;
	event_callback_fn	 cb_timer;
};

#define conn_in(c)	bufferevent_get_input((c)->c_bev)
#define conn_out(c)	bufferevent_get_output((c)->c_bev)

struct conn	*conn_open(struct worker *, evutil_socket_t,
		     const struct sockaddr *, socklen_t,
		     const struct conn_callbacks *);
void		 conn_close(struct conn *, enum stats_close, const char *);
int		 conn_read_now(struct conn *);
int		 conn_write_now(struct conn *);
int		 conn_want_read(struct conn *);
void		 conn_drop_input(struct conn *);
void		 conn_count_sent(struct conn *);
void		 conn_set_idle(struct conn *, int);
void		 conn_nodelay(struct conn *);
int		 conn_linger(struct conn *);
void		 conn_count_response(struct conn *, int, size_t);
enum stats_close conn_errno_reason(int);

#endif /* HELLOD_CONN_H */
