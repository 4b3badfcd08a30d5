/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for addr.c: socket addresses as people read them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <string.h>

#include "hellod.h"
#include "unit.h"

/* 127.0.0.1:port */
static struct sockaddr_in
loopback(unsigned int port)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr), 1);
	return (sin);
}

START_TEST(test_ipv4)
{
	struct sockaddr_in	sin = loopback(7878);
	char			buf[64];

	addr_format((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf);
	ck_assert_str_eq(buf, "127.0.0.1:7878");
}
END_TEST

START_TEST(test_ipv6)
{
	struct sockaddr_in6	sin6;
	char			buf[64];

	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(65535);
	ck_assert_int_eq(inet_pton(AF_INET6, "::1", &sin6.sin6_addr), 1);
	addr_format((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf);
	ck_assert_str_eq(buf, "[::1]:65535");
}
END_TEST

/* Another family, or a length too short for the family: "?". */
START_TEST(test_unknown)
{
	struct sockaddr_un	sun;
	struct sockaddr_in	sin = loopback(7878);
	char			buf[64];

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	addr_format((struct sockaddr *)&sun, sizeof sun, buf, sizeof buf);
	ck_assert_str_eq(buf, "?");

	addr_format((struct sockaddr *)&sin, sizeof sin - 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "?");
}
END_TEST

/* A buffer too small is cut, NUL-terminated, never overrun. */
START_TEST(test_small_buffer)
{
	struct sockaddr_in	sin = loopback(7878);
	char			buf[8];

	addr_format((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf);
	ck_assert_str_eq(buf, "127.0.0");
}
END_TEST

static Suite *
addr_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("addr");
	tc = tcase_create("format");
	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_small_buffer);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (unit_run(addr_suite()));
}
