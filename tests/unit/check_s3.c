/*
 * check_s3: the S3 client.
 *
 *   s3_xml_*     the bounded XML scanner on good and hostile documents
 *   s3_url_*     s3:// URLs, percent-decoding, times
 *   s3_copy_plan the parts of a multipart copy: sizes, S3's limits
 *   s3_live_*    against a real moto_server on a loopback port (started
 *                here; skipped with a message when moto_server is absent):
 *                missing bucket, listing across pages, ranged GET, PUT
 *                from an fd with metadata, multipart, delete, and an
 *                endpoint that went away; a copy over copy_max in parts
 *                (bytes, metadata, the parts' ETag), a missing source
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "s3/s3.h"

Suite *s3_suite(void);

START_TEST(s3_xml_finds_exact_tags)
{
	static const char d[] = "<R><KeyCount>2</KeyCount><Contents><Key>a&amp;b"
	    "&#x2F;&lt;c&gt;</Key><Size>12</Size></Contents><Empty/>"
	    "<Contents><Key>z</Key></Contents></R>";
	char out[64];
	size_t pos = 0, s, e;

	ck_assert_int_eq(s3_xml_text(d, sizeof(d) - 1, &pos, "Key", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "a&b/<c>");		/* not KeyCount's "2" */
	ck_assert_int_eq(s3_xml_text(d, sizeof(d) - 1, &pos, "Key", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "z");
	ck_assert_int_eq(s3_xml_text(d, sizeof(d) - 1, &pos, "Key", out,
	    sizeof(out)), -ENOENT);
	pos = 0;
	ck_assert_int_eq(s3_xml_elem(d, sizeof(d) - 1, &pos, "Empty", &s, &e), 0);
	ck_assert_uint_eq(s, e);
	pos = 0;
	ck_assert_int_eq(s3_xml_text(d, sizeof(d) - 1, &pos, "Key", out, 4),
	    -E2BIG);
}
END_TEST

START_TEST(s3_xml_hostile_documents)
{
	static const char *bad[] = {
		"<Key>never closed",
		"<Key",
		"<Key>&bogus;</Key>",
		"<Key>&#0;</Key>",
		"<Key>&#x80;</Key>",
		"<Key>&#99999999999999999999;</Key>",
	};
	char out[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t pos = 0;

		ck_assert_msg(s3_xml_text(bad[i], strlen(bad[i]), &pos, "Key",
		    out, sizeof(out)) == -EBADMSG, "%s", bad[i]);
	}
}
END_TEST

START_TEST(s3_url_split_and_decode)
{
	char b[64], p[S3_KEY_MAX + 1], k[32];

	ck_assert_int_eq(s3_url_split("s3://my-bucket/a/b/", b, sizeof(b), p,
	    sizeof(p)), 0);
	ck_assert_str_eq(b, "my-bucket");
	ck_assert_str_eq(p, "a/b/");
	ck_assert_int_eq(s3_url_split("s3://my-bucket", b, sizeof(b), p,
	    sizeof(p)), 0);
	ck_assert_str_eq(p, "");
	ck_assert_int_eq(s3_url_split("s3://Bad_Bucket/x", b, sizeof(b), p,
	    sizeof(p)), -EINVAL);
	ck_assert_int_eq(s3_url_split("http://b/x", b, sizeof(b), p,
	    sizeof(p)), -EINVAL);
	ck_assert_int_eq(s3_url_split("s3://ab/x", b, sizeof(b), p,
	    sizeof(p)), -EINVAL);
	snprintf(k, sizeof(k), "a%%20b%%2Fc+d");
	ck_assert_int_eq(s3_url_decode(k), 0);
	ck_assert_str_eq(k, "a b/c d");
	snprintf(k, sizeof(k), "a%%00b");
	ck_assert_int_eq(s3_url_decode(k), -EBADMSG);
	snprintf(k, sizeof(k), "a%%zz");
	ck_assert_int_eq(s3_url_decode(k), -EBADMSG);
	ck_assert_int_eq(s3_parse_time("2026-12-03T11:21:23.000Z"), 1796296883);
	ck_assert_int_eq(s3_parse_time("Thu, 03 Dec 2026 11:21:23 GMT"), 1796296883);
	ck_assert_int_eq(s3_parse_time("yesterday"), -1);
}
END_TEST

/* A big copy's parts: at least S3_PART_MIN, at most S3_COPY_MAX each, at
 * most S3_PARTS_MAX of them, covering the object. */
START_TEST(s3_copy_plan_limits)
{
	static const struct {
		uint64_t size, copy_max, part, nparts;
		int rc;
	} c[] = {
		{ (20ull << 20) + 12345, 6ull << 20, 6ull << 20, 4, 0 },
		{ 6ull << 30, S3_COPY_MAX, S3_COPY_PART, 6, 0 },
		{ (6ull << 30) + 1, S3_COPY_MAX, S3_COPY_PART, 7, 0 },
		{ 12ull << 20, 1ull << 20, S3_PART_MIN, 3, 0 },	/* raised */
		{ 5ull << 40, S3_COPY_MAX, S3_COPY_PART, 5120, 0 },
		/* 20 TiB: 1 GiB parts would be 20,480; whole MiB parts */
		{ 20ull << 40, S3_COPY_MAX, 2098ull << 20, 9996, 0 },
		{ 60ull << 40, S3_COPY_MAX, 0, 0, -EFBIG },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint64_t part = 0, n = 0;

		ck_assert_int_eq(s3_copy_plan(c[i].size, c[i].copy_max, &part,
		    &n), c[i].rc);
		if (c[i].rc < 0)
			continue;
		ck_assert_uint_eq(part, c[i].part);
		ck_assert_uint_eq(n, c[i].nparts);
		ck_assert(n <= S3_PARTS_MAX && part >= S3_PART_MIN &&
		    part <= S3_COPY_MAX);
		ck_assert(part * n >= c[i].size && part * (n - 1) < c[i].size);
	}
}
END_TEST

/* --- live, against moto_server --- */

static pid_t moto_pid;
static int moto_port;
static char moto_endpoint[64];

static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int
moto_start(void)
{
	char port[16];

	if (system("command -v moto_server >/dev/null 2>&1") != 0)
		return -ENOENT;
	moto_port = free_port();
	snprintf(port, sizeof(port), "%d", moto_port);
	snprintf(moto_endpoint, sizeof(moto_endpoint), "http://127.0.0.1:%d",
	    moto_port);
	moto_pid = fork();
	if (moto_pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execlp("moto_server", "moto_server", "-H", "127.0.0.1", "-p", port,
		    (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
		    .sin_port = htons((uint16_t)moto_port),
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

		close(fd);
		if (ok)
			return 0;
		usleep(50000);
	}
	return -ETIMEDOUT;
}

static void
moto_stop(void)
{
	if (moto_pid > 0) {
		kill(moto_pid, SIGKILL);
		waitpid(moto_pid, NULL, 0);
		moto_pid = 0;
	}
}

/* copy_max 0: the client's default */
static struct s3_client *
live_client(int retries, uint64_t copy_max)
{
	struct s3_conf c;

	memset(&c, 0, sizeof(c));
	snprintf(c.endpoint, sizeof(c.endpoint), "%s", moto_endpoint);
	snprintf(c.region, sizeof(c.region), "us-east-1");
	snprintf(c.key.akid, sizeof(c.key.akid), "test");
	snprintf(c.key.secret, sizeof(c.key.secret), "test");
	c.path_style = 1;
	c.max_retries = retries;
	c.part_size = S3_PART_MIN;
	c.copy_max = copy_max;
	return s3_client_new(&c);
}

static void
make_bucket(const char *b)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
	    " aws --endpoint-url %s s3api create-bucket --bucket %s"
	    " --region us-east-1 >/dev/null", moto_endpoint, b);
	ck_assert_int_eq(system(cmd), 0);
}

struct collect {
	int	 n;
	char	 first[S3_KEY_MAX + 1], last[S3_KEY_MAX + 1];
	uint64_t bytes;
};

static int
collect_fn(void *arg, const struct s3_object *o)
{
	struct collect *c = arg;

	if (c->n++ == 0)
		snprintf(c->first, sizeof(c->first), "%s", o->key);
	snprintf(c->last, sizeof(c->last), "%s", o->key);
	c->bytes += o->size;
	return 0;
}

struct sink {
	char	*p;
	size_t	 len, cap;
};

static int
sink_fn(void *arg, const void *buf, size_t n)
{
	struct sink *s = arg;

	if (s->len + n > s->cap)
		return -EMSGSIZE;
	memcpy(s->p + s->len, buf, n);
	s->len += n;
	return 0;
}

/* The whole object is data[0, n): read into sk (its buffer made n). */
static void
body_is(struct s3_client *s, const char *bucket, const char *key,
    const char *data, size_t n, struct sink *sk)
{
	struct s3_error err;

	sk->cap = n;
	sk->len = 0;
	sk->p = xmalloc(n);
	ck_assert_int_eq(s3_get(s, bucket, key, 0, 0, sink_fn, sk, &err), 0);
	ck_assert_uint_eq(sk->len, n);
	ck_assert(memcmp(sk->p, data, n) == 0);
}

/* An unlinked temporary file: `lead`, then n patterned bytes (*data). */
static int
data_file(size_t n, const char *lead, char **data)
{
	char path[] = "/tmp/check_s3.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	*data = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		(*data)[i] = (char)(i * 7 + i / 4096);
	ck_assert_int_eq(write(fd, lead, strlen(lead)), (ssize_t)strlen(lead));
	ck_assert_int_eq(write(fd, *data, n), (ssize_t)n);
	return fd;
}

START_TEST(s3_live_roundtrip)
{
	struct s3_client *s;
	struct s3_error err;
	struct s3_object o;
	struct collect col = { 0 };
	struct sink sk = { 0 };
	struct s3_meta meta[2] = { { "file-permissions", "0100644" },
	    { "file-owner", "1000" } };
	char key[64];
	size_t big = 12u << 20;
	char *data;
	int fd;

	if (moto_start() == -ENOENT) {
		fprintf(stderr, "check_s3: moto_server not installed; live tests"
		    " skipped (expected on machines without it)\n");
		return;
	}
	s = live_client(1, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s3_head_bucket(s, "no-such-bucket", &err), -ENOENT);
	ck_assert_str_eq(err.code, "NoSuchBucket");
	make_bucket("live-one");
	ck_assert_int_eq(s3_head_bucket(s, "live-one", &err), 0);

	/* a listing across pages, with keys that need encoding */
	for (int i = 0; i < 1003; i++) {
		snprintf(key, sizeof(key), "d/sub dir/k+%04d&x.txt", i);
		ck_assert_int_eq(s3_put_buf(s, "live-one", key, "abc", 3, NULL,
		    &err), 0);
	}
	ck_assert_int_eq(s3_put_buf(s, "live-one", "other", "x", 1, NULL, &err), 0);
	ck_assert_int_eq(s3_list(s, "live-one", "d/", collect_fn, &col, &err), 0);
	ck_assert_int_eq(col.n, 1003);
	ck_assert_str_eq(col.first, "d/sub dir/k+0000&x.txt");
	ck_assert_str_eq(col.last, "d/sub dir/k+1002&x.txt");
	ck_assert_uint_eq(col.bytes, 3009);

	/* an fd upload over the part size goes multipart; ranges read back */
	fd = data_file(big, "HEAD", &data);
	ck_assert_msg(s3_put_fd(s, "live-one", "big.bin", fd, 4, big, meta, 2,
	    &err) == 0, "%ld %s %s", err.status, err.code, err.message);
	ck_assert_int_eq(s3_head_object(s, "live-one", "big.bin", &o, &err), 0);
	ck_assert_uint_eq(o.size, big);
	ck_assert_int_eq(o.nmeta, 2);
	ck_assert_str_eq(o.meta[0].name, "file-permissions");
	ck_assert_str_eq(o.meta[0].value, "0100644");
	body_is(s, "live-one", "big.bin", data, big, &sk);
	sk.len = 0;
	ck_assert_int_eq(s3_get(s, "live-one", "big.bin", 5u << 20, 100, sink_fn,
	    &sk, &err), 0);
	ck_assert_uint_eq(sk.len, 100);
	ck_assert(memcmp(sk.p, data + (5u << 20), 100) == 0);
	/* a receiver that stops the transfer gets its own error back */
	sk.len = 0;
	sk.cap = 10;
	ck_assert_int_eq(s3_get(s, "live-one", "big.bin", 0, 0, sink_fn, &sk,
	    &err), -EMSGSIZE);
	/* a small fd upload is one PUT */
	ck_assert_int_eq(s3_put_fd(s, "live-one", "small", fd, 0, 4, NULL, 0,
	    &err), 0);
	ck_assert_int_eq(s3_head_object(s, "live-one", "small", &o, &err), 0);
	ck_assert_uint_eq(o.size, 4);
	ck_assert_int_eq(s3_delete(s, "live-one", "small", &err), 0);
	ck_assert_int_eq(s3_head_object(s, "live-one", "small", &o, &err), -ENOENT);
	ck_assert_int_eq(s3_get(s, "live-one", "small", 0, 0, sink_fn, &sk, &err),
	    -ENOENT);
	ck_assert_str_eq(err.code, "NoSuchKey");

	/* the endpoint goes away: retried, then a clear transport error */
	moto_stop();
	ck_assert_int_eq(s3_head_bucket(s, "live-one", &err), -EAGAIN);
	ck_assert_str_eq(err.code, "TransportError");
	close(fd);
	free(data);
	free(sk.p);
	s3_client_free(s);
}
END_TEST

/* Over copy_max a copy goes in UploadPartCopy parts, with the source's
 * metadata; up to it (or when the caller's size says so) one CopyObject. */
START_TEST(s3_live_copy_in_parts)
{
	struct s3_client *s;
	struct s3_error err;
	struct s3_object o;
	struct sink sk = { 0 };
	struct s3_meta meta[2] = { { "file-permissions", "0100640" },
	    { "test-tag", "mpcopy" } };
	size_t big = (12u << 20) + 5;
	char *data;
	int fd;

	if (moto_start() == -ENOENT)
		return;
	s = live_client(1, S3_PART_MIN);
	ck_assert_ptr_nonnull(s);
	make_bucket("live-copy");
	fd = data_file(big, "", &data);
	ck_assert_int_eq(s3_put_fd(s, "live-copy", "src", fd, 0, big, meta, 2,
	    &err), 0);

	ck_assert_msg(s3_copy(s, "live-copy", "src", "dir/dst", big, &err) == 0,
	    "%ld %s %s", err.status, err.code, err.message);
	ck_assert_int_eq(s3_head_object(s, "live-copy", "dir/dst", &o, &err), 0);
	ck_assert_uint_eq(o.size, big);
	ck_assert_ptr_nonnull(strstr(o.etag, "-3"));	/* 3 parts of 5 MiB */
	ck_assert_int_eq(o.nmeta, 2);
	for (int i = 0; i < 2; i++) {
		int found = 0;

		for (int j = 0; j < o.nmeta; j++)
			found |= strcmp(o.meta[j].name, meta[i].name) == 0 &&
			    strcmp(o.meta[j].value, meta[i].value) == 0;
		ck_assert_msg(found, "metadata %s lost", meta[i].name);
	}
	body_is(s, "live-copy", "dir/dst", data, big, &sk);

	/* a Content-Type goes along too */
	ck_assert_int_eq(s3_put_buf(s, "live-copy", "typed", data, big,
	    "text/plain", &err), 0);
	ck_assert_int_eq(s3_copy(s, "live-copy", "typed", "typed2", big, &err),
	    0);
	ck_assert_int_eq(s3_head_object(s, "live-copy", "typed2", &o, &err), 0);
	ck_assert_str_eq(o.ctype, "text/plain");
	ck_assert_ptr_nonnull(strstr(o.etag, "-3"));
	/* more metadata than the client keeps: refused, nothing written */
	{
		char cmd[1024], mpath[] = "/tmp/check_s3.XXXXXX";
		int mfd = mkstemp(mpath);

		ck_assert_int_ge(mfd, 0);
		ck_assert_int_eq(write(mfd, data, 6u << 20), 6 << 20);
		close(mfd);
		snprintf(cmd, sizeof(cmd), "AWS_ACCESS_KEY_ID=test "
		    "AWS_SECRET_ACCESS_KEY=test aws --endpoint-url %s s3api "
		    "put-object --bucket live-copy --key many --body %s "
		    "--metadata a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,"
		    "l=12,m=13,n=14,o=15,p=16,q=17 --region us-east-1 "
		    ">/dev/null", moto_endpoint, mpath);
		ck_assert_int_eq(system(cmd), 0);
		unlink(mpath);
	}
	ck_assert_int_eq(s3_copy(s, "live-copy", "many", "many2", 6u << 20,
	    &err), -E2BIG);
	ck_assert_str_eq(err.code, "MetadataTooLarge");
	ck_assert_int_eq(s3_head_object(s, "live-copy", "many2", &o, &err),
	    -ENOENT);

	/* the caller's size under copy_max: one CopyObject */
	ck_assert_int_eq(s3_copy(s, "live-copy", "src", "one", 1, &err), 0);
	ck_assert_int_eq(s3_head_object(s, "live-copy", "one", &o, &err), 0);
	ck_assert_uint_eq(o.size, big);
	ck_assert_ptr_null(strchr(o.etag, '-'));
	/* a missing source: NoSuchKey either way, nothing written */
	ck_assert_int_eq(s3_copy(s, "live-copy", "gone", "x", big, &err),
	    -ENOENT);
	ck_assert_int_eq(s3_copy(s, "live-copy", "gone", "y", 1, &err),
	    -ENOENT);
	ck_assert_int_eq(s3_head_object(s, "live-copy", "x", &o, &err), -ENOENT);
	moto_stop();
	close(fd);
	free(data);
	free(sk.p);
	s3_client_free(s);
}
END_TEST

static void
live_teardown(void)
{
	moto_stop();
}

Suite *
s3_suite(void)
{
	Suite *s = suite_create("s3");
	TCase *tc = tcase_create("s3");
	TCase *live = tcase_create("s3_live");

	tcase_add_test(tc, s3_xml_finds_exact_tags);
	tcase_add_test(tc, s3_xml_hostile_documents);
	tcase_add_test(tc, s3_url_split_and_decode);
	tcase_add_test(tc, s3_copy_plan_limits);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(live, NULL, live_teardown);
	tcase_set_timeout(live, 120);
	tcase_add_test(live, s3_live_roundtrip);
	tcase_add_test(live, s3_live_copy_in_parts);
	suite_add_tcase(s, live);
	return s;
}
