-- A TOTP code is accepted once: the time step of the last accepted code is kept per account, and
-- only a later step is accepted (replay within the code's window is refused).
ALTER TABLE staff ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
