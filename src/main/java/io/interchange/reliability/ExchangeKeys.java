package io.interchange.reliability;

/** Exchange properties and headers the runtime sets; documented here instead of string literals in routes. */
public final class ExchangeKeys {

    /** Property: correlation id of the flow, also in the logging MDC as {@code correlationId}. */
    public static final String CORRELATION_ID = "correlationId";
    /** Property: the idempotency key this exchange holds. */
    public static final String IDEMPOTENCY_KEY = "InterchangeIdempotencyKey";
    /** Property: number of attempts made so far (1 on the first). */
    public static final String ATTEMPTS = "InterchangeAttempts";
    /** Property: id of the route whose policy dead-lettered the exchange. */
    public static final String POLICY_ROUTE = "InterchangePolicyRoute";
    /** Property: id of the dead letter the exchange was stored as (or updated). */
    public static final String DEAD_LETTER_ID = "InterchangeDeadLetterId";
    /** Header: set on a replayed exchange to the id of the dead letter it came from. */
    public static final String REPLAY_OF = "InterchangeReplayOf";
    /** Inbound HTTP header carrying a caller's correlation id. */
    public static final String CORRELATION_HEADER = "X-Correlation-Id";

    private ExchangeKeys() {
    }

    /**
     * Puts the exchange's correlation id in the logging MDC of the current thread. Steps that may run on another
     * thread than the one that received the message (after a Kafka acknowledgement, in an error handler) call it
     * before they log. Cheaper than Camel's MDC logging, which copies and pattern-matches the MDC around every step.
     */
    public static void mdc(org.apache.camel.Exchange exchange) {
        String id = exchange.getProperty(CORRELATION_ID, String.class);
        if (id != null) {
            org.slf4j.MDC.put(CORRELATION_ID, id);
        } else {
            org.slf4j.MDC.remove(CORRELATION_ID);
        }
    }
}
