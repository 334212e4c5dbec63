package io.interchange.testkit;

import io.interchange.sandbox.StripeApiPeer;
import io.interchange.sandbox.hubspot.HubSpotPeer;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.salesforce.SalesforcePeer;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The customer sync's peers for a test (Salesforce, HubSpot, the billing platform's API, the loyalty platform), with
 * fresh credentials, and the settings that point flows crm-hubspot, crm-salesforce and customer-sync at them.
 */
public final class CustomerPeers implements AutoCloseable {

    public static final String CONFIRM_USER = "S4HANA";
    /** The HubSpot portal's marketing subscription type, the one consent is written to. */
    public static final String HUBSPOT_SUBSCRIPTION = "12345678";
    public final String hubSpotSecret = "hubspot-client-secret-" + UUID.randomUUID();
    public final String stripeKey = "sk_test_" + UUID.randomUUID().toString().replace("-", "");
    public final String confirmPassword = "confirm-" + UUID.randomUUID();
    private final String hubSpotToken = "pat-na1-" + UUID.randomUUID();
    private final String sfKey = "sf-key-" + UUID.randomUUID();
    private final String sfSecret = "sf-secret-" + UUID.randomUUID();
    private final String loyaltyApp = "app-" + UUID.randomUUID();
    private final String loyaltyToken = "token-" + UUID.randomUUID();
    private final String program = "camp_" + UUID.randomUUID().toString().replace("-", "").substring(0, 20);

    public final StripeApiPeer stripe;
    public final HubSpotPeer hubSpot;
    public final LoyaltyPeer loyalty;
    public final SalesforcePeer salesforce;

    public CustomerPeers() throws Exception {
        stripe = new StripeApiPeer(0, stripeKey).start();
        hubSpot = new HubSpotPeer(0).privateApp(hubSpotToken).subscriptionType(HUBSPOT_SUBSCRIPTION, "Marketing Information")
                .start();
        loyalty = new LoyaltyPeer(0, loyaltyApp, loyaltyToken).program(program, "Rewards").start();
        salesforce = new SalesforcePeer(0, sfKey, sfSecret).start();
    }

    /** The runtime's settings for the three flows against these peers, with fast retries. */
    public Map<String, String> settings() {
        Map<String, String> s = new HashMap<>();
        s.put("interchange.flows", "crm-hubspot,crm-salesforce,customer-sync");
        s.put("interchange.salesforce.login-url", salesforce.url());
        s.put("interchange.salesforce.consumer-key", sfKey);
        s.put("interchange.salesforce.consumer-secret", sfSecret);
        s.put("interchange.salesforce.rewind-delay", "PT0.2S");
        s.put("interchange.hubspot.client-secret", hubSpotSecret);
        s.put("interchange.hubspot.api-url", hubSpot.url());
        s.put("interchange.hubspot.access-token", hubSpotToken);
        s.put("interchange.hubspot.consent-subscription-id", HUBSPOT_SUBSCRIPTION);
        s.put("interchange.billing.api-url", stripe.url());
        s.put("interchange.billing.api-key", stripeKey);
        s.put("interchange.loyalty.api-url", loyalty.url());
        s.put("interchange.loyalty.app-id", loyaltyApp);
        s.put("interchange.loyalty.app-token", loyaltyToken);
        s.put("interchange.loyalty.campaign-id", program);
        s.put("interchange.loyalty.api-max-rate", "200");
        s.put("interchange.erp.s4.confirmation-user", CONFIRM_USER);
        s.put("interchange.erp.s4.confirmation-password", confirmPassword);
        s.put("interchange.route.customer.sync.initial-delay", "PT0.1S");
        s.put("interchange.route.customer.sync.max-delay", "PT0.5S");
        return s;
    }

    /**
     * Points the simulated S/4HANA's partner confirmations at the runtime of {@code kit}, and waits until that runtime
     * has subscribed to both change-event channels: a record made in Salesforce before then would make an event the
     * runtime, subscribing for new events only, never sees.
     */
    public void confirmTo(RuntimeKit kit) {
        kit.s4.businessPartners().confirmTo(URI.create("http://127.0.0.1:" + kit.httpPort
                + "/soap/s4hana/business-partner-confirmation"), CONFIRM_USER, confirmPassword);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> salesforce.subscriptions()
                .containsAll(java.util.List.of("/data/AccountChangeEvent", "/data/ContactChangeEvent")));
    }

    @Override
    public void close() {
        for (AutoCloseable peer : new AutoCloseable[]{stripe, hubSpot, loyalty, salesforce}) {
            try {
                peer.close();
            } catch (Exception ignored) {
                // the next peer is closed all the same
            }
        }
    }
}
