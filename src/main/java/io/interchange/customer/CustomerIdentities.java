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

    /** Attempts at a new customer before giving up: each lost attempt means another record named the customer. */
    private static final int ATTEMPTS = 5;

    /**
     * Decides which customer the record is and, unless that is ambiguous, links and indexes it. A new customer's
     * decisive keys are claimed before its record is linked, so the same person's records arriving at once from two
     * systems (or on two instances) make one customer: the one that loses the claim decides again and finds the other.
     */
    public Decision identify(IdentityRules.Record record) {
        List<IdentityRules.Key> keys = rules.keys(record);
        for (int attempt = 1; ; attempt++) {
            Decision decision = rules.decide(record, index);
            if (decision.outcome() == Outcome.AMBIGUOUS) return decision;
            if (decision.outcome() == Outcome.MATCHED) {
                crossReferences.link(decision.globalId(), record.system(), record.scope(), record.externalId());
                index.index(decision.globalId(), record, keys);
                return decision;
            }
            String globalId = crossReferences.mint();
            // a key is always covered by a claim or by the index (a winner indexes before it releases), so a claim
            // won after another new customer's release finds that customer indexed when deciding again
            if (!index.claimKeys(globalId, keys) || !stillNew(record, globalId)) {
                index.releaseClaims(globalId);
                crossReferences.forget(globalId);
                if (attempt < ATTEMPTS) continue;
                throw new StoreException("the customer of " + record.system() + " record " + record.externalId()
                        + " could not be decided: its keys were claimed by other new customers " + ATTEMPTS + " times", null);
            }
            crossReferences.link(globalId, record.system(), record.scope(), record.externalId());
            index.index(globalId, record, keys);
            index.releaseClaims(globalId);
            return new Decision(Outcome.NEW, globalId, null, decision.candidates(), decision.matches(), decision.reason());
        }
    }

    /** True when, with its keys claimed, the record still names no customer but the one being created for it. */
    private boolean stillNew(IdentityRules.Record record, String globalId) {
        Decision again = rules.decide(record, index);
        return again.outcome() == Outcome.NEW
                || again.outcome() == Outcome.MATCHED && globalId.equals(again.globalId());
    }
}
