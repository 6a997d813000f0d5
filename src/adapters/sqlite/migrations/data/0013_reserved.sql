-- data.db, version 13: reserved for the retention engine's migration (0013_retention.sql, issue
-- 14), made on another branch at the same time. This file only keeps the numbers whole until that
-- one is merged; delete it then (a database migrated with it has nothing of it to undo).
SELECT 1;
