package io.interchange.reconciliation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.loyalty.LoyaltyPoints;
import io.interchange.connectors.loyalty.LoyaltyValuation;
import io.interchange.model.LoyaltyTransaction;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.store.ReconciliationRuns;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The loyalty side of a run, read from the loyalty platform itself: the program's transactions
 * ({@code GET /v1/loyalties/{campaignId}/transactions}) newest first, page by page, down to the first one made before
 * the read window (the list is in order of creation, so nothing older follows). Each transaction is valued as the
 * webhook edge values it ({@link LoyaltyValuation}: the same mapping of its type to a movement, the same holder's legal
 * entity, point value and rounding, the same date in the entity's zone), so it carries exactly the amount its posting
 * carries. The platform lists transactions without their holder: each card ({@code voucher_id}) is looked up once per
 * run ({@link LoyaltyPoints#card}, two requests).
 *
 * <p>Only the entity's transactions are kept, one record each ({@code LOYALTY|<transaction id>}, the signed change of
 * the liability in minor units). One that cannot be valued (its holder no customer of the master, no legal entity, an
 * unknown type) cannot be placed in any entity: it is counted as unreadable and logged, never dropped silently. One
 * valued at zero minor units has no posting (the ledger leaves out lines of zero) and is counted, not compared.
 */
final class LoyaltyPlatformTransactions {

    static final String KEY_PREFIX = "LOYALTY|";
    private static final Logger LOG = LoggerFactory.getLogger(LoyaltyPlatformTransactions.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a read kept and could not read, and the entity's liability movements in the period, per currency. */
    static final class Counts {
        long kept;
        long unreadable;
        long zero;
        /** currency -> movement -> {points, minor units}, of the transactions in the period. */
        final Map<String, Map<String, long[]>> totals = new TreeMap<>();
    }

    private final LoyaltyPoints points;
    private final LoyaltyValuation valuation;
    private final String campaignId;
    private final int pageSize;

    LoyaltyPlatformTransactions(LoyaltyPoints points, LoyaltyValuation valuation, String campaignId, int pageSize) {
        this.points = points;
        this.valuation = valuation;
        this.campaignId = campaignId;
        this.pageSize = Math.max(1, Math.min(100, pageSize));
    }

    /** The match key of a loyalty transaction, on either side. */
    static String key(String transactionId) {
        return KEY_PREFIX + transactionId;
    }

    /**
     * Reads the program's transactions made from {@code readFrom} up to {@code readTo} (in {@code zone}) into
     * {@code sink}, those of {@code legalEntity} only, in period when their date in the entity's zone is within
     * {@code [from, to)}.
     */
    Counts read(String legalEntity, ZoneId zone, LocalDate readFrom, LocalDate readTo, LocalDate from, LocalDate to,
                Consumer<ReconciliationRuns.Record> sink, Runnable progress) {
        if (campaignId == null || campaignId.isBlank()) {
            throw new IllegalStateException("the loyalty program is not configured (interchange.loyalty.campaign-id): "
                    + "its transactions cannot be read");
        }
        Instant windowFrom = readFrom.atStartOfDay(zone).toInstant();
        Instant windowTo = readTo.atStartOfDay(zone).toInstant();
        Counts counts = new Counts();
        Map<String, LoyaltyPoints.Card> cards = new HashMap<>();
        String after = null;
        while (true) {
            LoyaltyPoints.Listed page = points.campaignTransactions(campaignId, pageSize, "-id", after);
            for (JsonNode t : page.data()) {
                Instant created = LoyaltyPoints.instant(t.path("created_at").asText(null));
                if (created != null && created.isBefore(windowFrom)) return counts; // older ones follow only
                if (created != null && !created.isBefore(windowTo)) continue;
                progress.run();
                read(t, legalEntity, from, to, cards, counts, sink);
            }
            if (!page.hasMore() || page.moreStartingAfter() == null) return counts;
            if (page.moreStartingAfter().equals(after)) {
                throw new TransientFailure("Voucherify API transactions of program " + campaignId + ": the page after "
                        + after + " named itself as the next page");
            }
            after = page.moreStartingAfter();
        }
    }

    private void read(JsonNode t, String legalEntity, LocalDate from, LocalDate to, Map<String, LoyaltyPoints.Card> cards,
                      Counts counts, Consumer<ReconciliationRuns.Record> sink) {
        String id = t.path("id").asText("?");
        LoyaltyValuation.Valued valued;
        try {
            valued = valuation.value(webhookShape(t, card(t.path("voucher_id").asText(null), cards)));
        } catch (PermanentFailure unreadable) {
            counts.unreadable++;
            LOG.warn("Loyalty reconciliation: transaction {} of program {} not compared: {}", id, campaignId,
                    unreadable.getMessage());
            return;
        }
        if (!legalEntity.equals(valued.legalEntity())) return;
        LoyaltyTransaction tx = valued.transaction();
        if (tx.amountMinor() == 0) {
            counts.zero++;
            return;
        }
        LocalDate on = LocalDate.parse(tx.occurredOn());
        boolean inPeriod = !on.isBefore(from) && on.isBefore(to);
        counts.kept++;
        if (inPeriod) {
            long[] total = counts.totals.computeIfAbsent(tx.currency(), c -> new TreeMap<>())
                    .computeIfAbsent(tx.movement(), m -> new long[2]);
            total[0] += tx.points();
            total[1] += tx.amountMinor();
        }
        sink.accept(new ReconciliationRuns.Record(ReconciliationRuns.LOYALTY, key(tx.transactionId()), tx.movement(), tx.transactionId(), null,
                tx.memberId(), tx.currency(), tx.amountMinor(), on, inPeriod, tx.type() + " " + tx.points() + " points at "
                + tx.pointValue() + " minor units, member " + tx.memberId() + ", customer " + tx.customer().globalId()));
    }

    /** The card of a transaction, looked up once per run; one the platform does not know has no holder. */
    private LoyaltyPoints.Card card(String voucherId, Map<String, LoyaltyPoints.Card> cards) {
        if (voucherId == null || voucherId.isBlank()) return null;
        LoyaltyPoints.Card card = cards.get(voucherId);
        if (card != null) return card;
        try {
            card = points.card(voucherId);
        } catch (PermanentFailure unknown) {
            throw new PermanentFailure("its card " + voucherId + " could not be read: " + unknown.getMessage());
        }
        cards.put(voucherId, card);
        return card;
    }

    /**
     * A listed transaction in the shape of the webhook that announces it ({@code data.transaction},
     * {@code data.voucher}, {@code data.holder}), so that the edge's mapping reads it as it reads the webhook.
     */
    static ObjectNode webhookShape(JsonNode transaction, LoyaltyPoints.Card card) {
        ObjectNode w = JSON.createObjectNode();
        ObjectNode data = w.putObject("data");
        data.set("transaction", transaction);
        if (card != null) {
            ObjectNode voucher = data.putObject("voucher").put("id", card.voucherId()).put("code", card.code())
                    .put("campaign_id", card.campaignId()).put("holder_id", card.holderId());
            voucher.put("object", "voucher");
            data.putObject("holder").put("id", card.holderId()).put("source_id", card.holderSourceId())
                    .put("object", "customer");
        }
        return w;
    }
}
