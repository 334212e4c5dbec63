package io.interchange.ledger;

import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.store.LoyaltyFilings;
import io.interchange.store.Store;
import io.interchange.testkit.Databases;
import io.interchange.testkit.GroupsBroker;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The filing job's view of who records its transactions: how far behind an instant the ledger's consumers of a target
 * are on the loyalty topic (by the records' publication times, on a real broker), and a day that is not closed while
 * they are behind its close.
 */
class FilingRecordersTest {

    static GroupsBroker broker;

    @BeforeAll
    static void start() throws Exception {
        broker = GroupsBroker.start("filing-recorders");
    }

    @AfterAll
    static void stop() {
        if (broker != null) broker.close();
    }

    @Test
    void aTargetsConsumersAreBehindByWhatWasPublishedBeforeTheInstantAndNotYetRead() throws Exception {
        String topic = "loyalty-behind";
        broker.createTopic(topic, 2);
        // partition 0: published at 1 s, 2 s, 3 s (offsets 0, 1, 2); partition 1: at 1.5 s and 5 s (offsets 0, 1)
        publish(topic, 0, 1000, 2000, 3000);
        publish(topic, 1, 1500, 5000);
        FilingRecorders recorders = new FilingRecorders(broker.bootstrapServers(), topic, "app.loyalty-filing",
                Map.of(LegalEntity.LEGACY, "app.legacy", LegalEntity.S4HANA, "app.s4hana"), null);

        assertThat(recorders.behind(LegalEntity.LEGACY, Instant.ofEpochMilli(2500)))
                .as("nothing read yet: offsets 0 and 1 of partition 0, 0 of partition 1").isEqualTo(3);
        broker.commit(topic, "app.legacy", Map.of(0, 1L));
        assertThat(recorders.behind(LegalEntity.LEGACY, Instant.ofEpochMilli(2500))).isEqualTo(2);
        broker.commit(topic, "app.legacy", Map.of(0, 2L, 1, 1L));
        assertThat(recorders.behind(LegalEntity.LEGACY, Instant.ofEpochMilli(2500))).isZero();
        // after the last record of both partitions: everything published must have been read
        assertThat(recorders.behind(LegalEntity.LEGACY, Instant.ofEpochMilli(9000))).isEqualTo(2);
        // another target's group is its own
        assertThat(recorders.behind(LegalEntity.S4HANA, Instant.ofEpochMilli(1200))).isEqualTo(1);
        assertThatThrownBy(() -> recorders.behind("SAP-R3", Instant.ofEpochMilli(0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SAP-R3");
    }

    @Test
    void aDayIsNotClosedWhileItsTargetsConsumersHaveNotReadEverythingPublishedBeforeItsClose() throws Exception {
        ZoneId paris = ZoneId.of("Europe/Paris");
        LocalDate day = LocalDate.parse("2026-12-04");
        Duration grace = Duration.ofMinutes(30);
        Clock clock = Clock.fixed(day.plusDays(1).atTime(9, 0).atZone(paris).toInstant(), paris);
        try (Store store = Store.open(Databases.config(Databases.Backend.H2), clock);
             CamelContext camel = new DefaultCamelContext()) {
            List<Object> published = new CopyOnWriteArrayList<>();
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:filings").process(e -> published.addAll(e.getMessage().getBody(List.class)));
                }
            });
            camel.start();
            ProducerTemplate publisher = camel.createProducerTemplate();
            LoyaltyFilings filings = store.loyaltyFilings();
            LoyaltyDailyFiling filing = new LoyaltyDailyFiling(filings, LegalEntityTable.load(MappingSource.bundled()),
                    Set.of("FR01"), grace, 400, clock);
            List<String> asked = new ArrayList<>();
            assertThat(filing.fileClosedDays(publisher, "direct:filings", (target, at) -> {
                asked.add(target);
                return 0;
            })).isEmpty();
            assertThat(asked).as("nothing recorded: nothing to close, the topic is not asked").isEmpty();
            filings.record(List.of(new LoyaltyFilings.Item("evt-1", "vtx_1", "FR01", day, 120, "EUR",
                    "{}".getBytes(StandardCharsets.UTF_8))));

            assertThat(filing.fileClosedDays(publisher, "direct:filings", (target, at) -> {
                asked.add(target + "@" + at);
                return 3;
            })).isEmpty();
            // FR01 has no S/4HANA cut-over: its legacy ERP consumers, up to the day's end in Paris plus the grace
            assertThat(asked).containsExactly("LEGACY@" + day.plusDays(1).atStartOfDay(paris).toInstant().plus(grace));
            assertThat(filings.find(LoyaltyFilings.filingId("FR01", day, 1))).isEmpty();
            assertThat(filings.unfiled("FR01")).isEqualTo(1);
            assertThat(published).isEmpty();

            assertThat(filing.fileClosedDays(publisher, "direct:filings", (target, at) -> 0)).hasSize(1);
            assertThat(filings.filingOf("evt-1")).contains(LoyaltyFilings.filingId("FR01", day, 1));
            assertThat(published).hasSize(1);
            // filed: not asked again
            asked.clear();
            filing.fileClosedDays(publisher, "direct:filings", (target, at) -> {
                asked.add(target);
                return 0;
            });
            assertThat(asked).isEmpty();
        }
    }

    private static void publish(String topic, int partition, long... times) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (long t : times) {
                producer.send(new ProducerRecord<>(topic, partition, t, null, Long.toString(t).getBytes(StandardCharsets.UTF_8))).get();
            }
        }
    }

}
