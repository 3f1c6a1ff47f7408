-- (PostgreSQL twin of sqlite/1302_presale_group.sql) A pre-sale may belong to a topic group: its page shows the progress.
ALTER TABLE presales ADD COLUMN group_id BIGINT REFERENCES fan_groups(id);
CREATE INDEX presales_group ON presales(group_id) WHERE group_id IS NOT NULL;
