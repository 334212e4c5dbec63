package io.interchange.connectors.billing;

import io.interchange.model.CreditMemo;
import io.interchange.model.CustomerRef;
import io.interchange.model.Dispute;
import io.interchange.model.Invoice;
import io.interchange.model.InvoiceLine;
import io.interchange.model.Payment;
import io.interchange.model.Refund;
import io.interchange.model.TaxLine;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Currency;
import java.util.regex.Pattern;

/**
 * What a canonical billing object must satisfy before it is published, whatever the sender's shape: ids that fit
 * where they are stored and keyed, an ISO 4217 currency, amounts in a range no sum can overflow, and real dates.
 * A mapping turns a malformed field into something of the right type (a timestamp of -1 into 1969-12-31, a currency of
 * 978 into "978"); these checks catch what the mapping cannot know is nonsense.
 */
final class CanonicalChecks {

    /** Ids are Kafka keys and headers and ERP references: bounded and free of control characters. */
    static final int MAX_ID_LENGTH = 255;
    /** 99,999,999,999.99 in a two-decimal currency; 50,000 such amounts still sum without overflow. */
    static final long MAX_AMOUNT_MINOR = 9_999_999_999_999L;
    static final int MIN_YEAR = 2000;
    static final int MAX_YEAR = 9999;

    private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");

    private CanonicalChecks() {
    }

    /** Why the canonical object cannot be published, or null when it can. */
    static String problem(Object canonical) {
        if (canonical instanceof Invoice i) return invoice(i);
        if (canonical instanceof Payment p) return payment(p);
        if (canonical instanceof Refund r) return refund(r);
        if (canonical instanceof CreditMemo c) return creditMemo(c);
        if (canonical instanceof Dispute d) return dispute(d);
        return "unexpected canonical type " + canonical.getClass().getSimpleName();
    }

    private static String invoice(Invoice i) {
        String p = first(id("invoiceId", i.invoiceId(), true), id("number", i.number(), true), customer(i.customer()),
                currency(i.currency()), id("status", i.status(), true), date("issuedOn", i.issuedOn(), true),
                date("dueOn", i.dueOn(), false), amount("subtotalMinor", i.subtotalMinor(), true),
                amount("discountMinor", i.discountMinor(), false), amount("creditsMinor", i.creditsMinor(), false),
                amount("taxMinor", i.taxMinor(), true), amount("inclusiveTaxMinor", i.inclusiveTaxMinor(), true),
                amount("totalMinor", i.totalMinor(), true), amount("remainingMinor", i.remainingMinor(), true),
                amount("overpaidMinor", i.overpaidMinor(), false));
        if (p != null) return p;
        for (int n = 0; n < i.lines().size(); n++) {
            InvoiceLine l = i.lines().get(n);
            String at = "lines[" + n + "].";
            p = first(id(at + "lineId", l.lineId(), true), id(at + "productId", l.productId(), false),
                    amount(at + "amountMinor", l.amountMinor(), true), amount(at + "taxMinor", l.taxMinor(), true),
                    amount(at + "inclusiveTaxMinor", l.inclusiveTaxMinor(), true),
                    l.quantity() < 0 ? at + "quantity " + l.quantity() + " is negative" : null);
            if (p != null) return p;
        }
        for (int n = 0; n < i.taxes().size(); n++) {
            TaxLine t = i.taxes().get(n);
            String at = "taxes[" + n + "].";
            p = first(id(at + "taxRateId", t.taxRateId(), false), id(at + "taxCode", t.taxCode(), false),
                    t.taxableMinor() == null ? null : amount(at + "taxableMinor", t.taxableMinor(), true),
                    amount(at + "amountMinor", t.amountMinor(), true));
            if (p != null) return p;
        }
        return null;
    }

    private static String payment(Payment p) {
        return first(id("paymentId", p.paymentId(), true), id("invoiceId", p.invoiceId(), true),
                id("invoiceNumber", p.invoiceNumber(), true), customer(p.customer()), currency(p.currency()),
                amount("amountMinor", p.amountMinor(), false), date("occurredOn", p.occurredOn(), true),
                p.attemptCount() < 0 ? "attemptCount " + p.attemptCount() + " is negative" : null);
    }

    private static String refund(Refund r) {
        return first(id("refundId", r.refundId(), true), id("paymentId", r.paymentId(), true),
                id("invoiceId", r.invoiceId(), false), customer(r.customer()), currency(r.currency()),
                amount("amountMinor", r.amountMinor(), false), date("occurredOn", r.occurredOn(), true),
                id("status", r.status(), true));
    }

    private static String creditMemo(CreditMemo c) {
        String p = first(id("creditNoteId", c.creditNoteId(), true), id("number", c.number(), true),
                id("invoiceId", c.invoiceId(), true), customer(c.customer()), currency(c.currency()),
                id("type", c.type(), true), date("issuedOn", c.issuedOn(), true),
                amount("subtotalMinor", c.subtotalMinor(), false), amount("discountMinor", c.discountMinor(), false),
                amount("creditsMinor", c.creditsMinor(), false), amount("shippingMinor", c.shippingMinor(), false),
                amount("taxMinor", c.taxMinor(), false), amount("inclusiveTaxMinor", c.inclusiveTaxMinor(), false),
                amount("totalMinor", c.totalMinor(), false), amount("prePaymentMinor", c.prePaymentMinor(), false),
                amount("refundedMinor", c.refundedMinor(), false), amount("outOfBandMinor", c.outOfBandMinor(), false),
                amount("creditedMinor", c.creditedMinor(), true));
        if (p != null) return p;
        for (int n = 0; n < c.taxes().size(); n++) {
            TaxLine t = c.taxes().get(n);
            p = first(t.taxableMinor() == null ? null : amount("taxes[" + n + "].taxableMinor", t.taxableMinor(), false),
                    amount("taxes[" + n + "].amountMinor", t.amountMinor(), false));
            if (p != null) return p;
        }
        return null;
    }

    private static String dispute(Dispute d) {
        return first(id("disputeId", d.disputeId(), true), id("paymentId", d.paymentId(), true), customer(d.customer()),
                currency(d.currency()), amount("amountMinor", d.amountMinor(), false),
                amount("movedMinor", d.movedMinor(), true), amount("feeMinor", d.feeMinor(), false),
                id("status", d.status(), true), date("occurredOn", d.occurredOn(), true));
    }

    private static String customer(CustomerRef c) {
        if (c == null) return "missing customer";
        // the billing customer may be null at Stripe (guest payments, deleted customers): the global id is what keys
        return first(id("customer.globalId", c.globalId(), true), id("customer.systemId", c.systemId(), false));
    }

    private static String id(String field, String value, boolean required) {
        if (value == null || value.isBlank()) return required ? "missing " + field : null;
        if (value.length() > MAX_ID_LENGTH) {
            return field + " is " + value.length() + " characters long, more than " + MAX_ID_LENGTH;
        }
        if (hasControl(value)) return field + " '" + BillingEventTranslator.printable(value) + "' contains control characters";
        return null;
    }

    private static String currency(String code) {
        if (code == null || code.isBlank()) return "missing currency";
        try {
            if (CURRENCY.matcher(code).matches() && Currency.getInstance(code).getDefaultFractionDigits() >= 0) return null;
        } catch (IllegalArgumentException e) {
            // not an ISO 4217 code
        }
        return "currency '" + BillingEventTranslator.printable(code.length() > 20 ? code.substring(0, 20) + "…" : code)
                + "' is not an ISO 4217 currency code";
    }

    /** Minor units; negative only where the model allows credits (invoice lines, totals and tax of a credit). */
    private static String amount(String field, long minor, boolean mayBeNegative) {
        if (!mayBeNegative && minor < 0) return field + " " + minor + " is negative";
        if (minor > MAX_AMOUNT_MINOR || minor < -MAX_AMOUNT_MINOR) {
            return field + " " + minor + " is out of range (at most " + MAX_AMOUNT_MINOR + " minor units)";
        }
        return null;
    }

    private static String date(String field, String value, boolean required) {
        if (value == null) return required ? "missing " + field + " (no valid date or timestamp in the event)" : null;
        try {
            if (value.length() == 10) {
                int year = LocalDate.parse(value).getYear();
                if (year >= MIN_YEAR && year <= MAX_YEAR) return null;
            }
        } catch (DateTimeParseException e) {
            // reported below
        }
        return field + " '" + BillingEventTranslator.printable(value.length() > 30 ? value.substring(0, 30) + "…" : value)
                + "' is not a date between " + MIN_YEAR + "-01-01 and " + MAX_YEAR + "-12-31 (check the event's timestamps)";
    }

    static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (isControl(s.charAt(i))) return true;
        }
        return false;
    }

    /** Control (Cc) and format (Cf, e.g. bidirectional overrides, zero-width spaces) characters. */
    static boolean isControl(char c) {
        int type = Character.getType(c);
        return type == Character.CONTROL || type == Character.FORMAT;
    }

    private static String first(String... problems) {
        for (String p : problems) {
            if (p != null) return p;
        }
        return null;
    }
}
