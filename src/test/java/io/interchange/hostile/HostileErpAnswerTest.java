package io.interchange.hostile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.sandbox.SoapPeerSupport.RawAnswer;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Makes the S/4HANA peer give each answer of {@code corpus/erp-answers.jsonl} (see {@link CorpusGenerator}) to a valid
 * signed invoice.paid of DE01, and checks that every posting ends classified in the dead-letter store: transient
 * answers retried up to the route's attempts, then dead-lettered as TRANSIENT; permanent ones dead-lettered at once
 * as PERMANENT; each with a reason, none hanging, nothing recorded as posted, and no external entity, include, schema
 * or redirect ever fetched (a canary HTTP server counts every fetch) or read (no file content in any reason).
 */
class HostileErpAnswerTest {

    private static final int MAX_ATTEMPTS = 2;
    private static final Duration STALL = Duration.ofSeconds(5); // longer than the kit's ERP timeout of 3 s

    @Test
    void everyHostileErpAnswerIsDeadLetteredWithItsClassAndReasonAndNothingIsFetchedOrRead() throws Exception {
        List<JsonNode> corpus = Corpus.load(CorpusGenerator.ERP_RESOURCE);
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(50);
        List<String> violations = new ArrayList<>();
        Map<String, Integer> byKind = new TreeMap<>();
        long started = System.nanoTime();
        long slowest = 0;
        String slowestName = "";

        AtomicInteger canaryHits = new AtomicInteger();
        List<String> canaryPaths = new ArrayList<>();
        HttpServer canary = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        canary.createContext("/", exchange -> {
            canaryHits.incrementAndGet();
            synchronized (canaryPaths) {
                canaryPaths.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
            }
            byte[] answer = "root:x:0:0:root:/root:/bin/sh\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        canary.start();
        String canaryUrl = "http://127.0.0.1:" + canary.getAddress().getPort();

        // the S/4HANA circuit breaker would hold postings after a few transient answers in a row (as it should while
        // an ERP is failing, ErpIsolationTest); here each answer's classification is the subject, so it judges more
        // calls than the corpus makes
        try (RuntimeKit kit = RuntimeKit.start(Databases.Backend.H2,
                Map.of("interchange.route.billing.ledger-posting.max-attempts", String.valueOf(MAX_ATTEMPTS),
                        "interchange.erp.breaker.window", "1000", "interchange.erp.breaker.minimum-calls", "1000"))) {
            for (JsonNode entry : corpus) {
                String name = entry.path("name").asText();
                String expectedKind = entry.path("expectKind").asText();
                long t0 = System.nanoTime();

                kit.s4.reset();
                kit.s4.answerNextWith(answer(entry, canaryUrl), MAX_ATTEMPTS);
                ObjectNode event = Events.invoicePaid("DE01");
                String id = event.get("id").asText();
                HttpResponse<String> accepted = kit.sendSigned(Events.bytes(event));
                if (accepted.statusCode() != 200) {
                    violations.add(name + ": the webhook was not accepted: " + accepted.statusCode() + " " + accepted.body());
                    continue;
                }
                // bounded: 2 attempts, each at most the 3 s ERP timeout, plus backoff
                Optional<DeadLetter> found = awaitDeadLetter(kit, id, Duration.ofSeconds(20));
                long millis = (System.nanoTime() - t0) / 1_000_000;
                if (millis > slowest) {
                    slowest = millis;
                    slowestName = name;
                }
                if (found.isEmpty()) {
                    boolean posted = kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).isPresent();
                    violations.add(name + ": no dead letter within 20 s" + (posted ? "; recorded as POSTED" : ""));
                    continue;
                }
                DeadLetter dl = found.get();
                byKind.merge(dl.failureKind(), 1, Integer::sum);
                int expectedAttempts = expectedKind.equals("TRANSIENT") ? MAX_ATTEMPTS : 1;
                if (!expectedKind.equals(dl.failureKind())) {
                    violations.add(name + ": dead-lettered as " + dl.failureKind() + ", expected " + expectedKind + ": "
                            + abbreviate(dl.errorMessage()));
                }
                if (dl.attempts() != expectedAttempts || kit.s4.requestCount() != expectedAttempts) {
                    violations.add(name + ": " + dl.attempts() + " attempt(s) counted, " + kit.s4.requestCount()
                            + " request(s) to the ERP, expected " + expectedAttempts);
                }
                if (dl.errorMessage() == null || dl.errorMessage().isBlank()) {
                    violations.add(name + ": dead letter without a reason");
                } else if (entry.has("expectReason") && !dl.errorMessage().contains(entry.get("expectReason").asText())) {
                    violations.add(name + ": reason does not mention '" + entry.get("expectReason").asText() + "': "
                            + abbreviate(dl.errorMessage()));
                }
                for (JsonNode forbidden : entry.path("forbidden")) {
                    if (String.valueOf(dl.errorMessage()).contains(forbidden.asText())) {
                        violations.add(name + ": the reason contains '" + forbidden.asText() + "' (file content read?)");
                    }
                }
                if (!"billing.ledger-posting".equals(dl.routeId())) {
                    violations.add(name + ": dead letter on route " + dl.routeId());
                }
                if (kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(id)).isPresent()) {
                    violations.add(name + ": a confirmation was recorded for a posting that was dead-lettered");
                }
                if (!kit.s4.postings().isEmpty()) {
                    violations.add(name + ": the ERP peer posted although it only gave the hostile answer");
                }
                String key = LedgerPostingService.postingKey(id);
                awaitReleased(kit, key);
                // the key stays as unsettled (the next claim reads the ledger first), but must not be held
                if (!kit.runtime.store().idempotency().claimable(key)) {
                    violations.add(name + ": posting key left " + kit.runtime.store().idempotency().state(key)
                            + " and held after the dead letter (a replay could not claim it)");
                }
            }
            if (canaryHits.get() > 0) {
                violations.add(canaryHits.get() + " fetch(es) of external resources named in ERP answers: " + canaryPaths);
            }
            // the ERP connector still works after all of it
            kit.s4.reset();
            ObjectNode event = Events.invoicePaid("DE01");
            if (kit.sendSigned(Events.bytes(event)).statusCode() != 200 || !awaitPosted(kit, event.get("id").asText())) {
                violations.add("a valid posting after the hostile answers did not go through");
            }
        } finally {
            canary.stop(0);
        }
        System.out.printf("hostile ERP answers: %d sent, dead-lettered %s, %d external fetches, %d violation(s); "
                        + "%d ms in all, slowest %s (%d ms)%n", corpus.size(), byKind, canaryHits.get(), violations.size(),
                (System.nanoTime() - started) / 1_000_000, slowestName, slowest);
        assertThat(violations).as(violations.size() + " violation(s):\n" + String.join("\n", violations)).isEmpty();
    }

    private static RawAnswer answer(JsonNode entry, String canaryUrl) {
        byte[] body = replace(Corpus.body(entry), "{canary}", canaryUrl);
        Map<String, String> headers = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = entry.path("headers").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> h = it.next();
            headers.put(h.getKey(), h.getValue().asText().replace("{canary}", canaryUrl));
        }
        int status = entry.path("status").asInt();
        String contentType = entry.path("contentType").asText(null);
        RawAnswer answer = switch (entry.path("mode").asText("complete")) {
            case "complete" -> RawAnswer.complete(status, contentType, body);
            case "truncated" -> RawAnswer.truncated(status, contentType, body, entry.path("writeBytes").asInt());
            case "stall" -> RawAnswer.stalled(status, contentType, body, entry.path("writeBytes").asInt(), STALL);
            default -> throw new IllegalArgumentException("unknown mode in " + entry);
        };
        return answer.withHeaders(headers);
    }

    private static Optional<DeadLetter> awaitDeadLetter(RuntimeKit kit, String eventId, Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<DeadLetter> dl = kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 50).stream()
                    .filter(d -> eventId.equals(d.headers().get("ce_id"))).findFirst();
            if (dl.isPresent()) return dl;
            Thread.sleep(25);
        }
        return Optional.empty();
    }

    private static void awaitReleased(RuntimeKit kit, String key) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!kit.runtime.store().idempotency().claimable(key) && System.nanoTime() < deadline) {
            Thread.sleep(25);
        }
    }

    private static boolean awaitPosted(RuntimeKit kit, String eventId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (kit.runtime.store().confirmations().find(LedgerPostingService.postingKey(eventId)).isPresent()) return true;
            Thread.sleep(50);
        }
        return false;
    }

    private static byte[] replace(byte[] body, String placeholder, String with) {
        String latin1 = new String(body, StandardCharsets.ISO_8859_1); // byte-preserving, whatever the encoding
        if (!latin1.contains(placeholder)) return body;
        return latin1.replace(placeholder, with).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String abbreviate(String s) {
        return s == null ? null : s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }
}
