-- Where the runtime stands in a source's event stream (Salesforce Change Data Capture: one row per channel), written
-- after an event's effect is committed (published to Kafka, its idempotency keys done), so a restart resumes after the
-- last event fully processed. Salesforce keeps events 72 hours and does not persist a CometD subscriber's position.
-- backfill_from: set when the stored replay id was no longer valid (expired); the changes since then are read back by
-- query before it is cleared, so a stop in the middle of that read runs it again at the next start.
CREATE TABLE stream_position (
    source            VARCHAR(100) NOT NULL,
    channel           VARCHAR(200) NOT NULL,
    replay_id         BIGINT,
    commit_timestamp  TIMESTAMP WITH TIME ZONE,
    backfill_from     TIMESTAMP WITH TIME ZONE,
    updated_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (source, channel)
);
