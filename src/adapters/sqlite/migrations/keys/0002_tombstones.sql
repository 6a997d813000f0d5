-- keys.db, version 2: tombstones of erased subjects (B09). No personal data: the subject id, its
-- pseudonym, the ground and the time. Kept in the key vault, which data backups do not contain,
-- so that restoring an older data backup re-applies every later erasure before serving.

CREATE TABLE tombstones (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  pseudonym TEXT NOT NULL,
  ground TEXT NOT NULL,
  request_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (school_id, subject_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER tombstones_no_update BEFORE UPDATE ON tombstones
BEGIN
  SELECT RAISE(ABORT, 'tombstones are append-only');
END;

CREATE TRIGGER tombstones_no_delete BEFORE DELETE ON tombstones
BEGIN
  SELECT RAISE(ABORT, 'tombstones are append-only');
END;
