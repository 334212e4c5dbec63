package io.interchange.ledger;

import io.interchange.connectors.erp.ErpConnector;
import io.interchange.model.LedgerPosting;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.IdempotentStep;
import io.interchange.reliability.PermanentFailure;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Settles a posting whose earlier outcome is unknown by asking the ERP what its ledger holds under the posting's
 * reference, instead of trusting an idempotency store the ERP may not have (SAP's for synchronous services is a
 * configuration an ERP team may not have enabled):
 * <ul>
 *   <li>before sending, when an earlier attempt may have reached the ERP: a redelivery after a timeout or a garbage
 *   answer, a key taken over from a delivery that died, a bulk request that failed or was rejected;</li>
 *   <li>after the ERP rejects the entry (a ledger refusing a second entry under one reference says so this way).</li>
 * </ul>
 * The entry found (same company, currency and amounts) is recorded and published as the confirmation, and nothing
 * is sent; a different entry under our reference is a conflict, dead-lettered with both described; nothing found means
 * the posting is sent (or, after a rejection, dead-lettered with the ERP's reason).
 */
public final class LedgerSettlement {

    /**
     * Exchange property holding the permanent failure of the bulk request a posting was in (a rejection, an answer
     * that was not a confirmation): it is the posting's failure only if the ERP does not hold the entry.
     */
    public static final String UNSETTLED_FAILURE = "InterchangeUnsettledFailure";
    private static final String SETTLED = "InterchangeSettledByRead";
    private static final Logger LOG = LoggerFactory.getLogger(LedgerSettlement.class);

    private LedgerSettlement() {
    }

    /** True when an earlier attempt at this posting may have reached the ERP. */
    public static boolean outcomeUnknown(Exchange exchange) {
        return exchange.getProperty(ExchangeKeys.ATTEMPTS, 1, Integer.class) > 1
                || Boolean.TRUE.equals(exchange.getProperty(IdempotentStep.TAKEN_OVER))
                || exchange.getProperty(UNSETTLED_FAILURE) != null;
    }

    /** After reading the ledger before sending: the entry held becomes the answer; else the posting goes on. */
    public static void settleBeforePosting(Exchange exchange) throws Exception {
        ErpConnector.Holding holding = holding(exchange);
        LedgerPosting posting = posting(exchange);
        if (holding.document() != null) {
            LOG.info("Posting {} is already on the {} ledger as document {}/{} (an earlier attempt's outcome was "
                            + "unknown); recorded as its confirmation, not sent again", posting.postingId(),
                    posting.erpTarget(), holding.document().accountingDocument(), holding.document().fiscalYear());
            exchange.setProperty(ErpConnector.ANSWERS, List.of(ErpConnector.EntryAnswer.posted(holding.document())));
            exchange.setProperty(SETTLED, true);
            return;
        }
        if (holding.conflict() != null) {
            throw new PermanentFailure(holding.conflict());
        }
        Exception earlier = exchange.getProperty(UNSETTLED_FAILURE, Exception.class);
        if (earlier != null) {
            // the ERP does not hold it: the bulk request's permanent failure is the posting's, without sending again
            exchange.removeProperty(UNSETTLED_FAILURE);
            throw earlier;
        }
        LOG.debug("Posting {} is not on the {} ledger; sending it", posting.postingId(), posting.erpTarget());
    }

    public static boolean notSettled(Exchange exchange) {
        return exchange.getProperty(SETTLED) == null;
    }

    /** True when the ERP rejected the entry just sent. */
    public static boolean rejected(Exchange exchange) {
        List<?> answers = exchange.getProperty(ErpConnector.ANSWERS, List.class);
        return answers != null && !answers.isEmpty() && ((ErpConnector.EntryAnswer) answers.get(0)).answer() == null;
    }

    /**
     * After a rejection and a read: the entry held (ours from an earlier attempt) becomes the answer; a different
     * entry is a conflict; nothing held leaves the rejection, which is dead-lettered with the ERP's reason.
     */
    public static void settleRejection(Exchange exchange) {
        ErpConnector.Holding holding = holding(exchange);
        LedgerPosting posting = posting(exchange);
        String rejection = ((ErpConnector.EntryAnswer) exchange.getProperty(ErpConnector.ANSWERS, List.class).get(0)).rejection();
        if (holding.document() != null) {
            LOG.info("Posting {} was refused by {} ({}), but its ledger holds it as document {}/{}: recorded as its "
                            + "confirmation", posting.postingId(), posting.erpTarget(), rejection,
                    holding.document().accountingDocument(), holding.document().fiscalYear());
            exchange.setProperty(ErpConnector.ANSWERS, List.of(ErpConnector.EntryAnswer.posted(holding.document())));
        } else if (holding.conflict() != null) {
            throw new PermanentFailure(rejection + "; " + holding.conflict());
        }
    }

    private static ErpConnector.Holding holding(Exchange exchange) {
        return exchange.getProperty(ErpConnector.HOLDING, ErpConnector.Holding.class);
    }

    @SuppressWarnings("unchecked")
    private static LedgerPosting posting(Exchange exchange) {
        return ((List<LedgerPosting>) exchange.getProperty(ErpConnector.POSTINGS, List.class)).get(0);
    }
}
