package io.interchange.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.model.CustomerRef;
import io.interchange.model.Invoice;
import io.interchange.model.InvoiceLine;
import io.interchange.model.TaxLine;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Baseline: what the edge's mappings do to an invoice.finalized of API 2024-06-20 ({@code stripe/normalise-2024}, then
 * {@code stripe/invoice}), written by hand as one Jackson tree walk that builds the canonical {@link Invoice}
 * directly. Same semantics on what it reads: required fields (missing, null or blank is an error naming the field),
 * JSLT's {@code fallback} (first value that is not null, {} or []), sums of absent arrays are 0, exclusive and
 * inclusive tax apart, credit grants, dates as calendar days in the entity's zone, currency and status upper-cased.
 */
final class HandInvoiceMapper {

    private HandInvoiceMapper() {
    }

    static Invoice map(JsonNode event, java.time.ZoneId zone) {
        JsonNode inv = required(event.path("data").path("object"), "data.object");
        String customer = text(required(inv.path("customer"), "data.object.customer"));
        String currency = text(required(inv.path("currency"), "data.object.currency")).toUpperCase(Locale.ROOT);

        JsonNode globalId = fallback(inv.path("metadata").path("global_customer_id"), null);
        CustomerRef customerRef = new CustomerRef(globalId != null ? text(globalId) : "billing:" + customer,
                "billing", customer);

        JsonNode created = required(inv.path("created"), "data.object.created");
        JsonNode issued = fallback(inv.path("status_transitions").path("finalized_at"), created);
        JsonNode due = inv.path("due_date");

        JsonNode lineNodes = required(inv.path("lines").path("data"), "data.object.lines.data");
        List<InvoiceLine> lines = new ArrayList<>(lineNodes.size());
        for (JsonNode l : lineNodes) {
            JsonNode quantity = fallback(l.path("quantity"), null);
            JsonNode product = fallback(l.path("pricing").path("price_details").path("product"), l.path("price").path("product"));
            lines.add(new InvoiceLine(
                    text(required(l.path("id"), "data.object.lines.data[].id")),
                    textOrNull(l.path("description")),
                    quantity != null ? integer(quantity) : 1,
                    integer(required(l.path("amount"), "data.object.lines.data[].amount")),
                    sumTaxes(l.path("tax_amounts"), false),
                    sumTaxes(l.path("tax_amounts"), true),
                    product != null ? textOrNull(product) : null));
        }

        JsonNode taxNodes = inv.path("total_tax_amounts");
        List<TaxLine> taxes = new ArrayList<>(taxNodes.size());
        for (JsonNode t : taxNodes) {
            JsonNode taxable = fallback(t.path("taxable_amount"), null);
            JsonNode inclusive = fallback(t.path("inclusive"), null);
            String rate = textOrNull(t.path("tax_rate"));
            taxes.add(new TaxLine(rate, rate,
                    taxable != null ? integer(taxable) : null,
                    integer(required(t.path("amount"), "data.object.total_tax_amounts[].amount")),
                    inclusive != null && inclusive.booleanValue()));
        }

        return new Invoice(
                text(required(inv.path("id"), "data.object.id")),
                text(required(inv.path("number"), "data.object.number")),
                customerRef,
                currency,
                text(required(inv.path("status"), "data.object.status")).toUpperCase(Locale.ROOT),
                integer(required(inv.path("subtotal"), "data.object.subtotal")),
                sumAmounts(inv.path("total_discount_amounts")),
                pretaxCredits(inv.path("total_pretax_credit_amounts")),
                sumTaxes(taxNodes, false),
                sumTaxes(taxNodes, true),
                integer(required(inv.path("total"), "data.object.total")),
                inv.path("amount_remaining").isNumber() ? integer(inv.path("amount_remaining")) : 0,
                0,
                day(fallback(inv.path("effective_at"), issued), zone),
                isTrue(due) ? day(due, zone) : null,
                lines,
                taxes);
    }

    /** JSLT {@code required()} as defined in MappingFunctions: missing, null or blank text is an error. */
    private static JsonNode required(JsonNode v, String path) {
        if (v.isMissingNode() || v.isNull() || (v.isTextual() && v.asText().isBlank())) {
            throw new IllegalArgumentException("missing required field " + path);
        }
        return v;
    }

    /** JSLT {@code fallback(a, b)}: a if it is a value (not null/missing, not {} or []), else b. */
    private static JsonNode fallback(JsonNode a, JsonNode b) {
        boolean value = !a.isMissingNode() && !a.isNull() && !(a.isContainerNode() && a.isEmpty());
        return value ? a : b;
    }

    /** JSLT truthiness, as {@code if (...)} tests it. */
    private static boolean isTrue(JsonNode v) {
        return !v.isMissingNode() && !v.isNull() && !(v.isBoolean() && !v.booleanValue())
                && !(v.isContainerNode() && v.isEmpty()) && !(v.isTextual() && v.asText().isEmpty())
                && !(v.isNumber() && v.doubleValue() == 0.0);
    }

    private static long sumTaxes(JsonNode array, boolean inclusive) {
        long sum = 0;
        for (JsonNode item : array) {
            if (item.path("inclusive").asBoolean(false) == inclusive) sum += integer(item.path("amount"));
        }
        return sum;
    }

    private static long pretaxCredits(JsonNode array) {
        long sum = 0;
        for (JsonNode item : array) {
            if (!"discount".equals(item.path("type").asText())) sum += integer(item.path("amount"));
        }
        return sum;
    }

    private static long sumAmounts(JsonNode array) {
        long sum = 0;
        for (JsonNode item : array) {
            JsonNode amount = item.path("amount");
            if (!amount.isMissingNode() && !amount.isNull()) sum += integer(amount);
        }
        return sum;
    }

    /** Strict like the runtime's binding: a string where a number belongs is an error, not coerced. */
    private static long integer(JsonNode v) {
        if (!v.isIntegralNumber()) {
            throw new IllegalArgumentException("expected an integer, got " + v);
        }
        return v.longValue();
    }

    private static String text(JsonNode v) {
        if (!v.isTextual()) {
            throw new IllegalArgumentException("expected a string, got " + v);
        }
        return v.textValue();
    }

    private static String textOrNull(JsonNode v) {
        return v.isMissingNode() || v.isNull() ? null : text(v);
    }

    private static String day(JsonNode epochSeconds, java.time.ZoneId zone) {
        if (!epochSeconds.isNumber()) {
            throw new IllegalArgumentException("expected epoch seconds, got " + epochSeconds);
        }
        return Instant.ofEpochSecond(epochSeconds.longValue()).atZone(zone).toLocalDate().toString();
    }
}
