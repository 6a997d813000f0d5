-- data.db, version 15: break-glass grants (R86, 004 §6.4). Where the law provides, a privileged
-- officer lets a named staff account reach one category of one subject's data, for one purpose,
-- beyond its role, with a reason and until a time (at most 24 hours after the grant). The gate
-- honours a grant only before `expires_at`; rows are kept after that as the record of who was let
-- in, and go with the subject on erasure (the audit entries stay).
--
-- No personal data of the subject: ids, the reason as the officer recorded it, instants.
CREATE TABLE access_grants (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  grant_id TEXT NOT NULL CHECK (grant_id <> ''),
  staff_id TEXT NOT NULL CHECK (staff_id <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  category TEXT NOT NULL CHECK (category <> ''),
  purpose TEXT NOT NULL CHECK (purpose <> ''),
  reason TEXT NOT NULL CHECK (reason <> ''),
  granted_by TEXT NOT NULL CHECK (granted_by <> ''),
  granted_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL CHECK (expires_at > granted_at),
  PRIMARY KEY (school_id, grant_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
) STRICT, WITHOUT ROWID;

-- The grants in force at start (the gate's in-memory copy), by their end.
CREATE INDEX access_grants_by_end ON access_grants (school_id, expires_at, grant_id);
-- The erasure of a subject.
CREATE INDEX access_grants_by_subject ON access_grants (school_id, subject_id);
