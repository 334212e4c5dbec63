package io.interchange.store;

import io.interchange.mapping.Fingerprint;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * What the runtime last wrote to each field of a system's record (table {@code echo_ledger}), as the SHA-256 of the
 * value ({@link Fingerprint#ofValue}), for systems whose change events do not say who made the change (HubSpot's
 * webhooks; Salesforce's {@code changeOrigin} does, and is checked first). A change event bringing back the value
 * the runtime wrote, within {@code interchange.customer.echo-window}, is the runtime's own write echoing: not passed on.
 */
public class EchoLedger {

    private final Jdbc jdbc;
    private final Clock clock;
    private final Duration window;

    EchoLedger(DataSource ds, Clock clock, Duration window) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
        this.window = window;
    }

    /** Records a value written to the system's record; call it once the write has succeeded. */
    public void written(String system, String recordId, String field, String value) {
        Instant now = clock.instant();
        String fingerprint = Fingerprint.ofValue(value);
        jdbc.upsert("UPDATE echo_ledger SET fingerprint = ?, written_at = ? WHERE system = ? AND record_id = ? AND field = ?",
                ps -> {
                    ps.setString(1, fingerprint);
                    ps.setObject(2, Jdbc.ts(now));
                    ps.setString(3, system);
                    ps.setString(4, recordId);
                    ps.setString(5, field);
                }, "INSERT INTO echo_ledger (system, record_id, field, fingerprint, written_at) VALUES (?, ?, ?, ?, ?) "
                        + "ON CONFLICT DO NOTHING", ps -> {
                    ps.setString(1, system);
                    ps.setString(2, recordId);
                    ps.setString(3, field);
                    ps.setString(4, fingerprint);
                    ps.setObject(5, Jdbc.ts(now));
                });
    }

    /**
     * True when {@code value} is what the runtime last wrote to the record's field (at any time): writing it again
     * would change nothing, so a write-back that finds every value written already is not sent.
     */
    public boolean wrote(String system, String recordId, String field, String value) {
        return jdbc.query("SELECT fingerprint FROM echo_ledger WHERE system = ? AND record_id = ? AND field = ?", ps -> {
            ps.setString(1, system);
            ps.setString(2, recordId);
            ps.setString(3, field);
        }, rs -> rs.getString(1)).stream().anyMatch(Fingerprint.ofValue(value)::equals);
    }

    /**
     * True when what the runtime last wrote to the record's field is another value than {@code value} (false when
     * there is no entry: never written, expired, or forgotten because the system's value moved on past the write).
     * A system that reported a change holds the value it reported unless the runtime wrote something else there
     * since: this says it may have.
     */
    public boolean wroteOther(String system, String recordId, String field, String value) {
        String fingerprint = Fingerprint.ofValue(value);
        return jdbc.query("SELECT fingerprint FROM echo_ledger WHERE system = ? AND record_id = ? AND field = ?", ps -> {
            ps.setString(1, system);
            ps.setString(2, recordId);
            ps.setString(3, field);
        }, rs -> rs.getString(1)).stream().anyMatch(f -> !f.equals(fingerprint));
    }

    /**
     * Forgets that {@code value} was written to the record's field (a write recorded ahead of its call, and the call
     * failed); an entry of another value, recorded meanwhile, stays.
     */
    public void forget(String system, String recordId, String field, String value) {
        jdbc.update("DELETE FROM echo_ledger WHERE system = ? AND record_id = ? AND field = ? AND fingerprint = ?", ps -> {
            ps.setString(1, system);
            ps.setString(2, recordId);
            ps.setString(3, field);
            ps.setString(4, Fingerprint.ofValue(value));
        });
    }

    /** Records the values of several fields written to the record in one call. */
    public void written(String system, String recordId, Map<String, String> values) {
        values.forEach((field, value) -> written(system, recordId, field, value));
    }

    /**
     * True when the value is the one the runtime last wrote to the record's field, within the echo window. Another
     * value means the system's value has moved on past the runtime's write: the entry is forgotten, so that the
     * runtime's value coming back later (a person setting it again) is a change, not an echo. Use it for systems
     * that deliver a record's changes in order (Salesforce CDC); see the other form for those that do not.
     */
    public boolean isEcho(String system, String recordId, String field, String value) {
        return isEcho(system, recordId, field, value, null);
    }

    /**
     * As {@link #isEcho(String, String, String, String)} for systems that deliver changes out of order (HubSpot):
     * another value forgets the entry only if it changed after the runtime's write ({@code changedAt}, the
     * system's time of the change), so a late event from before the write does not unmask the write's echo.
     */
    public boolean isEcho(String system, String recordId, String field, String value, Instant changedAt) {
        var entries = jdbc.query("SELECT fingerprint, written_at FROM echo_ledger WHERE system = ? AND record_id = ? "
                + "AND field = ?", ps -> {
            ps.setString(1, system);
            ps.setString(2, recordId);
            ps.setString(3, field);
        }, rs -> Map.entry(rs.getString(1), Jdbc.instant(rs, "written_at")));
        if (entries.isEmpty()) return false;
        String fingerprint = entries.get(0).getKey();
        Instant writtenAt = entries.get(0).getValue();
        if (writtenAt.plus(window).isBefore(clock.instant())) return false;
        if (fingerprint.equals(Fingerprint.ofValue(value))) return true;
        if (changedAt == null || changedAt.isAfter(writtenAt)) {
            // only the entry read: a write recorded meanwhile (a newer fingerprint) stays
            jdbc.update("DELETE FROM echo_ledger WHERE system = ? AND record_id = ? AND field = ? AND fingerprint = ? "
                    + "AND written_at = ?", ps -> {
                ps.setString(1, system);
                ps.setString(2, recordId);
                ps.setString(3, field);
                ps.setString(4, fingerprint);
                ps.setObject(5, Jdbc.ts(writtenAt));
            });
        }
        return false;
    }

    /** Deletes entries older than the echo window; returns how many. */
    public int expire() {
        return jdbc.update("DELETE FROM echo_ledger WHERE written_at < ?",
                ps -> ps.setObject(1, Jdbc.ts(clock.instant().minus(window))));
    }
}
