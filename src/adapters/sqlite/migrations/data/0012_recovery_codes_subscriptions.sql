-- data.db, version 12 (issue 12).
-- A staff member's one-time recovery codes, handed out at TOTP enrolment: the JSON list of their
-- keyed hashes; a code used at sign-in leaves the list, a new set replaces it.
ALTER TABLE staff ADD COLUMN recovery_codes TEXT NOT NULL DEFAULT '[]';

-- Double opt-in of mailing subscriptions (R15, R54): the marketing grants of a consent given on a
-- public form with an e-mail address wait here until the link e-mailed to that address is
-- confirmed. The link's token is known only by its hash; `consent` is the consent awaiting
-- confirmation (its type, the grants, the wording and where it was given; no personal data).
-- Rows go with the subject (erasure).
CREATE TABLE subscription_confirmations (
  token_hash TEXT NOT NULL PRIMARY KEY CHECK (token_hash <> ''),
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  subject_id TEXT NOT NULL CHECK (subject_id <> ''),
  state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed')),
  consent TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  confirmed_at INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX subscription_confirmations_by_subject
  ON subscription_confirmations (school_id, subject_id);
