package io.interchange.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import javax.sql.DataSource;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Durable dead letters. Camel has nothing that stores or replays dead letters (its ErrorRegistry is in-memory and
 * read-only), so this table is the runtime's own.
 */
public class DeadLetterStore {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS = "id, route_id, status, correlation_id, idempotency_key, failure_kind, "
            + "error_class, error_message, attempts, headers_json, payload, created_at, updated_at";

    private final Jdbc jdbc;
    private final Clock clock;

    DeadLetterStore(DataSource ds, Clock clock) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    /** Stores a new OPEN dead letter and returns its id. */
    public long add(String routeId, String correlationId, String idempotencyKey, String failureKind,
                    String errorClass, String errorMessage, int attempts, Map<String, String> headers, byte[] payload) {
        Instant now = clock.instant();
        return jdbc.insertReturningId("INSERT INTO dead_letter (route_id, status, correlation_id, idempotency_key, "
                + "failure_kind, error_class, error_message, attempts, headers_json, payload, created_at, updated_at) "
                + "VALUES (?, 'OPEN', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ps -> {
            ps.setString(1, routeId);
            ps.setString(2, correlationId);
            ps.setString(3, idempotencyKey);
            ps.setString(4, failureKind);
            ps.setString(5, truncate(errorClass, 300));
            ps.setString(6, truncate(errorMessage == null ? "" : errorMessage, 4000));
            ps.setInt(7, attempts);
            ps.setString(8, toJson(headers));
            ps.setBytes(9, payload);
            ps.setObject(10, Jdbc.ts(now));
            ps.setObject(11, Jdbc.ts(now));
        });
    }

    /** A replay failed again: back to OPEN with the new error, attempts added to the old. */
    public void failedAgain(long id, String failureKind, String errorClass, String errorMessage, int attempts) {
        jdbc.update("UPDATE dead_letter SET status = 'OPEN', failure_kind = ?, error_class = ?, error_message = ?, "
                + "attempts = attempts + ?, updated_at = ? WHERE id = ?", ps -> {
            ps.setString(1, failureKind);
            ps.setString(2, truncate(errorClass, 300));
            ps.setString(3, truncate(errorMessage == null ? "" : errorMessage, 4000));
            ps.setInt(4, attempts);
            ps.setObject(5, Jdbc.ts(clock.instant()));
            ps.setLong(6, id);
        });
    }

    /** Moves a dead letter from one status to another only if it is still in the first; true if this caller won. */
    public boolean transition(long id, String from, String to) {
        return jdbc.update("UPDATE dead_letter SET status = ?, updated_at = ? WHERE id = ? AND status = ?", ps -> {
            ps.setString(1, to);
            ps.setObject(2, Jdbc.ts(clock.instant()));
            ps.setLong(3, id);
            ps.setString(4, from);
        }) == 1;
    }

    /** At start-up: replays cut off by a stop (status REPLAYING) go back to OPEN; returns how many. */
    public int reopenInterruptedReplays() {
        return jdbc.update("UPDATE dead_letter SET status = 'OPEN', updated_at = ? WHERE status = 'REPLAYING'",
                ps -> ps.setObject(1, Jdbc.ts(clock.instant())));
    }

    public Optional<DeadLetter> find(long id) {
        return jdbc.query("SELECT " + COLUMNS + " FROM dead_letter WHERE id = ?", ps -> ps.setLong(1, id), DeadLetterStore::row)
                .stream().findFirst();
    }

    /** The open dead letter of a route holding this idempotency key (an event parked before), if any. */
    public Optional<DeadLetter> findOpen(String routeId, String idempotencyKey) {
        return jdbc.query("SELECT " + COLUMNS + " FROM dead_letter WHERE route_id = ? AND idempotency_key = ? "
                + "AND status = 'OPEN' ORDER BY id LIMIT 1", ps -> {
            ps.setString(1, routeId);
            ps.setString(2, idempotencyKey);
        }, DeadLetterStore::row).stream().findFirst();
    }

    /** Dead letters in a status, of one route or all (routeId null), newest first. */
    public List<DeadLetter> list(String routeId, String status, int limit) {
        String sql = "SELECT " + COLUMNS + " FROM dead_letter WHERE status = ?"
                + (routeId == null ? "" : " AND route_id = ?") + " ORDER BY id DESC LIMIT ?";
        return jdbc.query(sql, ps -> {
            int i = 1;
            ps.setString(i++, status);
            if (routeId != null) ps.setString(i++, routeId);
            ps.setInt(i, limit);
        }, DeadLetterStore::row);
    }

    /** How many dead letters are in a status, of one route or all (routeId null). */
    public long count(String routeId, String status) {
        String sql = "SELECT COUNT(*) FROM dead_letter WHERE status = ?" + (routeId == null ? "" : " AND route_id = ?");
        return jdbc.query(sql, ps -> {
            ps.setString(1, status);
            if (routeId != null) ps.setString(2, routeId);
        }, rs -> rs.getLong(1)).get(0);
    }

    private static DeadLetter row(ResultSet rs) throws SQLException {
        return new DeadLetter(rs.getLong("id"), rs.getString("route_id"), rs.getString("status"),
                rs.getString("correlation_id"), rs.getString("idempotency_key"), rs.getString("failure_kind"),
                rs.getString("error_class"), rs.getString("error_message"), rs.getInt("attempts"),
                fromJson(rs.getString("headers_json")), rs.getBytes("payload"),
                Jdbc.instant(rs, "created_at"), Jdbc.instant(rs, "updated_at"));
    }

    private static String truncate(String s, int max) {
        if (s == null) return "";
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

    private static String toJson(Map<String, String> headers) {
        try {
            return JSON.writeValueAsString(headers);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> fromJson(String json) {
        try {
            return JSON.readValue(json, new TypeReference<Map<String, String>>() { });
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Corrupt headers in dead letter", e);
        }
    }
}
