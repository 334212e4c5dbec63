package io.interchange.customer;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.billing.StripeApi;
import io.interchange.connectors.rest.FormBody;
import io.interchange.connectors.rest.IdempotencyKeys;
import io.interchange.model.Customer;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.CrossReferences;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The customer's billing customer, in Stripe's API ({@code POST /v1/customers}, form-encoded,
 * {@code metadata[global_customer_id]}).
 *
 * <p>Created in two requests: the customer with only its global id, under the cross-reference's creation key as
 * {@code Idempotency-Key}, then an update with its fields. Stripe answers a key asked again with other parameters
 * with 400 {@code idempotency_error}; a creation taken over after a crash (the first holder died between Stripe's
 * answer and the link) asks again with the same key, and its parameters must be the same for Stripe to answer the
 * first customer instead of refusing, which the customer's fields, changed meanwhile, would not be. The update's key
 * is derived from its parameters: the same update sent twice is one.
 */
public final class BillingCustomers implements CustomerTarget {

    public static final String SYSTEM = "billing";

    private final StripeApi stripe;
    private final CrossReferences crossReferences;
    private final Duration maxWait;

    public BillingCustomers(StripeApi stripe, CrossReferences crossReferences, Duration maxWait) {
        this.stripe = stripe;
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
        boolean created = false;
        if (link.isEmpty()) {
            link = Optional.of(crossReferences.createAndLink(c.globalId(), SYSTEM, "", claim -> {
                JsonNode answer = stripe.createCustomer(Map.of("metadata", Map.of("global_customer_id", c.globalId())),
                        claim.creationKey());
                String id = answer.path("id").asText("");
                if (!id.startsWith("cus_")) {
                    throw new PermanentFailure("the billing API answered a customer creation without a customer id");
                }
                return id;
            }, maxWait));
            created = true;
        }
        if (!created && !request.touchesMaster()) return Action.UNCHANGED;
        String id = link.get().externalId();
        Map<String, Object> params = params(c);
        stripe.updateCustomer(id, params, IdempotencyKeys.derive("customer-update", id, FormBody.of(params).text()));
        return created ? Action.CREATED : Action.UPDATED;
    }

    /** Stripe's customer parameters of the canonical customer; an empty value unsets a field Stripe holds. */
    static Map<String, Object> params(Customer c) {
        Map<String, Object> p = new LinkedHashMap<>();
        String name = c.companyName() != null ? c.companyName()
                : String.join(" ", java.util.stream.Stream.of(c.firstName(), c.lastName())
                .filter(s -> s != null && !s.isBlank()).toList());
        p.put("name", name);
        p.put("email", orEmpty(c.email()));
        p.put("phone", orEmpty(c.phone()));
        Customer.PostalAddress a = c.billingAddress();
        Map<String, Object> address = new LinkedHashMap<>();
        if (a != null) {
            String line1 = a.houseNumber() == null ? a.street() : a.street() + " " + a.houseNumber();
            address.put("line1", orEmpty(line1));
            address.put("postal_code", orEmpty(a.postalCode()));
            address.put("city", orEmpty(a.city()));
            address.put("state", orEmpty(a.region()));
            address.put("country", orEmpty(a.country()));
            p.put("address", address);
        }
        if (c.preferredLanguage() != null) p.put("preferred_locales", List.of(c.preferredLanguage()));
        p.put("metadata", Map.of("global_customer_id", c.globalId()));
        return p;
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
