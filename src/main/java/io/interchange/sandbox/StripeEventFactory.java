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
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Builds Stripe webhook events about simulated invoices in the shapes of one Stripe API version: every field that
 * version's objects have is present (nullable ones {@code null} where nothing applies), fields it does not have are
 * absent, keys are ordered as Stripe orders them ({@code id}, {@code object}, then alphabetically). The shapes follow
 * the per-version fixtures in {@code src/test/resources/stripe/<family>/} (derived from Stripe's published types; see
 * SOURCES.md there), which the tests compare the generated events with.
 *
 * <p>Versions: {@value #API_2024_06_20} (the default), {@value #API_ACACIA}, {@value #API_BASIL}, {@value #API_CLOVER}
 * and {@value #API_DAHLIA}. Up to acacia an invoice names its charge and PaymentIntent and is paid by
 * {@code invoice.paid}; from basil its payments are InvoicePayments ({@code invoice_payment.paid}, possibly several
 * partial ones), taxes are {@code total_taxes}/{@code taxes}, the subscription is under {@code parent}, and lines carry
 * {@code pricing} instead of {@code price}.
 *
 * <p>Amounts are computed as Stripe computes them: a percent-off discount per line, exclusive tax per line on the line
 * net of its discount (rounded half-up), total = subtotal - discounts + tax, amount due = total - pre-payment credit
 * notes. Stripe copies no metadata to charges, refunds, InvoicePayments, credit notes or disputes, and neither does this
 * factory: a receiver finds their legal entity through the invoice or payment it saw before.
 *
 * <p>Not thread-safe; reproducible for a given {@link Random} seed.
 */
public final class StripeEventFactory {

    public static final String API_2024_06_20 = "2024-06-20";
    public static final String API_ACACIA = "2025-02-24.acacia";
    public static final String API_BASIL = "2025-05-28.basil";
    public static final String API_CLOVER = "2025-12-15.clover";
    public static final String API_DAHLIA = "2026-07-29.dahlia";
    /** The version rendered unless another is chosen. */
    public static final String API_VERSION = API_2024_06_20;
    /** The newest version rendered. */
    public static final String NEWEST_API_VERSION = API_DAHLIA;
    /** Every version this factory renders, oldest first: one of each family the billing edge reads. */
    public static final List<String> API_VERSIONS = List.of(API_2024_06_20, API_ACACIA, API_BASIL, API_CLOVER, API_DAHLIA);

    /** Dispute fee Stripe takes from the balance when a chargeback is opened (not returned when the dispute is won). */
    public static final long DISPUTE_FEE_MINOR = 1_500;

    /**
     * The release families in order; each stands for the one version of it this factory renders ({@link #API_VERSIONS}),
     * so a field is gated by the first of them that has it.
     */
    private enum Release {
        V2024_06_20, ACACIA, BASIL, CLOVER, DAHLIA;

        boolean atLeast(Release other) {
            return compareTo(other) >= 0;
        }

        static Release of(String apiVersion) {
            int i = API_VERSIONS.indexOf(apiVersion);
            if (i < 0) {
                throw new IllegalArgumentException("Stripe API version " + apiVersion + " is not rendered; choose one of "
                        + API_VERSIONS);
            }
            return values()[i];
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    // Stripe delivers pretty-printed bodies; receivers must verify the raw bytes, so the sandbox sends the same shape.
    private static final ObjectWriter STRIPE_STYLE = JSON.writer(stripePrettyPrinter());
    private static final String ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final String UPPER_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private static final String DIGITS = "0123456789";
    private static final String HEX = "0123456789abcdef";
    private static final Pattern QUANTITY_AND_PRICE = Pattern.compile("^\\d+ x | \\(at .*\\)$");
    private static final long DAY = 86_400;
    private static final long MONTH = 30 * DAY;
    private static final Map<String, String> ACCOUNT_NAMES = Map.of(
            "DE", "Acme Software GmbH", "US", "Acme Software Inc.", "GB", "Acme Software Ltd", "FR", "Acme Software SAS");
    /** A billing address per country: city, line1, postal code, state. */
    private static final Map<String, String[]> ADDRESSES = Map.of(
            "DE", new String[] {"Berlin", "Friedrichstraße 68", "10117", null},
            "US", new String[] {"San Francisco", "548 Market St", "94104", "CA"},
            "GB", new String[] {"London", "1 Poultry", "EC2R 8EJ", null},
            "FR", new String[] {"Paris", "8 Rue de Rivoli", "75004", null});
    private static final List<String> EVIDENCE_FIELDS = List.of("access_activity_log", "billing_address",
            "cancellation_policy", "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
            "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
            "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id", "product_description",
            "receipt", "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date",
            "service_documentation", "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation",
            "shipping_tracking_number", "uncategorized_file", "uncategorized_text");

    /**
     * What to invoice: one customer of one legal entity, tax-exclusive lines at a single tax rate.
     *
     * @param globalCustomerId        {@code global_customer_id} in the metadata, or null to leave it out
     * @param legalEntity             {@code legal_entity} in the metadata, e.g. {@code DE01}; not validated, so it can be
     *                                unknown
     * @param currency                ISO 4217 code in any case (Stripe sends it lower-case)
     * @param kind                    a subscription's invoice (charged automatically, with the subscription's metadata
     *                                snapshot, taxed by Stripe Tax) or a one-off invoice (sent for payment, a manual tax
     *                                rate)
     * @param entityInInvoiceMetadata whether the invoice's own metadata names the entity and global customer; when false
     *                                (subscription invoices only) they are only in the subscription's metadata snapshot,
     *                                as Stripe renders invoices of subscriptions whose metadata the integrator set
     * @param discountPercent         a percent-off coupon on the invoice, 0 for none
     */
    public record InvoiceSpec(String customerId, String globalCustomerId, String legalEntity, String currency,
                              List<Line> lines, BigDecimal taxRatePercent, long createdEpochSeconds, Kind kind,
                              boolean entityInInvoiceMetadata, BigDecimal discountPercent) {

        public enum Kind { SUBSCRIPTION, ONE_OFF }

        /**
         * One line: its description, quantity and amount (quantity times unit price) in minor units; {@code oneOff}
         * makes it an invoice item on a subscription's invoice (every line of a one-off invoice is one).
         */
        public record Line(String description, long quantity, long amountMinor, boolean oneOff) {
            public Line {
                Objects.requireNonNull(description, "description");
                if (quantity < 1 || amountMinor < 0) {
                    throw new IllegalArgumentException("quantity >= 1 and amountMinor >= 0 required: " + description);
                }
            }

            public Line(String description, long quantity, long amountMinor) {
                this(description, quantity, amountMinor, false);
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
            Objects.requireNonNull(kind, "kind");
            if (!entityInInvoiceMetadata && kind != Kind.SUBSCRIPTION) {
                throw new IllegalArgumentException("only a subscription's invoice can name its entity in the subscription alone");
            }
            discountPercent = discountPercent == null ? BigDecimal.ZERO : discountPercent;
            if (discountPercent.signum() < 0 || discountPercent.compareTo(BigDecimal.valueOf(100)) >= 0) {
                throw new IllegalArgumentException("discountPercent must be in [0, 100): " + discountPercent);
            }
        }

        /** A subscription's invoice naming its entity in its own metadata, without discount. */
        public InvoiceSpec(String customerId, String globalCustomerId, String legalEntity, String currency,
                           List<Line> lines, BigDecimal taxRatePercent, long createdEpochSeconds) {
            this(customerId, globalCustomerId, legalEntity, currency, lines, taxRatePercent, createdEpochSeconds,
                    Kind.SUBSCRIPTION, true, BigDecimal.ZERO);
        }
    }

    /** One payment of an invoice: a PaymentIntent and its successful charge, an InvoicePayment from basil on. */
    private static final class Paid {
        final String invoicePaymentId;
        final String paymentIntentId;
        final String chargeId;
        final String balanceTransactionId;
        final String receiptToken;
        final long amount;
        final long createdAt;
        final long paidAt;
        final boolean isDefault;
        final int riskScore;
        final String authorizationCode;
        final String networkTransactionId;
        long refunded;
        Disputed dispute;

        Paid(String invoicePaymentId, String paymentIntentId, String chargeId, String balanceTransactionId,
             String receiptToken, long amount, long createdAt, long paidAt, boolean isDefault, int riskScore,
             String authorizationCode, String networkTransactionId) {
            this.invoicePaymentId = invoicePaymentId;
            this.paymentIntentId = paymentIntentId;
            this.chargeId = chargeId;
            this.balanceTransactionId = balanceTransactionId;
            this.receiptToken = receiptToken;
            this.amount = amount;
            this.createdAt = createdAt;
            this.paidAt = paidAt;
            this.isDefault = isDefault;
            this.riskScore = riskScore;
            this.authorizationCode = authorizationCode;
            this.networkTransactionId = networkTransactionId;
        }

        long refundable() {
            return dispute == null ? amount - refunded : 0;
        }
    }

    /** A chargeback on one payment: its balance transactions (withdrawal, then a reinstatement if won). */
    private static final class Disputed {
        final String id;
        final long amount;
        final long created;
        final List<ObjectNode> balanceTransactions = new ArrayList<>();
        String status = "needs_response";
        boolean evidenceSubmitted;
        boolean closed;

        Disputed(String id, long amount, long created) {
            this.id = id;
            this.amount = amount;
            this.created = created;
        }

        boolean reinstated() {
            return balanceTransactions.size() > 1;
        }
    }

    /** A customer's details as the account holds them; made once per customer id. */
    private record Profile(String name, String email, String country, String[] address, String taxIdType,
                           String taxId, String paymentMethodId, String last4, String fingerprint, int expMonth,
                           int expYear) {
    }

    /** One invoice as the simulated platform holds it: its ids, amounts, and what has happened to it so far. */
    public static final class StripeInvoice {
        private final InvoiceSpec spec;
        private final String id;
        private final String number;
        private final String subscriptionId;
        private final String taxRateId;
        private final String discountId;
        private final String couponId;
        private final String urlToken;
        private final List<String> lineIds;
        private final List<String> productIds;
        private final List<String> priceIds;
        private final List<String> itemIds;
        private final long[] lineDiscount;
        private final long[] lineTax;
        private final long[] creditedQuantity;
        private final long[] creditedDiscount;
        private final long subtotal;
        private final long discount;
        private final long tax;
        private final boolean discountListNull;
        private final List<Paid> payments = new ArrayList<>();
        private String status = "draft";
        private Long finalizedAt;
        private Long paidAt;
        private Long voidedAt;
        private Long uncollectibleAt;
        private Long nextPaymentAttempt;
        private boolean paidAnnounced;
        private int attemptCount;
        private String paymentIntentId;
        private String lastChargeId;
        private long preCredit;
        private long postCredit;
        private int creditNotes;
        private Paid lastRefunded;

        private StripeInvoice(InvoiceSpec spec, String id, String number, String subscriptionId, String taxRateId,
                              String discountId, String couponId, String urlToken, List<String> lineIds,
                              List<String> productIds, List<String> priceIds, List<String> itemIds, long[] lineDiscount,
                              long[] lineTax, boolean discountListNull) {
            this.spec = spec;
            this.id = id;
            this.number = number;
            this.subscriptionId = subscriptionId;
            this.taxRateId = taxRateId;
            this.discountId = discountId;
            this.couponId = couponId;
            this.urlToken = urlToken;
            this.lineIds = lineIds;
            this.productIds = productIds;
            this.priceIds = priceIds;
            this.itemIds = itemIds;
            this.lineDiscount = lineDiscount;
            this.lineTax = lineTax;
            this.creditedQuantity = new long[lineTax.length];
            this.creditedDiscount = new long[lineTax.length];
            this.subtotal = spec.lines().stream().mapToLong(InvoiceSpec.Line::amountMinor).sum();
            this.discount = sum(lineDiscount);
            this.tax = sum(lineTax);
            this.discountListNull = discountListNull;
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

        public long discountMinor() {
            return discount;
        }

        public long taxMinor() {
            return tax;
        }

        public long totalMinor() {
            return subtotal - discount + tax;
        }

        /** What the customer owes: the total less pre-payment credit notes. */
        public long amountDueMinor() {
            return Math.max(0, totalMinor() - preCredit);
        }

        public long amountPaidMinor() {
            return payments.stream().mapToLong(p -> p.amount).sum();
        }

        public long amountRemainingMinor() {
            return Math.max(0, amountDueMinor() - amountPaidMinor());
        }

        public int attemptCount() {
            return attemptCount;
        }

        /** {@code draft}, {@code open}, {@code paid}, {@code void} or {@code uncollectible}, as Stripe says. */
        public String status() {
            return status;
        }

        public boolean open() {
            return status.equals("open");
        }

        public boolean paid() {
            return paidAt != null;
        }

        /** How many payments (InvoicePayments from basil on) the invoice has. */
        public int paymentCount() {
            return payments.size();
        }

        public int creditNoteCount() {
            return creditNotes;
        }

        /** The charge of the latest payment, or null while unpaid (or paid without a charge, at a total of zero). */
        public String chargeId() {
            return payments.isEmpty() ? null : payments.get(payments.size() - 1).chargeId;
        }

        public long amountRefundedMinor() {
            return payments.stream().mapToLong(p -> p.refunded).sum();
        }

        /** The largest refund one payment can still take: zero unless paid by a charge, and none of a disputed one. */
        public long refundableMinor() {
            return payments.stream().mapToLong(Paid::refundable).max().orElse(0);
        }

        /** Whether a payment of this invoice can still be disputed: neither refunded nor disputed yet. */
        public boolean disputable() {
            return payments.stream().anyMatch(p -> p.refunded == 0 && p.dispute == null);
        }

        /** Whether one of its payments has a dispute not closed yet. */
        public boolean disputeOpen() {
            return openDispute() != null;
        }

        /** Whether the open dispute's funds were reinstated (the dispute was won). */
        public boolean disputeWon() {
            Paid p = openDispute();
            return p != null && p.dispute.reinstated();
        }

        /** Units of a line not credited yet. */
        public long creditableQuantity(int line) {
            return spec.lines().get(line).quantity() - creditedQuantity[line];
        }

        private Paid openDispute() {
            return payments.stream().filter(p -> p.dispute != null && !p.dispute.closed).findFirst().orElse(null);
        }

        private String accountCountry() {
            return StripeEventFactory.accountCountry(spec.legalEntity());
        }

        /** Stripe Tax on subscriptions and on US invoices (sales tax); a manual VAT rate on other one-off invoices. */
        private boolean automaticTax() {
            return spec.kind() == InvoiceSpec.Kind.SUBSCRIPTION || accountCountry().equals("US");
        }

        private boolean lineIsSubscriptionItem(int i) {
            return spec.kind() == InvoiceSpec.Kind.SUBSCRIPTION && !spec.lines().get(i).oneOff();
        }
    }

    private final Random random;
    private final String apiVersion;
    private final Release release;
    private final String accountId;
    private final Map<String, String> invoicePrefixes = new HashMap<>();
    private final Map<String, Integer> invoiceSequences = new HashMap<>();
    private final Map<String, String> subscriptions = new HashMap<>();
    private final Map<String, String> subscriptionItems = new HashMap<>();
    private final Map<String, String> taxRates = new HashMap<>();
    private final Map<String, String> products = new HashMap<>();
    private final Map<String, String> prices = new HashMap<>();
    /** When each tax rate and price was created, by id. */
    private final Map<String, Long> objectCreated = new HashMap<>();
    private final Map<String, Profile> profiles = new HashMap<>();

    public StripeEventFactory(Random random) {
        this(random, API_VERSION);
    }

    public StripeEventFactory(long seed) {
        this(new Random(seed));
    }

    /** @param apiVersion one of {@link #API_VERSIONS} */
    public StripeEventFactory(Random random, String apiVersion) {
        this.random = Objects.requireNonNull(random, "random");
        this.release = Release.of(Objects.requireNonNull(apiVersion, "apiVersion"));
        this.apiVersion = apiVersion;
        this.accountId = "acct_" + random(ALPHANUMERIC, 16);
    }

    public StripeEventFactory(long seed, String apiVersion) {
        this(new Random(seed), apiVersion);
    }

    /** The API version the events are rendered in. */
    public String apiVersion() {
        return apiVersion;
    }

    /** Whether payments are InvoicePayments ({@code invoice_payment.paid}, partial payments): basil and later. */
    public boolean invoicePayments() {
        return release.atLeast(Release.BASIL);
    }

    /** A new id in Stripe's form: the prefix (e.g. {@code evt_}, {@code in_}, {@code ch_}) and 24 alphanumerics. */
    public String newId(String prefix) {
        return prefix + random(ALPHANUMERIC, 24);
    }

    /** A new customer id, {@code cus_} and 14 alphanumerics. */
    public String newCustomerId() {
        return "cus_" + random(ALPHANUMERIC, 14);
    }

    /** Creates a draft invoice: allocates its ids and number and computes discount and tax per line, rounded half-up. */
    public StripeInvoice issue(InvoiceSpec spec) {
        String currency = spec.currency().toLowerCase(Locale.ROOT);
        String prefix = invoicePrefixes.computeIfAbsent(spec.customerId(), c -> random(UPPER_ALPHANUMERIC, 8));
        int sequence = invoiceSequences.merge(spec.customerId(), 1, Integer::sum);
        BigDecimal rate = spec.taxRatePercent().stripTrailingZeros();
        String taxRateId = taxRates.computeIfAbsent(spec.legalEntity() + "|" + rate.toPlainString(), k -> {
            String id = newId("txr_");
            objectCreated.put(id, spec.createdEpochSeconds() - 400 * DAY);
            return id;
        });
        boolean subscription = spec.kind() == InvoiceSpec.Kind.SUBSCRIPTION;
        String subscriptionId = subscription ? subscriptions.computeIfAbsent(spec.customerId(), c -> newId("sub_")) : null;
        BigDecimal off = spec.discountPercent();
        String discountId = off.signum() > 0 ? newId("di_") : null;
        String couponId = off.signum() > 0 ? "SANDBOX" + off.stripTrailingZeros().toPlainString().replace('.', '_') : null;
        List<String> lineIds = new ArrayList<>();
        List<String> productIds = new ArrayList<>();
        List<String> priceIds = new ArrayList<>();
        List<String> itemIds = new ArrayList<>();
        long[] lineDiscount = new long[spec.lines().size()];
        long[] lineTax = new long[spec.lines().size()];
        for (int i = 0; i < lineTax.length; i++) {
            InvoiceSpec.Line line = spec.lines().get(i);
            String product = products.computeIfAbsent(QUANTITY_AND_PRICE.matcher(line.description()).replaceAll(""),
                    name -> "prod_" + random(ALPHANUMERIC, 14));
            productIds.add(product);
            boolean subscriptionItem = subscription && !line.oneOff();
            String priceKey = product + "|" + currency + "|" + unitAmountDecimal(line) + "|" + subscriptionItem;
            priceIds.add(prices.computeIfAbsent(priceKey, k -> {
                String id = newId("price_");
                objectCreated.put(id, spec.createdEpochSeconds() - 200 * DAY);
                return id;
            }));
            itemIds.add(subscriptionItem
                    ? subscriptionItems.computeIfAbsent(subscriptionId + "|" + priceIds.get(i), k -> "si_" + random(ALPHANUMERIC, 14))
                    : newId("ii_"));
            lineIds.add(newId("il_"));
            lineDiscount[i] = percentOf(line.amountMinor(), off);
            lineTax[i] = percentOf(line.amountMinor() - lineDiscount[i], rate);
        }
        String number = prefix + "-" + String.format(Locale.ROOT, "%04d", sequence);
        // "no discount" is rendered as null or [] by Stripe alike (the field is nullable in every version)
        boolean discountListNull = random.nextBoolean();
        return new StripeInvoice(spec, newId("in_"), number, subscriptionId, taxRateId, discountId, couponId,
                random(ALPHANUMERIC, 72), List.copyOf(lineIds), List.copyOf(productIds), List.copyOf(priceIds),
                List.copyOf(itemIds), lineDiscount, lineTax, discountListNull);
    }

    // ------------------------------------------------------------------------------------------------ invoice events

    /** {@code invoice.finalized}: the invoice becomes open at {@code at} (epoch seconds). */
    public ObjectNode invoiceFinalized(StripeInvoice invoice, long at) {
        if (invoice.finalizedAt != null) {
            throw new IllegalStateException("invoice " + invoice.id + " is already finalized");
        }
        invoice.finalizedAt = at;
        invoice.status = "open";
        boolean automatic = invoice.spec.kind() == InvoiceSpec.Kind.SUBSCRIPTION;
        invoice.nextPaymentAttempt = automatic ? at : null;
        // a subscription cycle is finalized by Stripe, a one-off invoice by a Dashboard or API request
        return event("invoice.finalized", at, invoiceObject(invoice), automatic ? automaticRequest() : apiRequest());
    }

    /**
     * {@code invoice.paid}. Up to acacia: a collection attempt charged the rest of the invoice successfully at
     * {@code at}. From basil the invoice is paid by its InvoicePayments ({@link #invoicePaymentPaid}), and this is the
     * notice that follows the last of them.
     */
    public ObjectNode invoicePaid(StripeInvoice invoice, long at) {
        if (invoicePayments()) {
            if (!invoice.paid() || invoice.paidAnnounced) {
                throw new IllegalStateException("invoice " + invoice.id + " is not paid by its InvoicePayments, or "
                        + "invoice.paid was sent already");
            }
        } else {
            requireOpen(invoice);
            long amount = invoice.amountRemainingMinor();
            if (amount > 0) {
                attempt(invoice);
                invoice.payments.add(payment(invoice, null, invoice.paymentIntentId, invoice.lastChargeId, amount,
                        at - 2, at, true));
            }
            invoice.paidAt = at;
            invoice.status = "paid";
            invoice.nextPaymentAttempt = null;
        }
        invoice.paidAnnounced = true;
        return event("invoice.paid", at, invoiceObject(invoice), automaticRequest());
    }

    /**
     * {@code invoice_payment.paid} (basil and later): a payment of {@code amountMinor} of the invoice at {@code at}. Less
     * than what remains is a partial payment, by a PaymentIntent of its own; the rest is paid by the invoice's default
     * PaymentIntent, and the invoice becomes paid.
     */
    public ObjectNode invoicePaymentPaid(StripeInvoice invoice, long amountMinor, long at) {
        if (!invoicePayments()) {
            throw new IllegalStateException("API " + apiVersion + " has no InvoicePayments; use invoicePaid");
        }
        requireOpen(invoice);
        long remaining = invoice.amountRemainingMinor();
        if (amountMinor <= 0 || amountMinor > remaining) {
            throw new IllegalArgumentException("payment of " + amountMinor + " outside 1.." + remaining);
        }
        Paid payment;
        if (amountMinor == remaining) {
            attempt(invoice);
            payment = payment(invoice, newId("inpay_"), invoice.paymentIntentId, invoice.lastChargeId, amountMinor,
                    invoice.finalizedAt, at, true);
            invoice.paidAt = at;
            invoice.status = "paid";
            invoice.nextPaymentAttempt = null;
        } else {
            payment = payment(invoice, newId("inpay_"), newId("pi_"), newId("ch_"), amountMinor, at - 30, at, false);
        }
        invoice.payments.add(payment);
        return event("invoice_payment.paid", at, invoicePaymentObject(invoice, payment),
                payment.isDefault ? automaticRequest() : apiRequest());
    }

    /**
     * The events Stripe sends when the rest of the invoice is paid at {@code at}: {@code invoice.paid} up to acacia;
     * {@code invoice_payment.paid}, then {@code invoice.paid}, from basil.
     */
    public List<ObjectNode> payInFull(StripeInvoice invoice, long at) {
        if (!invoicePayments()) {
            return List.of(invoicePaid(invoice, at));
        }
        ObjectNode payment = invoicePaymentPaid(invoice, invoice.amountRemainingMinor(), at);
        return List.of(payment, invoicePaid(invoice, at));
    }

    /** {@code invoice.payment_failed}: an automatic collection attempt was declined at {@code at}; Stripe retries later. */
    public ObjectNode invoicePaymentFailed(StripeInvoice invoice, long at) {
        requireOpen(invoice);
        if (invoice.amountRemainingMinor() == 0) {
            throw new IllegalStateException("invoice " + invoice.id + " has nothing left to charge");
        }
        attempt(invoice);
        invoice.nextPaymentAttempt = at + 3 * DAY;
        return event("invoice.payment_failed", at, invoiceObject(invoice), automaticRequest());
    }

    /** {@code invoice.voided}: an open invoice, neither paid in part nor credited, is voided at {@code at}. */
    public ObjectNode invoiceVoided(StripeInvoice invoice, long at) {
        requireOpen(invoice);
        if (!invoice.payments.isEmpty() || invoice.creditNotes > 0) {
            throw new IllegalStateException("invoice " + invoice.id + " has payments or credit notes; it cannot be voided");
        }
        invoice.voidedAt = at;
        invoice.status = "void";
        invoice.nextPaymentAttempt = null;
        return event("invoice.voided", at, invoiceObject(invoice), apiRequest());
    }

    /** {@code invoice.marked_uncollectible}: what remains of an open invoice is given up at {@code at}. */
    public ObjectNode invoiceMarkedUncollectible(StripeInvoice invoice, long at) {
        requireOpen(invoice);
        invoice.uncollectibleAt = at;
        invoice.status = "uncollectible";
        invoice.nextPaymentAttempt = null;
        return event("invoice.marked_uncollectible", at, invoiceObject(invoice), apiRequest());
    }

    // ------------------------------------------------------------------------------------------------ credit notes

    /**
     * What a credit note of {@code quantity} units of line {@code line} would total: the units' amount less their share
     * of the discount, plus tax on that, as Stripe computes it.
     */
    public long creditNoteTotal(StripeInvoice invoice, int line, long quantity) {
        long[] parts = creditParts(invoice, line, quantity);
        return parts[0] - parts[1] + parts[2];
    }

    /**
     * {@code credit_note.created} for {@code quantity} units of line {@code line}. On an open invoice nothing of which is
     * paid, a pre-payment credit note: what the customer owes shrinks. On a paid invoice, a post-payment credit note
     * refunded to the card: the events are the credit note, its refund and the charge refunded (Stripe sends all three,
     * from one request).
     */
    public List<ObjectNode> creditNoteCreated(StripeInvoice invoice, int line, long quantity, long at) {
        long[] parts = creditParts(invoice, line, quantity);
        long total = parts[0] - parts[1] + parts[2];
        boolean pre = invoice.open();
        Paid refunded = null;
        if (pre) {
            if (!invoice.payments.isEmpty() || total >= invoice.amountRemainingMinor()) {
                throw new IllegalStateException("a pre-payment credit note needs an invoice nothing of which is paid and "
                        + "more left to pay than its total " + total);
            }
        } else if (invoice.status.equals("paid")) {
            refunded = refundablePayment(invoice, total);
        } else {
            throw new IllegalStateException("invoice " + invoice.id + " is " + invoice.status + "; nothing to credit");
        }
        invoice.creditedQuantity[line] += quantity;
        invoice.creditedDiscount[line] += parts[1];
        invoice.creditNotes++;
        if (pre) {
            invoice.preCredit += total;
        } else {
            invoice.postCredit += total;
        }
        String creditNoteId = newId("cn_");
        ObjectNode request = apiRequest();
        List<ObjectNode> events = new ArrayList<>();
        ObjectNode refund = null;
        if (refunded != null) {
            refund = refundObject(invoice, refunded, total, at);
        }
        events.add(event("credit_note.created", at,
                creditNoteObject(invoice, creditNoteId, line, quantity, parts, pre, refund, at), request));
        if (refund != null) {
            events.add(event("refund.created", at, refund, request));
            events.add(event("charge.refunded", at, chargeObject(invoice, refunded), request));
        }
        return events;
    }

    // ------------------------------------------------------------------------------------------------ refunds

    /**
     * {@code refund.created}: a refund of {@code amountMinor} of a payment of the invoice (the one with most left to
     * refund), as its own Refund object. Stripe copies no metadata to it: its legal entity is found through the payment
     * it refunds.
     */
    public ObjectNode refundCreated(StripeInvoice invoice, long amountMinor, long at) {
        if (invoice.chargeId() == null) {
            throw new IllegalStateException("invoice " + invoice.id + " was not paid by a charge");
        }
        if (amountMinor <= 0 || amountMinor > invoice.refundableMinor()) {
            throw new IllegalArgumentException("refund of " + amountMinor + " outside 1.." + invoice.refundableMinor());
        }
        Paid payment = refundablePayment(invoice, amountMinor);
        return event("refund.created", at, refundObject(invoice, payment, amountMinor, at), apiRequest());
    }

    /**
     * {@code charge.refunded}: the charge after its latest refund, as Stripe sends it since API 2022-11-15: the
     * cumulative {@code amount_refunded}, no embedded refunds and no {@code previous_attributes}. Sent beside
     * {@link #refundCreated}, which carries the refund itself.
     */
    public ObjectNode chargeRefunded(StripeInvoice invoice, long at) {
        if (invoice.lastRefunded == null) {
            throw new IllegalStateException("invoice " + invoice.id + " has no refunded charge");
        }
        return event("charge.refunded", at, chargeObject(invoice, invoice.lastRefunded), apiRequest());
    }

    // ------------------------------------------------------------------------------------------------ disputes

    /**
     * {@code charge.dispute.created}: the customer's bank disputes a payment of the invoice (the largest one neither
     * refunded nor disputed) as fraudulent; as with card chargebacks, the disputed amount and the
     * {@value #DISPUTE_FEE_MINOR} fee leave the balance at once, in one balance transaction.
     */
    public ObjectNode chargeDisputeCreated(StripeInvoice invoice, long at) {
        if (invoice.disputeOpen()) {
            throw new IllegalStateException("invoice " + invoice.id + " has a dispute open");
        }
        Paid payment = invoice.payments.stream().filter(p -> p.refunded == 0 && p.dispute == null)
                .max(Comparator.comparingLong(p -> p.amount))
                .orElseThrow(() -> new IllegalStateException("invoice " + invoice.id + " has no payment to dispute"));
        Disputed dispute = new Disputed(newId("dp_"), payment.amount, at);
        dispute.balanceTransactions.add(balanceTransaction(invoice, payment, -payment.amount, DISPUTE_FEE_MINOR, at,
                "Chargeback withdrawal for " + payment.chargeId, "dispute", dispute.id));
        payment.dispute = dispute;
        return event("charge.dispute.created", at, disputeObject(invoice, payment), automaticRequest());
    }

    /** {@code charge.dispute.funds_withdrawn}: the open dispute's amount and fee left the balance. */
    public ObjectNode chargeDisputeFundsWithdrawn(StripeInvoice invoice, long at) {
        Paid payment = requireDispute(invoice);
        return event("charge.dispute.funds_withdrawn", at, disputeObject(invoice, payment), automaticRequest());
    }

    /** {@code charge.dispute.funds_reinstated}: the dispute was won; the amount (not the fee) returns at {@code at}. */
    public ObjectNode chargeDisputeFundsReinstated(StripeInvoice invoice, long at) {
        Paid payment = requireDispute(invoice);
        Disputed d = payment.dispute;
        if (d.reinstated()) {
            throw new IllegalStateException("dispute " + d.id + " was reinstated already");
        }
        d.evidenceSubmitted = true;
        d.status = "won";
        d.balanceTransactions.add(balanceTransaction(invoice, payment, d.amount, 0, at,
                "Chargeback reversal for " + payment.chargeId, "dispute_reversal", d.id));
        return event("charge.dispute.funds_reinstated", at, disputeObject(invoice, payment), automaticRequest());
    }

    /**
     * {@code charge.dispute.closed}: won when its funds were reinstated ({@link #chargeDisputeFundsReinstated}), lost
     * otherwise (the withdrawn amount and fee stay withdrawn).
     */
    public ObjectNode chargeDisputeClosed(StripeInvoice invoice, long at) {
        Paid payment = requireDispute(invoice);
        Disputed d = payment.dispute;
        d.evidenceSubmitted = true;
        d.status = d.reinstated() ? "won" : "lost";
        ObjectNode object = disputeObject(invoice, payment);
        d.closed = true;
        return event("charge.dispute.closed", at, object, automaticRequest());
    }

    /** The event as Stripe sends it on the wire: UTF-8, pretty-printed with two-space indentation. */
    public static byte[] toBytes(JsonNode event) {
        try {
            return STRIPE_STYLE.writeValueAsBytes(event);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------------------------ state

    private static void requireOpen(StripeInvoice invoice) {
        if (!invoice.open()) {
            throw new IllegalStateException("invoice " + invoice.id + " is not open");
        }
    }

    private static Paid requireDispute(StripeInvoice invoice) {
        Paid p = invoice.openDispute();
        if (p == null) {
            throw new IllegalStateException("invoice " + invoice.id + " has no dispute open");
        }
        return p;
    }

    private static Paid refundablePayment(StripeInvoice invoice, long amount) {
        Paid best = invoice.payments.stream().max(Comparator.comparingLong(Paid::refundable)).orElse(null);
        if (best == null || best.refundable() < amount) {
            throw new IllegalArgumentException("no payment of invoice " + invoice.id + " has " + amount + " left to refund");
        }
        return best;
    }

    /** A collection attempt by the invoice's default PaymentIntent: every attempt creates a charge, declined or not. */
    private void attempt(StripeInvoice invoice) {
        invoice.attemptCount++;
        if (invoice.paymentIntentId == null) {
            invoice.paymentIntentId = newId("pi_");
        }
        invoice.lastChargeId = newId("ch_");
    }

    private Paid payment(StripeInvoice invoice, String invoicePaymentId, String paymentIntentId, String chargeId,
                         long amount, long createdAt, long paidAt, boolean isDefault) {
        return new Paid(invoicePaymentId, paymentIntentId, chargeId, newId("txn_"), random(ALPHANUMERIC, 96), amount,
                createdAt, paidAt, isDefault, 5 + random.nextInt(40), random(DIGITS, 6), random(DIGITS, 15));
    }

    /** amount, discount share, tax of crediting {@code quantity} units of a line. */
    private static long[] creditParts(StripeInvoice invoice, int line, long quantity) {
        InvoiceSpec.Line l = invoice.spec.lines().get(line);
        if (quantity < 1 || quantity > invoice.creditableQuantity(line)) {
            throw new IllegalArgumentException("credit of " + quantity + " units outside 1.." + invoice.creditableQuantity(line));
        }
        boolean rest = quantity == invoice.creditableQuantity(line);
        long amount = rest ? l.amountMinor() - unitsAmount(l, invoice.creditedQuantity[line]) : unitsAmount(l, quantity);
        long discount = rest ? invoice.lineDiscount[line] - invoice.creditedDiscount[line]
                : BigDecimal.valueOf(invoice.lineDiscount[line]).multiply(BigDecimal.valueOf(quantity))
                        .divide(BigDecimal.valueOf(l.quantity()), 0, RoundingMode.HALF_UP).longValueExact();
        long tax = percentOf(amount - discount, invoice.spec.taxRatePercent());
        return new long[] {amount, discount, tax};
    }

    /** What {@code units} units of a line come to: the unit price times the units (the line's amount shared out). */
    private static long unitsAmount(InvoiceSpec.Line line, long units) {
        return BigDecimal.valueOf(line.amountMinor()).multiply(BigDecimal.valueOf(units))
                .divide(BigDecimal.valueOf(line.quantity()), 0, RoundingMode.HALF_UP).longValueExact();
    }

    // ------------------------------------------------------------------------------------------------ events

    private ObjectNode event(String type, long created, ObjectNode object, ObjectNode request) {
        ObjectNode event = JSON.createObjectNode();
        event.put("id", newId("evt_"));
        event.put("object", "event");
        event.put("api_version", apiVersion);
        event.put("created", created);
        event.putObject("data").set("object", object);
        event.put("livemode", false);
        event.put("pending_webhooks", 1);
        event.set("request", request);
        event.put("type", type);
        return stripeOrder(event);
    }

    /** The request of an event Stripe caused itself (a subscription cycle, a retry, a dispute): none. */
    private static ObjectNode automaticRequest() {
        ObjectNode request = JSON.createObjectNode();
        request.putNull("id");
        request.putNull("idempotency_key");
        return request;
    }

    /** The request of an event caused by an API or Dashboard call: its id and idempotency key. */
    private ObjectNode apiRequest() {
        ObjectNode request = JSON.createObjectNode();
        request.put("id", "req_" + random(ALPHANUMERIC, 14));
        request.put("idempotency_key", random(HEX, 8) + "-" + random(HEX, 4) + "-4" + random(HEX, 3) + "-"
                + "89ab".charAt(random.nextInt(4)) + random(HEX, 3) + "-" + random(HEX, 12));
        return request;
    }

    // ------------------------------------------------------------------------------------------------ objects

    private ObjectNode invoiceObject(StripeInvoice inv) {
        InvoiceSpec spec = inv.spec;
        Profile who = profile(spec);
        String currency = currency(inv);
        String country = inv.accountCountry();
        boolean subscription = spec.kind() == InvoiceSpec.Kind.SUBSCRIPTION;
        boolean basil = release.atLeast(Release.BASIL);
        long created = spec.createdEpochSeconds();

        ObjectNode o = JSON.createObjectNode();
        o.put("id", inv.id);
        o.put("object", "invoice");
        o.put("account_country", country);
        o.put("account_name", ACCOUNT_NAMES.getOrDefault(country, "Acme Software"));
        o.putNull("account_tax_ids");
        o.put("amount_due", inv.amountDueMinor());
        if (basil) {
            o.put("amount_overpaid", 0);
        }
        o.put("amount_paid", inv.amountPaidMinor());
        o.put("amount_remaining", inv.amountRemainingMinor());
        o.put("amount_shipping", 0);
        o.putNull("application");
        if (!basil) {
            o.putNull("application_fee_amount");
        }
        o.put("attempt_count", inv.attemptCount);
        o.put("attempted", inv.attemptCount > 0);
        o.put("auto_advance", inv.open());
        ObjectNode automaticTax = o.putObject("automatic_tax");
        if (release.atLeast(Release.ACACIA)) {
            automaticTax.putNull("disabled_reason");
        }
        automaticTax.put("enabled", inv.automaticTax());
        if (inv.automaticTax()) {
            automaticTax.putObject("liability").put("type", "self");
        } else {
            automaticTax.putNull("liability");
        }
        if (basil) {
            automaticTax.put("provider", inv.automaticTax() ? "stripe" : null);
        }
        automaticTax.put("status", inv.automaticTax() ? "complete" : null);
        o.putNull("automatically_finalizes_at");
        o.put("billing_reason", subscription ? "subscription_cycle" : "manual");
        if (!basil) {
            o.put("charge", inv.payments.isEmpty() ? inv.lastChargeId : inv.chargeId());
        }
        o.put("collection_method", subscription ? "charge_automatically" : "send_invoice");
        o.put("created", created);
        o.put("currency", currency);
        o.putNull("custom_fields");
        o.put("customer", spec.customerId());
        if (release.atLeast(Release.CLOVER)) {
            o.putNull("customer_account");
        }
        o.set("customer_address", address(who, true));
        o.put("customer_email", who.email);
        o.put("customer_name", who.name);
        o.putNull("customer_phone");
        o.putNull("customer_shipping");
        o.put("customer_tax_exempt", "none");
        ArrayNode taxIds = o.putArray("customer_tax_ids");
        if (who.taxId != null) {
            taxIds.addObject().put("type", who.taxIdType).put("value", who.taxId);
        }
        o.putNull("default_payment_method");
        o.putNull("default_source");
        ArrayNode defaultRates = o.putArray("default_tax_rates");
        if (!inv.automaticTax()) {
            defaultRates.add(taxRateObject(inv));
        }
        o.put("description", subscription ? null : "Services " + inv.number);
        if (!basil) {
            o.set("discount", inv.discountId == null ? null : discountObject(inv));
        }
        ArrayNode discounts = o.putArray("discounts");
        if (inv.discountId != null) {
            discounts.add(inv.discountId);
        }
        o.put("due_date", subscription ? null : created + MONTH);
        o.put("effective_at", inv.finalizedAt);
        o.put("ending_balance", inv.finalizedAt == null ? null : 0L);
        o.put("footer", subscription ? null : ACCOUNT_NAMES.getOrDefault(country, "Acme Software") + ", thank you for your business");
        o.putNull("from_invoice");
        o.put("hosted_invoice_url", "https://invoice.stripe.com/i/" + accountId + "/test_" + inv.urlToken + "?s=ap");
        o.put("invoice_pdf", "https://pay.stripe.com/invoice/" + accountId + "/test_" + inv.urlToken + "/pdf?s=ap");
        o.putObject("issuer").put("type", "self");
        o.putNull("last_finalization_error");
        o.putNull("latest_revision");
        o.set("lines", invoiceLines(inv));
        o.put("livemode", false);
        o.set("metadata", spec.entityInInvoiceMetadata() ? metadata(spec) : JSON.createObjectNode());
        o.put("next_payment_attempt", inv.nextPaymentAttempt);
        o.put("number", inv.number);
        o.putNull("on_behalf_of");
        if (!basil) {
            o.put("paid", inv.paid());
            o.put("paid_out_of_band", false);
            o.put("payment_intent", inv.paymentIntentId);
        } else if (subscription) {
            ObjectNode parent = o.putObject("parent");
            parent.putNull("quote_details");
            ObjectNode details = parent.putObject("subscription_details");
            details.set("metadata", metadata(spec));
            details.put("subscription", inv.subscriptionId);
            parent.put("type", "subscription_details");
        } else {
            o.putNull("parent");
        }
        ObjectNode settings = o.putObject("payment_settings");
        settings.putNull("default_mandate");
        ObjectNode options = settings.putObject("payment_method_options");
        List<String> methods = new ArrayList<>(List.of("acss_debit", "bancontact", "customer_balance", "konbini",
                "sepa_debit", "us_bank_account"));
        if (release.atLeast(Release.DAHLIA)) {
            methods.addAll(List.of("payto", "pix", "upi"));
        }
        methods.forEach(options::putNull);
        options.putObject("card").put("request_three_d_secure", "automatic");
        settings.putNull("payment_method_types");
        o.put("period_end", created);
        o.put("period_start", subscription ? created - MONTH : created);
        o.put("post_payment_credit_notes_amount", inv.postCredit);
        o.put("pre_payment_credit_notes_amount", inv.preCredit);
        if (!basil) {
            o.putNull("quote");
        }
        o.putNull("receipt_number");
        ObjectNode rendering = o.putObject("rendering");
        rendering.putNull("amount_tax_display");
        rendering.putObject("pdf").put("page_size", "auto");
        rendering.putNull("template");
        rendering.putNull("template_version");
        o.putNull("shipping_cost");
        o.putNull("shipping_details");
        o.put("starting_balance", 0);
        o.putNull("statement_descriptor");
        o.put("status", inv.status);
        ObjectNode transitions = o.putObject("status_transitions");
        transitions.put("finalized_at", inv.finalizedAt);
        transitions.put("marked_uncollectible_at", inv.uncollectibleAt);
        transitions.put("paid_at", inv.paidAt);
        transitions.put("voided_at", inv.voidedAt);
        if (!basil) {
            o.put("subscription", inv.subscriptionId);
            if (subscription) {
                o.putObject("subscription_details").set("metadata", metadata(spec));
            } else {
                o.putNull("subscription_details");
            }
        }
        o.put("subtotal", inv.subtotal);
        o.put("subtotal_excluding_tax", inv.subtotal);
        if (!basil) {
            o.put("tax", inv.tax);
        }
        o.putNull("test_clock");
        o.put("total", inv.totalMinor());
        if (inv.discountId != null) {
            o.putArray("total_discount_amounts").addObject().put("amount", inv.discount).put("discount", inv.discountId);
        } else if (inv.discountListNull) {
            o.putNull("total_discount_amounts");
        } else {
            o.putArray("total_discount_amounts");
        }
        o.put("total_excluding_tax", inv.subtotal - inv.discount);
        if (release.atLeast(Release.ACACIA)) {
            o.putArray("total_pretax_credit_amounts");
        }
        o.putArray(basil ? "total_taxes" : "total_tax_amounts")
                .add(taxAmount(inv, inv.tax, inv.subtotal - inv.discount));
        if (!basil) {
            o.putNull("transfer_data");
        }
        o.put("webhooks_delivered_at", created + 4);
        return o;
    }

    private ObjectNode invoiceLines(StripeInvoice inv) {
        InvoiceSpec spec = inv.spec;
        String currency = currency(inv);
        boolean basil = release.atLeast(Release.BASIL);
        long created = spec.createdEpochSeconds();
        ObjectNode lines = JSON.createObjectNode();
        lines.put("object", "list");
        ArrayNode data = lines.putArray("data");
        for (int i = 0; i < spec.lines().size(); i++) {
            InvoiceSpec.Line line = spec.lines().get(i);
            boolean subscriptionItem = inv.lineIsSubscriptionItem(i);
            ObjectNode l = data.addObject();
            l.put("id", inv.lineIds.get(i));
            l.put("object", "line_item");
            l.put("amount", line.amountMinor());
            if (!basil) {
                l.put("amount_excluding_tax", line.amountMinor());
            }
            l.put("currency", currency);
            l.put("description", line.description());
            ArrayNode discountAmounts = l.putArray("discount_amounts");
            if (inv.discountId != null) {
                discountAmounts.addObject().put("amount", inv.lineDiscount[i]).put("discount", inv.discountId);
            }
            l.put("discountable", true);
            l.putArray("discounts");
            l.put("invoice", inv.id);
            if (!basil && !subscriptionItem) {
                l.put("invoice_item", inv.itemIds.get(i));
            }
            l.put("livemode", false);
            // Stripe copies the subscription's metadata to its subscription lines, and no other metadata to lines
            l.set("metadata", subscriptionItem ? metadata(spec) : JSON.createObjectNode());
            if (basil) {
                ObjectNode parent = l.putObject("parent");
                ObjectNode details = JSON.createObjectNode();
                if (subscriptionItem) {
                    details.putNull("invoice_item");
                } else {
                    details.put("invoice_item", inv.itemIds.get(i));
                }
                details.put("proration", false);
                details.putObject("proration_details").putNull("credited_items");
                details.put("subscription", inv.subscriptionId);
                if (subscriptionItem) {
                    details.put("subscription_item", inv.itemIds.get(i));
                    parent.putNull("invoice_item_details");
                    parent.set("subscription_item_details", details);
                    parent.put("type", "subscription_item_details");
                } else {
                    parent.set("invoice_item_details", details);
                    parent.putNull("subscription_item_details");
                    parent.put("type", "invoice_item_details");
                }
            }
            ObjectNode period = l.putObject("period");
            period.put("end", subscriptionItem ? created + MONTH : created);
            period.put("start", created);
            if (release.atLeast(Release.ACACIA)) {
                l.putArray("pretax_credit_amounts");
            }
            if (basil) {
                ObjectNode pricing = l.putObject("pricing");
                ObjectNode details = pricing.putObject("price_details");
                details.put("price", inv.priceIds.get(i));
                details.put("product", inv.productIds.get(i));
                pricing.put("type", "price_details");
                pricing.put("unit_amount_decimal", unitAmountDecimal(line));
            } else {
                l.set("plan", subscriptionItem ? planObject(inv, i) : null);
                l.set("price", priceObject(inv, i));
                l.put("proration", false);
                l.putObject("proration_details").putNull("credited_items");
            }
            l.put("quantity", line.quantity());
            if (release.atLeast(Release.DAHLIA)) {
                l.put("quantity_decimal", String.valueOf(line.quantity()));
            }
            l.put("subscription", inv.subscriptionId);
            if (!basil && subscriptionItem) {
                l.put("subscription_item", inv.itemIds.get(i));
            }
            if (release.atLeast(Release.CLOVER)) {
                l.put("subtotal", line.amountMinor());
            }
            l.putArray(basil ? "taxes" : "tax_amounts")
                    .add(taxAmount(inv, inv.lineTax[i], line.amountMinor() - inv.lineDiscount[i]));
            if (!basil) {
                l.putArray("tax_rates");
                l.put("type", subscriptionItem ? "subscription" : "invoiceitem");
                l.put("unit_amount_excluding_tax", unitAmountDecimal(line));
            }
        }
        lines.put("has_more", false);
        lines.put("total_count", spec.lines().size());
        lines.put("url", "/v1/invoices/" + inv.id + "/lines");
        return lines;
    }

    /** A tax amount as the version renders it: {@code tax_amounts} up to acacia, {@code taxes} from basil. */
    private ObjectNode taxAmount(StripeInvoice inv, long amount, long taxable) {
        ObjectNode t = JSON.createObjectNode();
        t.put("amount", amount);
        String reason = inv.automaticTax()
                ? (inv.spec.taxRatePercent().signum() == 0 ? "zero_rated" : "standard_rated")
                // a manual tax rate gives no reason: null up to acacia, "not_available" (not nullable) from basil
                : (release.atLeast(Release.BASIL) ? "not_available" : null);
        if (release.atLeast(Release.BASIL)) {
            t.put("tax_behavior", "exclusive");
            t.putObject("tax_rate_details").put("tax_rate", inv.taxRateId);
            t.put("taxability_reason", reason);
            t.put("taxable_amount", taxable);
            t.put("type", "tax_rate_details");
        } else {
            t.put("inclusive", false);
            t.put("tax_rate", inv.taxRateId);
            t.put("taxability_reason", reason);
            t.put("taxable_amount", taxable);
        }
        return t;
    }

    private ObjectNode taxRateObject(StripeInvoice inv) {
        String country = inv.accountCountry();
        boolean us = country.equals("US");
        BigDecimal rate = inv.spec.taxRatePercent();
        ObjectNode r = JSON.createObjectNode();
        r.put("id", inv.taxRateId);
        r.put("object", "tax_rate");
        r.put("active", true);
        r.put("country", country);
        r.put("created", objectCreated.getOrDefault(inv.taxRateId, inv.spec.createdEpochSeconds()));
        r.put("description", us ? "California sales tax" : country + " VAT standard rate");
        r.put("display_name", us ? "Sales Tax" : "VAT");
        r.put("effective_percentage", rate.doubleValue());
        if (release.atLeast(Release.ACACIA)) {
            r.putNull("flat_amount");
        }
        r.put("inclusive", false);
        r.put("jurisdiction", us ? "CA" : country);
        r.put("jurisdiction_level", us ? "state" : "country");
        r.put("livemode", false);
        r.putObject("metadata");
        r.put("percentage", rate.doubleValue());
        if (release.atLeast(Release.ACACIA)) {
            r.put("rate_type", "percentage");
        }
        r.put("state", us ? "CA" : null);
        r.put("tax_type", us ? "sales_tax" : "vat");
        return r;
    }

    private ObjectNode discountObject(StripeInvoice inv) {
        boolean subscription = inv.spec.kind() == InvoiceSpec.Kind.SUBSCRIPTION;
        ObjectNode d = JSON.createObjectNode();
        d.put("id", inv.discountId);
        d.put("object", "discount");
        d.putNull("checkout_session");
        ObjectNode coupon = d.putObject("coupon");
        coupon.put("id", inv.couponId);
        coupon.put("object", "coupon");
        coupon.putNull("amount_off");
        coupon.put("created", inv.spec.createdEpochSeconds() - 90 * DAY);
        coupon.putNull("currency");
        coupon.put("duration", "once");
        coupon.putNull("duration_in_months");
        coupon.put("livemode", false);
        coupon.putNull("max_redemptions");
        coupon.putObject("metadata");
        coupon.put("name", inv.spec.discountPercent().stripTrailingZeros().toPlainString() + "% off");
        coupon.put("percent_off", inv.spec.discountPercent().doubleValue());
        coupon.putNull("redeem_by");
        coupon.put("times_redeemed", 1);
        coupon.put("valid", true);
        d.put("customer", inv.spec.customerId());
        d.putNull("end");
        d.put("invoice", subscription ? null : inv.id);
        d.putNull("invoice_item");
        d.putNull("promotion_code");
        d.put("start", inv.spec.createdEpochSeconds());
        d.put("subscription", subscription ? inv.subscriptionId : null);
        d.putNull("subscription_item");
        return d;
    }

    private ObjectNode priceObject(StripeInvoice inv, int i) {
        InvoiceSpec.Line line = inv.spec.lines().get(i);
        boolean recurring = inv.lineIsSubscriptionItem(i);
        ObjectNode p = JSON.createObjectNode();
        p.put("id", inv.priceIds.get(i));
        p.put("object", "price");
        p.put("active", recurring);
        p.put("billing_scheme", "per_unit");
        p.put("created", priceCreated(inv, i));
        p.put("currency", currency(inv));
        p.putNull("custom_unit_amount");
        p.put("livemode", false);
        p.putNull("lookup_key");
        p.putObject("metadata");
        p.putNull("nickname");
        p.put("product", inv.productIds.get(i));
        if (recurring) {
            ObjectNode r = p.putObject("recurring");
            r.putNull("aggregate_usage");
            r.put("interval", "month");
            r.put("interval_count", 1);
            r.putNull("meter");
            r.putNull("trial_period_days");
            r.put("usage_type", "licensed");
        } else {
            p.putNull("recurring");
        }
        p.put("tax_behavior", "exclusive");
        p.putNull("tiers_mode");
        p.putNull("transform_quantity");
        p.put("type", recurring ? "recurring" : "one_time");
        p.put("unit_amount", unitAmount(line));
        p.put("unit_amount_decimal", unitAmountDecimal(line));
        return p;
    }

    private ObjectNode planObject(StripeInvoice inv, int i) {
        InvoiceSpec.Line line = inv.spec.lines().get(i);
        ObjectNode p = JSON.createObjectNode();
        p.put("id", inv.priceIds.get(i)); // a recurring price is also its plan, under the same id
        p.put("object", "plan");
        p.put("active", true);
        p.putNull("aggregate_usage");
        p.put("amount", unitAmount(line));
        p.put("amount_decimal", unitAmountDecimal(line));
        p.put("billing_scheme", "per_unit");
        p.put("created", priceCreated(inv, i));
        p.put("currency", currency(inv));
        p.put("interval", "month");
        p.put("interval_count", 1);
        p.put("livemode", false);
        p.putObject("metadata");
        p.putNull("meter");
        p.putNull("nickname");
        p.put("product", inv.productIds.get(i));
        p.putNull("tiers_mode");
        p.putNull("transform_usage");
        p.putNull("trial_period_days");
        p.put("usage_type", "licensed");
        return p;
    }

    private long priceCreated(StripeInvoice inv, int i) {
        return objectCreated.getOrDefault(inv.priceIds.get(i), inv.spec.createdEpochSeconds());
    }

    private ObjectNode invoicePaymentObject(StripeInvoice inv, Paid p) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", p.invoicePaymentId);
        o.put("object", "invoice_payment");
        o.put("amount_paid", p.amount);
        o.put("amount_requested", p.amount);
        o.put("created", p.createdAt);
        o.put("currency", currency(inv));
        o.put("invoice", inv.id);
        o.put("is_default", p.isDefault);
        o.put("livemode", false);
        ObjectNode payment = o.putObject("payment");
        payment.put("payment_intent", p.paymentIntentId);
        payment.put("type", "payment_intent");
        o.put("status", "paid");
        ObjectNode transitions = o.putObject("status_transitions");
        transitions.putNull("canceled_at");
        transitions.put("paid_at", p.paidAt);
        return o;
    }

    private ObjectNode chargeObject(StripeInvoice inv, Paid p) {
        Profile who = profile(inv.spec);
        String country = inv.accountCountry();
        ObjectNode c = JSON.createObjectNode();
        c.put("id", p.chargeId);
        c.put("object", "charge");
        c.put("amount", p.amount);
        c.put("amount_captured", p.amount);
        c.put("amount_refunded", p.refunded);
        c.putNull("application");
        c.putNull("application_fee");
        c.putNull("application_fee_amount");
        c.put("balance_transaction", p.balanceTransactionId);
        ObjectNode billing = c.putObject("billing_details");
        billing.set("address", address(who, false));
        billing.put("email", who.email);
        billing.put("name", who.name);
        billing.putNull("phone");
        if (release.atLeast(Release.CLOVER)) {
            billing.putNull("tax_id");
        }
        c.put("calculated_statement_descriptor", ACCOUNT_NAMES.getOrDefault(country, "Acme Software")
                .toUpperCase(Locale.ROOT).replace(".", ""));
        c.put("captured", true);
        c.put("created", p.paidAt - 2);
        c.put("currency", currency(inv));
        c.put("customer", inv.spec.customerId());
        c.put("description", inv.spec.kind() == InvoiceSpec.Kind.SUBSCRIPTION ? "Subscription update"
                : "Payment for Invoice");
        c.put("disputed", p.dispute != null);
        c.putNull("failure_balance_transaction");
        c.putNull("failure_code");
        c.putNull("failure_message");
        c.putObject("fraud_details");
        if (!release.atLeast(Release.BASIL)) {
            c.put("invoice", inv.id);
        }
        c.put("livemode", false);
        c.putObject("metadata"); // Stripe copies no invoice metadata to the charge
        c.putNull("on_behalf_of");
        ObjectNode outcome = c.putObject("outcome");
        if (release.atLeast(Release.ACACIA)) {
            outcome.putNull("advice_code");
            outcome.putNull("network_advice_code");
            outcome.putNull("network_decline_code");
        }
        outcome.put("network_status", "approved_by_network");
        outcome.putNull("reason");
        outcome.put("risk_level", "normal");
        outcome.put("risk_score", p.riskScore);
        outcome.put("seller_message", "Payment complete.");
        outcome.put("type", "authorized");
        c.put("paid", true);
        c.put("payment_intent", p.paymentIntentId);
        c.put("payment_method", who.paymentMethodId);
        ObjectNode details = c.putObject("payment_method_details");
        ObjectNode card = details.putObject("card");
        card.put("amount_authorized", p.amount);
        card.put("authorization_code", p.authorizationCode);
        card.put("brand", "visa");
        ObjectNode checks = card.putObject("checks");
        checks.putNull("address_line1_check");
        checks.put("address_postal_code_check", "pass");
        checks.put("cvc_check", "pass");
        card.put("country", who.country);
        card.put("exp_month", who.expMonth);
        card.put("exp_year", who.expYear);
        card.putObject("extended_authorization").put("status", "disabled");
        card.put("fingerprint", who.fingerprint);
        card.put("funding", "credit");
        card.putObject("incremental_authorization").put("status", "unavailable");
        card.putNull("installments");
        card.put("last4", who.last4);
        card.putNull("mandate");
        card.putObject("multicapture").put("status", "unavailable");
        card.put("network", "visa");
        card.putObject("network_token").put("used", false);
        if (release.atLeast(Release.ACACIA)) {
            card.put("network_transaction_id", p.networkTransactionId);
        }
        ObjectNode overcapture = card.putObject("overcapture");
        overcapture.put("maximum_amount_capturable", p.amount);
        overcapture.put("status", "unavailable");
        if (release.atLeast(Release.ACACIA)) {
            card.put("regulated_status", "unregulated");
        }
        card.putNull("three_d_secure");
        if (release.atLeast(Release.DAHLIA)) {
            card.putNull("transaction_link_id");
        }
        card.putNull("wallet");
        details.put("type", "card");
        c.putNull("receipt_email");
        c.putNull("receipt_number");
        c.put("receipt_url", "https://pay.stripe.com/receipts/invoices/" + p.receiptToken + "?s=ap");
        c.put("refunded", p.refunded == p.amount);
        c.putNull("review");
        c.putNull("shipping");
        c.putNull("source");
        c.putNull("source_transfer");
        c.putNull("statement_descriptor");
        c.putNull("statement_descriptor_suffix");
        c.put("status", "succeeded");
        c.putNull("transfer_data");
        c.putNull("transfer_group");
        return c;
    }

    /** A succeeded card refund of a payment; records the amount on the payment. */
    private ObjectNode refundObject(StripeInvoice inv, Paid p, long amount, long at) {
        Profile who = profile(inv.spec);
        p.refunded += amount;
        inv.lastRefunded = p;
        ObjectNode r = JSON.createObjectNode();
        r.put("id", newId("re_"));
        r.put("object", "refund");
        r.put("amount", amount);
        r.put("balance_transaction", newId("txn_"));
        r.put("charge", p.chargeId);
        r.put("created", at);
        r.put("currency", currency(inv));
        if (release.atLeast(Release.DAHLIA)) {
            r.put("customer", inv.spec.customerId());
            r.putNull("customer_account");
        }
        ObjectNode destination = r.putObject("destination_details");
        ObjectNode card = destination.putObject("card");
        card.put("reference", random(DIGITS, 23));
        card.put("reference_status", "available");
        card.put("reference_type", "acquirer_reference_number");
        card.put("type", "refund");
        destination.put("type", "card");
        r.putObject("metadata"); // Stripe copies no metadata to refunds
        r.put("payment_intent", p.paymentIntentId);
        if (release.atLeast(Release.DAHLIA)) {
            r.put("payment_method", who.paymentMethodId);
        }
        r.put("reason", "requested_by_customer");
        r.putNull("receipt_number");
        r.putNull("source_transfer_reversal");
        r.put("status", "succeeded");
        r.putNull("transfer_reversal");
        return r;
    }

    private ObjectNode creditNoteObject(StripeInvoice inv, String id, int line, long quantity, long[] parts,
                                        boolean pre, ObjectNode refund, long at) {
        InvoiceSpec.Line l = inv.spec.lines().get(line);
        boolean basil = release.atLeast(Release.BASIL);
        long amount = parts[0];
        long discount = parts[1];
        long tax = parts[2];
        long total = amount - discount + tax;
        ObjectNode c = JSON.createObjectNode();
        c.put("id", id);
        c.put("object", "credit_note");
        c.put("amount", total);
        c.put("amount_shipping", 0);
        c.put("created", at);
        c.put("currency", currency(inv));
        c.put("customer", inv.spec.customerId());
        if (release.atLeast(Release.CLOVER)) {
            c.putNull("customer_account");
        }
        c.putNull("customer_balance_transaction");
        c.put("discount_amount", discount);
        ArrayNode discounts = c.putArray("discount_amounts");
        if (inv.discountId != null) {
            discounts.addObject().put("amount", discount).put("discount", inv.discountId);
        }
        c.put("effective_at", at);
        c.put("invoice", inv.id);
        ObjectNode lines = c.putObject("lines");
        lines.put("object", "list");
        ObjectNode cl = lines.putArray("data").addObject();
        cl.put("id", newId("cnli_"));
        cl.put("object", "credit_note_line_item");
        cl.put("amount", amount);
        if (!basil) {
            cl.put("amount_excluding_tax", amount);
        }
        cl.put("description", l.description());
        cl.put("discount_amount", discount);
        ArrayNode lineDiscounts = cl.putArray("discount_amounts");
        if (inv.discountId != null) {
            lineDiscounts.addObject().put("amount", discount).put("discount", inv.discountId);
        }
        cl.put("invoice_line_item", inv.lineIds.get(line));
        cl.put("livemode", false);
        if (release.atLeast(Release.DAHLIA)) {
            cl.putObject("metadata");
        }
        if (release.atLeast(Release.ACACIA)) {
            cl.putArray("pretax_credit_amounts");
        }
        cl.put("quantity", quantity);
        if (!basil) {
            cl.putArray("tax_amounts").add(taxAmount(inv, tax, amount - discount));
        }
        ArrayNode lineRates = cl.putArray("tax_rates");
        if (!inv.automaticTax()) {
            lineRates.add(taxRateObject(inv));
        }
        if (basil) {
            cl.putArray("taxes").add(taxAmount(inv, tax, amount - discount));
        }
        cl.put("type", "invoice_line_item");
        long unit = amount / quantity;
        cl.put("unit_amount", amount % quantity == 0 ? unit : null);
        cl.put("unit_amount_decimal", decimal(amount, quantity));
        if (!basil) {
            cl.put("unit_amount_excluding_tax", decimal(amount, quantity));
        }
        lines.put("has_more", false);
        lines.put("total_count", 1);
        lines.put("url", "/v1/credit_notes/" + id + "/lines");
        c.put("livemode", false);
        c.put("memo", pre ? "Credited before payment" : "Refunded to the card");
        c.putObject("metadata");
        c.put("number", inv.number + "-CN-" + String.format(Locale.ROOT, "%02d", inv.creditNotes));
        c.putNull("out_of_band_amount");
        c.put("pdf", "https://pay.stripe.com/credit_notes/" + accountId + "/test_" + random(ALPHANUMERIC, 72) + "/pdf?s=ap");
        if (basil) {
            c.put("post_payment_amount", pre ? 0 : total);
            c.put("pre_payment_amount", pre ? total : 0);
        }
        if (release.atLeast(Release.ACACIA)) {
            c.putArray("pretax_credit_amounts");
        }
        c.put("reason", pre ? "order_change" : "product_unsatisfactory");
        if (basil) {
            ArrayNode refunds = c.putArray("refunds");
            if (refund != null) {
                ObjectNode r = refunds.addObject();
                r.put("amount_refunded", refund.path("amount").asLong());
                if (release.atLeast(Release.CLOVER)) {
                    r.putNull("payment_record_refund");
                }
                r.put("refund", refund.path("id").asText());
                if (release.atLeast(Release.CLOVER)) {
                    r.put("type", "refund");
                }
            }
        } else {
            c.put("refund", refund == null ? null : refund.path("id").asText());
        }
        c.putNull("shipping_cost");
        c.put("status", "issued");
        c.put("subtotal", amount);
        c.put("subtotal_excluding_tax", amount);
        if (!basil) {
            c.putArray("tax_amounts").add(taxAmount(inv, tax, amount - discount));
        }
        c.put("total", total);
        c.put("total_excluding_tax", amount - discount);
        if (basil) {
            c.putArray("total_taxes").add(taxAmount(inv, tax, amount - discount));
        }
        c.put("type", pre ? "pre_payment" : "post_payment");
        c.putNull("voided_at");
        return c;
    }

    private ObjectNode balanceTransaction(StripeInvoice inv, Paid p, long amount, long fee, long at, String description,
                                          String category, String source) {
        ObjectNode b = JSON.createObjectNode();
        b.put("id", newId("txn_"));
        b.put("object", "balance_transaction");
        b.put("amount", amount);
        b.put("available_on", at);
        if (release.atLeast(Release.BASIL)) {
            b.put("balance_type", "payments");
        }
        b.put("created", at);
        b.put("currency", currency(inv));
        b.put("description", description);
        b.putNull("exchange_rate");
        b.put("fee", fee);
        ArrayNode fees = b.putArray("fee_details");
        if (fee != 0) {
            ObjectNode f = fees.addObject();
            f.put("amount", fee);
            f.putNull("application");
            f.put("currency", currency(inv));
            f.put("description", "Dispute fee");
            f.put("type", "stripe_fee");
        }
        b.put("net", amount - fee);
        b.put("reporting_category", category);
        b.put("source", source);
        b.put("status", "available");
        b.put("type", "adjustment");
        return b;
    }

    private ObjectNode disputeObject(StripeInvoice inv, Paid p) {
        Disputed d = p.dispute;
        Profile who = profile(inv.spec);
        boolean acacia = release.atLeast(Release.ACACIA);
        ObjectNode o = JSON.createObjectNode();
        o.put("id", d.id);
        o.put("object", "dispute");
        o.put("amount", d.amount);
        ArrayNode transactions = o.putArray("balance_transactions");
        d.balanceTransactions.forEach(b -> transactions.add(b.deepCopy()));
        o.put("charge", p.chargeId);
        o.put("created", d.created);
        o.put("currency", currency(inv));
        if (acacia) {
            o.putArray("enhanced_eligibility_types").add("visa_compelling_evidence_3");
        }
        ObjectNode evidence = o.putObject("evidence");
        EVIDENCE_FIELDS.forEach(evidence::putNull);
        if (acacia) {
            evidence.putObject("enhanced_evidence");
        }
        if (d.evidenceSubmitted) {
            evidence.put("customer_email_address", who.email);
            evidence.put("customer_name", who.name);
            evidence.put("product_description", "Software subscription, invoice " + inv.number);
            evidence.put("uncategorized_text", "The customer used the service after the payment; usage logs attached.");
        }
        ObjectNode details = o.putObject("evidence_details");
        details.put("due_by", (d.created / DAY + 10) * DAY - 1);
        if (acacia) {
            ObjectNode vce3 = details.putObject("enhanced_eligibility").putObject("visa_compelling_evidence_3");
            ArrayNode actions = vce3.putArray("required_actions");
            if (!d.evidenceSubmitted) {
                actions.add("missing_prior_undisputed_transactions");
            }
            vce3.put("status", d.evidenceSubmitted ? "not_qualified" : "requires_action");
        }
        details.put("has_evidence", d.evidenceSubmitted);
        details.put("past_due", false);
        details.put("submission_count", d.evidenceSubmitted ? 1 : 0);
        o.put("is_charge_refundable", false);
        o.put("livemode", false);
        o.putObject("metadata"); // Stripe copies no metadata to disputes
        o.put("payment_intent", p.paymentIntentId);
        ObjectNode method = o.putObject("payment_method_details");
        ObjectNode card = method.putObject("card");
        card.put("brand", "visa");
        card.put("case_type", "chargeback");
        if (release.atLeast(Release.DAHLIA)) {
            card.put("network", "visa");
        }
        card.put("network_reason_code", "10.4");
        method.put("type", "card");
        o.put("reason", "fraudulent");
        o.put("status", d.status);
        return o;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private Profile profile(InvoiceSpec spec) {
        return profiles.computeIfAbsent(spec.customerId(), c -> {
            String country = accountCountry(spec.legalEntity());
            String who = spec.globalCustomerId() != null ? spec.globalCustomerId() : spec.customerId();
            String taxIdType = switch (country) {
                case "GB" -> "gb_vat";
                case "US" -> null;
                default -> "eu_vat";
            };
            String taxId = switch (country) {
                case "GB" -> "GB" + random(DIGITS, 9);
                case "FR" -> "FR" + random(DIGITS, 11);
                case "US" -> null;
                default -> country + random(DIGITS, 9);
            };
            return new Profile("Customer " + who, "billing+" + who + "@example.com", country,
                    ADDRESSES.getOrDefault(country, ADDRESSES.get("US")), taxIdType, taxId,
                    "pm_" + random(ALPHANUMERIC, 24), random(DIGITS, 4), random(ALPHANUMERIC, 16),
                    1 + random.nextInt(12), 2027 + random.nextInt(5));
        });
    }

    /** The customer's address, whole on invoices, the country alone in a card's billing details. */
    private static ObjectNode address(Profile who, boolean whole) {
        ObjectNode a = JSON.createObjectNode();
        a.put("city", whole ? who.address[0] : null);
        a.put("country", who.country);
        a.put("line1", whole ? who.address[1] : null);
        a.putNull("line2");
        a.put("postal_code", whole ? who.address[2] : null);
        a.put("state", whole ? who.address[3] : null);
        return a;
    }

    private static ObjectNode metadata(InvoiceSpec spec) {
        ObjectNode metadata = JSON.createObjectNode();
        if (spec.globalCustomerId() != null) {
            metadata.put("global_customer_id", spec.globalCustomerId());
        }
        metadata.put("legal_entity", spec.legalEntity());
        return metadata;
    }

    private static String currency(StripeInvoice invoice) {
        return invoice.spec.currency().toLowerCase(Locale.ROOT);
    }

    private static String accountCountry(String legalEntity) {
        return legalEntity.length() >= 2 && legalEntity.substring(0, 2).chars().allMatch(Character::isLetter)
                ? legalEntity.substring(0, 2).toUpperCase(Locale.ROOT) : "US";
    }

    private static long percentOf(long amount, BigDecimal percent) {
        return BigDecimal.valueOf(amount).multiply(percent).movePointLeft(2).setScale(0, RoundingMode.HALF_UP)
                .longValueExact();
    }

    private static Long unitAmount(InvoiceSpec.Line line) {
        return line.amountMinor() % line.quantity() == 0 ? line.amountMinor() / line.quantity() : null;
    }

    private static String unitAmountDecimal(InvoiceSpec.Line line) {
        return decimal(line.amountMinor(), line.quantity());
    }

    /** {@code amount / quantity} as Stripe writes decimal amounts: up to 12 decimals, no trailing zeros. */
    private static String decimal(long amount, long quantity) {
        return BigDecimal.valueOf(amount).divide(BigDecimal.valueOf(quantity), 12, RoundingMode.HALF_UP)
                .stripTrailingZeros().toPlainString();
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }

    /** The node with Stripe's key order, recursively: {@code id}, {@code object}, then the other keys alphabetically. */
    private static ObjectNode stripeOrder(ObjectNode node) {
        ObjectNode out = JSON.createObjectNode();
        TreeMap<String, JsonNode> rest = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            rest.put(e.getKey(), ordered(e.getValue()));
        }
        for (String first : List.of("id", "object")) {
            JsonNode v = rest.remove(first);
            if (v != null) {
                out.set(first, v);
            }
        }
        rest.forEach(out::set);
        return out;
    }

    private static JsonNode ordered(JsonNode node) {
        if (node.isObject()) {
            return stripeOrder((ObjectNode) node);
        }
        if (node.isArray()) {
            ArrayNode out = JSON.createArrayNode();
            node.forEach(element -> out.add(ordered(element)));
            return out;
        }
        return node;
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
