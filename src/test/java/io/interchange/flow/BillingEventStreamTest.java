package io.interchange.flow;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stripe events read from a Kafka topic: published once each as canonical events with their own CloudEvents headers
 * and customer key, once across stream and webhook, refused records dead-lettered one by one with their reason, the
 * rest of their batch published, and everything posted to the ERP once.
 */
class BillingEventStreamTest {

    static final String STREAM = "stripe.events.test";
    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.POSTGRES, Map.of(
                "interchange.flows", "billing-webhook,billing-ledger,billing-stream",
                "interchange.billing.stream-topic", STREAM,
                "interchange.route.billing.stripe-event.initial-delay", "PT0.1S",
                "interchange.route.billing.stripe-event.max-delay", "PT0.2S"));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Test
    void streamedEventsArePublishedOnceWithTheirOwnHeadersAndBadRecordsAreDeadLettered() throws Exception {
        List<ObjectNode> events = new ArrayList<>();
        for (int i = 0; i < 40; i++) events.add(i % 2 == 0 ? Events.invoiceFinalized("DE01") : Events.invoicePaid("US01"));
        // one event arrives by webhook first: the stream must not publish it again
        assertThat(kit.sendSigned(Events.bytes(events.get(0))).statusCode()).isEqualTo(200);
        byte[] malformed = "{\"id\": \"evt_broken\", \"type\": ".getBytes(StandardCharsets.UTF_8);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kit.kafka.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 50),
                new StringSerializer(), new ByteArraySerializer())) {
            for (ObjectNode e : events) producer.send(new ProducerRecord<>(STREAM, "k", Events.bytes(e)));
            producer.send(new ProducerRecord<>(STREAM, "k", malformed));
            // a re-delivery of the stream's own record: published once
            producer.send(new ProducerRecord<>(STREAM, "k", Events.bytes(events.get(5))));
        }

        await().atMost(Duration.ofSeconds(60)).until(() ->
                kit.runtime.store().deadLetters().count("billing.stripe-event", DeadLetter.OPEN) == 1);
        var canonical = kit.readTopic("interchange.billing.v1", Duration.ofSeconds(3));
        Map<String, Long> perId = canonical.stream().collect(Collectors.groupingBy(r -> String.valueOf(RuntimeKit.header(r, "ce_id")),
                Collectors.counting()));
        assertThat(perId).hasSize(40);
        assertThat(perId.values()).allMatch(n -> n == 1);
        for (var r : canonical) {
            String id = RuntimeKit.header(r, "ce_id");
            ObjectNode source = events.stream().filter(e -> e.get("id").asText().equals(id)).findFirst().orElseThrow();
            assertThat(RuntimeKit.header(r, "ce_type")).startsWith("io.interchange.billing.");
            assertThat(RuntimeKit.header(r, "ce_legalentity"))
                    .isEqualTo(source.path("data").path("object").path("metadata").path("legal_entity").asText());
            assertThat(r.key()).isEqualTo(RuntimeKit.header(r, "ce_subject")).isNotBlank();
        }
        var dead = kit.runtime.store().deadLetters().list("billing.stripe-event", DeadLetter.OPEN, 10);
        assertThat(dead).hasSize(1);
        assertThat(dead.get(0).payload()).isEqualTo(malformed);
        assertThat(dead.get(0).errorMessage()).contains("malformed JSON");
        for (ObjectNode e : events) {
            assertThat(kit.runtime.store().idempotency().state("billing:stripe:" + e.get("id").asText())).isEqualTo("DONE");
        }
    }
}
