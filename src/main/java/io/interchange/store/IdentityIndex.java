package io.interchange.store;

import io.interchange.mapping.IdentityRules;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The identity keys of linked records (table {@code customer_identity_key}), by which {@link IdentityRules} finds the
 * customer an incoming record is. One key per rule and record, kept as the SHA-256 of the normalised value. Each
 * decisive key also has one owner (table {@code customer_identity_owner}): the customer it names, decided once by a
 * unique row per key, which the records of that customer take before they are linked ({@link #own}).
 */
public class IdentityIndex implements IdentityRules.Lookup {

    private final Jdbc jdbc;
    private final Clock clock;
    private final CrossReferences crossReferences;

    IdentityIndex(DataSource ds, Clock clock, CrossReferences crossReferences) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
        this.crossReferences = crossReferences;
    }

    /**
     * Makes the customer the owner of the record's decisive keys, all or none, before the record is linked to it: true
     * when the customer owns every one of them (it did already, or won them now), false when another customer owns one
     * (its record arrived at the same time): nothing is written then, and deciding again finds that customer.
     *
     * <p>This replaces claims that were released once the record was indexed and could then be won again, with a lease
     * after which they were taken over. Two customers for one person came of that: a record read a key as not indexed
     * and, in a second statement, as claimed by a later claimer that was about to give its customer up (it had found
     * the key indexed), linked itself to that customer and indexed the key under it, and every record after it was
     * ambiguous. An owner row is never released by the customer that won it, nor taken over after a time, and
     * {@link #customersWithKey} reads it in the same statement as the index: whoever decides sees the owner, or no one
     * owns the key yet and the unique row lets exactly one new customer win it. Keys are taken in one order, in one
     * transaction, so two records sharing keys wait for each other (PostgreSQL and H2 alike: an
     * {@code ON CONFLICT DO NOTHING} behind another transaction's uncommitted row waits for its outcome) and never
     * deadlock, and a customer never owns some of a record's keys and not the others.
     */
    public boolean own(String globalId, List<IdentityRules.Key> keys) {
        List<IdentityRules.Key> decisive = keys.stream().filter(IdentityRules.Key::decisive).distinct()
                .sorted(Comparator.comparing(IdentityRules.Key::rule).thenComparing(IdentityRules.Key::hash)).toList();
        if (decisive.isEmpty()) return true;
        Instant now = clock.instant();
        return jdbc.allOrNothing(c -> {
            for (IdentityRules.Key key : decisive) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO customer_identity_owner (rule, key_hash, "
                        + "global_id, owned_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                    ps.setString(1, key.rule());
                    ps.setString(2, key.hash());
                    ps.setString(3, globalId);
                    ps.setObject(4, Jdbc.ts(now));
                    if (ps.executeUpdate() == 1) continue;
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT global_id FROM customer_identity_owner "
                        + "WHERE rule = ? AND key_hash = ?")) {
                    ps.setString(1, key.rule());
                    ps.setString(2, key.hash());
                    try (ResultSet rs = ps.executeQuery()) {
                        // no row: its owner gave the key up (its record's value changed) just now; decide again
                        if (!rs.next() || !globalId.equals(rs.getString(1))) return false;
                    }
                }
            }
            return true;
        });
    }

    /**
     * Records the record's keys under the customer it is linked to, replacing what was recorded of it: a key whose
     * value changed is updated, a key whose field was emptied is removed. A key the record no longer has stops naming
     * its customer ({@code customer_identity_owner}) once no record of that customer has it.
     */
    public void index(String globalId, IdentityRules.Record record, List<IdentityRules.Key> keys) {
        String system = CrossReferences.system(record.system());
        String scope = CrossReferences.scope(record.scope());
        List<String[]> before = recordedKeys(system, scope, record.externalId());
        Set<String> rules = new LinkedHashSet<>();
        for (IdentityRules.Key key : keys) {
            rules.add(key.rule());
            upsertKey(globalId, system, scope, record.externalId(), key);
        }
        for (String[] recorded : before) {
            String stale = recorded[0];
            if (rules.contains(stale)) continue;
            jdbc.update("DELETE FROM customer_identity_key WHERE system = ? AND scope = ? AND external_id = ? AND rule = ?",
                    ps -> {
                        ps.setString(1, system);
                        ps.setString(2, scope);
                        ps.setString(3, record.externalId());
                        ps.setString(4, stale);
                    });
        }
        for (String[] recorded : before) {
            if (keys.stream().anyMatch(k -> k.rule().equals(recorded[0]) && k.hash().equals(recorded[1]))) continue;
            jdbc.update("DELETE FROM customer_identity_owner WHERE rule = ? AND key_hash = ? AND global_id = ? AND NOT "
                    + "EXISTS (SELECT 1 FROM customer_identity_key k WHERE k.rule = customer_identity_owner.rule AND "
                    + "k.key_hash = customer_identity_owner.key_hash AND k.global_id = customer_identity_owner.global_id)",
                    ps -> {
                        ps.setString(1, recorded[0]);
                        ps.setString(2, recorded[1]);
                        ps.setString(3, recorded[2]);
                    });
        }
    }

    private void upsertKey(String globalId, String system, String scope, String externalId, IdentityRules.Key key) {
        Instant now = clock.instant();
        jdbc.upsert("UPDATE customer_identity_key SET key_hash = ?, global_id = ?, updated_at = ? WHERE system = ? "
                + "AND scope = ? AND external_id = ? AND rule = ?", ps -> {
            ps.setString(1, key.hash());
            ps.setString(2, globalId);
            ps.setObject(3, Jdbc.ts(now));
            ps.setString(4, system);
            ps.setString(5, scope);
            ps.setString(6, externalId);
            ps.setString(7, key.rule());
        }, "INSERT INTO customer_identity_key (system, scope, external_id, rule, key_hash, global_id, updated_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", ps -> {
            ps.setString(1, system);
            ps.setString(2, scope);
            ps.setString(3, externalId);
            ps.setString(4, key.rule());
            ps.setString(5, key.hash());
            ps.setString(6, globalId);
            ps.setObject(7, Jdbc.ts(now));
        });
    }

    /** The record's recorded keys: rule, key hash and customer of each. */
    private List<String[]> recordedKeys(String system, String scope, String externalId) {
        return jdbc.query("SELECT rule, key_hash, global_id FROM customer_identity_key WHERE system = ? AND scope = ? "
                + "AND external_id = ?", ps -> {
            ps.setString(1, system);
            ps.setString(2, scope);
            ps.setString(3, externalId);
        }, rs -> new String[]{rs.getString(1), rs.getString(2), rs.getString(3)});
    }

    @Override
    public Optional<String> linkedCustomer(String system, String scope, String externalId) {
        return crossReferences.resolve(system, scope, externalId);
    }

    /**
     * The customers whose linked records have the key, and the customer that owns it (one being created has no record
     * with it yet). One statement, so one snapshot: reading the index and then the owners in two statements let a
     * record see neither the customer indexed in between nor, therefore, that another one owned the key before it.
     */
    @Override
    public Set<String> customersWithKey(String rule, String hash) {
        return new TreeSet<>(jdbc.query("SELECT global_id FROM customer_identity_key WHERE rule = ? AND key_hash = ? "
                + "UNION SELECT global_id FROM customer_identity_owner WHERE rule = ? AND key_hash = ?", ps -> {
            ps.setString(1, rule);
            ps.setString(2, hash);
            ps.setString(3, rule);
            ps.setString(4, hash);
        }, rs -> rs.getString(1)));
    }

    @Override
    public Optional<String> recordOf(String globalId, String system, String scope) {
        return crossReferences.recordOf(globalId, system, scope);
    }
}
