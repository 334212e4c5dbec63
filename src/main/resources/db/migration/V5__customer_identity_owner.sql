-- Which customer a decisive identity key names, decided once by a unique row per key instead of by claims that were
-- released after indexing and won again (V3's customer_identity_claim). With those, a record could read "not indexed"
-- and then "claimed by X" in two statements, X being a later claimer that then gave its customer up, and link itself
-- to X: two customers for one person. An owner row, once written, names its customer for good (no lease, no
-- take-over); it goes only when no record of that customer has the key any more (the record's value changed).
CREATE TABLE customer_identity_owner (
    rule        VARCHAR(40) NOT NULL,
    key_hash    VARCHAR(64) NOT NULL,
    global_id   VARCHAR(36) NOT NULL REFERENCES customer (global_id),
    owned_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (rule, key_hash)
);
CREATE INDEX customer_identity_owner_customer ON customer_identity_owner (global_id);

-- a V3 claim lived only while one record was being identified, and no flow identifies records yet
DROP TABLE customer_identity_claim;
