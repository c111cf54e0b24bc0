/*
 * libfsx internals shared by fsc_conn.c (connections, calls, retries,
 * parallel object I/O) and fsc.c (the operations). Not for other modules.
 */
#ifndef FSX_FSC_INT_H
#define FSX_FSC_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include "fsc/fsc.h"

#define FSC_HOST_MAX	64
#define FSC_IOV_MAX	160	/* segments in one object request */
#define FSC_OST_MAXIDX	65535

/* One server and its pool of idle connections. */
struct fsc_srv {
	char		host[FSC_HOST_MAX];
	int		port;
	uint32_t	kind;		/* 1 = MDS, 2 = OSS */
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	int		*idle;		/* idle fds */
	int		nidle;
	int		nopen;		/* idle + in use */
	int		max;
	struct fsc_srv	*next;		/* fs->srvs list */
};

struct fsc_ost {
	struct fsc_srv	*srv;		/* NULL: index not in the map */
	uint64_t	capacity;
};

struct fsc_oio;
struct fsc_inode;

#define FSC_IHASH	256

/*
 * A directory's attributes as the MDS returned them with a change this
 * client made in it (CREATE, UNLINK), stamped before the request was sent
 * so their age is never underestimated. See fsc_dir_attr().
 */
#define FSC_DATTR	64	/* slots, by inode number */
struct fsc_dattr {
	uint64_t	ino;		/* 0: empty */
	uint64_t	at_ns;		/* monotonic */
	struct msg_attr	attr;
};

#define FSC_DEFER_MAX	1024	/* REVOKE answers waiting for held calls */

struct fsc {
	struct fsc_conf		conf;
	char			mds_host[FSC_HOST_MAX];
	struct fsc_srv		*mds;
	uint64_t		root;
	int			retry_ms;

	pthread_mutex_t		mu;	/* OST map, server list, workers */
	struct fsc_ost		*osts;	/* indexed by OST index */
	uint32_t		nosts;	/* array length */
	int			ost_count;
	uint64_t		map_loaded_ns;
	struct fsc_srv		*srvs;	/* every OSS ever seen */
	int			*ldir;	/* by OST: local reads (fsc_local.c) */
	uint32_t		nldir;

	/* parallel object I/O */
	pthread_mutex_t		qmu;
	pthread_cond_t		qcv;
	struct fsc_oio		*qhead, *qtail;
	pthread_t		*workers;
	int			nworkers;
	int			stopping;

	/* open inodes (fsc.c) */
	pthread_mutex_t		imu;
	struct fsc_inode	*itab[FSC_IHASH];

	/* directory attributes from our own changes (fsc.c) */
	pthread_mutex_t		dmu;
	int			dbusy;	/* directory changes in flight */
	int			dmixed;	/* some of them overlapped */
	struct fsc_dattr	dtab[FSC_DATTR];

	uint64_t		reqid;	/* atomic; a call keeps its own
					   across resends */
	uint64_t		client_id;	/* in every HELLO (msg.h) */
	size_t			ra_bytes;	/* read-ahead window; 0: off */

	/* the session (fsc_lease.c) */
	pthread_mutex_t		smu;
	uint64_t		client;	/* session id; 0: no session */
	uint64_t		epoch;	/* see fsc_session_epoch */
	uint64_t		live_epoch;	/* atomic: cb_fd >= 0 ? epoch
						   : 0, set under smu */
	int			cb_fd;	/* -1: none */
	int			cb_started, cb_stop;
	pthread_t		cb_thr;

	/* held calls and the answers that wait for them (fsc_hold_*) */
	pthread_mutex_t		hmu;
	pthread_cond_t		hcv;
	unsigned		held;	/* atomic reads; set under hmu */
	unsigned		hwaiters;	/* calls waiting for them */
	int			ndefer;
	struct {
		uint64_t	reqid, epoch;
	}			defer[FSC_DEFER_MAX];
};

#define FSC_WB_MAX	4	/* write-behind requests per inode */

/* An inode open in this client, shared by its handles (fsc.c). */
struct fsc_inode {
	uint64_t		ino;
	int			refs;
	pthread_mutex_t		mu;
	struct fsc_layout	*layout;
	struct fsc_layout	**stale;	/* replaced, freed last */
	int			nstale;
	uint64_t		size;		/* as this client knows it */
	uint64_t		wgen;		/* bumped by writes, truncates */
	uint64_t		tgen;		/* bumped when a truncate starts
						   and when it ends */
	int			truncating;	/* size changes in progress */
	uint64_t		sgen;		/* bumped by fallocate and
						   appends (fsc_file.dense) */
	int			writers;	/* our handles open for write */
	/* write-behind (fsc_file_write_begin/end) */
	pthread_cond_t		wcv;
	uint64_t		wb_off[FSC_WB_MAX], wb_len[FSC_WB_MAX];
	uint64_t		wb_seqs[FSC_WB_MAX], wb_seq;
	int			wb_used[FSC_WB_MAX];
	int			wb_n;
	int			wb_err;		/* last failure ... */
	uint64_t		wb_eseq;	/* ... and how many so far: a
						   handle reports those since
						   its own f->eseq */
	uint64_t		wb_bad_from;	/* lowest failed offset */
	uint64_t		ok_end;		/* end of data known written
						   (or set by a truncate) */
	int64_t			mtime_sec, mtime_nsec;	/* for closes */
	struct fsc_inode	*next;
};

/* A read-ahead window (fsc_ra.c). */
#define FSC_RA_EMPTY	0
#define FSC_RA_LOADING	1
#define FSC_RA_READY	2
struct fsc_ra_win {
	int		state;
	int		rc;
	uint64_t	off;
	size_t		len;		/* asked */
	size_t		done;		/* read (short at EOF) */
	uint64_t	wgen;		/* inode's wgen when loading began */
	char		*buf;
};

#define FSC_RA_WINS	2
struct fsc_file {
	struct fsc_inode	*in;
	uint64_t		handle;
	int			flags;
	struct msg_cred		cred;
	int			dirty;
	int			was_read;	/* atomic: a read went out */
	int			writer;		/* counted in in->writers */
	uint64_t		eseq;		/* in->wb_eseq last reported */
	/* A file this handle created (O_EXCL: its objects were empty) and
	 * wrote from offset 0 with no gap, no failure, no truncate, punch
	 * or append (under in->mu): its objects hold what the size says,
	 * so its CLOSE needs no glimpse for st_blocks (fsc_file_close). */
	int			dense;
	uint64_t		dense_end;
	uint64_t		dense_tgen;	/* in->tgen at the create */
	uint64_t		dense_sgen;	/* in->sgen at the create */

	/* sequential read-ahead */
	pthread_mutex_t		ramu;
	pthread_cond_t		racv;
	uint64_t		ra_next;	/* where a sequential read goes */
	int			ra_streak;
	int			ra_busy;	/* loads in flight */
	struct fsc_ra_win	win[FSC_RA_WINS];
};

/* One call: request in, reply out. */
struct fsc_req {
	uint16_t		op;
	uint32_t		flags;
	const void		*body;
	uint32_t		body_len;
	const struct iovec	*bulk;
	int			nbulk;
	void			*rbody;
	uint32_t		rbody_cap;
	uint32_t		rbody_len;	/* out */
	const struct iovec	*rbulk;
	int			nrbulk;
	uint32_t		rbulk_len;	/* out */
};

struct fsc_batch {
	pthread_mutex_t	mu;
	pthread_cond_t	cv;
	int		left;
};

/* A request on one object. */
struct fsc_oio {
	uint16_t		op;		/* MSG_OP_OST_* */
	uint32_t		stripe;
	uint32_t		ost;
	uint64_t		oid;
	uint64_t		off;		/* object offset, or punch size */
	uint64_t		len;
	uint32_t		mode;		/* OST_FALLOC: MSG_FA_* */
	struct iovec		iov[FSC_IOV_MAX];
	int			niov;
	int			rc;		/* out */
	uint64_t		got;		/* out: bytes read/written */
	struct msg_obj_attr	attr;		/* out: GETATTR */
	struct msg_statfs	st;		/* out: STATFS */
	struct fsc_batch	*b;
	struct fsc_oio		*next;
};

int	fsc_conn_init(struct fsc *fs);
void	fsc_conn_fini(struct fsc *fs);
/* A new MDS connection of our own (HELLO, SESSION with sess_flags):
 * the fd or -errno. One call on it: fsc_conn_call_fd. */
int	fsc_conn_dial_mds(struct fsc *fs, uint32_t sess_flags);
int	fsc_conn_call_fd(struct fsc *fs, int fd, struct fsc_req *r);
/* A call to the OSS serving `ost`, resent on transport failures until
 * the retry time runs out (then -EIO). */
int	fsc_ost_call(struct fsc *fs, uint32_t ost, struct fsc_req *r);

/* fsc_local.c: local reads (contract there) */
/* An OST_READ served from the object's file here: 1 with o->rc and
 * o->got set, or 0 when it must go over the wire. */
int	fsc_local_read(struct fsc *fs, struct fsc_oio *o);
/* The st_blocks of objects ents[0..n) summed, read from their files here
 * (what OST_GETATTR would say): 0, or -1 when one of them must be asked
 * over the wire. */
int	fsc_local_blocks(struct fsc *fs, const struct msg_layout_ent *ents,
	    uint32_t n, uint64_t *blocks);
void	fsc_local_fini(struct fsc *fs);

/* fsc_lease.c */
void	fsc_session_init(struct fsc *fs);
void	fsc_session_fini(struct fsc *fs);
/* SESSION on a new MDS connection; renews an evicted session once. */
int	fsc_session_hello(struct fsc *fs, int fd, uint32_t flags);
/* A call to the MDS, reconnecting and resending on connection failures. */
int	fsc_mds_call(struct fsc *fs, struct fsc_req *r);
/* Fetch the OST map from the MDS. */
int	fsc_ostmap_load(struct fsc *fs);
/* Run object requests in parallel; each one's rc is set. */
void	fsc_oio_batch(struct fsc *fs, struct fsc_oio *v, int n);

/* Reads without and with read-ahead (fsc_ra.c). */
int	fsc_file_read_direct(struct fsc *fs, struct fsc_file *f, void *buf,
	    size_t len, uint64_t off, size_t *done);
int	fsc_ra_read(struct fsc *fs, struct fsc_file *f, void *buf, size_t len,
	    uint64_t off, size_t *done);
void	fsc_ra_init(struct fsc_file *f);
void	fsc_ra_fini(struct fsc_file *f);

/* ---- shared by fsc.c, fsc_file.c and fsc_xattr.c ---- */

#define FSC_LAYOUT_BUF	(sizeof(struct msg_layout) + \
	MSG_MAX_STRIPES * sizeof(struct msg_layout_ent))

/* Body buffer for a fixed struct followed by one or two names. */
union fsc_body {
	struct msg_name		n;
	struct msg_create	c;
	struct msg_link		l;
	struct msg_rename	r;
	struct msg_xattr	x;
	char			raw[sizeof(struct msg_rename) +
				    2 * MSG_NAME_MAX + 16];
};

/* fsc.c */
void	fsc_inode_swap(struct fsc_inode *in, struct fsc_layout *l);
void	fsc_inode_unref(struct fsc *fs, struct fsc_inode *in);
/* A size change of `ino` begins (step 1) or ends (-1): reads that
 * overlap one must not raise the size from what the objects held; with
 * `size`, our size becomes *size. */
void	fsc_inode_trunc_mark(struct fsc *fs, uint64_t ino, int step,
	    const uint64_t *size);
/* The file end the objects of `l` imply, and their blocks summed. */
int	fsc_glimpse_layout(struct fsc *fs, const struct fsc_layout *l,
	    uint64_t *end, uint64_t *blocks);
void	fsc_inode_relayout(struct fsc *fs, uint64_t ino,
	    const struct msg_cred *cred);
int	fsc_dir_call(struct fsc *fs, uint64_t ino, struct fsc_req *r);
int	fsc_name_len(const char *name, size_t *len);
void	fsc_req_init(struct fsc_req *r, uint16_t op, const void *body,
	    uint32_t len);
int	fsc_attr_call(struct fsc *fs, struct fsc_req *r, struct msg_attr *attr);

/* fsc_file.c: the write-behind window of an inode */
void	fsc_file_wb_drain(struct fsc_inode *in);
void	fsc_file_wb_wait_range(struct fsc_inode *in, uint64_t off, size_t len);
int	fsc_file_wb_take_err(struct fsc_file *f);

#endif
