package io.interchange.store;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

/** What the ERP answered for each posted ledger posting: accounting document number and fiscal year. */
public class ErpConfirmations {

    /** One confirmation. */
    public record Confirmation(String postingKey, String eventId, String legalEntity, String erpTarget,
                               String companyCode, String accountingDocument, String fiscalYear,
                               String correlationId, Instant createdAt) {
    }

    private final Jdbc jdbc;
    private final Clock clock;

    ErpConfirmations(DataSource ds, Clock clock) {
        this.jdbc = new Jdbc(ds);
        this.clock = clock;
    }

    /** Records a confirmation; a second record for the same posting key is ignored. Returns true if new. */
    public boolean record(Confirmation c) {
        return jdbc.update("INSERT INTO erp_confirmation (posting_key, event_id, legal_entity, erp_target, company_code, "
                + "accounting_document, fiscal_year, correlation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                + "ON CONFLICT DO NOTHING", ps -> {
            ps.setString(1, c.postingKey());
            ps.setString(2, c.eventId());
            ps.setString(3, c.legalEntity());
            ps.setString(4, c.erpTarget());
            ps.setString(5, c.companyCode());
            ps.setString(6, c.accountingDocument());
            ps.setString(7, c.fiscalYear());
            ps.setString(8, c.correlationId());
            ps.setObject(9, Jdbc.ts(c.createdAt() == null ? clock.instant() : c.createdAt()));
        }) == 1;
    }

    public Optional<Confirmation> find(String postingKey) {
        return jdbc.query("SELECT * FROM erp_confirmation WHERE posting_key = ?", ps -> ps.setString(1, postingKey),
                rs -> new Confirmation(rs.getString("posting_key"), rs.getString("event_id"), rs.getString("legal_entity"),
                        rs.getString("erp_target"), rs.getString("company_code"), rs.getString("accounting_document"),
                        rs.getString("fiscal_year"), rs.getString("correlation_id"), Jdbc.instant(rs, "created_at")))
                .stream().findFirst();
    }

    public long count() {
        return jdbc.query("SELECT COUNT(*) FROM erp_confirmation", ps -> { }, rs -> rs.getLong(1)).get(0);
    }
}
