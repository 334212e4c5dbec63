package io.interchange.connectors.billing;

import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.kafka.KafkaBatches;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.IdempotencyStore;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.support.DefaultMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Stripe events read from a Kafka topic (one event JSON per record) into canonical billing events, a poll's batch at
 * a time: every record is translated, the batch's idempotency keys are claimed in one group commit, the new events are
 * sent to the billing topic as one batch of Kafka sends, their keys confirmed in one group commit, and only then the
 * batch's offsets committed. The same event arriving by webhook and by stream has one key, so it is published once.
 *
 * <p>A record of a type without effect is skipped. A record that cannot be translated (refused or parked), and a
 * record whose key another delivery holds, leave the batch and go one by one through the single-event route
 * ({@link BillingWebhook#EVENT_ROUTE}), whose policy retries or dead-letters it with its original payload and reason,
 * and through which an operator replays it. A failure that concerns the whole batch (store or
 * Kafka unreachable) releases the batch's keys and is retried with backoff without committing any offset: the batch
 * is neither skipped nor half-published; at worst, after a crash, some of its events are published again, which the
 * ledger's own idempotency absorbs.
 */
public final class BillingEventStream {

    /**
     * The route that sends a batch's records to the billing topic (a Kafka producer owned by a route, not by the
     * template: a template's Kafka producer did not survive the consumer route being stopped and started).
     */
    public static final String PUBLISH = "direct:billing.stream-publish";

    private static final Logger LOG = LoggerFactory.getLogger(BillingEventStream.class);
    private static final long MAX_BACKOFF_MS = 30_000;

    private final BillingEventTranslator translator;
    private final IdempotencyStore idempotency;
    private final long initialBackoffMs;
    private final KafkaBatches.Template template = new KafkaBatches.Template();
    private volatile boolean stopping;

    public BillingEventStream(BillingEventTranslator translator, IdempotencyStore idempotency, long initialBackoffMs) {
        this.translator = translator;
        this.idempotency = idempotency;
        this.initialBackoffMs = Math.max(10, initialBackoffMs);
    }

    /** Lets a batch that is waiting out a store or broker outage give up, so the consumer can stop. */
    public void stopping() {
        stopping = true;
    }

    /** Stops the stream's producer template (its Kafka producers). */
    public void close() {
        template.close();
    }

    /** The batch consumer's step: the body is the poll's list of record exchanges. */
    public void processBatch(Exchange batchExchange) throws InterruptedException {
        List<?> polled = batchExchange.getMessage().getBody(List.class);
        if (polled == null || polled.isEmpty()) return;
        // records of a partition a rebalance took away (or restarted) since they were read are another reader's now
        List<Exchange> records = KafkaBatches.stillOwned(polled);
        if (records.isEmpty()) return;
        CamelContext context = batchExchange.getContext();
        ProducerTemplate template = this.template.get(context);
        List<Exchange> ok = new ArrayList<>(records.size());
        List<BillingEventTranslator.Translated> translated = new ArrayList<>(records.size());
        int oneByOne = 0;
        int ignored = 0;
        for (Exchange record : records) {
            try {
                byte[] body = record.getMessage().getBody(byte[].class);
                if (body == null || body.length == 0) throw new PermanentFailure("empty record");
                JsonNode event = translator.parse(body);
                if (translator.ignored(event)) {
                    ignored++;
                    continue;
                }
                translated.add(translator.translate(event, UUID.randomUUID().toString()));
                ok.add(record);
            } catch (RuntimeException e) {
                // refused or parked: the single-event route dead-letters it with its payload and this reason
                single(template, record);
                oneByOne++;
            }
        }
        Outcome outcome = publishOnce(template, ok, translated, context);
        LOG.info("Stream batch of {} record(s): {} published, {} already published, {} without effect, {} one by one",
                records.size(), outcome.published(), outcome.duplicates(), ignored, oneByOne + outcome.held());
        KafkaBatches.commitOffsets(records);
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
                    // one exchange whose body is the list of records: the publish route's Kafka producer sends them
                    // as a batch and completes when every one is acknowledged (acks=all)
                    Exchange sent = template.send(PUBLISH, e -> e.getMessage().setBody(out));
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

    private static Message record(CamelContext context, BillingEventTranslator.Translated t) {
        Message m = new DefaultMessage(context);
        CloudEventHeaders.write(t.envelope(), m);
        m.setHeader(KafkaConstants.KEY, t.envelope().subject());
        m.setBody(t.json());
        return m;
    }

    private static void single(ProducerTemplate template, Exchange record) {
        KafkaBatches.forward(template, BillingWebhook.EVENT_ROUTE, record);
    }
}
