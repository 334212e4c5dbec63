package io.interchange.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.interchange.connectors.erp.S4BusinessPartners;
import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.S4BusinessPartnerReplication;
import io.interchange.sandbox.S4HanaPeer;
import io.interchange.sandbox.StripeApiPeer;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.salesforce.SalesforcePeer;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The targets of one customer-sync run, fresh per run, in the harness JVM: the runtime's own simulated Salesforce
 * (accounts, OAuth client credentials, sObject Collections), Stripe (customers), loyalty platform (Voucherify's
 * customers and program members), S/4HANA (asynchronous business partner replication, confirmations posted back to
 * the system under test) and legacy ERP (synchronous customer upsert). Every one answers its API requests after a
 * latency drawn uniformly from {@code [min, max]} (default 20–50 ms, as systems on the internet answer; log-ins and
 * confirmations are not delayed), with enough threads that no variant waits for a peer's thread instead of its answer,
 * and without the loyalty platform's rate limit.
 *
 * <p>Which customers are done is read from the peers themselves, never from the system under test: a new account is
 * done when its Salesforce record holds all three ids and the status {@code synced} (the last write of the sync: the
 * write-back after the ERP partner's confirmation); an edit when the billing customer, the loyalty customer and the
 * ERP partner all took it.
 */
final class CustomerPeers implements AutoCloseable {

    static {
        // as ErpPeer: the JDK's HttpServer without TCP_NODELAY would add the kernel's delayed-ACK timer to answers
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    static final String STRIPE_KEY = "sk_test_bench0123456789abcdefghijkl";
    static final String SF_KEY = "bench-sf-consumer-key";
    static final String SF_SECRET = "bench-sf-consumer-secret";
    static final String LOYALTY_APP = "bench-loyalty-app";
    static final String LOYALTY_TOKEN = "bench-loyalty-token";
    static final String PROGRAM = "camp_bench0123456789abcd";
    static final String ERP_USER = "BENCH_COMM";
    static final String ERP_PASSWORD = "bench-erp-password";
    static final String CONFIRM_USER = "S4HANA";
    static final String CONFIRM_PASSWORD = "bench-confirm-password";
    /** Threads of each REST peer: requests that can wait out their latency at once. */
    private static final int PEER_THREADS = 128;

    final StripeApiPeer stripe;
    final LoyaltyPeer loyalty;
    final SalesforcePeer salesforce;
    final S4HanaPeer s4;
    final LegacyErpPeer legacy;

    CustomerPeers(Duration min, Duration max) throws IOException {
        stripe = (StripeApiPeer) new StripeApiPeer(0, STRIPE_KEY).latency(min, max, PEER_THREADS);
        stripe.start();
        loyalty = (LoyaltyPeer) new LoyaltyPeer(0, LOYALTY_APP, LOYALTY_TOKEN).program(PROGRAM, "Rewards")
                .latency(min, max, PEER_THREADS);
        // Voucherify's limit (2,000 requests a minute, which the peer enforces) would cap any sync at about 16 new
        // members a second (two requests each, three for the runtime, which reads before it adds): lifted here, as
        // the ERPs' rate limits are in the post scenario, so that the sync and not the plan is measured
        loyalty.limitWindow(0, Duration.ofMinutes(1));
        loyalty.start();
        salesforce = new SalesforcePeer(0, SF_KEY, SF_SECRET).latency(min, max).start();
        Map<String, String> companies = new HashMap<>();
        Map<String, String> legacyCompanies = new HashMap<>();
        for (LegalEntity e : LegalEntityTable.load(MappingSource.bundled()).all().values()) {
            companies.put(e.companyCode(), e.currency());
            legacyCompanies.put(e.legacyCompany(), e.currency());
        }
        s4 = new S4HanaPeer(0, ERP_USER, ERP_PASSWORD, companies);
        s4.setLatency(min, max);
        s4.setThreads(PEER_THREADS);
        s4.start();
        legacy = new LegacyErpPeer(0, ERP_USER, ERP_PASSWORD, legacyCompanies);
        legacy.setLatency(min, max);
        legacy.setThreads(PEER_THREADS);
        legacy.start();
    }

    /** S/4HANA posts its partner confirmations to the system under test's endpoint. */
    void confirmTo(int httpPort) {
        s4.businessPartners().confirmTo(URI.create("http://127.0.0.1:" + httpPort
                + "/soap/s4hana/business-partner-confirmation"), CONFIRM_USER, CONFIRM_PASSWORD);
    }

    /** Creates the accounts in Salesforce (as users would; the events they publish there are not read); their ids. */
    List<String> createAccounts(String run, int from, int n) {
        List<String> ids = new java.util.ArrayList<>(n);
        for (int i = from; i < from + n; i++) ids.add(salesforce.create("Account", CustomerChanges.account(run, i)));
        return ids;
    }

    /** True when the account's record holds every target's id and the status synced. */
    static boolean synced(Map<String, Object> account) {
        return account != null && "synced".equals(account.get("Interchange_Sync_Status__c"))
                && account.get("Billing_Customer_Id__c") != null && account.get("ERP_Partner_Number__c") != null
                && account.get("Loyalty_Member_Id__c") != null && account.get("Interchange_Global_Id__c") != null;
    }

    /** How many of these accounts are synced. */
    int syncedCount(Set<String> accounts) {
        int n = 0;
        for (Map<String, Object> a : salesforce.all("Account")) {
            if (accounts.contains((String) a.get("Id")) && synced(a)) n++;
        }
        return n;
    }

    /** The synced accounts among these, by id. */
    Set<String> syncedOf(Set<String> accounts) {
        Set<String> out = new HashSet<>();
        for (Map<String, Object> a : salesforce.all("Account")) {
            String id = (String) a.get("Id");
            if (accounts.contains(id) && synced(a)) out.add(id);
        }
        return out;
    }

    /** The global id written back to each account. */
    Map<String, String> globalIds(Set<String> accounts) {
        Map<String, String> out = new HashMap<>();
        for (Map<String, Object> a : salesforce.all("Account")) {
            String id = (String) a.get("Id");
            if (accounts.contains(id) && a.get("Interchange_Global_Id__c") != null) {
                out.put(id, (String) a.get("Interchange_Global_Id__c"));
            }
        }
        return out;
    }

    /** How many of the customers (global id -> expected phone) have the new phone in every target. */
    int editedCount(Map<String, String> phoneByGlobalId) {
        Map<String, String> billing = new HashMap<>();
        for (JsonNode c : stripe.customers()) {
            String g = c.path("metadata").path("global_customer_id").asText(null);
            if (g != null) billing.put(g, c.path("phone").asText(""));
        }
        Map<String, String> loyal = new HashMap<>();
        for (JsonNode c : loyalty.customers()) loyal.put(c.path("source_id").asText(""), c.path("phone").asText(""));
        Map<String, Integer> s4Saves = new HashMap<>();
        for (S4BusinessPartnerReplication.Partner p : s4.businessPartners().partners()) s4Saves.put(p.senderUuid(), p.saves());
        Map<String, Integer> legacySaves = new HashMap<>();
        for (LegacyErpPeer.Customer c : legacy.customers()) legacySaves.merge(c.externalKey(), c.saves(), Integer::sum);
        int n = 0;
        for (Map.Entry<String, String> e : phoneByGlobalId.entrySet()) {
            String g = e.getKey();
            int erpSaves = Math.max(s4Saves.getOrDefault(S4BusinessPartners.partnerUuid(g), 0), legacySaves.getOrDefault(g, 0));
            if (e.getValue().equals(billing.get(g)) && e.getValue().equals(loyal.get(g)) && erpSaves >= 2) n++;
        }
        return n;
    }

    /** Requests each peer received so far (Salesforce: its REST data requests), for the table. */
    Map<String, Integer> requests() {
        Map<String, Integer> out = new java.util.LinkedHashMap<>();
        out.put("stripe", stripe.requests().size());
        out.put("loyalty", loyalty.requestLog().size());
        out.put("s4", s4.businessPartners().requests());
        out.put("legacy", legacy.requestCount());
        out.put("salesforce", salesforce.writes().size());
        return out;
    }

    /**
     * The end state the sync must leave for these accounts: one billing customer, one loyalty member, one ERP record
     * (an S/4HANA partner, or a legacy ERP customer for GB01) per customer, every one carrying the customer's global id,
     * and their ids written back to the account. Returns a line for the table's checks, ending in "ok" or "MISMATCH".
     */
    String check(Set<String> accounts) {
        Map<String, Map<String, Object>> byId = new HashMap<>();
        for (Map<String, Object> a : salesforce.all("Account")) {
            if (accounts.contains((String) a.get("Id"))) byId.put((String) a.get("Id"), a);
        }
        Map<String, List<JsonNode>> billing = new HashMap<>();
        for (JsonNode c : stripe.customers()) {
            billing.computeIfAbsent(c.path("metadata").path("global_customer_id").asText(""), k -> new java.util.ArrayList<>()).add(c);
        }
        Map<String, String> loyaltyCustomer = new HashMap<>();
        for (JsonNode c : loyalty.customers()) loyaltyCustomer.put(c.path("id").asText(), c.path("source_id").asText(""));
        Map<String, List<String>> members = new HashMap<>();
        for (JsonNode m : loyalty.members()) {
            String g = loyaltyCustomer.get(m.path("holder_id").asText());
            if (g != null) members.computeIfAbsent(g, k -> new java.util.ArrayList<>()).add(m.path("code").asText());
        }
        Map<String, List<String>> partners = new HashMap<>();
        for (S4BusinessPartnerReplication.Partner p : s4.businessPartners().partners()) {
            partners.computeIfAbsent(p.senderUuid(), k -> new java.util.ArrayList<>()).add(p.number());
        }
        Map<String, List<String>> legacyCustomers = new HashMap<>();
        for (LegacyErpPeer.Customer c : legacy.customers()) {
            legacyCustomers.computeIfAbsent(c.externalKey(), k -> new java.util.ArrayList<>()).add(c.number());
        }
        int good = 0;
        String firstBad = null;
        for (String id : accounts) {
            Map<String, Object> a = byId.get(id);
            String problem = null;
            if (!synced(a)) {
                problem = "not synced";
            } else {
                String g = (String) a.get("Interchange_Global_Id__c");
                List<JsonNode> b = billing.getOrDefault(g, List.of());
                List<String> m = members.getOrDefault(g, List.of());
                List<String> erp = "GB01".equals(a.get("Legal_Entity__c")) ? legacyCustomers.getOrDefault(g, List.of())
                        : partners.getOrDefault(S4BusinessPartners.partnerUuid(g), List.of());
                if (b.size() != 1 || !b.get(0).path("id").asText().equals(a.get("Billing_Customer_Id__c"))) {
                    problem = b.size() + " billing customers";
                } else if (m.size() != 1 || !m.get(0).equals(a.get("Loyalty_Member_Id__c"))) {
                    problem = m.size() + " loyalty members";
                } else if (erp.size() != 1 || !erp.get(0).equals(a.get("ERP_Partner_Number__c"))) {
                    problem = erp.size() + " ERP partners (" + erp + " vs " + a.get("ERP_Partner_Number__c") + ")";
                }
            }
            if (problem == null) good++;
            else if (firstBad == null) firstBad = id + ": " + problem;
        }
        return String.format("%d of %d accounts with one billing customer, one loyalty member, one ERP partner and "
                + "their ids written back%s -> %s", good, accounts.size(), firstBad == null ? "" : " (first: " + firstBad + ")",
                good == accounts.size() ? "ok" : "MISMATCH");
    }

    @Override
    public void close() {
        stripe.close();
        loyalty.close();
        salesforce.close();
        s4.close();
        legacy.close();
    }
}
