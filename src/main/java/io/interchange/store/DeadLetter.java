package io.interchange.store;

import java.time.Instant;
import java.util.Map;

/**
 * One failed exchange as it entered its route: original payload and headers, with why and how often it failed.
 *
 * @param status OPEN (awaiting an operator), REPLAYING (claimed by a replay), REPLAYED or DISCARDED
 */
public record DeadLetter(long id, String routeId, String status, String correlationId, String idempotencyKey,
                         String failureKind, String errorClass, String errorMessage, int attempts,
                         Map<String, String> headers, byte[] payload, Instant createdAt, Instant updatedAt) {

    public static final String OPEN = "OPEN";
    public static final String REPLAYING = "REPLAYING";
    public static final String REPLAYED = "REPLAYED";
    public static final String DISCARDED = "DISCARDED";
}
