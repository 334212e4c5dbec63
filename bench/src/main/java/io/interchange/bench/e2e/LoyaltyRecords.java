package io.interchange.bench.e2e;

import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.connectors.webhook.WebhookJson;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.CustomerRef;
import io.interchange.model.Envelope;
import io.interchange.model.LoyaltyTransaction;
import org.apache.camel.Message;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultMessage;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Canonical loyalty points transactions exactly as the loyalty webhook ({@code LoyaltyWebhook}) publishes them to the
 * loyalty topic: a {@link LoyaltyTransaction} of legal entity DE01 (on S/4HANA) valued at DE01's point value (1 cent a
 * point), JSON as the webhook writes it ({@link WebhookJson#JSON}), CloudEvents headers by
 * {@link CloudEventHeaders#write} (id {@code voucherify:<project>:<transaction id>}, source {@code /loyalty/voucherify},
 * subject and key = the holder's global id). Seven in ten are accruals (points earned), two redemptions, one an
 * expiration, so the ledger posts to all three of its points accounts. Every transaction happened on {@code day}
 * (Europe/Berlin): today for the real-time runs, yesterday for the daily filing, whose day must have closed.
 */
final class LoyaltyRecords {

    static final String ENTITY = "DE01";
    private static final String PROJECT = "proj_bench";
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    private final String prefix;
    private final long seed;
    private final LocalDate day;
    private final Message headers = new DefaultMessage(new DefaultCamelContext());

    LoyaltyRecords(long seed, String prefix, LocalDate day) {
        this.seed = seed;
        this.prefix = prefix;
        this.day = day;
        LegalEntity de01 = LegalEntityTable.load(MappingSource.bundled()).find(ENTITY).orElseThrow();
        if (!LegalEntity.S4HANA.equals(de01.erpTargetOn(day))) {
            throw new IllegalStateException(ENTITY + " does not post to S/4HANA on " + day);
        }
    }

    static LocalDate todayInBerlin() {
        return LocalDate.now(BERLIN);
    }

    /** The transaction id of record {@code seq}: what the ledger's line texts name. */
    String transactionId(long seq) {
        return "vtx_" + prefix + seq;
    }

    ProducerRecord<String, byte[]> record(String topic, long seq) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + seq);
        int kind = r.nextInt(10);
        String type;
        String movement;
        long points;
        if (kind < 7) {
            type = "POINTS_ACCRUAL";
            movement = "EARNED";
            points = 1 + r.nextInt(500);
        } else if (kind < 9) {
            type = "POINTS_REDEMPTION";
            movement = "REDEEMED";
            points = -(100 + r.nextInt(2000));
        } else {
            type = "POINTS_EXPIRATION";
            movement = "EXPIRED";
            points = -(1 + r.nextInt(300));
        }
        String txId = transactionId(seq);
        String globalId = "gc-" + prefix + (seq % 5000);
        // a time of that day in Berlin (between 01:00 and 23:00, so its date is the day whatever the offset)
        Instant at = ZonedDateTime.of(day.atTime(1, 0), BERLIN).toInstant().plusSeconds(r.nextInt(22 * 3600));
        LoyaltyTransaction t = new LoyaltyTransaction(txId, type, movement,
                new CustomerRef(globalId, "loyalty", "cust_" + prefix + (seq % 5000)), "M" + (seq % 5000),
                "camp_bench", points, 1000L + r.nextInt(10_000), null, null, null, null, "EUR", "1", points,
                at.toString(), day.toString());
        CanonicalType c = CanonicalType.LOYALTY_TRANSACTION;
        Envelope envelope = new Envelope("voucherify:" + PROJECT + ":" + txId, "/loyalty/voucherify", c.ceType(),
                globalId, t.occurredAt(), c.dataSchema(), UUID.randomUUID().toString(), ENTITY);
        byte[] json;
        try {
            json = WebhookJson.JSON.writeValueAsBytes(t);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        headers.getHeaders().clear();
        CloudEventHeaders.write(envelope, headers);
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(topic, globalId, json);
        headers.getHeaders().forEach((name, value) -> {
            if (value != null) out.headers().add(name, value.toString().getBytes(StandardCharsets.UTF_8));
        });
        return out;
    }
}
