package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A day of one legal entity's invoices at volume, for reconciliation tests and benchmarks: {@code count} finalized
 * invoices served by the billing platform's list endpoint as they are asked for ({@link #listing}: made from one
 * invoice object, never all held), the journal entry S/4HANA holds for each ({@link #postTo}) and the confirmation the
 * runtime recorded for it ({@link #confirm}), with chosen invoices differing: not posted (neither entry nor
 * confirmation), posted with another amount, posted but not confirmed, and entries posted that billing does not hold.
 */
public final class ReconciliationVolume {

    /** Which invoices (by index, 0 to count - 1) differ, and how many entries only the ERP holds. */
    public record Differences(Set<Integer> notPosted, Set<Integer> otherAmount, Set<Integer> unconfirmed,
                              int postedNotBilled) {
        public static final Differences NONE = new Differences(Set.of(), Set.of(), Set.of(), 0);
    }

    private static final String RECEIVABLE = "12600000";
    private static final String REVENUE = "40000000";
    /** The amount an entry of {@link Differences#otherAmount} differs by, in minor units. */
    public static final long AMOUNT_OFF = 100;

    private final ObjectNode template;
    private final String entity;
    private final String companyCode;
    private final String currency;
    private final ZoneId zone;
    private final LocalDate day;
    private final int count;
    private final String s4User;
    private final Differences differences;
    private final long total;
    private final long dayStart;
    /** The day in ids, numbers and documents: volumes of different days do not collide. */
    private final String tag;

    /**
     * @param invoice a finalized invoice object (its shape that of the API version the runtime reads in), stamped
     *                with each invoice's id, number, times, currency and entity
     * @param s4User  the communication user the runtime reads S/4HANA's ledger as (its own postings)
     */
    public ReconciliationVolume(JsonNode invoice, String entity, String companyCode, String currency, ZoneId zone,
                                LocalDate day, int count, String s4User, Differences differences) {
        this.template = (ObjectNode) invoice.deepCopy();
        inCurrency(template, currency.toLowerCase(Locale.ROOT));
        this.entity = entity;
        this.companyCode = companyCode;
        this.currency = currency;
        this.zone = zone;
        this.day = day;
        this.count = count;
        this.s4User = s4User;
        this.differences = differences;
        this.total = invoice.path("total").asLong();
        this.dayStart = day.atStartOfDay(zone).toEpochSecond();
        this.tag = day.format(java.time.format.DateTimeFormatter.ofPattern("yyMMdd"));
        if (total <= 0) throw new IllegalArgumentException("the invoice to stamp has no positive total");
    }

    /** Every {@code currency} of the object and its parts (lines, amounts) set to {@code currency}. */
    private static void inCurrency(JsonNode node, String currency) {
        if (node instanceof ObjectNode o && o.has("currency")) o.put("currency", currency);
        for (JsonNode child : node) inCurrency(child, currency);
    }

    public int count() {
        return count;
    }

    /** Invoice {@code i}'s number: the billing reference of its document ({@code INVOICE|<number>}). */
    public String number(int i) {
        return String.format(Locale.ROOT, "V%s-%07d", tag, i);
    }

    private String id(int i) {
        return String.format(Locale.ROOT, "in_v%s%09d", tag, i);
    }

    /** Created between 01:00 and 21:00 of the day, in index order (several in one second at volume). */
    private long created(int i) {
        return dayStart + 3600 + (long) i * 72_000 / Math.max(1, count);
    }

    /** Invoice {@code i} as the list endpoint serves it. */
    public ObjectNode invoice(int i) {
        ObjectNode o = template.deepCopy();
        long t = created(i);
        o.put("id", id(i)).put("number", number(i)).put("created", t).put("effective_at", t);
        if (o.path("status_transitions").isObject()) ((ObjectNode) o.path("status_transitions")).put("finalized_at", t);
        o.withObjectProperty("metadata").put("legal_entity", entity).put("global_customer_id", "gc-vol-" + i);
        return o;
    }

    /**
     * {@code /v1/invoices} as Stripe lists it (newest first, {@code created} filters, {@code starting_after}), each
     * invoice made when a page asks for it; {@link StripeApiPeer#serveList serve} it on the invoices path.
     */
    public StripeApiPeer.Listing listing() {
        return (path, gte, lte, startingAfter, max) -> {
            int from = count - 1;
            if (startingAfter != null) {
                String prefix = "in_v" + tag;
                if (!startingAfter.startsWith(prefix) || !startingAfter.substring(prefix.length()).matches("\\d{9}")) {
                    return null;
                }
                from = Integer.parseInt(startingAfter.substring(prefix.length())) - 1;
            }
            List<JsonNode> page = new ArrayList<>(max);
            for (int i = from; i >= 0 && page.size() < max; i--) {
                long t = created(i);
                if (t < gte) break; // older ones are older still
                if (t <= lte) page.add(invoice(i));
            }
            return page;
        };
    }

    /** The ERP document of invoice {@code i} (company/fiscal year/number), as confirmations name it. */
    private String document(int i) {
        return String.format(Locale.ROOT, "%02d%08d", day.getDayOfMonth(), i);
    }

    /** Puts the journal entries S/4HANA holds: one per invoice posted, and those billing does not hold. */
    public void postTo(S4HanaPeer s4) {
        List<S4HanaPeer.Posting> batch = new ArrayList<>(10_000);
        for (int i = 0; i < count + differences.postedNotBilled(); i++) {
            if (i < count && differences.notPosted().contains(i)) continue;
            long amount = total + (differences.otherAmount().contains(i) ? AMOUNT_OFF : 0);
            BigDecimal money = BigDecimal.valueOf(amount, 2);
            String number = number(i);
            batch.add(new S4HanaPeer.Posting("", "", companyCode, String.valueOf(day.getYear()), document(i), number,
                    number, "INVOICE " + number, day, currency, List.of(
                    new S4HanaPeer.Line(RECEIVABLE, money, "S", false, "Invoice " + number),
                    new S4HanaPeer.Line(REVENUE, money.negate(), "H", false, "Subscription")), "", s4User));
            if (batch.size() == 10_000) {
                s4.putPostings(batch);
                batch.clear();
            }
        }
        s4.putPostings(batch);
    }

    /** Inserts the confirmations the runtime recorded: one per entry posted, but for those left unconfirmed. */
    public void confirm(Connection c) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO erp_confirmation (posting_key, event_id, "
                     + "legal_entity, erp_target, company_code, accounting_document, fiscal_year, correlation_id, "
                     + "created_at) VALUES (?, ?, ?, 'S4HANA', ?, ?, ?, ?, ?)")) {
            c.setAutoCommit(false);
            int pending = 0;
            for (int i = 0; i < count + differences.postedNotBilled(); i++) {
                if (i < count && (differences.notPosted().contains(i) || differences.unconfirmed().contains(i))) continue;
                String event = String.format(Locale.ROOT, "evt_v%s%09d", tag, i);
                ps.setString(1, "ledger:" + event);
                ps.setString(2, event);
                ps.setString(3, entity);
                ps.setString(4, companyCode);
                ps.setString(5, document(i));
                ps.setString(6, String.valueOf(day.getYear()));
                ps.setString(7, "corr-vol-" + i);
                ps.setTimestamp(8, Timestamp.from(Instant.ofEpochSecond(created(Math.min(i, count - 1)) + 120)));
                ps.addBatch();
                if (++pending == 5_000) {
                    ps.executeBatch();
                    c.commit();
                    pending = 0;
                }
            }
            ps.executeBatch();
            c.commit();
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }
}
