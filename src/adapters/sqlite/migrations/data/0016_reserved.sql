-- data.db, version 16: reserved for a change landing in parallel; this placeholder keeps the
-- numbering without a gap until that change replaces it.
SELECT 1;
