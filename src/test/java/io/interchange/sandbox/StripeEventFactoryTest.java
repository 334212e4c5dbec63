package io.interchange.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Invoice;
import io.interchange.model.InvoiceLine;
import io.interchange.model.Payment;
import io.interchange.model.Refund;
import io.interchange.sandbox.StripeEventFactory.InvoiceSpec;
import io.interchange.sandbox.StripeEventFactory.StripeInvoice;
import io.interchange.store.BillingReferences;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class StripeEventFactoryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final MappingEngine ENGINE = MappingEngine.load(MappingSource.directory(Path.of("mappings")));
    private static final Path FIXTURES = Path.of("mappings", "stripe");
    private static final int N = 200;
    private static final List<Object[]> ENTITIES = List.of(
            new Object[] {"DE01", "EUR", "19"}, new Object[] {"US01", "USD", "7.25"},
            new Object[] {"GB01", "GBP", "20"}, new Object[] {"FR01", "EUR", "20"});

    @Test
    void generatedEventsMapCleanlyToConsistentCanonicalObjects() throws IOException {
        Random random = new Random(7);
        StripeEventFactory factory = new StripeEventFactory(11);
        Set<String> eventIds = new HashSet<>();
        Set<String> invoiceNumbers = new HashSet<>();

        for (int i = 0; i < N; i++) {
            InvoiceSpec spec = randomSpec(random, factory, i);
            long created = spec.createdEpochSeconds();
            StripeInvoice stripeInvoice = factory.issue(spec);

            JsonNode finalized = wire(factory.invoiceFinalized(stripeInvoice, created + 3_600));
            assertStripeEvent(finalized, "invoice.finalized", eventIds);
            Invoice invoice = canonical("stripe/invoice", finalized, Invoice.class, null);
            assertThat(invoice.inconsistency()).as("invoice %s", invoice.invoiceId()).isNull();
            assertThat(invoice.invoiceId()).matches("in_[A-Za-z0-9]{24}");
            assertThat(invoiceNumbers.add(invoice.number())).as("unique number %s", invoice.number()).isTrue();
            assertThat(invoice.number()).matches("[0-9A-Z]{8}-\\d{4}");
            assertThat(invoice.status()).isEqualTo("OPEN");
            assertThat(invoice.currency()).isEqualTo(spec.currency());
            assertThat(invoice.customer().globalId()).isEqualTo(spec.globalCustomerId());
            assertThat(invoice.customer().systemId()).isEqualTo(spec.customerId()).matches("cus_[A-Za-z0-9]{14}");
            assertThat(invoice.issuedOn()).isEqualTo(day(created + 3_600));
            assertThat(invoice.lines()).hasSameSizeAs(spec.lines());
            long expectedTax = 0;
            for (int l = 0; l < spec.lines().size(); l++) {
                InvoiceLine line = invoice.lines().get(l);
                long lineTax = BigDecimal.valueOf(spec.lines().get(l).amountMinor()).multiply(spec.taxRatePercent())
                        .divide(BigDecimal.valueOf(100)).setScale(0, RoundingMode.HALF_UP).longValueExact();
                assertThat(line.lineId()).matches("il_[A-Za-z0-9]{24}");
                assertThat(line.productId()).matches("prod_[A-Za-z0-9]{14}");
                assertThat(line.amountMinor()).isEqualTo(spec.lines().get(l).amountMinor());
                assertThat(line.quantity()).isEqualTo(spec.lines().get(l).quantity());
                assertThat(line.taxMinor()).isEqualTo(lineTax);
                expectedTax += lineTax;
            }
            long subtotal = spec.lines().stream().mapToLong(InvoiceSpec.Line::amountMinor).sum();
            assertThat(invoice.subtotalMinor()).isEqualTo(subtotal).isEqualTo(stripeInvoice.subtotalMinor());
            assertThat(invoice.taxMinor()).isEqualTo(expectedTax).isEqualTo(stripeInvoice.taxMinor());
            assertThat(invoice.totalMinor()).isEqualTo(subtotal + expectedTax).isEqualTo(stripeInvoice.totalMinor());
            assertThat(invoice.taxes()).singleElement().satisfies(t -> {
                assertThat(t.taxableMinor()).isEqualTo(subtotal);
                assertThat(t.taxRateId()).matches("txr_[A-Za-z0-9]{24}");
            });
            JsonNode object = finalized.path("data").path("object");
            assertThat(object.path("metadata").path("legal_entity").asText()).isEqualTo(spec.legalEntity());
            assertThat(object.path("amount_due").asLong()).isEqualTo(subtotal + expectedTax);
            assertThat(object.path("currency").asText()).isEqualTo(spec.currency().toLowerCase());

            JsonNode failed = wire(factory.invoicePaymentFailed(stripeInvoice, created + 7_200));
            assertStripeEvent(failed, "invoice.payment_failed", eventIds);
            Payment failure = canonical("stripe/payment", failed, Payment.class, null);
            assertThat(failure.status()).isEqualTo(Payment.FAILED);
            assertThat(failure.paymentId()).matches("ch_[A-Za-z0-9]{24}");
            assertThat(failure.amountMinor()).isEqualTo(invoice.totalMinor());
            assertThat(failure.attemptCount()).isEqualTo(1);
            assertThat(failure.failureMessage()).isNotBlank();
            assertThat(failure.occurredOn()).isEqualTo(day(created + 7_200));

            JsonNode paidEvent = wire(factory.invoicePaid(stripeInvoice, created + 90_000));
            assertStripeEvent(paidEvent, "invoice.paid", eventIds);
            Payment payment = canonical("stripe/payment", paidEvent, Payment.class, null);
            assertThat(payment.status()).isEqualTo(Payment.SUCCEEDED);
            assertThat(payment.paymentId()).matches("ch_[A-Za-z0-9]{24}").isEqualTo(stripeInvoice.chargeId())
                    .isNotEqualTo(failure.paymentId());
            assertThat(payment.invoiceId()).isEqualTo(invoice.invoiceId());
            assertThat(payment.invoiceNumber()).isEqualTo(invoice.number());
            assertThat(payment.amountMinor()).isEqualTo(invoice.totalMinor());
            assertThat(payment.attemptCount()).isEqualTo(2);
            assertThat(payment.occurredOn()).isEqualTo(day(created + 90_000));
            assertThat(paidEvent.path("data").path("object").path("payment_intent").asText())
                    .matches("pi_[A-Za-z0-9]{24}")
                    .isEqualTo(failed.path("data").path("object").path("payment_intent").asText());

            // a refund carries no metadata: its entity and customer come from the payment it refunds
            BillingReferences.Reference paidBy = new BillingReferences.Reference(payment.paymentId(), spec.legalEntity(),
                    payment.customer().globalId(), payment.customer().systemId(), payment.invoiceId(),
                    payment.invoiceNumber());
            long refunded = 0;
            for (int r = 0; r < (i % 2 == 0 ? 2 : 1); r++) {
                long amount = 1 + random.nextInt((int) Math.max(1, stripeInvoice.refundableMinor() / 2));
                long at = created + 200_000 + r * 3_600L;
                JsonNode refundEvent = wire(factory.refundCreated(stripeInvoice, amount, at));
                assertStripeEvent(refundEvent, "refund.created", eventIds);
                assertThat(refundEvent.path("data").has("previous_attributes")).isFalse();
                Refund refund = canonical("stripe/refund", refundEvent, Refund.class, paidBy);
                assertThat(refund.refundId()).matches("re_[A-Za-z0-9]{24}");
                assertThat(refund.amountMinor()).isEqualTo(amount);
                assertThat(refund.status()).isEqualTo("SUCCEEDED");
                assertThat(refund.paymentId()).isEqualTo(payment.paymentId());
                assertThat(refund.invoiceId()).isEqualTo(invoice.invoiceId());
                assertThat(refund.currency()).isEqualTo(invoice.currency());
                assertThat(refund.customer()).isEqualTo(invoice.customer());
                assertThat(refund.occurredOn()).isEqualTo(day(at));
                refunded += amount;
                JsonNode charge = wire(factory.chargeRefunded(stripeInvoice, at)).path("data").path("object");
                assertThat(charge.path("amount_refunded").asLong()).isEqualTo(refunded);
                assertThat(charge.has("refunds")).as("Charge.refunds is not included since API 2022-11-15").isFalse();
                assertThat(charge.path("refunded").asBoolean()).isFalse();
            }
        }
        assertThat(eventIds).hasSize(N * 4 + N / 2);
    }

    @Test
    void taxIsRoundedHalfUpPerLine() {
        StripeEventFactory factory = new StripeEventFactory(1);
        // 7.25 % of 200 is 14.5: half-up gives 15 per line; rounding the invoice total instead would give 29
        StripeInvoice invoice = factory.issue(new InvoiceSpec("cus_A", "cust-1", "US01", "USD",
                List.of(new InvoiceSpec.Line("Widget", 1, 200), new InvoiceSpec.Line("2 x Gadget", 2, 200)),
                new BigDecimal("7.25"), 1_763_798_400L));

        assertThat(invoice.taxMinor()).isEqualTo(30);
        assertThat(invoice.totalMinor()).isEqualTo(430);
    }

    @Test
    void refundsAreBoundedByWhatWasPaid() {
        StripeEventFactory factory = new StripeEventFactory(1);
        StripeInvoice invoice = factory.issue(new InvoiceSpec("cus_A", "cust-1", "DE01", "EUR",
                List.of(new InvoiceSpec.Line("Plan", 1, 1_000)), new BigDecimal("19"), 1_763_798_400L));
        factory.invoiceFinalized(invoice, 1_763_802_000L);

        assertThatThrownBy(() -> factory.refundCreated(invoice, 100, 1_763_802_100L))
                .isInstanceOf(IllegalStateException.class);
        factory.invoicePaid(invoice, 1_763_805_600L);
        assertThatThrownBy(() -> factory.invoicePaid(invoice, 1_763_805_700L)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> factory.refundCreated(invoice, 1_191, 1_763_892_000L))
                .isInstanceOf(IllegalArgumentException.class);

        factory.refundCreated(invoice, 1_190, 1_763_892_000L);
        JsonNode charge = factory.chargeRefunded(invoice, 1_763_892_000L);
        assertThat(charge.path("data").path("object").path("refunded").asBoolean()).isTrue();
        assertThat(invoice.refundableMinor()).isZero();
    }

    @Test
    void generatedEventsHaveEveryFieldOfTheFixtures() throws IOException {
        StripeEventFactory factory = new StripeEventFactory(3);
        StripeInvoice invoice = factory.issue(new InvoiceSpec("cus_R8bDq3pX2mLk9a", "cust-000042", "DE01", "EUR",
                List.of(new InvoiceSpec.Line("1 x Pro plan (at EUR 80.00 / month)", 1, 8_000)),
                new BigDecimal("19"), 1_763_798_400L));
        StripeInvoice declined = factory.issue(invoice.spec());
        Map<String, JsonNode> generated = Map.of(
                "normalise-2024.fixtures/invoice-finalized.input.json", factory.invoiceFinalized(invoice, 1_763_802_000L),
                "normalise-2024.fixtures/invoice-paid.input.json", factory.invoicePaid(invoice, 1_763_805_600L),
                "normalise-2024.fixtures/refund-created.input.json", factory.refundCreated(invoice, 2_380, 1_763_892_000L));
        factory.invoiceFinalized(declined, 1_763_802_000L);
        JsonNode failed = factory.invoicePaymentFailed(declined, 1_763_805_700L);

        for (var entry : generated.entrySet()) {
            JsonNode fixture = JSON.readTree(FIXTURES.resolve(entry.getKey()).toFile());
            assertThat(paths(entry.getValue())).as(entry.getKey()).containsAll(paths(fixture));
            assertThat(entry.getValue().path("type").asText()).isEqualTo(fixture.path("type").asText());
        }
        JsonNode failedFixture = JSON.readTree(FIXTURES.resolve("normalise-2024.fixtures/invoice-payment-failed.input.json").toFile());
        assertThat(paths(failed)).containsAll(paths(failedFixture));
    }

    @Test
    void bytesArePrettyPrintedLikeStripeAndReproducibleFromTheSeed() throws IOException {
        byte[] first = StripeEventFactory.toBytes(sampleEvent(new StripeEventFactory(99)));
        byte[] second = StripeEventFactory.toBytes(sampleEvent(new StripeEventFactory(99)));
        String text = new String(first, StandardCharsets.UTF_8);

        assertThat(first).isEqualTo(second);
        assertThat(text).startsWith("{\n  \"id\": \"evt_").contains("\n  \"object\": \"event\",\n")
                .contains("\"total_discount_amounts\": [],").doesNotContain("\r");
        // compact form compared: parsing yields IntNodes where the factory built LongNodes
        assertThat(JSON.readTree(first).toString()).isEqualTo(sampleEvent(new StripeEventFactory(99)).toString());
        assertThat(StripeEventFactory.toBytes(sampleEvent(new StripeEventFactory(100)))).isNotEqualTo(first);
    }

    /**
     * The canonical object of a raw event, as the edge makes it: the 2024-06-20 normaliser, then the type's mapping,
     * with the legal entity and global customer id from the object's metadata or, for a refund, from its payment.
     */
    private static <T> T canonical(String mapping, JsonNode raw, Class<T> type, BillingReferences.Reference payment) {
        String id = raw.path("id").asText();
        JsonNode intermediate = ENGINE.get("stripe/normalise-2024").apply(raw, id);
        ObjectNode input = JSON.createObjectNode();
        input.set("event", intermediate);
        JsonNode metadata = raw.path("data").path("object").path("metadata");
        input.put("legalEntity", payment != null ? payment.legalEntity() : metadata.path("legal_entity").asText());
        input.put("globalCustomerId", payment != null ? payment.globalCustomerId()
                : metadata.path("global_customer_id").asText());
        if (payment != null) input.set("related", JSON.valueToTree(payment));
        return ENGINE.get(mapping).apply(input, type, id);
    }

    private static JsonNode sampleEvent(StripeEventFactory factory) {
        StripeInvoice invoice = factory.issue(new InvoiceSpec(factory.newCustomerId(), "cust-000001", "FR01", "eur",
                List.of(new InvoiceSpec.Line("Plan", 1, 1_000)), new BigDecimal("20"), 1_763_798_400L));
        return factory.invoiceFinalized(invoice, 1_763_802_000L);
    }

    private static InvoiceSpec randomSpec(Random random, StripeEventFactory factory, int i) {
        Object[] entity = ENTITIES.get(i % ENTITIES.size());
        List<InvoiceSpec.Line> lines = new ArrayList<>();
        for (int l = 0, n = 1 + random.nextInt(4); l < n; l++) {
            long quantity = 1 + random.nextInt(5);
            lines.add(new InvoiceSpec.Line(quantity + " x Product " + random.nextInt(8) + " (at list price / month)",
                    quantity, quantity * (1 + random.nextInt(99_999))));
        }
        long created = 1_700_000_000L + random.nextInt(60_000_000);
        return new InvoiceSpec(factory.newCustomerId(), String.format("cust-%06d", i), (String) entity[0],
                (String) entity[1], lines, new BigDecimal((String) entity[2]), created);
    }

    private static JsonNode wire(JsonNode event) throws IOException {
        return JSON.readTree(StripeEventFactory.toBytes(event));
    }

    private static void assertStripeEvent(JsonNode event, String type, Set<String> seenIds) {
        assertThat(event.path("id").asText()).matches("evt_[A-Za-z0-9]{24}");
        assertThat(seenIds.add(event.path("id").asText())).as("unique event id").isTrue();
        assertThat(event.path("object").asText()).isEqualTo("event");
        assertThat(event.path("type").asText()).isEqualTo(type);
        assertThat(event.path("api_version").asText()).isEqualTo(StripeEventFactory.API_VERSION);
        assertThat(event.path("livemode").asBoolean(true)).isFalse();
    }

    private static String day(long epochSeconds) {
        return LocalDate.ofInstant(Instant.ofEpochSecond(epochSeconds), ZoneOffset.UTC).toString();
    }

    /** Every field path in the tree, array elements merged under {@code []}. */
    private static Set<String> paths(JsonNode node) {
        Set<String> out = new TreeSet<>();
        collect(node, "", out);
        return out;
    }

    private static void collect(JsonNode node, String prefix, Set<String> out) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String path = prefix + "." + field.getKey();
                out.add(path);
                collect(field.getValue(), path, out);
            }
        } else if (node.isArray()) {
            node.forEach(element -> collect(element, prefix + "[]", out));
        }
    }
}
