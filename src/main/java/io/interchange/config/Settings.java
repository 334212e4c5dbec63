package io.interchange.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The catalog of every configuration key the runtime reads; the README's reference is generated from it. */
public final class Settings {

    private static final Map<String, Setting> ALL = new LinkedHashMap<>();

    public static final Setting DATA_DIR = declare("interchange.data-dir", "./data", false,
            "Directory for the embedded H2 store, the embedded Kafka log and generated management credentials.");
    public static final Setting HTTP_PORT = declare("interchange.http.port", "8080", false,
            "Business HTTP port (webhooks under /webhooks/<system>).");
    public static final Setting HTTP_MAX_BODY = declare("interchange.http.max-body-bytes", "1048576", false,
            "Largest request body accepted on the business port; larger requests get 413.");
    public static final Setting HTTP_WORKER_THREADS = declare("interchange.http.worker-threads", "64", false,
            "Threads that run the first steps of webhook requests: the signature, reading the events, and a system's "
                    + "API where translating needs one (Stripe's invoice lines); a request's thread is free again once "
                    + "it waits for the store or Kafka, so only those API calls make many threads useful.");
    public static final Setting FLOWS = declare("interchange.flows", "billing-webhook,billing-ledger", false,
            "Business flows this instance runs, comma-separated: billing-webhook (POST /webhooks/billing), "
                    + "billing-ledger (billing topic to the ERPs), billing-stream (Stripe events from a Kafka topic), "
                    + "crm-hubspot (POST /webhooks/hubspot to the customer topic; off by default), "
                    + "crm-salesforce (Salesforce Change Data Capture to the customer topic; off by default), "
                    + "customer-sync (CRM changes on the customer topic to billing customers, ERP business partners and loyalty "
                    + "members, their ids written back to the CRMs; S/4HANA's partner confirmations taken at "
                    + "POST /soap/s4hana/business-partner-confirmation; off by default), "
                    + "loyalty-webhook (POST /webhooks/loyalty: the loyalty platform's points transactions and tier "
                    + "changes to the loyalty topic, whose transactions the billing-ledger flow posts; off by default), "
                    + "loyalty-earning (paid invoices on the billing topic add loyalty points; off by default), "
                    + "consent (POST /webhooks/mailchimp and the CRMs' and loyalty platform's consent changes to the consent "
                    + "topic, applied newest-wins and written to every system of the customer; off by default), "
                    + "archive (every canonical event to the raw event archive, see interchange.archive.*; off by default "
                    + "except in the sandbox). "
                    + "Instances may split them, e.g. webhook edges apart from ledger workers.");
    public static final Setting CLUSTER_LOCK_DIR = declare("interchange.cluster.lock-dir", "", false,
            "Directory, shared by every instance (a network file system), where jobs that must run on one instance at a "
                    + "time (the daily loyalty filing) hold their file lock (Camel's file-lock cluster service); empty: "
                    + "<interchange.data-dir>/cluster, which only serves instances sharing that data directory.");
    public static final Setting CLUSTER_LOCK_INTERVAL = declare("interchange.cluster.lock-interval", "PT5S", false,
            "How often each instance looks at the cluster lock of its singleton jobs (Camel's file-lock cluster "
                    + "service: acquireLockInterval); the holder writes a heartbeat beside the lock as often. Another "
                    + "instance tries the lock only once the heartbeat is older than 5 intervals, so a job whose holder "
                    + "died runs elsewhere within about 6 intervals plus the job's first delay. The same on every instance.");
    public static final Setting SHUTDOWN_TIMEOUT = declare("interchange.shutdown-timeout", "PT15S", false,
            "How long a stopping instance lets routes and consumers finish what they hold (webhooks being answered, "
                    + "postings under way) before the store and Kafka close; what is still running then is abandoned "
                    + "and, not being confirmed, is redelivered to the next instance.");
    public static final Setting MANAGEMENT_PORT = declare("interchange.management.port", "9876", false,
            "Management HTTP port: /observe/health (probes: /live, /ready; readiness per flow: /flows), "
                    + "/observe/metrics, /observe/jolokia.");
    public static final Setting MANAGEMENT_HOST = declare("interchange.management.host", "127.0.0.1", false,
            "Address the management port binds to; use 0.0.0.0 (with a password) to let Prometheus or probes reach it.");
    public static final Setting MANAGEMENT_USER = declare("interchange.management.user", "operator", false,
            "User name required by every /observe endpoint once a management password is set.");
    public static final Setting MANAGEMENT_PASSWORD = declare("interchange.management.password", "", true,
            "Password required by every /observe endpoint; while empty, Jolokia is disabled and health and metrics are "
                    + "served without credentials, so keep the port on loopback.");
    public static final Setting MANAGEMENT_TLS_KEYSTORE = declare("interchange.management.tls.keystore", "", false,
            "PKCS12 keystore (certificate and private key) for the management port; when set the port serves HTTPS only, "
                    + "when empty plain HTTP.");
    public static final Setting MANAGEMENT_TLS_KEYSTORE_PASSWORD = declare("interchange.management.tls.keystore-password",
            "", true, "Password of the management keystore and of its private key.");
    public static final Setting JMX_PORT = declare("interchange.jmx.port", "9875", false,
            "Port of the JMX RMI connector (registry and server) for jconsole/jmxterm; 0 disables remote JMX.");
    public static final Setting JMX_HOST = declare("interchange.jmx.host", "127.0.0.1", false,
            "Address the JMX connector binds to and advertises.");
    public static final Setting JMX_USER = declare("interchange.jmx.user", "operator", false,
            "User name required by the JMX connector.");
    public static final Setting JMX_PASSWORD = declare("interchange.jmx.password", "", true,
            "Password required by the JMX connector; while empty the connector only binds to loopback without authentication.");
    public static final Setting JMX_PRIVILEGED_USER = declare("interchange.jmx.privileged-user", "", false,
            "A second JMX user, in the privileged role: the dead-letter console (list, search, show) shows this user "
                    + "personal data unmasked; interchange.jmx.user, Jolokia and everyone else see it masked. Only this "
                    + "user may acknowledge a reconciliation difference. Empty: nobody sees it unmasked or acknowledges. "
                    + "Needs interchange.jmx.password and interchange.jmx.privileged-password.");
    public static final Setting JMX_PRIVILEGED_PASSWORD = declare("interchange.jmx.privileged-password", "", true,
            "Password of interchange.jmx.privileged-user.");
    public static final Setting JMX_TLS_KEYSTORE = declare("interchange.jmx.tls.keystore",
            "${interchange.management.tls.keystore}", false,
            "PKCS12 keystore for the JMX connector; when set the RMI registry and the connection speak TLS only "
                    + "(clients need -s in jmxterm and the certificate in their trust store). Defaults to the management "
                    + "keystore, so one keystore protects both; set it empty to keep JMX without TLS.");
    public static final Setting JMX_TLS_KEYSTORE_PASSWORD = declare("interchange.jmx.tls.keystore-password",
            "${interchange.management.tls.keystore-password}", true,
            "Password of the JMX keystore and of its private key; defaults to the management keystore's password.");

    public static final Setting STORE_URL = declare("interchange.store.url",
            "jdbc:h2:file:${interchange.data-dir}/store/interchange;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH",
            false, "JDBC URL of the store (H2 file by default; jdbc:postgresql://... in production).");
    public static final Setting STORE_SCHEMA = declare("interchange.store.schema", "interchange", false,
            "Database schema the store's tables live in, created by the migration when missing, so the store can share a "
                    + "database with other applications; 'public' is where versions before it created them.");
    public static final Setting STORE_USER = declare("interchange.store.user", "sa", false, "Store user.");
    public static final Setting STORE_PASSWORD = declare("interchange.store.password", "", true, "Store password.");
    public static final Setting STORE_POOL_SIZE = declare("interchange.store.pool-size", "10", false,
            "Maximum JDBC connections in the store pool.");

    public static final Setting KAFKA_BOOTSTRAP = declare("interchange.kafka.bootstrap-servers", "", false,
            "Kafka bootstrap servers; empty starts an embedded single-node broker under the data directory.");
    public static final Setting KAFKA_EMBEDDED_PORT = declare("interchange.kafka.embedded-port", "9092", false,
            "Port of the embedded broker when no bootstrap servers are configured (0 picks a free port).");
    public static final Setting KAFKA_CONSUMER_GROUP = declare("interchange.kafka.consumer-group", "interchange", false,
            "Consumer group shared by every instance of the runtime. The billing-ledger flow reads with one group per "
                    + "ERP target, this name with the target appended (interchange.s4hana and interchange.legacy by "
                    + "default; seeded at first start from this group's offsets, see Deploying), the billing-stream flow "
                    + "with this name and -billing-stream.");
    public static final Setting KAFKA_SESSION_TIMEOUT = declare("interchange.kafka.session-timeout", "PT10S", false,
            "How long the group waits for a silent instance (killed, hung, cut off) before giving its partitions to the "
                    + "others; also how long a restarted instance waits for the partitions of the process it replaces.");

    public static final Setting MAPPINGS_DIR = declare("interchange.mappings.dir", "", false,
            "Directory holding mappings and legal-entities.csv; empty uses the mappings bundled in the jar.");

    public static final Setting BILLING_WEBHOOK_SECRET = declare("interchange.billing.webhook-secret", "", true,
            "Signing secret of the billing platform's webhook endpoint (Stripe's whsec_...); webhooks are refused while empty.");
    public static final Setting BILLING_SIGNATURE_TOLERANCE = declare("interchange.billing.signature-tolerance", "PT5M", false,
            "Largest difference between a webhook's signed timestamp and now (ISO-8601 duration).");
    public static final Setting BILLING_LIVEMODE = declare("interchange.billing.livemode", "any", false,
            "Which Stripe events the billing edges take: true (live mode only; recommended in production), false (test "
                    + "mode only) or any (both, the mode recorded on the canonical event as ce_livemode). An event of the "
                    + "other mode is acknowledged and parked with that reason.");
    public static final Setting BILLING_API_VERSION = declare("interchange.billing.api-version", "", false,
            "Stripe API version of events that carry no api_version: the version the webhook endpoint is pinned to. "
                    + "Events name their own version otherwise; one not in mappings/stripe/api-versions.csv is parked.");
    public static final Setting BILLING_API_URL = declare("interchange.billing.api-url", "https://api.stripe.com", false,
            "Base URL of the billing platform's REST API (Stripe's), read where an event is not enough: the rest of an "
                    + "invoice's lines, a customer's metadata for its legal entity.");
    public static final Setting BILLING_API_KEY = declare("interchange.billing.api-key", "", true,
            "Secret (or restricted, read-only) API key for the billing platform's REST API; while empty the API is not "
                    + "read, and events that need it are parked with that reason.");
    public static final Setting BILLING_API_TIMEOUT = declare("interchange.billing.api-timeout", "PT10S", false,
            "Connect and response timeout of billing API calls.");
    public static final Setting BILLING_API_MAX_RATE = declare("interchange.billing.api-max-rate", "20", false,
            "Most billing API requests per second from one instance (Stripe allows 25 per endpoint and 100 in all in live "
                    + "mode, 25 in a sandbox); a 429 is waited out and retried.");
    public static final Setting BILLING_TOPIC = declare("interchange.billing.topic", "interchange.billing.v1", false,
            "Kafka topic of canonical billing events.");
    public static final Setting BILLING_STREAM_TOPIC = declare("interchange.billing.stream-topic", "stripe.events", false,
            "Kafka topic of raw Stripe event JSON (one event per record, as a Stripe-to-Kafka relay writes them) that "
                    + "the billing-stream flow reads; the topic's access control stands in for webhook signatures.");
    public static final Setting BILLING_STREAM_BATCH = declare("interchange.billing.stream-batch", "500", false,
            "Most records the billing-stream flow takes per poll: one group commit of their keys and one batch of "
                    + "Kafka sends each.");
    public static final Setting BILLING_STREAM_CONSUMERS = declare("interchange.billing.stream-consumers", "6", false,
            "Consumer threads of the billing-stream flow: up to one per partition of the stream topic this instance "
                    + "reads (partitions are shared among them and among instances; a thread without one idles). "
                    + "While one batch waits for its commit and acknowledgements, the others work.");
    public static final Setting LEDGER_TOPIC = declare("interchange.ledger.topic", "interchange.ledger.v1", false,
            "Kafka topic of ERP posting confirmations.");
    public static final Setting LEDGER_BATCH = declare("interchange.ledger.batch", "500", false,
            "Most billing events the billing-ledger flow takes per poll: their posting keys are claimed in one group "
                    + "commit and their journal entries sent in bulk requests where the ERP takes them.");
    public static final Setting LEDGER_CONSUMERS = declare("interchange.ledger.consumers", "2", false,
            "Consumer threads of the billing-ledger flow per ERP target (each target has its own consumer group "
                    + "reading the whole billing topic, so an instance runs twice this many): up to one per partition of "
                    + "the billing topic this instance reads. A customer's events stay on one partition, so they are "
                    + "posted in order either way.");
    public static final Setting LEDGER_REQUESTS_IN_FLIGHT = declare("interchange.ledger.requests-in-flight", "4", false,
            "Most requests one consumer thread of the billing-ledger flow keeps in flight to its ERP target at once: a "
                    + "poll's events are split by customer into up to this many lanes (one per full request, so a poll "
                    + "that fits in one request still goes in one), each sending its requests one after another, so a "
                    + "customer's events are never in two requests at once and reach the ERP in their order. 1 sends a "
                    + "poll's requests one after another. Each ERP's rate limit (interchange.erp.s4.max-rate, "
                    + "interchange.erp.legacy.max-rate) and circuit breaker still hold.");

    public static final Setting HUBSPOT_CLIENT_SECRET = declare("interchange.hubspot.client-secret", "", true,
            "Client secret of the HubSpot app whose webhooks the crm-hubspot flow takes (X-HubSpot-Signature-v3 is "
                    + "keyed with it); several comma-separated while one is rotated; webhooks are refused while empty.");
    public static final Setting HUBSPOT_PUBLIC_URL = declare("interchange.hubspot.public-url", "", false,
            "Scheme, host and any path prefix under which HubSpot reaches this instance (e.g. "
                    + "https://interchange.example.com), which HubSpot signs as part of the target URL; empty takes them "
                    + "from the request (X-Forwarded-Proto, else http, and Host). Set it behind a proxy that changes them.");
    public static final Setting HUBSPOT_SIGNATURE_TOLERANCE = declare("interchange.hubspot.signature-tolerance", "PT5M",
            false, "Largest difference between a HubSpot webhook's X-HubSpot-Request-Timestamp and now (HubSpot "
                    + "documents 5 minutes); older or further ahead is refused (ISO-8601 duration).");
    public static final Setting HUBSPOT_API_URL = declare("interchange.hubspot.api-url", "https://api.hubapi.com", false,
            "Base URL of HubSpot's API, which the runtime writes CRM records to (CRM v3 batch upsert of contacts and "
                    + "companies).");
    public static final Setting HUBSPOT_ACCESS_TOKEN = declare("interchange.hubspot.access-token", "", true,
            "Access token of the HubSpot private app the runtime writes with (scopes crm.objects.contacts.write and "
                    + "crm.objects.companies.write); ignored when an OAuth refresh token is set; while both are empty "
                    + "nothing is written to HubSpot.");
    public static final Setting HUBSPOT_OAUTH_TOKEN_URL = declare("interchange.hubspot.oauth-token-url",
            "${interchange.hubspot.api-url}/oauth/v1/token", false,
            "HubSpot's OAuth token endpoint, where the runtime exchanges its refresh token for access tokens (kept "
                    + "until shortly before their expires_in, fetched again after a 401).");
    public static final Setting HUBSPOT_OAUTH_CLIENT_ID = declare("interchange.hubspot.oauth-client-id", "", false,
            "Client id of the HubSpot OAuth app the runtime writes with.");
    public static final Setting HUBSPOT_OAUTH_CLIENT_SECRET = declare("interchange.hubspot.oauth-client-secret", "", true,
            "Client secret of the HubSpot OAuth app the runtime writes with.");
    public static final Setting HUBSPOT_OAUTH_REFRESH_TOKEN = declare("interchange.hubspot.oauth-refresh-token", "", true,
            "Refresh token of the OAuth app's installation in the HubSpot account; when set, writes use OAuth access "
                    + "tokens instead of the private app's token.");
    public static final Setting HUBSPOT_API_TIMEOUT = declare("interchange.hubspot.api-timeout", "PT10S", false,
            "Connect and response timeout of HubSpot API calls.");
    public static final Setting HUBSPOT_API_MAX_RATE = declare("interchange.hubspot.api-max-rate", "9", false,
            "Most HubSpot API requests per second from one instance (HubSpot allows an OAuth app 100 per 10 seconds per "
                    + "account, private apps 100 to 190 by subscription); a batch of up to 100 records is one request. "
                    + "The X-HubSpot-RateLimit headers are honoured besides: when none is left, requests wait for the "
                    + "window; a 429 is waited out and retried.");
    public static final Setting HUBSPOT_CONSENT_SUBSCRIPTION_ID = declare("interchange.hubspot.consent-subscription-id",
            "", false, "Id of the HubSpot subscription type (e.g. the portal's marketing information type) the consent "
                    + "flow subscribes contacts to or unsubscribes them from, through the Communication Preferences API "
                    + "(scope communication_preferences.write, and .read). While empty, every consent write to HubSpot "
                    + "fails as permanent, naming this setting, and is dead-lettered: set it and replay them.");
    public static final Setting HUBSPOT_CONSENT_LEGAL_BASIS = declare("interchange.hubspot.consent-legal-basis",
            "CONSENT_WITH_NOTICE", false, "Legal basis HubSpot records with each subscription status the consent flow "
                    + "writes, one of HubSpot's values: CONSENT_WITH_NOTICE, LEGITIMATE_INTEREST_CLIENT, "
                    + "LEGITIMATE_INTEREST_PQL, LEGITIMATE_INTEREST_OTHER, PERFORMANCE_OF_CONTRACT, PROCESS_AND_STORE, "
                    + "NON_GDPR.");
    public static final Setting HUBSPOT_CONSENT_LEGAL_BASIS_EXPLANATION = declare(
            "interchange.hubspot.consent-legal-basis-explanation", "Consent stated by the customer, synchronised by "
                    + "Interchange.", false, "Legal-basis explanation HubSpot records with each subscription status the "
                    + "consent flow writes; the system and time the consent was stated in are appended.");
    public static final Setting LOYALTY_API_URL = declare("interchange.loyalty.api-url", "https://api.voucherify.io", false,
            "Base URL of the loyalty platform's API (Voucherify), where the runtime upserts customers and adds them to "
                    + "the loyalty program: https://api.voucherify.io (Europe), https://us1.api.voucherify.io (United "
                    + "States), https://as1.api.voucherify.io (Asia), or the project's dedicated region; a project "
                    + "called in the wrong region is refused.");
    public static final Setting LOYALTY_APP_ID = declare("interchange.loyalty.app-id", "", false,
            "Application ID of the Voucherify project's server-side API keys (Project Settings > Application Keys), "
                    + "sent as X-App-Id; while it or the token is empty nothing is sent to the loyalty platform.");
    public static final Setting LOYALTY_APP_TOKEN = declare("interchange.loyalty.app-token", "", true,
            "Secret key (application token) belonging to interchange.loyalty.app-id, sent as X-App-Token; it needs "
                    + "access to customers and loyalties.");
    public static final Setting LOYALTY_CAMPAIGN_ID = declare("interchange.loyalty.campaign-id", "", false,
            "Id (camp_...) of the Voucherify loyalty program every customer joins as a member (one loyalty card "
                    + "each); make it an auto-update campaign so it never runs out of cards to assign. While empty, "
                    + "adding a member fails as permanent with that reason (customers are still upserted).");
    public static final Setting LOYALTY_API_TIMEOUT = declare("interchange.loyalty.api-timeout", "PT10S", false,
            "Connect and response timeout of loyalty platform calls; an answer lost to it is found again by the next "
                    + "attempt, which reads the customer's card before adding one.");
    public static final Setting LOYALTY_API_MAX_RATE = declare("interchange.loyalty.api-max-rate", "1", false,
            "Most loyalty platform requests per second from one instance (Voucherify allows 100 per minute on the "
                    + "Business plan, 2,000 on Organization, 100 per hour in a sandbox project; adding a member takes "
                    + "three); the X-Rate-Limit headers are honoured besides: when none is left, requests wait for "
                    + "X-Rate-Limit-Retry; a 429 is waited out and retried.");
    public static final Setting LOYALTY_WEBHOOK_SECRET = declare("interchange.loyalty.webhook-secret", "", true,
            "Secret key of the Voucherify project's webhooks (Project Settings > Webhooks), with which "
                    + "x-voucherify-signature is checked on POST /webhooks/loyalty; several comma-separated while one is "
                    + "rotated. While empty every delivery is answered 503 (retried by Voucherify).");
    public static final Setting LOYALTY_TOPIC = declare("interchange.loyalty.topic", "interchange.loyalty.v1", false,
            "Kafka topic of canonical loyalty events (points transactions, tier changes), keyed by customer; the "
                    + "billing-ledger flow reads its points transactions too and posts them as the points liability.");
    public static final Setting LOYALTY_DEFAULT_ENTITY = declare("interchange.loyalty.default-legal-entity", "", false,
            "Legal entity whose books carry the loyalty points of a customer the customer master names no legal entity "
                    + "for (a CRM contact of no company, say). While empty, such a customer's points transactions are "
                    + "parked with that reason and posted when replayed once the customer has one.");
    public static final Setting LOYALTY_EARNING_START = declare("interchange.loyalty.earning-start", "latest", false,
            "Where the loyalty-earning flow starts reading the billing topic the first time its consumer group "
                    + "(<interchange.kafka.consumer-group>.loyalty-earning) reads it: latest (payments from now on earn; "
                    + "the default, so turning the flow on does not award points for the topic's history) or earliest "
                    + "(every payment the topic still holds). Afterwards the group's committed offsets decide.");
    public static final Setting LOYALTY_EARNING_BATCH = declare("interchange.loyalty.earning-batch", "100", false,
            "Most billing events the loyalty-earning flow takes per poll: their claims made in one store commit, "
                    + "their points added one request each (the platform has no batch add), within "
                    + "interchange.loyalty.api-max-rate.");
    public static final Setting LOYALTY_FILING_CHECK = declare("interchange.loyalty.filing-check", "PT5M", false,
            "How often the daily loyalty filing looks for closed days (entities whose mappings/loyalty/point-values.csv "
                    + "row says daily): a day is filed at the first check after it has closed in the entity's time "
                    + "zone plus interchange.loyalty.filing-grace, once the ledger's consumers have read everything "
                    + "published to the loyalty topic before then. Runs on one instance at a time (the cluster lock).");
    public static final Setting LOYALTY_FILING_GRACE = declare("interchange.loyalty.filing-grace", "PT1H", false,
            "How long after midnight (in the entity's time zone) a day's loyalty transactions may still arrive before "
                    + "the day is filed; one arriving later is filed with the next day's filing (its own date stays "
                    + "in its line).");
    public static final Setting LOYALTY_FILING_MAX = declare("interchange.loyalty.filing-max-transactions", "400", false,
            "Most loyalty transactions in one filing (one journal entry, two lines each: S/4HANA takes 999 lines per "
                    + "entry); a day with more is filed in several parts, all published in the same run.");
    // reconciliation: billing against the ERP ledger and our confirmations (runs with the billing-ledger flow)
    public static final Setting RECONCILIATION_DAILY = declare("interchange.reconciliation.daily", "true", false,
            "Whether each legal entity's previous day is reconciled once it has closed (billing against the ERP ledger "
                    + "and the confirmations in the store), on one instance at a time (the cluster lock). Runs on demand "
                    + "over JMX (io.interchange:type=Reconciliation) either way.");
    public static final Setting RECONCILIATION_CHECK = declare("interchange.reconciliation.check", "PT15M", false,
            "How often the daily reconciliation looks for days due: a day is reconciled at the first check after it "
                    + "has closed in the entity's time zone plus interchange.reconciliation.delay, unless a completed "
                    + "run of it exists.");
    public static final Setting RECONCILIATION_DELAY = declare("interchange.reconciliation.delay", "PT2H", false,
            "How long after midnight (in the entity's time zone) a day is reconciled: time for its last events to be "
                    + "posted.");
    public static final Setting RECONCILIATION_ENTITIES = declare("interchange.reconciliation.entities", "", false,
            "Legal entities the daily reconciliation runs for, comma-separated; empty: every entity of "
                    + "mappings/legal-entities.csv.");
    public static final Setting RECONCILIATION_MARGIN = declare("interchange.reconciliation.margin", "P3D", false,
            "How far around the period each side is read, so that a document at the edge of the period finds its "
                    + "partner dated a little earlier or later on the other side (an invoice finalized just before "
                    + "midnight, a confirmation recorded just after). Only records within the period itself are reported.");
    public static final Setting RECONCILIATION_BILLING_PAGE = declare("interchange.reconciliation.billing-page-size",
            "100", false, "Objects per page of the billing platform's list APIs (Stripe's limit: 1 to 100).");
    public static final Setting RECONCILIATION_LOYALTY_PAGE = declare("interchange.reconciliation.loyalty-page-size",
            "100", false, "Transactions per page of the loyalty platform's list of the program's transactions "
                    + "(Voucherify's limit: 1 to 100).");
    public static final Setting RECONCILIATION_ERP_PAGE = declare("interchange.reconciliation.erp-page-size", "1000",
            false, "Items (S/4HANA: document lines, $top) or journals (legacy ERP) per page of the ERP ledger's read.");
    public static final Setting RECONCILIATION_API_VERSION = declare("interchange.reconciliation.api-version", "", false,
            "Stripe API version the billing objects are read in (one of mappings/stripe/api-versions.csv); empty: "
                    + "interchange.billing.api-version, or the newest version the runtime knows when that is empty too.");
    public static final Setting RECONCILIATION_TOPIC = declare("interchange.reconciliation.topic",
            "interchange.reconciliation.v1", false,
            "Kafka topic of canonical reconciliation events (io.interchange.reconciliation.completed, one per run).");
    public static final Setting RECONCILIATION_REPORT_DIR = declare("interchange.reconciliation.report-dir", "", false,
            "Directory each run's report is written to as reconciliation-<run>.html and reconciliation-<run>.csv; "
                    + "empty: <interchange.data-dir>/reconciliation.");
    public static final Setting RECONCILIATION_PROGRESS = declare("interchange.reconciliation.progress-every", "100000",
            false, "A run logs a progress line every this many records read per side.");
    public static final Setting RECONCILIATION_RETENTION = declare("interchange.reconciliation.retention", "P90D", false,
            "How long runs, their spooled records and differences are kept in the store; older ones are deleted when "
                    + "a run starts.");
    // flow loyalty-crm: loyalty balance and tier back to the CRM records, tier and churn-risk tasks
    public static final Setting LOYALTY_CRM_START = declare("interchange.loyalty.crm.start", "latest", false,
            "Where the loyalty-crm flow starts reading the loyalty topic the first time its consumer group "
                    + "(<interchange.kafka.consumer-group>.loyalty-crm) reads it: latest (the default) or earliest (every "
                    + "event the topic still holds: the newest balance and tier of each member are written, and a tier "
                    + "task made for each member who reached interchange.loyalty.crm.task-tier). Afterwards the group's "
                    + "committed offsets decide.");
    public static final Setting LOYALTY_CRM_BATCH = declare("interchange.loyalty.crm.batch", "200", false,
            "Most loyalty events the loyalty-crm flow takes per poll: claimed in one store commit, their customers' "
                    + "CRM records written together (200 a Salesforce request, 100 a HubSpot one).");
    public static final Setting LOYALTY_CRM_TASK_TIER = declare("interchange.loyalty.crm.task-tier", "Gold", false,
            "Name of the loyalty tier (as the platform names it; compared ignoring case and surrounding spaces) whose "
                    + "reaching (a member joining or upgraded to it) makes one task for the account manager who owns the "
                    + "customer's CRM record. Empty: no tier tasks.");
    public static final Setting LOYALTY_CRM_CHURN_INACTIVITY = declare("interchange.loyalty.crm.churn-inactivity",
            "P60D", false,
            "Churn-risk rule of the loyalty-crm flow: a member with no points earned or redeemed for this long (ISO-8601 "
                    + "duration) while holding at least interchange.loyalty.crm.churn-min-balance points gets one "
                    + "retention task for its account manager, once per episode (a new one only after new activity).");
    public static final Setting LOYALTY_CRM_CHURN_MIN_BALANCE = declare("interchange.loyalty.crm.churn-min-balance",
            "1000", false, "Churn-risk rule: the least balance (points) that makes an inactive member worth a retention "
                    + "task. A negative value turns the churn check off.");
    public static final Setting LOYALTY_CRM_CHURN_CHECK = declare("interchange.loyalty.crm.churn-check-period", "PT1H",
            false, "How often the churn-risk check runs (on one instance of the cluster at a time).");
    public static final Setting SALESFORCE_LOGIN_URL = declare("interchange.salesforce.login-url",
            "https://login.salesforce.com", false,
            "Where the crm-salesforce flow logs in (OAuth 2.0 client credentials at <url>/services/oauth2/token): the "
                    + "org's My Domain URL (https://<domain>.my.salesforce.com), which the client-credentials flow needs.");
    public static final Setting SALESFORCE_CONSUMER_KEY = declare("interchange.salesforce.consumer-key", "", false,
            "Consumer key of the Salesforce connected app (client credentials flow enabled, run as an integration user "
                    + "who may read Account and Contact and their change events).");
    public static final Setting SALESFORCE_CONSUMER_SECRET = declare("interchange.salesforce.consumer-secret", "", true,
            "Consumer secret of the Salesforce connected app.");
    public static final Setting SALESFORCE_API_VERSION = declare("interchange.salesforce.api-version", "59.0", false,
            "Salesforce API version of REST calls and of the Streaming API endpoint (/cometd/<version>).");
    public static final Setting SALESFORCE_CHANNELS = declare("interchange.salesforce.channels",
            "/data/AccountChangeEvent,/data/ContactChangeEvent", false,
            "Change Data Capture channels the crm-salesforce flow subscribes to, comma-separated: "
                    + "/data/AccountChangeEvent, /data/ContactChangeEvent, or /data/ChangeEvents (every entity selected "
                    + "for Change Data Capture; only Account and Contact are mapped, others are acknowledged without "
                    + "effect). Select the entities in Setup > Change Data Capture.");
    public static final Setting SALESFORCE_CLIENT_ID = declare("interchange.salesforce.client-id", "interchange", false,
            "Client id this runtime sends as Sforce-Call-Options: client=<id> on its Salesforce writes; change events "
                    + "whose changeOrigin carries it are its own writes coming back, acknowledged and counted, not "
                    + "published as changes.");
    public static final Setting SALESFORCE_ACCOUNT_FIELDS = declare("interchange.salesforce.account-fields",
            "Id,Name,AccountNumber,Type,Industry,Phone,Website,BillingStreet,BillingCity,BillingPostalCode,"
                    + "BillingCountry,OwnerId,IsDeleted,LastModifiedById,LastModifiedDate,SystemModstamp", false,
            "Account fields read back by query where change events cannot be used (a gap event, a lost stream "
                    + "position); Id, IsDeleted and SystemModstamp are always read.");
    public static final Setting SALESFORCE_CONTACT_FIELDS = declare("interchange.salesforce.contact-fields",
            "Id,FirstName,LastName,Email,Phone,AccountId,Title,OwnerId,IsDeleted,LastModifiedById,LastModifiedDate,"
                    + "SystemModstamp", false,
            "Contact fields read back by query where change events cannot be used; Id, IsDeleted and SystemModstamp "
                    + "are always read.");
    public static final Setting SALESFORCE_REWIND_DELAY = declare("interchange.salesforce.rewind-delay", "PT1S", false,
            "After a change event fails (Kafka or the store down), how long the flow waits before it subscribes again "
                    + "from the last event fully processed; doubled after each failure in a row, up to a minute.");
    public static final Setting CUSTOMER_TOPIC = declare("interchange.customer.topic", "interchange.customer.v1", false,
            "Kafka topic of canonical customer changes (CRM records created, changed, deleted, restored, merged).");
    public static final Setting CUSTOMER_ECHO_WINDOW = declare("interchange.customer.echo-window", "PT24H", false,
            "How long a value the runtime wrote to a system's record is recognised when the system's change event "
                    + "brings it back (echo ledger): an echo arriving later is taken for a change (ISO-8601 duration).");
    public static final Setting CUSTOMER_SYNC_BATCH = declare("interchange.customer.sync-batch", "200", false,
            "Most customer changes the customer-sync flow takes per poll and synchronises together: one group commit "
                    + "of their claims, then each target's requests batched as it allows (S/4HANA partners 100 a "
                    + "request, Salesforce write-backs 200, HubSpot 100).");
    public static final Setting CUSTOMER_SYNC_CONSUMERS = declare("interchange.customer.sync-consumers", "2", false,
            "Consumer threads of the customer-sync flow: up to one per partition of the customer topic this instance "
                    + "reads (a record's changes stay on one partition, so they keep their order).");
    public static final Setting CUSTOMER_SYNC_CONCURRENCY = declare("interchange.customer.sync-concurrency", "16",
            false, "Requests the customer-sync flow keeps in flight to one target for different customers (targets "
                    + "without batch requests: billing, loyalty, the legacy ERP); each target's rate limit still holds.");
    public static final Setting CUSTOMER_CREATE_WAIT = declare("interchange.customer.create-wait", "PT10S", false,
            "How long a customer change waits for another instance's creation of the same customer's record in a "
                    + "target (billing, ERP, loyalty) before it is retried by its route's policy; a creation whose "
                    + "holder stopped is taken over once its lease (interchange.idempotency.lease) runs out.");

    // consent (flow consent): the consent topic, and the e-mail marketing platform (Mailchimp Marketing API v3)
    public static final Setting CONSENT_TOPIC = declare("interchange.consent.topic", "interchange.consent.v1", false,
            "Kafka topic of canonical consent changes (a customer's opt-in granted or revoked, with its source and "
                    + "source time), keyed by customer.");
    public static final Setting CONSENT_BATCH = declare("interchange.consent.batch", "100", false,
            "Most consent changes (and customer changes searched for consent) the consent flow takes per poll.");
    public static final Setting MAILCHIMP_API_URL = declare("interchange.mailchimp.api-url", "", false,
            "Base URL of the Mailchimp Marketing API; empty: https://<dc>.api.mailchimp.com, <dc> being the API key's "
                    + "data center (its suffix after '-').");
    public static final Setting MAILCHIMP_API_KEY = declare("interchange.mailchimp.api-key", "", true,
            "Mailchimp API key (HTTP Basic password; the user name is ignored); empty: no member status is written.");
    public static final Setting MAILCHIMP_LIST_ID = declare("interchange.mailchimp.list-id", "", false,
            "The Mailchimp audience (list id) whose members' consent is synchronised; webhooks of other audiences are "
                    + "acknowledged without effect. Empty: any audience.");
    public static final Setting MAILCHIMP_WEBHOOK_SECRET = declare("interchange.mailchimp.webhook-secret", "", true,
            "Secret that the webhook URL registered at Mailchimp carries as ?secret=<value> (Mailchimp signs no "
                    + "webhook); POST /webhooks/mailchimp is refused 401 without it, 503 while it is empty.");
    public static final Setting MAILCHIMP_API_TIMEOUT = declare("interchange.mailchimp.api-timeout", "PT10S", false,
            "Timeout of one Mailchimp API request.");
    public static final Setting MAILCHIMP_API_MAX_RATE = declare("interchange.mailchimp.api-max-rate", "10", false,
            "Most Mailchimp API requests per second from this instance (Mailchimp allows 10 simultaneous connections "
                    + "per user).");
    public static final Setting ARCHIVE_TOPICS = declare("interchange.archive.topics",
            "${interchange.billing.topic},${interchange.ledger.topic},${interchange.customer.topic},${interchange.loyalty.topic},"
                    + "${interchange.consent.topic}",
            false,
            "Kafka topics of canonical events the archive flow archives, comma-separated; a topic's domain (the "
                    + "domain=<d> folder) is its name without a leading 'interchange.' up to the next dot "
                    + "(interchange.billing.v1: billing), or given as domain=topic (consent=interchange.consent.v1).");
    public static final Setting ARCHIVE_SINK = declare("interchange.archive.sink", "local", false,
            "Where the archive flow writes its files: local (interchange.archive.dir) or s3 (an S3-compatible bucket, "
                    + "interchange.archive.s3.*).");
    public static final Setting ARCHIVE_DIR = declare("interchange.archive.dir", "${interchange.data-dir}/archive", false,
            "Directory of the local archive sink.");
    public static final Setting ARCHIVE_PREFIX = declare("interchange.archive.prefix", "events", false,
            "Folder (local) or key prefix (s3) under which the domain=<d>/date=<YYYY-MM-DD>/ partitions are written; "
                    + "empty writes them at the top.");
    public static final Setting ARCHIVE_FILE_RECORDS = declare("interchange.archive.file-records", "10000", false,
            "Most events per archive file: a file closes after this many events of its Kafka partition, or when the "
                    + "next event's date (its record timestamp, UTC) differs; never on a timer, so a re-read of the same "
                    + "offsets makes the same files.");
    public static final Setting ARCHIVE_WRITE_OPEN = declare("interchange.archive.write-open-files", "true", false,
            "Whether a partition's open (not yet closed) file is written once it holds every record of its partition "
                    + "(its end offset, asked of the broker), under its final name, so events are in the archive within a "
                    + "batch; it is rewritten with "
                    + "more events until it closes. false writes each file once, when it closes (what a loader that "
                    + "takes a rewritten file for a new one, such as Snowpipe, needs), so the newest events wait for "
                    + "the file to fill or for the next day's first event.");
    public static final Setting ARCHIVE_BATCH = declare("interchange.archive.batch", "1000", false,
            "Most records the archive flow takes per poll.");
    public static final Setting ARCHIVE_CONSUMERS = declare("interchange.archive.consumers", "1", false,
            "Consumer threads of the archive flow (each a consumer of its own group, <consumer-group>.archive, so the "
                    + "archive never holds back the other flows).");
    public static final Setting ARCHIVE_S3_BUCKET = declare("interchange.archive.s3.bucket", "", false,
            "Bucket of the s3 archive sink.");
    public static final Setting ARCHIVE_S3_ENDPOINT = declare("interchange.archive.s3.endpoint", "", false,
            "Endpoint of an S3-compatible store (http://minio:9000); empty uses AWS S3 in interchange.archive.s3.region. "
                    + "With an endpoint, path-style requests are used (bucket in the path).");
    public static final Setting ARCHIVE_S3_REGION = declare("interchange.archive.s3.region", "us-east-1", false,
            "Region of the s3 archive sink's bucket.");
    public static final Setting ARCHIVE_S3_ACCESS_KEY = declare("interchange.archive.s3.access-key", "", false,
            "Access key id of the s3 archive sink; empty uses the AWS SDK's default credentials chain (environment, "
                    + "profile, instance or pod role).");
    public static final Setting ARCHIVE_S3_SECRET_KEY = declare("interchange.archive.s3.secret-key", "", true,
            "Secret access key of the s3 archive sink.");

    public static final Setting IDEMPOTENCY_TTL = declare("interchange.idempotency.ttl", "P30D", false,
            "How long a processed event id is remembered; a duplicate older than this is processed again.");
    public static final Setting IDEMPOTENCY_LEASE = declare("interchange.idempotency.lease", "PT2M", false,
            "How long an in-progress key blocks a duplicate before another attempt may take it over (crash recovery); "
                    + "also how long a customer record's creation in a target stays claimed by an instance that stopped "
                    + "before linking it.");
    public static final Setting IDEMPOTENCY_GROUP_COMMIT = declare("interchange.idempotency.group-commit-max", "256", false,
            "Most idempotency keys claimed (or confirmed) in one store transaction: concurrent deliveries share one "
                    + "durable commit instead of paying one each; each still waits for its own key's commit. 1 = one "
                    + "transaction per key.");
    public static final Setting IDEMPOTENCY_GROUP_WRITERS = declare("interchange.idempotency.group-commit-writers", "2", false,
            "Threads (each with a store connection) writing group commits: while one batch waits for its flush, the "
                    + "next is written. At most the store pool size.");

    public static final Setting S4_URL = declare("interchange.erp.s4.url",
            "http://127.0.0.1:8090/sap/bc/srt/scs_ext/sap/journalentrybulkcreaterequest", false,
            "SAP S/4HANA Journal Entry - Post SOAP endpoint.");
    public static final Setting S4_READ_URL = declare("interchange.erp.s4.read-url", "", false,
            "SAP S/4HANA's released OData V2 read service API_OPLACCTGDOCITEMCUBE_SRV (Operational Accounting Document "
                    + "Items), which the runtime asks what the ledger holds under a posting's reference whenever an "
                    + "outcome is unknown (a timeout, a garbage answer, a claim taken over after a crash, a rejection). "
                    + "Empty: the service root on the host of interchange.erp.s4.url "
                    + "(/sap/opu/odata/sap/API_OPLACCTGDOCITEMCUBE_SRV). Same user and password.");
    public static final Setting S4_PARTNER_URL = declare("interchange.erp.s4.partner-url", "", false,
            "SAP S/4HANA's inbound business partner replication service (BusinessPartnerSUITEBulkReplicateRequest, "
                    + "communication scenario SAP_COM_0008), to which the customer sync sends new and changed customers. "
                    + "Empty: /sap/bc/srt/scs_ext/sap/businesspartnersuitebulkreplic on the host of "
                    + "interchange.erp.s4.url. Same user, password and timeout; its requests count against "
                    + "interchange.erp.s4.max-rate and S/4HANA's circuit breaker together with postings.");
    public static final Setting S4_USER = declare("interchange.erp.s4.user", "INTERCHANGE", false,
            "SAP communication user.");
    public static final Setting S4_PASSWORD = declare("interchange.erp.s4.password", "", true,
            "SAP communication user's password.");
    public static final Setting S4_CONFIRMATION_USER = declare("interchange.erp.s4.confirmation-user", "S4HANA", false,
            "User S/4HANA authenticates as (HTTP Basic) when it posts business partner confirmations to "
                    + "/soap/s4hana/business-partner-confirmation (the communication system's inbound user in its "
                    + "communication arrangement).");
    public static final Setting S4_CONFIRMATION_PASSWORD = declare("interchange.erp.s4.confirmation-password", "", true,
            "Password of interchange.erp.s4.confirmation-user; confirmations are refused (503) while empty.");
    public static final Setting S4_LOGICAL_SYSTEM = declare("interchange.erp.s4.logical-system", "INTERCHNG", false,
            "Logical system sent as OriginalReferenceDocumentLogicalSystem, and the SenderBusinessSystemID of "
                    + "business partner replication, under which S/4HANA keeps its key mapping to our partner UUIDs: "
                    + "changing it makes S/4HANA take every customer for a new partner.");
    public static final Setting S4_TIMEOUT = declare("interchange.erp.s4.timeout", "PT10S", false,
            "Connect and response timeout of S/4HANA calls.");
    public static final Setting S4_MAX_RATE = declare("interchange.erp.s4.max-rate", "50", false,
            "Most S/4HANA requests per second from one instance (the ERP is protected even while a backlog drains); "
                    + "a bulk request counts as one.");
    public static final Setting S4_BULK_SIZE = declare("interchange.erp.s4.bulk-size", "50", false,
            "Most journal entries per JournalEntryBulkCreateRequest (1 to 500); 1 sends every posting alone. An "
                    + "entry S/4HANA rejects, or a bulk request that fails as a whole, is posted again alone under the "
                    + "route's redelivery and dead-letter policy; the ERP's ledger is read first, so an entry it already "
                    + "holds is confirmed, not posted twice.");
    public static final Setting LEGACY_URL = declare("interchange.erp.legacy.url", "http://127.0.0.1:8091/legacy/ledger", false,
            "Legacy ERP ledger SOAP endpoint.");
    public static final Setting LEGACY_CUSTOMER_URL = declare("interchange.erp.legacy.customer-url", "", false,
            "Legacy ERP customer SOAP endpoint (UpsertCustomer), to which the customer sync sends the customers of "
                    + "entities not cut over to S/4HANA. Empty: 'customers' beside the ledger endpoint's path "
                    + "(interchange.erp.legacy.url http://host:8091/legacy/ledger gives http://host:8091/legacy/customers). "
                    + "Same user, password and timeout; its requests count against interchange.erp.legacy.max-rate and "
                    + "the legacy ERP's circuit breaker together with postings.");
    public static final Setting LEGACY_USER = declare("interchange.erp.legacy.user", "INTERCHANGE", false,
            "Legacy ERP user.");
    public static final Setting LEGACY_PASSWORD = declare("interchange.erp.legacy.password", "", true,
            "Legacy ERP password.");
    public static final Setting LEGACY_TIMEOUT = declare("interchange.erp.legacy.timeout", "PT10S", false,
            "Connect and response timeout of legacy ERP calls.");

    public static final Setting LEGACY_MAX_RATE = declare("interchange.erp.legacy.max-rate", "20", false,
            "Most legacy ERP requests per second from one instance.");

    public static final Setting ERP_BREAKER_FAILURE_RATE = declare("interchange.erp.breaker.failure-rate", "50", false,
            "Circuit breaker of each ERP target (one per ERP, per instance): the percentage of failed requests among the "
                    + "last interchange.erp.breaker.window that opens it. A failure is what the posting route would retry "
                    + "(unreachable, timeout, HTTP 408/429/5xx, SOAP Server fault); an answer, even a rejection, is a "
                    + "success. While a target's breaker is open its ledger consumers hold their events (paused, still "
                    + "polling, nothing dead-lettered, no redelivery attempt spent) and the other target's keep posting.");
    public static final Setting ERP_BREAKER_WINDOW = declare("interchange.erp.breaker.window", "10", false,
            "How many of an ERP's most recent requests its circuit breaker judges (count-based sliding window).");
    public static final Setting ERP_BREAKER_MINIMUM_CALLS = declare("interchange.erp.breaker.minimum-calls", "3", false,
            "Fewest requests in the window before the circuit breaker may open: low, because the posting route "
                    + "retries one posting at a time with backoff, and the breaker must open before a posting's "
                    + "attempts run out.");
    public static final Setting ERP_BREAKER_OPEN_WAIT = declare("interchange.erp.breaker.open-wait", "PT10S", false,
            "How long an open circuit breaker waits before it lets probe requests through (half-open); while it "
                    + "waits, no request reaches that ERP.");
    public static final Setting ERP_BREAKER_HALF_OPEN_CALLS = declare("interchange.erp.breaker.half-open-calls", "2", false,
            "Probe requests a half-open circuit breaker lets through; if fewer than failure-rate percent of them fail it "
                    + "closes and postings resume, else it opens again for open-wait.");

    public static final Setting SANDBOX_STRIPE_API_VERSION = declare("interchange.sandbox.stripe-api-version",
            "2026-07-29.dahlia", false,
            "Sandbox only (--sandbox): the Stripe API version the simulated billing platform renders its events in, "
                    + "one of 2024-06-20, 2025-02-24.acacia, 2025-05-28.basil, 2025-12-15.clover, 2026-07-29.dahlia. "
                    + "From basil, invoices are paid by InvoicePayments (invoice_payment.paid, partial payments among them).");

    /** Route ids that carry a redelivery and dead-letter policy; each gets the keys of {@link #routePolicy}. */
    public static final List<String> POLICY_ROUTES = List.of("billing.ledger-posting", "billing.stripe-event",
            "crm.hubspot-event", "crm.salesforce-change-event", "customer.erp-partner-link", "customer.sync",
            "loyalty.event", "loyalty.earning", "loyalty.crm", "consent.apply", "consent.crm-change",
            "consent.mailchimp-event");

    static {
        for (String route : POLICY_ROUTES) {
            routePolicy(route);
        }
    }

    private Settings() {
    }

    /** The redelivery keys of one route, declared on first use: attempts, backoff and jitter. */
    public static RoutePolicySettings routePolicy(String routeId) {
        String p = "interchange.route." + routeId + ".";
        return new RoutePolicySettings(
                declareOnce(p + "max-attempts", "8", false, "Attempts (first try included) for transient failures of route " + routeId + "."),
                declareOnce(p + "initial-delay", "PT1S", false, "First redelivery delay of route " + routeId + "."),
                declareOnce(p + "multiplier", "2.0", false, "Backoff multiplier between redeliveries of route " + routeId + "."),
                declareOnce(p + "max-delay", "PT60S", false, "Longest redelivery delay of route " + routeId + "."),
                declareOnce(p + "jitter", "true", false, "Randomise each delay by +-15% (collision avoidance) on route " + routeId + "."));
    }

    /** The redelivery settings of one route. */
    public record RoutePolicySettings(Setting maxAttempts, Setting initialDelay, Setting multiplier, Setting maxDelay,
                                      Setting jitter) {
    }

    public static List<Setting> all() {
        synchronized (ALL) {
            return Collections.unmodifiableList(new ArrayList<>(ALL.values()));
        }
    }

    public static Setting find(String key) {
        synchronized (ALL) {
            return ALL.get(key);
        }
    }

    private static Setting declare(String key, String def, boolean secret, String description) {
        Setting s = new Setting(key, def, secret, description);
        synchronized (ALL) {
            if (ALL.putIfAbsent(key, s) != null) {
                throw new IllegalStateException("Configuration key declared twice: " + key);
            }
        }
        return s;
    }

    private static Setting declareOnce(String key, String def, boolean secret, String description) {
        synchronized (ALL) {
            return ALL.computeIfAbsent(key, k -> new Setting(k, def, secret, description));
        }
    }
}
