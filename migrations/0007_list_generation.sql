-- A counter the container list reads instead of every row: each write to a table the list
-- shows (containers, their published ports, their network attachments and the networks'
-- names) bumps it, inside the writing statement's own transaction (SQLite runs a trigger as
-- part of the statement that fired it), so a list that sees an unchanged counter has seen
-- every committed change.

CREATE TABLE change_counters (
    name TEXT PRIMARY KEY,
    n    INTEGER NOT NULL
);
INSERT INTO change_counters (name, n) VALUES ('containers', 0);

CREATE TRIGGER containers_insert_bump AFTER INSERT ON containers
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;
CREATE TRIGGER containers_update_bump AFTER UPDATE ON containers
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;
CREATE TRIGGER containers_delete_bump AFTER DELETE ON containers
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;

CREATE TRIGGER port_bindings_insert_bump AFTER INSERT ON port_bindings
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;
CREATE TRIGGER port_bindings_update_bump AFTER UPDATE ON port_bindings
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;
CREATE TRIGGER port_bindings_delete_bump AFTER DELETE ON port_bindings
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;

CREATE TRIGGER attachments_insert_bump AFTER INSERT ON attachments
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;
CREATE TRIGGER attachments_update_bump AFTER UPDATE ON attachments
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;
CREATE TRIGGER attachments_delete_bump AFTER DELETE ON attachments
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;

CREATE TRIGGER networks_update_bump AFTER UPDATE ON networks
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;
CREATE TRIGGER networks_delete_bump AFTER DELETE ON networks
BEGIN UPDATE change_counters SET n = n + 1 WHERE name = 'containers'; END;
