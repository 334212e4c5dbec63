package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.erp.ErpConnector.LedgerItem;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.Mapping;
import io.interchange.mapping.MappingEngine;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loyalty points transactions an ERP ledger document holds, one per transaction: a real-time entry holds one, a
 * day's filing one line pair per transaction. Each pair is what {@code mappings/ledger/posting-rules.jslt} makes of a
 * transaction: a line on the points liability whose text names the member and the transaction
 * ({@code Points <member> <transaction id>}) and a line on the account of its movement ({@code Points earned <transaction
 * id>}, ...). The liability account, the liability line's text and each movement's text are learnt from the posting rules
 * themselves, by mapping one transaction of each movement for the entity, so that what is read here follows the rules
 * as they are, not a copy of them.
 *
 * <p>A transaction's record is its liability line, signed as the liability moves: a credit raises it ({@code +}), a
 * debit lowers it ({@code -}), which is the sign of the transaction's own valued amount (points earned {@code +},
 * redeemed or expired {@code -}).
 */
final class LoyaltyLedgerLines {

    static final String MOVEMENT_UNKNOWN = "UNKNOWN";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROBE_TRANSACTION = "vtx_probe";
    private static final String PROBE_MEMBER = "MEMBERPROBE";
    private static final List<String> MOVEMENTS = List.of("EARNED", "REDEEMED", "EXPIRED", "TRANSFERRED");

    /** One transaction's liability line on the ledger. */
    record Line(String transactionId, String movement, String member, String documentKey, String reference,
                LocalDate postingDate, String headerText, String currency, long amountMinor, int transactionsInDocument) {
    }

    private final String liabilityAccount;
    private final String liabilityPrefix;
    /** Movement by the text that precedes the transaction id on its line ({@code "Points earned "}). */
    private final Map<String, String> movementPrefixes;

    private LoyaltyLedgerLines(String liabilityAccount, String liabilityPrefix, Map<String, String> movementPrefixes) {
        this.liabilityAccount = liabilityAccount;
        this.liabilityPrefix = liabilityPrefix;
        this.movementPrefixes = movementPrefixes;
    }

    /**
     * Learns the liability account and the line texts of {@code entity}'s loyalty postings from the posting rules:
     * one earned, redeemed, expired and transferred transaction of one minor unit each, mapped as the ledger maps it.
     * The account every one of them credits is the liability; each one's other line names its movement.
     */
    static LoyaltyLedgerLines of(MappingEngine mappings, LegalEntity entity) {
        Mapping rules = mappings.get("ledger/posting-rules");
        Map<String, Integer> credited = new HashMap<>();
        Map<String, String> liabilityTexts = new HashMap<>();
        Map<String, String> prefixes = new LinkedHashMap<>();
        for (String movement : MOVEMENTS) {
            ObjectNode input = JSON.createObjectNode();
            input.putObject("event").put("id", "reconciliation-probe-" + movement)
                    .put("type", "io.interchange.loyalty.transaction.created").put("date", "2000-01-01");
            input.putObject("data").put("transactionId", PROBE_TRANSACTION).put("movement", movement)
                    .put("memberId", PROBE_MEMBER).put("currency", entity.currency()).put("amountMinor", 1)
                    .put("points", 1).put("occurredOn", "2000-01-01");
            input.putObject("entity").put("id", entity.id()).put("companyCode", entity.companyCode())
                    .put("legacyCompany", entity.legacyCompany()).put("currency", entity.currency())
                    .put("taxRegion", entity.taxRegion());
            input.put("erpTarget", LegalEntity.S4HANA);
            JsonNode out = rules.apply(input, "reconciliation-probe");
            if (out == null || !out.path("lines").isArray() || out.path("lines").size() != 2) {
                throw new IllegalStateException("mappings/ledger/posting-rules.jslt maps a " + movement
                        + " loyalty transaction to something other than a line pair: the loyalty reconciliation cannot "
                        + "read the ledger");
            }
            for (JsonNode line : out.path("lines")) {
                String text = line.path("text").asText("");
                if (!text.endsWith(" " + PROBE_TRANSACTION)) continue;
                String prefix = text.substring(0, text.length() - PROBE_TRANSACTION.length());
                if ("CREDIT".equals(line.path("side").asText())) {
                    credited.merge(line.path("account").asText(), 1, Integer::sum);
                    liabilityTexts.put(line.path("account").asText(), prefix);
                }
                if (!prefix.contains(PROBE_MEMBER)) prefixes.put(prefix, movement);
            }
        }
        String account = credited.entrySet().stream().filter(e -> e.getValue() == MOVEMENTS.size()).map(Map.Entry::getKey)
                .findFirst().orElseThrow(() -> new IllegalStateException("mappings/ledger/posting-rules.jslt credits "
                        + "no one account for every loyalty movement: no points liability to reconcile"));
        String liabilityText = liabilityTexts.get(account);
        int member = liabilityText.indexOf(PROBE_MEMBER);
        if (member < 0) {
            throw new IllegalStateException("mappings/ledger/posting-rules.jslt: the points liability line's text '"
                    + liabilityText + "' does not name the member");
        }
        return new LoyaltyLedgerLines(account, liabilityText.substring(0, member), Map.copyOf(prefixes));
    }

    String liabilityAccount() {
        return liabilityAccount;
    }

    /** The loyalty transactions of one ERP document, in its order; none for a document of anything else. */
    List<Line> transactions(List<LedgerItem> document) {
        List<LedgerItem> liability = new ArrayList<>();
        Map<String, String> movements = new HashMap<>();
        for (LedgerItem item : document) {
            String text = item.text();
            if (text == null) continue;
            if (liabilityAccount.equals(item.account()) && text.startsWith(liabilityPrefix)) {
                String[] words = text.substring(liabilityPrefix.length()).split(" ");
                if (words.length == 2 && !words[0].isEmpty() && !words[1].isEmpty()) liability.add(item);
                continue;
            }
            for (Map.Entry<String, String> p : movementPrefixes.entrySet()) {
                if (text.startsWith(p.getKey())) {
                    movements.put(text.substring(p.getKey().length()), p.getValue());
                }
            }
        }
        List<Line> out = new ArrayList<>();
        for (LedgerItem item : liability) {
            String[] words = item.text().substring(liabilityPrefix.length()).split(" ");
            long minor = Money.minor(item.amount(), item.currency());
            out.add(new Line(words[1], movements.getOrDefault(words[1], MOVEMENT_UNKNOWN), words[0], item.documentKey(),
                    item.reference(), item.postingDate(), item.headerText(), item.currency(), item.debit() ? -minor : minor,
                    liability.size()));
        }
        return out;
    }
}
