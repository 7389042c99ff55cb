-- Volumes: named (and anonymous) data directories under <data root>/volumes/<name>/_data,
-- and which containers mount which volume (the in-use record that blocks removal).

CREATE TABLE volumes (
    name        TEXT PRIMARY KEY,          -- [a-zA-Z0-9][a-zA-Z0-9_.-]+, or 64 hex when anonymous
    driver      TEXT NOT NULL DEFAULT 'local',
    labels_json TEXT NOT NULL DEFAULT '{}', -- JSON object of string labels
    anonymous   INTEGER NOT NULL DEFAULT 0, -- made for a container (image Volumes, `-v /path`)
    created_at  INTEGER NOT NULL           -- unix milliseconds
);

CREATE TABLE container_volumes (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    volume_name  TEXT NOT NULL REFERENCES volumes(name),
    destination  TEXT NOT NULL,            -- where the container mounts it
    PRIMARY KEY (container_id, destination)
);
CREATE INDEX container_volumes_volume ON container_volumes(volume_name);
