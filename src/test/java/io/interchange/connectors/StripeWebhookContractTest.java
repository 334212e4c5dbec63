package io.interchange.connectors;

import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The billing edge (Stripe-format webhooks) under the inbound connector contract. */
class StripeWebhookContractTest extends InboundWebhookContract {

    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.flows", "billing-webhook"));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Override
    protected RuntimeKit kit() {
        return kit;
    }

    @Override
    protected String path() {
        return "/webhooks/billing";
    }

    @Override
    protected String flow() {
        return "billing-webhook";
    }

    @Override
    protected String routeId() {
        return "billing.webhook-ingest";
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.billing.webhook-secret", "interchange.billing.signature-tolerance",
                "interchange.billing.livemode", "interchange.billing.api-version", "interchange.billing.api-url",
                "interchange.billing.api-key", "interchange.billing.api-timeout", "interchange.billing.api-max-rate",
                "interchange.billing.topic");
    }

    @Override
    protected List<String> mappings() {
        return List.of("stripe/normalise-2024", "stripe/normalise-basil", "stripe/invoice", "stripe/payment",
                "stripe/invoice-payment", "stripe/refund", "stripe/credit-note", "stripe/dispute");
    }

    @Override
    protected int signatureRefusal() {
        // Stripe takes any 4xx as a failed delivery; the billing edge has always answered 400
        return 400;
    }

    @Override
    protected byte[] genuineBody() {
        return Events.bytes(Events.invoicePaid("DE01"));
    }

    @Override
    protected List<String> keys(byte[] body) throws Exception {
        return List.of("billing:stripe:" + JSON.readTree(body).path("id").asText());
    }

    @Override
    protected Map<String, String> signed(byte[] body, Instant at, String secret) throws Exception {
        return Map.of("Content-Type", "application/json; charset=utf-8",
                "Stripe-Signature", RuntimeKit.sign(secret, at.getEpochSecond(), body));
    }

    @Override
    protected String secret() {
        return RuntimeKit.SECRET;
    }
}
