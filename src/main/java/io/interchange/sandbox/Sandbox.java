package io.interchange.sandbox;

import io.interchange.config.Config;
import io.interchange.config.ConfigurationException;
import io.interchange.config.Settings;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import io.interchange.runtime.InterchangeRuntime;
import io.interchange.store.DeadLetter;

import java.io.PrintStream;
import java.nio.file.Path;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;

/**
 * {@code --sandbox}: the runtime on its embedded defaults with simulated peers (a billing platform sending signed
 * Stripe-format events, S/4HANA and a legacy ERP answering SOAP), printing a live summary every few seconds.
 */
public final class Sandbox implements AutoCloseable {

    private static final Duration SUMMARY_EVERY = Duration.ofSeconds(5);
    private static final int SUMMARY_WIDTH = 110;

    private final S4HanaPeer s4;
    private final LegacyErpPeer legacy;
    private final StripeApiPeer stripeApi;
    private final SalesforcePeer salesforce;
    private final InterchangeRuntime runtime;
    private final BillingSimulator billing;
    private final LegalEntityTable entities;
    private final PrintStream out;
    private final long startedAt = System.nanoTime();

    private Sandbox(S4HanaPeer s4, LegacyErpPeer legacy, StripeApiPeer stripeApi, SalesforcePeer salesforce,
                    InterchangeRuntime runtime, BillingSimulator billing, LegalEntityTable entities, PrintStream out) {
        this.s4 = s4;
        this.legacy = legacy;
        this.stripeApi = stripeApi;
        this.salesforce = salesforce;
        this.runtime = runtime;
        this.billing = billing;
        this.entities = entities;
        this.out = out;
    }

    /** Starts peers, runtime and traffic; the configuration's secrets are generated unless given. */
    public static Sandbox start(Config base, double eventsPerSecond, PrintStream out) throws Exception {
        return start(base, eventsPerSecond, out, null);
    }

    /** As {@link #start(Config, double, PrintStream)}, naming in the banner the file the full log goes to (or null). */
    public static Sandbox start(Config base, double eventsPerSecond, PrintStream out, Path logFile) throws Exception {
        String apiVersion = base.get(Settings.SANDBOX_STRIPE_API_VERSION).strip();
        if (!StripeEventFactory.API_VERSIONS.contains(apiVersion)) {
            throw new ConfigurationException(Settings.SANDBOX_STRIPE_API_VERSION.key() + " must be one of "
                    + String.join(", ", StripeEventFactory.API_VERSIONS) + ", not '" + apiVersion + "'");
        }
        LegalEntityTable entities = LegalEntityTable.load(base.isSet(Settings.MAPPINGS_DIR)
                ? MappingSource.directory(base.getPath(Settings.MAPPINGS_DIR)) : MappingSource.bundled());
        String erpPassword = secret(base, Settings.S4_PASSWORD);
        Map<String, String> s4Codes = new HashMap<>();
        Map<String, String> legacyCompanies = new HashMap<>();
        for (LegalEntity e : entities.all().values()) {
            s4Codes.put(e.companyCode(), e.currency());
            legacyCompanies.put(e.legacyCompany(), e.currency());
        }
        S4HanaPeer s4 = new S4HanaPeer(0, base.get(Settings.S4_USER), erpPassword, s4Codes);
        s4.start();
        LegacyErpPeer legacy = new LegacyErpPeer(0, base.get(Settings.LEGACY_USER), erpPassword, legacyCompanies);
        legacy.start();
        // the billing platform's REST API, for what an event does not carry (an invoice's further lines, a customer)
        String apiKey = base.isSet(Settings.BILLING_API_KEY) ? base.get(Settings.BILLING_API_KEY)
                : "sk_test_sandbox" + java.util.UUID.randomUUID().toString().replace("-", "");
        StripeApiPeer stripeApi = new StripeApiPeer(0, apiKey).start();
        // a Salesforce org for flow crm-salesforce (add it to interchange.flows to subscribe to its change events)
        String consumerKey = "3MVG9sandbox" + java.util.UUID.randomUUID().toString().replace("-", "");
        String consumerSecret = secret(base, Settings.SALESFORCE_CONSUMER_SECRET);
        SalesforcePeer salesforce = new SalesforcePeer(0, consumerKey, consumerSecret).start();
        Map<String, String> sandbox = new HashMap<>();
        sandbox.put(Settings.SALESFORCE_LOGIN_URL.key(), salesforce.url());
        sandbox.put(Settings.SALESFORCE_CONSUMER_KEY.key(), consumerKey);
        sandbox.put(Settings.SALESFORCE_CONSUMER_SECRET.key(), consumerSecret);
        sandbox.put(Settings.BILLING_API_URL.key(), stripeApi.url());
        sandbox.put(Settings.BILLING_API_KEY.key(), apiKey);
        sandbox.put(Settings.BILLING_WEBHOOK_SECRET.key(), secret(base, Settings.BILLING_WEBHOOK_SECRET));
        sandbox.put(Settings.S4_URL.key(), s4.endpointUrl());
        sandbox.put(Settings.S4_PASSWORD.key(), erpPassword);
        sandbox.put(Settings.LEGACY_URL.key(), legacy.endpointUrl());
        sandbox.put(Settings.LEGACY_PASSWORD.key(), erpPassword);
        sandbox.put(Settings.MANAGEMENT_PASSWORD.key(), secret(base, Settings.MANAGEMENT_PASSWORD));
        sandbox.put(Settings.JMX_PASSWORD.key(), secret(base, Settings.JMX_PASSWORD));
        // quick retries so a newcomer sees a transient ERP outage recover within seconds
        sandbox.put("interchange.route.billing.ledger-posting.initial-delay", "PT0.5S");
        sandbox.put("interchange.route.billing.ledger-posting.max-delay", "PT4S");
        sandbox.put("interchange.route.billing.ledger-posting.max-attempts", "5");
        Config config = base.with(sandbox);
        InterchangeRuntime runtime;
        try {
            runtime = InterchangeRuntime.start(config);
        } catch (Exception e) {
            s4.close();
            legacy.close();
            stripeApi.close();
            salesforce.close();
            throw e;
        }
        BillingSimulator billing = new BillingSimulator(
                URI.create("http://127.0.0.1:" + config.get(Settings.HTTP_PORT) + "/webhooks/billing"),
                config.get(Settings.BILLING_WEBHOOK_SECRET), System.nanoTime(), eventsPerSecond,
                BillingSimulator.DEFAULT_BAD_EVENT_INTERVAL, apiVersion);
        billing.customerObjects().forEach(stripeApi::putCustomer);
        Sandbox sb = new Sandbox(s4, legacy, stripeApi, salesforce, runtime, billing, entities, out);
        sb.banner(config, logFile);
        billing.start();
        return sb;
    }

    /** Runs until the process is stopped (Ctrl-C), printing the summary; every half minute an ERP hiccups. */
    public void runUntilStopped() throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            close();
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
     * postings and the dead letters add up to once the stream drains.
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
        List<S4HanaPeer.Posting> s4Postings = s4.postings();
        List<LegacyErpPeer.Posting> legacyPostings = legacy.postings();
        s4Postings.forEach(p -> posted.merge(byS4.getOrDefault(p.companyCode(), p.companyCode()), 1L, Long::sum));
        legacyPostings.forEach(p -> posted.merge(byLegacy.getOrDefault(p.company(), p.company()), 1L, Long::sum));
        Map<String, Long> dead = new TreeMap<>();
        Map<String, String> deadReason = new HashMap<>();
        for (DeadLetter d : runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1000)) {
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
            StringBuilder line = new StringBuilder("    events (Stripe API " + billing.apiVersion() + "):");
            boolean first = true;
            for (Map.Entry<String, Long> t : st.sentPerType().entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .toList()) {
                String item = t.getKey() + " " + t.getValue();
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
        if (!st.recentRejections().isEmpty()) {
            sb.append("    last refusal: ").append(st.recentRejections().get(st.recentRejections().size() - 1)).append('\n');
        }
        return sb.toString().stripTrailing();
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
                + ", " + config.get(Settings.LEDGER_TOPIC));
        out.println("  S/4HANA peer " + s4.endpointUrl());
        out.println("  legacy peer  " + legacy.endpointUrl());
        out.println("  billing API  " + stripeApi.url() + "/v1  (Stripe's REST API: invoice lines, customers)");
        out.println("The simulated billing platform sends signed Stripe events of API " + billing.apiVersion()
                + " (" + Settings.SANDBOX_STRIPE_API_VERSION.key() + "):");
        out.println("invoices, payments (partial ones from basil on), refunds, credit notes, voids, write-offs and disputes,");
        out.println("including a few that fail on purpose (unknown legal entity ZZ99, a bad signature, re-deliveries).");
        if (logFile != null) {
            out.println("The console shows this summary, warnings and errors; the full log is in " + logFile + ".");
        }
        out.println("Ctrl-C stops.");
        out.println();
    }

    /** A configured secret, or a random one for this sandbox run (printed in the banner, sandbox only). */
    private static String secret(Config base, io.interchange.config.Setting s) {
        if (base.isSet(s)) return base.get(s);
        byte[] b = new byte[12];
        new SecureRandom().nextBytes(b);
        return "sandbox-" + HexFormat.of().formatHex(b);
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

    @Override
    public void close() {
        billing.close();
        runtime.close();
        s4.close();
        legacy.close();
        stripeApi.close();
        salesforce.close();
    }
}
