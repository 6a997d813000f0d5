-- data.db, version 9: a minor's legal representative and the proof of their permission (R24, B06),
-- and a guardian's cabinet session acting for a linked minor.
--
-- A guardianship links a minor (a subject) to the representative who gave permission: how the
-- permission was checked (a code e-mailed to the representative, or a document checked by staff),
-- until when it holds (the minor's majority, the start of that day in the school's time zone) and
-- the minor's own re-consent once they come of age. The representative's name and e-mail are
-- sealed with the minor's data key (`sealed`), so erasing the minor makes them unreadable; the
-- e-mail is found by its keyed lookup token only. `body` is JSON without personal data
-- (relation, date of permission, the document's reference). Rows go with the minor on erasure.
CREATE TABLE guardianships (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  guardianship_id TEXT NOT NULL CHECK (guardianship_id <> ''),
  minor_id TEXT NOT NULL CHECK (minor_id <> ''),
  email_token TEXT NOT NULL,  -- '' when no e-mail address of the representative was given
  state TEXT NOT NULL CHECK (state IN ('unverified', 'verified')),
  method TEXT NOT NULL CHECK (method IN ('', 'email_code', 'document')),
  verified_at INTEGER,
  verified_by TEXT NOT NULL,
  majority_at INTEGER,        -- NULL when the minor's majority is not known
  reconsent TEXT NOT NULL CHECK (reconsent IN ('', 'pending', 'confirmed', 'withdrawn')),
  reconsent_at INTEGER,       -- when the re-consent was asked for
  decided_at INTEGER,         -- when the now-adult confirmed or withdrew
  body TEXT NOT NULL CHECK (body LIKE '{%}'),
  sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, guardianship_id)
) STRICT, WITHOUT ROWID;

-- A minor's representatives; erasure.
CREATE INDEX guardianships_by_minor ON guardianships (school_id, minor_id);
-- A guardian signing in: the minors linked to an address.
CREATE INDEX guardianships_by_email ON guardianships (school_id, email_token);
-- The majority job: minors whose majority has come and who were not yet asked to re-consent.
CREATE INDEX guardianships_by_majority ON guardianships (school_id, reconsent, majority_at);

-- A signed-in session remembers the address it was opened with (its lookup token, so a guardian
-- without data of their own can sign in) and whom it acts for: '' for the signed-in person, or a
-- linked minor's subject id.
ALTER TABLE subject_sessions ADD COLUMN email_token TEXT NOT NULL DEFAULT '';
ALTER TABLE subject_sessions ADD COLUMN acting_for TEXT NOT NULL DEFAULT '';
