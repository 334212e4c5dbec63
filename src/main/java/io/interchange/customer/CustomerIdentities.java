package io.interchange.customer;

import io.interchange.mapping.IdentityRules;
import io.interchange.mapping.IdentityRules.Decision;
import io.interchange.mapping.IdentityRules.Outcome;
import io.interchange.store.CrossReferences;
import io.interchange.store.IdentityIndex;
import io.interchange.store.StoreException;

import java.util.List;

/**
 * Which customer an incoming CRM record is, and its link: a new customer is minted and the record linked to it, a
 * matched record is linked to its customer, and in both cases its identity keys are indexed for the records that come
 * after it. An ambiguous record changes nothing: the caller parks it for an operator with the decision's reason.
 */
public final class CustomerIdentities {

    private final IdentityRules rules;
    private final CrossReferences crossReferences;
    private final IdentityIndex index;

    public CustomerIdentities(IdentityRules rules, CrossReferences crossReferences, IdentityIndex index) {
        this.rules = rules;
        this.crossReferences = crossReferences;
        this.index = index;
    }

    /** Attempts before giving up: each lost attempt means another customer took one of the record's keys meanwhile. */
    private static final int ATTEMPTS = 5;

    /**
     * Decides which customer the record is and, unless that is ambiguous, links and indexes it. The record's customer
     * first owns its decisive keys ({@link IdentityIndex#own}), so the same person's records arriving at once from two
     * systems (or on two instances) make one customer: one new customer wins the keys, the others own nothing, forget
     * the id they minted, decide again and find it.
     *
     * <p>Once won, a key names its customer for good: there is no release, no lease and no second check that could
     * make a customer give its id up after another record had already been linked to it (what once made two
     * customers of one person: see {@link IdentityIndex#own}).
     */
    public Decision identify(IdentityRules.Record record) {
        List<IdentityRules.Key> keys = rules.keys(record);
        for (int attempt = 1; ; attempt++) {
            Decision decision = rules.decide(record, index);
            if (decision.outcome() == Outcome.AMBIGUOUS) return decision;
            boolean isNew = decision.outcome() == Outcome.NEW;
            String globalId = isNew ? crossReferences.mint() : decision.globalId();
            if (!index.own(globalId, keys)) {
                if (isNew) crossReferences.forget(globalId);
                if (attempt < ATTEMPTS) continue;
                throw new StoreException("the customer of " + record.system() + " record " + record.externalId()
                        + " could not be decided: other customers took its keys " + ATTEMPTS + " times", null);
            }
            crossReferences.link(globalId, record.system(), record.scope(), record.externalId());
            index.index(globalId, record, keys);
            return isNew ? new Decision(Outcome.NEW, globalId, null, decision.candidates(), decision.matches(),
                    decision.reason()) : decision;
        }
    }
}
