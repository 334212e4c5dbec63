package io.interchange.connectors.http;

import io.interchange.testkit.Ports;
import org.apache.camel.AsyncCallback;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServerConfiguration;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.AsyncProcessorSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code interchange-http:}: a request's route holds no thread while it waits. Many more requests than the Vert.x
 * worker pool has threads (20) wait in the route at once, each answered when its asynchronous step calls back, with
 * the status, body and headers the route set, never the request's own headers or Camel's.
 */
class NonBlockingHttpEndpointTest {

    /** Vert.x's default worker pool: platform-http's consumer holds one of these per request for its whole route. */
    private static final int WORKER_THREADS = 20;
    private static final int REQUESTS = 3 * WORKER_THREADS;

    private CamelContext context;
    private int port;
    private final Queue<Waiting> waiting = new ConcurrentLinkedQueue<>();

    private record Waiting(Exchange exchange, AsyncCallback callback) { }

    @BeforeEach
    void start() throws Exception {
        port = Ports.free();
        context = new DefaultCamelContext();
        VertxPlatformHttpServerConfiguration server = new VertxPlatformHttpServerConfiguration();
        server.setBindHost("127.0.0.1");
        server.setBindPort(port);
        context.addService(new VertxPlatformHttpServer(server));
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                // redeliveries, as the webhook routes have: such an error handler refuses to go on once it is stopped
                errorHandler(defaultErrorHandler().maximumRedeliveries(2).redeliveryDelay(0));
                from("interchange-http:/hooks/test")
                        .routeId("test-edge")
                        .process(e -> e.getMessage().setHeader("Seen", e.getMessage().getBody(String.class)))
                        // answered only when the test lets it: the exchange waits with no thread of its own
                        .process(new AsyncProcessorSupport() {
                            @Override
                            public boolean process(Exchange exchange, AsyncCallback callback) {
                                waiting.add(new Waiting(exchange, callback));
                                return false;
                            }
                        })
                        .process(e -> {
                            String seen = e.getMessage().getHeader("Seen", String.class);
                            e.getMessage().getHeaders().clear();
                            e.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 202);
                            e.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
                            e.getMessage().setHeader("Retry-After", "7");
                            e.getMessage().setHeader("CamelInternal", "not for the client");
                            e.getMessage().setBody("{\"seen\":\"" + seen + "\"}");
                        });
            }
        });
        context.start();
    }

    @AfterEach
    void stop() {
        if (context != null) context.stop();
    }

    @Test
    void moreRequestsWaitAtOnceThanTheWorkerPoolHasThreadsAndEachGetsTheAnswerItsRouteSet() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            answers.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hooks/test"))
                    .header("Content-Type", "text/plain").header("X-Secret", "request header " + i)
                    .POST(HttpRequest.BodyPublishers.ofString("event-" + i, StandardCharsets.UTF_8))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        // every request is in the route at once, none answered: no thread is held for any of them
        await().atMost(20, TimeUnit.SECONDS).until(() -> waiting.size() == REQUESTS);
        assertThat(answers).noneMatch(CompletableFuture::isDone);
        assertThat(context.getInflightRepository().size("test-edge")).isEqualTo(REQUESTS);

        // answered from a thread that is neither Vert.x's nor the request's
        Thread releaser = new Thread(() -> {
            for (Waiting w; (w = waiting.poll()) != null; ) w.callback().done(false);
        }, "test-callbacks");
        releaser.start();
        releaser.join();

        for (int i = 0; i < REQUESTS; i++) {
            HttpResponse<String> answer = answers.get(i).get(20, TimeUnit.SECONDS);
            assertThat(answer.statusCode()).isEqualTo(202);
            assertThat(answer.body()).isEqualTo("{\"seen\":\"event-" + i + "\"}");
            assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json");
            assertThat(answer.headers().firstValue("Retry-After")).hasValue("7");
            assertThat(answer.headers().firstValue("X-Secret")).isEmpty();
            assertThat(answer.headers().firstValue("CamelInternal")).isEmpty();
        }
        await().atMost(5, TimeUnit.SECONDS).until(() -> context.getInflightRepository().size("test-edge") == 0);
    }

    @Test
    void aFormPostReachesTheRouteAsTheBytesSentWithNoFieldTurnedIntoAHeader() throws Exception {
        String form = "type=unsubscribe&Retry-After=9&data%5Bemail%5D=a%40example.com";
        CompletableFuture<HttpResponse<String>> answer = HttpClient.newHttpClient().sendAsync(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/hooks/test?secret=s"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form, StandardCharsets.UTF_8))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(20, TimeUnit.SECONDS).until(() -> waiting.size() == 1);
        Waiting w = waiting.poll();
        var in = w.exchange().getMessage();
        assertThat(in.getBody(String.class)).isEqualTo(form);
        assertThat(in.getHeaders()).doesNotContainKeys("type", "Retry-After", "data[email]");
        assertThat(in.getHeader("secret", String.class)).as("a query parameter is a header, as platform-http has it")
                .isEqualTo("s");
        w.callback().done(false);
        assertThat(answer.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(202);
    }

    @Test
    void aGracefulStopAnswersEveryRequestUnderWayAndTakesNoNewOne() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            answers.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hooks/test"))
                    .POST(HttpRequest.BodyPublishers.ofString("event-" + i)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(20, TimeUnit.SECONDS).until(() -> waiting.size() == 5);
        context.getShutdownStrategy().setTimeout(20);
        Thread stopping = new Thread(context::stop, "test-stop");
        stopping.start();
        // the route takes no new request while it waits for those under way
        await().atMost(10, TimeUnit.SECONDS).until(() -> client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/hooks/test")).POST(HttpRequest.BodyPublishers.ofString("late"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 404);
        assertThat(stopping.isAlive()).as("the stop waits for the requests under way").isTrue();
        for (Waiting w; (w = waiting.poll()) != null; ) w.callback().done(false);
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> answer = answers.get(i).get(20, TimeUnit.SECONDS);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
            assertThat(answer.body()).isEqualTo("{\"seen\":\"event-" + i + "\"}");
        }
        stopping.join(20_000);
        assertThat(stopping.isAlive()).isFalse();
        assertThat(waiting).as("no late request reached the route").isEmpty();
    }

    @Test
    void aStoppedRouteTakesNoMoreRequests() throws Exception {
        context.getRouteController().stopRoute("test-edge");
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<String> answer = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/hooks/test"))
                .POST(HttpRequest.BodyPublishers.ofString("late")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        // without the business server's own answers (EdgeAnswers) Vert.x's router answers an unknown path 404
        assertThat(answer.statusCode()).isEqualTo(404);
        assertThat(waiting).isEmpty();
    }
}
