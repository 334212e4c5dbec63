package io.interchange.store;

import org.apache.camel.Exchange;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Idempotency keys in the JDBC store, with a PENDING/DONE state, a lease and an expiry.
 *
 * <p>Written instead of Camel's {@code JdbcMessageIdRepository}, which checks with SELECT COUNT then INSERT in one
 * transaction per message, keeps keys forever and, on PostgreSQL, aborts rather than reading a lost insert race as a
 * duplicate. Here the key is claimed with one {@code INSERT ... ON CONFLICT DO NOTHING}; a key stays PENDING while the
 * effect is under way and becomes DONE only when Camel confirms the exchange completed, so a process that dies in
 * between leaves a PENDING key that a later delivery takes over once the lease has run out, instead of being lost as
 * a "duplicate".
 */
public class IdempotencyStore extends ServiceSupport implements IdempotentRepository {

    /** Exchange property set when {@link #add(Exchange, String)} refuses a key: {@link DuplicateState}. */
    public static final String DUPLICATE_STATE = "InterchangeDuplicateState";

    /** Why a key was refused. */
    public enum DuplicateState {
        /** the effect already happened */
        DONE,
        /** another delivery holds the key right now */
        IN_PROGRESS,
        /**
         * Not a refusal: this caller now holds the key, which an earlier delivery held and did not finish (its lease
         * ran out), so that delivery's effect may have happened. Only {@link #claimNoting} and {@link #claimAllNoting}
         * report it; {@link #claim} and {@link #claimAll} answer null.
         */
        TAKEN_OVER
    }

    private static final Logger LOG = LoggerFactory.getLogger(IdempotencyStore.class);

    private final Jdbc jdbc;
    private final Clock clock;
    private final Duration ttl;
    private final Duration lease;
    private final GroupCommit commits;
    private final GroupCommit.Statement claimStatement;
    private final GroupCommit.Statement confirmStatement;
    /** The take-over's statement differs: PostgreSQL has no data change delta table, H2 no writable CTE. */
    private final boolean postgres;

    IdempotencyStore(DataSource ds, Clock clock, Duration ttl, Duration lease, int groupCommitMax, int writers) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
        this.ttl = ttl;
        this.lease = lease;
        this.postgres = jdbc.isPostgres();
        this.claimStatement = new GroupCommit.Statement("INSERT INTO idempotency_key (key_value, state, created_at, "
                + "updated_at, expires_at) VALUES (?, 'PENDING', ?, ?, ?) ON CONFLICT DO NOTHING", (ps, key, now) -> {
                    ps.setString(1, key);
                    ps.setObject(2, Jdbc.ts(now));
                    ps.setObject(3, Jdbc.ts(now));
                    ps.setObject(4, Jdbc.ts(now.plus(ttl)));
                });
        this.confirmStatement = new GroupCommit.Statement(
                "UPDATE idempotency_key SET state = 'DONE', updated_at = ? WHERE key_value = ?", (ps, key, now) -> {
                    ps.setObject(1, Jdbc.ts(now));
                    ps.setString(2, key);
                });
        // the two statements every delivery runs are group-committed; the rare ones (take-over, release) are not
        this.commits = new GroupCommit("idempotency", ds, clock, groupCommitMax, writers);
    }

    @Override
    public boolean add(String key) {
        return claim(key) == null;
    }

    @Override
    public boolean add(Exchange exchange, String key) {
        DuplicateState state = claim(key);
        if (state != null) {
            exchange.setProperty(DUPLICATE_STATE, state);
        }
        return state == null;
    }

    /** Claims the key; returns null when this caller now holds it, else why it is refused. */
    public DuplicateState claim(String key) {
        DuplicateState state = claimNoting(key);
        return state == DuplicateState.TAKEN_OVER ? null : state;
    }

    /** As {@link #claim}, but a key taken over from a holder that did not finish is reported as TAKEN_OVER. */
    public DuplicateState claimNoting(String key) {
        return states(List.of(key), new int[]{commits.submit(claimStatement, key)}).get(0);
    }

    /**
     * Claims the keys of a batch in one group commit; the answer at each position is null when this caller now holds
     * that key, else why it is refused. Keys repeated in the batch are claimed once (the later ones are IN_PROGRESS).
     */
    public List<DuplicateState> claimAll(List<String> keys) {
        List<DuplicateState> out = claimAllNoting(keys);
        out.replaceAll(state -> state == DuplicateState.TAKEN_OVER ? null : state);
        return out;
    }

    /** As {@link #claimAll}, but keys taken over from holders that did not finish are reported as TAKEN_OVER. */
    public List<DuplicateState> claimAllNoting(List<String> keys) {
        return states(keys, commits.submitAll(claimStatement, keys));
    }

    /**
     * As {@link #claimAllNoting}, without a thread waiting for the commit: the future completes with the states once
     * the claims are committed, or with the {@link StoreException} the store failed with. Keys that existed already
     * (a duplicate, a holder gone) are looked at on {@code executor}, which the rest of the caller's work then runs
     * on too; so does the caller's work when every key was new (never on the store's own writer threads).
     */
    public CompletableFuture<List<DuplicateState>> claimAllNotingAsync(List<String> keys, Executor executor) {
        return commits.submitAllAsync(claimStatement, keys).thenApplyAsync(inserted -> states(keys, inserted), executor);
    }

    /** Marks the keys DONE in one group commit. */
    public void confirmAll(List<String> keys) {
        commits.submitAll(confirmStatement, keys);
    }

    /**
     * As {@link #confirmAll}, without a thread waiting for the commit; the future completes on {@code executor}, or
     * exceptionally with the {@link StoreException} the store failed with.
     */
    public CompletableFuture<Void> confirmAllAsync(List<String> keys, Executor executor) {
        return commits.submitAllAsync(confirmStatement, keys).thenApplyAsync(counts -> null, executor);
    }

    /**
     * The claims' answers, given each key's insert count: null where the key was inserted, else what
     * {@link #takeOverOrTellWhy} says of it. A key given again at a later position is IN_PROGRESS once an earlier one
     * holds it, and shares the earlier one's refusal otherwise.
     */
    private List<DuplicateState> states(List<String> keys, int[] inserted) {
        Set<String> existing = new TreeSet<>();
        for (int i = 0; i < inserted.length; i++) if (inserted[i] != 1) existing.add(keys.get(i));
        Map<String, DuplicateState> refused = existing.isEmpty() ? Map.of() : takeOverOrTellWhy(existing);
        List<DuplicateState> out = new ArrayList<>(keys.size());
        Set<String> answered = new HashSet<>();
        for (int i = 0; i < inserted.length; i++) {
            String key = keys.get(i);
            if (inserted[i] == 1) {
                out.add(null);
                continue;
            }
            // a key the statement did not see (deleted since its insert was refused) is held by whoever inserts it
            DuplicateState state = refused.getOrDefault(key, DuplicateState.IN_PROGRESS);
            if (!answered.add(key) && state == DuplicateState.TAKEN_OVER) state = DuplicateState.IN_PROGRESS;
            out.add(state);
        }
        return out;
    }

    /**
     * Keys that exist already, in one statement: each is taken over if it expired or its holder is gone (its lease ran
     * out), else refused as DONE or IN_PROGRESS. A key the statement does not find is absent from the answer.
     *
     * <p>The conditional UPDATE lets exactly one contender take a key over. The same statement reads the state of the
     * keys it did not take: DONE while unexpired; anything else is IN_PROGRESS (pending with a live lease, or taken
     * over meanwhile by another contender, which its read may predate). PostgreSQL returns the taken keys from a
     * writable CTE; H2 (and the SQL standard) from a data change delta table. The keys are given in key order, as
     * the group commit writes them.
     */
    private Map<String, DuplicateState> takeOverOrTellWhy(Set<String> keys) {
        Instant now = clock.instant();
        String in = String.join(", ", Collections.nCopies(keys.size(), "?"));
        String takeOver = "UPDATE idempotency_key SET state = 'PENDING', updated_at = ?, expires_at = ? "
                + "WHERE key_value IN (" + in + ") AND (expires_at < ? OR (state = 'PENDING' AND updated_at < ?))";
        String refusals = " UNION ALL SELECT key_value, CASE WHEN state = 'DONE' AND expires_at >= ? THEN 'DONE' "
                + "ELSE 'IN_PROGRESS' END FROM idempotency_key WHERE key_value IN (" + in + ")";
        String sql = postgres
                ? "WITH taken AS (" + takeOver + " RETURNING key_value) "
                        + "SELECT key_value, 'TAKEN_OVER' FROM taken" + refusals
                : "SELECT key_value, 'TAKEN_OVER' FROM FINAL TABLE (" + takeOver + ")" + refusals;
        List<Map.Entry<String, DuplicateState>> rows = jdbc.query(sql, ps -> {
            int p = 1;
            ps.setObject(p++, Jdbc.ts(now));
            ps.setObject(p++, Jdbc.ts(now.plus(ttl)));
            for (String key : keys) ps.setString(p++, key);
            ps.setObject(p++, Jdbc.ts(now));
            ps.setObject(p++, Jdbc.ts(now.minus(lease)));
            ps.setObject(p++, Jdbc.ts(now));
            for (String key : keys) ps.setString(p++, key);
        }, rs -> Map.entry(rs.getString(1), DuplicateState.valueOf(rs.getString(2))));
        Map<String, DuplicateState> out = new HashMap<>();
        for (Map.Entry<String, DuplicateState> row : rows) {
            // a taken key is read as well (before or after its update): the take-over is the answer
            out.merge(row.getKey(), row.getValue(), (a, b) -> a == DuplicateState.TAKEN_OVER ? a : b);
        }
        out.forEach((key, state) -> {
            if (state == DuplicateState.TAKEN_OVER) {
                LOG.warn("Idempotency key {} taken over (expired, or its previous holder stopped before finishing)", key);
            }
        });
        return out;
    }

    /** True when a claim of the key now would hold it: unknown, expired, or PENDING with its lease run out. */
    public boolean claimable(String key) {
        Instant now = clock.instant();
        return jdbc.query("SELECT 1 FROM idempotency_key WHERE key_value = ? AND expires_at >= ? "
                + "AND NOT (state = 'PENDING' AND updated_at < ?)", ps -> {
            ps.setString(1, key);
            ps.setObject(2, Jdbc.ts(now));
            ps.setObject(3, Jdbc.ts(now.minus(lease)));
        }, rs -> rs.getInt(1)).isEmpty();
    }

    /** PENDING, DONE, or null when unknown. */
    public String state(String key) {
        List<String> rows = jdbc.query("SELECT state FROM idempotency_key WHERE key_value = ?",
                ps -> ps.setString(1, key), rs -> rs.getString(1));
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** Renews the lease of a PENDING key held by a long-running delivery (redeliveries with backoff). */
    public void renew(String key) {
        jdbc.update("UPDATE idempotency_key SET updated_at = ? WHERE key_value = ? AND state = 'PENDING'", ps -> {
            ps.setObject(1, Jdbc.ts(clock.instant()));
            ps.setString(2, key);
        });
    }

    @Override
    public boolean contains(String key) {
        return "DONE".equals(state(key));
    }

    /**
     * Gives up a PENDING key whose effect may have happened: it stays, with its lease run out, so the next claim takes
     * it over at once and is told so ({@link DuplicateState#TAKEN_OVER}); removing it would forget that. Returns true
     * if the key was PENDING.
     */
    public boolean releaseUnsettled(String key) {
        return jdbc.update("UPDATE idempotency_key SET updated_at = ? WHERE key_value = ? AND state = 'PENDING'", ps -> {
            ps.setObject(1, Jdbc.ts(Instant.EPOCH));
            ps.setString(2, key);
        }) == 1;
    }

    @Override
    public boolean remove(String key) {
        return jdbc.update("DELETE FROM idempotency_key WHERE key_value = ?", ps -> ps.setString(1, key)) == 1;
    }

    @Override
    public boolean confirm(String key) {
        return commits.submit(confirmStatement, key) == 1;
    }

    @Override
    public void clear() {
        jdbc.update("DELETE FROM idempotency_key", ps -> { });
    }

    /** Stops the group-commit writers once the statements already submitted have run. */
    @Override
    public void close() {
        commits.close();
    }

    /** Deletes keys past their expiry; returns how many. */
    public int expire() {
        return jdbc.update("DELETE FROM idempotency_key WHERE expires_at < ?", ps -> ps.setObject(1, Jdbc.ts(clock.instant())));
    }
}
