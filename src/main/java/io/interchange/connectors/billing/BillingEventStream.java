package io.interchange.connectors.billing;

import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.apache.camel.support.DefaultMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Stripe events read from a Kafka topic (one event JSON per record) into canonical billing events, a poll's batch at
 * a time: every record is translated, the batch's idempotency keys are claimed in one group commit, the new events are
 * sent to the billing topic as one batch of Kafka sends, their keys confirmed in one group commit, and only then the
 * batch's offsets committed. The same event arriving by webhook and by stream has one key, so it is published once.
 *
 * <p>A record that cannot be translated, and a record whose key another delivery holds, leave the batch and go one
 * by one through the single-event route ({@link #SINGLE}), whose policy retries or dead-letters it with its original
 * payload and reason, and through which an operator replays it. A failure that concerns the whole batch (store or
 * Kafka unreachable) releases the batch's keys and is retried with backoff without committing any offset: the batch
 * is neither skipped nor half-published; at worst, after a crash, some of its events are published again, which the
 * ledger's own idempotency absorbs.
 */
public final class BillingEventStream {

    /** The single-event route: a dead letter's replay goes through it. */
    public static final String SINGLE = "direct:billing.stream-event";

    private static final Logger LOG = LoggerFactory.getLogger(BillingEventStream.class);
    private static final long MAX_BACKOFF_MS = 30_000;

    private final BillingEventTranslator translator;
    private final IdempotencyStore idempotency;
    private final String billingTopic;
    private final long initialBackoffMs;
    private volatile boolean stopping;
    private volatile ProducerTemplate template;

    public BillingEventStream(BillingEventTranslator translator, IdempotencyStore idempotency, String billingTopic,
                              long initialBackoffMs) {
        this.translator = translator;
        this.idempotency = idempotency;
        this.billingTopic = billingTopic;
        this.initialBackoffMs = Math.max(10, initialBackoffMs);
    }

    /** Lets a batch that is waiting out a store or broker outage give up, so the consumer can stop. */
    public void stopping() {
        stopping = true;
    }

    /** Stops the stream's producer template (its Kafka producers). */
    public void close() {
        ProducerTemplate t = template;
        if (t != null) {
            try {
                t.stop();
            } catch (RuntimeException e) {
                LOG.debug("Stopping the stream's producer template: {}", e.getMessage());
            }
        }
    }

    /** The single-event route's translation step: the record's body is one Stripe event. */
    public void translateOne(Exchange exchange) {
        Message in = exchange.getMessage();
        String correlationId = exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class);
        if (correlationId == null) {
            correlationId = UUID.randomUUID().toString();
            exchange.setProperty(ExchangeKeys.CORRELATION_ID, correlationId);
        }
        MDC.put(ExchangeKeys.CORRELATION_ID, correlationId);
        exchange.setProperty(ExchangeKeys.ATTEMPTS, exchange.getProperty(ExchangeKeys.ATTEMPTS, 1, Integer.class));
        BillingEventTranslator.Translated t = translate(in.getBody(byte[].class), correlationId);
        exchange.setProperty(BillingWebhook.TRANSLATED, t);
        exchange.setProperty(ExchangeKeys.IDEMPOTENCY_KEY, BillingWebhook.ingestKey(t.sourceEventId()));
    }

    /** The batch consumer's step: the body is the poll's list of record exchanges. */
    public void processBatch(Exchange batchExchange) throws InterruptedException {
        List<?> records = batchExchange.getMessage().getBody(List.class);
        if (records == null || records.isEmpty()) return;
        CamelContext context = batchExchange.getContext();
        ProducerTemplate template = template(context);
        List<Exchange> ok = new ArrayList<>(records.size());
        List<BillingEventTranslator.Translated> translated = new ArrayList<>(records.size());
        int oneByOne = 0;
        for (Object o : records) {
            Exchange record = (Exchange) o;
            try {
                translated.add(translate(record.getMessage().getBody(byte[].class), UUID.randomUUID().toString()));
                ok.add(record);
            } catch (RuntimeException e) {
                // refused input: the single-event route dead-letters it with its payload and this reason
                single(template, record);
                oneByOne++;
            }
        }
        Outcome outcome = publishOnce(template, ok, translated, context);
        LOG.info("Stream batch of {} record(s): {} published, {} already published, {} one by one",
                records.size(), outcome.published(), outcome.duplicates(), oneByOne + outcome.held());
        commitOffsets(records);
    }

    /**
     * One template for the stream's life: a template's producers (a Kafka client each) are created when first used,
     * so a template per batch would start a Kafka producer per batch.
     */
    private ProducerTemplate template(CamelContext context) {
        ProducerTemplate t = template;
        if (t == null) {
            synchronized (this) {
                if (template == null) template = context.createProducerTemplate();
                t = template;
            }
        }
        return t;
    }

    private record Outcome(int published, int duplicates, int held) { }

    /** Claims, publishes and confirms; retries the whole step while the store or the broker is unreachable. */
    private Outcome publishOnce(ProducerTemplate template, List<Exchange> records,
                                List<BillingEventTranslator.Translated> events, CamelContext context)
            throws InterruptedException {
        if (records.isEmpty()) return new Outcome(0, 0, 0);
        long backoff = initialBackoffMs;
        for (int attempt = 1; ; attempt++) {
            List<String> claimed = new ArrayList<>();
            try {
                List<String> keys = new ArrayList<>(events.size());
                for (var t : events) keys.add(BillingWebhook.ingestKey(t.sourceEventId()));
                List<IdempotencyStore.DuplicateState> states = idempotency.claimAll(keys);
                List<Message> out = new ArrayList<>(events.size());
                List<Exchange> held = new ArrayList<>();
                int duplicates = 0;
                for (int i = 0; i < events.size(); i++) {
                    IdempotencyStore.DuplicateState state = states.get(i);
                    if (state == null) {
                        claimed.add(keys.get(i));
                        out.add(record(context, events.get(i)));
                    } else if (state == IdempotencyStore.DuplicateState.DONE) {
                        duplicates++;
                        LOG.debug("Stream event {} already published; skipped", events.get(i).sourceEventId());
                    } else {
                        held.add(records.get(i));
                    }
                }
                if (!out.isEmpty()) {
                    // one exchange whose body is the list of records: the Kafka producer sends them as a batch and
                    // completes when every one is acknowledged (acks=all)
                    // batchWithIndividualHeaders: each record keeps its own CloudEvents headers and key (without it, Camel
                    // gives every record of the batch the outer message's headers)
                    Exchange sent = template.send("kafka:" + billingTopic + "?batchWithIndividualHeaders=true",
                            e -> e.getMessage().setBody(out));
                    if (sent.getException() != null) throw sent.getException();
                    idempotency.confirmAll(claimed);
                }
                // another delivery holds these keys (a webhook under way): wait for it the single route's way
                for (Exchange record : held) single(template, record);
                return new Outcome(out.size(), duplicates, held.size());
            } catch (Exception e) {
                for (String key : claimed) {
                    try {
                        idempotency.remove(key);
                    } catch (RuntimeException ignored) {
                        // the key's lease runs out instead
                    }
                }
                if (!FailureClassifier.isTransient(e) || stopping) {
                    throw e instanceof RuntimeException re ? re : new IllegalStateException(e.getMessage(), e);
                }
                LOG.warn("Stream batch of {} event(s) not published (attempt {}): {}; retrying in {} ms", events.size(),
                        attempt, FailureClassifier.reason(e), backoff);
                Thread.sleep(backoff);
                backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
            }
        }
    }

    private BillingEventTranslator.Translated translate(byte[] body, String correlationId) {
        if (body == null || body.length == 0) {
            throw new PermanentFailure("empty record: expected a Stripe event as JSON");
        }
        return translator.translate(translator.parse(body), correlationId);
    }

    private static Message record(CamelContext context, BillingEventTranslator.Translated t) {
        Message m = new DefaultMessage(context);
        CloudEventHeaders.write(t.envelope(), m);
        m.setHeader(KafkaConstants.KEY, t.envelope().subject());
        m.setBody(t.json());
        return m;
    }

    private static void single(ProducerTemplate template, Exchange record) {
        Exchange result = template.send(SINGLE, e -> {
            record.getMessage().getHeaders().forEach((k, v) -> {
                if (!k.startsWith("kafka.") && !k.startsWith("Camel")) e.getMessage().setHeader(k, v);
            });
            e.getMessage().setBody(record.getMessage().getBody(byte[].class));
        });
        if (result.getException() != null) {
            // not even the dead-letter store took it: fail the batch, its offsets stay uncommitted
            throw new IllegalStateException("stream record at offset "
                    + record.getMessage().getHeader(KafkaConstants.OFFSET) + " could not be handled: "
                    + result.getException().getMessage(), result.getException());
        }
    }

    /**
     * Commits, per partition, the offset of the batch's last record there. Camel's automatic batch commit is not
     * used: in 4.18 it commits the consumer's position, past records fetched but not yet processed (CAMEL-23994).
     */
    private static void commitOffsets(List<?> records) {
        Map<Integer, Exchange> lastPerPartition = new LinkedHashMap<>();
        for (Object o : records) {
            Exchange e = (Exchange) o;
            lastPerPartition.put(e.getMessage().getHeader(KafkaConstants.PARTITION, Integer.class), e);
        }
        for (Exchange last : lastPerPartition.values()) {
            KafkaManualCommit commit = last.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class);
            if (commit == null) {
                throw new IllegalStateException("no manual commit on the stream record: the consumer must run with "
                        + "allowManualCommit=true and autoCommitEnable=false");
            }
            commit.commit();
        }
    }
}
