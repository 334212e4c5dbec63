package io.interchange.connectors.kafka;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the batch-consuming flows (a poll's records in one exchange, {@code batching=true}) share: handing a record to
 * the flow's single-event route, and committing a finished batch's offsets by hand.
 */
public final class KafkaBatches {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaBatches.class);

    private KafkaBatches() {
    }

    /**
     * Sends one record of a batch through a single-event route (which retries or dead-letters it under its policy),
     * with its headers (Kafka's and Camel's left out) and its payload as bytes. Throws when even that route failed
     * (the dead-letter store did not take it): the batch then fails and its offsets stay uncommitted.
     */
    public static void forward(ProducerTemplate template, String uri, Exchange record) {
        forward(template, uri, record, Map.of());
    }

    /** As {@link #forward(ProducerTemplate, String, Exchange)}, with exchange properties for the single-event route. */
    public static void forward(ProducerTemplate template, String uri, Exchange record, Map<String, Object> properties) {
        Exchange result = template.send(uri, e -> {
            record.getMessage().getHeaders().forEach((k, v) -> {
                if (!k.startsWith("kafka.") && !k.startsWith("Camel")) e.getMessage().setHeader(k, v);
            });
            e.getMessage().setBody(record.getMessage().getBody(byte[].class));
            properties.forEach(e::setProperty);
        });
        if (result.getException() != null) {
            throw new IllegalStateException("record at offset " + record.getMessage().getHeader(KafkaConstants.OFFSET)
                    + " of partition " + record.getMessage().getHeader(KafkaConstants.PARTITION)
                    + " could not be handled: " + result.getException().getMessage(), result.getException());
        }
    }

    /**
     * Commits, per partition, the offset of the batch's last record there. Camel's automatic batch commit is not
     * used: in 4.18 it commits the consumer's position, past records fetched but not yet processed (CAMEL-23994).
     */
    public static void commitOffsets(List<?> records) {
        Map<Integer, Exchange> lastPerPartition = new LinkedHashMap<>();
        for (Object o : records) {
            Exchange e = (Exchange) o;
            lastPerPartition.put(e.getMessage().getHeader(KafkaConstants.PARTITION, Integer.class), e);
        }
        for (Exchange last : lastPerPartition.values()) {
            KafkaManualCommit commit = last.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class);
            if (commit == null) {
                throw new IllegalStateException("no manual commit on the batch's record: the consumer must run with "
                        + "allowManualCommit=true and autoCommitEnable=false");
            }
            commit.commit();
        }
    }

    /**
     * One producer template for a flow's life, created when first needed: a template's producers (a Kafka client
     * each) start when first used, so a template per batch would start a Kafka producer per batch.
     */
    public static final class Template {
        private volatile ProducerTemplate template;

        public ProducerTemplate get(CamelContext context) {
            ProducerTemplate t = template;
            if (t == null) {
                synchronized (this) {
                    if (template == null) template = context.createProducerTemplate();
                    t = template;
                }
            }
            return t;
        }

        public void close() {
            ProducerTemplate t = template;
            if (t != null) {
                try {
                    t.stop();
                } catch (RuntimeException e) {
                    LOG.debug("Stopping a batch flow's producer template: {}", e.getMessage());
                }
            }
        }
    }
}
