package io.interchange.hostile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RawHttp;
import io.interchange.testkit.RuntimeKit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sends every entry of {@code corpus/billing-webhook.jsonl} (see {@link CorpusGenerator}) to a running runtime and
 * checks each answer, then that nothing was left half-way: no idempotency key or Kafka record for a refused webhook;
 * nothing at all kept for an ignored one; for a parked one exactly one open dead letter of {@code billing.stripe-event}
 * with its raw body and reason, and no Kafka record or idempotency key; a ledger dead letter with its reason for each
 * accepted one that cannot be posted, every other accepted one posted; and no 5xx, crash or hang. Every refusal,
 * the HTTP server's own included (404, 405, 413, 431), is JSON with a reason; those the server gives itself are
 * always received in full, and the connection is closed only with {@code Connection: close}. All violations are
 * collected and reported together.
 */
class HostileWebhookCorpusTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);
    private static final String WRONG_SECRET = "whsec_wrong_" + RuntimeKit.SECRET.substring(11);
    private static final String DEFAULT_CONTENT_TYPE = "application/json; charset=utf-8";
    private static final String BILLING_TOPIC = "interchange.billing.v1";
    /** Where a parked event is kept (and replayed from). */
    private static final String PARKED_ROUTE = "billing.stripe-event";
    /** Where an accepted event that cannot be posted is dead-lettered. */
    private static final String LEDGER_ROUTE = "billing.ledger-posting";
    /** A refusal says why in a sentence or two; it never echoes the input back. */
    private static final int MAX_ANSWER_CHARS = 2000;

    /** One corpus entry as sent, and what came back. */
    private record Sent(JsonNode entry, byte[] body, String signatureHeader, int status, String answer, JsonNode json,
                        String failure, long millis, String connectionProblem) {
        String name() {
            return entry.path("name").asText();
        }

        String expect() {
            return entry.path("expect").asText();
        }

        String eventId() {
            return entry.hasNonNull("eventId") ? entry.get("eventId").asText() : null;
        }
    }

    private final List<String> violations = new ArrayList<>();

    @Test
    void everyHostileWebhookIsRefusedWithAReasonOrDeadLetteredAndNothingIsLeftHalfWay() throws Exception {
        List<JsonNode> corpus = Corpus.load(CorpusGenerator.WEBHOOK_RESOURCE);
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(1000);
        long started = System.nanoTime();
        try (RuntimeKit kit = RuntimeKit.start(Databases.Backend.H2, Map.of())) {
            HttpClient shared = client();
            Map<String, Sent> byName = new HashMap<>();
            List<Sent> sent = new ArrayList<>();
            for (JsonNode entry : corpus) {
                Sent s = send(kit, entry, byName, shared);
                byName.put(s.name(), s);
                sent.add(s);
                checkAnswer(s);
            }
            long sentAt = System.nanoTime();

            Set<String> acceptedIds = new HashSet<>();
            Map<String, Sent> deadLetterExpected = new LinkedHashMap<>();
            Map<String, List<Sent>> parkedExpected = new LinkedHashMap<>();
            Set<String> ignoredIds = new HashSet<>();
            Set<String> refusedIds = new HashSet<>();
            for (Sent s : sent) {
                String id = s.eventId();
                if (id == null) continue;
                switch (s.expect()) {
                    case "accepted" -> acceptedIds.add(id);
                    case "accepted-then-dead-letter" -> {
                        acceptedIds.add(id);
                        deadLetterExpected.put(id, s);
                    }
                    case "parked" -> parkedExpected.computeIfAbsent(id, k -> new ArrayList<>()).add(s);
                    case "ignored" -> ignoredIds.add(id);
                    default -> refusedIds.add(id);
                }
            }
            // parked and ignored events are acknowledged, but nothing of them may be published or marked done
            Set<String> unpublishedIds = new HashSet<>(ignoredIds);
            unpublishedIds.addAll(parkedExpected.keySet());
            for (String id : unpublishedIds) {
                if (acceptedIds.contains(id)) throw new IllegalStateException("event " + id + " is expected both accepted and not");
            }
            refusedIds.removeAll(acceptedIds); // a refused replay of an accepted event carries an accepted id
            refusedIds.removeAll(unpublishedIds); // and of a parked one, a parked id
            Set<String> postedIds = new HashSet<>();
            for (Sent s : sent) {
                if (s.expect().equals("accepted") && "accepted".equals(s.entry().path("expectOutcome").asText())
                        && !"invoice.payment_failed".equals(typeOf(s.body()))) {
                    postedIds.add(s.eventId());
                }
            }

            checkDeadLetters(kit, deadLetterExpected);
            checkParked(kit, parkedExpected);
            checkPostings(kit, postedIds);
            checkKafka(kit, acceptedIds, refusedIds, unpublishedIds);
            checkIdempotencyKeys(kit, acceptedIds, refusedIds, unpublishedIds);
            checkStillServing(kit);

            long refused = sent.stream().filter(s -> s.status() >= 400 && s.status() < 500).count();
            Map<String, Integer> byExpectation = new TreeMap<>();
            sent.forEach(s -> byExpectation.merge(s.expect(), 1, Integer::sum));
            long fiveXx = sent.stream().filter(s -> s.status() >= 500).count();
            long noAnswer = sent.stream().filter(s -> s.failure() != null).count();
            long httpLayer = sent.stream().filter(s -> s.entry().path("httpLayer").asBoolean()).count();
            Map<String, Integer> byStatus = new TreeMap<>();
            Map<String, Integer> byCategory = new TreeMap<>();
            sent.forEach(s -> byStatus.merge(s.failure() != null ? "no answer" : String.valueOf(s.status()), 1, Integer::sum));
            sent.forEach(s -> byCategory.merge(s.entry().path("category").asText(), 1, Integer::sum));
            Sent slowest = sent.stream().max((a, b) -> Long.compare(a.millis(), b.millis())).orElseThrow();
            System.out.printf("hostile inputs: %d sent, %d refused 4xx, %d ignored, %d parked (%d events), %d dead-lettered "
                            + "by the ledger, %d 5xx%n", sent.size(), refused,
                    sent.stream().filter(s -> s.json() != null && "ignored".equals(s.json().path("status").asText())).count(),
                    sent.stream().filter(s -> s.json() != null && "parked".equals(s.json().path("status").asText())).count(),
                    parkedExpected.size(), deadLetterExpected.size(), fiveXx);
            System.out.printf("  expected %s%n", byExpectation);
            System.out.printf("  answers by status %s; %d without an answer; %d refused by the HTTP server itself "
                            + "(404/405/413/431, each on a connection of its own); %d accepted as valid or duplicates%n",
                    byStatus, noAnswer, httpLayer, sent.stream().filter(s -> s.expect().equals("accepted")).count());
            System.out.printf("  categories %s%n", byCategory);
            System.out.printf("  sending took %d ms (slowest %s: %d ms), checks %d ms; %d violation(s)%n",
                    (sentAt - started) / 1_000_000, slowest.name(), slowest.millis(),
                    (System.nanoTime() - sentAt) / 1_000_000, violations.size());
        }
        assertThat(violations).as(violations.size() + " violation(s):\n" + String.join("\n", violations)).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------- sending

    private Sent send(RuntimeKit kit, JsonNode entry, Map<String, Sent> earlier, HttpClient shared) throws Exception {
        Sent replayed = entry.has("replayOf") ? earlier.get(entry.get("replayOf").asText()) : null;
        if (entry.has("replayOf") && replayed == null) {
            throw new IllegalStateException(entry.path("name").asText() + ": replayOf names no earlier entry");
        }
        byte[] body = entry.has("bodyBase64") || entry.has("bodyRecipe") ? Corpus.body(entry) : replayed.body();
        String signature = signature(entry, body, replayed);
        if (entry.path("httpLayer").asBoolean()) return sendRaw(kit, entry, body, signature);
        HttpRequest request = request(kit, entry, body, signature);
        HttpClient client = shared;
        long t0 = System.nanoTime();
        HttpResponse<String> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            return new Sent(entry, body, signature, -1, null, null, "no answer within " + REQUEST_TIMEOUT + " (hang)",
                    (System.nanoTime() - t0) / 1_000_000, null);
        } catch (IOException e) {
            // a pooled connection that went stale: once more on a fresh connection
            try {
                response = client().send(request, HttpResponse.BodyHandlers.ofString());
            } catch (IOException again) {
                return new Sent(entry, body, signature, -1, null, null, "no answer: " + again,
                        (System.nanoTime() - t0) / 1_000_000, null);
            }
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        JsonNode json = null;
        try {
            json = JSON.readTree(response.body());
        } catch (IOException ignored) {
            // checked by the caller
        }
        return new Sent(entry, body, signature, response.statusCode(), response.body(), json, null, millis, null);
    }

    /**
     * An entry the HTTP server itself refuses goes byte for byte on a connection of its own ({@link RawHttp}), so that
     * what a library client hides is checked too: the answer arrives although the request may still be being written,
     * and the server closes the connection only with {@code Connection: close} on its answer.
     */
    private static Sent sendRaw(RuntimeKit kit, JsonNode entry, byte[] body, String signature) {
        List<String[]> headers = new ArrayList<>();
        JsonNode h = entry.path("headers");
        if (!h.has("Content-Type")) headers.add(new String[]{"Content-Type", DEFAULT_CONTENT_TYPE});
        for (Iterator<Map.Entry<String, JsonNode>> it = h.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue().isNull()) continue;
            headers.add(new String[]{e.getKey(), e.getValue().isObject()
                    ? new String(CorpusGenerator.build(e.getValue()), StandardCharsets.UTF_8) : e.getValue().asText()});
        }
        if (signature != null) headers.add(new String[]{"Stripe-Signature", signature});
        long t0 = System.nanoTime();
        RawHttp.Answer a = RawHttp.send(kit.httpPort, entry.path("method").asText("POST"),
                entry.path("path").asText("/webhooks/billing"), headers, body, entry.path("chunked").asBoolean(),
                REQUEST_TIMEOUT, Duration.ofMillis(200));
        long millis = (System.nanoTime() - t0) / 1_000_000;
        if (a.failure() != null) return new Sent(entry, body, signature, -1, null, null, a.failure(), millis, null);
        String connection = null;
        if (a.writeFailure() != null) {
            connection = "answered, but the request could not be written to its end: " + a.writeFailure();
        } else if (a.closedByServer() && !a.announcedClose()) {
            connection = "the server closed the connection without Connection: close";
        } else if (a.announcedClose() && !a.closedByServer()) {
            connection = "Connection: close announced, but the server kept the connection open";
        }
        JsonNode json = null;
        try {
            json = JSON.readTree(a.body());
        } catch (IOException ignored) {
            // checked by the caller
        }
        return new Sent(entry, body, signature, a.status(), a.bodyText(), json, null, millis, connection);
    }

    private static HttpRequest request(RuntimeKit kit, JsonNode entry, byte[] body, String signature) {
        String path = entry.path("path").asText("/webhooks/billing");
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + kit.httpPort + path))
                .timeout(REQUEST_TIMEOUT);
        JsonNode headers = entry.path("headers");
        if (!headers.has("Content-Type")) b.header("Content-Type", DEFAULT_CONTENT_TYPE);
        for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> h = it.next();
            if (h.getValue().isNull()) continue;
            b.header(h.getKey(), h.getValue().isObject()
                    ? new String(CorpusGenerator.build(h.getValue()), StandardCharsets.UTF_8) : h.getValue().asText());
        }
        if (signature != null) b.header("Stripe-Signature", signature);
        HttpRequest.BodyPublisher publisher = entry.path("chunked").asBoolean()
                ? HttpRequest.BodyPublishers.ofInputStream(() -> (InputStream) new ByteArrayInputStream(body))
                : HttpRequest.BodyPublishers.ofByteArray(body);
        b.method(entry.path("method").asText("POST"), publisher);
        return b.build();
    }

    /** The Stripe-Signature header for the entry's sign mode, computed now so that timestamps are fresh. */
    private static String signature(JsonNode entry, byte[] body, Sent replayed) throws Exception {
        long now = Instant.now().getEpochSecond();
        String mode = entry.path("sign").asText();
        return switch (mode) {
            case "valid", "stale", "future" -> {
                long defaultOffset = mode.equals("stale") ? -600 : mode.equals("future") ? 600 : 0;
                long t = entry.has("tAbsolute") ? entry.get("tAbsolute").asLong() : now + entry.path("tOffset").asLong(defaultOffset);
                yield "t=" + t + ",v1=" + hmac(RuntimeKit.SECRET, t, body);
            }
            case "wrong-secret" -> "t=" + now + ",v1=" + hmac(WRONG_SECRET, now, body);
            case "none" -> null;
            case "garbage-header" -> entry.get("signatureHeader").asText();
            case "template" -> {
                JsonNode template = entry.get("signatureTemplate");
                String text = template.isObject() ? new String(CorpusGenerator.build(template), StandardCharsets.UTF_8)
                        : template.asText();
                long stale = now - 600;
                yield text.replace("{tstale}", String.valueOf(stale)).replace("{t}", String.valueOf(now))
                        .replace("{v1wrong}", hmac(WRONG_SECRET, now, body)).replace("{v1stale}", hmac(RuntimeKit.SECRET, stale, body))
                        .replace("{v1}", hmac(RuntimeKit.SECRET, now, body));
            }
            case "tampered" -> {
                byte[] signed = Base64.getDecoder().decode(entry.get("signedBodyBase64").asText());
                yield "t=" + now + ",v1=" + hmac(RuntimeKit.SECRET, now, signed);
            }
            case "reuse" -> replayed.signatureHeader();
            default -> throw new IllegalArgumentException(entry.path("name").asText() + ": unknown sign mode " + mode);
        };
    }

    private static String hmac(String secret, long t, byte[] body) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update((t + ".").getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(mac.doFinal(body));
    }

    private static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    // ---------------------------------------------------------------------------------------------- checks

    private void checkAnswer(Sent s) {
        String name = s.name();
        if (s.failure() != null) {
            violations.add(name + ": " + s.failure());
            return;
        }
        if (s.status() >= 500) {
            violations.add(name + ": " + s.status() + " " + abbreviate(s.answer()));
            return;
        }
        if (s.connectionProblem() != null) violations.add(name + ": " + s.connectionProblem());
        JsonNode entry = s.entry();
        switch (s.expect()) {
            case "4xx" -> {
                if (s.status() < 400 || s.status() > 499) {
                    violations.add(name + ": expected a 4xx, got " + s.status() + " " + abbreviate(s.answer()));
                    return;
                }
                if (entry.has("expectStatus") && entry.get("expectStatus").asInt() != s.status()) {
                    violations.add(name + ": expected " + entry.get("expectStatus").asInt() + ", got " + s.status() + " "
                            + abbreviate(s.answer()));
                }
                if (s.answer() != null && s.answer().length() > MAX_ANSWER_CHARS) {
                    violations.add(name + ": the refusal is " + s.answer().length() + " characters long (echoes the input?)");
                }
                String reason = s.json() == null ? null : s.json().path("reason").asText(null);
                if (reason == null || reason.isBlank() || !"rejected".equals(s.json().path("status").asText())) {
                    violations.add(name + ": " + s.status() + " without a JSON reason: " + abbreviate(s.answer()));
                } else if (entry.has("expectReason") && !reason.contains(entry.get("expectReason").asText())) {
                    violations.add(name + ": reason does not mention '" + entry.get("expectReason").asText() + "': " + reason);
                }
            }
            case "accepted", "accepted-then-dead-letter" -> {
                String outcome = s.json() == null ? null : s.json().path("status").asText(null);
                String expected = entry.path("expectOutcome").asText("accepted");
                if (s.status() != 200 || !expected.equals(outcome)) {
                    violations.add(name + ": expected 200 " + expected + ", got " + s.status() + " " + abbreviate(s.answer()));
                }
            }
            case "ignored" -> {
                String outcome = s.json() == null ? null : s.json().path("status").asText(null);
                if (s.status() != 200 || !"ignored".equals(outcome)) {
                    violations.add(name + ": expected 200 ignored, got " + s.status() + " " + abbreviate(s.answer()));
                }
            }
            case "parked" -> {
                String outcome = s.json() == null ? null : s.json().path("status").asText(null);
                if (s.status() != 200 || !"parked".equals(outcome)) {
                    violations.add(name + ": expected 200 parked, got " + s.status() + " " + abbreviate(s.answer()));
                    return;
                }
                if (s.answer().length() > MAX_ANSWER_CHARS) {
                    violations.add(name + ": the answer is " + s.answer().length() + " characters long (echoes the input?)");
                }
                String reason = s.json().path("reason").asText("");
                String expected = entry.path("expectReason").asText();
                if (expected.isEmpty() || !reason.contains(expected)) {
                    violations.add(name + ": parked reason does not mention '" + expected + "': " + abbreviate(reason));
                }
                if (s.json().path("deadLetter").asText("").isBlank()) {
                    violations.add(name + ": parked without naming its dead letter: " + abbreviate(s.answer()));
                }
            }
            default -> violations.add(name + ": unknown expectation " + s.expect());
        }
    }

    /** The ledger's dead letters (by the event's ce_id header); parked events are {@link #checkParked}'s. */
    private void checkDeadLetters(RuntimeKit kit, Map<String, Sent> expected) {
        awaitOrViolation("dead letters for " + expected.size() + " accepted events that cannot be posted", Duration.ofSeconds(60),
                () -> deadLettersById(kit).keySet().containsAll(expected.keySet()));
        for (DeadLetter d : kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 100_000)) {
            if (!d.routeId().equals(LEDGER_ROUTE) && !d.routeId().equals(PARKED_ROUTE)) {
                violations.add("unexpected dead letter #" + d.id() + " on route " + d.routeId() + ": " + abbreviate(d.errorMessage()));
            }
        }
        Map<String, List<DeadLetter>> byId = deadLettersById(kit);
        for (Map.Entry<String, Sent> e : expected.entrySet()) {
            List<DeadLetter> found = byId.getOrDefault(e.getKey(), List.of());
            String name = e.getValue().name();
            if (found.size() != 1) {
                violations.add(name + ": expected one dead letter, found " + found.size());
                continue;
            }
            DeadLetter dl = found.get(0);
            String reason = e.getValue().entry().path("expectReason").asText("");
            if (dl.errorMessage() == null || dl.errorMessage().isBlank() || !dl.errorMessage().contains(reason)) {
                violations.add(name + ": dead letter reason does not mention '" + reason + "': " + dl.errorMessage());
            }
            if (!"PERMANENT".equals(dl.failureKind()) || dl.correlationId() == null || dl.correlationId().isBlank()) {
                violations.add(name + ": dead letter " + dl.failureKind() + " with correlation id " + dl.correlationId());
            }
        }
        for (Map.Entry<String, List<DeadLetter>> e : byId.entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                violations.add("unexpected dead letter(s) for event " + e.getKey() + ": " + e.getValue().get(0).errorMessage());
            }
        }
    }

    /**
     * Every parked event is kept exactly once (however often it was delivered) as an open dead letter of the
     * single-event route, keyed by its idempotency key, with the raw body as sent and the reason it was answered with;
     * and nothing else is kept there.
     */
    private void checkParked(RuntimeKit kit, Map<String, List<Sent>> expected) {
        Map<String, List<DeadLetter>> byKey = new HashMap<>();
        for (DeadLetter d : kit.runtime.store().deadLetters().list(PARKED_ROUTE, DeadLetter.OPEN, 100_000)) {
            byKey.computeIfAbsent(String.valueOf(d.idempotencyKey()), k -> new ArrayList<>()).add(d);
        }
        for (Map.Entry<String, List<Sent>> e : expected.entrySet()) {
            String key = "billing:stripe:" + e.getKey();
            Sent first = e.getValue().get(0);
            String name = first.name();
            List<DeadLetter> found = byKey.getOrDefault(key, List.of());
            if (found.size() != 1) {
                violations.add(name + ": expected one open dead letter on " + PARKED_ROUTE + " for " + key + ", found "
                        + found.size() + " (" + e.getValue().size() + " deliveries)");
                continue;
            }
            DeadLetter dl = found.get(0);
            String reason = first.entry().path("expectReason").asText();
            if (dl.errorMessage() == null || dl.errorMessage().isBlank() || !dl.errorMessage().contains(reason)) {
                violations.add(name + ": parked dead letter's error does not mention '" + reason + "': " + abbreviate(dl.errorMessage()));
            }
            if (!"PERMANENT".equals(dl.failureKind()) || dl.correlationId() == null || dl.correlationId().isBlank()) {
                violations.add(name + ": parked dead letter " + dl.failureKind() + " with correlation id " + dl.correlationId());
            }
            if (!java.util.Arrays.equals(dl.payload(), first.body())) {
                violations.add(name + ": parked dead letter does not hold the body as sent (" + (dl.payload() == null ? "none"
                        : dl.payload().length + " bytes") + " for " + first.body().length + ")");
            }
            for (Sent s : e.getValue()) {
                String named = s.json() == null ? null : s.json().path("deadLetter").asText(null);
                if (named != null && !named.equals(String.valueOf(dl.id()))) {
                    violations.add(s.name() + ": answered parked as dead letter " + named + ", but the event's is #" + dl.id());
                }
            }
        }
        for (Map.Entry<String, List<DeadLetter>> e : byKey.entrySet()) {
            String id = e.getKey().startsWith("billing:stripe:") ? e.getKey().substring("billing:stripe:".length()) : null;
            if (id == null || !expected.containsKey(id)) {
                violations.add("unexpected parked dead letter(s) for " + abbreviate(e.getKey()) + ": "
                        + abbreviate(e.getValue().get(0).errorMessage()));
            }
        }
    }

    private void checkPostings(RuntimeKit kit, Set<String> postedIds) {
        var confirmations = kit.runtime.store().confirmations();
        awaitOrViolation(postedIds.size() + " accepted events posted", Duration.ofSeconds(60),
                () -> postedIds.stream().allMatch(id -> confirmations.find(LedgerPostingService.postingKey(id)).isPresent()));
        for (String id : postedIds) {
            if (confirmations.find(LedgerPostingService.postingKey(id)).isEmpty()) {
                violations.add("accepted event " + id + " was never posted");
            }
        }
    }

    private void checkKafka(RuntimeKit kit, Set<String> acceptedIds, Set<String> refusedIds, Set<String> unpublishedIds) {
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : kit.readTopic(BILLING_TOPIC, Duration.ofSeconds(3))) {
            counts.merge(String.valueOf(RuntimeKit.header(r, "ce_id")), 1, Integer::sum);
        }
        for (Map.Entry<String, Integer> c : counts.entrySet()) {
            if (refusedIds.contains(c.getKey())) {
                violations.add("Kafka record for refused event " + c.getKey());
            } else if (unpublishedIds.contains(c.getKey())) {
                violations.add("Kafka record for parked or ignored event " + c.getKey());
            } else if (!acceptedIds.contains(c.getKey()) && !c.getKey().startsWith("evt_still_serving")) {
                violations.add("Kafka record for event " + abbreviate(c.getKey()) + " that no corpus entry expects to be accepted");
            } else if (c.getValue() != 1) {
                violations.add(c.getValue() + " Kafka records for event " + c.getKey());
            }
        }
        for (String id : acceptedIds) {
            if (!counts.containsKey(id)) violations.add("no Kafka record for accepted event " + id);
        }
    }

    private void checkIdempotencyKeys(RuntimeKit kit, Set<String> acceptedIds, Set<String> refusedIds,
                                      Set<String> unpublishedIds) throws Exception {
        awaitOrViolation("no PENDING idempotency key", Duration.ofSeconds(30),
                () -> keys(kit).values().stream().noneMatch("PENDING"::equals));
        for (Map.Entry<String, String> k : keys(kit).entrySet()) {
            String key = k.getKey();
            String id = key.startsWith("billing:stripe:") ? key.substring("billing:stripe:".length())
                    : key.startsWith("ledger:") ? key.substring("ledger:".length()) : null;
            if (id != null && unpublishedIds.contains(id)) {
                // a parked event must stay replayable, an ignored one has nothing to remember
                violations.add("idempotency key " + key + " is " + k.getValue() + " for a parked or ignored event");
            } else if (id == null || refusedIds.contains(id) || (!acceptedIds.contains(id) && !id.startsWith("evt_still_serving"))) {
                violations.add("idempotency key " + abbreviate(key) + " (" + k.getValue() + ") left for an input that was not accepted");
            } else if (!"DONE".equals(k.getValue())) {
                violations.add("idempotency key " + key + " is " + k.getValue());
            }
        }
        for (String id : acceptedIds) {
            if (!keys(kit).containsKey("billing:stripe:" + id)) {
                violations.add("accepted event " + id + " has no idempotency key: a redelivery would be processed again");
            }
        }
    }

    /** After the corpus, an ordinary event still goes through end to end. */
    private void checkStillServing(RuntimeKit kit) throws Exception {
        var event = Events.invoicePaid("DE01");
        event.put("id", "evt_still_serving_" + System.nanoTime());
        HttpResponse<String> answer = kit.sendSigned(Events.bytes(event));
        if (answer.statusCode() != 200) {
            violations.add("a valid event after the corpus got " + answer.statusCode() + " " + answer.body());
            return;
        }
        String key = LedgerPostingService.postingKey(event.get("id").asText());
        awaitOrViolation("a valid event after the corpus is posted", Duration.ofSeconds(30),
                () -> kit.runtime.store().confirmations().find(key).isPresent());
    }

    /** The ledger's open dead letters by the canonical event's id (ce_id header). */
    private static Map<String, List<DeadLetter>> deadLettersById(RuntimeKit kit) {
        Map<String, List<DeadLetter>> out = new HashMap<>();
        for (DeadLetter d : kit.runtime.store().deadLetters().list(LEDGER_ROUTE, DeadLetter.OPEN, 100_000)) {
            out.computeIfAbsent(String.valueOf(d.headers().get("ce_id")), k -> new ArrayList<>()).add(d);
        }
        return out;
    }

    private static Map<String, String> keys(RuntimeKit kit) {
        Map<String, String> out = new HashMap<>();
        try (Connection c = kit.runtime.store().dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT key_value, state FROM idempotency_key")) {
            while (rs.next()) out.put(rs.getString(1), rs.getString(2));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private void awaitOrViolation(String what, Duration atMost, BooleanSupplier condition) {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                violations.add("not reached within " + atMost + ": " + what);
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static String typeOf(byte[] body) {
        try {
            return JSON.readTree(body).path("type").asText();
        } catch (IOException e) {
            return "";
        }
    }

    private static String abbreviate(String s) {
        if (s == null) return "(no body)";
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }
}
