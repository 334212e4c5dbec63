package io.interchange.store;

import io.interchange.model.ConsentChange;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Each customer's consent per channel (table {@code consent_state}) and every change received (table
 * {@code consent_change}, applied or not, with its outcome).
 *
 * <p>The rule: a change replaces the value in force only if its source time is newer, or equal and it revokes a
 * consent in force (a revocation wins a tie). It is one conditional statement ({@code INSERT ... ON CONFLICT DO
 * NOTHING} for a customer's first change, else {@code UPDATE ... WHERE source_time < ? OR (...)}), so the database
 * decides atomically, and of two instances applying two changes of one customer at once the newer wins whatever
 * the order (PostgreSQL re-checks the condition on the row it waited for).
 */
public class ConsentStates {

    /** What became of a change. */
    public enum Outcome {
        /** it is now the value in force */
        APPLIED,
        /** it is the value in force already (the same change delivered again): in force, nothing changed */
        DUPLICATE,
        /** older than the value in force, or a tie that does not revoke: recorded, not applied */
        STALE
    }

    /** The consent in force. */
    public record State(String customer, String channel, boolean granted, String source, Instant sourceTime,
                        String sourceRecord, String changeId) {
    }

    /**
     * @param outcome what became of the change
     * @param state   the consent in force after it
     */
    public record Result(Outcome outcome, State state) {
        /** True when the change is the value in force (applied now, or before): its systems must hold it. */
        public boolean inForce() {
            return outcome != Outcome.STALE;
        }
    }

    private final Jdbc jdbc;
    private final Clock clock;

    ConsentStates(DataSource ds, Clock clock) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    /** Applies the change under the rule, records it with its outcome, and answers the outcome and the value in force. */
    public Result apply(ConsentChange c) {
        Instant sourceTime = Instant.parse(c.sourceTime());
        Instant now = clock.instant();
        int inserted = jdbc.update("INSERT INTO consent_state (customer_id, channel, granted, source, source_time, "
                + "source_record, change_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", ps -> {
            ps.setString(1, c.customer());
            ps.setString(2, c.channel());
            ps.setBoolean(3, c.granted());
            ps.setString(4, c.source());
            ps.setObject(5, Jdbc.ts(sourceTime));
            ps.setString(6, c.sourceRecord());
            ps.setString(7, c.changeId());
            ps.setObject(8, Jdbc.ts(now));
        });
        Outcome outcome;
        if (inserted == 1) {
            outcome = Outcome.APPLIED;
        } else {
            // newer wins; on a tie a revocation wins over a consent in force
            int updated = jdbc.update("UPDATE consent_state SET granted = ?, source = ?, source_time = ?, source_record = ?, "
                    + "change_id = ?, updated_at = ? WHERE customer_id = ? AND channel = ? AND change_id <> ? AND "
                    + "(source_time < ? OR (source_time = ? AND granted = TRUE AND ? = FALSE))", ps -> {
                ps.setBoolean(1, c.granted());
                ps.setString(2, c.source());
                ps.setObject(3, Jdbc.ts(sourceTime));
                ps.setString(4, c.sourceRecord());
                ps.setString(5, c.changeId());
                ps.setObject(6, Jdbc.ts(now));
                ps.setString(7, c.customer());
                ps.setString(8, c.channel());
                ps.setString(9, c.changeId());
                ps.setObject(10, Jdbc.ts(sourceTime));
                ps.setObject(11, Jdbc.ts(sourceTime));
                ps.setBoolean(12, c.granted());
            });
            outcome = updated == 1 ? Outcome.APPLIED : null;
        }
        State state = current(c.customer(), c.channel()).orElseThrow(() -> new StoreException(
                "consent state of " + c.customer() + "/" + c.channel() + " vanished", null));
        if (outcome == null) outcome = state.changeId().equals(c.changeId()) ? Outcome.DUPLICATE : Outcome.STALE;
        Outcome recorded = outcome;
        jdbc.update("INSERT INTO consent_change (change_id, customer_id, channel, granted, source, source_time, "
                + "source_record, reason, outcome, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ps -> {
            ps.setString(1, c.changeId());
            ps.setString(2, c.customer());
            ps.setString(3, c.channel());
            ps.setBoolean(4, c.granted());
            ps.setString(5, c.source());
            ps.setObject(6, Jdbc.ts(sourceTime));
            ps.setString(7, c.sourceRecord());
            ps.setString(8, c.reason() == null ? null : c.reason().length() > 200 ? c.reason().substring(0, 200) : c.reason());
            ps.setString(9, recorded.name());
            ps.setObject(10, Jdbc.ts(now));
        });
        return new Result(outcome, state);
    }

    /** The consent in force for the customer and channel, if any system ever stated one. */
    public Optional<State> current(String customer, String channel) {
        return jdbc.query("SELECT customer_id, channel, granted, source, source_time, source_record, change_id "
                + "FROM consent_state WHERE customer_id = ? AND channel = ?", ps -> {
            ps.setString(1, customer);
            ps.setString(2, channel);
        }, rs -> new State(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getString(4),
                Jdbc.instant(rs, "source_time"), rs.getString(6), rs.getString(7))).stream().findFirst();
    }

    /** A change as received, with its outcome. */
    public record Received(String changeId, boolean granted, String source, Instant sourceTime, String reason,
                           String outcome, Instant receivedAt) {
    }

    /** Every change received for the customer and channel, oldest first. */
    public List<Received> history(String customer, String channel) {
        return jdbc.query("SELECT change_id, granted, source, source_time, reason, outcome, received_at FROM consent_change "
                + "WHERE customer_id = ? AND channel = ? ORDER BY id", ps -> {
            ps.setString(1, customer);
            ps.setString(2, channel);
        }, rs -> new Received(rs.getString(1), rs.getBoolean(2), rs.getString(3), Jdbc.instant(rs, "source_time"),
                rs.getString(5), rs.getString(6), Jdbc.instant(rs, "received_at")));
    }
}
