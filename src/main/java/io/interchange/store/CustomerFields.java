package io.interchange.store;

import javax.sql.DataSource;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The value of each canonical field of a customer as last applied, with the system and source time that set it
 * (table {@code customer_field}). Written by compare-and-set on a version, so two changes of one field decided at
 * once cannot both be applied on what each read.
 */
public class CustomerFields {

    /** A field's recorded value; {@code version} counts its writes. */
    public record Recorded(String globalId, String field, String value, String system, Instant sourceTime, long version) {
    }

    private final Jdbc jdbc;
    private final Clock clock;

    CustomerFields(DataSource ds, Clock clock) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    public Optional<Recorded> find(String globalId, String field) {
        return jdbc.query("SELECT * FROM customer_field WHERE global_id = ? AND field = ?", ps -> {
            ps.setString(1, globalId);
            ps.setString(2, field);
        }, CustomerFields::read).stream().findFirst();
    }

    /**
     * One field's recorded value for each of the customers that has one, by global id: one query per 500 customers,
     * for readers going through a page of records at a time.
     */
    public Map<String, String> valuesOf(String field, Collection<String> globalIds) {
        Map<String, String> out = new HashMap<>();
        jdbc.queryIn("SELECT global_id, field_value FROM customer_field WHERE field = ? AND global_id IN (%s)",
                List.of(field), globalIds, 500, rs -> new String[]{rs.getString(1), rs.getString(2)})
                .forEach(row -> out.put(row[0], row[1]));
        return out;
    }

    /** Every recorded field of the customer, by name. */
    public List<Recorded> of(String globalId) {
        return jdbc.query("SELECT * FROM customer_field WHERE global_id = ? ORDER BY field", ps -> ps.setString(1, globalId),
                CustomerFields::read);
    }

    /**
     * Records the value if {@code expected} is still what is recorded (empty: nothing is recorded yet); false when
     * another writer came first (read again and decide again).
     */
    public boolean write(Optional<Recorded> expected, String globalId, String field, String value, String system,
                         Instant sourceTime) {
        Instant now = clock.instant();
        if (expected.isEmpty()) {
            return jdbc.update("INSERT INTO customer_field (global_id, field, field_value, system, source_time, version, "
                    + "updated_at) VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT DO NOTHING", ps -> {
                ps.setString(1, globalId);
                ps.setString(2, field);
                ps.setString(3, value);
                ps.setString(4, system);
                ps.setObject(5, Jdbc.ts(sourceTime));
                ps.setObject(6, Jdbc.ts(now));
            }) == 1;
        }
        return jdbc.update("UPDATE customer_field SET field_value = ?, system = ?, source_time = ?, version = version + 1, "
                + "updated_at = ? WHERE global_id = ? AND field = ? AND version = ?", ps -> {
            ps.setString(1, value);
            ps.setString(2, system);
            ps.setObject(3, Jdbc.ts(sourceTime));
            ps.setObject(4, Jdbc.ts(now));
            ps.setString(5, globalId);
            ps.setString(6, field);
            ps.setLong(7, expected.get().version());
        }) == 1;
    }

    private static Recorded read(ResultSet rs) throws SQLException {
        return new Recorded(rs.getString("global_id"), rs.getString("field"), rs.getString("field_value"),
                rs.getString("system"), Jdbc.instant(rs, "source_time"), rs.getLong("version"));
    }
}
