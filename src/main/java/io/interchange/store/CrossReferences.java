package io.interchange.store;

import io.interchange.mapping.Fingerprint;

import javax.sql.DataSource;
import java.nio.ByteBuffer;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The cross-reference store: one global customer id (a UUID the runtime mints) per customer, linked to the customer's
 * records in other systems, keyed by (system, scope, external id). A customer has at most one record per system and
 * scope and a record belongs to one customer; the database's constraints hold both, across instances.
 *
 * <p>Creating a customer's record in a target is claimed first ({@link #claimCreation}): the claim is a PENDING link
 * with a creation key derived from (global id, system, scope), so exactly one caller creates, the others wait for its
 * link, and a caller that takes over a claim whose holder died (its lease run out) creates under the same key, which
 * the target's own idempotency (Stripe's {@code Idempotency-Key}, an upsert by external id) answers with the record
 * the first attempt made, if it made one.
 */
public class CrossReferences {

    /** A customer's record in one system. */
    public record Link(String globalId, String system, String scope, String externalId) {
    }

    /** What {@link #claimCreation} answers. */
    public sealed interface Claim permits Claimed, Linked, InProgress {
    }

    /**
     * This caller holds the creation: create the record in the target under {@code creationKey}, then
     * {@link #completeCreation} (or {@link #releaseCreation} if it failed). {@code takenOver}: an earlier holder did
     * not finish, so the record may exist in the target already (its idempotency, or a look-up, finds it).
     */
    public record Claimed(String globalId, String system, String scope, String creationKey, boolean takenOver,
                          int attempt) implements Claim {
    }

    /** The customer has its record in the target already. */
    public record Linked(Link link) implements Claim {
    }

    /** Another caller holds the creation until {@code leaseEnds}; wait for its link ({@link #awaitLink}). */
    public record InProgress(String creationKey, Instant leaseEnds) implements Claim {
    }

    /** Creates the customer's record in the target under the claim's creation key; returns the record's id there. */
    @FunctionalInterface
    public interface Creator {
        String create(Claimed claim);
    }

    private static final Pattern SYSTEM = Pattern.compile("[a-z][a-z0-9-]{0,39}");
    private static final String LINKED = "LINKED";
    private static final String PENDING = "PENDING";
    private static final long POLL_MILLIS = 50;

    private final Jdbc jdbc;
    private final Clock clock;
    private final Duration lease;

    CrossReferences(DataSource ds, Clock clock, Duration lease) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
        this.lease = lease;
    }

    /** Mints a new global customer id and records the customer. */
    public String mint() {
        String globalId = UUID.randomUUID().toString();
        jdbc.update("INSERT INTO customer (global_id, created_at) VALUES (?, ?)", ps -> {
            ps.setString(1, globalId);
            ps.setObject(2, Jdbc.ts(clock.instant()));
        });
        return globalId;
    }

    /** Removes a customer minted in vain (no record was linked to it, it owns no identity key); others stay. */
    public void forget(String globalId) {
        jdbc.update("DELETE FROM customer WHERE global_id = ? AND NOT EXISTS (SELECT 1 FROM customer_link l "
                + "WHERE l.global_id = customer.global_id) AND NOT EXISTS (SELECT 1 FROM customer_identity_owner o "
                + "WHERE o.global_id = customer.global_id)", ps -> ps.setString(1, globalId));
    }

    /** True when the global id is a customer of this store. */
    public boolean exists(String globalId) {
        return !jdbc.query("SELECT 1 FROM customer WHERE global_id = ?", ps -> ps.setString(1, globalId),
                rs -> rs.getInt(1)).isEmpty();
    }

    /** The global id of the customer whose record this is, if the record is linked. */
    public Optional<String> resolve(String system, String scope, String externalId) {
        return jdbc.query("SELECT global_id FROM customer_link WHERE system = ? AND scope = ? AND external_id = ?", ps -> {
            ps.setString(1, system(system));
            ps.setString(2, scope(scope));
            ps.setString(3, externalId);
        }, rs -> rs.getString(1)).stream().findFirst();
    }

    /**
     * The global ids these records of a system are linked to, in any scope, by record id (one query per 500 ids): a
     * reconciliation keys a page of records read from the system at once. A record not linked is absent.
     */
    public java.util.Map<String, String> resolveAll(String system, java.util.Collection<String> externalIds) {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        jdbc.queryIn("SELECT external_id, global_id FROM customer_link WHERE system = ? AND state = 'LINKED' "
                + "AND external_id IN (%s)", List.of(system(system)), externalIds, 500,
                rs -> new String[]{rs.getString(1), rs.getString(2)}).forEach(row -> out.put(row[0], row[1]));
        return out;
    }

    /** The customer's linked records, by system and scope (pending creations are not links yet). */
    public List<Link> linksOf(String globalId) {
        return jdbc.query("SELECT * FROM customer_link WHERE global_id = ? AND state = 'LINKED' ORDER BY system, scope",
                ps -> ps.setString(1, globalId), CrossReferences::link);
    }

    /** The customer's record in one system and scope, if linked. */
    public Optional<Link> linkIn(String globalId, String system, String scope) {
        return row(globalId, system, scope).filter(r -> r.state.equals(LINKED)).map(r -> r.link);
    }

    /** The id of the customer's record in one system and scope: linked, or '' while it is being created. */
    public Optional<String> recordOf(String globalId, String system, String scope) {
        return row(globalId, system(system), scope(scope)).map(r -> r.state.equals(LINKED) ? r.link.externalId() : "");
    }

    /** A system's records in the cross-reference: linked, and being created (pending) there. */
    public record SystemCount(long linked, long pending) {
    }

    /** How many customers (global ids) the store knows. */
    public long countCustomers() {
        return jdbc.query("SELECT COUNT(*) FROM customer", ps -> { }, rs -> rs.getLong(1)).get(0);
    }

    /**
     * Per system, how many records are linked and how many are being created, over every scope: what an operator (or
     * the sandbox's summary) reads to see how far customers have reached each target. One grouped query.
     */
    public SortedMap<String, SystemCount> countBySystem() {
        record Tally(String system, boolean linked, long count) {
        }
        SortedMap<String, SystemCount> out = new TreeMap<>();
        for (Tally r : jdbc.query("SELECT system, state, COUNT(*) FROM customer_link GROUP BY system, state", ps -> { },
                rs -> new Tally(rs.getString(1), LINKED.equals(rs.getString(2)), rs.getLong(3)))) {
            SystemCount c = out.getOrDefault(r.system(), new SystemCount(0, 0));
            out.put(r.system(), r.linked() ? new SystemCount(c.linked() + r.count(), c.pending())
                    : new SystemCount(c.linked(), c.pending() + r.count()));
        }
        return out;
    }

    /**
     * Links a record that exists already (found by identity matching, or announced by its system) to the customer.
     * Linking it again is nothing; a record linked to another customer, or a customer with another record in that
     * system and scope (or one being created there), is a {@link CrossReferenceConflict}.
     */
    public Link link(String globalId, String system, String scope, String externalId) {
        Link wanted = new Link(globalId, system(system), scope(scope), externalId);
        if (externalId == null || externalId.isBlank()) throw new IllegalArgumentException("a link needs the record's id");
        Instant now = clock.instant();
        int inserted = jdbc.update("INSERT INTO customer_link (global_id, system, scope, external_id, state, creation_key, "
                + "attempts, created_at, updated_at) VALUES (?, ?, ?, ?, 'LINKED', NULL, 0, ?, ?) ON CONFLICT DO NOTHING", ps -> {
            ps.setString(1, wanted.globalId());
            ps.setString(2, wanted.system());
            ps.setString(3, wanted.scope());
            ps.setString(4, externalId);
            ps.setObject(5, Jdbc.ts(now));
            ps.setObject(6, Jdbc.ts(now));
        });
        if (inserted == 1) return wanted;
        Optional<String> owner = resolve(wanted.system(), wanted.scope(), externalId);
        if (owner.isPresent()) {
            if (owner.get().equals(globalId)) return wanted;
            throw new CrossReferenceConflict(describe(wanted) + " is linked to customer " + owner.get() + " already");
        }
        Optional<Row> held = row(globalId, wanted.system(), wanted.scope());
        if (held.isPresent()) {
            Row r = held.get();
            throw new CrossReferenceConflict("customer " + globalId + " has " + (r.state.equals(LINKED)
                    ? "record " + r.link.externalId() + " in " + where(wanted) + " already; not linking " + externalId
                    : "a record being created in " + where(wanted) + " (creation key " + r.creationKey + "); not linking "
                    + externalId));
        }
        throw new IllegalStateException("customer " + globalId + " is not known to the cross-reference store");
    }

    /**
     * Claims the creation of the customer's record in a target. Exactly one caller at a time gets {@link Claimed}
     * (across threads and instances sharing the database); a creation whose holder stopped renewing its lease is
     * taken over under the same creation key.
     */
    public Claim claimCreation(String globalId, String system, String scope) {
        String sys = system(system);
        String sc = scope(scope);
        String key = creationKey(globalId, sys, sc);
        Instant now = clock.instant();
        int inserted = jdbc.update("INSERT INTO customer_link (global_id, system, scope, external_id, state, creation_key, "
                + "attempts, created_at, updated_at) VALUES (?, ?, ?, NULL, 'PENDING', ?, 1, ?, ?) ON CONFLICT DO NOTHING", ps -> {
            ps.setString(1, globalId);
            ps.setString(2, sys);
            ps.setString(3, sc);
            ps.setString(4, key);
            ps.setObject(5, Jdbc.ts(now));
            ps.setObject(6, Jdbc.ts(now));
        });
        if (inserted == 1) return new Claimed(globalId, sys, sc, key, false, 1);
        // the conditional UPDATE lets exactly one of several contenders take a lapsed claim over
        int takenOver = jdbc.update("UPDATE customer_link SET attempts = attempts + 1, updated_at = ? WHERE global_id = ? "
                + "AND system = ? AND scope = ? AND state = 'PENDING' AND updated_at < ?", ps -> {
            ps.setObject(1, Jdbc.ts(now));
            ps.setString(2, globalId);
            ps.setString(3, sys);
            ps.setString(4, sc);
            ps.setObject(5, Jdbc.ts(now.minus(lease)));
        });
        Row r = row(globalId, sys, sc).orElseThrow(() -> new IllegalStateException("the claim of " + globalId + " in "
                + sys + "/" + sc + " vanished"));
        if (takenOver == 1) return new Claimed(globalId, sys, sc, r.creationKey, true, r.attempts);
        if (r.state.equals(LINKED)) return new Linked(r.link);
        return new InProgress(r.creationKey, r.updatedAt.plus(lease));
    }

    /**
     * The customer whose record in a target is (or was) created under this creation key, pending or linked: how an
     * asynchronous answer that carries only the key (an ERP's confirmation of a partner whose UUID is the key) finds
     * the creation it completes.
     */
    public Optional<String> creatorOf(String system, String scope, String creationKey) {
        return jdbc.query("SELECT global_id FROM customer_link WHERE system = ? AND scope = ? AND creation_key = ?", ps -> {
            ps.setString(1, system(system));
            ps.setString(2, scope(scope));
            ps.setString(3, creationKey);
        }, rs -> rs.getString(1)).stream().findFirst();
    }

    /** Records the id of the record the claim created; completing it again with the same id is nothing. */
    public Link completeCreation(String globalId, String system, String scope, String externalId) {
        Link wanted = new Link(globalId, system(system), scope(scope), externalId);
        if (externalId == null || externalId.isBlank()) throw new IllegalArgumentException("a link needs the record's id");
        int updated;
        try {
            updated = jdbc.update("UPDATE customer_link SET external_id = ?, state = 'LINKED', updated_at = ? "
                    + "WHERE global_id = ? AND system = ? AND scope = ? AND state = 'PENDING'", ps -> {
                ps.setString(1, externalId);
                ps.setObject(2, Jdbc.ts(clock.instant()));
                ps.setString(3, globalId);
                ps.setString(4, wanted.system());
                ps.setString(5, wanted.scope());
            });
        } catch (StoreException e) {
            if (!Jdbc.uniqueViolation(e)) throw e;
            throw new CrossReferenceConflict("the record created for customer " + globalId + ", " + describe(wanted)
                    + ", is linked to customer " + resolve(wanted.system(), wanted.scope(), externalId).orElse("?")
                    + " already: the target answered the creation with another customer's record");
        }
        if (updated == 1) return wanted;
        Row r = row(globalId, wanted.system(), wanted.scope()).orElseThrow(() -> new IllegalStateException(
                "no creation of customer " + globalId + " in " + where(wanted) + " was claimed"));
        if (externalId.equals(r.link.externalId())) return wanted;
        throw new CrossReferenceConflict("customer " + globalId + " is linked to record " + r.link.externalId() + " in "
                + where(wanted) + " already, not to " + externalId + " (a second record was created in the target: "
                + "its creation key " + r.creationKey + " did not make it idempotent)");
    }

    /** Extends the lease of a creation still under way (a slow target). */
    public void renewCreation(String globalId, String system, String scope) {
        jdbc.update("UPDATE customer_link SET updated_at = ? WHERE global_id = ? AND system = ? AND scope = ? "
                + "AND state = 'PENDING'", ps -> {
            ps.setObject(1, Jdbc.ts(clock.instant()));
            ps.setString(2, globalId);
            ps.setString(3, system(system));
            ps.setString(4, scope(scope));
        });
    }

    /**
     * Gives up a creation that failed: its claim stays, with its lease run out, so the next claim takes it over at
     * once under the same creation key and is told that the record may exist.
     */
    public void releaseCreation(String globalId, String system, String scope) {
        jdbc.update("UPDATE customer_link SET updated_at = ? WHERE global_id = ? AND system = ? AND scope = ? "
                + "AND state = 'PENDING'", ps -> {
            ps.setObject(1, Jdbc.ts(Instant.EPOCH));
            ps.setString(2, globalId);
            ps.setString(3, system(system));
            ps.setString(4, scope(scope));
        });
    }

    /**
     * Waits, at most {@code maxWait}, for another caller's creation to be linked. Empty when nothing is linked in that
     * time, or at once when no creation is under way or its holder's lease has run out (then claim it).
     */
    public Optional<Link> awaitLink(String globalId, String system, String scope, Duration maxWait) {
        long deadline = System.nanoTime() + maxWait.toNanos();
        while (true) {
            Optional<Row> r = row(globalId, system(system), scope(scope));
            if (r.isEmpty()) return Optional.empty();
            if (r.get().state.equals(LINKED)) return Optional.of(r.get().link);
            if (r.get().updatedAt.plus(lease).isBefore(clock.instant())) return Optional.empty();
            long left = deadline - System.nanoTime();
            if (left <= 0) return Optional.empty();
            try {
                Thread.sleep(Math.min(POLL_MILLIS, Math.max(1, left / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }

    /**
     * The customer's record in the target: linked already, created by this caller (claim, create, link), or created
     * by another caller whose link it waits for (at most {@code maxWait}; then a transient {@link StoreException}, so
     * the exchange is retried). A creation that fails is released for the next attempt to take over.
     */
    public Link createAndLink(String globalId, String system, String scope, Creator creator, Duration maxWait) {
        long deadline = System.nanoTime() + maxWait.toNanos();
        while (true) {
            Claim claim = claimCreation(globalId, system, scope);
            if (claim instanceof Linked linked) return linked.link();
            if (claim instanceof Claimed claimed) {
                String externalId;
                try {
                    externalId = creator.create(claimed);
                } catch (RuntimeException e) {
                    releaseCreation(globalId, system, scope);
                    throw e;
                }
                try {
                    return completeCreation(globalId, system, scope, externalId);
                } catch (CrossReferenceConflict e) {
                    // the target answered with a record linked elsewhere: released, so the customer's next change
                    // meets the same conflict at once (for an operator) instead of waiting out the lease
                    releaseCreation(globalId, system, scope);
                    throw e;
                }
            }
            Duration left = Duration.ofNanos(deadline - System.nanoTime());
            Optional<Link> linked = left.isNegative() ? Optional.empty() : awaitLink(globalId, system, scope, left);
            if (linked.isPresent()) return linked.get();
            if (System.nanoTime() - deadline >= 0 || Thread.currentThread().isInterrupted()) {
                InProgress ip = (InProgress) claim;
                throw new StoreException("the record of customer " + globalId + " in " + system + "/" + scope(scope)
                        + " is being created by another caller (creation key " + ip.creationKey() + ", lease until "
                        + ip.leaseEnds() + ")", null);
            }
        }
    }

    /**
     * The creation key of the customer's record in a target: a UUID (version 8, RFC 9562) from the SHA-256 of global
     * id, system and scope, the same on every attempt and instance; targets take UUIDs as idempotency keys and
     * external ids.
     */
    public static String creationKey(String globalId, String system, String scope) {
        ByteBuffer b = ByteBuffer.wrap(Fingerprint.sha256("customer-creation\n" + globalId + "\n" + system + "\n"
                + scope(scope)));
        long hi = (b.getLong() & ~0xF000L) | 0x8000L;
        long lo = (b.getLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(hi, lo).toString();
    }

    // ------------------------------------------------------------------------------------------- rows

    private record Row(Link link, String state, String creationKey, int attempts, Instant updatedAt) {
    }

    private Optional<Row> row(String globalId, String system, String scope) {
        return jdbc.query("SELECT * FROM customer_link WHERE global_id = ? AND system = ? AND scope = ?", ps -> {
            ps.setString(1, globalId);
            ps.setString(2, system);
            ps.setString(3, scope);
        }, rs -> new Row(link(rs), rs.getString("state"), rs.getString("creation_key"), rs.getInt("attempts"),
                Jdbc.instant(rs, "updated_at"))).stream().findFirst();
    }

    private static Link link(ResultSet rs) throws SQLException {
        return new Link(rs.getString("global_id"), rs.getString("system"), rs.getString("scope"),
                rs.getString("external_id"));
    }

    static String system(String system) {
        if (system == null || !SYSTEM.matcher(system).matches()) {
            throw new IllegalArgumentException("system '" + system + "' is not a system name (lower-case letters, "
                    + "digits and '-', e.g. salesforce, erp-s4hana)");
        }
        return system;
    }

    /** The scope as stored: '' for a system without accounts or entities. */
    static String scope(String scope) {
        return scope == null ? "" : scope;
    }

    private static String where(Link l) {
        return l.system() + (l.scope().isEmpty() ? "" : "/" + l.scope());
    }

    private static String describe(Link l) {
        return "record " + l.externalId() + " of " + where(l);
    }
}
