package io.interchange.sandbox;

import io.interchange.config.Config;
import io.interchange.config.ConfigurationException;
import io.interchange.config.Settings;
import io.interchange.mapping.IdentityRules;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.connectors.crm.HubSpotWebhook;
import io.interchange.connectors.crm.SalesforceChangeEvents;
import io.interchange.connectors.erp.S4PartnerConfirmations;
import io.interchange.connectors.loyalty.LoyaltyWebhook;
import io.interchange.connectors.mailchimp.MailchimpWebhook;
import io.interchange.customer.CustomerSync;
import io.interchange.customer.FieldOwnership;
import io.interchange.runtime.ConsoleLogging;
import io.interchange.sandbox.hubspot.HubSpotPeer;
import io.interchange.sandbox.hubspot.HubSpotWebhookSender;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.mailchimp.MailchimpPeer;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import io.interchange.runtime.InterchangeRuntime;
import io.interchange.store.ConsentStates;
import io.interchange.store.CrossReferences;
import io.interchange.store.DeadLetter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.PrintStream;
import java.nio.file.Path;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * {@code --sandbox}: the runtime on its embedded defaults with simulated peers (a billing platform sending signed
 * Stripe-format events and serving Stripe's REST API, S/4HANA and a legacy ERP answering SOAP, a Salesforce org, a
 * HubSpot account, a loyalty platform, a Mailchimp audience), printing a live summary every few seconds. Unless
 * {@code interchange.flows} is configured it runs the billing flows, the customer flows, the loyalty platform's
 * webhooks and consent ({@link #SANDBOX_FLOWS}): customers made and changed in the two CRMs ({@link CustomerSimulator})
 * reach billing, the ERP of their legal entity and loyalty, and their ids go back to the CRM records; their consent to
 * marketing e-mail, stated in Mailchimp, the loyalty app and the CRMs ({@link ConsentSimulator}), is kept in agreement.
 */
public final class Sandbox implements AutoCloseable {

    private static final Duration SUMMARY_EVERY = Duration.ofSeconds(5);
    private static final int SUMMARY_WIDTH = 110;
    /** The simulated HubSpot portal's marketing subscription type (a portal's ids are numbers like this one). */
    public static final String SANDBOX_SUBSCRIPTION = "3954286";
    /**
     * The flows the sandbox runs unless interchange.flows is given (even at its default): billing, the customer master
     * sync, the loyalty platform's webhooks, consent and the raw event archive. Not loyalty-earning: the billing
     * simulator's customers are not customers of the master (no loyalty member), so every payment would wait and be
     * parked; {@link LoyaltySimulator} earns instead.
     */
    public static final String SANDBOX_FLOWS = "billing-webhook,billing-ledger,crm-hubspot,crm-salesforce,customer-sync,"
            + "loyalty-webhook,consent,archive";
    /** The flow whose webhooks the loyalty platform's peer sends to the runtime. */
    private static final String LOYALTY_FLOW = "loyalty-webhook";
    /** The consent flow, whose traffic also needs the customer flows and the loyalty platform's webhooks. */
    private static final String CONSENT_FLOW = "consent";
    /** The sandbox program's tiers by balance: Silver from 300 points, Gold from 1,500 (reached in a minute or two). */
    static final long SILVER_FROM = 300;
    static final long GOLD_FROM = 1_500;
    /** The flows the customer traffic needs: both CRMs' inbound edges and the sync. */
    private static final Set<String> CUSTOMER_FLOWS = Set.of("crm-hubspot", "crm-salesforce", "customer-sync");
    /** The order of systems in the summary's links line (others follow by name). */
    private static final List<String> LINK_ORDER = List.of("salesforce", "hubspot", "billing", "erp-s4hana",
            "erp-legacy", "loyalty");
    /**
     * Dead-letter routes of the customer flows and consent, counted in their blocks and not among the billing ones.
     */
    private static final List<String> CUSTOMER_ROUTE_PREFIXES = List.of("customer.", "crm.", "loyalty.",
            "erp.s4hana.partner", "consent.");

    private final S4HanaPeer s4;
    private final LegacyErpPeer legacy;
    private final StripeApiPeer stripeApi;
    private final SalesforcePeer salesforce;
    private final HubSpotPeer hubSpot;
    private final LoyaltyPeer loyalty;
    private final MailchimpPeer mailchimp;
    private final InterchangeRuntime runtime;
    private final BillingSimulator billing;
    /** The customer traffic; null when the customer flows do not run. */
    private final CustomerSimulator customers;
    /** The loyalty members' and platform's traffic; null when flow loyalty-webhook or the customer flows do not run. */
    private LoyaltySimulator loyaltyTraffic;
    /** The consent traffic; null when flow consent, loyalty-webhook or the customer flows do not run. */
    private ConsentSimulator consentTraffic;
    private final long customerSeed;
    /** Ids of the billing simulator's customers in the billing API peer (the customer sync's are the others). */
    private final Set<String> simulatedBillingCustomers;
    private final LegalEntityTable entities;
    private final PrintStream out;
    private final long startedAt = System.nanoTime();

    private Sandbox(Peers peers, InterchangeRuntime runtime, BillingSimulator billing, CustomerSimulator customers,
                    long customerSeed, LegalEntityTable entities, PrintStream out) {
        this.s4 = peers.s4;
        this.legacy = peers.legacy;
        this.stripeApi = peers.stripeApi;
        this.salesforce = peers.salesforce;
        this.hubSpot = peers.hubSpot;
        this.loyalty = peers.loyalty;
        this.mailchimp = peers.mailchimp;
        this.runtime = runtime;
        this.billing = billing;
        this.customers = customers;
        this.customerSeed = customerSeed;
        this.simulatedBillingCustomers = billing.customerObjects().stream().map(c -> c.path("id").asText())
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
        this.entities = entities;
        this.out = out;
    }

    /** The simulated systems, closed together (those started so far, when start-up fails). */
    private static final class Peers implements AutoCloseable {
        S4HanaPeer s4;
        LegacyErpPeer legacy;
        StripeApiPeer stripeApi;
        SalesforcePeer salesforce;
        HubSpotPeer hubSpot;
        LoyaltyPeer loyalty;
        MailchimpPeer mailchimp;

        @Override
        public void close() {
            if (s4 != null) s4.close();
            if (legacy != null) legacy.close();
            if (stripeApi != null) stripeApi.close();
            if (salesforce != null) salesforce.close();
            if (hubSpot != null) hubSpot.close();
            if (loyalty != null) loyalty.close();
            if (mailchimp != null) mailchimp.close();
        }
    }

    /** Starts peers, runtime and traffic; the configuration's secrets are generated unless given. */
    public static Sandbox start(Config base, double eventsPerSecond, PrintStream out) throws Exception {
        return start(base, eventsPerSecond, out, null);
    }

    /** As {@link #start(Config, double, PrintStream)}, naming in the banner the file the full log goes to (or null). */
    public static Sandbox start(Config base, double eventsPerSecond, PrintStream out, Path logFile) throws Exception {
        return start(base, eventsPerSecond, CustomerSimulator.DEFAULT_INTERVAL, System.nanoTime(), out, logFile);
    }

    /**
     * As {@link #start(Config, double, PrintStream, Path)}, with one customer change every {@code customerEvery}, drawn
     * from {@code customerSeed} (the same seed, the same changes).
     */
    public static Sandbox start(Config base, double eventsPerSecond, Duration customerEvery, long customerSeed,
                                PrintStream out, Path logFile) throws Exception {
        String apiVersion = base.get(Settings.SANDBOX_STRIPE_API_VERSION).strip();
        if (!StripeEventFactory.API_VERSIONS.contains(apiVersion)) {
            throw new ConfigurationException(Settings.SANDBOX_STRIPE_API_VERSION.key() + " must be one of "
                    + String.join(", ", StripeEventFactory.API_VERSIONS) + ", not '" + apiVersion + "'");
        }
        MappingSource mappings = base.isSet(Settings.MAPPINGS_DIR)
                ? MappingSource.directory(base.getPath(Settings.MAPPINGS_DIR)) : MappingSource.bundled();
        LegalEntityTable entities = LegalEntityTable.load(mappings);
        // this run's identifiers (the Salesforce org, the HubSpot portal, the ERPs' number ranges), drawn afresh each
        // run, not from the customer seed: the store of a data directory outlives the peers
        Random ids = new SecureRandom();
        String erpPassword = secret(base, Settings.S4_PASSWORD);
        Map<String, String> s4Codes = new HashMap<>();
        Map<String, String> legacyCompanies = new HashMap<>();
        for (LegalEntity e : entities.all().values()) {
            s4Codes.put(e.companyCode(), e.currency());
            legacyCompanies.put(e.legacyCompany(), e.currency());
        }
        Peers peers = new Peers();
        Map<String, String> sandbox = new HashMap<>();
        String hubSpotSecret = secret(base, Settings.HUBSPOT_CLIENT_SECRET);
        String confirmationPassword = secret(base, Settings.S4_CONFIRMATION_PASSWORD);
        Config config;
        InterchangeRuntime runtime;
        try {
            peers.s4 = new S4HanaPeer(0, base.get(Settings.S4_USER), erpPassword, s4Codes);
            peers.s4.start();
            peers.legacy = new LegacyErpPeer(0, base.get(Settings.LEGACY_USER), erpPassword, legacyCompanies);
            peers.legacy.start();
            // the peers are new every run while the store of the data directory remembers earlier runs' customers:
            // each run numbers ERP customers and partners in an interval of its own, so none is another's record
            peers.legacy.customerNumbersFrom(10_000L * (1 + Math.floorMod(ids.nextLong(), 899L)));
            peers.s4.businessPartners().numbersFrom(1_000_000L * (1 + Math.floorMod(ids.nextLong(), 8_999L)));
            // the billing platform's REST API, for what an event does not carry (an invoice's further lines, a
            // customer), and where the customer sync makes billing customers
            String apiKey = base.isSet(Settings.BILLING_API_KEY) ? base.get(Settings.BILLING_API_KEY)
                    : "sk_test_sandbox" + java.util.UUID.randomUUID().toString().replace("-", "");
            peers.stripeApi = new StripeApiPeer(0, apiKey).start();
            // a Salesforce org of its own per run: its id scopes its records, so a run on an earlier run's data
            // directory does not take this org's records (whose ids repeat) for the earlier org's
            String consumerKey = "3MVG9sandbox" + java.util.UUID.randomUUID().toString().replace("-", "");
            String consumerSecret = secret(base, Settings.SALESFORCE_CONSUMER_SECRET);
            peers.salesforce = new SalesforcePeer(0, consumerKey, consumerSecret, Clock.systemUTC(),
                    1 + Math.floorMod(ids.nextLong(), 9_999_999_998L)).start();
            // a HubSpot account the runtime writes ids back to (a private app's token)
            String hubSpotToken = secret(base, Settings.HUBSPOT_ACCESS_TOKEN);
            // ... its marketing subscription type, the one consent is written to (its id is the portal's own)
            String subscription = base.isSet(Settings.HUBSPOT_CONSENT_SUBSCRIPTION_ID)
                    ? base.get(Settings.HUBSPOT_CONSENT_SUBSCRIPTION_ID) : SANDBOX_SUBSCRIPTION;
            peers.hubSpot = new HubSpotPeer(0).privateApp(hubSpotToken)
                    .subscriptionType(subscription, "Marketing Information").start();
            // the loyalty platform (Voucherify's API) and its program every customer joins
            String loyaltyApp = "sandbox-app-" + HexFormat.of().formatHex(randomBytes(6));
            String loyaltyToken = secret(base, Settings.LOYALTY_APP_TOKEN);
            String campaign = "camp_sandbox" + HexFormat.of().formatHex(randomBytes(6));
            peers.loyalty = new LoyaltyPeer(0, loyaltyApp, loyaltyToken).program(campaign, "Sandbox Rewards")
                    .tier(campaign, "ltr_sandbox_silver", "Silver", SILVER_FROM, GOLD_FROM - 1)
                    .tier(campaign, "ltr_sandbox_gold", "Gold", GOLD_FROM, 100_000_000).start();
            // a Mailchimp audience of its own per run (its list id new each run, like the CRMs' ids) and an API key
            String mailchimpKey = secret(base, Settings.MAILCHIMP_API_KEY);
            peers.mailchimp = new MailchimpPeer(0, mailchimpKey).start();

            sandbox.putAll(choicesOfItsOwn(base));
            sandbox.put(Settings.SALESFORCE_LOGIN_URL.key(), peers.salesforce.url());
            sandbox.put(Settings.SALESFORCE_CONSUMER_KEY.key(), consumerKey);
            sandbox.put(Settings.SALESFORCE_CONSUMER_SECRET.key(), consumerSecret);
            sandbox.put(Settings.HUBSPOT_CLIENT_SECRET.key(), hubSpotSecret);
            sandbox.put(Settings.HUBSPOT_API_URL.key(), peers.hubSpot.url());
            sandbox.put(Settings.HUBSPOT_ACCESS_TOKEN.key(), hubSpotToken);
            sandbox.put(Settings.HUBSPOT_CONSENT_SUBSCRIPTION_ID.key(), subscription);
            sandbox.put(Settings.LOYALTY_API_URL.key(), peers.loyalty.url());
            sandbox.put(Settings.LOYALTY_APP_ID.key(), loyaltyApp);
            sandbox.put(Settings.LOYALTY_APP_TOKEN.key(), loyaltyToken);
            sandbox.put(Settings.LOYALTY_CAMPAIGN_ID.key(), campaign);
            sandbox.put(Settings.LOYALTY_WEBHOOK_SECRET.key(), secret(base, Settings.LOYALTY_WEBHOOK_SECRET));
            sandbox.put(Settings.MAILCHIMP_API_URL.key(), peers.mailchimp.url());
            sandbox.put(Settings.MAILCHIMP_API_KEY.key(), mailchimpKey);
            sandbox.put(Settings.MAILCHIMP_WEBHOOK_SECRET.key(), secret(base, Settings.MAILCHIMP_WEBHOOK_SECRET));
            sandbox.put(Settings.BILLING_API_URL.key(), peers.stripeApi.url());
            sandbox.put(Settings.BILLING_API_KEY.key(), apiKey);
            sandbox.put(Settings.BILLING_WEBHOOK_SECRET.key(), secret(base, Settings.BILLING_WEBHOOK_SECRET));
            sandbox.put(Settings.S4_URL.key(), peers.s4.endpointUrl());
            sandbox.put(Settings.S4_PASSWORD.key(), erpPassword);
            sandbox.put(Settings.S4_CONFIRMATION_PASSWORD.key(), confirmationPassword);
            sandbox.put(Settings.LEGACY_URL.key(), peers.legacy.endpointUrl());
            sandbox.put(Settings.LEGACY_PASSWORD.key(), erpPassword);
            sandbox.put(Settings.MANAGEMENT_PASSWORD.key(), secret(base, Settings.MANAGEMENT_PASSWORD));
            sandbox.put(Settings.JMX_PASSWORD.key(), secret(base, Settings.JMX_PASSWORD));
            // quick retries so a newcomer sees a transient ERP outage recover within seconds
            sandbox.put("interchange.route.billing.ledger-posting.initial-delay", "PT0.5S");
            sandbox.put("interchange.route.billing.ledger-posting.max-delay", "PT4S");
            sandbox.put("interchange.route.billing.ledger-posting.max-attempts", "5");
            sandbox.put("interchange.route.customer.sync.initial-delay", "PT0.5S");
            sandbox.put("interchange.route.customer.sync.max-delay", "PT4S");
            sandbox.put("interchange.route.consent.apply.initial-delay", "PT0.5S");
            sandbox.put("interchange.route.consent.apply.max-delay", "PT4S");
            config = base.with(sandbox);
            runtime = InterchangeRuntime.start(config);
        } catch (Exception | Error e) {
            peers.close();
            throw e;
        }
        String http = "http://127.0.0.1:" + config.get(Settings.HTTP_PORT);
        // S/4HANA posts its partner confirmations to the runtime, as the inbound user of its communication arrangement
        peers.s4.businessPartners().confirmTo(URI.create(http + S4PartnerConfirmations.PATH),
                config.get(Settings.S4_CONFIRMATION_USER), confirmationPassword);
        BillingSimulator billing = new BillingSimulator(URI.create(http + "/webhooks/billing"),
                config.get(Settings.BILLING_WEBHOOK_SECRET), System.nanoTime(), eventsPerSecond,
                BillingSimulator.DEFAULT_BAD_EVENT_INTERVAL, apiVersion);
        billing.customerObjects().forEach(peers.stripeApi::putCustomer);
        // the billing API lists the invoices, payments, refunds and credit notes the simulator's events carried, as
        // Stripe's does, so that the reconciliation reads the same billing as the events told
        StripeApiPeer listing = peers.stripeApi;
        billing.onObject(o -> {
            if (listing.lists(o.path("object").asText())) listing.putObject(o);
        });
        CustomerSimulator customers = null;
        // the HubSpot app's webhooks: the CRM users' contacts and, with consent, opt-outs and the echoes of our writes
        HubSpotWebhookSender webhooks = new HubSpotWebhookSender(URI.create(http + HubSpotWebhook.PATH),
                hubSpotSecret, 10_000_000L + Math.floorMod(ids.nextLong(), 90_000_000L), 1_160_452L,
                1_000_000_000L + Math.floorMod(ids.nextLong(), 1_000_000_000L));
        if (flows(config).containsAll(CUSTOMER_FLOWS)) {
            customers = new CustomerSimulator(peers.salesforce, peers.hubSpot, webhooks,
                    new ArrayList<>(entities.all().values()), customerSeed, customerEvery);
        }
        Sandbox sb = new Sandbox(peers, runtime, billing, customers, customerSeed, entities, out);
        // the loyalty platform sends its signed webhooks to the runtime (one minute of its retry schedule a second
        // here); its members redeem, the platform expires points and re-sends a few webhooks
        if (flows(config).contains(LOYALTY_FLOW)) {
            peers.loyalty.sendWebhooks(URI.create(http + LoyaltyWebhook.PATH),
                    config.get(Settings.LOYALTY_WEBHOOK_SECRET), Duration.ofSeconds(1));
            if (customers != null) {
                var fields = runtime.store().customerFields();
                sb.loyaltyTraffic = new LoyaltySimulator(peers.loyalty, config.get(Settings.LOYALTY_APP_ID),
                        config.get(Settings.LOYALTY_APP_TOKEN), globalId -> fields.find(globalId, LoyaltyWebhook.LEGAL_ENTITY_FIELD)
                        .map(io.interchange.store.CustomerFields.Recorded::value).filter(v -> !v.isBlank()),
                        customerSeed, loyaltyEvery(customerEvery));
            }
        }
        // Mailchimp posts its audience webhooks to the runtime, the secret in the URL as it is registered there; people
        // subscribe and unsubscribe there, revoke in the loyalty app and opt out in the CRMs
        if (flows(config).contains(CONSENT_FLOW)) {
            peers.mailchimp.sendWebhooks(URI.create(http + MailchimpWebhook.PATH + "?secret="
                    + java.net.URLEncoder.encode(config.get(Settings.MAILCHIMP_WEBHOOK_SECRET),
                    java.nio.charset.StandardCharsets.UTF_8)));
            if (customers != null && flows(config).contains(LOYALTY_FLOW)) {
                sb.consentTraffic = new ConsentSimulator(peers.mailchimp, config.get(Settings.MAILCHIMP_LIST_ID),
                        peers.hubSpot, webhooks, config.get(Settings.HUBSPOT_CONSENT_SUBSCRIPTION_ID), peers.salesforce, peers.loyalty, config.get(Settings.LOYALTY_APP_ID),
                        runtime.store().crossReferences(), customersWithEmail(mappings, runtime,
                        config.get(Settings.MAILCHIMP_LIST_ID)), customerSeed, consentEvery(customerEvery));
            }
        }
        sb.banner(config, logFile);
        billing.start();
        if (customers != null) customers.start();
        if (sb.loyaltyTraffic != null) sb.loyaltyTraffic.start();
        if (sb.consentTraffic != null) sb.consentTraffic.start();
        return sb;
    }

    /**
     * The customers the runtime's identity index holds an e-mail address for, looked up as its Mailchimp webhook does
     * (the identity rules of the runtime's mappings): the consent traffic signs up only people it knows.
     */
    private static Function<String, Set<String>> customersWithEmail(MappingSource mappings,
            InterchangeRuntime runtime, String listId) {
        IdentityRules rules = IdentityRules.load(mappings);
        return email -> MailchimpWebhook.customersWithEmail(rules, runtime.store().identityIndex(), listId, email);
    }

    /**
     * The consent traffic keeps pace with the customer traffic too: one action every two seconds beside a customer
     * change every second and a half (the defaults), proportionally faster or slower.
     */
    static Duration consentEvery(Duration customerEvery) {
        return Duration.ofMillis(Math.max(1L, ConsentSimulator.DEFAULT_INTERVAL.toMillis()
                * customerEvery.toMillis() / CustomerSimulator.DEFAULT_INTERVAL.toMillis()));
    }

    /**
     * The loyalty traffic keeps pace with the customer traffic: one action a second beside a customer change every
     * second and a half (the defaults), proportionally faster or slower.
     */
    static Duration loyaltyEvery(Duration customerEvery) {
        return Duration.ofMillis(Math.max(1L, LoyaltySimulator.DEFAULT_INTERVAL.toMillis()
                * customerEvery.toMillis() / CustomerSimulator.DEFAULT_INTERVAL.toMillis()));
    }

    /**
     * The settings the sandbox chooses itself unless the configuration gives them ({@link Config#isGiven}; a value
     * given equal to the runtime's default is the operator's choice too): the flows it runs ({@link #SANDBOX_FLOWS}),
     * a customer and a consent topic and a Mailchimp audience of this run's own, and the loyalty platform's request
     * rate its peer allows.
     */
    static Map<String, String> choicesOfItsOwn(Config base) {
        Map<String, String> own = new HashMap<>();
        if (!base.isGiven(Settings.FLOWS)) own.put(Settings.FLOWS.key(), SANDBOX_FLOWS);
        // a customer topic of this run's own: changes an earlier run left unread on the data directory's Kafka name
        // records of that run's peers, which are gone, and would only be dead-lettered here
        if (!base.isGiven(Settings.CUSTOMER_TOPIC)) {
            own.put(Settings.CUSTOMER_TOPIC.key(), Settings.CUSTOMER_TOPIC.defaultValue() + ".sandbox-"
                    + HexFormat.of().formatHex(randomBytes(4)));
        }
        // likewise a consent topic of its own: an earlier run's changes name customers whose records are gone
        if (!base.isGiven(Settings.CONSENT_TOPIC)) {
            own.put(Settings.CONSENT_TOPIC.key(), Settings.CONSENT_TOPIC.defaultValue() + ".sandbox-"
                    + HexFormat.of().formatHex(randomBytes(4)));
        }
        // the loyalty peer allows 2,000 requests a minute (Voucherify's Organization plan); adding a member takes
        // three, so the default of one a second would let members fall behind the customer traffic
        if (!base.isGiven(Settings.LOYALTY_API_MAX_RATE)) own.put(Settings.LOYALTY_API_MAX_RATE.key(), "20");
        // the peer's audience is new each run, like the CRMs' ids
        if (!base.isGiven(Settings.MAILCHIMP_LIST_ID)) {
            own.put(Settings.MAILCHIMP_LIST_ID.key(), HexFormat.of().formatHex(randomBytes(5)));
        }
        return own;
    }

    private static Set<String> flows(Config config) {
        Set<String> flows = new java.util.HashSet<>();
        for (String f : config.get(Settings.FLOWS).split(",")) if (!f.isBlank()) flows.add(f.strip());
        return flows;
    }

    /** Runs until the process is stopped (Ctrl-C), printing the summary; every half minute an ERP hiccups. */
    public void runUntilStopped() throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            close();
            ConsoleLogging.stop();
            stopped.countDown();
        }, "sandbox-shutdown"));
        long ticks = 0;
        while (!stopped.await(SUMMARY_EVERY.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            ticks++;
            if (ticks % 6 == 3) {
                out.println("[sandbox] S/4HANA answers 503 to the next 3 requests: watch the retries recover");
                s4.failNext(3, 503);
            } else if (ticks % 6 == 0) {
                out.println("[sandbox] the legacy ERP answers a SOAP Server fault to the next 2 requests");
                legacy.serverFaultNext(2);
            }
            out.println(summary());
        }
    }

    /**
     * The live summary: webhooks in, postings per ERP, dead letters, per legal entity. "in" counts every webhook sent for
     * the entity's customers; "to post" those with a ledger effect (not failed payment attempts, charge.refunded,
     * disputes opened or won, nor invoice.paid from basil on, whose money the InvoicePayments carry), which the ERPs'
     * postings and the dead letters add up to once the stream drains. The billing lines count the billing flows' dead
     * letters only; when the customer flows run, the customer block follows ({@link #customerBlock}).
     */
    public String summary() {
        BillingSimulator.Stats st = billing.stats();
        Map<String, Long> posted = new TreeMap<>();
        Map<String, String> byS4 = new HashMap<>();
        Map<String, String> byLegacy = new HashMap<>();
        entities.all().values().forEach(e -> {
            byS4.put(e.companyCode(), e.id());
            byLegacy.put(e.legacyCompany(), e.id());
        });
        // the loyalty points liability entries are the loyalty block's: these lines are billing's
        List<S4HanaPeer.Posting> s4Postings = s4.postings().stream().filter(p -> !loyaltyPosting(p)).toList();
        List<LegacyErpPeer.Posting> legacyPostings = legacy.postings().stream().filter(p -> !loyaltyPosting(p)).toList();
        s4Postings.forEach(p -> posted.merge(byS4.getOrDefault(p.companyCode(), p.companyCode()), 1L, Long::sum));
        legacyPostings.forEach(p -> posted.merge(byLegacy.getOrDefault(p.company(), p.company()), 1L, Long::sum));
        Map<String, Long> dead = new TreeMap<>();
        Map<String, String> deadReason = new HashMap<>();
        for (DeadLetter d : runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1000)) {
            if (customerRoute(d.routeId())) continue;
            String entity = d.headers().getOrDefault("ce_legalentity", "?");
            dead.merge(entity, 1L, Long::sum);
            deadReason.putIfAbsent(entity, d.errorMessage());
        }
        long seconds = (System.nanoTime() - startedAt) / 1_000_000_000L;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("[sandbox %02d:%02d] webhooks sent %d: accepted %d, duplicates acknowledged %d, refused %d"
                        + " | posted %d (S/4HANA %d, legacy %d) | dead letters %d%n",
                seconds / 60, seconds % 60, st.sent(), st.accepted(), st.duplicatesAcknowledged(), st.rejected(),
                s4Postings.size() + legacyPostings.size(), s4Postings.size(), legacyPostings.size(),
                dead.values().stream().mapToLong(Long::longValue).sum()));
        TreeSet<String> all = new TreeSet<>(st.sentPerLegalEntity().keySet());
        all.addAll(posted.keySet());
        all.addAll(dead.keySet());
        for (String e : all) {
            sb.append(String.format("    %-5s in %5d  to post %5d  posted %5d  dead-lettered %3d%s%n", e,
                    st.sentPerLegalEntity().getOrDefault(e, 0L), st.ledgerPerLegalEntity().getOrDefault(e, 0L),
                    posted.getOrDefault(e, 0L), dead.getOrDefault(e, 0L),
                    deadReason.containsKey(e) ? "  (" + deadReason.get(e) + ")" : ""));
        }
        if (!st.sentPerType().isEmpty()) {
            // most frequent first, wrapped to the width of the lines above
            wrap(sb, "    events (Stripe API " + billing.apiVersion() + "):", st.sentPerType().entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .map(t -> t.getKey() + " " + t.getValue()).toList());
        }
        if (!st.recentRejections().isEmpty()) {
            sb.append("    last refusal: ").append(st.recentRejections().get(st.recentRejections().size() - 1)).append('\n');
        }
        if (customers != null) customerBlock(sb);
        if (loyalty.webhooks() != null) loyaltyBlock(sb, byS4, byLegacy);
        if (consentTraffic != null) consentBlock(sb);
        return sb.toString().stripTrailing();
    }

    // ------------------------------------------------------------------------------------- loyalty block

    /** An S/4HANA entry of a loyalty points transaction: its header text is the posting's kind and transaction. */
    private static boolean loyaltyPosting(S4HanaPeer.Posting p) {
        return p.headerText() != null && p.headerText().startsWith("LOYALTY_");
    }

    /** A legacy ERP entry of a loyalty points transaction: the legacy ERP takes the posting id as its reference. */
    private static boolean loyaltyPosting(LegacyErpPeer.Posting p) {
        return p.reference() != null && p.reference().startsWith("posting:voucherify:");
    }

    /**
     * The loyalty block: per legal entity, the points earned, redeemed and expired at the platform (its transactions,
     * the entity the customer master names for the holder) and the liability entries the ERP peers took for them;
     * the webhooks the platform sent (re-deliveries among them), tier changes it delivered, and loyalty events the
     * runtime parked ({@code loyalty.event} dead letters, with the last reason).
     */
    private void loyaltyBlock(StringBuilder sb, Map<String, String> byS4, Map<String, String> byLegacy) {
        Map<String, String> sourceIds = new HashMap<>();
        loyalty.customers().forEach(c -> sourceIds.put(c.path("id").asText(), c.path("source_id").asText(null)));
        var fields = runtime.store().customerFields();
        Map<String, long[]> points = new TreeMap<>(); // entity -> earned, redeemed, expired, other
        for (var card : loyalty.members()) {
            String globalId = sourceIds.get(card.path("holder_id").asText());
            String entity = globalId == null ? "?" : fields.find(globalId, LoyaltyWebhook.LEGAL_ENTITY_FIELD)
                    .map(io.interchange.store.CustomerFields.Recorded::value).filter(v -> !v.isBlank()).orElse("?");
            for (var tx : loyalty.transactions(card.path("code").asText())) {
                long p = tx.path("details").path("balance").path("points").asLong();
                long[] sums = points.computeIfAbsent(entity, k -> new long[4]);
                switch (tx.path("type").asText()) {
                    case "POINTS_ACCRUAL", "POINTS_ADDITION" -> sums[0] += p;
                    case "POINTS_REDEMPTION" -> sums[1] -= p;
                    case "POINTS_EXPIRATION" -> sums[2] -= p;
                    default -> sums[3] += p;
                }
            }
        }
        Map<String, Long> posted = new TreeMap<>();
        Map<String, String> erp = new HashMap<>();
        s4.postings().stream().filter(Sandbox::loyaltyPosting).forEach(p -> {
            String e = byS4.getOrDefault(p.companyCode(), p.companyCode());
            posted.merge(e, 1L, Long::sum);
            erp.put(e, "S/4HANA");
        });
        legacy.postings().stream().filter(Sandbox::loyaltyPosting).forEach(p -> {
            String e = byLegacy.getOrDefault(p.company(), p.company());
            posted.merge(e, 1L, Long::sum);
            erp.merge(e, "legacy", (a, b) -> a.equals(b) ? a : a + "+" + b);
        });
        List<io.interchange.sandbox.loyalty.LoyaltyWebhookSender.Delivery> deliveries = loyalty.webhooks().deliveries();
        long redelivered = deliveries.stream().filter(d -> d.statuses().size() > 1).count();
        Map<String, Long> tiers = new TreeMap<>();
        deliveries.stream().filter(d -> d.type().startsWith("customer.loyalty.tier.") && d.delivered())
                .forEach(d -> tiers.merge(d.type().substring("customer.loyalty.tier.".length()), 1L, Long::sum));
        List<DeadLetter> parked = runtime.store().deadLetters().list(LoyaltyWebhook.EVENT_ROUTE_ID, DeadLetter.OPEN, 1000);
        List<String> head = new ArrayList<>();
        head.add("webhooks sent " + deliveries.size() + " (delivered " + deliveries.stream()
                .filter(io.interchange.sandbox.loyalty.LoyaltyWebhookSender.Delivery::delivered).count()
                + ", sent more than once " + redelivered + ")");
        List<String> tierCounts = new ArrayList<>();
        tiers.forEach((k, v) -> tierCounts.add(k + " " + v));
        head.add("tier changes " + tiers.values().stream().mapToLong(Long::longValue).sum()
                + (tierCounts.isEmpty() ? "" : " (" + String.join(", ", tierCounts) + ")"));
        head.add("parked " + parked.size() + (parked.isEmpty() ? "" : " (" + parked.get(parked.size() - 1).errorMessage() + ")"));
        wrap(sb, "    loyalty:", head);
        TreeSet<String> all = new TreeSet<>(points.keySet());
        all.addAll(posted.keySet());
        for (String e : all) {
            long[] p = points.getOrDefault(e, new long[4]);
            long waiting = runtime.store().loyaltyFilings().unfiled(e);
            sb.append(String.format("        %-5s earned %6d  redeemed %6d  expired %5d  posted %4d%s%s%n", e, p[0], p[1],
                    p[2], posted.getOrDefault(e, 0L), erp.containsKey(e) ? " (" + erp.get(e) + ")" : "",
                    waiting > 0 ? ", " + waiting + " for the daily filing" : ""));
        }
        if (loyaltyTraffic != null) {
            LoyaltySimulator.Stats ls = loyaltyTraffic.stats();
            wrap(sb, "    loyalty simulator:", List.of("earned " + ls.pointsEarned() + " in " + ls.earns()
                            + " adds (stand-in for paid invoices: billing's customers are no members)",
                    "redeemed " + ls.pointsRedeemed() + " in " + ls.redemptions(),
                    "expired " + ls.pointsExpired() + " in " + ls.expirations(),
                    "webhooks re-sent " + ls.redeliveries()));
        }
    }

    // ------------------------------------------------------------------------------------- consent block

    /**
     * The consent block, of the customers the consent traffic signed up (an earlier run's customers in the store's
     * tables are not this run's): the changes the runtime received per source by outcome (applied, lost as older,
     * lost on a tie, and received again), the consent in force (revoked, granted, none yet), the runtime's writes as
     * each system received them, and how many customers' systems all hold the value in force.
     */
    private void consentBlock(StringBuilder sb) {
        ConsentStates states = runtime.store().consentStates();
        Map<String, long[]> bySource = new TreeMap<>(); // source -> applied, older, tie, again
        long revoked = 0;
        long granted = 0;
        long none = 0;
        long agree = 0;
        List<ConsentSimulator.Customer> signedUp = consentTraffic.customers();
        for (ConsentSimulator.Customer c : signedUp) {
            List<ConsentStates.Received> history = states.history(c.globalId(), io.interchange.model.ConsentChange.EMAIL_MARKETING);
            for (ConsentStates.Received r : history) {
                long[] n = bySource.computeIfAbsent(r.source(), k -> new long[4]);
                switch (r.outcome()) {
                    case "APPLIED" -> n[0]++;
                    case "STALE" -> n[history.stream().anyMatch(o -> o != r && !o.changeId().equals(r.changeId())
                            && o.sourceTime().equals(r.sourceTime())) ? 2 : 1]++;
                    default -> n[3]++;
                }
            }
            var state = states.current(c.globalId(), io.interchange.model.ConsentChange.EMAIL_MARKETING);
            if (state.isEmpty()) {
                none++;
                continue;
            }
            if (state.get().granted()) granted++; else revoked++;
            if (consentTraffic.held(c).values().stream().allMatch(v -> java.util.Objects.equals(v, state.get().granted()))) agree++;
        }
        List<String> sources = new ArrayList<>();
        long total = 0;
        for (var e : bySource.entrySet()) {
            long[] n = e.getValue();
            total += n[0] + n[1] + n[2] + n[3];
            sources.add(e.getKey() + " " + n[0] + "/" + n[1] + "/" + n[2] + (n[3] > 0 ? " (again " + n[3] + ")" : ""));
        }
        if (sources.isEmpty()) sources.add("none yet");
        wrap(sb, "    consent: changes received " + total + " (applied/older, lost/tie, lost):", sources);
        long dead = runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1000).stream()
                .filter(d -> d.routeId() != null && d.routeId().startsWith("consent.")).count();
        wrap(sb, "        in force:", List.of("revoked " + revoked, "granted " + granted
                + (none > 0 ? ", none yet " + none : "") + " of " + signedUp.size() + " customers signed up",
                "dead letters consent " + dead));
        long mailchimpWrites = mailchimp.requestLog().stream().filter(r -> r.method().equals("PATCH")
                || r.method().equals("PUT")).count();
        long hubSpotWrites = hubSpot.requestLog().stream().filter(r -> r.method().equals("POST")
                && r.path().matches("/communication-preferences/v3/(un)?subscribe")).count();
        long loyaltyWrites = loyalty.requestLog().stream().filter(r -> r.method().equals("POST")
                && r.path().equals("/v1/customers") && r.body() != null
                && r.body().contains(io.interchange.consent.ConsentWriters.LOYALTY_OPT_IN)).count();
        wrap(sb, "        writes:", List.of("Mailchimp " + mailchimpWrites, "HubSpot " + hubSpotWrites,
                "Salesforce " + salesforce.fieldUpdates("Contact", io.interchange.consent.ConsentWriters.SALESFORCE_OPT_OUT),
                "loyalty " + loyaltyWrites));
        long stated = signedUp.size() - none;
        sb.append("        consistency: ").append(agree).append(" customers' systems all hold the value in force, ")
                .append(stated - agree).append(" not yet\n");
        ConsentSimulator.Stats cs = consentTraffic.stats();
        Map<ConsentSimulator.Kind, Long> a = cs.actions();
        wrap(sb, "    consent simulator:", List.of("sign-ups " + a.get(ConsentSimulator.Kind.SIGN_UP),
                "Mailchimp unsubscribes " + a.get(ConsentSimulator.Kind.MAILCHIMP_UNSUBSCRIBE),
                "loyalty revocations " + a.get(ConsentSimulator.Kind.LOYALTY_REVOCATION),
                "HubSpot opt-outs " + a.get(ConsentSimulator.Kind.HUBSPOT_OPT_OUT),
                "Salesforce opt-outs " + a.get(ConsentSimulator.Kind.SALESFORCE_OPT_OUT),
                "re-subscribes " + a.get(ConsentSimulator.Kind.RESUBSCRIBE),
                "late opt-ins " + a.get(ConsentSimulator.Kind.LATE_OPT_IN),
                "HubSpot echoes " + cs.echoes()));
    }

    /**
     * The customer block: customers (global ids) in the store and their links per system (from the cross-reference),
     * the records each peer holds, the customer sync's changes by outcome and the refused field changes (from its
     * metrics), open dead letters of the customer flows, and what the simulated CRM users did. The links catch up
     * with the traffic as the sync drains: pending S/4HANA links wait for S/4HANA's confirmation.
     */
    private void customerBlock(StringBuilder sb) {
        CrossReferences xref = runtime.store().crossReferences();
        Map<String, CrossReferences.SystemCount> bySystem = xref.countBySystem();
        List<String> links = new ArrayList<>();
        List<String> systems = new ArrayList<>(LINK_ORDER);
        bySystem.keySet().stream().filter(k -> !LINK_ORDER.contains(k)).forEach(systems::add);
        for (String system : systems) {
            CrossReferences.SystemCount c = bySystem.getOrDefault(system, new CrossReferences.SystemCount(0, 0));
            links.add(system + " " + c.linked() + (c.pending() > 0 ? " (+" + c.pending() + " pending)" : ""));
        }
        wrap(sb, "    customers " + xref.countCustomers() + " in the store, linked:", links);

        wrap(sb, "    records:", List.of("Stripe customers " + billingCustomersMade().size(),
                "S/4HANA partners " + s4.businessPartners().partners().size(),
                "legacy ERP customers " + legacy.customers().size(),
                "loyalty members " + loyalty.members().size()));

        MeterRegistry meters = meters();
        Map<String, Long> outcomes = new TreeMap<>();
        Map<String, Long> refused = new TreeMap<>();
        long salesforceEchoes = 0;
        if (meters != null) {
            for (Counter c : meters.find(CustomerSync.CHANGES_METRIC).counters()) {
                String outcome = String.valueOf(c.getId().getTag("outcome")).replace('_', '-');
                outcomes.merge(outcome, (long) c.count(), Long::sum);
            }
            for (Counter c : meters.find(FieldOwnership.REFUSED_METRIC).counters()) {
                refused.merge(c.getId().getTag("system") + " " + c.getId().getTag("field"), (long) c.count(), Long::sum);
            }
            for (Counter c : meters.find(SalesforceChangeEvents.ACKNOWLEDGED_METRIC).tag("outcome", "echo").counters()) {
                salesforceEchoes += (long) c.count();
            }
        }
        List<String> changes = new ArrayList<>();
        outcomes.forEach((k, v) -> changes.add(k + " " + v));
        if (changes.isEmpty()) changes.add("none yet");
        changes.add("Salesforce echoes dropped " + salesforceEchoes);
        long refusedTotal = refused.values().stream().mapToLong(Long::longValue).sum();
        List<String> refusals = new ArrayList<>();
        refused.forEach((k, v) -> refusals.add(k + " " + v));
        changes.add("refused field changes " + refusedTotal + (refusals.isEmpty() ? "" : " (" + String.join(", ", refusals) + ")"));
        long syncDead = runtime.store().deadLetters().count("customer.sync", DeadLetter.OPEN);
        long otherDead = runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1000).stream()
                .filter(d -> customerRoute(d.routeId()) && !d.routeId().equals("customer.sync")
                        && !d.routeId().startsWith("consent.")).count();
        changes.add("dead letters customer.sync " + syncDead + (otherDead > 0 ? ", other customer routes " + otherDead : ""));
        wrap(sb, "    changes:", changes);

        CustomerSimulator.Stats cs = customers.stats();
        wrap(sb, "    CRM users:", List.of("Salesforce accounts " + cs.accounts() + " (edited " + cs.accountEdits() + ")",
                "contacts " + cs.contacts(),
                "HubSpot contacts " + cs.hubSpotContacts() + " (" + cs.samePerson() + " the same person as a Salesforce contact)",
                "HubSpot phone edits " + cs.refusedEdits(),
                "webhooks " + cs.webhooks() + (cs.webhooksFailed() > 0 ? " (" + cs.webhooksFailed() + " failed)" : ""),
                "HubSpot echoes " + cs.echoes()));
    }

    /** A heading and items, comma-separated, wrapped to the summary's width with continuation lines indented. */
    private static void wrap(StringBuilder sb, String heading, List<String> items) {
        StringBuilder line = new StringBuilder(heading);
        boolean first = true;
        for (String item : items) {
            if (!first && line.length() + item.length() + 2 > SUMMARY_WIDTH) {
                sb.append(line).append(",\n");
                line = new StringBuilder("        ").append(item);
            } else {
                line.append(first ? " " : ", ").append(item);
            }
            first = false;
        }
        sb.append(line).append('\n');
    }

    private static boolean customerRoute(String routeId) {
        return routeId != null && CUSTOMER_ROUTE_PREFIXES.stream().anyMatch(routeId::startsWith);
    }

    /** The registry the runtime publishes its meters in (Camel's), found as the runtime finds it; null if none. */
    private MeterRegistry meters() {
        var registry = runtime.camelContext().getRegistry();
        MeterRegistry meters = registry.findSingleByType(MeterRegistry.class);
        if (meters == null) {
            Set<MeterRegistry> all = registry.findByType(MeterRegistry.class);
            meters = all.isEmpty() ? null : all.iterator().next();
        }
        return meters;
    }

    private void banner(Config config, Path logFile) {
        out.println();
        out.println("Interchange sandbox is running.");
        out.println("  webhooks     POST http://127.0.0.1:" + config.get(Settings.HTTP_PORT) + "/webhooks/billing");
        out.println("  health       http://127.0.0.1:" + config.get(Settings.MANAGEMENT_PORT) + "/observe/health");
        out.println("  flows        http://127.0.0.1:" + config.get(Settings.MANAGEMENT_PORT) + "/observe/health/flows"
                + "  (readiness per flow)");
        out.println("  metrics      http://127.0.0.1:" + config.get(Settings.MANAGEMENT_PORT) + "/observe/metrics");
        out.println("  jolokia      http://127.0.0.1:" + config.get(Settings.MANAGEMENT_PORT) + "/observe/jolokia"
                + "  (user " + config.get(Settings.MANAGEMENT_USER) + ", sandbox password "
                + config.get(Settings.MANAGEMENT_PASSWORD) + ")");
        out.println("  JMX          " + config.get(Settings.JMX_HOST) + ":" + config.get(Settings.JMX_PORT)
                + "  (user " + config.get(Settings.JMX_USER) + ", sandbox password " + config.get(Settings.JMX_PASSWORD)
                + "), MBean io.interchange:type=DeadLetters");
        out.println("  Kafka        " + runtime.bootstrapServers() + "  topics " + config.get(Settings.BILLING_TOPIC)
                + ", " + config.get(Settings.LEDGER_TOPIC) + (customers != null ? ", " + config.get(Settings.CUSTOMER_TOPIC)
                : "") + (loyalty.webhooks() != null ? ", " + config.get(Settings.LOYALTY_TOPIC) : "")
                + (flows(config).contains(CONSENT_FLOW) ? ", " + config.get(Settings.CONSENT_TOPIC) : ""));
        out.println("  S/4HANA peer " + s4.endpointUrl());
        out.println("  legacy peer  " + legacy.endpointUrl());
        out.println("  billing API  " + stripeApi.url() + "/v1  (Stripe's REST API: invoice lines, customers, lists of invoices, payments, refunds, credit notes)");
        out.println("  Salesforce   " + salesforce.url() + "  (org " + salesforce.orgId + ", Change Data Capture)");
        out.println("  HubSpot API  " + hubSpot.url() + "  (webhooks to POST http://127.0.0.1:"
                + config.get(Settings.HTTP_PORT) + HubSpotWebhook.PATH + ", sandbox client secret "
                + config.get(Settings.HUBSPOT_CLIENT_SECRET) + ")");
        out.println("  loyalty API  " + loyalty.url() + "  (program " + config.get(Settings.LOYALTY_CAMPAIGN_ID) + ")");
        if (loyalty.webhooks() != null) {
            out.println("  loyalty webhooks  POST http://127.0.0.1:" + config.get(Settings.HTTP_PORT) + LoyaltyWebhook.PATH
                    + "  (sandbox webhook secret " + config.get(Settings.LOYALTY_WEBHOOK_SECRET) + ")");
        }
        if (flows(config).contains(CONSENT_FLOW)) {
            out.println("  Mailchimp    " + mailchimp.url() + "/3.0  (audience " + config.get(Settings.MAILCHIMP_LIST_ID)
                    + ", sandbox API key " + config.get(Settings.MAILCHIMP_API_KEY) + ")");
            out.println("  Mailchimp webhooks  POST http://127.0.0.1:" + config.get(Settings.HTTP_PORT) + MailchimpWebhook.PATH
                    + "?secret=...  (sandbox webhook secret " + config.get(Settings.MAILCHIMP_WEBHOOK_SECRET) + ")");
        }
        out.println("  S/4HANA confirmations  POST http://127.0.0.1:" + config.get(Settings.HTTP_PORT)
                + S4PartnerConfirmations.PATH + "  (user " + config.get(Settings.S4_CONFIRMATION_USER)
                + ", sandbox password " + config.get(Settings.S4_CONFIRMATION_PASSWORD) + ")");
        out.println("  flows        " + config.get(Settings.FLOWS));
        out.println("The simulated billing platform sends signed Stripe events of API " + billing.apiVersion()
                + " (" + Settings.SANDBOX_STRIPE_API_VERSION.key() + "):");
        out.println("invoices, payments (partial ones from basil on), refunds, credit notes, voids, write-offs and disputes,");
        out.println("including a few that fail on purpose (unknown legal entity ZZ99, a bad signature, re-deliveries).");
        if (customers != null) {
            out.println("Simulated CRM users (seed " + customerSeed + ") add and edit Salesforce accounts and contacts and HubSpot");
            out.println("contacts (some the same person as a Salesforce contact, some with a phone HubSpot may not set): each");
            out.println("customer reaches billing, its legal entity's ERP and loyalty, and its ids go back to the CRM records.");
        }
        if (loyaltyTraffic != null) {
            out.println("Loyalty members (seed " + customerSeed + ") earn points (added by the simulator through the platform's API,");
            out.println("a stand-in for paid invoices: the billing simulator's customers are no loyalty members), redeem them;");
            out.println("the platform expires some and re-sends a few webhooks. Silver from " + SILVER_FROM + " points, Gold from "
                    + GOLD_FROM + ".");
        }
        if (consentTraffic != null) {
            out.println("Consent (seed " + customerSeed + "): customers sign up in Mailchimp, some unsubscribe there, revoke in the");
            out.println("loyalty app or opt out in HubSpot or Salesforce, sign up again; now and then HubSpot delivers an older");
            out.println("opt-in late (it must lose). Every system is brought in line with the newest statement.");
        }
        if (logFile != null) {
            out.println("The console shows this summary, warnings and errors; the full log is in " + logFile + ".");
        }
        out.println("Ctrl-C stops.");
        out.println();
    }

    /** A configured secret, or a random one for this sandbox run (printed in the banner, sandbox only). */
    private static String secret(Config base, io.interchange.config.Setting s) {
        if (base.isSet(s)) return base.get(s);
        return "sandbox-" + HexFormat.of().formatHex(randomBytes(12));
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    public InterchangeRuntime runtime() {
        return runtime;
    }

    public BillingSimulator billing() {
        return billing;
    }

    public S4HanaPeer s4() {
        return s4;
    }

    public LegacyErpPeer legacy() {
        return legacy;
    }

    /** The Salesforce org of flow crm-salesforce: make changes in it to see them on the customer topic. */
    public SalesforcePeer salesforce() {
        return salesforce;
    }

    /**
     * The customers the customer sync made in the billing platform's API: those it holds but for the billing
     * simulator's own (put there at start, with metadata of their own).
     */
    public List<com.fasterxml.jackson.databind.JsonNode> billingCustomersMade() {
        return stripeApi.customers().stream().filter(c -> !simulatedBillingCustomers.contains(c.path("id").asText()))
                .toList();
    }

    /** The billing platform's REST API, where the customer sync makes billing customers. */
    public StripeApiPeer stripeApi() {
        return stripeApi;
    }

    /** The HubSpot account the customer sync writes ids back to. */
    public HubSpotPeer hubSpot() {
        return hubSpot;
    }

    /** The loyalty platform whose program every customer joins. */
    public LoyaltyPeer loyalty() {
        return loyalty;
    }

    /** The loyalty members' and platform's traffic, or null when flow loyalty-webhook or the customer flows do not run. */
    public LoyaltySimulator loyaltyTraffic() {
        return loyaltyTraffic;
    }

    /** The Mailchimp audience's platform of flow consent. */
    public MailchimpPeer mailchimp() {
        return mailchimp;
    }

    /** The consent traffic, or null when flow consent, loyalty-webhook or the customer flows do not run. */
    public ConsentSimulator consentTraffic() {
        return consentTraffic;
    }

    /** The customer traffic, or null when the customer flows do not run. */
    public CustomerSimulator customers() {
        return customers;
    }

    @Override
    public void close() {
        if (consentTraffic != null) consentTraffic.close();
        if (loyaltyTraffic != null) loyaltyTraffic.close();
        if (customers != null) customers.close();
        billing.close();
        runtime.close();
        s4.close();
        legacy.close();
        stripeApi.close();
        salesforce.close();
        hubSpot.close();
        loyalty.close();
        mailchimp.close();
    }
}
