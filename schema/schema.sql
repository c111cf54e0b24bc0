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
, arn TEXT NOT NULL DEFAULT '');
CREATE INDEX file_systems_owner ON file_systems (account, region, seq);
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
CREATE TABLE jobs (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	kind		TEXT NOT NULL,				-- create | grow | delete
	fs_id		TEXT NOT NULL,
	state		TEXT NOT NULL DEFAULT 'pending',
	capacity		INTEGER NOT NULL DEFAULT 0,		-- grow: target capacity
	attempts	INTEGER NOT NULL DEFAULT 0,
	error		TEXT,
	created		REAL NOT NULL,
	updated		REAL NOT NULL
, nost INTEGER NOT NULL DEFAULT 0);
CREATE INDEX jobs_open ON jobs (state, id);
CREATE TABLE procs (
	fs_id		TEXT NOT NULL,
	role		TEXT NOT NULL,
	idx		INTEGER NOT NULL,			-- oss number (0 for the mds)
	pid		INTEGER NOT NULL DEFAULT 0,
	starttime	INTEGER NOT NULL DEFAULT 0,		-- /proc/<pid>/stat field 22
	port		INTEGER NOT NULL DEFAULT 0, node TEXT NOT NULL DEFAULT 'local',		-- oss: OST indexes served, "0,1"
	PRIMARY KEY (fs_id, role, idx)
);
CREATE TABLE osts (
	fs_id		TEXT NOT NULL,
	idx		INTEGER NOT NULL,			-- OST index
	oss		INTEGER NOT NULL,			-- procs.idx of the OSS serving it
	capacity	INTEGER NOT NULL,			-- bytes, enforced by the OSS
	PRIMARY KEY (fs_id, idx)
);
CREATE TABLE tags (
	arn		TEXT NOT NULL,				-- the tagged resource
	key		TEXT NOT NULL,
	value		TEXT NOT NULL,
	seq		INTEGER NOT NULL,			-- order of first tagging
	PRIMARY KEY (arn, key)
);
CREATE TABLE backups (
	seq		INTEGER PRIMARY KEY AUTOINCREMENT,	-- stable listing order
	id		TEXT NOT NULL UNIQUE,			-- backup- + 17 hex
	arn		TEXT NOT NULL,				-- key of its tags
	account		TEXT NOT NULL,
	region		TEXT NOT NULL,
	fs_id		TEXT NOT NULL,				-- the backed-up file system
	fs_type		TEXT NOT NULL DEFAULT 'LUSTRE',
	type		TEXT NOT NULL,				-- USER_INITIATED | AUTOMATIC | AWS_BACKUP
	lifecycle	TEXT NOT NULL,
	progress	INTEGER NOT NULL DEFAULT 0,		-- ProgressPercent
	size		INTEGER NOT NULL DEFAULT 0,		-- SizeInBytes once AVAILABLE
	message		TEXT,					-- FailureDetails.Message
	created		REAL NOT NULL,
	source_id	TEXT,					-- a copy's source backup
	source_region	TEXT,
	doc		TEXT NOT NULL
);
CREATE INDEX backups_owner ON backups (account, region, seq);
CREATE INDEX backups_fs ON backups (fs_id, type);
CREATE TABLE restores (
	fs_id		TEXT PRIMARY KEY,			-- the file system being restored
	backup_id	TEXT NOT NULL
);
CREATE TABLE dras (
	seq		INTEGER PRIMARY KEY AUTOINCREMENT,	-- listing order
	id		TEXT NOT NULL,				-- dra- + 17 hex, or 'legacy'
	fs_id		TEXT NOT NULL,
	account		TEXT NOT NULL,
	region		TEXT NOT NULL,
	lifecycle	TEXT NOT NULL,				-- CREATING .. DELETING
	fs_path		TEXT NOT NULL,				-- '/ns1'
	repo_path	TEXT NOT NULL,				-- 's3://bucket/prefix/'
	arn		TEXT NOT NULL,
	doc		TEXT NOT NULL,				-- the Association description
	conf		TEXT NOT NULL,				-- its HSM_CONF entry, without state
	created		REAL NOT NULL,
	UNIQUE (fs_id, id)
);
CREATE INDEX dras_owner ON dras (account, region, seq);
CREATE TABLE tasks (
	seq		INTEGER PRIMARY KEY AUTOINCREMENT,
	id		TEXT NOT NULL UNIQUE,			-- task- + 17 hex
	fs_id		TEXT NOT NULL,
	account		TEXT NOT NULL,
	region		TEXT NOT NULL,
	lifecycle	TEXT NOT NULL,				-- PENDING .. CANCELED
	arn		TEXT NOT NULL,
	doc		TEXT NOT NULL,				-- the DataRepositoryTask description
	spec		TEXT NOT NULL,				-- the HSM_TASK document
	created		REAL NOT NULL
);
CREATE INDEX tasks_owner ON tasks (account, region, seq);
CREATE INDEX tasks_fs ON tasks (fs_id, lifecycle);
CREATE TRIGGER file_systems_repos_gone AFTER DELETE ON file_systems BEGIN
	DELETE FROM tags WHERE arn IN (SELECT arn FROM dras WHERE fs_id = old.id
	    UNION SELECT arn FROM tasks WHERE fs_id = old.id);
	DELETE FROM dras WHERE fs_id = old.id;
	DELETE FROM tasks WHERE fs_id = old.id;
END;
