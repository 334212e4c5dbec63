package io.interchange.connectors.kafka;

import io.interchange.model.Envelope;
import org.apache.camel.CamelContext;
import org.apache.camel.Message;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The envelope as CloudEvents binary-mode headers: written, and read back as a Kafka consumer hands them over. */
class CloudEventHeadersTest {

    private final CamelContext camel = new DefaultCamelContext();

    private Message message() {
        return new DefaultExchange(camel).getMessage();
    }

    @Test
    void anEnvelopeWrittenIsReadBackWhole() {
        Envelope e = new Envelope("evt_1", "/stripe", "io.interchange.billing.invoice.issued.v1", "gc-1",
                "2026-12-06T08:00:00Z", "urn:schema", "corr-1", "DE01", "metadata", true);
        Message m = message();
        CloudEventHeaders.write(e, m);
        assertThat(CloudEventHeaders.read(m)).isEqualTo(e);
    }

    @Test
    void kafkaHeaderBytesAnyCaseOfTheNamesAndAbsentExtensionsAreRead() {
        Message m = message();
        m.setHeader("kafka.TOPIC", "interchange.billing.v1");
        m.setHeader("ce_specversion", bytes("1.0"));
        m.setHeader("CE_ID", bytes("evt_2"));
        m.setHeader("Ce_Type", bytes("io.interchange.billing.payment.succeeded.v1"));
        m.setHeader("ce_source", bytes("/stripe"));
        m.setHeader("ce_subject", bytes("gc-2"));
        m.setHeader("ce_time", bytes("2026-12-06T09:00:00Z"));
        m.setHeader("ce_unknownextension", bytes("ignored"));
        m.setHeader("content-type", bytes("application/json"));
        // near misses of the prefix are not CloudEvents attributes of the Kafka binding (ce-id is the HTTP binding's)
        m.setHeader("ce-id", bytes("evt_http"));
        m.setHeader("ceXsubject", bytes("gc-other"));
        m.setHeader("de_source", bytes("/other"));
        m.setHeader("c\u00c5_time", bytes("1999-01-01T00:00:00Z"));
        Envelope e = CloudEventHeaders.read(m);
        assertThat(e).isEqualTo(new Envelope("evt_2", "/stripe", "io.interchange.billing.payment.succeeded.v1", "gc-2",
                "2026-12-06T09:00:00Z", null, null, null, null, null));
    }

    @Test
    void aMessageWithoutCloudEventsHeadersReadsAsAnEmptyEnvelope() {
        Message m = message();
        m.setHeader("kafka.KEY", "k");
        assertThat(CloudEventHeaders.read(m)).isEqualTo(new Envelope(null, null, null, null, null, null, null, null,
                null, null));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
