-- Daily filing of loyalty points transactions (entities whose mappings/loyalty/point-values.csv row says daily): each
-- transaction is recorded once (by its canonical event id) as it arrives; once its day has closed, the entity's
-- unfiled transactions are assigned to one filing (in parts of at most interchange.loyalty.filing-max-transactions),
-- published as one canonical filing event and posted by the ledger as one journal entry per part, one line pair per
-- transaction. filing_id on an item says in which filing (and so which ERP document) it was posted.
CREATE TABLE loyalty_filing (
    filing_id      VARCHAR(100)  NOT NULL PRIMARY KEY,
    legal_entity   VARCHAR(20)   NOT NULL,
    filing_date    DATE          NOT NULL,
    part           INTEGER       NOT NULL,
    transactions   INTEGER       NOT NULL,
    amount_minor   BIGINT        NOT NULL,
    currency       VARCHAR(3)    NOT NULL,
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    published_at   TIMESTAMP WITH TIME ZONE
);
CREATE UNIQUE INDEX loyalty_filing_entity_date ON loyalty_filing (legal_entity, filing_date, part);

CREATE TABLE loyalty_filing_item (
    event_id        VARCHAR(200)  NOT NULL PRIMARY KEY,
    transaction_id  VARCHAR(100)  NOT NULL,
    legal_entity    VARCHAR(20)   NOT NULL,
    occurred_on     DATE          NOT NULL,
    amount_minor    BIGINT        NOT NULL,
    currency        VARCHAR(3)    NOT NULL,
    canonical       BYTEA         NOT NULL,
    recorded_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    filing_id       VARCHAR(100)  REFERENCES loyalty_filing (filing_id)
);
CREATE INDEX loyalty_filing_item_open ON loyalty_filing_item (legal_entity, filing_id, occurred_on);
