-- data.db, version 16: staff of outside organisations (R86, 002 L60). A role of the policy may be
-- held by an affiliate's or a contractor's people (`[roles.x] organisation`); their accounts name
-- the organisation, and they reach only the subjects a privileged officer assigned to it (an
-- order handed to a delivery contractor, a learner to an affiliate's tutor). Assignment and its
-- end are audited (access.assign, access.unassign); the row goes when the assignment ends or with
-- the subject on erasure.
--
-- No personal data of the subject: ids, the organisation's name, the officer's reference (an
-- order number), instants.
ALTER TABLE staff ADD COLUMN organisation TEXT NOT NULL DEFAULT '';

CREATE TABLE subject_assignments (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  organisation TEXT NOT NULL CHECK (organisation <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  reference TEXT NOT NULL,
  assigned_by TEXT NOT NULL CHECK (assigned_by <> ''),
  assigned_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, organisation, subject_id),
  FOREIGN KEY (school_id, subject_id) REFERENCES subjects (school_id, subject_id)
) STRICT, WITHOUT ROWID;

-- The erasure of a subject.
CREATE INDEX subject_assignments_by_subject ON subject_assignments (school_id, subject_id);
