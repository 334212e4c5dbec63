-- Customers across systems: one global id per customer, the external records linked to it, the normalised identity
-- keys that find it, the last value of each field and who set it, and what the runtime last wrote to each system.

-- One row per customer the runtime knows; the global id is a UUID the runtime mints.
CREATE TABLE customer (
    global_id   VARCHAR(36) PRIMARY KEY,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

-- A customer's record in one system: (system, scope, external id), scope being the account or org, or the legal
-- entity of an ERP business partner ('' when the system has none). A customer has at most one record per system and
-- scope, and a record belongs to one customer. A record the runtime is creating in a target is PENDING (no external
-- id yet) under a deterministic creation key, which the target's own idempotency (Idempotency-Key, upsert by
-- external id) sees again when a crashed creation is taken over after its lease; LINKED once the id is known.
CREATE TABLE customer_link (
    global_id     VARCHAR(36)  NOT NULL REFERENCES customer (global_id),
    system        VARCHAR(40)  NOT NULL,
    scope         VARCHAR(100) NOT NULL,
    external_id   VARCHAR(255),
    state         VARCHAR(10)  NOT NULL,
    creation_key  VARCHAR(36),
    attempts      INT          NOT NULL,
    created_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (global_id, system, scope),
    CONSTRAINT customer_link_record UNIQUE (system, scope, external_id)
);

-- Normalised identity keys of linked records (mappings/identity/match-rules.csv), kept as SHA-256 so the index holds
-- no e-mail address or tax id in clear; one key of each rule per record, replaced when the record changes.
CREATE TABLE customer_identity_key (
    system       VARCHAR(40)  NOT NULL,
    scope        VARCHAR(100) NOT NULL,
    external_id  VARCHAR(255) NOT NULL,
    rule         VARCHAR(40)  NOT NULL,
    key_hash     VARCHAR(64)  NOT NULL,
    global_id    VARCHAR(36)  NOT NULL REFERENCES customer (global_id),
    updated_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (system, scope, external_id, rule)
);
CREATE INDEX customer_identity_key_lookup ON customer_identity_key (rule, key_hash);

-- A decisive key claimed by a customer being created from a record, until that record is linked and indexed: two
-- records of one new person arriving at once make one customer, not two (the second finds the first's claim).
-- A claim older than the lease is ignored and may be taken over (its holder died before indexing).
CREATE TABLE customer_identity_claim (
    rule        VARCHAR(40) NOT NULL,
    key_hash    VARCHAR(64) NOT NULL,
    global_id   VARCHAR(36) NOT NULL REFERENCES customer (global_id),
    claimed_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (rule, key_hash)
);

-- The value of each canonical field of a customer as last applied, with the system and source time that set it
-- (mappings/customer/ownership.csv decides whether a change may replace it); version guards concurrent writers.
CREATE TABLE customer_field (
    global_id    VARCHAR(36)  NOT NULL REFERENCES customer (global_id),
    field        VARCHAR(100) NOT NULL,
    field_value  VARCHAR(4000),
    system       VARCHAR(40)  NOT NULL,
    source_time  TIMESTAMP WITH TIME ZONE NOT NULL,
    version      BIGINT       NOT NULL,
    updated_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (global_id, field)
);

-- What the runtime last wrote to a system's record, per field, as the SHA-256 of the normalised value: a change
-- event carrying that value back is the runtime's own write echoing, not a change to pass on.
CREATE TABLE echo_ledger (
    system       VARCHAR(40)  NOT NULL,
    record_id    VARCHAR(300) NOT NULL,
    field        VARCHAR(100) NOT NULL,
    fingerprint  VARCHAR(64)  NOT NULL,
    written_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (system, record_id, field)
);
