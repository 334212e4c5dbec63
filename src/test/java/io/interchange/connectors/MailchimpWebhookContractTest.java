package io.interchange.connectors;

import io.interchange.connectors.mailchimp.MailchimpMembers;
import io.interchange.connectors.mailchimp.MailchimpWebhook;
import io.interchange.connectors.rest.FormBody;
import io.interchange.sandbox.mailchimp.MailchimpPeer;
import io.interchange.testkit.Databases;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mailchimp's webhooks (POST /webhooks/mailchimp, form-encoded, authenticated by the secret in the registered URL since
 * Mailchimp signs nothing) under the inbound connector contract. What differs from the other edges: the secret travels
 * in the query string, not a header, and a GET of the path is Mailchimp's URL validation, answered 200.
 */
class MailchimpWebhookContractTest extends InboundWebhookContract {

    static final String SECRET = "mailchimp-secret-" + UUID.randomUUID();
    static final String LIST = "c0ntract01";
    /** The marker header {@link #signed} sets and {@link #post} moves into the query string, as Mailchimp sends it. */
    static final String SECRET_MARKER = "X-Test-Url-Secret";
    static final DateTimeFormatter FIRED_AT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
    static final AtomicLong SECONDS = new AtomicLong(Instant.parse("2026-01-01T00:00:00Z").getEpochSecond());
    static MailchimpPeer mailchimp;
    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        String apiKey = UUID.randomUUID().toString().replace("-", "") + "-us21";
        mailchimp = new MailchimpPeer(0, apiKey).start();
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.flows", "consent",
                "interchange.mailchimp.api-url", mailchimp.url(), "interchange.mailchimp.api-key", apiKey,
                "interchange.mailchimp.list-id", LIST, "interchange.mailchimp.webhook-secret", SECRET));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
        if (mailchimp != null) mailchimp.close();
    }

    @Override
    protected RuntimeKit kit() {
        return kit;
    }

    @Override
    protected String path() {
        return MailchimpWebhook.PATH;
    }

    @Override
    protected String flow() {
        return "consent";
    }

    @Override
    protected String routeId() {
        return MailchimpWebhook.ROUTE_ID;
    }

    @Override
    protected List<String> settings() {
        return List.of("interchange.mailchimp.webhook-secret", "interchange.mailchimp.list-id",
                "interchange.consent.topic");
    }

    @Override
    protected List<String> mappings() {
        return List.of(); // the few form fields are read by the source itself (MailchimpWebhook)
    }

    @Override
    protected int signatureRefusal() {
        return 401;
    }

    @Override
    protected boolean signaturesCarryTime() {
        return false; // a URL secret carries no time: a replay is the idempotency key's to absorb
    }

    @Override
    protected byte[] malformedBody() {
        return "type=unsubscribe&fired_at=%zz".getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected String malformedReason() {
        return "malformed form body";
    }

    @Override
    protected Map<String, String> unsigned() {
        return Map.of("Content-Type", "application/x-www-form-urlencoded");
    }

    /** An unsubscribe of a new member of a customer (linked in the cross-reference), fired at a time not used before. */
    @Override
    protected byte[] genuineBody() {
        String email = "m-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        String globalId = kit.runtime.store().crossReferences().mint();
        kit.runtime.store().crossReferences().link(globalId, "mailchimp", LIST, MailchimpMembers.subscriberHash(email));
        Map<String, Object> form = new LinkedHashMap<>();
        form.put("type", "unsubscribe");
        form.put("fired_at", FIRED_AT.format(Instant.ofEpochSecond(SECONDS.incrementAndGet())));
        form.put("data", Map.of("action", "unsub", "reason", "manual", "email", email, "list_id", LIST));
        return FormBody.of(form).text().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected List<String> keys(byte[] body) {
        Map<String, String> form = FormBody.parse(new String(body, StandardCharsets.UTF_8));
        return List.of("consent:mailchimp:" + form.get("type") + ":" + form.get("data[list_id]") + ":"
                + MailchimpMembers.subscriberHash(form.get("data[email]")) + ":" + form.get("fired_at").replace(' ', 'T'));
    }

    @Override
    protected Map<String, String> signed(byte[] body, Instant at, String secret) {
        return Map.of("Content-Type", "application/x-www-form-urlencoded", SECRET_MARKER, secret);
    }

    @Override
    protected String secret() {
        return SECRET;
    }

    /** Mailchimp sends the secret as part of the URL it was given: {@code ?secret=...}. */
    @Override
    protected HttpResponse<String> post(byte[] body, Map<String, String> headers) throws Exception {
        Map<String, String> sent = new HashMap<>(headers);
        String secret = sent.remove(SECRET_MARKER);
        String path = secret == null ? path() : path() + "?secret=" + java.net.URLEncoder.encode(secret, StandardCharsets.UTF_8);
        return kit.post(path, body, sent);
    }

    /** Mailchimp validates a webhook URL with a GET, which is answered 200; other methods are 405. */
    @Test
    @Order(9)
    @Override
    void anotherMethodOnItsPathIs405WithAllowPost() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create("http://127.0.0.1:" + kit.httpPort + path());
        assertThat(http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).as("Mailchimp's URL validation").isEqualTo(200);
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(uri).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(405);
        assertThat(JSON.readTree(put.body()).path("reason").asText()).contains("POST");
    }
}
