-- data.db, version 6: subjects signed in to their personal cabinet (R38, R44, R54, R55). A row
-- is a pending sign-in (an e-mailed one-time code, by the hash of its login id) or a session (by
-- the hash of its cookie). No personal data: the subject is known by its id; the code and the
-- tokens only by their hashes. Rows die at expires_at and with the subject (erasure).
CREATE TABLE subject_sessions (
  token_hash TEXT NOT NULL PRIMARY KEY CHECK (token_hash <> ''),
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  subject_id TEXT NOT NULL,  -- '' for a sign-in started with an address that is not on file
  state TEXT NOT NULL CHECK (state IN ('pending', 'active')),
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts >= 0),
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX subject_sessions_by_subject ON subject_sessions (school_id, subject_id);
