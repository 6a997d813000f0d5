-- The audit log and its signed checkpoints are append-only against deletion too (B01): UPDATE was
-- refused since version 1, DELETE is refused from now on. Nothing legitimate deletes either: an
-- erasure leaves the entries, which name the subject by pseudonym only.
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
  SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;
