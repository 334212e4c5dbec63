-- What the loyalty-crm flow knows of each member (one row per global customer id): the balance and the tier it last
-- wrote to the customer's CRM records, each with the platform's time of the event it came from, so an older event
-- arriving later never overwrites a newer value; the time of the member's newest points activity; and the activity
-- time of the risk episode a churn-risk task was made for (a new episode only once newer activity moved it on).
CREATE TABLE loyalty_standing (
    global_id        VARCHAR(36) NOT NULL PRIMARY KEY,
    balance          BIGINT,
    balance_at       TIMESTAMP WITH TIME ZONE,
    tier_id          VARCHAR(100),
    tier_name        VARCHAR(200),
    tier_at          TIMESTAMP WITH TIME ZONE,
    last_activity_at TIMESTAMP WITH TIME ZONE,
    churn_task_for   TIMESTAMP WITH TIME ZONE
);
CREATE INDEX loyalty_standing_activity ON loyalty_standing (last_activity_at);
