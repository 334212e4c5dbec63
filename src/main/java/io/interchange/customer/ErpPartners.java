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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
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
        Plan plan = plan(request);
        if (plan.s4Send() != null) calls.replicateS4(List.of(plan.s4Send()));
        return plan.legacy() ? legacy(request.customer(), plan.entity(), plan.changed()) : plan.action();
    }

    /**
     * Several customers: the S/4HANA partners to send go in bulk requests of up to
     * {@link S4BusinessPartners#MAX_BULK} (a failed request fails its customers only), the legacy ERP's customers
     * one by one in parallel.
     */
    @Override
    public Map<String, Object> syncAll(List<Request> requests, Executor parallel) {
        Map<String, Object> answers = new LinkedHashMap<>();
        List<Request> legacy = new ArrayList<>();
        List<Plan> s4 = new ArrayList<>();
        for (Request r : requests) {
            try {
                Plan plan = plan(r);
                if (plan.legacy()) legacy.add(r);
                else if (plan.s4Send() != null) s4.add(plan);
                else answers.put(r.customer().globalId(), plan.action());
            } catch (RuntimeException e) {
                answers.put(r.customer().globalId(), e);
            }
        }
        for (int from = 0; from < s4.size(); from += S4BusinessPartners.MAX_BULK) {
            List<Plan> bulk = s4.subList(from, Math.min(s4.size(), from + S4BusinessPartners.MAX_BULK));
            try {
                calls.replicateS4(bulk.stream().map(Plan::s4Send).toList());
                bulk.forEach(p -> answers.put(p.globalId(), p.action()));
            } catch (RuntimeException e) {
                bulk.forEach(p -> answers.put(p.globalId(), e));
            }
        }
        answers.putAll(CustomerTarget.super.syncAll(legacy, parallel));
        return answers;
    }

    /** What a customer needs: nothing, an S/4HANA partner to send (and the action it is), or the legacy ERP. */
    private record Plan(String globalId, Action action, S4BusinessPartners.PartnerRequest s4Send, boolean legacy,
                        LegalEntity entity, boolean changed) {
    }

    private Plan plan(Request request) {
        Customer c = request.customer();
        if (request.legalEntity() == null) return new Plan(c.globalId(), Action.NOT_APPLICABLE, null, false, null, false);
        LegalEntity entity = entities.find(request.legalEntity()).orElseThrow(() -> new PermanentFailure(
                "customer " + c.globalId() + " names legal entity " + request.legalEntity()
                        + ", which mappings/legal-entities.csv does not list"));
        if (c.companyName() == null && c.lastName() == null) {
            // an ERP's partner needs a name (its mappings require one); the system that owns names has not set it yet
            LOG.info("Customer {} has no name yet: its {} business partner waits for one", c.globalId(), entity.id());
            return new Plan(c.globalId(), Action.WAITING, null, false, entity, false);
        }
        boolean changed = request.touchesMaster() || request.changed().contains("legalEntity");
        String erp = entity.erpTargetOn(LocalDate.now(clock.withZone(entity.timeZone())));
        if (!erp.equals(LegalEntity.S4HANA)) return new Plan(c.globalId(), null, null, true, entity, changed);
        boolean first = false;
        if (crossReferences.recordOf(c.globalId(), S4_SYSTEM, "").isEmpty()
                || !changed && crossReferences.linkIn(c.globalId(), S4_SYSTEM, "").isEmpty()) {
            // no record yet, or one being created whose confirmation did not come within the lease: (re)claim it
            first = crossReferences.claimCreation(c.globalId(), S4_SYSTEM, "") instanceof CrossReferences.Claimed;
        }
        if (!first && !changed) return new Plan(c.globalId(), Action.UNCHANGED, null, false, entity, false);
        return new Plan(c.globalId(), first ? Action.REQUESTED : Action.UPDATED,
                new S4BusinessPartners.PartnerRequest(c, entity.id(), entity.companyCode()), false, entity, changed);
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
