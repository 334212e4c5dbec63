package io.interchange.bench.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.config.Config;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.connectors.erp.S4HanaConnector;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.model.LedgerPosting;
import io.interchange.store.ErpConfirmations;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;

/**
 * What the two baselines of the post scenario take from the runtime so that only the runtime around them differs:
 * the posting rules ({@link LedgerPostingService#prepare}), the S/4HANA connector (request per entry, answer
 * reading), the confirmation table (the runtime's DDL) and the ledger record (envelope and JSON as the runtime's
 * route publishes them). No throttle: the ERP's rate limit is set far above what any variant reaches.
 */
final class LedgerParts {

    static final String CONFIRMATION_DDL = "CREATE TABLE IF NOT EXISTS erp_confirmation (posting_key VARCHAR(300) "
            + "PRIMARY KEY, event_id VARCHAR(200) NOT NULL, legal_entity VARCHAR(50) NOT NULL, erp_target VARCHAR(20) "
            + "NOT NULL, company_code VARCHAR(20) NOT NULL, accounting_document VARCHAR(40) NOT NULL, fiscal_year "
            + "VARCHAR(4) NOT NULL, correlation_id VARCHAR(200), created_at TIMESTAMP WITH TIME ZONE NOT NULL)";
    private static final ObjectMapper JSON = new ObjectMapper();

    final MappingEngine mappings;
    final Config config;
    final S4HanaConnector s4;
    final LedgerPostingService service;

    LedgerParts(String s4Url, String user, String password) {
        MappingSource source = MappingSource.bundled();
        mappings = MappingEngine.load(source);
        config = Config.of(Map.of("interchange.erp.s4.url", s4Url, "interchange.erp.s4.user", user,
                "interchange.erp.s4.password", password, "interchange.erp.s4.max-rate", "100000"));
        s4 = new S4HanaConnector(config, mappings, java.time.Clock.systemUTC());
        // only prepare() is used: the baselines store confirmations themselves, without the runtime's store
        service = new LedgerPostingService(mappings, LegalEntityTable.load(source), Map.of(s4.target(), s4), null);
    }

    static void createTables(String jdbcUrl) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "")) {
            c.createStatement().execute(CONFIRMATION_DDL);
        }
    }

    /** The posting for a canonical event; every bench event has a ledger effect, so none may map to nothing. */
    LedgerPosting prepare(Envelope envelope, byte[] data) {
        return service.prepare(envelope, data).orElseThrow(() ->
                new IllegalStateException("event " + envelope.id() + " (" + envelope.type() + ") has no ledger effect"));
    }

    /** The confirmation as {@link LedgerPostingService#record} builds it from the ERP's answer. */
    static ErpConfirmations.Confirmation confirmation(LedgerPosting p, ErpConnector.ErpAnswer a, String correlationId) {
        return new ErpConfirmations.Confirmation(LedgerPostingService.postingKey(p.sourceEventId()), p.sourceEventId(),
                p.legalEntity(), p.erpTarget(), a.companyCode() == null ? p.companyCode() : a.companyCode(),
                a.accountingDocument(), a.fiscalYear() == null ? p.postingDate().substring(0, 4) : a.fiscalYear(),
                correlationId, null);
    }

    /** The ledger topic's envelope for a confirmed posting, as the runtime's route writes it. */
    static Envelope ledgerEnvelope(LedgerPosting p, Envelope source) {
        CanonicalType type = CanonicalType.LEDGER_POSTED;
        return new Envelope(p.postingId(), "/interchange/ledger", type.ceType(), source.subject(), Instant.now().toString(),
                type.dataSchema(), source.correlationId(), p.legalEntity());
    }

    static byte[] ledgerJson(LedgerPosting p, ErpConfirmations.Confirmation c) {
        try {
            return JSON.writeValueAsBytes(LedgerPostingService.event(p, c));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
