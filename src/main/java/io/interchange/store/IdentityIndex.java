package io.interchange.store;

import io.interchange.mapping.IdentityRules;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The identity keys of linked records (table {@code customer_identity_key}), by which {@link IdentityRules} finds the
 * customer an incoming record is. One key per rule and record, kept as the SHA-256 of the normalised value.
 */
public class IdentityIndex implements IdentityRules.Lookup {

    private final Jdbc jdbc;
    private final Clock clock;
    private final Duration lease;
    private final CrossReferences crossReferences;

    IdentityIndex(DataSource ds, Clock clock, Duration lease, CrossReferences crossReferences) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
        this.lease = lease;
        this.crossReferences = crossReferences;
    }

    /**
     * Claims the decisive keys for a customer being created from a record, until the record is indexed: true when the
     * customer holds every one of them. False when another new customer holds one (its record arrived at the same
     * time): the claims this call made are released, and deciding again finds that customer.
     */
    public boolean claimKeys(String globalId, List<IdentityRules.Key> keys) {
        for (IdentityRules.Key key : keys) {
            if (!key.decisive()) continue;
            Instant now = clock.instant();
            int won = jdbc.update("INSERT INTO customer_identity_claim (rule, key_hash, global_id, claimed_at) "
                    + "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", ps -> {
                ps.setString(1, key.rule());
                ps.setString(2, key.hash());
                ps.setString(3, globalId);
                ps.setObject(4, Jdbc.ts(now));
            });
            if (won == 0) {
                // a claim whose holder died before indexing its record is taken over by exactly one contender
                won = jdbc.update("UPDATE customer_identity_claim SET global_id = ?, claimed_at = ? WHERE rule = ? "
                        + "AND key_hash = ? AND (global_id = ? OR claimed_at < ?)", ps -> {
                    ps.setString(1, globalId);
                    ps.setObject(2, Jdbc.ts(now));
                    ps.setString(3, key.rule());
                    ps.setString(4, key.hash());
                    ps.setString(5, globalId);
                    ps.setObject(6, Jdbc.ts(now.minus(lease)));
                });
            }
            if (won == 0) {
                releaseClaims(globalId);
                return false;
            }
        }
        return true;
    }

    /** Ends the customer's key claims (its record is indexed, or its creation was given up). */
    public void releaseClaims(String globalId) {
        jdbc.update("DELETE FROM customer_identity_claim WHERE global_id = ?", ps -> ps.setString(1, globalId));
    }

    /**
     * Records the record's keys under the customer it is linked to, replacing what was recorded of it: a key whose
     * value changed is updated, a key whose field was emptied is removed.
     */
    public void index(String globalId, IdentityRules.Record record, List<IdentityRules.Key> keys) {
        String system = CrossReferences.system(record.system());
        String scope = CrossReferences.scope(record.scope());
        Set<String> rules = new LinkedHashSet<>();
        for (IdentityRules.Key key : keys) {
            rules.add(key.rule());
            upsertKey(globalId, system, scope, record.externalId(), key);
        }
        for (String stale : recordedRules(system, scope, record.externalId())) {
            if (rules.contains(stale)) continue;
            jdbc.update("DELETE FROM customer_identity_key WHERE system = ? AND scope = ? AND external_id = ? AND rule = ?",
                    ps -> {
                        ps.setString(1, system);
                        ps.setString(2, scope);
                        ps.setString(3, record.externalId());
                        ps.setString(4, stale);
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

    private List<String> recordedRules(String system, String scope, String externalId) {
        return jdbc.query("SELECT rule FROM customer_identity_key WHERE system = ? AND scope = ? AND external_id = ?", ps -> {
            ps.setString(1, system);
            ps.setString(2, scope);
            ps.setString(3, externalId);
        }, rs -> rs.getString(1));
    }

    @Override
    public Optional<String> linkedCustomer(String system, String scope, String externalId) {
        return crossReferences.resolve(system, scope, externalId);
    }

    /**
     * The customers whose linked records have the key; when none has, the new customer claiming it (within the
     * claim's lease). A claim on a key that is indexed already is one about to be lost, so it is not a candidate.
     */
    @Override
    public Set<String> customersWithKey(String rule, String hash) {
        Set<String> indexed = new TreeSet<>(jdbc.query("SELECT global_id FROM customer_identity_key WHERE rule = ? "
                + "AND key_hash = ?", ps -> {
            ps.setString(1, rule);
            ps.setString(2, hash);
        }, rs -> rs.getString(1)));
        if (!indexed.isEmpty()) return indexed;
        return new TreeSet<>(jdbc.query("SELECT global_id FROM customer_identity_claim WHERE rule = ? AND key_hash = ? "
                + "AND claimed_at >= ?", ps -> {
            ps.setString(1, rule);
            ps.setString(2, hash);
            ps.setObject(3, Jdbc.ts(clock.instant().minus(lease)));
        }, rs -> rs.getString(1)));
    }

    @Override
    public Optional<String> recordOf(String globalId, String system, String scope) {
        return crossReferences.recordOf(globalId, system, scope);
    }
}
