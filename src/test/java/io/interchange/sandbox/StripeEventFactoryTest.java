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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import io.interchange.model.LedgerLine;
import io.interchange.model.LedgerPosting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class StripeEventFactoryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final MappingEngine ENGINE = MappingEngine.load(MappingSource.directory(Path.of("mappings")));
    private static final int N = 200;
    private static final long DAY = 86_400;
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

    static Stream<String> apiVersions() {
        return StripeEventFactory.API_VERSIONS.stream();
    }

    /**
     * Each kind of event the factory makes, beside the fixture of the same case in its version's family (shapes from
     * Stripe's published types): it has every field the fixture has, and no field that no fixture of the family has
     * for that object (a field the version does not have).
     */
    @ParameterizedTest
    @MethodSource("apiVersions")
    void generatedEventsHaveEveryFieldOfTheFixturesOfTheirVersion(String version) {
        String family = LedgerReplay.family(version);
        Map<String, List<JsonNode>> generated = new LinkedHashMap<>();
        StripeEventFactory f = new StripeEventFactory(5, version);
        long t = 1_763_798_400L;

        // a subscription's invoice naming its entity in the subscription only, paid, refunded, credited with a refund
        StripeInvoice subscription = f.issue(new InvoiceSpec("cus_R8bDq3pX2mLk9a", "cust-000042", "FR01", "EUR",
                List.of(new InvoiceSpec.Line("3 x Team plan (at EUR 49.00 / month)", 3, 14_700)), new BigDecimal("20"), t,
                InvoiceSpec.Kind.SUBSCRIPTION, false, BigDecimal.ZERO));
        add(generated, "invoice-finalized-subscription", f.invoiceFinalized(subscription, t + 3_600));
        for (ObjectNode e : f.payInFull(subscription, t + 3_700)) {
            add(generated, e.path("type").asText().equals("invoice.paid") ? "invoice-paid" : "invoice-payment-paid", e);
        }
        add(generated, "refund-created", f.refundCreated(subscription, 1_000, t + 4_000));
        add(generated, "charge-refunded", f.chargeRefunded(subscription, t + 4_000));
        for (ObjectNode e : f.creditNoteCreated(subscription, 0, 1, t + 5_000)) {
            add(generated, switch (e.path("type").asText()) {
                case "credit_note.created" -> "credit-note-created-post-payment";
                case "refund.created" -> "refund-created";
                default -> "charge-refunded";
            }, e);
        }
        // a one-off invoice at a manual tax rate, credited before payment, paid in two parts (from basil)
        StripeInvoice oneOff = f.issue(new InvoiceSpec("cus_9tMo6UddYDe5M6", "cust-000043", "GB01", "GBP",
                List.of(new InvoiceSpec.Line("Annual support plan", 1, 120_000),
                        new InvoiceSpec.Line("2 x Onboarding workshop (at GBP 150.00 / day)", 2, 30_000)),
                new BigDecimal("20"), t, InvoiceSpec.Kind.ONE_OFF, true, BigDecimal.ZERO));
        add(generated, "invoice-finalized-basic", f.invoiceFinalized(oneOff, t + 3_600));
        f.creditNoteCreated(oneOff, 1, 1, t + 4_000).forEach(e -> add(generated, "credit-note-created-pre-payment", e));
        if (f.invoicePayments()) {
            add(generated, "invoice-payment-paid-partial-1", f.invoicePaymentPaid(oneOff, 50_000, t + 5_000));
            add(generated, "invoice-payment-paid-partial-2",
                    f.invoicePaymentPaid(oneOff, oneOff.amountRemainingMinor(), t + 6_000));
            add(generated, "invoice-paid", f.invoicePaid(oneOff, t + 6_000));
        }
        // a discounted US invoice written off, a voided one, a declined one, disputes won and lost
        StripeInvoice discounted = f.issue(new InvoiceSpec("cus_Qn0DEsL1DXqiFG", "cust-000044", "US01", "USD",
                List.of(new InvoiceSpec.Line("Analytics seats", 1, 50_000), new InvoiceSpec.Line("Add-on", 1, 25_000)),
                new BigDecimal("8.25"), t, InvoiceSpec.Kind.ONE_OFF, true, new BigDecimal("20")));
        f.invoiceFinalized(discounted, t + 3_600);
        add(generated, "invoice-marked-uncollectible", f.invoiceMarkedUncollectible(discounted, t + 90_000));
        StripeInvoice voided = f.issue(oneOff.spec());
        f.invoiceFinalized(voided, t + 3_600);
        add(generated, "invoice-voided", f.invoiceVoided(voided, t + 7_200));
        StripeInvoice declined = f.issue(subscription.spec());
        f.invoiceFinalized(declined, t + 3_600);
        add(generated, "invoice-payment-failed", f.invoicePaymentFailed(declined, t + 7_200));
        f.payInFull(declined, t + 90_000);
        add(generated, "charge-dispute-created", f.chargeDisputeCreated(declined, t + 100_000));
        add(generated, "charge-dispute-funds-withdrawn", f.chargeDisputeFundsWithdrawn(declined, t + 100_000));
        add(generated, "charge-dispute-funds-reinstated", f.chargeDisputeFundsReinstated(declined, t + 900_000));
        add(generated, "charge-dispute-closed-won", f.chargeDisputeClosed(declined, t + 900_001));
        StripeInvoice lost = f.issue(subscription.spec());
        f.invoiceFinalized(lost, t + 3_600);
        f.payInFull(lost, t + 7_200);
        f.chargeDisputeCreated(lost, t + 100_000);
        add(generated, "charge-dispute-closed-lost", f.chargeDisputeClosed(lost, t + 900_000));

        Map<String, Set<String>> known = LedgerReplay.fixturePaths(family);
        for (var entry : generated.entrySet()) {
            JsonNode fixture = LedgerReplay.fixture(family, entry.getKey());
            String what = version + " " + entry.getKey();
            assertThat(LedgerReplay.paths(entry.getValue())).as("fields of %s", what)
                    .containsAll(LedgerReplay.paths(fixture));
            for (JsonNode event : entry.getValue()) {
                assertThat(event.path("api_version").asText()).as(what).isEqualTo(version);
                assertThat(LedgerReplay.objectOf(event)).as(what).isEqualTo(LedgerReplay.objectOf(fixture));
                assertThat(known.get(LedgerReplay.objectOf(event))).as("no field %s has not got, in %s", family, what)
                        .containsAll(LedgerReplay.paths(event));
            }
            assertThat(entry.getValue()).extracting(e -> e.path("type").asText()).as(what)
                    .contains(fixture.path("type").asText());
        }
        assertThat(generated).hasSize(f.invoicePayments() ? 18 : 15);
    }

    /**
     * Whole invoice lifecycles in each version through the runtime's own translation and posting rules: every event is
     * published (or, as the runtime means to, acknowledged without effect), never parked or refused; it names the
     * billed customer's legal entity, found by the rule the version allows; every posting is balanced and carries
     * Stripe's amounts; and what an invoice's postings leave on the receivable, the bank and output tax is what Stripe
     * says remains owed, was collected, and was taxed.
     */
    @ParameterizedTest
    @MethodSource("apiVersions")
    void generatedLifecyclesTranslateAndPostAsStripeComputesThem(String version) {
        StripeEventFactory f = new StripeEventFactory(23, version);
        Random random = new Random(29);
        List<StripeInvoice> invoices = new ArrayList<>();
        Map<String, Long> bank = new HashMap<>();
        Map<String, Long> tax = new HashMap<>();
        Set<String> postedKinds = new TreeSet<>();
        Set<String> rules = new TreeSet<>();
        int events = 0;
        try (LedgerReplay replay = new LedgerReplay()) {
            for (int i = 0; i < 48; i++) {
                Object[] entity = ENTITIES.get(i % ENTITIES.size());
                int script = (i / ENTITIES.size()) % 6;
                InvoiceSpec.Kind billing = script % 2 == 0 ? InvoiceSpec.Kind.SUBSCRIPTION : InvoiceSpec.Kind.ONE_OFF;
                List<InvoiceSpec.Line> lines = new ArrayList<>();
                for (int l = 0, n = 1 + random.nextInt(3); l < n; l++) {
                    long quantity = 1 + random.nextInt(4);
                    lines.add(new InvoiceSpec.Line(quantity + " x Product " + l, quantity,
                            quantity * (500 + random.nextInt(40_000)), l == 2));
                }
                InvoiceSpec spec = new InvoiceSpec(f.newCustomerId(), String.format("cust-%06d", i), (String) entity[0],
                        (String) entity[1], lines, new BigDecimal((String) entity[2]), 1_763_798_400L + i * 7_200L, billing,
                        billing == InvoiceSpec.Kind.ONE_OFF || i < 24, BigDecimal.valueOf(i % 3 == 0 ? 20 : 0));
                StripeInvoice invoice = f.issue(spec);
                invoices.add(invoice);
                long at = spec.createdEpochSeconds() + 3_600;
                List<ObjectNode> lifecycle = new ArrayList<>();
                lifecycle.add(f.invoiceFinalized(invoice, at));
                switch (script) {
                    case 0 -> { // declined, paid, refunded, credited with a refund
                        lifecycle.add(f.invoicePaymentFailed(invoice, at + 60));
                        lifecycle.addAll(f.payInFull(invoice, at + 3 * DAY));
                        lifecycle.add(f.refundCreated(invoice, invoice.refundableMinor() / 4, at + 4 * DAY));
                        lifecycle.add(f.chargeRefunded(invoice, at + 4 * DAY));
                        lifecycle.addAll(f.creditNoteCreated(invoice, 0, 1, at + 5 * DAY));
                    }
                    case 1 -> { // credited before payment, paid (in two parts from basil), disputed and lost
                        lifecycle.addAll(f.creditNoteCreated(invoice, 0, 1, at + DAY));
                        if (f.invoicePayments()) {
                            lifecycle.add(f.invoicePaymentPaid(invoice, invoice.amountRemainingMinor() / 3, at + 2 * DAY));
                        }
                        lifecycle.addAll(f.payInFull(invoice, at + 3 * DAY));
                        lifecycle.add(f.chargeDisputeCreated(invoice, at + 20 * DAY));
                        lifecycle.add(f.chargeDisputeFundsWithdrawn(invoice, at + 20 * DAY));
                        lifecycle.add(f.chargeDisputeClosed(invoice, at + 60 * DAY));
                    }
                    case 2 -> { // paid, disputed and won
                        lifecycle.addAll(f.payInFull(invoice, at + 60));
                        lifecycle.add(f.chargeDisputeCreated(invoice, at + 20 * DAY));
                        lifecycle.add(f.chargeDisputeFundsWithdrawn(invoice, at + 20 * DAY));
                        lifecycle.add(f.chargeDisputeFundsReinstated(invoice, at + 60 * DAY));
                        lifecycle.add(f.chargeDisputeClosed(invoice, at + 60 * DAY + 1));
                    }
                    case 3 -> lifecycle.add(f.invoiceVoided(invoice, at + DAY));
                    case 4 -> { // declined until Stripe gives up
                        for (int attempt = 0; attempt < 4; attempt++) {
                            lifecycle.add(f.invoicePaymentFailed(invoice, at + attempt * 3 * DAY));
                        }
                        lifecycle.add(f.invoiceMarkedUncollectible(invoice, at + 13 * DAY));
                    }
                    default -> { // paid in part (from basil), the rest written off; or left open
                        if (f.invoicePayments()) {
                            lifecycle.add(f.invoicePaymentPaid(invoice, invoice.amountRemainingMinor() / 2, at + DAY));
                        }
                        if (i % 2 == 1) {
                            lifecycle.add(f.invoiceMarkedUncollectible(invoice, at + 40 * DAY));
                        }
                    }
                }
                for (ObjectNode event : lifecycle) {
                    events++;
                    String type = event.path("type").asText();
                    JsonNode object = event.path("data").path("object");
                    LedgerReplay.Outcome outcome = replay.apply(event);
                    boolean ignored = type.equals("charge.refunded") || type.equals("invoice.paid") && f.invoicePayments();
                    assertThat(outcome.ignored()).as("%s %s ignored", version, type).isEqualTo(ignored);
                    if (ignored) {
                        continue;
                    }
                    assertThat(outcome.envelope().legalEntity()).as(type).isEqualTo(spec.legalEntity());
                    assertThat(outcome.envelope().subject()).as(type).isEqualTo(spec.globalCustomerId());
                    String rule = outcome.envelope().legalEntityRule();
                    rules.add(rule);
                    if (object.path("object").asText().equals("invoice")) {
                        assertThat(rule).as(type).isEqualTo(spec.entityInInvoiceMetadata() ? "object.metadata"
                                : "subscription.metadata");
                    } else {
                        assertThat(rule).as("%s: Stripe copies no metadata to it", type).isEqualTo("related-object");
                    }
                    LedgerPosting posting = outcome.posting();
                    String kind = expectedKind(type, object);
                    if (kind == null) {
                        assertThat(posting).as("%s %s has no ledger effect", version, type).isNull();
                        continue;
                    }
                    assertThat(posting).as("%s %s posts", version, type).isNotNull();
                    assertThat(posting.kind()).isEqualTo(kind);
                    assertThat(posting.imbalanceMinor()).as("%s %s balanced", version, type).isZero();
                    assertThat(posting.currency()).isEqualTo(spec.currency());
                    postedKinds.add(kind);
                    long stripeAmount = switch (kind) {
                        case "INVOICE", "INVOICE_REVERSAL", "CREDIT_NOTE" -> object.path("total").asLong();
                        case "PAYMENT" -> object.path("amount_paid").asLong();
                        case "WRITE_OFF" -> object.path("amount_remaining").asLong();
                        case "DISPUTE_WITHDRAWAL" -> object.path("amount").asLong() + StripeEventFactory.DISPUTE_FEE_MINOR;
                        default -> object.path("amount").asLong();
                    };
                    // where Stripe's amount goes: the receivable, the bank, or (refunded credit notes) the refunds account
                    String[] where = switch (kind) {
                        case "INVOICE" -> new String[] {LedgerReplay.RECEIVABLE, LedgerLine.DEBIT};
                        case "INVOICE_REVERSAL", "WRITE_OFF" -> new String[] {LedgerReplay.RECEIVABLE, LedgerLine.CREDIT};
                        case "CREDIT_NOTE" -> new String[] {object.path("type").asText().equals("pre_payment")
                                ? LedgerReplay.RECEIVABLE : "41100000", LedgerLine.CREDIT};
                        case "PAYMENT", "DISPUTE_REINSTATEMENT" -> new String[] {LedgerReplay.BANK, LedgerLine.DEBIT};
                        case "REFUND", "DISPUTE_WITHDRAWAL" -> new String[] {LedgerReplay.BANK, LedgerLine.CREDIT};
                        default -> new String[] {"65200000", LedgerLine.DEBIT}; // chargeback loss
                    };
                    assertThat(posting.lines().stream().filter(l -> l.account().equals(where[0]) && l.side().equals(where[1]))
                            .mapToLong(LedgerLine::amountMinor).sum())
                            .as("%s %s posts Stripe's amount on %s", version, type, where[0]).isEqualTo(stripeAmount);
                    long moved = stripeAmount;
                    long b = switch (kind) {
                        case "PAYMENT", "DISPUTE_REINSTATEMENT" -> moved;
                        case "REFUND", "DISPUTE_WITHDRAWAL" -> -moved;
                        default -> 0;
                    };
                    bank.merge(invoice.id(), b, Long::sum);
                    long t = switch (kind) {
                        case "INVOICE" -> -taxOf(object);
                        case "INVOICE_REVERSAL", "CREDIT_NOTE" -> taxOf(object);
                        default -> 0;
                    };
                    tax.merge(invoice.id(), t, Long::sum);
                }
            }
            for (StripeInvoice invoice : invoices) {
                String what = version + " " + invoice.id() + " (" + invoice.status() + ")";
                assertThat(replay.net(invoice.id(), LedgerReplay.RECEIVABLE)).as("receivable of %s", what)
                        .isEqualTo(invoice.open() ? invoice.amountRemainingMinor() : 0);
                assertThat(replay.net(invoice.id(), LedgerReplay.BANK)).as("bank of %s", what)
                        .isEqualTo(bank.getOrDefault(invoice.id(), 0L));
                assertThat(replay.net(invoice.id(), LedgerReplay.OUTPUT_TAX)).as("output tax of %s", what)
                        .isEqualTo(tax.getOrDefault(invoice.id(), 0L));
            }
        }
        assertThat(postedKinds).containsExactlyInAnyOrder("INVOICE", "INVOICE_REVERSAL", "WRITE_OFF", "PAYMENT", "REFUND",
                "CREDIT_NOTE", "DISPUTE_WITHDRAWAL", "DISPUTE_REINSTATEMENT", "DISPUTE_LOSS");
        assertThat(rules).containsExactlyInAnyOrder("object.metadata", "subscription.metadata", "related-object");
        assertThat(events).isGreaterThan(200);
    }

    /** The posting the runtime's accounting makes of a Stripe event, or null for none. */
    private static String expectedKind(String type, JsonNode object) {
        return switch (type) {
            case "invoice.finalized" -> "INVOICE";
            case "invoice.voided" -> "INVOICE_REVERSAL";
            case "invoice.marked_uncollectible" -> object.path("amount_remaining").asLong() > 0 ? "WRITE_OFF" : null;
            case "invoice.paid", "invoice_payment.paid" -> "PAYMENT";
            case "refund.created" -> "REFUND";
            case "credit_note.created" -> "CREDIT_NOTE";
            case "charge.dispute.funds_withdrawn" -> "DISPUTE_WITHDRAWAL";
            case "charge.dispute.funds_reinstated" -> "DISPUTE_REINSTATEMENT";
            case "charge.dispute.closed" -> object.path("status").asText().equals("lost") ? "DISPUTE_LOSS" : null;
            default -> null; // invoice.payment_failed, charge.dispute.created
        };
    }

    /** The tax of an invoice or credit note, as Stripe lists it in this version. */
    private static long taxOf(JsonNode object) {
        long sum = 0;
        for (String field : List.of("total_tax_amounts", "total_taxes", "tax_amounts")) {
            if (object.path("object").asText().equals("invoice") && field.equals("tax_amounts")) continue;
            for (JsonNode t : object.path(field)) sum += t.path("amount").asLong();
        }
        return sum;
    }

    private static void add(Map<String, List<JsonNode>> generated, String fixture, JsonNode event) {
        generated.computeIfAbsent(fixture, k -> new ArrayList<>()).add(event);
    }

    @Test
    void bytesArePrettyPrintedLikeStripeAndReproducibleFromTheSeed() throws IOException {
        byte[] first = StripeEventFactory.toBytes(sampleEvent(new StripeEventFactory(99)));
        byte[] second = StripeEventFactory.toBytes(sampleEvent(new StripeEventFactory(99)));
        String text = new String(first, StandardCharsets.UTF_8);

        assertThat(first).isEqualTo(second);
        assertThat(text).startsWith("{\n  \"id\": \"evt_").contains("\n  \"object\": \"event\",\n")
                .contains("\"discounts\": [],").contains("\"metadata\": {},").doesNotContain("\r");
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
}
