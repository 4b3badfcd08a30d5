/* SPDX-License-Identifier: ISC */
/*
 * listener.h: one listening socket of one worker.
 * Included by hellod.h, after the headers before it in the map there.
 */
#ifndef HELLOD_LISTENER_H
#define HELLOD_LISTENER_H

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

#endif /* HELLOD_LISTENER_H */
