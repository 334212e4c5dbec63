package io.interchange.reliability;

import io.interchange.management.PersonalData;
import io.interchange.store.DeadLetterStore;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The end of every dead-letter channel: stores the original message with route, error, attempts and correlation id,
 * or, for a replay that failed again, updates the dead letter it came from.
 */
public class DeadLetterRecorder implements Processor {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterRecorder.class);

    private final DeadLetterStore store;

    public DeadLetterRecorder(DeadLetterStore store) {
        this.store = store;
    }

    @Override
    public void process(Exchange exchange) {
        ExchangeKeys.mdc(exchange);
        Throwable failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String route = exchange.getProperty(ExchangeKeys.POLICY_ROUTE, String.class);
        if (route == null) {
            route = exchange.getProperty(Exchange.FAILURE_ROUTE_ID, "unknown", String.class);
        }
        Message in = exchange.getMessage();
        String kind = FailureClassifier.kind(failure);
        String reason = FailureClassifier.reason(failure);
        int attempts = exchange.getProperty(ExchangeKeys.ATTEMPTS, 1, Integer.class);
        String correlationId = exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class);
        Long replayOf = in.getHeader(ExchangeKeys.REPLAY_OF, Long.class);
        if (replayOf != null) {
            store.failedAgain(replayOf, kind, failure == null ? "" : failure.getClass().getName(), reason, attempts);
            exchange.setProperty(ExchangeKeys.DEAD_LETTER_ID, replayOf);
            LOG.error("Replay of dead letter {} on route {} failed again ({}): {}", replayOf, route, kind,
                    PersonalData.mask(reason));
            return;
        }
        byte[] payload = in.getBody(byte[].class);
        long id = store.add(route, correlationId, exchange.getProperty(ExchangeKeys.IDEMPOTENCY_KEY, String.class), kind,
                failure == null ? "" : failure.getClass().getName(), reason, attempts, headers(in),
                payload == null ? new byte[0] : payload);
        exchange.setProperty(ExchangeKeys.DEAD_LETTER_ID, id);
        LOG.error("Dead-lettered on route {} as #{} after {} attempt(s) ({}): {}", route, id, attempts, kind,
                PersonalData.mask(reason));
    }

    /** The message's own headers as text; Camel's internal headers are not part of the original message. */
    static Map<String, String> headers(Message in) {
        Map<String, String> out = new LinkedHashMap<>();
        in.getHeaders().forEach((k, v) -> {
            if (v == null || k.startsWith("Camel") || k.startsWith("Interchange")) return;
            out.put(k, v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : v.toString());
        });
        return out;
    }
}
