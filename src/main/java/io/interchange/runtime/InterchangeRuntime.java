package io.interchange.runtime;

import io.interchange.config.Config;
import io.interchange.config.ConfigurationException;
import io.interchange.config.Settings;
import io.interchange.connectors.billing.BillingEventStream;
import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.billing.BillingWebhook;
import io.interchange.connectors.billing.StripeApi;
import io.interchange.connectors.billing.StripeSignatureVerifier;
import io.interchange.connectors.crm.HubSpotSignatureVerifier;
import io.interchange.connectors.crm.HubSpotWebhook;
import io.interchange.connectors.erp.S4PartnerConfirmations;
import io.interchange.connectors.webhook.BasicAuthVerifier;
import io.interchange.connectors.crm.SalesforceChangeEvents;
import io.interchange.connectors.crm.SalesforceConnection;
import io.interchange.connectors.crm.SalesforceSubscription;
import io.interchange.connectors.erp.ErpAccess;
import io.interchange.connectors.erp.ErpCallMetrics;
import io.interchange.connectors.erp.ErpConnector;
import io.interchange.connectors.erp.LegacyCustomers;
import io.interchange.connectors.erp.LegacyErpConnector;
import io.interchange.connectors.erp.S4BusinessPartners;
import io.interchange.connectors.erp.S4HanaConnector;
import io.interchange.connectors.http.WebhookAnswers;
import io.interchange.connectors.kafka.ConsumerGroupSeeding;
import io.interchange.ledger.ErpBreakers;
import io.interchange.ledger.LedgerBatch;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.management.DeadLetterOperations;
import io.interchange.management.OperatorRole;
import io.interchange.management.JmxConnector;
import io.interchange.management.TlsIdentity;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.reliability.DeadLetterRecorder;
import io.interchange.reliability.RoutePolicies;
import io.interchange.routes.BillingEventStreamRoute;
import io.interchange.routes.ReconciliationRoute;
import io.interchange.reconciliation.DeadLetterDocuments;
import io.interchange.reconciliation.BillingErpComparison;
import io.interchange.reconciliation.CustomersComparison;
import io.interchange.reconciliation.LoyaltyErpComparison;
import io.interchange.reconciliation.Reconciliation;
import io.interchange.management.ReconciliationOperations;
import io.interchange.routes.BillingWebhookRoute;
import io.interchange.routes.LoyaltyEarningRoute;
import io.interchange.routes.LoyaltyCrmRoute;
import io.interchange.routes.RestTargetRoute;
import io.interchange.routes.StripeEventRoute;
import io.interchange.routes.WebhookEventRoute;
import io.interchange.routes.CustomerPartnerLinkRoute;
import io.interchange.routes.ErpCallRoute;
import io.interchange.customer.PartnerLinks;
import io.interchange.routes.LedgerPostingRoute;
import io.interchange.routes.SalesforceCdcRoute;
import io.interchange.routes.StoreMaintenanceRoute;
import io.interchange.routes.WebhookRoute;
import io.interchange.sandbox.EmbeddedKafka;
import io.interchange.store.DeadLetterMetrics;
import io.interchange.store.Store;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.interchange.connectors.crm.HubSpotCrm;
import io.interchange.connectors.crm.SalesforceCrm;
import io.interchange.connectors.rest.RestClient;
import io.interchange.customer.BillingCustomers;
import io.interchange.customer.CrmWriteBack;
import io.interchange.customer.CustomerIdentities;
import io.interchange.customer.CustomerSources;
import io.interchange.connectors.kafka.ClaimedBatches;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import io.interchange.customer.CustomerSync;
import io.interchange.customer.CustomerTarget;
import io.interchange.customer.FieldOwnership;
import io.interchange.customer.ErpCustomerCalls;
import io.interchange.customer.ErpPartners;
import io.interchange.model.Customer;
import org.apache.camel.ProducerTemplate;
import io.interchange.customer.LoyaltyMemberTarget;
import io.interchange.connectors.loyalty.LoyaltyMembers;
import io.interchange.connectors.loyalty.LoyaltyWebhook;
import io.interchange.connectors.loyalty.PointValues;
import io.interchange.ledger.FilingRecorders;
import io.interchange.ledger.LoyaltyDailyFiling;
import io.interchange.routes.LoyaltyFilingRoute;
import io.interchange.connectors.loyalty.VoucherifySignatureVerifier;
import io.interchange.connectors.loyalty.LoyaltyPoints;
import io.interchange.connectors.loyalty.LoyaltyValuation;
import io.interchange.loyalty.EarningRules;
import io.interchange.loyalty.LoyaltyEarning;
import io.interchange.mapping.IdentityRules;
import io.interchange.routes.CustomerSyncRoute;
import io.interchange.routes.EventArchiveRoute;
import io.interchange.store.CrossReferences;
import java.time.Duration;
import io.vertx.core.VertxOptions;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckHelper;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.camel.main.Main;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.ObjectName;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/** Assembles and runs the runtime: store, mappings, Kafka, connectors, routes, management and JMX. */
public final class InterchangeRuntime implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InterchangeRuntime.class);
    /** How often the open dead letters are counted for the metrics (one query on the store). */
    private static final Duration DEAD_LETTER_METRICS_INTERVAL = Duration.ofSeconds(10);

    private final Config config;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<BillingEventStream> streams = new ArrayList<>();
    private final List<LedgerBatch> ledgerBatches = new ArrayList<>();
    private ErpBreakers breakers;
    /**
     * Meters of parts made before Camel's registry exists (it is made when Camel starts): the customer sync's, the
     * dead-letter store's. Published once it does.
     */
    private final CompositeMeterRegistry customerMeters = new CompositeMeterRegistry();
    private final List<RestClient> restClients = new ArrayList<>();
    private ErpAccess erpAccess;
    private volatile ProducerTemplate sharedTemplate;
    private boolean salesforceBound;
    private boolean salesforceWrites;
    private SalesforceSubscription salesforce;
    private Store store;
    private Main main;
    private String bootstrapServers;
    private JmxConnector jmx;
    private Path managementUsers;

    private InterchangeRuntime(Config config) {
        this.config = config;
    }

    /** Starts everything and returns once the routes run; on failure, what was started is stopped again. */
    public static InterchangeRuntime start(Config config) throws Exception {
        InterchangeRuntime rt = new InterchangeRuntime(config);
        try {
            rt.doStart();
            return rt;
        } catch (Exception | Error e) {
            rt.close();
            throw e;
        }
    }

    private void doStart() throws Exception {
        long started = System.nanoTime();
        Clock clock = Clock.systemUTC();
        // keystores are checked before anything starts, so a bad one stops start-up at once with the key to fix
        TlsIdentity managementTls = TlsIdentity.fromConfig(config, Settings.MANAGEMENT_TLS_KEYSTORE,
                Settings.MANAGEMENT_TLS_KEYSTORE_PASSWORD);
        int jmxPort = config.getInt(Settings.JMX_PORT);
        TlsIdentity jmxTls = jmxPort > 0
                ? TlsIdentity.fromConfig(config, Settings.JMX_TLS_KEYSTORE, Settings.JMX_TLS_KEYSTORE_PASSWORD) : null;
        List<JmxConnector.User> jmxUsers = jmxPort > 0 ? jmxUsers() : List.of();
        for (TlsIdentity tls : new TlsIdentity[]{managementTls, jmxTls}) {
            if (tls != null && tls.hasInvalidCertificate(clock.instant())) {
                LOG.warn("A TLS certificate is expired or not valid yet; clients will refuse it: {}", tls.describe());
            }
        }
        Path dataDir = config.getPath(Settings.DATA_DIR);
        Files.createDirectories(dataDir);

        long storeFrom = System.nanoTime();
        store = Store.open(config, clock);
        long storeMs = (System.nanoTime() - storeFrom) / 1_000_000;
        resources.add(store);
        int reopened = store.deadLetters().reopenInterruptedReplays();
        if (reopened > 0) LOG.warn("{} replay(s) interrupted by the last stop are open again", reopened);
        resources.add(new DeadLetterMetrics(store.deadLetters(), customerMeters).start(DEAD_LETTER_METRICS_INTERVAL));
        // dead letters name the billing documents they are about, for reconciliation's links between the two
        store.deadLetters().readAboutWith(new DeadLetterDocuments());

        MappingSource source = config.isSet(Settings.MAPPINGS_DIR)
                ? MappingSource.directory(config.getPath(Settings.MAPPINGS_DIR)) : MappingSource.bundled();
        MappingEngine mappings = MappingEngine.load(source);
        LegalEntityTable entities = LegalEntityTable.load(source);
        LOG.info("Mappings: {} compiled from {}; {} legal entities", mappings.all().size(), source, entities.all().size());

        bootstrapServers = config.get(Settings.KAFKA_BOOTSTRAP);
        if (bootstrapServers.isBlank()) {
            EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), config.getInt(Settings.KAFKA_EMBEDDED_PORT));
            resources.add(kafka);
            bootstrapServers = kafka.bootstrapServers();
            LOG.info("Embedded Kafka on {}", bootstrapServers);
        }

        S4HanaConnector s4 = new S4HanaConnector(config, mappings, clock);
        LegacyErpConnector legacy = new LegacyErpConnector(config, mappings);
        // entities whose loyalty transactions are filed once a day post them in that filing, not one by one
        Set<String> loyaltyFiledDaily = PointValues.load(source).dailyEntities();
        LedgerPostingService posting = new LedgerPostingService(mappings, entities,
                Map.of(s4.target(), s4, legacy.target(), legacy), store.confirmations(), loyaltyFiledDaily);
        StripeApi stripeApi = StripeApi.from(config);
        BillingEventTranslator translator = new BillingEventTranslator(mappings, source, store.billingReferences(),
                BillingEventTranslator.Livemode.parse(config.get(Settings.BILLING_LIVEMODE)),
                config.get(Settings.BILLING_API_VERSION), stripeApi);
        BillingWebhook webhook = new BillingWebhook(
                new StripeSignatureVerifier(config.get(Settings.BILLING_WEBHOOK_SECRET),
                        config.getDuration(Settings.BILLING_SIGNATURE_TOLERANCE), clock),
                translator, store.idempotency(), store.deadLetters());
        RoutePolicies policies = new RoutePolicies(config, store.idempotency());

        Set<String> flows = flows();
        main = new Main();
        main.setOverrideProperties(camelProperties());
        main.bind(RoutePolicies.RECORDER, new DeadLetterRecorder(store.deadLetters()));
        // webhook requests run on Vert.x worker threads, each blocked on the store and the Kafka acknowledgement
        main.bind("interchangeVertxOptions", new VertxOptions().setWorkerPoolSize(config.getInt(Settings.HTTP_WORKER_THREADS)));
        // the business server's own answers (404, 405, 503 while a webhook route is not running) know its paths
        List<WebhookRoute> edges = webhookEdges(flows, webhook, mappings, source, entities, clock);
        Map<String, String> paths = new LinkedHashMap<>();
        for (WebhookRoute edge : edges) paths.put(edge.source().path(), WebhookRoute.methods(edge.source()));
        main.bind("interchangeHttpServerFactory", new HttpServerFactory(managementTls, paths));
        if (managementTls != null) {
            LOG.info("Management port serves HTTPS only, certificate {}", managementTls.describe());
        }
        main.configure().addRoutesBuilder(new WebhookAnswers());
        for (WebhookRoute edge : edges) {
            main.configure().addRoutesBuilder(edge);
            // parked events are replayed one by one through the kit's single-event route (Stripe's have their own,
            // which also takes the stream flow's leftovers)
            if (edge.source().eventRouteId() != null) {
                main.configure().addRoutesBuilder(new WebhookEventRoute(edge.source(), store.idempotency(), policies,
                        edge.topic()));
            }
        }
        if (flows.contains(FLOW_WEBHOOK) || flows.contains(FLOW_STREAM)) {
            // parked webhook events are replayed, and stream records the batch cannot take go, one by one through it
            main.configure().addRoutesBuilder(new StripeEventRoute(webhook, store.idempotency(), policies,
                    config.get(Settings.BILLING_TOPIC)));
        }
        // the ledger flow reads billing's lists for its reconciliation
        if (flows.contains(FLOW_WEBHOOK) || flows.contains(FLOW_STREAM) || flows.contains(FLOW_CUSTOMER_SYNC)
                || flows.contains(FLOW_LEDGER)) {
            restTarget(stripeApi.client());
        }
        if (flows.contains(FLOW_STREAM)) {
            BillingEventStream stream = new BillingEventStream(translator, store.idempotency(),
                    config.getDuration(Settings.routePolicy(BillingWebhook.EVENT_ROUTE_ID).initialDelay()).toMillis());
            streams.add(stream);
            main.configure().addRoutesBuilder(new BillingEventStreamRoute(stream,
                    config.get(Settings.BILLING_STREAM_TOPIC), config.get(Settings.BILLING_TOPIC),
                    config.get(Settings.KAFKA_CONSUMER_GROUP), config.getInt(Settings.BILLING_STREAM_BATCH),
                    config.getInt(Settings.BILLING_STREAM_CONSUMERS)));
        }
        if (flows.contains(FLOW_LEDGER) || flows.contains(FLOW_CUSTOMER_SYNC)) {
            // one access per ERP for every flow: postings and customer requests share its rate limit and breaker
            erpAccess = new ErpAccess(config, List.of(s4, legacy),
                    new S4BusinessPartners(mappings, config.get(Settings.S4_LOGICAL_SYSTEM), null, clock),
                    new LegacyCustomers(mappings));
            erpAccess.bind(main::bind);
            main.bind("erpCallMetrics", new ErpCallMetrics(erpAccess.connectors(), customerMeters));
            main.configure().addRoutesBuilder(new ErpCallRoute(erpAccess));
        }
        List<ErpConnector> erps = flows.contains(FLOW_LEDGER) ? erpAccess.connectors() : List.of();
        if (flows.contains(FLOW_LEDGER)) {
            List<String> targets = erps.stream().map(ErpConnector::target).toList();
            breakers = erpAccess.breakers();
            List<LedgerBatch> batches = new ArrayList<>();
            LoyaltyDailyFiling filing = new LoyaltyDailyFiling(store.loyaltyFilings(), entities, loyaltyFiledDaily,
                    config.getDuration(Settings.LOYALTY_FILING_GRACE), config.getInt(Settings.LOYALTY_FILING_MAX), clock);
            for (String target : targets) {
                // the legacy consumer also dead-letters the events no target can be found for (unknown entity)
                LedgerBatch batch = new LedgerBatch(posting, store.idempotency(), target,
                        target.equals(LegalEntity.LEGACY), breakers, filing,
                        config.getInt(Settings.LEDGER_REQUESTS_IN_FLIGHT), config.getInt(Settings.LEDGER_CONSUMERS));
                breakers.heldConsumers(target, t -> batch.hold().heldConsumers());
                batches.add(batch);
            }
            ledgerBatches.addAll(batches);
            String group = config.get(Settings.KAFKA_CONSUMER_GROUP);
            // one consumer group per target: seeded from the single group earlier versions read with, so an upgraded
            // deployment neither reads the topic again nor skips what arrived while it was stopped
            ConsumerGroupSeeding.seed(bootstrapServers, config.get(Settings.BILLING_TOPIC), group,
                    targets.stream().map(t -> LedgerPostingRoute.consumerGroup(group, t)).toList());
            // the loyalty platform's points transactions are postings too (the points liability), read beside billing's
            main.configure().addRoutesBuilder(new LedgerPostingRoute(posting, erpAccess, store.idempotency(), policies,
                    config.get(Settings.BILLING_TOPIC) + "," + config.get(Settings.LOYALTY_TOPIC),
                    config.get(Settings.LEDGER_TOPIC), group, batches, filing,
                    config.getInt(Settings.LEDGER_BATCH), config.getInt(Settings.LEDGER_CONSUMERS)));
            if (!loyaltyFiledDaily.isEmpty()) {
                bindClusterService();
                // the ledger's consumers record the daily entities' transactions; earlier versions' recorder group
                // is handed over and deleted by the filing job
                Map<String, String> ledgerGroups = new LinkedHashMap<>();
                for (String t : targets) ledgerGroups.put(t, LedgerPostingRoute.consumerGroup(group, t));
                FilingRecorders recorders = new FilingRecorders(bootstrapServers, config.get(Settings.LOYALTY_TOPIC),
                        FilingRecorders.recorderGroup(group), ledgerGroups, filing);
                main.configure().addRoutesBuilder(new LoyaltyFilingRoute(filing, recorders,
                        config.get(Settings.LOYALTY_TOPIC), config.getDuration(Settings.LOYALTY_FILING_CHECK).toMillis(),
                        instanceId()));
                LOG.info("Loyalty transactions of {} are filed daily", String.join(", ", loyaltyFiledDaily));
            }
            comparisons.add(new BillingErpComparison(config, store.reconciliationRuns(), store.confirmations(),
                    stripeApi, translator, erpAccess));
        }
        if (flows.contains(FLOW_SALESFORCE)) {
            bindSalesforce(FLOW_SALESFORCE);
            SalesforceChangeEvents changes = new SalesforceChangeEvents(mappings, store.idempotency(),
                    store.streamPositions(), store.deadLetters(), config.get(Settings.SALESFORCE_CLIENT_ID));
            salesforce = new SalesforceSubscription(changes, list(config.get(Settings.SALESFORCE_CHANNELS)),
                    Map.of("Account", list(config.get(Settings.SALESFORCE_ACCOUNT_FIELDS)),
                            "Contact", list(config.get(Settings.SALESFORCE_CONTACT_FIELDS))),
                    config.getDuration(Settings.SALESFORCE_REWIND_DELAY));
            salesforce.workers().forEach(main::bind);
            main.configure().addRoutesBuilder(new SalesforceCdcRoute(changes, salesforce, policies,
                    config.get(Settings.CUSTOMER_TOPIC)));
        }
        if (flows.contains(FLOW_CUSTOMER_SYNC)) customerSync(mappings, source, entities, stripeApi, policies, clock);
        if (flows.contains(FLOW_LOYALTY_EARNING)) loyaltyEarning(source, policies);
        if (flows.contains(FLOW_LOYALTY_CRM)) loyaltyCrm(mappings, policies);
        if (flows.contains(FLOW_CONSENT)) consent(policies);
        if (flows.contains(FLOW_ARCHIVE)) archive();
        // the loyalty platform's transactions are posted by the ledger flow when its webhooks are taken; after the other
        // flows, whose loyalty client (the customer sync's) it then shares
        if (flows.contains(FLOW_LEDGER) && flows.contains(FLOW_LOYALTY)) {
            comparisons.add(loyaltyComparison(mappings, source, entities, erpAccess));
        }
        if (!comparisons.isEmpty()) {
            // one reconciliation for every comparison the flows of this instance can make: one daily job, one JMX bean
            reconciliation = new Reconciliation(config, store.reconciliationRuns(), entities, clock);
            comparisons.forEach(reconciliation::register);
            boolean daily = config.getBoolean(Settings.RECONCILIATION_DAILY);
            if (daily) bindClusterService();
            main.configure().addRoutesBuilder(new ReconciliationRoute(reconciliation,
                    config.get(Settings.RECONCILIATION_TOPIC), daily,
                    config.getDuration(Settings.RECONCILIATION_CHECK).toMillis(), instanceId()));
        }
        main.configure().addRoutesBuilder(new StoreMaintenanceRoute(store.idempotency(), store.echoLedger()));
        long camelFrom = System.nanoTime();
        try {
            main.start();
        } finally {
            if (managementUsers != null) Files.deleteIfExists(managementUsers);
        }

        long camelMs = (System.nanoTime() - camelFrom) / 1_000_000;
        CamelContext context = main.getCamelContext();
        stripeApi.start(context);
        if (!stripeApi.enabled()) {
            LOG.info("Billing API not configured (interchange.billing.api-key): events that need it (invoices with more "
                    + "lines than the event holds, entities only in customer metadata) are parked");
        }
        HealthCheckRegistry health = HealthCheckRegistry.get(context);
        HealthCheck storeCheck = storeHealthCheck();
        health.register(storeCheck);
        // ERP and breaker checks stay out of Camel's registry: they make the ledger flow not ready, never the instance
        startFlowHealth(context, flows, storeCheck, erps);
        bindBreakerMetrics(context);
        if (salesforce != null) salesforce.start(context, meterRegistry(context));
        MeterRegistry meters = meterRegistry(context);
        if (meters != null) customerMeters.add(meters);
        for (RestClient client : restClients) if (client != stripeApi.client()) client.start(context);
        if (salesforceWrites) SalesforceCrm.start(context);

        DeadLetterOperations operations = new DeadLetterOperations(context, store.deadLetters(), store.audit());
        context.getManagementStrategy().getManagementAgent()
                .register(operations, new ObjectName(DeadLetterOperations.OBJECT_NAME));
        if (reconciliation != null) {
            reconciliation.start(context, meters, ReconciliationRoute.PUBLISH, instanceId());
            resources.add(reconciliation);
            ReconciliationOperations reconciliationOperations = new ReconciliationOperations(reconciliation,
                    store.reconciliationRuns(), store.audit());
            resources.add(reconciliationOperations);
            context.getManagementStrategy().getManagementAgent().register(reconciliationOperations,
                    new ObjectName(ReconciliationOperations.OBJECT_NAME));
        }

        if (jmxPort > 0) {
            jmx = JmxConnector.start(config.get(Settings.JMX_HOST), jmxPort, jmxUsers, jmxTls);
        }
        // where start-up time goes, for whoever tunes it: the JVM before the runtime, the store (its migrations on a
        // new database), Camel's start (routes, consumers, servers), and the rest (mappings, routes built, checks)
        long totalMs = (System.nanoTime() - started) / 1_000_000;
        LOG.info("Interchange started in {} ms (JVM before it {} ms; store {} ms, Camel {} ms, the rest {} ms): webhooks "
                        + "on :{} {}, management on {}://{}:{}/observe, JMX {}{}",
                totalMs, Math.max(0, ManagementFactory.getRuntimeMXBean().getUptime() - totalMs), storeMs, camelMs,
                totalMs - storeMs - camelMs, config.get(Settings.HTTP_PORT),
                paths.isEmpty() ? "(none)" : String.join(" ", paths.keySet()),
                managementTls == null ? "http" : "https", config.get(Settings.MANAGEMENT_HOST),
                config.get(Settings.MANAGEMENT_PORT), jmx == null ? "off" : jmx.url(),
                jmx == null ? "" : jmxTls == null ? " (no TLS)" : " (TLS)");
    }

    // ------------------------------------------------------------------------------------- readiness per flow

    /**
     * Instance readiness (Camel's {@code /observe/health/ready}) is what every flow of the instance needs: the store,
     * Kafka ({@link KafkaReachability}) and Camel's route and consumer checks. Readiness per flow ({@link FlowHealth},
     * {@code /observe/health/flows/<flow>}) adds what only one flow needs: the ledger flow's ERPs.
     */
    private void startFlowHealth(CamelContext context, Set<String> flows, HealthCheck storeCheck, List<ErpConnector> erps) {
        KafkaReachability kafka = new KafkaReachability(bootstrapServers).start();
        resources.add(kafka);
        HealthCheckRegistry.get(context).register(kafka);
        FlowHealth flowHealth = new FlowHealth(context);
        List<HealthCheck> edge = List.of(storeCheck, kafka);
        if (flows.contains(FLOW_WEBHOOK)) flowHealth.flow(FLOW_WEBHOOK, edge, List.of(BillingWebhookRoute.ROUTE_ID));
        if (flows.contains(FLOW_STREAM)) flowHealth.flow(FLOW_STREAM, edge, List.of(BillingEventStreamRoute.CONSUMER_ID));
        if (flows.contains(FLOW_HUBSPOT)) flowHealth.flow(FLOW_HUBSPOT, edge, List.of(HubSpotWebhook.ROUTE_ID));
        if (flows.contains(FLOW_LOYALTY)) flowHealth.flow(FLOW_LOYALTY, edge, List.of(LoyaltyWebhook.ROUTE_ID));
        if (flows.contains(FLOW_CUSTOMER_SYNC)) {
            flowHealth.flow(FLOW_CUSTOMER_SYNC, edge, List.of(S4PartnerConfirmations.ROUTE_ID,
                    CustomerPartnerLinkRoute.CONSUMER_ID, CustomerPartnerLinkRoute.ROUTE_ID, CustomerSyncRoute.CONSUMER_ID,
                    CustomerSyncRoute.ROUTE_ID));
        }
        if (salesforce != null) flowHealth.flow(FLOW_SALESFORCE, edge, salesforce.routeIds());
        if (flows.contains(FLOW_LOYALTY_EARNING)) {
            flowHealth.flow(FLOW_LOYALTY_EARNING, edge, List.of(LoyaltyEarningRoute.CONSUMER_ID, LoyaltyEarningRoute.ROUTE_ID));
        }
        if (flows.contains(FLOW_LOYALTY_CRM)) {
            flowHealth.flow(FLOW_LOYALTY_CRM, edge, List.of(LoyaltyCrmRoute.CONSUMER_ID, LoyaltyCrmRoute.ROUTE_ID));
        }
        if (flows.contains(FLOW_CONSENT)) {
            flowHealth.flow(FLOW_CONSENT, edge, List.of(io.interchange.connectors.mailchimp.MailchimpWebhook.ROUTE_ID,
                    io.interchange.routes.ConsentRoute.CONSUMER_ID, io.interchange.routes.ConsentRoute.ROUTE_ID,
                    io.interchange.routes.ConsentRoute.CRM_CONSUMER_ID, io.interchange.routes.ConsentRoute.CRM_ROUTE_ID));
        }
        if (flows.contains(FLOW_ARCHIVE)) flowHealth.flow(FLOW_ARCHIVE, List.of(kafka), List.of(EventArchiveRoute.CONSUMER_ID));
        if (flows.contains(FLOW_LEDGER)) {
            List<HealthCheck> ledger = new ArrayList<>(edge);
            for (ErpConnector erp : erps) ledger.add(erp.healthCheck());
            // an open circuit breaker: that target's postings wait, so the ledger flow is not ready (the instance is)
            if (breakers != null) ledger.addAll(breakers.healthChecks());
            List<String> ledgerRoutes = new ArrayList<>();
            for (ErpConnector erp : erps) ledgerRoutes.add(LedgerPostingRoute.consumerId(erp.target()));
            ledgerRoutes.add(LedgerPostingRoute.ROUTE_ID);
            flowHealth.flow(FLOW_LEDGER, ledger, ledgerRoutes);
        }
        VertxPlatformHttpRouter router = VertxPlatformHttpRouter.lookup(context,
                VertxPlatformHttpRouter.getRouterNameFromPort(config.getInt(Settings.MANAGEMENT_PORT)));
        if (router == null) {
            LOG.warn("Management server not found: readiness per flow is not served on {}", FlowHealth.PATH);
        } else {
            flowHealth.serveOn(router);
        }
    }

    /** The ERP targets' circuit breakers in metrics ({@link ErpBreakers#bindMetrics}); their checks are the ledger flow's. */
    private void bindBreakerMetrics(CamelContext context) {
        if (breakers == null) return;
        MeterRegistry meters = meterRegistry(context);
        if (meters != null) breakers.bindMetrics(meters);
        else LOG.warn("No Micrometer registry: the ERP circuit breakers' metrics are not published");
    }

    private static MeterRegistry meterRegistry(CamelContext context) {
        MeterRegistry meters = context.getRegistry().findSingleByType(MeterRegistry.class);
        if (meters == null) {
            Set<MeterRegistry> all = context.getRegistry().findByType(MeterRegistry.class);
            meters = all.isEmpty() ? null : all.iterator().next();
        }
        return meters;
    }

    // ------------------------------------------------------------------------------------- customer master sync

    /**
     * Flow {@code customer-sync}: CRM changes on the customer topic to billing, ERP and loyalty, ids written back to
     * the CRMs ({@link CustomerSync}); ERP partner confirmations (taken by the flow's edge) complete their links. A
     * target or CRM whose API is not configured is left out, and said so.
     */
    private void customerSync(MappingEngine mappings, MappingSource source, LegalEntityTable entities, StripeApi stripeApi,
                              RoutePolicies policies, Clock clock) {
        CrossReferences xref = store.crossReferences();
        Duration wait = config.getDuration(Settings.CUSTOMER_CREATE_WAIT);
        List<CustomerTarget> targets = new ArrayList<>();
        targets.add(new ErpPartners(erpCustomerCalls(), entities, xref, clock, wait));
        if (stripeApi.enabled()) targets.add(new BillingCustomers(stripeApi, xref, wait));
        else LOG.warn("Flow {}: billing API not configured (interchange.billing.api-key): no billing customers are made",
                FLOW_CUSTOMER_SYNC);
        LoyaltyMembers loyalty = LoyaltyMembers.from(config);
        if (loyalty.enabled() && !loyalty.campaignId().isBlank()) {
            restTarget(loyalty.client());
            targets.add(new LoyaltyMemberTarget(loyalty, xref, wait));
        } else {
            LOG.warn("Flow {}: loyalty platform not configured (interchange.loyalty.app-id, -app-token, -campaign-id): "
                    + "no loyalty members are made", FLOW_CUSTOMER_SYNC);
        }
        List<CrmWriteBack.Writer> writers = new ArrayList<>();
        HubSpotCrm hubSpot = hubSpotCrm();
        if (hubSpot.client().enabled()) {
            restTarget(hubSpot.client());
            writers.add(CrmWriteBack.hubSpot(hubSpot));
        }
        if (!config.get(Settings.SALESFORCE_CONSUMER_KEY).isBlank()) {
            bindSalesforce(FLOW_CUSTOMER_SYNC);
            writers.add(CrmWriteBack.salesforce(new SalesforceCrm(lazyTemplate(),
                    config.get(Settings.SALESFORCE_CLIENT_ID))));
            salesforceWrites = true;
        }
        CrmWriteBack writeBack = new CrmWriteBack(mappings, xref, store.echoLedger(), writers, store.loyaltyStandings());
        IdentityRules rules = IdentityRules.load(source);
        CustomerSync sync = new CustomerSync(mappings, CustomerSources.load(source), rules,
                new CustomerIdentities(rules, xref, store.identityIndex()), xref,
                new FieldOwnership(FieldOwnership.load(source), store.customerFields(), store.audit(), customerMeters),
                store.customerFields(), store.echoLedger(), targets, writeBack, customerMeters);
        LOG.info("Flow {}: targets {}; ids written back to {}", FLOW_CUSTOMER_SYNC,
                targets.stream().map(CustomerTarget::name).toList(), writers.stream().map(CrmWriteBack.Writer::system).toList());
        String group = config.get(Settings.KAFKA_CONSUMER_GROUP);
        ExecutorService parallel = Executors.newFixedThreadPool(config.getInt(Settings.CUSTOMER_SYNC_CONCURRENCY),
                daemonThreads("customer-sync-"));
        resources.add(parallel::shutdownNow);
        ClaimedBatches changes = new ClaimedBatches(store.idempotency(), CustomerSyncRoute.changeTypes(),
                CustomerSync::key, CustomerSyncRoute.DIRECT, records -> sync.handle(records, parallel));
        resources.add(changes);
        int batch = config.getInt(Settings.CUSTOMER_SYNC_BATCH);
        main.configure().addRoutesBuilder(new CustomerSyncRoute(sync, changes, store.idempotency(), policies,
                config.get(Settings.CUSTOMER_TOPIC), group, batch, config.getInt(Settings.CUSTOMER_SYNC_CONSUMERS)));
        PartnerLinks links = new PartnerLinks(xref, writeBack);
        ClaimedBatches confirmations = new ClaimedBatches(store.idempotency(),
                CustomerPartnerLinkRoute.confirmationTypes(), PartnerLinks::key, CustomerPartnerLinkRoute.DIRECT,
                links::handle);
        resources.add(confirmations);
        main.configure().addRoutesBuilder(new CustomerPartnerLinkRoute(links, confirmations, store.idempotency(),
                policies, config.get(Settings.CUSTOMER_TOPIC), group, batch));
        // the customer master the sync keeps, reconciled: each CRM, billing and the ERP read back and compared
        comparisons.add(new CustomersComparison(config, store.reconciliationRuns(), xref, store.customerFields(),
                stripeApi, salesforceBound, hubSpot, erpAccess));
    }

    // ------------------------------------------------------------------------------------- consent

    /**
     * Flow {@code consent}: consent changes (Mailchimp's edge, the loyalty edge, the CRMs' changes picked out of the
     * customer topic) applied under the rule and written to every configured system where the customer has a record.
     */
    private void consent(RoutePolicies policies) {
        List<io.interchange.consent.ConsentSync.Writer> writers = new ArrayList<>();
        io.interchange.connectors.mailchimp.MailchimpMembers mailchimp =
                io.interchange.connectors.mailchimp.MailchimpMembers.from(config);
        if (mailchimp.enabled()) {
            restTarget(mailchimp.client());
            writers.add(io.interchange.consent.ConsentWriters.mailchimp(mailchimp));
        }
        HubSpotCrm hubSpot = hubSpotCrm();
        io.interchange.connectors.crm.HubSpotCommunicationPreferences preferences =
                io.interchange.connectors.crm.HubSpotCommunicationPreferences.from(hubSpot, config);
        if (hubSpot.client().enabled()) {
            restTarget(hubSpot.client());
            // registered even without a subscription type: each HubSpot write then fails as permanent, naming the
            // setting, and is dead-lettered; a revocation HubSpot never got stays visible and can be replayed once set
            if (!preferences.configured()) {
                LOG.warn("Flow {}: {} is empty: consent changes of HubSpot contacts are dead-lettered until it is set",
                        FLOW_CONSENT, Settings.HUBSPOT_CONSENT_SUBSCRIPTION_ID.key());
            }
            writers.add(io.interchange.consent.ConsentWriters.hubSpot(hubSpot, preferences));
        }
        if (!config.get(Settings.SALESFORCE_CONSUMER_KEY).isBlank()) {
            bindSalesforce(FLOW_CONSENT);
            writers.add(io.interchange.consent.ConsentWriters.salesforce(new SalesforceCrm(lazyTemplate(),
                    config.get(Settings.SALESFORCE_CLIENT_ID))));
            salesforceWrites = true;
        }
        LoyaltyMembers loyalty = LoyaltyMembers.from(config);
        if (loyalty.enabled()) {
            restTarget(loyalty.client());
            RestClient client = restClients.stream().filter(c -> c.target().name().equals(loyalty.client().target().name()))
                    .findFirst().orElseThrow();
            writers.add(io.interchange.consent.ConsentWriters.loyalty(client));
        }
        io.interchange.consent.ConsentSync sync = new io.interchange.consent.ConsentSync(store.consentStates(),
                store.crossReferences(), store.echoLedger(), writers);
        LOG.info("Flow {}: consent written to {}", FLOW_CONSENT, sync.systems());
        io.interchange.consent.CrmConsentChanges crm = new io.interchange.consent.CrmConsentChanges(
                store.crossReferences(), store.echoLedger(), lazyTemplate(), config.get(Settings.CONSENT_TOPIC),
                preferences.configured() ? preferences.optOutProperty() : null);
        ClaimedBatches changes = new ClaimedBatches(store.idempotency(),
                Set.of(io.interchange.model.CanonicalType.CONSENT_CHANGED.ceType()), io.interchange.consent.ConsentSync::key,
                io.interchange.routes.ConsentRoute.DIRECT, sync::handle);
        ClaimedBatches crmChanges = new ClaimedBatches(store.idempotency(), io.interchange.consent.CrmConsentChanges.types(),
                io.interchange.consent.CrmConsentChanges::key, io.interchange.routes.ConsentRoute.CRM_DIRECT, crm::handle);
        resources.add(changes);
        resources.add(crmChanges);
        main.configure().addRoutesBuilder(new io.interchange.routes.ConsentRoute(sync, crm, changes, crmChanges,
                store.idempotency(), policies, config.get(Settings.CONSENT_TOPIC), config.get(Settings.CUSTOMER_TOPIC),
                config.get(Settings.KAFKA_CONSUMER_GROUP), config.getInt(Settings.CONSENT_BATCH)));
    }

    // ------------------------------------------------------------------------------------- loyalty earning

    /**
     * Flow {@code loyalty-earning}: paid invoices on the billing topic add their points (mappings/loyalty/earning-rules.csv)
     * to the customer's loyalty member, found in the cross-reference the customer sync keeps ({@link LoyaltyEarning}).
     * Shares the loyalty platform's REST target (one route, one rate limit) with the customer sync.
     */
    private void loyaltyEarning(MappingSource source, RoutePolicies policies) {
        LoyaltyMembers loyalty = LoyaltyMembers.from(config);
        if (!loyalty.enabled()) {
            LOG.warn("Flow {}: loyalty platform not configured (interchange.loyalty.app-id, -app-token): paid invoices "
                    + "that earn points are parked with that reason", FLOW_LOYALTY_EARNING);
        }
        restTarget(loyalty.client());
        RestClient client = restClients.stream().filter(c -> c.target().name().equals(loyalty.client().target().name()))
                .findFirst().orElseThrow(); // the customer sync's, when it runs: its rate-limit window is shared
        LoyaltyEarning earning = new LoyaltyEarning(EarningRules.load(source), store.crossReferences(),
                new LoyaltyPoints(client), customerMeters);
        ClaimedBatches paid = new ClaimedBatches(store.idempotency(), Set.of(LoyaltyEarning.paid()), LoyaltyEarning::key,
                LoyaltyEarningRoute.DIRECT, earning::handle).takenOverAlone();
        resources.add(paid);
        String start = config.get(Settings.LOYALTY_EARNING_START).strip();
        if (!start.equals("latest") && !start.equals("earliest")) {
            throw new ConfigurationException(Settings.LOYALTY_EARNING_START.key() + " is latest or earliest, not '"
                    + start + "'");
        }
        main.configure().addRoutesBuilder(new LoyaltyEarningRoute(earning, paid, store.idempotency(), policies,
                config.get(Settings.BILLING_TOPIC), config.get(Settings.KAFKA_CONSUMER_GROUP),
                config.getInt(Settings.LOYALTY_EARNING_BATCH), start));
    }

    /** The ERPs' customer services through {@link ErpAccess}. */
    private ErpCustomerCalls erpCustomerCalls() {
        ErpAccess access = erpAccess;
        ProducerTemplate template = lazyTemplate();
        return new ErpCustomerCalls() {
            @Override
            public void replicateS4(List<S4BusinessPartners.PartnerRequest> partners) {
                access.sendPartners(template, partners);
            }

            @Override
            public LegacyCustomers.Answer upsertLegacy(Customer customer, String legalEntity, String legacyCompany) {
                return access.upsertLegacyCustomer(template, customer, legalEntity, legacyCompany);
            }
        };
    }

    /**
     * A producer template for parts built before Camel starts: Camel's own, made on first use (once the context
     * runs), shared by every caller (a template is thread-safe).
     */
    private ProducerTemplate lazyTemplate() {
        return (ProducerTemplate) java.lang.reflect.Proxy.newProxyInstance(ProducerTemplate.class.getClassLoader(),
                new Class<?>[]{ProducerTemplate.class}, (proxy, method, args) -> {
                    ProducerTemplate t = sharedTemplate;
                    if (t == null) {
                        synchronized (this) {
                            if (sharedTemplate == null) sharedTemplate = main.getCamelContext().createProducerTemplate();
                            t = sharedTemplate;
                        }
                    }
                    try {
                        return method.invoke(t, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /**
     * The cluster service through which jobs run on one instance at a time ({@code master:} endpoints): Camel's file
     * lock in {@code interchange.cluster.lock-dir}, shared by the instances (Kubernetes leases would replace it in a
     * cluster: camel-kubernetes' cluster service under the same {@code master:} endpoints).
     */
    private void bindClusterService() {
        if (clusterBound) return;
        String dir = config.get(Settings.CLUSTER_LOCK_DIR);
        java.nio.file.Path root = dir.isBlank() ? java.nio.file.Path.of(config.get(Settings.DATA_DIR)).resolve("cluster")
                : java.nio.file.Path.of(dir);
        org.apache.camel.component.file.cluster.FileLockClusterService cluster =
                new org.apache.camel.component.file.cluster.FileLockClusterService();
        cluster.setRoot(root.toAbsolutePath().toString());
        cluster.setId(instanceId());
        // the OS drops a dead holder's lock at once, but Camel 4.18 tries it only once the holder's heartbeat (the
        // .dat file beside the lock, written every interval) has not moved for HEARTBEAT_TIMEOUT_INTERVALS intervals
        cluster.setAcquireLockDelay(1, java.util.concurrent.TimeUnit.SECONDS);
        cluster.setAcquireLockInterval(config.getDuration(Settings.CLUSTER_LOCK_INTERVAL).toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS);
        cluster.setHeartbeatTimeoutMultiplier(HEARTBEAT_TIMEOUT_INTERVALS);
        // a context service before the routes start, where the master: component looks for it
        main.addMainListener(new org.apache.camel.main.MainListenerSupport() {
            @Override
            public void afterConfigure(org.apache.camel.main.BaseMainSupport m) {
                try {
                    m.getCamelContext().addService(cluster);
                } catch (Exception e) {
                    throw new IllegalStateException("cannot add the file cluster service", e);
                }
            }
        });
        clusterBound = true;
        LOG.info("Singleton jobs hold their lock in {} (instance {}, lock interval {})", root.toAbsolutePath(),
                instanceId(), config.getDuration(Settings.CLUSTER_LOCK_INTERVAL));
    }

    /** Camel's default: a holder whose heartbeat stood still this many lock intervals is taken for dead. */
    static final int HEARTBEAT_TIMEOUT_INTERVALS = 5;

    private String instanceId;

    /** This process among the instances, as its singleton jobs' log lines name it: host and process id. */
    private String instanceId() {
        if (instanceId == null) {
            String host;
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = "localhost";
            }
            instanceId = host + "-" + ProcessHandle.current().pid();
        }
        return instanceId;
    }

    // ------------------------------------------------------------------------------------- loyalty back to the CRM

    /**
     * Flow {@code loyalty-crm}: the loyalty topic's balances and tier changes written to the customers' CRM records
     * through the master sync's write-back ({@link io.interchange.loyalty.LoyaltyCrm}), newest wins; a member reaching
     * the configured tier gets one task for its account manager ({@link io.interchange.loyalty.TierTasks}).
     */
    private void loyaltyCrm(MappingEngine mappings, RoutePolicies policies) {
        List<CrmWriteBack.Writer> writers = new ArrayList<>();
        HubSpotCrm hubSpot = hubSpotCrm();
        if (hubSpot.client().enabled()) {
            restTarget(hubSpot.client());
            writers.add(CrmWriteBack.hubSpot(hubSpot));
        } else {
            hubSpot = null;
        }
        SalesforceCrm salesforceCrm = null;
        if (!config.get(Settings.SALESFORCE_CONSUMER_KEY).isBlank()) {
            bindSalesforce(FLOW_LOYALTY_CRM);
            salesforceCrm = new SalesforceCrm(lazyTemplate(), config.get(Settings.SALESFORCE_CLIENT_ID));
            writers.add(CrmWriteBack.salesforce(salesforceCrm));
            salesforceWrites = true;
        }
        io.interchange.loyalty.CrmTasks tasks = new io.interchange.loyalty.CrmTasks(mappings, store.crossReferences(),
                salesforceCrm, hubSpot);
        if (writers.isEmpty()) {
            LOG.warn("Flow {}: no CRM configured (interchange.salesforce.consumer-key, interchange.hubspot.access-token): "
                    + "balances and tiers are recorded, written nowhere", FLOW_LOYALTY_CRM);
        }
        CrmWriteBack writeBack = new CrmWriteBack(mappings, store.crossReferences(), store.echoLedger(), writers,
                store.loyaltyStandings());
        io.interchange.loyalty.LoyaltyCrm crm = new io.interchange.loyalty.LoyaltyCrm(store.loyaltyStandings(), writeBack,
                new io.interchange.loyalty.TierTasks(config.get(Settings.LOYALTY_CRM_TASK_TIER), tasks,
                        store.idempotency(), customerMeters, Clock.systemUTC()), customerMeters);
        ClaimedBatches events = new ClaimedBatches(store.idempotency(), io.interchange.loyalty.LoyaltyCrm.types(),
                io.interchange.loyalty.LoyaltyCrm::key, LoyaltyCrmRoute.DIRECT, crm::handle);
        resources.add(events);
        String start = config.get(Settings.LOYALTY_CRM_START).strip();
        if (!start.equals("latest") && !start.equals("earliest")) {
            throw new ConfigurationException(Settings.LOYALTY_CRM_START.key() + " is latest or earliest, not '" + start + "'");
        }
        LoyaltyCrmRoute route = new LoyaltyCrmRoute(crm, events, store.idempotency(), policies,
                config.get(Settings.LOYALTY_TOPIC), config.get(Settings.KAFKA_CONSUMER_GROUP),
                config.getInt(Settings.LOYALTY_CRM_BATCH), start);
        long minBalance = Long.parseLong(config.get(Settings.LOYALTY_CRM_CHURN_MIN_BALANCE).strip());
        if (minBalance >= 0) {
            io.interchange.loyalty.ChurnCheck churn = new io.interchange.loyalty.ChurnCheck(store.loyaltyStandings(),
                    tasks, store.idempotency(), config.getDuration(Settings.LOYALTY_CRM_CHURN_INACTIVITY), minBalance,
                    Clock.systemUTC(), customerMeters);
            main.bind("loyaltyCrmChurnCheck", churn);
            // the check runs on one instance: the leader of the runtime's cluster lock
            bindClusterService();
            route.withChurnCheck(churn, config.getDuration(Settings.LOYALTY_CRM_CHURN_CHECK));
        }
        main.configure().addRoutesBuilder(route);
    }

    /** camel-salesforce's component, bound once for every flow that needs it. */
    private void bindSalesforce(String flow) {
        if (salesforceBound) return;
        main.bind(SalesforceConnection.COMPONENT, SalesforceConnection.component(config, flow));
        salesforceBound = true;
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** A REST target's throttled route and HTTP client, once per target. */
    /**
     * The one HubSpot client of the runtime, shared by the flows that write to HubSpot (customer sync, loyalty-crm,
     * consent): {@link #restTarget} installs and starts the first client of a target only, so a second instance's
     * client would never be started (and would not share the target's rate limit).
     */
    private HubSpotCrm hubSpotCrm() {
        if (hubSpotCrm == null) hubSpotCrm = HubSpotCrm.from(config);
        return hubSpotCrm;
    }

    private HubSpotCrm hubSpotCrm;

    /**
     * The points liability against the ERP ledger: the loyalty platform read through the same REST target as the
     * customer sync and the earning flow (one route, one rate limit; made after them, since the customer sync writes
     * through the client it registered), its transactions valued as the webhook edge values them. Without the
     * platform's keys it is registered all the same and says why it cannot run.
     */
    private LoyaltyErpComparison loyaltyComparison(MappingEngine mappings, MappingSource source,
                                                   LegalEntityTable entities, ErpAccess erpAccess) {
        RestClient client = LoyaltyMembers.from(config).client();
        if (client.enabled()) {
            restTarget(client);
            String name = client.target().name();
            client = restClients.stream().filter(c -> c.target().name().equals(name)).findFirst().orElseThrow();
        }
        return new LoyaltyErpComparison(config, store.reconciliationRuns(), erpAccess,
                new LoyaltyPoints(client), new LoyaltyValuation(mappings, source,
                entities, store.customerFields(), config.get(Settings.LOYALTY_DEFAULT_ENTITY)), mappings);
    }

    private void restTarget(RestClient client) {
        if (restClients.stream().anyMatch(c -> c.target().name().equals(client.target().name()))) return;
        restClients.add(client);
        main.bind(client.target().clientBean(), client.clientConfigurer());
        main.configure().addRoutesBuilder(new RestTargetRoute(client.target()));
    }

    private static List<String> list(String commaSeparated) {
        List<String> out = new ArrayList<>();
        for (String s : commaSeparated.split(",")) if (!s.isBlank()) out.add(s.strip());
        return out;
    }

    static final String FLOW_WEBHOOK = "billing-webhook";
    static final String FLOW_LEDGER = "billing-ledger";
    static final String FLOW_STREAM = "billing-stream";
    static final String FLOW_HUBSPOT = "crm-hubspot";
    static final String FLOW_CUSTOMER_SYNC = "customer-sync";
    static final String FLOW_SALESFORCE = "crm-salesforce";
    static final String FLOW_LOYALTY = "loyalty-webhook";
    private boolean clusterBound;
    private Reconciliation reconciliation;
    /**
     * The reconciliation comparisons the configured flows make ({@link io.interchange.reconciliation.Comparison}): a
     * flow that reads the systems a comparison compares adds it while it is configured.
     */
    private final List<io.interchange.reconciliation.Comparison> comparisons = new ArrayList<>();
    static final String FLOW_LOYALTY_EARNING = "loyalty-earning";
    static final String FLOW_LOYALTY_CRM = "loyalty-crm";
    static final String FLOW_CONSENT = "consent";
    static final String FLOW_ARCHIVE = "archive";

    // ------------------------------------------------------------------------------------- raw event archive

    /**
     * Flow {@code archive}: every canonical topic of {@code interchange.archive.topics} into gzip JSON-lines files in
     * a local directory or an S3-compatible bucket, each event once ({@link io.interchange.archive.EventArchiver}),
     * on a consumer group of its own. Its meters join the runtime's registry with the customer sync's.
     */
    private void archive() {
        io.interchange.archive.ArchiveLayout layout = new io.interchange.archive.ArchiveLayout(
                config.get(Settings.ARCHIVE_PREFIX), list(config.get(Settings.ARCHIVE_TOPICS)));
        String sinkKind = config.get(Settings.ARCHIVE_SINK).strip();
        io.interchange.archive.ArchiveSink sink = switch (sinkKind) {
            case "local" -> new io.interchange.archive.LocalDirectorySink(config.getPath(Settings.ARCHIVE_DIR));
            case "s3" -> new io.interchange.archive.S3Sink(lazyTemplate(), config.get(Settings.ARCHIVE_S3_BUCKET),
                    config.get(Settings.ARCHIVE_S3_ENDPOINT), config.get(Settings.ARCHIVE_S3_REGION),
                    config.get(Settings.ARCHIVE_S3_ACCESS_KEY), config.get(Settings.ARCHIVE_S3_SECRET_KEY));
            default -> throw new ConfigurationException("interchange.archive.sink: '" + sinkKind + "' is neither local nor s3");
        };
        if (sinkKind.equals("s3") && config.get(Settings.ARCHIVE_S3_BUCKET).isBlank()) {
            throw new ConfigurationException("interchange.archive.s3.bucket must be set for interchange.archive.sink=s3");
        }
        int batch = config.getInt(Settings.ARCHIVE_BATCH);
        io.interchange.archive.EventArchiver archiver = new io.interchange.archive.EventArchiver(layout, sink,
                config.getInt(Settings.ARCHIVE_FILE_RECORDS), config.getBoolean(Settings.ARCHIVE_WRITE_OPEN), customerMeters);
        resources.add(archiver::close);
        main.configure().addRoutesBuilder(new EventArchiveRoute(archiver, List.copyOf(layout.topics().keySet()),
                config.get(Settings.KAFKA_CONSUMER_GROUP), batch, config.getInt(Settings.ARCHIVE_CONSUMERS)));
        LOG.info("Flow {}: topics {} to {}", FLOW_ARCHIVE, layout.topics(), sink.describe());
    }

    // ------------------------------------------------------------------------------------- webhook edges

    /**
     * The signed-webhook edges of the flows this instance runs: one {@link WebhookRoute} per inbound system, each
     * with its source (verifier, path, translation) and topic.
     */
    private List<WebhookRoute> webhookEdges(Set<String> flows, BillingWebhook billing, MappingEngine mappings,
                                            MappingSource source, LegalEntityTable entities, Clock clock) {
        List<WebhookRoute> edges = new ArrayList<>();
        if (flows.contains(FLOW_WEBHOOK)) {
            edges.add(new BillingWebhookRoute(billing, store.idempotency(), config.get(Settings.BILLING_TOPIC)));
        }
        if (flows.contains(FLOW_HUBSPOT)) {
            HubSpotSignatureVerifier verifier = new HubSpotSignatureVerifier(config.get(Settings.HUBSPOT_CLIENT_SECRET),
                    config.get(Settings.HUBSPOT_PUBLIC_URL), config.getDuration(Settings.HUBSPOT_SIGNATURE_TOLERANCE), clock);
            edges.add(new WebhookRoute(new HubSpotWebhook(verifier, mappings, source, store.idempotency(),
                    store.deadLetters()), store.idempotency(), config.get(Settings.CUSTOMER_TOPIC)));
        }
        if (flows.contains(FLOW_LOYALTY)) {
            edges.add(new WebhookRoute(new LoyaltyWebhook(new VoucherifySignatureVerifier(
                    config.get(Settings.LOYALTY_WEBHOOK_SECRET), Settings.LOYALTY_WEBHOOK_SECRET.key()), mappings, source,
                    entities, store.customerFields(), config.get(Settings.LOYALTY_DEFAULT_ENTITY),
                    store.idempotency(), store.deadLetters()).withConsent(config.get(Settings.CONSENT_TOPIC),
                    store.echoLedger()), store.idempotency(), config.get(Settings.LOYALTY_TOPIC)));
        }
        if (flows.contains(FLOW_CONSENT)) {
            edges.add(new WebhookRoute(new io.interchange.connectors.mailchimp.MailchimpWebhook(
                    new io.interchange.connectors.mailchimp.MailchimpSecretVerifier(
                            config.get(Settings.MAILCHIMP_WEBHOOK_SECRET), Settings.MAILCHIMP_WEBHOOK_SECRET.key()),
                    config.get(Settings.MAILCHIMP_LIST_ID), IdentityRules.load(source), store.identityIndex(),
                    store.crossReferences(), store.echoLedger(), store.idempotency(), store.deadLetters()),
                    store.idempotency(), config.get(Settings.CONSENT_TOPIC)));
        }
        if (flows.contains(FLOW_CUSTOMER_SYNC)) {
            edges.add(new WebhookRoute(new S4PartnerConfirmations(new BasicAuthVerifier(
                    config.get(Settings.S4_CONFIRMATION_USER), config.get(Settings.S4_CONFIRMATION_PASSWORD),
                    Settings.S4_CONFIRMATION_PASSWORD.key()), clock), store.idempotency(),
                    config.get(Settings.CUSTOMER_TOPIC)));
        }
        return edges;
    }

    private Set<String> flows() {
        Set<String> known = Set.of(FLOW_WEBHOOK, FLOW_LEDGER, FLOW_STREAM, FLOW_HUBSPOT, FLOW_SALESFORCE,
                FLOW_CUSTOMER_SYNC, FLOW_LOYALTY, FLOW_LOYALTY_EARNING, FLOW_LOYALTY_CRM, FLOW_CONSENT,
                FLOW_ARCHIVE);
        Set<String> flows = new LinkedHashSet<>();
        for (String f : config.get(Settings.FLOWS).split(",")) {
            if (f.isBlank()) continue;
            if (!known.contains(f.strip())) {
                throw new ConfigurationException("interchange.flows: unknown flow '" + f.strip() + "'; known flows: "
                        + String.join(", ", new TreeSet<>(known)));
            }
            flows.add(f.strip());
        }
        if (flows.isEmpty()) throw new ConfigurationException("interchange.flows names no flow; known flows: "
                + String.join(", ", new TreeSet<>(known)));
        LOG.info("Flows: {}", String.join(", ", flows));
        return flows;
    }

    private Properties camelProperties() throws IOException {
        Properties p = new Properties();
        p.put("camel.main.name", "interchange");
        p.put("camel.main.jmxEnabled", "true");
        p.put("camel.main.startupSummaryLevel", "Brief");
        p.put("camel.main.shutdownTimeout", String.valueOf(Math.max(1, config.getDuration(Settings.SHUTDOWN_TIMEOUT).toSeconds())));
        // flows put correlationId in the MDC themselves (ExchangeKeys.mdc) where a step may change threads; Camel's
        // own MDC logging copies and pattern-matches the MDC around every step, a sixth of the webhook's CPU time
        p.put("camel.main.useMdcLogging", "false");
        p.put("camel.server.enabled", "true");
        p.put("camel.server.port", config.get(Settings.HTTP_PORT));
        p.put("camel.server.maxBodySize", config.get(Settings.HTTP_MAX_BODY));
        p.put("camel.management.enabled", "true");
        p.put("camel.management.port", config.get(Settings.MANAGEMENT_PORT));
        p.put("camel.management.healthCheckEnabled", "true");
        p.put("camel.management.metricsEnabled", "true");
        p.put("camel.metrics.enabled", "true");
        p.put("camel.metrics.enableRoutePolicy", "true");
        p.put("camel.health.exposureLevel", "full");
        p.put("camel.health.producersEnabled", "false");
        p.put("camel.management.host", config.get(Settings.MANAGEMENT_HOST));
        if (config.isSet(Settings.MANAGEMENT_PASSWORD)) {
            p.put("camel.management.jolokiaEnabled", "true");
            p.put("camel.management.authenticationEnabled", "true");
            p.put("camel.management.authenticationPath", "/observe/*");
            managementUsers = managementUsers();
            p.put("camel.management.basicPropertiesFile", managementUsers.toString());
        } else if (!isLoopback(config.get(Settings.MANAGEMENT_HOST))) {
            throw new ConfigurationException("interchange.management.password must be set when the management port "
                    + "binds to " + config.get(Settings.MANAGEMENT_HOST) + " (not loopback)");
        } else {
            LOG.warn("Management port on loopback without credentials; Jolokia is disabled. Set "
                    + "interchange.management.password to require credentials and enable /observe/jolokia");
        }
        p.put("camel.component.kafka.brokers", bootstrapServers);
        // acks=all with idempotence: a published event survives a broker failover and is never written twice
        p.put("camel.component.kafka.requestRequiredAcks", "all");
        p.put("camel.component.kafka.enableIdempotence", "true");
        // a short linger: batches still form under load (sends queue behind in-flight requests), and a webhook does not
        // wait 5 ms for company that is not coming
        p.put("camel.component.kafka.lingerMs", "1");
        // bounded waits while the broker is unreachable: a webhook gets its 503 instead of hanging for a minute
        p.put("camel.component.kafka.maxBlockMs", "5000");
        p.put("camel.component.kafka.requestTimeoutMs", "5000");
        p.put("camel.component.kafka.deliveryTimeoutMs", "10000");
        p.put("camel.component.kafka.maxPollRecords", "100");
        // every flow reads a record's value as bytes (see KafkaBatches#BYTE_VALUES), and writes it as bytes (canonical
        // JSON, UTF-8): with Kafka's String (de)serializers, Camel decoded each value to a String and encoded it back
        p.put("camel.component.kafka.valueDeserializer",
                org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        p.put("camel.component.kafka.valueSerializer",
                org.apache.kafka.common.serialization.ByteArraySerializer.class.getName());
        // a killed instance's partitions wait this long for it (Kafka's default, 45 s, stalls postings after a crash)
        long session = config.getDuration(Settings.KAFKA_SESSION_TIMEOUT).toMillis();
        p.put("camel.component.kafka.sessionTimeoutMs", String.valueOf(session));
        p.put("camel.component.kafka.heartbeatIntervalMs", String.valueOf(Math.max(500, session / 3)));
        return p;
    }

    /** The JMX users: the operator, and the privileged user when one is configured (it needs authentication on). */
    private List<JmxConnector.User> jmxUsers() {
        List<JmxConnector.User> users = new ArrayList<>();
        users.add(new JmxConnector.User(config.get(Settings.JMX_USER), config.get(Settings.JMX_PASSWORD), OperatorRole.OPERATOR));
        if (!config.isSet(Settings.JMX_PRIVILEGED_USER)) return users;
        String privileged = config.get(Settings.JMX_PRIVILEGED_USER);
        if (!config.isSet(Settings.JMX_PASSWORD) || !config.isSet(Settings.JMX_PRIVILEGED_PASSWORD)) {
            throw new ConfigurationException(Settings.JMX_PRIVILEGED_USER.key() + " needs "
                    + Settings.JMX_PASSWORD.key() + " and " + Settings.JMX_PRIVILEGED_PASSWORD.key() + " set");
        }
        if (privileged.equals(config.get(Settings.JMX_USER))) {
            throw new ConfigurationException(Settings.JMX_PRIVILEGED_USER.key() + " must differ from "
                    + Settings.JMX_USER.key() + " ('" + privileged + "')");
        }
        users.add(new JmxConnector.User(privileged, config.get(Settings.JMX_PRIVILEGED_PASSWORD), OperatorRole.PRIVILEGED));
        return users;
    }

    /**
     * Vert.x's property-file authentication needs the password in a file: it is written owner-readable only to a
     * temporary file and deleted once the management server has read it (see {@link #doStart()}).
     */
    private Path managementUsers() throws IOException {
        Path file;
        try {
            file = Files.createTempFile("interchange-management", ".properties",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            file = Files.createTempFile("interchange-management", ".properties");
        }
        Files.writeString(file, "user." + config.get(Settings.MANAGEMENT_USER) + "="
                + config.get(Settings.MANAGEMENT_PASSWORD) + ",operator\nrole.operator=*\n");
        file.toFile().deleteOnExit();
        return file;
    }

    private static boolean isLoopback(String host) {
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private AbstractHealthCheck storeHealthCheck() {
        return new AbstractHealthCheck("connectors", "store") {
            @Override
            protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                if (store.isHealthy()) builder.up();
                else builder.message("store not reachable").down();
            }

            @Override
            public boolean isLiveness() {
                // a database outage is waited out (webhooks get 503, consumers retry): restarting the instance would
                // not bring the database back, and would drop what it holds in memory
                return false;
            }
        };
    }

    public CamelContext camelContext() {
        return main.getCamelContext();
    }

    /** The reconciliation of billing against the ERP ledger, or null when this instance runs no ledger flow. */
    public Reconciliation reconciliation() {
        return reconciliation;
    }

    public Store store() {
        return store;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Config config() {
        return config;
    }

    /**
     * Every request to the ERPs (their rate limits and circuit breakers), built when flow {@code billing-ledger} or
     * {@code customer-sync} runs; null otherwise.
     */
    public ErpAccess erpAccess() {
        return erpAccess;
    }

    /** True when every readiness check is up. */
    public boolean isReady() {
        return main != null && main.getCamelContext() != null
                && HealthCheckHelper.invokeReadiness(main.getCamelContext()).stream()
                .allMatch(r -> r.getState() == org.apache.camel.health.HealthCheck.State.UP);
    }

    @Override
    public void close() {
        if (jmx != null) jmx.close();
        streams.forEach(BillingEventStream::stopping);
        if (salesforce != null) salesforce.close();
        if (main != null) {
            try {
                main.stop();
            } catch (Exception e) {
                LOG.warn("Stopping Camel: {}", e.getMessage());
            }
        }
        streams.forEach(BillingEventStream::close);
        ledgerBatches.forEach(LedgerBatch::close);
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                LOG.warn("Stopping {}: {}", resources.get(i).getClass().getSimpleName(), e.getMessage());
            }
        }
    }
}
