package io.interchange.customer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.management.PersonalData;
import io.interchange.model.PartnerConfirmation;
import io.interchange.reliability.ExchangeKeys;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.CrossReferences;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An ERP's asynchronous confirmation of a business partner, applied to the cross-reference: the partner's UUID is the
 * creation key of the customer's record in that ERP, so the confirmation finds the creation it answers. A saved
 * partner completes the link with its number (again with the same number: nothing); a rejected one releases the
 * creation, so the next attempt takes it over under the same key, and fails permanently with the ERP's notes, which
 * dead-letters it for an operator. A confirmation no creation awaits is a permanent failure too: a partner the
 * runtime did not ask for, or one whose customer was removed.
 */
public final class PartnerLinks {

    private static final Logger LOG = LoggerFactory.getLogger(PartnerLinks.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CrossReferences crossReferences;
    private final CrmWriteBack writeBack;

    /** @param writeBack writes a customer's ids back to its CRM records once its partner is linked; null: none */
    public PartnerLinks(CrossReferences crossReferences, CrmWriteBack writeBack) {
        this.crossReferences = crossReferences;
        this.writeBack = writeBack;
    }

    /** The idempotency key of a confirmation: its CloudEvents id (the batch and the single route use the same). */
    public static String key(String cloudEventId) {
        return "customer:erp-partner-link:" + cloudEventId;
    }

    /**
     * The claimed confirmations of a poll: each applied ({@link #link}; one that fails, fails alone), then the ids of
     * every customer linked written back together. Answers, per record, null or its failure.
     */
    public List<RuntimeException> handle(List<Exchange> records) {
        RuntimeException[] failures = new RuntimeException[records.size()];
        Map<String, List<Integer>> linked = new LinkedHashMap<>();
        for (int i = 0; i < records.size(); i++) {
            try {
                String globalId = link(records.get(i).getMessage().getBody(byte[].class));
                linked.computeIfAbsent(globalId, g -> new ArrayList<>()).add(i);
            } catch (RuntimeException e) {
                failures[i] = e;
            }
        }
        if (writeBack != null && !linked.isEmpty()) {
            writeBack.writeAll(linked.keySet()).forEach((globalId, e) -> linked.get(globalId).forEach(i -> failures[i] = e));
        }
        return Arrays.asList(failures);
    }

    /** The cross-reference system of an ERP target's partners, e.g. {@code erp-s4hana} for {@code S4HANA}. */
    public static String system(String erp) {
        return "erp-" + erp.toLowerCase(Locale.ROOT);
    }

    /** The single route's step: one confirmation applied, and its customer's ids written back. */
    public void apply(Exchange exchange) {
        ExchangeKeys.mdc(exchange);
        String globalId = link(exchange.getMessage().getBody(byte[].class));
        if (writeBack != null) writeBack.write(globalId);
    }

    /**
     * Applies one canonical partner confirmation: a saved partner completes its customer's link; a rejection releases
     * the creation and fails permanently. Returns the customer linked.
     */
    String link(byte[] body) {
        PartnerConfirmation c;
        try {
            c = JSON.readValue(body, PartnerConfirmation.class);
        } catch (IOException e) {
            throw new PermanentFailure("not a canonical partner confirmation: " + e.getMessage());
        }
        if (c.erp() == null || c.partnerUuid() == null) {
            throw new PermanentFailure("a partner confirmation without its ERP or partner UUID cannot be matched");
        }
        String system = system(c.erp());
        String globalId = crossReferences.creatorOf(system, "", c.partnerUuid()).orElseThrow(() -> new PermanentFailure(
                c.erp() + " confirmed partner " + c.partnerUuid() + (c.partnerNumber() == null ? "" : " (number "
                        + c.partnerNumber() + ")") + ", whose creation no customer awaits: a partner this runtime did not "
                        + "ask for, or its customer's link was removed"));
        if (c.saved()) {
            crossReferences.completeCreation(globalId, system, "", c.partnerNumber());
            LOG.debug("Customer {} linked to {} business partner {}", globalId, c.erp(), c.partnerNumber());
            return globalId;
        }
        crossReferences.releaseCreation(globalId, system, "");
        throw new PermanentFailure(c.erp() + " rejected the business partner of customer " + globalId + " (request "
                + c.requestMessageId() + "): " + PersonalData.mask(String.join("; ", c.notes()))
                + "; fix the cause, then replay, or let the customer's next change send it again");
    }
}
