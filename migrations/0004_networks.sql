-- Networks (docker's bridge, host and none, and user-defined bridges) and the endpoints that
-- attach containers to them: berth's IPAM. An address is unique within its network while its
-- endpoint exists; removing the endpoint releases it.
CREATE TABLE networks (
    id          TEXT PRIMARY KEY,           -- 64 hex
    name        TEXT NOT NULL UNIQUE,
    driver      TEXT NOT NULL,              -- bridge | host | null
    subnet      TEXT NOT NULL DEFAULT '',   -- CIDR, '' until a default bridge is first needed
    gateway     TEXT NOT NULL DEFAULT '',
    bridge      TEXT NOT NULL DEFAULT '',   -- Linux bridge name (bridge driver only)
    created_at  INTEGER NOT NULL
);

CREATE TABLE endpoints (
    container_id TEXT NOT NULL,
    network_id   TEXT NOT NULL REFERENCES networks(id),
    ip           TEXT NOT NULL,
    mac          TEXT NOT NULL,
    ifname       TEXT NOT NULL,             -- inside the container: eth0, eth1 …
    host_veth    TEXT NOT NULL,             -- the host end of the veth pair
    PRIMARY KEY (container_id, network_id),
    UNIQUE (network_id, ip)
);

-- Host ports a running container's proxies listen on (the actual port when it was random).
CREATE TABLE port_bindings (
    container_id   TEXT NOT NULL,
    proto          TEXT NOT NULL,           -- tcp | udp
    container_port INTEGER NOT NULL,
    host_ip        TEXT NOT NULL,
    host_port      INTEGER NOT NULL,
    PRIMARY KEY (container_id, proto, container_port, host_ip, host_port)
);

-- The networks a container is connected to (whether running or not), in connection order:
-- the first one gives it eth0 and its default route.
CREATE TABLE attachments (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    container_id TEXT NOT NULL,
    network_id   TEXT NOT NULL REFERENCES networks(id),
    UNIQUE (container_id, network_id)
);
