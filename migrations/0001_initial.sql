-- berth's embedded catalogue: images and their tags, containers.
-- Plain SQL (TEXT/INTEGER only) so a shared PostgreSQL could later take SQLite's place.

CREATE TABLE images (
    id              TEXT PRIMARY KEY,      -- "sha256:<hex>" of the image config blob
    manifest_digest TEXT,                  -- "sha256:<hex>" of the manifest, when known
    config_json     TEXT NOT NULL,         -- the image config blob, verbatim
    layers_json     TEXT NOT NULL,         -- JSON array of image::LayerInfo, bottom layer first
    size            INTEGER NOT NULL,      -- bytes of the unpacked layers
    created         TEXT,                  -- the config's "created" (RFC 3339), if any
    added_at        INTEGER NOT NULL       -- unix milliseconds
);

CREATE TABLE image_tags (
    name     TEXT PRIMARY KEY,             -- normalised reference, e.g. docker.io/library/busybox:latest
    image_id TEXT NOT NULL REFERENCES images(id)
);
CREATE INDEX image_tags_image ON image_tags(image_id);

CREATE TABLE containers (
    id          TEXT PRIMARY KEY,          -- 64 hex characters
    name        TEXT NOT NULL UNIQUE,
    image_ref   TEXT NOT NULL,             -- the image as the user named it
    image_id    TEXT NOT NULL REFERENCES images(id),
    config_json TEXT NOT NULL,             -- container::ContainerConfig
    state       TEXT NOT NULL,             -- created | running | exited
    pid         INTEGER,                   -- host pid of the container's init while running
    shim_pid    INTEGER,                   -- host pid of its shim while running
    exit_code   INTEGER,
    created_at  INTEGER NOT NULL,          -- unix milliseconds
    started_at  INTEGER,
    finished_at INTEGER
);
