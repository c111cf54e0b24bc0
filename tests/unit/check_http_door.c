/*
 * http_door: the front door's check of a connection's first request head
 * (src/http/http_door.c).
 *
 *   http_door_head_*   incomplete, good and refused heads
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http/http_door.h"

Suite	*http_door_suite(void);

static int
check(const char *head, enum api_err *code)
{
	char msg[128];

	return http_door_head_check(head, strlen(head), code, msg, sizeof(msg));
}

START_TEST(http_door_head_incomplete_waits)
{
	enum api_err code;

	ck_assert_int_eq(check("", &code), 0);
	ck_assert_int_eq(check("POST / HTTP/1.1\r\nHost: x\r\n", &code), 0);
	ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: x", &code), 0);
}
END_TEST

START_TEST(http_door_head_good_passes)
{
	enum api_err code;

	ck_assert_int_eq(check("POST / HTTP/1.1\r\nHost: x\r\n\r\n", &code), 1);
	ck_assert_int_eq(check("POST / HTTP/1.1\r\ncontent-length:  02 \r\n"
	    "\r\n{}", &code), 1);
	ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: 2\r\n"
	    "Content-Length: 2\r\n\r\n", &code), 1);
	ck_assert_int_eq(check("GET /health HTTP/1.1\n\n", &code), 1);
	/* a bad value after the head is body, not a header */
	ck_assert_int_eq(check("POST / HTTP/1.1\r\n\r\nContent-Length: x\r\n",
	    &code), 1);
}
END_TEST

START_TEST(http_door_head_bad_refused)
{
	static const char *const bad[] = { "-1", "abc", "1e3", "2, 2", "0x2",
	    "", " " };
	enum api_err code;
	char head[256], *big;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(head, sizeof(head), "POST / HTTP/1.1\r\n"
		    "Content-Length: %s\r\n\r\n", bad[i]);
		ck_assert_int_eq(check(head, &code), -1);
		ck_assert_int_eq(code, API_E_SERIALIZATION);
	}
	ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: 2\r\n"
	    "Content-Length: 3\r\n\r\n", &code), -1);
	ck_assert_int_eq(code, API_E_SERIALIZATION);
	ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: "
	    "18446744073709551616\r\n\r\n", &code), -1);
	ck_assert_int_eq(code, API_E_REQUEST_TOO_LARGE);
	ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: "
	    "18446744073709551615\r\n\r\n", &code), 1);

	big = malloc(HTTP_DOOR_HEAD_MAX + 64);
	ck_assert_ptr_nonnull(big);
	/* a head without its end, past the limit */
	memset(big, 'a', HTTP_DOOR_HEAD_MAX + 1);
	memcpy(big, "POST / HTTP/1.1\r\nX: ", 20);
	big[HTTP_DOOR_HEAD_MAX + 1] = '\0';
	ck_assert_int_eq(check(big, &code), -1);
	ck_assert_int_eq(code, API_E_HEADERS_TOO_LARGE);
	/* a request line without its end, past the URL limit */
	memset(big, 'b', HTTP_DOOR_URL_MAX + 10);
	memcpy(big, "POST /", 6);
	big[HTTP_DOOR_URL_MAX + 10] = '\0';
	ck_assert_int_eq(check(big, &code), -1);
	ck_assert_int_eq(code, API_E_URI_TOO_LONG);
	free(big);
}
END_TEST

/* HTTP_DOOR_NHDR_MAX header lines pass, one more is refused. */
START_TEST(http_door_head_line_count)
{
	enum api_err code;
	char *head = malloc(HTTP_DOOR_HEAD_MAX);
	size_t n;

	ck_assert_ptr_nonnull(head);
	for (unsigned extra = 0; extra < 2; extra++) {
		n = (size_t)snprintf(head, HTTP_DOOR_HEAD_MAX, "POST / HTTP/1.1\r\n");
		for (unsigned i = 0; i < HTTP_DOOR_NHDR_MAX + extra; i++)
			n += (size_t)snprintf(head + n, HTTP_DOOR_HEAD_MAX - n,
			    "X-%u: v\r\n", i);
		n += (size_t)snprintf(head + n, HTTP_DOOR_HEAD_MAX - n, "\r\n");
		ck_assert_uint_lt(n, HTTP_DOOR_HEAD_MAX);
		if (extra == 0) {
			ck_assert_int_eq(check(head, &code), 1);
		} else {
			ck_assert_int_eq(check(head, &code), -1);
			ck_assert_int_eq(code, API_E_INCOMPLETE_SIGNATURE);
		}
	}
	free(head);
}
END_TEST

Suite *
http_door_suite(void)
{
	Suite *s = suite_create("http_door");
	TCase *tc = tcase_create("http_door");

	tcase_add_test(tc, http_door_head_incomplete_waits);
	tcase_add_test(tc, http_door_head_good_passes);
	tcase_add_test(tc, http_door_head_bad_refused);
	tcase_add_test(tc, http_door_head_line_count);
	suite_add_tcase(s, tc);
	return s;
}
