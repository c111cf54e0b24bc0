-- fsxd control-plane state: file systems, idempotency tokens, durable jobs
-- and the engine processes that back each file system.
BEGIN;

CREATE TABLE file_systems (
	seq		INTEGER PRIMARY KEY AUTOINCREMENT,	-- stable listing order
	id		TEXT NOT NULL UNIQUE,			-- fs- + 17 hex
	account		TEXT NOT NULL,
	region		TEXT NOT NULL,
	lifecycle	TEXT NOT NULL,
	deployment	TEXT NOT NULL,
	capacity	INTEGER NOT NULL,			-- GiB, as reported
	created		REAL NOT NULL,
	doc		TEXT NOT NULL,				-- the FileSystem description (JSON)
	secret		TEXT NOT NULL,				-- engine protocol secret (hex)
	nost		INTEGER NOT NULL DEFAULT 0		-- OSTs provisioned
);
CREATE INDEX file_systems_owner ON file_systems (account, region, seq);

-- ClientRequestToken idempotency, per (account, region, operation).
CREATE TABLE idem_tokens (
	account		TEXT NOT NULL,
	region		TEXT NOT NULL,
	op		TEXT NOT NULL,
	token		TEXT NOT NULL,
	params		TEXT NOT NULL,				-- canonical request JSON, token removed
	resource_id	TEXT NOT NULL,
	created		REAL NOT NULL,
	PRIMARY KEY (account, region, op, token)
);

-- Work that outlives a request. state: pending -> running -> done | failed.
CREATE TABLE jobs (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	kind		TEXT NOT NULL,				-- create | grow | delete
	fs_id		TEXT NOT NULL,
	state		TEXT NOT NULL DEFAULT 'pending',
	arg		INTEGER NOT NULL DEFAULT 0,		-- grow: target capacity
	attempts	INTEGER NOT NULL DEFAULT 0,
	error		TEXT,
	created		REAL NOT NULL,
	updated		REAL NOT NULL
);
CREATE INDEX jobs_open ON jobs (state, id);

-- Engine processes of each file system. role: mds | oss.
CREATE TABLE procs (
	fs_id		TEXT NOT NULL,
	role		TEXT NOT NULL,
	idx		INTEGER NOT NULL,			-- oss number (0 for the mds)
	pid		INTEGER NOT NULL DEFAULT 0,
	starttime	INTEGER NOT NULL DEFAULT 0,		-- /proc/<pid>/stat field 22
	port		INTEGER NOT NULL DEFAULT 0,
	osts		TEXT NOT NULL DEFAULT '',		-- oss: OST indexes served, "0,1"
	PRIMARY KEY (fs_id, role, idx)
);

PRAGMA user_version = 1;
COMMIT;
