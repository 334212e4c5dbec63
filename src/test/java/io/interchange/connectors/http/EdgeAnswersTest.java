package io.interchange.connectors.http;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.routes.BillingWebhookRoute;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RawHttp;
import io.interchange.testkit.RuntimeKit;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The answers the business HTTP server gives on its own ({@link EdgeAnswers}): a webhook for a route that is not
 * running (as while the instance starts or stops) is 503 with Retry-After, never 404; unknown paths and wrong methods
 * are JSON refusals; oversized headers and bodies are answered every time, with a JSON reason and
 * {@code Connection: close}, the connection closed only after the answer, and logged as one line without a stack trace.
 */
class EdgeAnswersTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final Duration OPEN_CHECK = Duration.ofMillis(300);

    private static RuntimeKit kit;
    private static ListAppender<ILoggingEvent> log;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of());
        log = new ListAppender<>();
        log.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(log);
    }

    @AfterAll
    static void stop() {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(log);
        if (kit != null) kit.close();
    }

    @Test
    void aWebhookForARouteThatIsNotRunningIs503WithRetryAfterThenAcceptedOnceItRuns() throws Exception {
        var routes = kit.runtime.camelContext().getRouteController();
        routes.stopRoute(BillingWebhookRoute.ROUTE_ID);
        try {
            byte[] body = Events.bytes(Events.invoicePaid("DE01"));
            HttpResponse<String> r = kit.sendSigned(body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
            assertThat(r.headers().firstValue("Retry-After")).contains(EdgeAnswers.RETRY_AFTER_SECONDS);
            assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
            JsonNode json = JSON.readTree(r.body());
            assertThat(json.path("status").asText()).isEqualTo("unavailable");
            assertThat(json.path("reason").asText()).isEqualTo("starting or stopping; retry later");

            // a wrong method on the path is still 405, a wrong path still 404
            RawHttp.Answer get = raw("GET", BillingWebhookRoute.PATH, null);
            assertJsonRefusal(get, 405, "method not allowed");
            assertThat(get.header("Allow")).isEqualTo("POST");
            assertJsonRefusal(raw("POST", "/webhooks/nothing", body), 404, "no such endpoint");

            // while the route starts, a sender retrying sees 503 (with Retry-After and a JSON reason), then 200: never 404
            ConcurrentLinkedQueue<String> answers = new ConcurrentLinkedQueue<>();
            AtomicBoolean accepted = new AtomicBoolean();
            List<Thread> senders = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Thread t = new Thread(() -> {
                    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                    while (!accepted.get() && System.nanoTime() < deadline) {
                        try {
                            HttpResponse<String> a = kit.sendSigned(Events.bytes(Events.invoicePaid("DE01")));
                            String retryAfter = a.headers().firstValue("Retry-After").orElse("-");
                            String status = JSON.readTree(a.body()).path("status").asText();
                            answers.add(a.statusCode() + " " + status + " retry-after=" + retryAfter);
                            if (a.statusCode() == 200) accepted.set(true);
                        } catch (Exception e) {
                            answers.add("no answer " + e);
                        }
                    }
                });
                t.start();
                senders.add(t);
            }
            Thread.sleep(200);
            routes.startRoute(BillingWebhookRoute.ROUTE_ID);
            for (Thread t : senders) t.join(Duration.ofSeconds(40).toMillis());
            Map<String, Integer> byAnswer = new TreeMap<>();
            answers.forEach(a -> byAnswer.merge(a, 1, Integer::sum));
            System.out.println("webhooks while the route started: " + byAnswer);
            assertThat(accepted).isTrue();
            assertThat(byAnswer.keySet()).allMatch(a -> a.equals("200 accepted retry-after=-")
                    || a.equals("503 unavailable retry-after=" + EdgeAnswers.RETRY_AFTER_SECONDS));
            assertThat(byAnswer).containsKey("503 unavailable retry-after=" + EdgeAnswers.RETRY_AFTER_SECONDS);
        } finally {
            if (routes.getRouteStatus(BillingWebhookRoute.ROUTE_ID) != ServiceStatus.Started) {
                routes.startRoute(BillingWebhookRoute.ROUTE_ID);
            }
        }
        // once it runs, the same path takes webhooks again
        assertThat(kit.sendSigned(Events.bytes(Events.invoicePaid("DE01"))).statusCode()).isEqualTo(200);
    }

    @Test
    void webhooksWhileTheInstanceStopsAre503WithRetryAfterAndAJsonReasonUntilTheServerIsGone() throws Exception {
        RuntimeKit own = RuntimeKit.start(Databases.Backend.H2, Map.of());
        // the first publish waits for the topic's metadata: out of the way before the stream starts
        assertThat(own.sendSigned(Events.bytes(Events.invoicePaid("DE01"))).statusCode()).isEqualTo(200);
        ConcurrentLinkedQueue<String> answers = new ConcurrentLinkedQueue<>();
        AtomicBoolean stopped = new AtomicBoolean();
        List<Thread> senders = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Thread t = new Thread(() -> {
                    int refused = 0;
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (refused < 3 && System.nanoTime() < deadline) {
                        try {
                            HttpResponse<String> a = own.sendSigned(Events.bytes(Events.invoicePaid("DE01")));
                            String retryAfter = a.headers().firstValue("Retry-After").orElse("-");
                            String status;
                            try {
                                status = JSON.readTree(a.body()).path("status").asText() + " "
                                        + JSON.readTree(a.body()).path("reason").asText();
                            } catch (Exception e) {
                                status = "(no JSON: " + a.body() + ")";
                            }
                            answers.add(a.statusCode() + " " + status + " retry-after=" + retryAfter);
                        } catch (Exception e) {
                            // the server closing or gone (connection closed or refused): what a sender sees of a
                            // stopped process, not an answer
                            if (stopped.get()) refused++;
                        }
                    }
                });
                t.start();
                senders.add(t);
            }
            // slow ERPs keep postings under way, so the stop drains for a while (its consumers suspended meanwhile)
            own.s4.setDelay(Duration.ofMillis(1500));
            own.legacy.setDelay(Duration.ofMillis(1500));
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (answers.stream().filter(a -> a.startsWith("200 ")).count() < 20 && System.nanoTime() < until) {
                Thread.sleep(50);
            }
            own.runtime.close(); // Camel's graceful stop, as on SIGTERM
            stopped.set(true);
            for (Thread t : senders) t.join(Duration.ofSeconds(70).toMillis());
        } finally {
            own.close(); // the runtime again (nothing more to stop), the peers, Kafka, and the kit's directory
        }
        Map<String, Integer> byAnswer = new TreeMap<>();
        answers.forEach(a -> byAnswer.merge(a, 1, Integer::sum));
        System.out.println("webhooks while the instance stopped: " + byAnswer);
        String unavailable = "503 unavailable starting or stopping; retry later retry-after=" + EdgeAnswers.RETRY_AFTER_SECONDS;
        assertThat(byAnswer.keySet()).allMatch(a -> a.startsWith("200 accepted ") || a.equals(unavailable));
        assertThat(byAnswer).containsKey(unavailable);
    }

    @Test
    void unknownPathsAndWrongMethodsAreJsonRefusals() {
        byte[] body = Events.bytes(Events.invoicePaid("DE01"));
        for (String path : List.of("/", "/webhooks/billing/x", "/webhooks/BILLING", "/observe/health")) {
            assertJsonRefusal(raw("POST", path, body), 404, "no such endpoint");
        }
        for (String method : List.of("GET", "PUT", "DELETE", "PATCH", "OPTIONS")) {
            RawHttp.Answer a = raw(method, BillingWebhookRoute.PATH, method.equals("GET") ? null : body);
            assertJsonRefusal(a, 405, "method not allowed; use POST");
            assertThat(a.header("Allow")).isEqualTo("POST");
        }
        // a request read to its end before the answer keeps its connection
        RawHttp.Answer bodiless = RawHttp.send(kit.httpPort, "GET", "/nothing", List.of(), null, false, TIMEOUT, OPEN_CHECK);
        assertThat(bodiless.status()).isEqualTo(404);
        assertThat(bodiless.closedByServer() && !bodiless.announcedClose()).as("closed without Connection: close").isFalse();
    }

    @Test
    void oversizedHeadersAreAnsweredEveryTimeWithAJsonReasonAndOneLogLine() {
        int from = logged().size();
        int sent = 0;
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            for (int size : new int[]{9_000, 65_536, 262_144}) {
                List<String[]> headers = RawHttp.headers("Content-Type", "application/json", "X-Pad", "a".repeat(size));
                RawHttp.Answer a = RawHttp.send(kit.httpPort, "POST", BillingWebhookRoute.PATH, headers,
                        Events.bytes(Events.invoicePaid("DE01")), false, TIMEOUT, OPEN_CHECK);
                sent++;
                String problem = refusalProblem(a, 431, "request headers larger than 8192 bytes");
                if (problem != null) problems.add("X-Pad of " + size + " (#" + i + "): " + problem);
            }
        }
        // too many headers and a request line over the limit take the same way
        List<String[]> many = new ArrayList<>();
        for (int i = 0; i < 400; i++) many.add(new String[]{"X-H-" + i, "v".repeat(40)});
        String problem = refusalProblem(RawHttp.send(kit.httpPort, "POST", BillingWebhookRoute.PATH, many, new byte[0],
                false, TIMEOUT, OPEN_CHECK), 431, "request headers larger than");
        if (problem != null) problems.add("400 headers: " + problem);
        sent++;
        problem = refusalProblem(RawHttp.send(kit.httpPort, "POST", BillingWebhookRoute.PATH + "?" + "q".repeat(5000),
                List.of(), new byte[0], false, TIMEOUT, OPEN_CHECK), 414, "request line longer than 4096 bytes");
        if (problem != null) problems.add("long request line: " + problem);
        sent++;
        assertThat(problems).as(String.join("\n", problems)).isEmpty();
        assertOneLinePerRefusalAndNoStackTrace(from, sent, "HTTP 431 from", "HTTP 414 from");
    }

    @Test
    void oversizedBodiesAre413WithAJsonReasonAndOneLogLine() {
        int from = logged().size();
        List<String> problems = new ArrayList<>();
        int sent = 0;
        for (int i = 0; i < 5; i++) {
            for (boolean chunked : new boolean[]{false, true}) {
                byte[] body = "a".repeat(2_000_000 + i).getBytes(StandardCharsets.US_ASCII);
                RawHttp.Answer a = RawHttp.send(kit.httpPort, "POST", BillingWebhookRoute.PATH,
                        RawHttp.headers("Content-Type", "application/json"), body, chunked, TIMEOUT, OPEN_CHECK);
                sent++;
                String problem = refusalProblem(a, 413, "request body larger than 1048576 bytes");
                if (problem != null) problems.add((chunked ? "chunked" : "Content-Length") + " #" + i + ": " + problem);
            }
        }
        assertThat(problems).as(String.join("\n", problems)).isEmpty();
        assertOneLinePerRefusalAndNoStackTrace(from, sent, "HTTP 413 for");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static RawHttp.Answer raw(String method, String path, byte[] body) {
        return RawHttp.send(kit.httpPort, method, path, RawHttp.headers("Content-Type", "application/json"), body, false,
                TIMEOUT, OPEN_CHECK);
    }

    private static void assertJsonRefusal(RawHttp.Answer a, int status, String reason) {
        String problem = refusalProblem(a, status, reason);
        assertThat(problem).as(problem).isNull();
    }

    /** Null when the answer is the expected JSON refusal, received in full, with the connection handled as announced. */
    private static String refusalProblem(RawHttp.Answer a, int status, String reason) {
        if (a.failure() != null) return a.failure();
        if (a.writeFailure() != null) return "the request could not be written to its end: " + a.writeFailure();
        if (a.status() != status) return "status " + a.status() + " " + a.bodyText();
        if (a.header("Content-Type") == null || !a.header("Content-Type").startsWith("application/json")) {
            return "Content-Type " + a.header("Content-Type");
        }
        try {
            JsonNode json = JSON.readTree(a.body());
            if (!"rejected".equals(json.path("status").asText()) || !json.path("reason").asText().contains(reason)) {
                return "body " + a.bodyText();
            }
        } catch (Exception e) {
            return "not JSON: " + a.bodyText();
        }
        if (a.closedByServer() && !a.announcedClose()) return "connection closed without Connection: close";
        if (a.announcedClose() && !a.closedByServer()) return "Connection: close announced but the connection stayed open";
        return null;
    }

    /** What was logged so far (the appender appends under its own lock). */
    private static List<ILoggingEvent> logged() {
        synchronized (log) {
            return new ArrayList<>(log.list);
        }
    }

    /** Exactly one log line per refusal, none of them (nor anything else meanwhile) with a stack trace. */
    private static void assertOneLinePerRefusalAndNoStackTrace(int from, int refusals, String... prefixes) {
        List<ILoggingEvent> all = logged();
        List<ILoggingEvent> events = all.subList(from, all.size());
        List<String> withStack = events.stream().filter(e -> e.getThrowableProxy() != null)
                .map(e -> e.getLoggerName() + ": " + e.getFormattedMessage() + " / " + e.getThrowableProxy().getClassName())
                .toList();
        assertThat(withStack).as("log lines with a stack trace").isEmpty();
        long lines = events.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(m -> java.util.Arrays.stream(prefixes).anyMatch(m::startsWith)).count();
        assertThat(lines).as("log lines for %d refusals at %s", refusals, Instant.now()).isEqualTo(refusals);
    }
}
