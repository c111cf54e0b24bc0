#!/bin/sh
# Print the schema that the migrations produce on an empty database.
set -e
db=$(mktemp -u /tmp/fsx-schema.XXXXXX.db)
for f in $(ls migrations/*.sql | sort); do
	sqlite3 "$db" < "$f"
done
sqlite3 "$db" .schema | grep -v '^CREATE TABLE sqlite_sequence'
rm -f "$db" "$db-wal" "$db-shm"
