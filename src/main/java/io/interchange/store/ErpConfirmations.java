package io.interchange.store;

import javax.sql.DataSource;
import java.time.Clock;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the ERP answered for each posted ledger posting: accounting document number and fiscal year. */
public class ErpConfirmations {

    /** One confirmation. */
    public record Confirmation(String postingKey, String eventId, String legalEntity, String erpTarget,
                               String companyCode, String accountingDocument, String fiscalYear,
                               String correlationId, Instant createdAt) {
    }

    private final Jdbc jdbc;
    private final DataSource ds;
    private final Clock clock;

    ErpConfirmations(DataSource ds, Clock clock) {
        this.ds = ds;
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    private static final String INSERT = "INSERT INTO erp_confirmation (posting_key, event_id, legal_entity, erp_target, "
            + "company_code, accounting_document, fiscal_year, correlation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            + "ON CONFLICT DO NOTHING";
    /** Keys per SELECT ... IN (...) of {@link #findAll}. */
    private static final int FIND_CHUNK = 200;

    /** Records a confirmation; a second record for the same posting key is ignored. Returns true if new. */
    public boolean record(Confirmation c) {
        return jdbc.update(INSERT, ps -> bind(ps, c)) == 1;
    }

    /**
     * Records confirmations in one transaction; a second record for the same posting key is ignored. Returns, per
     * confirmation, whether it was new.
     */
    public boolean[] recordAll(List<Confirmation> all) {
        int[] counts = jdbc.updateAll(INSERT, all, this::bind);
        boolean[] added = new boolean[counts.length];
        for (int i = 0; i < counts.length; i++) added[i] = counts[i] == 1;
        return added;
    }

    private void bind(PreparedStatement ps, Confirmation c) throws SQLException {
        ps.setString(1, c.postingKey());
        ps.setString(2, c.eventId());
        ps.setString(3, c.legalEntity());
        ps.setString(4, c.erpTarget());
        ps.setString(5, c.companyCode());
        ps.setString(6, c.accountingDocument());
        ps.setString(7, c.fiscalYear());
        ps.setString(8, c.correlationId());
        ps.setObject(9, Jdbc.ts(c.createdAt() == null ? clock.instant() : c.createdAt()));
    }

    public Optional<Confirmation> find(String postingKey) {
        return jdbc.query("SELECT * FROM erp_confirmation WHERE posting_key = ?", ps -> ps.setString(1, postingKey),
                ErpConfirmations::read).stream().findFirst();
    }

    /** The confirmations recorded for any of these posting keys, by key. */
    public Map<String, Confirmation> findAll(Collection<String> postingKeys) {
        Map<String, Confirmation> found = new HashMap<>();
        jdbc.queryIn("SELECT * FROM erp_confirmation WHERE posting_key IN (%s)", List.of(), postingKeys, FIND_CHUNK,
                ErpConfirmations::read).forEach(c -> found.put(c.postingKey(), c));
        return found;
    }

    /**
     * Every confirmation of a legal entity recorded from {@code from} up to, not including, {@code to}, streamed in
     * the order recorded (a fetch size, nothing collected); the number handed to {@code each}.
     */
    public long eachRecorded(String legalEntity, Instant from, Instant to, java.util.function.Consumer<Confirmation> each) {
        try (java.sql.Connection c = ds.getConnection()) {
            // PostgreSQL streams a result set with a fetch size only inside a transaction
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM erp_confirmation WHERE legal_entity = ? "
                    + "AND created_at >= ? AND created_at < ? ORDER BY created_at")) {
                ps.setFetchSize(1000);
                ps.setString(1, legalEntity);
                ps.setObject(2, Jdbc.ts(from));
                ps.setObject(3, Jdbc.ts(to));
                long n = 0;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        each.accept(read(rs));
                        n++;
                    }
                }
                return n;
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("Store query failed: " + e.getMessage(), e);
        }
    }

    /**
     * The confirmations naming any of these ERP documents ({@code company/fiscal year/document}); at most
     * {@value #FIND_CHUNK} documents per statement.
     */
    public List<Confirmation> findByDocuments(Collection<String> documents) {
        List<Confirmation> found = new java.util.ArrayList<>();
        List<String> all = List.copyOf(documents);
        for (int from = 0; from < all.size(); from += FIND_CHUNK) {
            List<String> chunk = all.subList(from, Math.min(all.size(), from + FIND_CHUNK));
            String sql = "SELECT * FROM erp_confirmation WHERE (company_code, fiscal_year, accounting_document) IN ("
                    + String.join(", ", Collections.nCopies(chunk.size(), "(?, ?, ?)")) + ")";
            found.addAll(jdbc.query(sql, ps -> {
                int i = 0;
                for (String document : chunk) {
                    // company codes may hold a slash; fiscal year and document number do not
                    int last = document.lastIndexOf('/');
                    int year = document.lastIndexOf('/', last - 1);
                    ps.setString(++i, document.substring(0, year));
                    ps.setString(++i, document.substring(year + 1, last));
                    ps.setString(++i, document.substring(last + 1));
                }
            }, ErpConfirmations::read));
        }
        return found;
    }

    private static Confirmation read(ResultSet rs) throws SQLException {
        return new Confirmation(rs.getString("posting_key"), rs.getString("event_id"), rs.getString("legal_entity"),
                rs.getString("erp_target"), rs.getString("company_code"), rs.getString("accounting_document"),
                rs.getString("fiscal_year"), rs.getString("correlation_id"), Jdbc.instant(rs, "created_at"));
    }

    public long count() {
        return jdbc.query("SELECT COUNT(*) FROM erp_confirmation", ps -> { }, rs -> rs.getLong(1)).get(0);
    }
}
