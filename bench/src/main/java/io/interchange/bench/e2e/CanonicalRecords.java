package io.interchange.bench.e2e;

import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import org.apache.camel.Message;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultMessage;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.UUID;

/**
 * Canonical billing events exactly as the runtime's webhook route publishes them to the billing topic: the bench's
 * Stripe events translated by {@link BillingEventTranslator}, CloudEvents binary headers written by
 * {@link CloudEventHeaders#write} (then serialised as camel-kafka does: UTF-8 values, null headers left out), key =
 * the envelope's subject. Every event is an {@code invoice.finalized} of DE01 or US01, both on S/4HANA by now, so
 * every one posts to the S/4HANA peer; checked per record, as a later change of the table or of {@link Events}
 * would otherwise quietly send postings elsewhere.
 */
final class CanonicalRecords {

    private final Events events;
    private final BillingEventTranslator translator;
    private final LegalEntityTable entities;
    private final Message headers = new DefaultMessage(new DefaultCamelContext());
    private final LocalDate today = LocalDate.now();

    CanonicalRecords(Events events) {
        this.events = events;
        MappingSource source = MappingSource.bundled();
        this.translator = new BillingEventTranslator(MappingEngine.load(source), source, null,
                BillingEventTranslator.Livemode.ANY, "", null);
        this.entities = LegalEntityTable.load(source);
    }

    ProducerRecord<String, byte[]> record(String topic, long seq) {
        BillingEventTranslator.Translated t = translator.translate(translator.parse(events.body(seq)), UUID.randomUUID().toString());
        String entity = t.envelope().legalEntity();
        if (!entities.find(entity).map(e -> LegalEntity.S4HANA.equals(e.erpTargetOn(today))).orElse(false)) {
            throw new IllegalStateException("legal entity " + entity + " does not post to S/4HANA today");
        }
        headers.getHeaders().clear();
        CloudEventHeaders.write(t.envelope(), headers);
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, t.envelope().subject(), t.json());
        headers.getHeaders().forEach((name, value) -> {
            if (value != null) r.headers().add(name, value.toString().getBytes(StandardCharsets.UTF_8));
        });
        return r;
    }
}
