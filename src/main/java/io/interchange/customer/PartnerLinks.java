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
import java.util.Locale;
import java.util.function.Consumer;

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
    private final Consumer<String> linked;

    public PartnerLinks(CrossReferences crossReferences) {
        this(crossReferences, globalId -> { });
    }

    /** @param linked called with the customer's global id once a partner is linked (the ids' write-back to the CRM) */
    public PartnerLinks(CrossReferences crossReferences, Consumer<String> linked) {
        this.crossReferences = crossReferences;
        this.linked = linked;
    }

    /** The cross-reference system of an ERP target's partners, e.g. {@code erp-s4hana} for {@code S4HANA}. */
    public static String system(String erp) {
        return "erp-" + erp.toLowerCase(Locale.ROOT);
    }

    public void apply(Exchange exchange) {
        ExchangeKeys.mdc(exchange);
        PartnerConfirmation c;
        try {
            c = JSON.readValue(exchange.getMessage().getBody(byte[].class), PartnerConfirmation.class);
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
            LOG.info("Customer {} linked to {} business partner {}", globalId, c.erp(), c.partnerNumber());
            linked.accept(globalId);
            return;
        }
        crossReferences.releaseCreation(globalId, system, "");
        throw new PermanentFailure(c.erp() + " rejected the business partner of customer " + globalId + " (request "
                + c.requestMessageId() + "): " + PersonalData.mask(String.join("; ", c.notes()))
                + "; fix the cause, then replay, or let the customer's next change send it again");
    }
}
