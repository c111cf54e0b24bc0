-- S3 data repositories: associations (DRAs, plus a file system's legacy
-- ImportPath link as the association 'legacy') and data repository tasks.
-- Each row keeps the description AWS shows (without Lifecycle and Tags:
-- the lifecycle is a column, tags are rows of `tags` by ARN) and the
-- document fsx-hsm is sent for it (docs/hsm.md), so the provisioner never
-- reads a description.
BEGIN;

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

-- A file system's associations and tasks (and their tags) go with it.
CREATE TRIGGER file_systems_repos_gone AFTER DELETE ON file_systems BEGIN
	DELETE FROM tags WHERE arn IN (SELECT arn FROM dras WHERE fs_id = old.id
	    UNION SELECT arn FROM tasks WHERE fs_id = old.id);
	DELETE FROM dras WHERE fs_id = old.id;
	DELETE FROM tasks WHERE fs_id = old.id;
END;

PRAGMA user_version = 6;
COMMIT;
