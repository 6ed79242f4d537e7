-- Nothing to do on SQLite: the functions the PostgreSQL twin defines (hex) are built in here.
-- The version exists on both engines so that their schemas stay numbered in step.
SELECT 1;
