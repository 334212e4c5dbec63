package io.interchange.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * Builds Stripe webhook events (API version {@value #API_VERSION}) about simulated invoices, shaped like the samples in
 * {@code mappings/stripe/*.fixtures}; not thread-safe, and reproducible for a given {@link Random} seed.
 */
public final class StripeEventFactory {

    public static final String API_VERSION = "2024-06-20";

    private static final ObjectMapper JSON = new ObjectMapper();
    // Stripe delivers pretty-printed bodies; receivers must verify the raw bytes, so the sandbox sends the same shape.
    private static final ObjectWriter STRIPE_STYLE = JSON.writer(stripePrettyPrinter());
    private static final String ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final String UPPER_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private static final Pattern QUANTITY_AND_PRICE = Pattern.compile("^\\d+ x | \\(at .*\\)$");
    private static final long DAY = 86_400;
    private static final Map<String, String> ACCOUNT_NAMES = Map.of(
            "DE", "Acme Software GmbH", "US", "Acme Software Inc.", "GB", "Acme Software Ltd", "FR", "Acme Software SAS");

    /**
     * What to invoice: one customer of one legal entity, tax-exclusive lines at a single tax rate.
     *
     * @param globalCustomerId {@code metadata.global_customer_id}, or null to leave it out
     * @param legalEntity      {@code metadata.legal_entity}, e.g. {@code DE01}; not validated, so it can be unknown
     * @param currency         ISO 4217 code in any case (Stripe sends it lower-case)
     */
    public record InvoiceSpec(String customerId, String globalCustomerId, String legalEntity, String currency,
                              List<Line> lines, BigDecimal taxRatePercent, long createdEpochSeconds) {

        /** One line: its description, quantity and amount (quantity times unit price) in minor units. */
        public record Line(String description, long quantity, long amountMinor) {
            public Line {
                Objects.requireNonNull(description, "description");
                if (quantity < 1 || amountMinor < 0) {
                    throw new IllegalArgumentException("quantity >= 1 and amountMinor >= 0 required: " + description);
                }
            }
        }

        public InvoiceSpec {
            if (customerId == null || customerId.isBlank() || legalEntity == null || legalEntity.isBlank()) {
                throw new IllegalArgumentException("customerId and legalEntity are required");
            }
            if (currency == null || !currency.matches("[A-Za-z]{3}")) {
                throw new IllegalArgumentException("currency must be a 3-letter ISO code: " + currency);
            }
            lines = List.copyOf(lines);
            if (lines.isEmpty()) {
                throw new IllegalArgumentException("an invoice needs at least one line");
            }
            if (taxRatePercent == null || taxRatePercent.signum() < 0) {
                throw new IllegalArgumentException("taxRatePercent must be >= 0");
            }
        }
    }

    /** One invoice as the simulated platform holds it: its ids, amounts, and what has happened to it so far. */
    public static final class StripeInvoice {
        private final InvoiceSpec spec;
        private final String id;
        private final String number;
        private final String subscriptionId;
        private final String taxRateId;
        private final List<String> lineIds;
        private final List<String> productIds;
        private final List<String> priceIds;
        private final long[] lineTax;
        private final long subtotal;
        private final long tax;
        private Long finalizedAt;
        private Long paidAt;
        private int attemptCount;
        private String paymentIntentId;
        private String chargeId;
        private long amountRefunded;
        private final List<ObjectNode> refunds = new ArrayList<>();

        private StripeInvoice(InvoiceSpec spec, String id, String number, String subscriptionId, String taxRateId,
                              List<String> lineIds, List<String> productIds, List<String> priceIds, long[] lineTax) {
            this.spec = spec;
            this.id = id;
            this.number = number;
            this.subscriptionId = subscriptionId;
            this.taxRateId = taxRateId;
            this.lineIds = lineIds;
            this.productIds = productIds;
            this.priceIds = priceIds;
            this.lineTax = lineTax;
            this.subtotal = spec.lines().stream().mapToLong(InvoiceSpec.Line::amountMinor).sum();
            this.tax = Arrays.stream(lineTax).sum();
        }

        public InvoiceSpec spec() {
            return spec;
        }

        public String id() {
            return id;
        }

        public String number() {
            return number;
        }

        public long subtotalMinor() {
            return subtotal;
        }

        public long taxMinor() {
            return tax;
        }

        public long totalMinor() {
            return subtotal + tax;
        }

        public int attemptCount() {
            return attemptCount;
        }

        public boolean paid() {
            return paidAt != null;
        }

        /** The charge that paid the invoice, or null while unpaid (or paid without a charge, at a total of zero). */
        public String chargeId() {
            return paid() ? chargeId : null;
        }

        public long amountRefundedMinor() {
            return amountRefunded;
        }

        /** What can still be refunded: zero unless paid by a charge. */
        public long refundableMinor() {
            return chargeId() == null ? 0 : totalMinor() - amountRefunded;
        }
    }

    private final Random random;
    private final Map<String, String> invoicePrefixes = new HashMap<>();
    private final Map<String, Integer> invoiceSequences = new HashMap<>();
    private final Map<String, String> subscriptions = new HashMap<>();
    private final Map<String, String> taxRates = new HashMap<>();
    private final Map<String, String> products = new HashMap<>();
    private final Map<String, String> prices = new HashMap<>();

    public StripeEventFactory(Random random) {
        this.random = Objects.requireNonNull(random, "random");
    }

    public StripeEventFactory(long seed) {
        this(new Random(seed));
    }

    /** A new id in Stripe's form: the prefix (e.g. {@code evt_}, {@code in_}, {@code ch_}) and 24 alphanumerics. */
    public String newId(String prefix) {
        return prefix + random(ALPHANUMERIC, 24);
    }

    /** A new customer id, {@code cus_} and 14 alphanumerics. */
    public String newCustomerId() {
        return "cus_" + random(ALPHANUMERIC, 14);
    }

    /** Creates a draft invoice: allocates its ids and number and computes tax per line, rounded half-up. */
    public StripeInvoice issue(InvoiceSpec spec) {
        String currency = spec.currency().toLowerCase(Locale.ROOT);
        String prefix = invoicePrefixes.computeIfAbsent(spec.customerId(), c -> random(UPPER_ALPHANUMERIC, 8));
        int sequence = invoiceSequences.merge(spec.customerId(), 1, Integer::sum);
        BigDecimal rate = spec.taxRatePercent().stripTrailingZeros();
        String taxRateId = taxRates.computeIfAbsent(spec.legalEntity() + "|" + rate.toPlainString(), k -> newId("txr_"));
        List<String> lineIds = new ArrayList<>();
        List<String> productIds = new ArrayList<>();
        List<String> priceIds = new ArrayList<>();
        long[] lineTax = new long[spec.lines().size()];
        for (int i = 0; i < lineTax.length; i++) {
            InvoiceSpec.Line line = spec.lines().get(i);
            String product = products.computeIfAbsent(QUANTITY_AND_PRICE.matcher(line.description()).replaceAll(""),
                    name -> "prod_" + random(ALPHANUMERIC, 14));
            productIds.add(product);
            priceIds.add(prices.computeIfAbsent(product + "|" + currency + "|" + unitAmount(line),
                    k -> newId("price_")));
            lineIds.add(newId("il_"));
            lineTax[i] = BigDecimal.valueOf(line.amountMinor()).multiply(rate).movePointLeft(2)
                    .setScale(0, RoundingMode.HALF_UP).longValueExact();
        }
        return new StripeInvoice(spec, newId("in_"), prefix + "-" + String.format(Locale.ROOT, "%04d", sequence),
                subscriptions.computeIfAbsent(spec.customerId(), c -> newId("sub_")), taxRateId,
                List.copyOf(lineIds), List.copyOf(productIds), List.copyOf(priceIds), lineTax);
    }

    /** {@code invoice.finalized}: the invoice becomes open at {@code at} (epoch seconds). */
    public ObjectNode invoiceFinalized(StripeInvoice invoice, long at) {
        if (invoice.finalizedAt != null) {
            throw new IllegalStateException("invoice " + invoice.id + " is already finalized");
        }
        invoice.finalizedAt = at;
        return event("invoice.finalized", at, invoiceObject(invoice), null);
    }

    /** {@code invoice.paid}: an automatic collection attempt charged the customer successfully at {@code at}. */
    public ObjectNode invoicePaid(StripeInvoice invoice, long at) {
        requireOpen(invoice);
        if (invoice.totalMinor() > 0) {
            attempt(invoice);
        }
        invoice.paidAt = at;
        return event("invoice.paid", at, invoiceObject(invoice), null);
    }

    /** {@code invoice.payment_failed}: an automatic collection attempt was declined at {@code at}; Stripe retries later. */
    public ObjectNode invoicePaymentFailed(StripeInvoice invoice, long at) {
        requireOpen(invoice);
        if (invoice.totalMinor() == 0) {
            throw new IllegalStateException("invoice " + invoice.id + " totals zero; there is nothing to charge");
        }
        attempt(invoice);
        ObjectNode object = invoiceObject(invoice);
        object.put("next_payment_attempt", at + 3 * DAY);
        object.putNull("last_finalization_error");
        return event("invoice.payment_failed", at, object, null);
    }

    /**
     * {@code refund.created}: a refund of {@code amountMinor} of the charge that paid the invoice, as its own Refund
     * object. Stripe copies no metadata to it: its legal entity is found through the payment it refunds.
     */
    public ObjectNode refundCreated(StripeInvoice invoice, long amountMinor, long at) {
        if (invoice.chargeId() == null) {
            throw new IllegalStateException("invoice " + invoice.id + " was not paid by a charge");
        }
        if (amountMinor <= 0 || amountMinor > invoice.refundableMinor()) {
            throw new IllegalArgumentException("refund of " + amountMinor + " outside 1.." + invoice.refundableMinor());
        }
        ObjectNode refund = JSON.createObjectNode();
        refund.put("id", newId("re_"));
        refund.put("object", "refund");
        refund.put("amount", amountMinor);
        refund.put("balance_transaction", newId("txn_"));
        refund.put("charge", invoice.chargeId);
        refund.put("created", at);
        refund.put("currency", currency(invoice));
        refund.putNull("destination_details");
        refund.putObject("metadata");
        refund.put("payment_intent", invoice.paymentIntentId);
        refund.put("reason", "requested_by_customer");
        refund.putNull("receipt_number");
        refund.putNull("source_transfer_reversal");
        refund.put("status", "succeeded");
        refund.putNull("transfer_reversal");
        invoice.refunds.add(0, refund);
        invoice.amountRefunded += amountMinor;
        return event("refund.created", at, refund, null);
    }

    /**
     * {@code charge.refunded}: the charge after a refund, as Stripe sends it since API 2022-11-15: the cumulative
     * {@code amount_refunded}, no embedded refunds and no {@code previous_attributes}. Sent beside
     * {@link #refundCreated}, which carries the refund itself.
     */
    public ObjectNode chargeRefunded(StripeInvoice invoice, long at) {
        if (invoice.chargeId() == null || invoice.amountRefunded == 0) {
            throw new IllegalStateException("invoice " + invoice.id + " has no refunded charge");
        }
        return event("charge.refunded", at, chargeObject(invoice), null);
    }

    /** The event as Stripe sends it on the wire: UTF-8, pretty-printed with two-space indentation. */
    public static byte[] toBytes(JsonNode event) {
        try {
            return STRIPE_STYLE.writeValueAsBytes(event);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void requireOpen(StripeInvoice invoice) {
        if (invoice.finalizedAt == null || invoice.paidAt != null) {
            throw new IllegalStateException("invoice " + invoice.id + " is not open");
        }
    }

    private void attempt(StripeInvoice invoice) {
        invoice.attemptCount++;
        if (invoice.paymentIntentId == null) {
            invoice.paymentIntentId = newId("pi_");
        }
        invoice.chargeId = newId("ch_"); // every attempt creates a charge, declined or not
    }

    private ObjectNode event(String type, long created, ObjectNode object, ObjectNode previousAttributes) {
        ObjectNode event = JSON.createObjectNode();
        event.put("id", newId("evt_"));
        event.put("object", "event");
        event.put("api_version", API_VERSION);
        event.put("created", created);
        ObjectNode data = event.putObject("data");
        data.set("object", object);
        if (previousAttributes != null) {
            data.set("previous_attributes", previousAttributes);
        }
        event.put("livemode", false);
        event.put("pending_webhooks", 1);
        ObjectNode request = event.putObject("request");
        request.putNull("id");
        request.putNull("idempotency_key");
        event.put("type", type);
        return event;
    }

    private ObjectNode invoiceObject(StripeInvoice inv) {
        InvoiceSpec spec = inv.spec;
        String currency = currency(inv);
        boolean paid = inv.paid();
        long total = inv.totalMinor();
        String country = accountCountry(spec.legalEntity());

        ObjectNode o = JSON.createObjectNode();
        o.put("id", inv.id);
        o.put("object", "invoice");
        o.put("account_country", country);
        o.put("account_name", ACCOUNT_NAMES.getOrDefault(country, "Acme Software"));
        o.put("amount_due", total);
        o.put("amount_paid", paid ? total : 0);
        o.put("amount_remaining", paid ? 0 : total);
        o.put("attempt_count", inv.attemptCount);
        o.put("attempted", inv.attemptCount > 0);
        o.put("billing_reason", "subscription_cycle");
        o.put("charge", inv.chargeId);
        o.put("collection_method", "charge_automatically");
        o.put("created", spec.createdEpochSeconds());
        o.put("currency", currency);
        o.put("customer", spec.customerId());
        String who = spec.globalCustomerId() != null ? spec.globalCustomerId() : spec.customerId();
        o.put("customer_email", "billing+" + who + "@example.com");
        o.put("customer_name", "Customer " + who);
        o.putNull("due_date");
        o.put("livemode", false);
        o.set("metadata", metadata(spec));
        o.put("number", inv.number);
        o.put("paid", paid);
        o.put("payment_intent", inv.paymentIntentId);
        o.put("period_end", spec.createdEpochSeconds());
        o.put("period_start", spec.createdEpochSeconds() - 30 * DAY);
        o.put("status", paid ? "paid" : "open");
        ObjectNode transitions = o.putObject("status_transitions");
        transitions.put("finalized_at", inv.finalizedAt);
        transitions.putNull("marked_uncollectible_at");
        transitions.put("paid_at", inv.paidAt);
        transitions.putNull("voided_at");
        o.put("subscription", inv.subscriptionId);
        o.put("subtotal", inv.subtotal);
        o.put("subtotal_excluding_tax", inv.subtotal);
        o.put("tax", inv.tax);
        o.put("total", total);
        o.put("total_excluding_tax", inv.subtotal);
        o.putArray("total_discount_amounts");
        ObjectNode totalTax = o.putArray("total_tax_amounts").addObject();
        totalTax.put("amount", inv.tax);
        totalTax.put("inclusive", false);
        totalTax.put("tax_rate", inv.taxRateId);
        totalTax.put("taxability_reason", spec.taxRatePercent().signum() == 0 ? "zero_rated" : "standard_rated");
        totalTax.put("taxable_amount", inv.subtotal);

        ObjectNode lines = o.putObject("lines");
        lines.put("object", "list");
        ArrayNode data = lines.putArray("data");
        for (int i = 0; i < spec.lines().size(); i++) {
            InvoiceSpec.Line line = spec.lines().get(i);
            ObjectNode l = data.addObject();
            l.put("id", inv.lineIds.get(i));
            l.put("object", "line_item");
            l.put("amount", line.amountMinor());
            l.put("currency", currency);
            l.put("description", line.description());
            ObjectNode period = l.putObject("period");
            period.put("end", spec.createdEpochSeconds() + 30 * DAY);
            period.put("start", spec.createdEpochSeconds());
            ObjectNode price = l.putObject("price");
            price.put("id", inv.priceIds.get(i));
            price.put("object", "price");
            price.put("currency", currency);
            price.put("product", inv.productIds.get(i));
            price.put("unit_amount", unitAmount(line));
            l.put("proration", false);
            l.put("quantity", line.quantity());
            ObjectNode lineTax = l.putArray("tax_amounts").addObject();
            lineTax.put("amount", inv.lineTax[i]);
            lineTax.put("inclusive", false);
            lineTax.put("tax_rate", inv.taxRateId);
            lineTax.put("taxable_amount", line.amountMinor());
            l.put("type", "subscription");
        }
        lines.put("has_more", false);
        lines.put("total_count", spec.lines().size());
        lines.put("url", "/v1/invoices/" + inv.id + "/lines");
        return o;
    }

    private ObjectNode chargeObject(StripeInvoice inv) {
        long total = inv.totalMinor();
        ObjectNode c = JSON.createObjectNode();
        c.put("id", inv.chargeId);
        c.put("object", "charge");
        c.put("amount", total);
        c.put("amount_captured", total);
        c.put("amount_refunded", inv.amountRefunded);
        c.put("captured", true);
        c.put("created", inv.paidAt);
        c.put("currency", currency(inv));
        c.put("customer", inv.spec.customerId());
        c.put("invoice", inv.id);
        c.set("metadata", metadata(inv.spec));
        c.put("paid", true);
        c.put("payment_intent", inv.paymentIntentId);
        c.put("refunded", inv.amountRefunded == total);
        c.put("status", "succeeded");
        // no embedded refunds: Stripe stopped including Charge.refunds in API 2022-11-15
        return c;
    }

    private static ObjectNode metadata(InvoiceSpec spec) {
        ObjectNode metadata = JSON.createObjectNode();
        metadata.put("legal_entity", spec.legalEntity());
        if (spec.globalCustomerId() != null) {
            metadata.put("global_customer_id", spec.globalCustomerId());
        }
        return metadata;
    }

    private static String currency(StripeInvoice invoice) {
        return invoice.spec.currency().toLowerCase(Locale.ROOT);
    }

    private static String accountCountry(String legalEntity) {
        return legalEntity.length() >= 2 && legalEntity.substring(0, 2).chars().allMatch(Character::isLetter)
                ? legalEntity.substring(0, 2).toUpperCase(Locale.ROOT) : "US";
    }

    private static Long unitAmount(InvoiceSpec.Line line) {
        return line.amountMinor() % line.quantity() == 0 ? line.amountMinor() / line.quantity() : null;
    }

    private String random(String alphabet, int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = alphabet.charAt(random.nextInt(alphabet.length()));
        }
        return new String(out);
    }

    private static DefaultPrettyPrinter stripePrettyPrinter() {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        return new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator(""))
                .withObjectIndenter(indenter)
                .withArrayIndenter(indenter);
    }
}
