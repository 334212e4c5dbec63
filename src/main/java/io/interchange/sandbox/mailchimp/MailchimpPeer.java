package io.interchange.sandbox.mailchimp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.mailchimp.MailchimpMembers;
import io.interchange.connectors.rest.FormBody;
import io.interchange.sandbox.rest.RestPeerSupport;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The e-mail marketing platform for the sandbox and the tests, speaking Mailchimp Marketing API v3 as documented:
 * HTTP Basic with any user name and the API key as password (401 otherwise), errors as problem documents
 * ({@code type}, {@code title}, {@code status}, {@code detail}, {@code instance}), audience members named by subscriber
 * hash (MD5 of the lower-cased e-mail): {@code GET}, {@code PATCH} ({@code status}) and {@code PUT} (add or update,
 * {@code email_address}, {@code status_if_new}) on {@code /3.0/lists/{list_id}/members/{subscriber_hash}}, and
 * {@code GET /3.0/ping}.
 *
 * <p>With {@link #sendWebhooks} it posts the audience webhook on every status change, as Mailchimp does: a form
 * ({@code type} {@code subscribe}/{@code unsubscribe}, {@code fired_at} {@code YYYY-MM-DD HH:MM:SS} UTC,
 * {@code data[id]}, {@code data[list_id]}, {@code data[email]}, {@code data[email_type]}, {@code data[web_id]},
 * {@code data[reason]} and {@code data[action]} for an unsubscribe) to the registered URL, which carries the secret;
 * changes made through the API are sent too (the webhook's {@code api} source on). Like Mailchimp it signs nothing.
 */
public final class MailchimpPeer extends RestPeerSupport {

    private static final Pattern MEMBER = Pattern.compile("/3\\.0/lists/([^/]+)/members/([0-9a-f]{32})");
    private static final DateTimeFormatter FIRED_AT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneOffset.UTC);

    private final String apiKey;
    private final Map<String, ObjectNode> members = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private volatile URI webhookUrl;
    private final List<Integer> webhookAnswers = new java.util.concurrent.CopyOnWriteArrayList<>();

    public MailchimpPeer(int port, String apiKey) throws IOException {
        super("mailchimp", port);
        this.apiKey = apiKey;
    }

    @Override
    public MailchimpPeer start() {
        super.start();
        return this;
    }

    /** Posts the audience webhook to {@code url} (which carries the secret) on each status change. */
    public MailchimpPeer sendWebhooks(URI url) {
        this.webhookUrl = url;
        return this;
    }

    /** The HTTP statuses the webhook deliveries were answered with, in order. */
    public List<Integer> webhookAnswers() {
        return List.copyOf(webhookAnswers);
    }

    /** Adds a subscribed member (as a sign-up form would), without a webhook; answers its subscriber hash. */
    public String subscribe(String listId, String email) {
        String hash = MailchimpMembers.subscriberHash(email);
        members.put(listId + "/" + hash, member(listId, email, "subscribed"));
        return hash;
    }

    /**
     * The contact signs up through the audience's form (or subscribes again): a new member subscribed, or a member's
     * status changed to subscribed, and the {@code subscribe} webhook sent. Answers the subscriber hash.
     */
    public String subscribeByUser(String listId, String email, Instant at) {
        String hash = MailchimpMembers.subscriberHash(email);
        if (members.putIfAbsent(listId + "/" + hash, member(listId, email, "subscribed")) == null) {
            members.get(listId + "/" + hash).put("last_changed", at.toString());
            notify(listId, hash, "subscribed", at, "signup");
        } else {
            change(listId, hash, "subscribed", at, "signup");
        }
        return hash;
    }

    /** The member's status now, or null. */
    public String status(String listId, String email) {
        ObjectNode m = members.get(listId + "/" + MailchimpMembers.subscriberHash(email));
        return m == null ? null : m.path("status").asText();
    }

    /** The contact unsubscribes through the link of a campaign: status changed and the webhook sent. */
    public void unsubscribeByUser(String listId, String email, Instant at) {
        change(listId, MailchimpMembers.subscriberHash(email), "unsubscribed", at, "unsub");
    }

    @Override
    protected boolean authenticated(Request request) {
        String a = request.header("Authorization");
        if (a == null || !a.startsWith("Basic ")) return false;
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(a.substring(6).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = decoded.indexOf(':');
        return colon >= 0 && MessageDigest.isEqual(apiKey.getBytes(StandardCharsets.UTF_8),
                decoded.substring(colon + 1).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    protected Answer handle(Request request) throws IOException {
        if ("/3.0/ping".equals(request.path())) return Answer.json(200, JSON.createObjectNode().put("health_status", "Everything's Chimpy!"));
        Matcher m = MEMBER.matcher(request.path());
        if (!m.matches()) return error(404, null, "The requested resource could not be found.");
        String list = m.group(1);
        String hash = m.group(2);
        ObjectNode member = members.get(list + "/" + hash);
        switch (request.method()) {
            case "GET" -> {
                return member == null ? error(404, null, "The requested resource could not be found.")
                        : Answer.json(200, member.deepCopy());
            }
            case "PATCH", "PUT" -> {
                JsonNode body = request.json();
                if (body == null || !body.isObject()) return error(400, null, "The request body is not a JSON object.");
                String status = body.path("status").asText(null);
                if (member == null) {
                    if (!"PUT".equals(request.method())) return error(404, null, "The requested resource could not be found.");
                    String email = body.path("email_address").asText("");
                    if (!MailchimpMembers.subscriberHash(email).equals(hash)) {
                        return error(400, null, "The subscriber hash does not match email_address.");
                    }
                    String initial = body.path("status_if_new").asText(status == null ? "subscribed" : status);
                    members.put(list + "/" + hash, member(list, email, initial));
                    return Answer.json(200, members.get(list + "/" + hash).deepCopy());
                }
                if (status != null) {
                    if (!List.of("subscribed", "unsubscribed", "cleaned", "pending", "transactional").contains(status)) {
                        return error(400, null, "Invalid Resource: status '" + status + "' is not valid.");
                    }
                    if ("cleaned".equals(member.path("status").asText()) && !"cleaned".equals(status)) {
                        return error(400, null, "Member In Compliance State: a cleaned address cannot be changed.");
                    }
                    change(list, hash, status, Instant.now(), "api");
                }
                return Answer.json(200, members.get(list + "/" + hash).deepCopy());
            }
            default -> {
                return error(405, null, "Method not allowed.");
            }
        }
    }

    private void change(String list, String hash, String status, Instant at, String action) {
        ObjectNode member = members.get(list + "/" + hash);
        if (member == null) throw new IllegalArgumentException("no member " + hash + " in " + list);
        String before = member.path("status").asText();
        member.put("status", status).put("last_changed", at.toString());
        if (before.equals(status)) return;
        notify(list, hash, status, at, action);
    }

    /** The audience webhook of a member's status change, posted if webhooks are on. */
    private void notify(String list, String hash, String status, Instant at, String action) {
        ObjectNode member = members.get(list + "/" + hash);
        if (webhookUrl == null) return;
        Map<String, Object> form = new LinkedHashMap<>();
        form.put("type", "subscribed".equals(status) ? "subscribe" : "unsubscribe");
        form.put("fired_at", FIRED_AT.format(at));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("id", member.path("id").asText());
        data.put("list_id", list);
        data.put("email", member.path("email_address").asText());
        data.put("email_type", "html");
        data.put("web_id", member.path("web_id").asText());
        if (!"subscribed".equals(status)) {
            data.put("action", "unsub");
            data.put("reason", "api".equals(action) ? "manual" : action);
        }
        data.put("merges", Map.of("EMAIL", member.path("email_address").asText()));
        form.put("data", data);
        String body = FormBody.of(form).text();
        try {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(webhookUrl).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("User-Agent", "MailChimp")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            webhookAnswers.add(answer.statusCode());
        } catch (IOException | InterruptedException e) {
            webhookAnswers.add(-1);
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
        }
    }

    private ObjectNode member(String list, String email, String status) {
        ObjectNode m = JSON.createObjectNode();
        m.put("id", MailchimpMembers.subscriberHash(email)).put("email_address", email)
                .put("unique_email_id", Long.toHexString(Double.doubleToLongBits(Math.random())))
                .put("web_id", Math.abs(email.hashCode() % 1_000_000)).put("email_type", "html")
                .put("status", status).put("list_id", list).put("last_changed", Instant.now().toString());
        m.putObject("merge_fields");
        return m;
    }

    @Override
    protected Answer error(int status, String code, String message) {
        ObjectNode e = JSON.createObjectNode();
        e.put("type", "https://mailchimp.com/developer/marketing/docs/errors/")
                .put("title", code != null ? code : switch (status) {
                    case 400 -> "Invalid Resource";
                    case 401 -> "API Key Invalid";
                    case 404 -> "Resource Not Found";
                    case 405 -> "Method Not Allowed";
                    case 429 -> "Too Many Requests";
                    default -> "Internal Server Error";
                }).put("status", status).put("detail", message).put("instance", java.util.UUID.randomUUID().toString());
        return new Answer(status, e, null, "application/problem+json", Map.of());
    }

    /** Every member, for tests. */
    public List<ObjectNode> members() {
        return new ArrayList<>(members.values());
    }
}
