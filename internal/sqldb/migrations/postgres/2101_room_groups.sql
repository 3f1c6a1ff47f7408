-- (PostgreSQL twin of sqlite/2101_room_groups.sql) The topic group a room
-- invites its viewers to join (the card the host pushed last); one per room.
CREATE TABLE room_groups (
  room_id   BIGINT PRIMARY KEY REFERENCES rooms(id),
  group_id  BIGINT NOT NULL REFERENCES fan_groups(id),
  pushed_at BIGINT NOT NULL
);
