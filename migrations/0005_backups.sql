-- Backups (docs/backups.md): one row per backup, its description (the
-- JSON DescribeBackups shows, without Lifecycle, ProgressPercent,
-- SizeInBytes, FailureDetails and Tags, which are columns and tag rows)
-- plus the columns queries and rules need. The data lives under
-- STATE/backups/<id>. `restores` names the backup each running restore
-- (CreateFileSystemFromBackup) reads, for BackupRestoring and the job.
BEGIN;

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

PRAGMA user_version = 5;
COMMIT;
