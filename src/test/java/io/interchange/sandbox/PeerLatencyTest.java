package io.interchange.sandbox;

import io.interchange.sandbox.salesforce.SalesforcePeer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The peers' latency option (the end-to-end benchmark's "peers answering at 20–50 ms"): every API request waits a time
 * from the range before its answer, and many wait at once instead of queueing behind the peer's few threads.
 */
class PeerLatencyTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** Sends n requests at once; the elapsed time of each, in ms, and of all together as the last element. */
    private static List<Long> timed(int n, HttpRequest request) {
        long t0 = System.nanoTime();
        List<CompletableFuture<Long>> calls = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            calls.add(HTTP.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                    .thenApply(r -> (System.nanoTime() - start) / 1_000_000));
        }
        List<Long> out = new ArrayList<>(calls.stream().map(CompletableFuture::join).toList());
        out.add((System.nanoTime() - t0) / 1_000_000);
        return out;
    }

    @Test
    void aRestPeerAnswersEveryRequestAfterItsLatencyAndManyWaitAtOnce() throws Exception {
        try (StripeApiPeer stripe = new StripeApiPeer(0, "sk_test_latency")) {
            stripe.latency(Duration.ofMillis(100), Duration.ofMillis(110), 32);
            stripe.start();
            HttpRequest get = HttpRequest.newBuilder(URI.create(stripe.url() + "/v1/customers/cus_none"))
                    .header("Authorization", "Bearer sk_test_latency").build();
            timed(32, get); // the client's connections opened, the peer's threads started
            List<Long> times = timed(32, get);
            assertThat(times.subList(0, 32)).allSatisfy(ms -> assertThat(ms).isGreaterThanOrEqualTo(100));
            // 32 requests on the default 8 threads would take at least 4 x 100 ms; with 32 threads they wait together
            assertThat(times.get(32)).isLessThan(350);

            stripe.latency(Duration.ZERO, Duration.ZERO, 8);
            assertThat(timed(1, get).get(0)).isLessThan(60);
        }
    }

    @Test
    void aSoapPeerWaitsItsLatencyBeforeEveryAnswer() throws Exception {
        LegacyErpPeer legacy = new LegacyErpPeer(0, "legacy", "pw", Map.of("UK01", "GBP"));
        legacy.setLatency(Duration.ofMillis(100), Duration.ofMillis(110));
        legacy.setThreads(32);
        legacy.start();
        try {
            HttpRequest post = HttpRequest.newBuilder(URI.create(legacy.endpointUrl()))
                    .header("Content-Type", "text/xml; charset=utf-8")
                    .POST(HttpRequest.BodyPublishers.ofString("<not-soap/>")).build();
            timed(32, post);
            List<Long> times = timed(32, post);
            assertThat(times.subList(0, 32)).allSatisfy(ms -> assertThat(ms).isGreaterThanOrEqualTo(100));
            assertThat(times.get(32)).isLessThan(350);
        } finally {
            legacy.close();
        }
    }

    @Test
    void salesforceDataRequestsWaitTheirLatencyLogInsDoNot() throws Exception {
        try (SalesforcePeer salesforce = new SalesforcePeer(0, "key", "secret")) {
            salesforce.latency(Duration.ofMillis(60), Duration.ofMillis(60)).start();
            HttpRequest query = HttpRequest.newBuilder(URI.create(salesforce.url()
                    + "/services/data/v59.0/query/?q=SELECT+Id+FROM+Account")).build();
            assertThat(timed(1, query).get(0)).isGreaterThanOrEqualTo(60);
            HttpRequest token = HttpRequest.newBuilder(URI.create(salesforce.url() + "/services/oauth2/token"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=key&client_secret=secret"))
                    .build();
            timed(1, token); // the first request of a client opens the connection
            assertThat(timed(1, token).get(0)).isLessThan(60);
        }
    }
}
