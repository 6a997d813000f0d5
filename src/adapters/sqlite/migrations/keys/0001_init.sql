-- keys.db, version 1: the key vault. It holds subject data keys, wrapped by a school
-- key-encryption key, and nothing else (B02). Kept apart from data.db so that a data backup
-- cannot be decrypted once a subject's key is destroyed here.
--
-- Timestamps are INTEGER microseconds since the Unix epoch, UTC. Destroying a key overwrites
-- wrapped_key with zero bytes, then deletes the row; the connection runs with secure_delete=ON.

CREATE TABLE subject_keys (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  kek_id TEXT NOT NULL,
  wrapped_key BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, subject_id)
) STRICT, WITHOUT ROWID;
