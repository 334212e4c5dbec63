package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.crm.HubSpotCommunicationPreferences;
import io.interchange.consent.ConsentWriters;
import io.interchange.sandbox.hubspot.HubSpotPeer;
import io.interchange.sandbox.hubspot.HubSpotWebhookSender;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.mailchimp.MailchimpPeer;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import io.interchange.store.CrossReferences;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The sandbox's consent traffic (flow {@code consent}): people deciding about marketing e-mail in the systems that
 * state it, one action every {@code every}, drawn from a {@link Random} of the banner's seed (a stream of its own):
 * <ul>
 * <li><b>sign-up</b>: a customer the customer sync made subscribes through the Mailchimp audience's form (the
 * {@code subscribe} webhook: the runtime links the member by its e-mail and grants the consent everywhere);</li>
 * <li><b>Mailchimp unsubscribe</b>: a subscribed customer follows a campaign's unsubscribe link;</li>
 * <li><b>loyalty revocation</b>: a customer turns marketing e-mail off in the loyalty app (the customer's metadata
 * {@code email_marketing_optin} false, with its time, and the platform's {@code customer.updated} webhook);</li>
 * <li><b>CRM opt-out</b>: a user unsubscribes the HubSpot contact from the marketing subscription type (HubSpot
 * sets the type's property {@code hs_email_optout_<type id>}, its signed webhook follows) or "Email Opt Out" on the Salesforce contact (the org's change event follows);</li>
 * <li><b>re-subscribe</b>: a customer whose consent was revoked signs up in Mailchimp again;</li>
 * <li><b>late opt-in</b>: HubSpot delivers, late, an opt-in of a revoked customer from before the revocation (a
 * retried webhook, {@code occurredAt} older than the revocation): it must lose;</li>
 * <li><b>HubSpot echoes</b>: as HubSpot would, the simulator sends the propertyChange webhook of every
 * {@code hs_email_optout_<type id>} the runtime's subscription writes changed (an integration's change), which must
 * change nothing.</li>
 * </ul>
 * The customers it acts for are contacts the customer sync linked to a HubSpot contact and the loyalty platform: those
 * made in HubSpot only, and Salesforce contacts with a HubSpot twin; and only once the runtime's identity index holds
 * the contact's e-mail for that customer alone (a sign-up before that is parked by the runtime until the sync knows
 * the address: right for a real audience, noise in a demonstration). A Salesforce contact without a twin yet is left
 * out, because the CRM users may still give it one, and a record linked after the consent was set holds the CRM's
 * default until the customer's next consent change (the consent flow writes to the records linked when a change
 * arrives). Each customer acts at most once every {@link #CUSTOMER_GAP}: Mailchimp dates its webhooks to the second,
 * and two changes of one customer within a second are a tie in the rule (the revocation wins), not a sequence.
 */
public final class ConsentSimulator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConsentSimulator.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** One action every two seconds: modest beside the customer and loyalty traffic. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    /** The least time between two actions for one customer. */
    static final Duration CUSTOMER_GAP = Duration.ofSeconds(3);

    /** The kinds of action. */
    public enum Kind { SIGN_UP, MAILCHIMP_UNSUBSCRIBE, LOYALTY_REVOCATION, HUBSPOT_OPT_OUT, SALESFORCE_OPT_OUT, RESUBSCRIBE,
        LATE_OPT_IN }

    /** The first actions, one of each kind as soon as it is possible, so that a short run shows them all. */
    private static final List<Kind> OPENING = List.of(Kind.SIGN_UP, Kind.SIGN_UP, Kind.SIGN_UP, Kind.MAILCHIMP_UNSUBSCRIBE,
            Kind.LOYALTY_REVOCATION, Kind.HUBSPOT_OPT_OUT, Kind.LATE_OPT_IN, Kind.SIGN_UP, Kind.SALESFORCE_OPT_OUT,
            Kind.RESUBSCRIBE);

    /**
     * A customer the simulator signed up in Mailchimp: its global id, e-mail, HubSpot contact, Salesforce contact
     * (null when it has none), whether the simulator's last statement granted the consent and when it was made, and
     * when the simulator last acted for the customer (a late opt-in is an action, not a statement that counts).
     */
    public record Customer(String globalId, String email, String hubSpotId, String salesforceId, boolean granted,
                           Instant statedAt, Instant lastAt) {
    }

    /** What the simulator did so far. */
    public record Stats(Map<Kind, Long> actions, long echoes, long failed) {
    }

    private final MailchimpPeer mailchimp;
    private final String listId;
    private final HubSpotPeer hubSpot;
    private final HubSpotWebhookSender hubSpotWebhooks;
    /** The marketing subscription type's id in the HubSpot peer, the one the runtime writes consent to. */
    private final String hubSpotSubscription;
    /** Its contact property, true when the contact is not subscribed. */
    private final String hubSpotOptOut;
    private final SalesforcePeer salesforce;
    private final LoyaltyPeer loyalty;
    private final String loyaltyAppId;
    private final CrossReferences crossReferences;
    /** The customers the runtime's identity index finds for an e-mail address, as the Mailchimp webhook looks it up. */
    private final Function<String, Set<String>> customersWithEmail;
    private final Duration every;
    private final Random random;
    /** Signed-up customers by global id, in order of sign-up. */
    private final Map<String, Customer> customers = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    /** Per HubSpot contact, the subscription type's opt-out last announced by a webhook (the user's or an echo). */
    private final Map<String, String> announced = new HashMap<>();
    private final Map<Kind, AtomicLong> counts = new ConcurrentHashMap<>();
    private final AtomicLong echoes = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private int opening;
    private Thread thread;
    private volatile boolean running;

    public ConsentSimulator(MailchimpPeer mailchimp, String listId, HubSpotPeer hubSpot, HubSpotWebhookSender hubSpotWebhooks,
                            String hubSpotSubscription, SalesforcePeer salesforce, LoyaltyPeer loyalty, String loyaltyAppId,
                            CrossReferences crossReferences,
                            Function<String, Set<String>> customersWithEmail, long seed,
                            Duration every) {
        this.mailchimp = mailchimp;
        this.listId = listId;
        this.hubSpot = hubSpot;
        this.hubSpotWebhooks = hubSpotWebhooks;
        this.hubSpotSubscription = hubSpotSubscription;
        this.hubSpotOptOut = HubSpotCommunicationPreferences.OPT_OUT_PROPERTY_PREFIX + hubSpotSubscription;
        this.salesforce = salesforce;
        this.loyalty = loyalty;
        this.loyaltyAppId = loyaltyAppId;
        this.crossReferences = crossReferences;
        this.customersWithEmail = customersWithEmail;
        this.every = every;
        // a stream of its own, derived from the banner's seed, so it does not shift the other simulators' choices
        this.random = new Random(seed ^ 0x434F4E53454E54L);
        for (Kind k : Kind.values()) counts.put(k, new AtomicLong());
    }

    public synchronized ConsentSimulator start() {
        if (thread != null) throw new IllegalStateException("consent simulator already started");
        running = true;
        thread = new Thread(this::run, "sandbox-consent");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    private void run() {
        while (running) {
            try {
                Thread.sleep(every.toMillis());
                step();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                failed.incrementAndGet();
                LOG.warn("Consent simulator: {}", e.toString());
            }
        }
    }

    /** One action (the opening's next, else one drawn by weight among those possible now), then HubSpot's echoes. */
    void step() throws InterruptedException {
        Instant now = Instant.now();
        List<Candidate> candidates = candidates();
        Kind kind = null;
        if (opening < OPENING.size() && possible(OPENING.get(opening), candidates, now)) {
            kind = OPENING.get(opening++);
        } else {
            List<Kind> possible = new ArrayList<>();
            for (Kind k : Kind.values()) if (possible(k, candidates, now)) possible.add(k);
            if (!possible.isEmpty()) {
                int total = possible.stream().mapToInt(ConsentSimulator::weight).sum();
                int r = random.nextInt(total);
                for (Kind k : possible) {
                    r -= weight(k);
                    if (r < 0) {
                        kind = k;
                        break;
                    }
                }
            }
        }
        if (kind != null) act(kind, candidates, now);
        sendEchoes();
    }

    private static int weight(Kind k) {
        return switch (k) {
            case SIGN_UP -> 30;
            case MAILCHIMP_UNSUBSCRIBE, LOYALTY_REVOCATION -> 15;
            case HUBSPOT_OPT_OUT, SALESFORCE_OPT_OUT, RESUBSCRIBE -> 10;
            case LATE_OPT_IN -> 8;
        };
    }

    /** A contact the customer sync linked that may sign up: its global id, e-mail, HubSpot and Salesforce contacts. */
    private record Candidate(String globalId, String email, String hubSpotId, String salesforceId) {
    }

    /** Contacts linked to a HubSpot contact and the loyalty platform, not signed up yet, in HubSpot's order. */
    private List<Candidate> candidates() {
        List<Candidate> out = new ArrayList<>();
        for (ObjectNode r : hubSpot.records("contacts")) {
            String id = r.path("id").asText();
            String email = r.path("properties").path("email").asText(null);
            if (email == null || email.isBlank()) continue;
            String scope = hubSpotWebhooks.portalId() + "/contact";
            Optional<String> globalId = crossReferences.resolve("hubspot", scope, id);
            if (globalId.isEmpty() || customers.containsKey(globalId.get())) continue;
            String salesforceId = null;
            boolean member = false;
            for (CrossReferences.Link l : crossReferences.linksOf(globalId.get())) {
                if (l.system().equals("salesforce") && l.scope().endsWith("/contact")) salesforceId = l.externalId();
                if (l.system().equals("loyalty")) member = true;
            }
            // a person signs up with the address the company knows them by: once the identity index holds it for
            // this customer alone (before that, the runtime rightly parks the sign-up until the sync knows it)
            if (member && loyaltyCustomer(globalId.get()) != null
                    && customersWithEmail.apply(email).equals(Set.of(globalId.get()))) {
                out.add(new Candidate(globalId.get(), email, id, salesforceId));
            }
        }
        return out;
    }

    private boolean possible(Kind k, List<Candidate> candidates, Instant now) {
        return switch (k) {
            case SIGN_UP -> !candidates.isEmpty();
            case MAILCHIMP_UNSUBSCRIBE, LOYALTY_REVOCATION, HUBSPOT_OPT_OUT -> !ready(now, true, false).isEmpty();
            case SALESFORCE_OPT_OUT -> !ready(now, true, true).isEmpty();
            case RESUBSCRIBE, LATE_OPT_IN -> !ready(now, false, false).isEmpty();
        };
    }

    /**
     * Signed-up customers of the given consent (the simulator's last statement) who may act again now, whose
     * Mailchimp member shows that consent already (a revocation made elsewhere has reached Mailchimp, so that signing
     * up again there is a change Mailchimp announces).
     */
    private List<Customer> ready(Instant now, boolean granted, boolean withSalesforce) {
        String status = granted ? "subscribed" : "unsubscribed";
        synchronized (customers) {
            return customers.values().stream().filter(c -> c.granted() == granted)
                    .filter(c -> !withSalesforce || c.salesforceId() != null)
                    .filter(c -> !c.lastAt().plus(CUSTOMER_GAP).isAfter(now))
                    .filter(c -> status.equals(mailchimp.status(listId, c.email()))).toList();
        }
    }

    private void act(Kind kind, List<Candidate> candidates, Instant now) throws InterruptedException {
        switch (kind) {
            case SIGN_UP -> {
                Candidate c = candidates.get(random.nextInt(candidates.size()));
                customers.put(c.globalId(),
                        new Customer(c.globalId(), c.email(), c.hubSpotId(), c.salesforceId(), true, now, now));
                mailchimp.subscribeByUser(listId, c.email(), now);
            }
            case MAILCHIMP_UNSUBSCRIBE -> {
                Customer c = pick(ready(now, true, false));
                record(c, false, now);
                mailchimp.unsubscribeByUser(listId, c.email(), now);
            }
            case LOYALTY_REVOCATION -> {
                Customer c = pick(ready(now, true, false));
                record(c, false, now);
                ObjectNode customer = loyalty.changeCustomer(c.globalId(), Map.of(), Map.of(
                        ConsentWriters.LOYALTY_OPT_IN, false, ConsentWriters.LOYALTY_OPT_IN_AT, now.toString()));
                ObjectNode data = JSON.createObjectNode();
                data.set("customer", customer);
                loyalty.webhooks().send("customer.updated", data, customer.path("id").asText(), "USER_PORTAL",
                        loyaltyAppId);
            }
            case HUBSPOT_OPT_OUT -> {
                Customer c = pick(ready(now, true, false));
                record(c, false, now);
                hubSpot.preferencesPage(c.email(), hubSpotSubscription, false);
                announced.put(c.hubSpotId(), "true");
                deliver(List.of(hubSpotWebhooks.propertyChange("contact", c.hubSpotId(), hubSpotOptOut, "true",
                        "CRM_UI")));
            }
            case SALESFORCE_OPT_OUT -> {
                Customer c = pick(ready(now, true, true));
                record(c, false, now);
                salesforce.update("Contact", c.salesforceId(), Map.of(ConsentWriters.SALESFORCE_OPT_OUT, true));
            }
            case RESUBSCRIBE -> {
                Customer c = pick(ready(now, false, false));
                record(c, true, now);
                mailchimp.subscribeByUser(listId, c.email(), now);
            }
            case LATE_OPT_IN -> {
                // HubSpot retries a delivery for days: an opt-in from before the revocation in force arrives now
                Customer c = pick(ready(now, false, false));
                Instant before = c.statedAt().minusSeconds(5 + random.nextInt(56));
                customers.put(c.globalId(), new Customer(c.globalId(), c.email(), c.hubSpotId(), c.salesforceId(), false,
                        c.statedAt(), now));
                ObjectNode late = hubSpotWebhooks.propertyChange("contact", c.hubSpotId(), hubSpotOptOut, "false",
                        "CRM_UI").put("occurredAt", before.toEpochMilli()).put("attemptNumber", 4);
                deliver(List.of(late));
            }
        }
        counts.get(kind).incrementAndGet();
    }

    private Customer pick(List<Customer> from) {
        return from.get(random.nextInt(from.size()));
    }

    private void record(Customer c, boolean granted, Instant at) {
        customers.put(c.globalId(), new Customer(c.globalId(), c.email(), c.hubSpotId(), c.salesforceId(), granted, at,
                at));
    }

    /**
     * The webhooks HubSpot sends when the runtime's subscription write changes {@code hs_email_optout_<type id>} on a
     * signed-up customer's contact: one
     * propertyChange per value new since the last look, as an integration's change.
     */
    private void sendEchoes() throws InterruptedException {
        Map<String, JsonNode> records = new HashMap<>();
        for (ObjectNode r : hubSpot.records("contacts")) records.put(r.path("id").asText(), r.path("properties"));
        List<ObjectNode> events = new ArrayList<>();
        for (Customer c : customers()) {
            JsonNode p = records.get(c.hubSpotId());
            String value = p == null ? null : p.path(hubSpotOptOut).asText(null);
            if (value == null || value.equals(announced.get(c.hubSpotId()))) continue;
            announced.put(c.hubSpotId(), value);
            events.add(hubSpotWebhooks.propertyChange("contact", c.hubSpotId(), hubSpotOptOut, value, "INTEGRATION"));
        }
        if (events.isEmpty()) return;
        deliver(events);
        echoes.addAndGet(events.size());
    }

    private void deliver(List<ObjectNode> events) throws InterruptedException {
        int status = hubSpotWebhooks.deliver(events);
        if (status != 200) {
            failed.incrementAndGet();
            LOG.warn("Consent simulator: HubSpot webhook of {} event(s) answered {}", events.size(), status);
        }
    }

    /** The loyalty platform's customer of the global id, or null. */
    private ObjectNode loyaltyCustomer(String globalId) {
        return loyalty.customers().stream().filter(x -> globalId.equals(x.path("source_id").asText(null))).findFirst()
                .orElse(null);
    }

    /**
     * Whether each system where the customer has a record holds the consent granted (true), revoked (false) or states
     * none (null): Mailchimp's member status, HubSpot's {@code hs_email_optout_<type id>} (the subscription status),
     * Salesforce's {@code HasOptedOutOfEmail}
     * (a customer with a Salesforce contact), the loyalty customer's metadata. Read from the peers, not the runtime.
     */
    public Map<String, Boolean> held(Customer c) {
        Map<String, Boolean> out = new LinkedHashMap<>();
        String status = mailchimp.status(listId, c.email());
        out.put("mailchimp", "subscribed".equals(status) ? Boolean.TRUE
                : "unsubscribed".equals(status) || "cleaned".equals(status) ? Boolean.FALSE : null);
        String optOut = hubSpot.records("contacts").stream().filter(r -> r.path("id").asText().equals(c.hubSpotId()))
                .findFirst().map(r -> r.path("properties").path(hubSpotOptOut).asText(null)).orElse(null);
        out.put("hubspot", notOptedOut(optOut));
        if (c.salesforceId() != null) {
            Map<String, Object> contact = salesforce.get("Contact", c.salesforceId());
            out.put("salesforce", notOptedOut(contact == null ? null : contact.get(ConsentWriters.SALESFORCE_OPT_OUT)));
        }
        ObjectNode customer = loyaltyCustomer(c.globalId());
        JsonNode optIn = customer == null ? null : customer.path("metadata").path(ConsentWriters.LOYALTY_OPT_IN);
        out.put("loyalty", optIn != null && optIn.isBoolean() ? optIn.asBoolean() : null);
        return out;
    }

    /** An opt-out flag ({@code true}/{@code false}, boolean or text) as a consent: granted when false; else null. */
    private static Boolean notOptedOut(Object flag) {
        String v = flag == null ? null : String.valueOf(flag).strip();
        return "true".equals(v) ? Boolean.FALSE : "false".equals(v) ? Boolean.TRUE : null;
    }

    /** The customers signed up so far, in order of sign-up. */
    public List<Customer> customers() {
        synchronized (customers) {
            return List.copyOf(customers.values());
        }
    }

    /** The Mailchimp audience the customers sign up to. */
    public String listId() {
        return listId;
    }

    public Stats stats() {
        Map<Kind, Long> actions = new java.util.EnumMap<>(Kind.class);
        counts.forEach((k, v) -> actions.put(k, v.get()));
        return new Stats(actions, echoes.get(), failed.get());
    }

    @Override
    public synchronized void close() {
        running = false;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
