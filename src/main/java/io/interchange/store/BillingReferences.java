package io.interchange.store;

import javax.sql.DataSource;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The legal entity, customer and invoice of billing objects (Stripe invoice, charge and PaymentIntent ids), recorded
 * when an invoice or a payment is published: Stripe copies an invoice's metadata neither to its payments nor to
 * refunds of them, so those find theirs here.
 */
public class BillingReferences {

    /** What is known of one billing object. */
    public record Reference(String objectId, String legalEntity, String globalCustomerId, String customerId,
                            String invoiceId, String invoiceNumber) {
    }

    /** Records found, kept in memory: the most recently used this many. */
    static final int REMEMBERED = 10_000;

    private final Jdbc jdbc;
    private final Clock clock;
    private final Map<String, Reference> remembered = Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Reference> eldest) {
                    return size() > REMEMBERED;
                }
            });

    BillingReferences(DataSource ds, Clock clock) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    /** Records references in one transaction; the first record of an object id stands. */
    public void recordAll(List<Reference> references) {
        if (references.isEmpty()) return;
        jdbc.updateAll("INSERT INTO billing_reference (object_id, legal_entity, global_customer_id, customer_id, "
                + "invoice_id, invoice_number, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                references, (ps, r) -> {
                    ps.setString(1, r.objectId());
                    ps.setString(2, r.legalEntity());
                    ps.setString(3, r.globalCustomerId());
                    ps.setString(4, r.customerId());
                    ps.setString(5, r.invoiceId());
                    ps.setString(6, r.invoiceNumber());
                    ps.setObject(7, Jdbc.ts(clock.instant()));
                });
    }

    /**
     * What was recorded of the object. A record found is kept in memory (the most recent {@value #REMEMBERED}): records
     * never change once written (the first stands) and are never deleted, so an object's later events (an invoice's
     * payment after its finalisation, each one a webhook of its own) are not a query each.
     */
    public Optional<Reference> find(String objectId) {
        if (objectId == null || objectId.isBlank()) return Optional.empty();
        Reference known = remembered.get(objectId);
        if (known != null) return Optional.of(known);
        Optional<Reference> found = jdbc.query("SELECT * FROM billing_reference WHERE object_id = ?",
                ps -> ps.setString(1, objectId), BillingReferences::read).stream().findFirst();
        found.ifPresent(r -> remembered.put(objectId, r));
        return found;
    }

    /**
     * What was recorded of each of the objects, in one query per few hundred ids: a reader of a page of objects (a
     * reconciliation run, a million of them) asks once per page instead of once per object. Objects without a record
     * are absent from the answer.
     */
    public Map<String, Reference> findAll(Collection<String> objectIds) {
        Map<String, Reference> found = new HashMap<>();
        List<String> ids = objectIds.stream().filter(id -> id != null && !id.isBlank()).toList();
        jdbc.queryIn("SELECT * FROM billing_reference WHERE object_id IN (%s)", List.of(), ids, FIND_ALL_CHUNK,
                BillingReferences::read).forEach(r -> found.put(r.objectId(), r));
        return found;
    }

    /** Ids per query of {@link #findAll}. */
    static final int FIND_ALL_CHUNK = 500;

    private static Reference read(ResultSet rs) throws SQLException {
        return new Reference(rs.getString("object_id"), rs.getString("legal_entity"), rs.getString("global_customer_id"),
                rs.getString("customer_id"), rs.getString("invoice_id"), rs.getString("invoice_number"));
    }
}
