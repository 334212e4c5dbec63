package io.interchange.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.model.CanonicalType;
import io.interchange.model.Envelope;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.LoyaltyFilings;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the daily filing keeps of a canonical loyalty transaction (the mapping's fixture, valued as the webhook edge
 * values it): the same read from the bytes or from the tree the ledger's routing read; a transaction without what the
 * filing needs is a permanent failure naming it, never an item with a guessed amount.
 */
class FilingItemTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final LoyaltyDailyFiling FILING = new LoyaltyDailyFiling(null,
            LegalEntityTable.load(MappingSource.bundled()), Set.of("FR01"), Duration.ZERO, 400, Clock.systemUTC());
    static final Envelope ENVELOPE = new Envelope("voucherify:proj:vtx_0c9b08fe530089785c", "/loyalty",
            CanonicalType.LOYALTY_TRANSACTION.ceType(), "230724-01", "2023-03-15T12:17:41.708Z", null, null, "FR01");

    /** The redemption fixture as the edge publishes it: valued in FR01's money. */
    static ObjectNode canonical() throws Exception {
        ObjectNode t = (ObjectNode) JSON.readTree(Path.of("mappings/loyalty/transaction.fixtures/redemption.expected.json").toFile());
        return t.put("currency", "EUR").put("pointValue", "1").put("amountMinor", -1000).put("occurredOn", "2023-03-15");
    }

    @Test
    void theItemIsTheSameFromTheBytesAndFromTheTreeTheRoutingRead() throws Exception {
        byte[] body = JSON.writeValueAsBytes(canonical());
        JsonNode tree = JSON.readTree(body);
        for (LoyaltyFilings.Item item : new LoyaltyFilings.Item[]{FILING.item(ENVELOPE, body),
                FILING.item(ENVELOPE, body, tree)}) {
            assertThat(item.eventId()).isEqualTo(ENVELOPE.id());
            assertThat(item.transactionId()).isEqualTo("vtx_0c9b08fe530089785c");
            assertThat(item.legalEntity()).isEqualTo("FR01");
            assertThat(item.occurredOn()).isEqualTo(LocalDate.parse("2023-03-15"));
            assertThat(item.amountMinor()).isEqualTo(-1000);
            assertThat(item.currency()).isEqualTo("EUR");
            assertThat(item.canonical()).isEqualTo(body);
        }
        assertThat(FILING.files(ENVELOPE)).isTrue();
    }

    @Test
    void aTransactionWithoutWhatTheFilingNeedsIsAPermanentFailureNamingIt() throws Exception {
        ObjectNode noAmount = canonical();
        noAmount.remove("amountMinor");
        ObjectNode fractional = canonical().put("amountMinor", 10.5);
        ObjectNode badDate = canonical().put("occurredOn", "15/03/2023");
        for (ObjectNode t : new ObjectNode[]{noAmount, fractional}) {
            assertThatThrownBy(() -> FILING.item(ENVELOPE, JSON.writeValueAsBytes(t))).isInstanceOf(PermanentFailure.class)
                    .hasMessageContaining(ENVELOPE.id()).hasMessageContaining("amountMinor");
        }
        assertThatThrownBy(() -> FILING.item(ENVELOPE, JSON.writeValueAsBytes(badDate))).isInstanceOf(PermanentFailure.class)
                .hasMessageContaining("15/03/2023");
        assertThatThrownBy(() -> FILING.item(ENVELOPE, "{\"transactionId\":".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("not readable");
        assertThatThrownBy(() -> FILING.item(ENVELOPE, "[1]".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(PermanentFailure.class).hasMessageContaining("not a JSON object");
    }
}
