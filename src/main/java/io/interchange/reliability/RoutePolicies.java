package io.interchange.reliability;

import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.DeadLetterChannelBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds each route's redelivery and dead-letter policy from its {@code interchange.route.<id>.*} keys: transient
 * failures retried with exponential backoff and jitter up to the configured attempts, permanent ones straight to the
 * dead-letter store with the original message. Routes pick their policy by id and write no onException inline.
 */
public final class RoutePolicies {

    /** Bean name of the {@link DeadLetterRecorder} in the Camel registry. */
    public static final String RECORDER = "deadLetterRecorder";

    private static final Logger LOG = LoggerFactory.getLogger(RoutePolicies.class);

    private final Config config;
    private final IdempotencyStore idempotency;

    public RoutePolicies(Config config, IdempotencyStore idempotency) {
        this.config = config;
        this.idempotency = idempotency;
    }

    public DeadLetterChannelBuilder forRoute(String routeId) {
        if (!Settings.POLICY_ROUTES.contains(routeId)) {
            throw new IllegalArgumentException("Route " + routeId + " has no declared policy; add it to Settings.POLICY_ROUTES");
        }
        Settings.RoutePolicySettings keys = Settings.routePolicy(routeId);
        int maxAttempts = config.getInt(keys.maxAttempts());
        if (maxAttempts < 1) {
            throw new IllegalArgumentException(keys.maxAttempts().key() + " must be at least 1");
        }

        DeadLetterChannelBuilder dlc = new DeadLetterChannelBuilder("bean:" + RECORDER);
        dlc.useOriginalMessage();
        // A dead-letter store that cannot write must fail the exchange (the consumer then retries it), never drop it.
        dlc.deadLetterHandleNewException(false);
        dlc.redeliveryDelay(config.getDuration(keys.initialDelay()).toMillis());
        dlc.useExponentialBackOff();
        dlc.backOffMultiplier(config.getDouble(keys.multiplier()));
        dlc.maximumRedeliveryDelay(config.getDuration(keys.maxDelay()).toMillis());
        if (config.getBoolean(keys.jitter())) {
            dlc.useCollisionAvoidance();
        }
        // retryWhile replaces maximumRedeliveries in Camel, so the attempt limit is part of the predicate; attempts
        // are counted in an exchange property because routes replace message headers (Camel's counter lives there).
        dlc.setRetryWhilePredicate(exchange -> FailureClassifier.isTransient(exchange.getException())
                && exchange.getProperty(ExchangeKeys.ATTEMPTS, 1, Integer.class) < maxAttempts);
        dlc.onRedelivery(exchange -> {
            ExchangeKeys.mdc(exchange);
            int attempt = exchange.getProperty(ExchangeKeys.ATTEMPTS, 1, Integer.class) + 1;
            exchange.setProperty(ExchangeKeys.ATTEMPTS, attempt);
            // only a key this exchange holds: renewing one it waits for would keep a dead holder's lease alive
            String key = exchange.getProperty(IdempotentStep.CLAIMED, String.class);
            if (key != null) {
                idempotency.renew(key);
            }
            Throwable cause = exchange.getException() != null ? exchange.getException()
                    : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
            LOG.warn("Route {}: attempt {} of {} after transient failure: {}", routeId, attempt, maxAttempts,
                    FailureClassifier.reason(cause));
        });
        dlc.onPrepareFailure(exchange -> exchange.setProperty(ExchangeKeys.POLICY_ROUTE, routeId));
        dlc.logExhausted(false);
        dlc.retryAttemptedLogLevel(LoggingLevel.DEBUG);
        return dlc;
    }
}
