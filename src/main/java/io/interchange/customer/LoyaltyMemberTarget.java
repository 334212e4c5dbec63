package io.interchange.customer;

import io.interchange.connectors.loyalty.LoyaltyMembers;
import io.interchange.model.Customer;
import io.interchange.store.CrossReferences;

import java.time.Duration;
import java.util.Optional;

/**
 * The customer's member of the loyalty program. The platform has no idempotency key: the creation is claimed in the
 * cross-reference (one caller at a time, across instances), and the connector reads before it creates (the customer
 * by our global id as its {@code source_id}, then the customer's card in the program), so a creation asked again
 * after a lost answer or a crash finds the first member instead of adding a second.
 */
public final class LoyaltyMemberTarget implements CustomerTarget {

    public static final String SYSTEM = "loyalty";

    private final LoyaltyMembers loyalty;
    private final CrossReferences crossReferences;
    private final Duration maxWait;

    public LoyaltyMemberTarget(LoyaltyMembers loyalty, CrossReferences crossReferences, Duration maxWait) {
        this.loyalty = loyalty;
        this.crossReferences = crossReferences;
        this.maxWait = maxWait;
    }

    @Override
    public String name() {
        return SYSTEM;
    }

    @Override
    public Action sync(Request request) {
        Customer c = request.customer();
        Optional<CrossReferences.Link> link = crossReferences.linkIn(c.globalId(), SYSTEM, "");
        if (link.isEmpty()) {
            crossReferences.createAndLink(c.globalId(), SYSTEM, "", claim -> loyalty.ensureMember(c.globalId(), c)
                    .memberId(), maxWait);
            return Action.CREATED;
        }
        if (!request.touchesMaster()) return Action.UNCHANGED;
        loyalty.upsertCustomer(c.globalId(), c);
        return Action.UPDATED;
    }
}
