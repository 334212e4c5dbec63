package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The Salesforce peer's protocol as a client sees it, without camel-salesforce: OAuth, query, upsert, Bayeux. */
class SalesforcePeerTest {

    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();
    SalesforcePeer peer;
    String token;

    @BeforeEach
    void start() throws Exception {
        peer = new SalesforcePeer(0, "key", "secret").start();
        peer.holdMillis(100);
        HttpResponse<String> r = token("secret");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode t = JSON.readTree(r.body());
        token = t.path("access_token").asText();
        // camel-salesforce reads the org and user from the identity URL's last two segments, 18 characters each
        assertThat(t.path("id").asText()).matches(".*/id/00D\\w{15}/005\\w{15}");
        assertThat(t.path("instance_url").asText()).isEqualTo(peer.url());
    }

    @AfterEach
    void stop() {
        peer.close();
    }

    @Test
    void aWrongSecretIsRefusedAsSalesforceDoes() throws Exception {
        HttpResponse<String> r = token("wrong");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("invalid_client");
    }

    @Test
    void queriesArePagedAndFiltered() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) ids.add(peer.create("Account", Map.of("Name", "A" + i)));
        peer.delete("Account", ids.get(4));
        peer.pageSize(2);
        JsonNode page = get("/services/data/v59.0/query/?q=" + enc("SELECT Id, Name FROM Account ORDER BY Name"));
        assertThat(page.path("totalSize").asInt()).isEqualTo(4); // query leaves the deleted record out
        List<String> names = new ArrayList<>();
        while (true) {
            page.path("records").forEach(r -> names.add(r.path("Name").asText()));
            assertThat(page.path("records").get(0).path("attributes").path("type").asText()).isEqualTo("Account");
            if (page.path("done").asBoolean()) break;
            page = get(page.path("nextRecordsUrl").asText());
        }
        assertThat(names).containsExactly("A0", "A1", "A2", "A3");
        JsonNode all = get("/services/data/v59.0/queryAll/?q=" + enc("SELECT Id, IsDeleted FROM Account WHERE Id IN ('"
                + ids.get(4) + "', '" + ids.get(0) + "')"));
        assertThat(all.path("totalSize").asInt()).isEqualTo(2);
        String stamp = peer.get("Account", ids.get(2)).get("SystemModstamp").toString();
        JsonNode since = get("/services/data/v59.0/query/?q=" + enc("SELECT Id FROM Account WHERE SystemModstamp >= "
                + stamp.substring(0, 19) + "Z"));
        assertThat(since.path("totalSize").asInt()).isBetween(1, 4);
        HttpResponse<String> bad = send("GET", "/services/data/v59.0/query/?q=" + enc("SELEKT Id FROM Account"), null, null);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).get(0).path("errorCode").asText()).isEqualTo("MALFORMED_QUERY");
    }

    @Test
    void upsertByExternalIdCreatesThenUpdatesAndNamesTheCallerInChangeOrigin() throws Exception {
        ObjectNode body = JSON.createObjectNode().put("allOrNone", false);
        ArrayNode records = body.putArray("records");
        records.addObject().put("Ext_Id__c", "E1").put("Name", "One").putObject("attributes").put("type", "Account");
        records.addObject().put("Ext_Id__c", "E2").put("Name", "Two").putObject("attributes").put("type", "Account");
        JsonNode created = JSON.readTree(send("PATCH", "/services/data/v59.0/composite/sobjects/Account/Ext_Id__c",
                body.toString(), "client=interchange").body());
        assertThat(created).extracting(r -> r.path("created").asBoolean()).containsExactly(true, true);
        ((ObjectNode) records.get(0)).put("Name", "One, renamed");
        JsonNode updated = JSON.readTree(send("PATCH", "/services/data/v59.0/composite/sobjects/Account/Ext_Id__c",
                body.toString(), null).body());
        assertThat(updated).extracting(r -> r.path("created").asBoolean()).containsExactly(false, false);
        assertThat(updated.get(0).path("id").asText()).isEqualTo(created.get(0).path("id").asText());
        assertThat(peer.get("Account", created.get(0).path("id").asText()).get("Name")).isEqualTo("One, renamed");

        // the change events as a subscriber replaying every retained event sees them
        List<JsonNode> events = subscribeAndConnect("/data/AccountChangeEvent", -2);
        assertThat(events).hasSize(4);
        JsonNode first = events.get(0).path("data").path("payload").path("ChangeEventHeader");
        assertThat(first.path("changeType").asText()).isEqualTo("CREATE");
        assertThat(first.path("changeOrigin").asText()).isEqualTo("com/salesforce/api/rest/59.0;client=interchange");
        JsonNode rename = events.get(2).path("data").path("payload").path("ChangeEventHeader");
        assertThat(rename.path("changeType").asText()).isEqualTo("UPDATE");
        assertThat(rename.path("changeOrigin").asText()).isEqualTo("com/salesforce/api/rest/59.0");
        assertThat(rename.path("changedFields").toString()).isEqualTo("[\"Name\",\"LastModifiedDate\"]");

        ArrayNode tooMany = body.putArray("records");
        for (int i = 0; i < 201; i++) tooMany.addObject().put("Ext_Id__c", "X" + i);
        HttpResponse<String> refused = send("PATCH", "/services/data/v59.0/composite/sobjects/Account/Ext_Id__c",
                body.toString(), null);
        assertThat(refused.statusCode()).isEqualTo(400);
    }

    @Test
    void allOrNoneRollsBackTheWholeUpsertWhenOneRecordFails() throws Exception {
        ObjectNode body = JSON.createObjectNode().put("allOrNone", true);
        ArrayNode records = body.putArray("records");
        records.addObject().put("Ext_Id__c", "E1").put("Name", "One").putObject("attributes").put("type", "Account");
        records.addObject().put("Ext_Id__c", "E2").putObject("attributes").put("type", "Account"); // no Name
        JsonNode all = JSON.readTree(send("PATCH", "/services/data/v59.0/composite/sobjects/Account/Ext_Id__c",
                body.toString(), "client=interchange").body());
        assertThat(all).extracting(r -> r.path("success").asBoolean()).containsExactly(false, false);
        assertThat(all.get(0).path("errors").get(0).path("statusCode").asText()).isEqualTo("ALL_OR_NONE_OPERATION_ROLLED_BACK");
        assertThat(all.get(1).path("errors").get(0).path("statusCode").asText()).isEqualTo("REQUIRED_FIELD_MISSING");
        assertThat(peer.all("Account")).isEmpty();
        assertThat(peer.lastReplayId()).isEqualTo(-1); // no change event either

        body.put("allOrNone", false);
        JsonNode some = JSON.readTree(send("PATCH", "/services/data/v59.0/composite/sobjects/Account/Ext_Id__c",
                body.toString(), null).body());
        assertThat(some).extracting(r -> r.path("success").asBoolean()).containsExactly(true, false);
        assertThat(peer.all("Account")).hasSize(1);
        assertThat(peer.writes()).extracting(SalesforcePeer.Write::allOrNone, SalesforcePeer.Write::callOptions)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(true, "client=interchange"),
                        org.assertj.core.groups.Tuple.tuple(false, null));
    }

    @Test
    void aReplayIdPastRetentionIsRefusedWithSalesforcesError() throws Exception {
        peer.create("Account", Map.of("Name", "Old"));
        long old = peer.lastReplayId();
        peer.expireEvents();
        String clientId = handshake();
        JsonNode reply = bayeux(JSON.createArrayNode().add(subscribe(clientId, "/data/AccountChangeEvent", old))).get(0);
        assertThat(reply.path("successful").asBoolean()).isFalse();
        assertThat(reply.path("subscription").asText()).isEqualTo("/data/AccountChangeEvent");
        // the text camel-salesforce matches (SubscriptionHelper.INVALID_REPLAY_ID_PATTERN)
        assertThat(reply.path("error").asText()).matches("400::The replayId \\{" + old + "} you provided was invalid.*")
                .endsWith("-2 to replay all events, or -1 to replay only new events.");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    List<JsonNode> subscribeAndConnect(String channel, long replayId) throws Exception {
        String clientId = handshake();
        JsonNode sub = bayeux(JSON.createArrayNode().add(subscribe(clientId, channel, replayId))).get(0);
        assertThat(sub.path("successful").asBoolean()).as(sub.toString()).isTrue();
        ObjectNode connect = JSON.createObjectNode().put("channel", "/meta/connect").put("clientId", clientId)
                .put("connectionType", "long-polling").put("id", "3");
        List<JsonNode> events = new ArrayList<>();
        bayeux(JSON.createArrayNode().add(connect)).forEach(m -> {
            if (m.path("channel").asText().equals(channel)) events.add(m);
        });
        return events;
    }

    String handshake() throws Exception {
        ObjectNode hs = JSON.createObjectNode().put("channel", "/meta/handshake").put("version", "1.0").put("id", "1");
        hs.putArray("supportedConnectionTypes").add("long-polling");
        hs.putObject("ext").put("replay", true);
        JsonNode reply = bayeux(JSON.createArrayNode().add(hs)).get(0);
        assertThat(reply.path("successful").asBoolean()).isTrue();
        assertThat(reply.path("ext").path("replay").asBoolean()).isTrue();
        return reply.path("clientId").asText();
    }

    static ObjectNode subscribe(String clientId, String channel, long replayId) {
        ObjectNode sub = JSON.createObjectNode().put("channel", "/meta/subscribe").put("clientId", clientId)
                .put("subscription", channel).put("id", "2");
        sub.putObject("ext").putObject("replay").put(channel, replayId);
        return sub;
    }

    JsonNode bayeux(JsonNode messages) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(peer.url() + "/cometd/59.0"))
                .header("Authorization", "OAuth " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(messages.toString())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    JsonNode get(String path) throws Exception {
        HttpResponse<String> r = send("GET", path, null, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    HttpResponse<String> send(String method, String path, String body, String callOptions) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(peer.url() + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (callOptions != null) b.header("Sforce-Call-Options", callOptions);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> token(String secret) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(peer.url() + "/services/oauth2/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=key&client_secret="
                        + secret)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
