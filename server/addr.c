/* SPDX-License-Identifier: ISC */
/*
 * Socket addresses as people read them, for logs, listener names and the
 * fd store's names.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>

#include "hellod.h"

/* Format an address as 127.0.0.1:7878 or [::1]:7878. */
void
addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
    size_t size)
{
	char				 host[INET6_ADDRSTRLEN];
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET && len >= sizeof *sin) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= sizeof *sin6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, size, "?");
}
