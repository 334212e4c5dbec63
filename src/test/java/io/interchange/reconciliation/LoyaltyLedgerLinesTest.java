package io.interchange.reconciliation;

import io.interchange.connectors.erp.ErpConnector.LedgerItem;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The loyalty transactions of ERP documents, one per transaction, read with what the posting rules themselves say
 * (liability account 21800000, {@code Points <member> <transaction>}, {@code Points earned <transaction>} ...): a
 * real-time entry, a daily filing, the liability signed as it moves, and documents of anything else left alone.
 */
class LoyaltyLedgerLinesTest {

    static final MappingSource SOURCE = MappingSource.directory(Path.of("mappings"));
    static final MappingEngine ENGINE = MappingEngine.load(SOURCE);
    static final LegalEntityTable ENTITIES = LegalEntityTable.load(SOURCE);
    private static final LocalDate DAY = LocalDate.of(2026, 10, 1);

    @Test
    void theLiabilityAccountAndTextsAreLearntFromThePostingRules() {
        LegalEntity fr = ENTITIES.find("FR01").orElseThrow();
        assertThat(LoyaltyLedgerLines.of(ENGINE, fr).liabilityAccount()).isEqualTo("21800000");
    }

    @Test
    void aRealTimeEntryIsOneTransactionAndAFilingOnePerLinePair() {
        LoyaltyLedgerLines lines = LoyaltyLedgerLines.of(ENGINE, ENTITIES.find("DE01").orElseThrow());

        // points redeemed, posted with their negative value: the liability debited
        assertThat(lines.transactions(List.of(
                line("0100000011", "LOYALTY_REDEEMED vtx_1", "44000000", false, "2.50", "Points redeemed vtx_1"),
                line("0100000011", "LOYALTY_REDEEMED vtx_1", "21800000", true, "2.50", "Points 8KBUE0M6 vtx_1"))))
                .singleElement().satisfies(l -> {
                    assertThat(l.transactionId()).isEqualTo("vtx_1");
                    assertThat(l.movement()).isEqualTo("REDEEMED");
                    assertThat(l.member()).isEqualTo("8KBUE0M6");
                    assertThat(l.amountMinor()).isEqualTo(-250);
                    assertThat(l.documentKey()).isEqualTo("1010/2026/0100000011");
                    assertThat(l.transactionsInDocument()).isEqualTo(1);
                });

        // a day's filing on the legacy ledger (no header text): earned, expired, transferred in, each its own
        List<LoyaltyLedgerLines.Line> filed = lines.transactions(List.of(
                line("LG7", null, "61500000", true, "1.20", "Points earned vtx_2"),
                line("LG7", null, "21800000", false, "1.20", "Points AAAA1111 vtx_2"),
                line("LG7", null, "21800000", true, "0.53", "Points BBBB2222 vtx_3"),
                line("LG7", null, "48100000", false, "0.53", "Points expired vtx_3"),
                line("LG7", null, "21810000", true, "0.10", "Points transferred vtx_4"),
                line("LG7", null, "21800000", false, "0.10", "Points BBBB2222 vtx_4")));
        assertThat(filed).extracting(LoyaltyLedgerLines.Line::transactionId).containsExactly("vtx_2", "vtx_3", "vtx_4");
        assertThat(filed).extracting(LoyaltyLedgerLines.Line::movement).containsExactly("EARNED", "EXPIRED", "TRANSFERRED");
        assertThat(filed).extracting(LoyaltyLedgerLines.Line::amountMinor).containsExactly(120L, -53L, 10L);
        assertThat(filed).allSatisfy(l -> assertThat(l.transactionsInDocument()).isEqualTo(3));
    }

    @Test
    void documentsOfAnythingElseHoldNoLoyaltyTransaction() {
        LoyaltyLedgerLines lines = LoyaltyLedgerLines.of(ENGINE, ENTITIES.find("GB01").orElseThrow());
        assertThat(lines.transactions(List.of(
                line("0100000012", "PAYMENT A-1", "11001020", true, "10.00", "Payment pi_1"),
                line("0100000012", "PAYMENT A-1", "12600000", false, "10.00", "Invoice A-1")))).isEmpty();
        // a line on the liability account by hand, its text naming no member and transaction
        assertThat(lines.transactions(List.of(
                line("0100000013", null, "21800000", false, "10.00", "Points adjustment"),
                line("0100000013", null, "61500000", true, "10.00", null)))).isEmpty();
    }

    private static LedgerItem line(String document, String header, String account, boolean debit, String amount,
                                   String text) {
        return new LedgerItem("1010", "2026", document, "REF", DAY, header, "EUR", account, debit,
                new BigDecimal(amount), text);
    }
}
