package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /v1/customers} as Stripe documents its list endpoints: a list object ({@code object: list},
 * {@code data}, {@code has_more}, {@code url}), newest first, {@code limit} 1 to 100, the next page
 * {@code starting_after} the last customer of the one before, {@code created[lt]} filtering, and customers created
 * through {@code POST /v1/customers} listed with those put.
 */
class StripeCustomerListTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String KEY = "sk_test_customers";
    private StripeApiPeer peer;

    @BeforeEach
    void start() throws Exception {
        peer = new StripeApiPeer(0, KEY).start();
        for (int i = 1; i <= 5; i++) {
            peer.putCustomer(JSON.createObjectNode().put("id", "cus_" + i).put("object", "customer")
                    .put("created", 1_700_000_000L + i).put("email", "c" + i + "@example.com"));
        }
    }

    @AfterEach
    void stop() {
        peer.close();
    }

    @Test
    void everyCustomerIsListedOnceNewestFirstAcrossPages() throws Exception {
        List<String> ids = new ArrayList<>();
        String after = null;
        int pages = 0;
        while (true) {
            JsonNode list = get("/v1/customers?limit=2" + (after == null ? "" : "&starting_after=" + after));
            pages++;
            assertThat(list.path("object").asText()).isEqualTo("list");
            assertThat(list.path("url").asText()).isEqualTo("/v1/customers");
            list.path("data").forEach(c -> ids.add(c.path("id").asText()));
            if (!list.path("has_more").asBoolean()) break;
            after = ids.get(ids.size() - 1);
        }
        assertThat(ids).containsExactly("cus_5", "cus_4", "cus_3", "cus_2", "cus_1");
        assertThat(pages).isEqualTo(3);
    }

    @Test
    void aCreatedRangeAndCustomersCreatedThroughTheApiAreListed() throws Exception {
        HttpResponse<String> created = HTTP.send(HttpRequest.newBuilder(URI.create(peer.url() + "/v1/customers"))
                .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("email=new%40example.com")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).isEqualTo(200);

        JsonNode old = get("/v1/customers?limit=100&created%5Blt%5D=" + (1_700_000_000L + 3));
        JsonNode all = get("/v1/customers?limit=100");

        assertThat(old.path("data")).extracting(c -> c.path("id").asText()).containsExactly("cus_2", "cus_1");
        assertThat(all.path("data")).hasSize(6);
        assertThat(all.path("data").get(0).path("email").asText()).isEqualTo("new@example.com");
    }

    @Test
    void anUnknownStartingAfterIsStripesResourceMissing() throws Exception {
        HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(URI.create(peer.url()
                + "/v1/customers?starting_after=cus_nope")).header("Authorization", "Bearer " + KEY).GET().build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(answer.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(answer.body()).path("error").path("code").asText()).isEqualTo("resource_missing");
    }

    private JsonNode get(String pathAndQuery) throws Exception {
        HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(URI.create(peer.url() + pathAndQuery))
                .header("Authorization", "Bearer " + KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body());
    }
}
