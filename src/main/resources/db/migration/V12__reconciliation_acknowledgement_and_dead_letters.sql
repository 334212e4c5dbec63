-- An operator acknowledges a difference with a reason: who, when and why are kept on the difference, which is never
-- deleted or corrected by it.
ALTER TABLE reconciliation_difference ADD COLUMN acknowledged_by VARCHAR(200);
ALTER TABLE reconciliation_difference ADD COLUMN acknowledged_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE reconciliation_difference ADD COLUMN acknowledged_reason VARCHAR(4000);

-- What a dead letter is about, taken from its payload when it is stored: the billing object (a Stripe event's object,
-- or a canonical document's own id) and the billing document it is posted as (kind|reference, as reconciliation keys
-- documents). A reconciliation run links its differences to the open dead letters of their records through these,
-- the posting key (idempotency key) and the correlation id.
ALTER TABLE dead_letter ADD COLUMN object_id VARCHAR(300);
ALTER TABLE dead_letter ADD COLUMN document_key VARCHAR(300);
CREATE INDEX dead_letter_object ON dead_letter (object_id);
CREATE INDEX dead_letter_document ON dead_letter (document_key);
CREATE INDEX dead_letter_idempotency ON dead_letter (idempotency_key);
CREATE INDEX dead_letter_correlation ON dead_letter (correlation_id);

-- The open dead letters of a difference's records when its run completed: the report shows them beside the
-- difference, the dead-letter console shows the differences beside a dead letter.
CREATE TABLE reconciliation_dead_letter (
    run_id          BIGINT NOT NULL,
    difference_id   BIGINT NOT NULL,
    dead_letter_id  BIGINT NOT NULL,
    PRIMARY KEY (difference_id, dead_letter_id)
);
CREATE INDEX reconciliation_dead_letter_run ON reconciliation_dead_letter (run_id, difference_id);
CREATE INDEX reconciliation_dead_letter_letter ON reconciliation_dead_letter (dead_letter_id);
