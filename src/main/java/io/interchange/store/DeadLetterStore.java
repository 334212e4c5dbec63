package io.interchange.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Durable dead letters. Camel has nothing that stores or replays dead letters (its ErrorRegistry is in-memory and
 * read-only), so this table is the runtime's own.
 */
public class DeadLetterStore {

    /** The header naming a dead letter's legal entity: {@link io.interchange.connectors.kafka.CloudEventHeaders#LEGAL_ENTITY}. */
    public static final String ENTITY_HEADER = "ce_legalentity";
    /** The header naming its customer (global id): {@link io.interchange.connectors.kafka.CloudEventHeaders#SUBJECT}. */
    public static final String CUSTOMER_HEADER = "ce_subject";

    /** An operator's corrected payload, replayed instead of the original, with who, why and how it went. */
    public record Edit(long id, long deadLetterId, byte[] payload, String actor, String reason, String outcome,
                       Instant createdAt) {
    }

    /** Open dead letters of one route and legal entity ({@code entity} null when the headers name none). */
    public record OpenCount(String routeId, String entity, long count) {
    }

    /**
     * What a dead letter is about, read from its headers and payload when it is stored: the source system's object
     * (a Stripe event's object, a canonical document's own id) and the billing document it is posted as
     * ({@code kind|reference}, as reconciliation keys documents); either null where the payload names none.
     */
    public record About(String objectId, String documentKey) {
        public static final About NOTHING = new About(null, null);
    }

    /** Reads what a new dead letter is about ({@code io.interchange.reconciliation.DeadLetterDocuments}). */
    public interface AboutReader {
        About read(Map<String, String> headers, byte[] payload);
    }

    /** A reconciliation difference that names a dead letter: run, entity, kind, document, and whether acknowledged. */
    public record Explained(long runId, long differenceId, String legalEntity, java.time.LocalDate from,
                            java.time.LocalDate to, String kind, String documentKey, String acknowledgedBy) {
    }

    /** Told of every new dead letter once it is stored (not of a replay that failed again: that one re-opens). */
    public interface ParkListener {
        void parked(String routeId, String failureKind, String errorClass);
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS = "id, route_id, status, correlation_id, idempotency_key, failure_kind, "
            + "error_class, error_message, attempts, headers_json, payload, created_at, updated_at";

    private final Jdbc jdbc;
    private final Clock clock;
    private volatile ParkListener parkListener = (route, kind, error) -> { };
    private volatile AboutReader aboutReader = (headers, payload) -> About.NOTHING;

    DeadLetterStore(DataSource ds, Clock clock) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    /** Stores a new OPEN dead letter and returns its id. */
    public long add(String routeId, String correlationId, String idempotencyKey, String failureKind,
                    String errorClass, String errorMessage, int attempts, Map<String, String> headers, byte[] payload) {
        Instant now = clock.instant();
        About about = about(headers, payload);
        long id = jdbc.insertReturningId("INSERT INTO dead_letter (route_id, status, correlation_id, idempotency_key, "
                + "failure_kind, error_class, error_message, attempts, headers_json, payload, created_at, updated_at, "
                + "legal_entity, customer_id, object_id, document_key) VALUES (?, 'OPEN', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                + "?, ?)", ps -> {
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
            ps.setString(12, legalEntityOf(headers));
            ps.setString(13, customerOf(headers));
            ps.setString(14, nonBlank(about.objectId(), 300));
            ps.setString(15, nonBlank(about.documentKey(), 300));
        });
        parkListener.parked(routeId, failureKind, errorClass);
        return id;
    }

    /** What the dead letter is about; a payload the reader cannot read is about nothing it can name. */
    private About about(Map<String, String> headers, byte[] payload) {
        try {
            About about = aboutReader.read(headers, payload);
            return about == null ? About.NOTHING : about;
        } catch (RuntimeException e) {
            return About.NOTHING; // parking the failure matters more than naming its document
        }
    }

    /** The one reader of what new dead letters are about; replaces the one before. */
    public void readAboutWith(AboutReader reader) {
        this.aboutReader = reader;
    }

    /**
     * The reconciliation differences whose records had this dead letter open when their run completed, oldest run
     * first.
     */
    public List<Explained> explains(long deadLetterId) {
        return jdbc.query("SELECT l.run_id, l.difference_id, r.legal_entity, r.period_from, r.period_to, d.kind, "
                + "d.match_key, d.acknowledged_by FROM reconciliation_dead_letter l "
                + "JOIN reconciliation_difference d ON d.id = l.difference_id "
                + "JOIN reconciliation_run r ON r.id = l.run_id WHERE l.dead_letter_id = ? ORDER BY l.difference_id",
                ps -> ps.setLong(1, deadLetterId), rs -> new Explained(rs.getLong(1), rs.getLong(2), rs.getString(3),
                        rs.getObject(4, java.time.LocalDate.class), rs.getObject(5, java.time.LocalDate.class),
                        rs.getString(6), rs.getString(7), rs.getString(8)));
    }

    /** The one listener told of new dead letters ({@link DeadLetterMetrics}); replaces the one before. */
    public void onParked(ParkListener listener) {
        this.parkListener = listener;
    }

    /** Open dead letters by route and legal entity, in one query (the metrics' gauge reads it). */
    public List<OpenCount> openByRouteAndEntity() {
        return jdbc.query("SELECT route_id, legal_entity, COUNT(*) FROM dead_letter WHERE status = 'OPEN' "
                + "GROUP BY route_id, legal_entity", ps -> { },
                rs -> new OpenCount(rs.getString(1), rs.getString(2), rs.getLong(3)));
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

    /**
     * Claims an open dead letter for a replay of its original payload (OPEN to REPLAYING); true if this caller won.
     * A dead letter an operator has edited is never claimed so: its original must not take effect after the edit.
     */
    public boolean claimOriginalReplay(long id) {
        return jdbc.update("UPDATE dead_letter SET status = 'REPLAYING', updated_at = ? WHERE id = ? AND status = 'OPEN' "
                + "AND NOT EXISTS (SELECT 1 FROM dead_letter_edit e WHERE e.dead_letter_id = dead_letter.id)", ps -> {
            ps.setObject(1, Jdbc.ts(clock.instant()));
            ps.setLong(2, id);
        }) == 1;
    }

    /**
     * Claims an open dead letter for a replay of an edited payload and keeps the edit, in one transaction: of a replay
     * and an edited replay of one dead letter at once, exactly one claims it. The edit's id, or empty when the dead
     * letter was not open.
     */
    public Optional<Long> claimEditedReplay(long id, byte[] payload, String actor, String reason) {
        Instant now = clock.instant();
        long[] editId = new long[1];
        boolean claimed = jdbc.allOrNothing(c -> {
            try (PreparedStatement claim = c.prepareStatement("UPDATE dead_letter SET status = 'REPLAYING', updated_at = ? "
                    + "WHERE id = ? AND status = 'OPEN'")) {
                claim.setObject(1, Jdbc.ts(now));
                claim.setLong(2, id);
                if (claim.executeUpdate() != 1) return false;
            }
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO dead_letter_edit (dead_letter_id, payload, actor, reason, "
                    + "created_at) VALUES (?, ?, ?, ?, ?)", new String[]{"id"})) {
                insert.setLong(1, id);
                insert.setBytes(2, payload);
                insert.setString(3, truncate(actor, 200));
                insert.setString(4, truncate(reason, 4000));
                insert.setObject(5, Jdbc.ts(now));
                insert.executeUpdate();
                try (ResultSet keys = insert.getGeneratedKeys()) {
                    keys.next();
                    editId[0] = keys.getLong(1);
                }
            }
            return true;
        });
        return claimed ? Optional.of(editId[0]) : Optional.empty();
    }

    /** Records how the replay of an edit went. */
    public void editOutcome(long editId, String outcome) {
        jdbc.update("UPDATE dead_letter_edit SET outcome = ? WHERE id = ?", ps -> {
            ps.setString(1, truncate(outcome, 4000));
            ps.setLong(2, editId);
        });
    }

    /** The edits of a dead letter, oldest first. */
    public List<Edit> edits(long deadLetterId) {
        return jdbc.query("SELECT id, dead_letter_id, payload, actor, reason, outcome, created_at FROM dead_letter_edit "
                + "WHERE dead_letter_id = ? ORDER BY id", ps -> ps.setLong(1, deadLetterId), rs -> new Edit(
                rs.getLong("id"), rs.getLong("dead_letter_id"), rs.getBytes("payload"), rs.getString("actor"),
                rs.getString("reason"), rs.getString("outcome"), Jdbc.instant(rs, "created_at")));
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

    /** Dead letters matching the filter, newest first, with ids below {@code beforeId} (0: from the newest). */
    public List<DeadLetter> search(DeadLetterFilter filter, long beforeId, int limit) {
        List<Object> params = new ArrayList<>();
        String where = filter.where(params);
        if (beforeId > 0) {
            where += " AND id < ?";
            params.add(beforeId);
        }
        params.add(limit);
        return jdbc.query("SELECT " + COLUMNS + " FROM dead_letter WHERE " + where + " ORDER BY id DESC LIMIT ?",
                ps -> bind(ps, params), DeadLetterStore::row);
    }

    /** Dead letters matching the filter, oldest first, with ids above {@code afterId}: a bulk run's next page. */
    public List<DeadLetter> page(DeadLetterFilter filter, long afterId, int limit) {
        List<Object> params = new ArrayList<>();
        String where = filter.where(params) + " AND id > ?";
        params.add(afterId);
        params.add(limit);
        return jdbc.query("SELECT " + COLUMNS + " FROM dead_letter WHERE " + where + " ORDER BY id LIMIT ?",
                ps -> bind(ps, params), DeadLetterStore::row);
    }

    /** How many dead letters match the filter, by route (routes in name order). */
    public Map<String, Long> countByRoute(DeadLetterFilter filter) {
        List<Object> params = new ArrayList<>();
        String sql = "SELECT route_id, COUNT(*) FROM dead_letter WHERE " + filter.where(params)
                + " GROUP BY route_id ORDER BY route_id";
        Map<String, Long> out = new LinkedHashMap<>();
        jdbc.query(sql, ps -> bind(ps, params), rs -> out.put(rs.getString(1), rs.getLong(2)));
        return out;
    }

    /** The legal entity a dead letter's headers name, or null. */
    public static String legalEntityOf(Map<String, String> headers) {
        return nonBlank(headers.get(ENTITY_HEADER), 50);
    }

    /** The customer (global id) a dead letter's headers name, or null. */
    public static String customerOf(Map<String, String> headers) {
        return nonBlank(headers.get(CUSTOMER_HEADER), 200);
    }

    private static String nonBlank(String value, int max) {
        return value == null || value.isBlank() || value.length() > max ? null : value;
    }

    private static void bind(PreparedStatement ps, List<Object> params) throws SQLException {
        for (int i = 0; i < params.size(); i++) ps.setObject(i + 1, params.get(i));
    }

    private static DeadLetter row(ResultSet rs) throws SQLException {
        return new DeadLetter(rs.getLong("id"), rs.getString("route_id"), rs.getString("status"),
                rs.getString("correlation_id"), rs.getString("idempotency_key"), rs.getString("failure_kind"),
                rs.getString("error_class"), rs.getString("error_message"), rs.getInt("attempts"),
                headersFromJson(rs.getString("headers_json")), rs.getBytes("payload"),
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

    /** Headers as stored in {@code headers_json}. */
    public static Map<String, String> headersFromJson(String json) {
        try {
            return JSON.readValue(json, new TypeReference<Map<String, String>>() { });
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Corrupt headers in dead letter", e);
        }
    }
}
