package io.interchange.store;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

/**
 * Where the runtime stands in a source's event stream, per channel: the replay id of the last event fully processed
 * (its effect committed) and that event's commit time, and whether the changes since a lost position still have to be
 * read back ({@code backfill_from}). Sources whose server keeps no subscriber position (Salesforce's CometD Streaming
 * API) resume from here after a restart.
 */
public class StreamPositions {

    /**
     * @param replayId        the last event fully processed, or null when none was (a new subscription)
     * @param commitTimestamp when that event's change was committed at the source
     * @param backfillFrom    non-null while the changes since this time must still be read back by query
     */
    public record Position(Long replayId, Instant commitTimestamp, Instant backfillFrom) {
    }

    private final Jdbc jdbc;
    private final Clock clock;

    StreamPositions(DataSource ds, Clock clock) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    public Optional<Position> find(String source, String channel) {
        return jdbc.query("SELECT replay_id, commit_timestamp, backfill_from FROM stream_position "
                        + "WHERE source = ? AND channel = ?", ps -> {
                    ps.setString(1, source);
                    ps.setString(2, channel);
                }, rs -> {
                    long id = rs.getLong("replay_id");
                    Long replayId = rs.wasNull() ? null : id;
                    return new Position(replayId, Jdbc.instant(rs, "commit_timestamp"), Jdbc.instant(rs, "backfill_from"));
                }).stream().findFirst();
    }

    /** Records that the event with this replay id, committed at the source at this time, is fully processed. */
    public void advance(String source, String channel, long replayId, Instant commitTimestamp) {
        Instant now = clock.instant();
        int n = jdbc.update("UPDATE stream_position SET replay_id = ?, commit_timestamp = ?, updated_at = ? "
                + "WHERE source = ? AND channel = ?", ps -> {
            ps.setLong(1, replayId);
            ps.setObject(2, commitTimestamp == null ? null : Jdbc.ts(commitTimestamp));
            ps.setObject(3, Jdbc.ts(now));
            ps.setString(4, source);
            ps.setString(5, channel);
        });
        if (n == 0) {
            jdbc.update("INSERT INTO stream_position (source, channel, replay_id, commit_timestamp, updated_at) "
                    + "VALUES (?, ?, ?, ?, ?)", ps -> {
                ps.setString(1, source);
                ps.setString(2, channel);
                ps.setLong(3, replayId);
                ps.setObject(4, commitTimestamp == null ? null : Jdbc.ts(commitTimestamp));
                ps.setObject(5, Jdbc.ts(now));
            });
        }
    }

    /**
     * A channel subscribed for the first time (from new events) stands at {@code at}: if the runtime stops before an
     * event of it is processed, the next start reads back the changes since then. Nothing happens if the channel has a
     * position already.
     */
    public void anchor(String source, String channel, Instant at) {
        jdbc.update("INSERT INTO stream_position (source, channel, commit_timestamp, updated_at) VALUES (?, ?, ?, ?) "
                + "ON CONFLICT DO NOTHING", ps -> {
            ps.setString(1, source);
            ps.setString(2, channel);
            ps.setObject(3, Jdbc.ts(at));
            ps.setObject(4, Jdbc.ts(clock.instant()));
        });
    }

    /**
     * Records that the changes since {@code from} must be read back (the stream position was lost), unless an earlier
     * such time is recorded already; forgets the replay id, which is no longer valid.
     */
    public void markBackfill(String source, String channel, Instant from) {
        Instant now = clock.instant();
        int n = jdbc.update("UPDATE stream_position SET backfill_from = CASE WHEN backfill_from IS NULL "
                + "OR backfill_from > ? THEN ? ELSE backfill_from END, replay_id = NULL, updated_at = ? "
                + "WHERE source = ? AND channel = ?", ps -> {
            ps.setObject(1, Jdbc.ts(from));
            ps.setObject(2, Jdbc.ts(from));
            ps.setObject(3, Jdbc.ts(now));
            ps.setString(4, source);
            ps.setString(5, channel);
        });
        if (n == 0) {
            jdbc.update("INSERT INTO stream_position (source, channel, backfill_from, updated_at) VALUES (?, ?, ?, ?)",
                    ps -> {
                        ps.setString(1, source);
                        ps.setString(2, channel);
                        ps.setObject(3, Jdbc.ts(from));
                        ps.setObject(4, Jdbc.ts(now));
                    });
        }
    }

    /**
     * The read-back from {@code from} is done, covering the changes up to {@code readUpTo}: clears the mark, unless a
     * later loss recorded an earlier time, and a channel still without a processed event now stands at {@code readUpTo}.
     */
    public void clearBackfill(String source, String channel, Instant from, Instant readUpTo) {
        jdbc.update("UPDATE stream_position SET backfill_from = NULL, commit_timestamp = CASE WHEN replay_id IS NULL "
                + "THEN ? ELSE commit_timestamp END, updated_at = ? WHERE source = ? AND channel = ? "
                + "AND backfill_from >= ?", ps -> {
            ps.setObject(1, Jdbc.ts(readUpTo));
            ps.setObject(2, Jdbc.ts(clock.instant()));
            ps.setString(3, source);
            ps.setString(4, channel);
            ps.setObject(5, Jdbc.ts(from));
        });
    }
}
