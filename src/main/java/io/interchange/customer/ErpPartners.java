package io.interchange.customer;

import io.interchange.connectors.erp.S4BusinessPartners;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.CrossReferences;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;

/**
 * The customer's business partner in the ERP of its legal entity (the legal-entity table's cutover date decides,
 * as for postings), once the customer names one ({@code legalEntity}; a customer without one has no partner yet).
 *
 * <p>S/4HANA: one business partner per customer in the client (cross-reference {@code erp-s4hana}, scope ''), its
 * UUID the creation key, the entity's company code added to it. Replication is asynchronous: the first request claims
 * the creation and sends the partner; its confirmation completes the link ({@link PartnerLinks}). Every later change
 * of a master field sends the partner again under the same UUID, which S/4HANA's key mapping makes an update; a
 * confirmation that never comes lets the claim's lease run out, and the next change sends it again.
 *
 * <p>A customer without a name (the system that owns names has not set one) waits: the change that brings it sends
 * the partner.
 *
 * <p>Legacy ERP: one customer per legal entity's company (cross-reference {@code erp-legacy}, scope the entity),
 * keyed there by the global id, so the synchronous upsert's number is linked at once and a repeat is the same customer.
 */
public final class ErpPartners implements CustomerTarget {

    private static final Logger LOG = LoggerFactory.getLogger(ErpPartners.class);

    public static final String NAME = "erp";
    public static final String S4_SYSTEM = S4BusinessPartners.XREF_SYSTEM;
    /** = {@code PartnerLinks.system(LegalEntity.LEGACY)}, as a constant. */
    public static final String LEGACY_SYSTEM = "erp-legacy";

    private final ErpCustomerCalls calls;
    private final LegalEntityTable entities;
    private final CrossReferences crossReferences;
    private final Clock clock;
    private final Duration maxWait;

    public ErpPartners(ErpCustomerCalls calls, LegalEntityTable entities, CrossReferences crossReferences, Clock clock,
                       Duration maxWait) {
        this.calls = calls;
        this.entities = entities;
        this.crossReferences = crossReferences;
        this.clock = clock;
        this.maxWait = maxWait;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Action sync(Request request) {
        if (request.legalEntity() == null) return Action.NOT_APPLICABLE;
        LegalEntity entity = entities.find(request.legalEntity()).orElseThrow(() -> new PermanentFailure(
                "customer " + request.customer().globalId() + " names legal entity " + request.legalEntity()
                        + ", which mappings/legal-entities.csv does not list"));
        Customer c = request.customer();
        if (c.companyName() == null && c.lastName() == null) {
            // an ERP's partner needs a name (its mappings require one); the system that owns names has not set it yet
            LOG.info("Customer {} has no name yet: its {} business partner waits for one", c.globalId(), entity.id());
            return Action.WAITING;
        }
        boolean changed = request.touchesMaster() || request.changed().contains("legalEntity");
        String erp = entity.erpTargetOn(LocalDate.now(clock.withZone(entity.timeZone())));
        return erp.equals(LegalEntity.S4HANA) ? s4(request.customer(), entity, changed)
                : legacy(request.customer(), entity, changed);
    }

    private Action s4(Customer c, LegalEntity entity, boolean changed) {
        boolean first = false;
        if (crossReferences.recordOf(c.globalId(), S4_SYSTEM, "").isEmpty()
                || !changed && crossReferences.linkIn(c.globalId(), S4_SYSTEM, "").isEmpty()) {
            // no record yet, or one being created whose confirmation did not come within the lease: (re)claim it
            first = crossReferences.claimCreation(c.globalId(), S4_SYSTEM, "") instanceof CrossReferences.Claimed;
        }
        if (!first && !changed) return Action.UNCHANGED;
        calls.replicateS4(List.of(new S4BusinessPartners.PartnerRequest(c, entity.id(), entity.companyCode())));
        return first ? Action.REQUESTED : Action.UPDATED;
    }

    private Action legacy(Customer c, LegalEntity entity, boolean changed) {
        Optional<CrossReferences.Link> link = crossReferences.linkIn(c.globalId(), LEGACY_SYSTEM, entity.id());
        if (link.isEmpty()) {
            crossReferences.createAndLink(c.globalId(), LEGACY_SYSTEM, entity.id(), claim ->
                    calls.upsertLegacy(c, entity.id(), entity.legacyCompany()).customerNumber(), maxWait);
            return Action.CREATED;
        }
        if (!changed) return Action.UNCHANGED;
        calls.upsertLegacy(c, entity.id(), entity.legacyCompany());
        return Action.UPDATED;
    }
}
