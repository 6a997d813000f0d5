-- data.db, version 5: the cookie banner's proof of each visitor's choice (R99-R101). Append-only,
-- no personal data: a truncated address and a hashed user agent; the visitor is known only by the
-- random id kept in their consent cookie.
CREATE TABLE cookie_consents (
  school_id TEXT NOT NULL CHECK (school_id <> ''),
  consent_id TEXT NOT NULL CHECK (consent_id <> ''),
  choice TEXT NOT NULL CHECK (choice IN ('accept_all', 'reject_all', 'custom')),
  accepted TEXT NOT NULL CHECK (accepted LIKE '[%]'),
  rejected TEXT NOT NULL CHECK (rejected LIKE '[%]'),
  policy_version TEXT NOT NULL,
  gpc INTEGER NOT NULL CHECK (gpc IN (0, 1)),
  lang TEXT NOT NULL,
  ip TEXT NOT NULL,
  user_agent_sha256 TEXT NOT NULL,
  at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (school_id, consent_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER cookie_consents_no_update BEFORE UPDATE ON cookie_consents
BEGIN
  SELECT RAISE(ABORT, 'cookie consents are append-only');
END;
