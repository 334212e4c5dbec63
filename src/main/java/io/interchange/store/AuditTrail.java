package io.interchange.store;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/** The operator audit trail: every replay and discard, who did it, on what, and why. */
public class AuditTrail {

    /** One audited action. */
    public record Entry(long id, Instant at, String actor, String action, String target, String detail) {
    }

    private final Jdbc jdbc;
    private final Clock clock;

    AuditTrail(DataSource ds, Clock clock) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    public void record(String actor, String action, String target, String detail) {
        jdbc.update("INSERT INTO audit_trail (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)", ps -> {
            ps.setObject(1, Jdbc.ts(clock.instant()));
            ps.setString(2, actor);
            ps.setString(3, action);
            ps.setString(4, target);
            ps.setString(5, detail == null ? null : detail.length() > 4000 ? detail.substring(0, 4000) : detail);
        });
    }

    /** The newest entries first. */
    public List<Entry> recent(int limit) {
        return jdbc.query("SELECT id, at, actor, action, target, detail FROM audit_trail ORDER BY id DESC LIMIT ?",
                ps -> ps.setInt(1, limit), rs -> new Entry(rs.getLong("id"), Jdbc.instant(rs, "at"), rs.getString("actor"),
                        rs.getString("action"), rs.getString("target"), rs.getString("detail")));
    }
}
