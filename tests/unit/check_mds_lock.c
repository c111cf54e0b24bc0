/*
 * mds_lock: the MDS's lock manager (src/mds/mds_lock.h), on its own.
 *
 *   mds_lock_conflict_*   read/write conflicts between owners and clients
 *   mds_lock_range_*      POSIX ranges: split on unlock, merge, upgrade
 *   mds_lock_wait_*       queued waiters granted on release, in order
 *   mds_lock_deadlock_*   EDEADLK for a cycle of two and of three owners
 *   mds_lock_drop_*       a client's locks and waiters go with it
 *   mds_lock_flock_*      flock and POSIX locks are separate sets
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "mds/mds_lock.h"
#include "msg/msg.h"

Suite	*mds_lock_suite(void);

static struct mds_lock_req
req(uint64_t client, uint64_t owner, uint32_t type, uint64_t start,
    uint64_t end)
{
	struct mds_lock_req r = {
		.ino = 7, .client = client, .owner = owner, .start = start,
		.end = end, .type = type, .pid = (uint32_t)owner,
	};

	return r;
}

static int
lk(struct mds_lock *lm, uint64_t client, uint64_t owner, uint32_t type,
    uint64_t start, uint64_t end)
{
	struct mds_lock_req r = req(client, owner, type, start, end);

	return mds_lock_set(lm, &r, NULL, NULL, NULL);
}

/* Does (client, owner) get type over [start, end] without waiting? */
static int
free_for(struct mds_lock *lm, uint64_t client, uint64_t owner, uint32_t type,
    uint64_t start, uint64_t end)
{
	struct mds_lock_req r = req(client, owner, type, start, end), out;

	ck_assert_int_eq(mds_lock_test(lm, &r, &out), 0);
	return out.type == MSG_LK_UN;
}

/* Granted waiters in order, and how many were cancelled. */
struct woke {
	int	n;
	int	order[8];
	int	cancelled;
};
static struct woke woke;

static void
wake(void *arg, int rc)
{
	if (rc == 0)
		woke.order[woke.n++] = (int)(intptr_t)arg;
	else if (rc == -ECANCELED)
		woke.cancelled++;
}

static int
lkw(struct mds_lock *lm, uint64_t client, uint64_t owner, uint32_t type,
    uint64_t start, uint64_t end, int tag)
{
	struct mds_lock_req r = req(client, owner, type, start, end);

	r.wait = 1;
	return mds_lock_set(lm, &r, wake, (void *)(intptr_t)tag,
	    (void *)(intptr_t)tag);
}

START_TEST(mds_lock_conflict_read_write)
{
	struct mds_lock *lm = mds_lock_new();

	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_RD, 0, 99), 0);
	ck_assert_int_eq(lk(lm, 2, 1, MSG_LK_RD, 50, 150), 0);
	/* same owner number on another client is another owner */
	ck_assert_int_eq(lk(lm, 2, 1, MSG_LK_WR, 0, 10), -EAGAIN);
	ck_assert_int_eq(lk(lm, 1, 2, MSG_LK_WR, 100, 200), -EAGAIN);
	ck_assert_int_eq(lk(lm, 1, 2, MSG_LK_WR, 151, 200), 0);
	ck_assert(!free_for(lm, 3, 3, MSG_LK_RD, 160, 160));
	ck_assert(free_for(lm, 3, 3, MSG_LK_RD, 120, 150));
	ck_assert(free_for(lm, 3, 3, MSG_LK_WR, 201, MDS_LOCK_EOF));
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_RD, 10, 5), -EINVAL);
	mds_lock_free(lm);
}
END_TEST

START_TEST(mds_lock_range_split_merge_upgrade)
{
	struct mds_lock *lm = mds_lock_new();

	/* [0,99] then unlock the middle: two locks remain */
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_WR, 0, 99), 0);
	ck_assert_uint_eq(mds_lock_count(lm), 1);
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_UN, 40, 59), 0);
	ck_assert_uint_eq(mds_lock_count(lm), 2);
	ck_assert(free_for(lm, 2, 2, MSG_LK_WR, 40, 59));
	ck_assert(!free_for(lm, 2, 2, MSG_LK_RD, 39, 40));
	ck_assert(!free_for(lm, 2, 2, MSG_LK_RD, 59, 60));
	/* filling the hole merges back into one lock */
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_WR, 40, 59), 0);
	ck_assert_uint_eq(mds_lock_count(lm), 1);
	/* adjacent same type merges; a read in the middle splits in three */
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_WR, 100, 199), 0);
	ck_assert_uint_eq(mds_lock_count(lm), 1);
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_RD, 50, 149), 0);
	ck_assert_uint_eq(mds_lock_count(lm), 3);
	ck_assert(free_for(lm, 2, 2, MSG_LK_RD, 50, 149));
	ck_assert(!free_for(lm, 2, 2, MSG_LK_WR, 50, 50));
	/* upgrade back to write over everything: one lock */
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_WR, 0, 199), 0);
	ck_assert_uint_eq(mds_lock_count(lm), 1);
	/* an upgrade that conflicts with another reader fails */
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_RD, 0, 199), 0);
	ck_assert_int_eq(lk(lm, 2, 2, MSG_LK_RD, 10, 10), 0);
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_WR, 0, 199), -EAGAIN);
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_WR, 11, 199), 0);
	/* unlock to EOF removes it all */
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_UN, 0, MDS_LOCK_EOF), 0);
	ck_assert_int_eq(lk(lm, 2, 2, MSG_LK_UN, 0, MDS_LOCK_EOF), 0);
	ck_assert_uint_eq(mds_lock_count(lm), 0);
	mds_lock_free(lm);
}
END_TEST

START_TEST(mds_lock_wait_granted_in_order)
{
	struct mds_lock *lm = mds_lock_new();

	memset(&woke, 0, sizeof(woke));
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_WR, 0, MDS_LOCK_EOF), 0);
	ck_assert_int_eq(lkw(lm, 2, 2, MSG_LK_WR, 0, 9, 2), MDS_LOCK_QUEUED);
	ck_assert_int_eq(lkw(lm, 3, 3, MSG_LK_WR, 5, 5, 3), MDS_LOCK_QUEUED);
	ck_assert_int_eq(lkw(lm, 4, 4, MSG_LK_RD, 100, 100, 4),
	    MDS_LOCK_QUEUED);
	ck_assert_int_eq(woke.n, 0);
	/* releasing [100, EOF] lets only the reader at 100 in */
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_UN, 100, MDS_LOCK_EOF), 0);
	ck_assert_int_eq(woke.n, 1);
	ck_assert_int_eq(woke.order[0], 4);
	/* then the first waiter, and the second one still waits for it */
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_UN, 0, MDS_LOCK_EOF), 0);
	ck_assert_int_eq(woke.n, 2);
	ck_assert_int_eq(woke.order[1], 2);
	ck_assert(!free_for(lm, 1, 1, MSG_LK_RD, 0, 0));
	ck_assert_int_eq(lk(lm, 2, 2, MSG_LK_UN, 0, MDS_LOCK_EOF), 0);
	ck_assert_int_eq(woke.n, 3);
	ck_assert_int_eq(woke.order[2], 3);
	/* a cancelled waiter is never woken */
	ck_assert_int_eq(lkw(lm, 5, 5, MSG_LK_WR, 5, 5, 5), MDS_LOCK_QUEUED);
	ck_assert_int_eq(mds_lock_cancel(lm, (void *)(intptr_t)5), 1);
	ck_assert_int_eq(woke.cancelled, 1);
	ck_assert_int_eq(lk(lm, 3, 3, MSG_LK_UN, 0, MDS_LOCK_EOF), 0);
	ck_assert_int_eq(woke.n, 3);
	mds_lock_free(lm);
}
END_TEST

START_TEST(mds_lock_deadlock_detected)
{
	struct mds_lock *lm = mds_lock_new();

	memset(&woke, 0, sizeof(woke));
	/* A holds 0, B holds 1; A waits for 1; B asking for 0 would close
	 * the cycle */
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_WR, 0, 0), 0);
	ck_assert_int_eq(lk(lm, 2, 2, MSG_LK_WR, 1, 1), 0);
	ck_assert_int_eq(lkw(lm, 1, 1, MSG_LK_WR, 1, 1, 1), MDS_LOCK_QUEUED);
	ck_assert_int_eq(lkw(lm, 2, 2, MSG_LK_WR, 0, 0, 2), -EDEADLK);
	/* three owners: C holds 2, B waits for 2 is fine, C asking for 0
	 * (held by A, who waits for B, who waits for C) is not */
	ck_assert_int_eq(lk(lm, 3, 3, MSG_LK_WR, 2, 2), 0);
	ck_assert_int_eq(lkw(lm, 2, 2, MSG_LK_WR, 2, 2, 2), MDS_LOCK_QUEUED);
	ck_assert_int_eq(lkw(lm, 3, 3, MSG_LK_WR, 0, 0, 3), -EDEADLK);
	/* a fourth owner with no locks may wait */
	ck_assert_int_eq(lkw(lm, 4, 4, MSG_LK_WR, 0, 0, 4), MDS_LOCK_QUEUED);
	mds_lock_free(lm);
	ck_assert_int_eq(woke.cancelled, 3);	/* A, B and D still waited */
}
END_TEST

START_TEST(mds_lock_drop_client_releases_and_grants)
{
	struct mds_lock *lm = mds_lock_new();

	memset(&woke, 0, sizeof(woke));
	ck_assert_int_eq(lk(lm, 1, 1, MSG_LK_WR, 0, 9), 0);
	ck_assert_int_eq(lk(lm, 1, 2, MSG_LK_RD, 20, 29), 0);
	ck_assert_int_eq(lkw(lm, 1, 3, MSG_LK_WR, 20, 20, 13),
	    MDS_LOCK_QUEUED);
	ck_assert_int_eq(lkw(lm, 2, 1, MSG_LK_WR, 0, 29, 21),
	    MDS_LOCK_QUEUED);
	ck_assert_int_eq(mds_lock_drop_client(lm, 1), 2);
	/* client 1's own waiter is gone, client 2's is granted */
	ck_assert_int_eq(woke.cancelled, 1);
	ck_assert_int_eq(woke.n, 1);
	ck_assert_int_eq(woke.order[0], 21);
	ck_assert_uint_eq(mds_lock_count(lm), 1);
	ck_assert_int_eq(mds_lock_drop_client(lm, 2), 1);
	ck_assert_uint_eq(mds_lock_count(lm), 0);
	mds_lock_free(lm);
}
END_TEST

START_TEST(mds_lock_flock_separate_set)
{
	struct mds_lock *lm = mds_lock_new();
	struct mds_lock_req r = req(1, 1, MSG_LK_WR, 0, 0);

	r.flock = 1;
	ck_assert_int_eq(mds_lock_set(lm, &r, NULL, NULL, NULL), 0);
	/* a POSIX lock of another client does not see it */
	ck_assert_int_eq(lk(lm, 2, 2, MSG_LK_WR, 0, MDS_LOCK_EOF), 0);
	/* another flock does, over the whole file */
	r = req(2, 2, MSG_LK_RD, 0, 0);
	r.flock = 1;
	ck_assert_int_eq(mds_lock_set(lm, &r, NULL, NULL, NULL), -EAGAIN);
	/* the holder converts to shared: now both share */
	r = req(1, 1, MSG_LK_RD, 0, 0);
	r.flock = 1;
	ck_assert_int_eq(mds_lock_set(lm, &r, NULL, NULL, NULL), 0);
	r = req(2, 2, MSG_LK_RD, 0, 0);
	r.flock = 1;
	ck_assert_int_eq(mds_lock_set(lm, &r, NULL, NULL, NULL), 0);
	mds_lock_free(lm);
}
END_TEST

Suite *
mds_lock_suite(void)
{
	Suite *s = suite_create("mds_lock");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, mds_lock_conflict_read_write);
	tcase_add_test(tc, mds_lock_range_split_merge_upgrade);
	tcase_add_test(tc, mds_lock_wait_granted_in_order);
	tcase_add_test(tc, mds_lock_deadlock_detected);
	tcase_add_test(tc, mds_lock_drop_client_releases_and_grants);
	tcase_add_test(tc, mds_lock_flock_separate_set);
	suite_add_tcase(s, tc);
	return s;
}
