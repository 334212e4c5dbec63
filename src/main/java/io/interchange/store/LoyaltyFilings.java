package io.interchange.store;

import javax.sql.DataSource;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The daily filing of loyalty points transactions: transactions recorded as they arrive, then assigned to a filing of
 * their legal entity once their day has closed. A filing's items never change once assigned, so publishing a filing
 * again (after a crash between assignment and publication) publishes the same event; and an item recorded twice (a
 * redelivered record) is one item.
 */
public class LoyaltyFilings {

    /** One recorded transaction: its canonical event id and canonical JSON. */
    public record Item(String eventId, String transactionId, String legalEntity, LocalDate occurredOn, long amountMinor,
                       String currency, byte[] canonical) {
    }

    /** One filing: a part of an entity's filing of a date. */
    public record Filing(String filingId, String legalEntity, LocalDate filingDate, int part, int transactions,
                         long amountMinor, String currency, Instant publishedAt) {
    }

    private final Jdbc jdbc;
    private final Clock clock;

    LoyaltyFilings(DataSource ds, Clock clock) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    /** The id of an entity's filing of a date (part 1 is the date's first). */
    public static String filingId(String legalEntity, LocalDate date, int part) {
        return "loyalty-filing:" + legalEntity + ":" + date + ":" + part;
    }

    /** Records transactions to be filed, in one commit; one recorded before is left as it is. Returns how many were new. */
    public int record(List<Item> items) {
        int[] counts = jdbc.updateAll("INSERT INTO loyalty_filing_item (event_id, transaction_id, legal_entity, occurred_on, "
                + "amount_minor, currency, canonical, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                items, (ps, i) -> {
                    ps.setString(1, i.eventId());
                    ps.setString(2, i.transactionId());
                    ps.setString(3, i.legalEntity());
                    ps.setDate(4, Date.valueOf(i.occurredOn()));
                    ps.setLong(5, i.amountMinor());
                    ps.setString(6, i.currency());
                    ps.setBytes(7, i.canonical());
                    ps.setObject(8, Jdbc.ts(clock.instant()));
                });
        int added = 0;
        for (int c : counts) added += c == 1 ? 1 : 0;
        return added;
    }

    /**
     * Closes an entity's day: its transactions not filed yet, of that day and any before it (late arrivals), are
     * assigned to filings of that date of at most {@code maxPerPart} transactions each, in one transaction. Returns the
     * filings made; none when the day was closed before (its part 1 exists: transactions arriving later are filed with
     * a later day) or nothing was left to file.
     */
    public List<Filing> close(String legalEntity, LocalDate date, int maxPerPart) {
        List<Filing> made = new ArrayList<>();
        jdbc.allOrNothing(c -> {
            try (PreparedStatement exists = c.prepareStatement(
                    "SELECT 1 FROM loyalty_filing WHERE legal_entity = ? AND filing_date = ?")) {
                exists.setString(1, legalEntity);
                exists.setDate(2, Date.valueOf(date));
                try (ResultSet rs = exists.executeQuery()) {
                    if (rs.next()) return false;
                }
            }
            List<Object[]> open = new ArrayList<>();
            try (PreparedStatement select = c.prepareStatement("SELECT event_id, amount_minor, currency, occurred_on FROM "
                    + "loyalty_filing_item WHERE legal_entity = ? AND filing_id IS NULL AND occurred_on <= ? "
                    + "ORDER BY occurred_on, event_id")) {
                select.setString(1, legalEntity);
                select.setDate(2, Date.valueOf(date));
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        open.add(new Object[]{rs.getString(1), rs.getLong(2), rs.getString(3), rs.getDate(4)});
                    }
                }
            }
            if (open.isEmpty()) return false;
            Instant now = clock.instant();
            for (int from = 0, part = 1; from < open.size(); from += maxPerPart, part++) {
                List<Object[]> items = open.subList(from, Math.min(open.size(), from + maxPerPart));
                String id = filingId(legalEntity, date, part);
                long amount = 0;
                for (Object[] i : items) amount += (Long) i[1];
                String currency = (String) items.get(0)[2];
                try (PreparedStatement insert = c.prepareStatement("INSERT INTO loyalty_filing (filing_id, legal_entity, "
                        + "filing_date, part, transactions, amount_minor, currency, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                    insert.setString(1, id);
                    insert.setString(2, legalEntity);
                    insert.setDate(3, Date.valueOf(date));
                    insert.setInt(4, part);
                    insert.setInt(5, items.size());
                    insert.setLong(6, amount);
                    insert.setString(7, currency);
                    insert.setObject(8, Jdbc.ts(now));
                    insert.executeUpdate();
                }
                // the part is a range of the open items in their filing order: one statement assigns it, and the
                // count says whether any item of the range was filed meanwhile or recorded since the read above
                Object[] first = items.get(0);
                Object[] last = items.get(items.size() - 1);
                try (PreparedStatement assign = c.prepareStatement("UPDATE loyalty_filing_item SET filing_id = ? "
                        + "WHERE legal_entity = ? AND filing_id IS NULL AND occurred_on <= ? "
                        + "AND (occurred_on > ? OR (occurred_on = ? AND event_id >= ?)) "
                        + "AND (occurred_on < ? OR (occurred_on = ? AND event_id <= ?))")) {
                    assign.setString(1, id);
                    assign.setString(2, legalEntity);
                    assign.setDate(3, Date.valueOf(date));
                    assign.setDate(4, (Date) first[3]);
                    assign.setDate(5, (Date) first[3]);
                    assign.setString(6, (String) first[0]);
                    assign.setDate(7, (Date) last[3]);
                    assign.setDate(8, (Date) last[3]);
                    assign.setString(9, (String) last[0]);
                    int n = assign.executeUpdate();
                    if (n != items.size()) {
                        throw new SQLException("filing " + id + " would take " + n + " transaction(s) where "
                                + items.size() + " were read: the entity's transactions changed meanwhile");
                    }
                }
                made.add(new Filing(id, legalEntity, date, part, items.size(), amount, currency, null));
            }
            return true;
        });
        return made;
    }

    /** Filings made but not yet published (a crash came between), oldest first. */
    public List<Filing> unpublished() {
        return jdbc.query("SELECT * FROM loyalty_filing WHERE published_at IS NULL ORDER BY filing_date, legal_entity, part",
                ps -> { }, LoyaltyFilings::filing);
    }

    public Optional<Filing> find(String filingId) {
        return jdbc.query("SELECT * FROM loyalty_filing WHERE filing_id = ?", ps -> ps.setString(1, filingId),
                LoyaltyFilings::filing).stream().findFirst();
    }

    /** The canonical transactions of a filing, in their filing order. */
    public List<byte[]> items(String filingId) {
        return jdbc.query("SELECT canonical FROM loyalty_filing_item WHERE filing_id = ? ORDER BY occurred_on, event_id",
                ps -> ps.setString(1, filingId), rs -> rs.getBytes(1));
    }

    /** The filing a transaction (by canonical event id) was filed in; empty while it waits for its day to close. */
    public Optional<String> filingOf(String eventId) {
        return jdbc.query("SELECT filing_id FROM loyalty_filing_item WHERE event_id = ? AND filing_id IS NOT NULL",
                ps -> ps.setString(1, eventId), rs -> rs.getString(1)).stream().findFirst();
    }

    /** Whether a transaction (by canonical event id) is recorded for filing. */
    public boolean isRecorded(String eventId) {
        return !jdbc.query("SELECT 1 FROM loyalty_filing_item WHERE event_id = ?", ps -> ps.setString(1, eventId),
                rs -> 1).isEmpty();
    }

    /** Whether an entity has transactions recorded and not filed yet of a day or any before it. */
    public boolean hasUnfiled(String legalEntity, LocalDate upTo) {
        return !jdbc.query("SELECT 1 FROM loyalty_filing_item WHERE legal_entity = ? AND filing_id IS NULL "
                + "AND occurred_on <= ? FETCH FIRST 1 ROWS ONLY", ps -> {
                    ps.setString(1, legalEntity);
                    ps.setDate(2, Date.valueOf(upTo));
                }, rs -> 1).isEmpty();
    }

    /** The net amount of an entity's transactions recorded and not filed yet (signed minor units). */
    public long unfiledAmount(String legalEntity) {
        return jdbc.query("SELECT COALESCE(SUM(amount_minor), 0) FROM loyalty_filing_item WHERE legal_entity = ? "
                + "AND filing_id IS NULL", ps -> ps.setString(1, legalEntity), rs -> rs.getLong(1)).get(0);
    }

    /** Transactions recorded and not filed yet, per entity. */
    public long unfiled(String legalEntity) {
        return jdbc.query("SELECT COUNT(*) FROM loyalty_filing_item WHERE legal_entity = ? AND filing_id IS NULL",
                ps -> ps.setString(1, legalEntity), rs -> rs.getLong(1)).get(0);
    }

    /** Marks filings published, in one commit. */
    public void markPublished(List<String> filingIds) {
        Object now = Jdbc.ts(clock.instant());
        jdbc.updateAll("UPDATE loyalty_filing SET published_at = ? WHERE filing_id = ? AND published_at IS NULL",
                filingIds, (ps, id) -> {
                    ps.setObject(1, now);
                    ps.setString(2, id);
                });
    }

    private static Filing filing(ResultSet rs) throws SQLException {
        return new Filing(rs.getString("filing_id"), rs.getString("legal_entity"), rs.getDate("filing_date").toLocalDate(),
                rs.getInt("part"), rs.getInt("transactions"), rs.getLong("amount_minor"), rs.getString("currency"),
                Jdbc.instant(rs, "published_at"));
    }
}
