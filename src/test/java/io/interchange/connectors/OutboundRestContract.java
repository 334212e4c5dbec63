package io.interchange.connectors;

import io.interchange.config.Settings;
import io.interchange.connectors.rest.RestClient;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import io.interchange.routes.RestTargetRoute;
import io.interchange.sandbox.rest.RestPeerSupport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The contract every outbound REST target inherits (one subclass per system, its client built from configuration as
 * the runtime builds it, on its own throttled route, against the system's in-process peer over real HTTP): its settings
 * are documented in the README's reference; a 401 fetches a new token once where the credential is a token, then is
 * permanent; 403, 404 and 422 are permanent with the system's message in a bounded reason; 5xx, a timeout and a 2xx
 * that is not JSON are transient; a 429 is waited out for at least its {@code Retry-After} and asked again, and one that
 * does not end is transient, never permanent (never a dead letter); where the system announces its rate limit, a
 * window with nothing left is waited for instead of spending a 429; a write carries its idempotency key, the same on a
 * retry, and a retried write is performed once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class OutboundRestContract {

    /** Every configuration key the target reads. */
    protected abstract List<String> settings();

    /** Starts the system's peer (once for the class). */
    protected abstract RestPeerSupport startPeer() throws Exception;

    /** The target's client as the runtime builds it from configuration, pointed at the peer's URL. */
    protected abstract RestClient newClient(String peerUrl);

    private RestPeerSupport peer;
    private RestClient client;
    private CamelContext context;

    @BeforeAll
    void startTarget() throws Exception {
        peer = startPeer();
        client = newClient(peer.url());
        context = startRoute(client);
    }

    @AfterAll
    void stopTarget() throws Exception {
        if (context != null) context.close();
        if (peer != null) peer.close();
    }

    protected RestPeerSupport peer() {
        return peer;
    }

    protected RestClient client() {
        return client;
    }

    /** A genuine write of the target, the same request for the same seed (its idempotency key derived from it). */
    protected abstract Object write(String seed);

    /** Asserts the peer holds the seed's record exactly once. */
    protected abstract void assertWrittenOnce(String seed);

    /** Whether the credential is a token the client can fetch again (OAuth), or a fixed key. */
    protected abstract boolean tokenRefreshes();

    /** The header carrying the idempotency key, or null where the system has none (its write is an upsert). */
    protected abstract String idempotencyHeader();

    /** Whether the system announces its rate limit in every answer (HubSpot does, Stripe does not). */
    protected abstract boolean announcesRateLimits();

    /** Installs the client's route in a Camel context of its own and starts both. */
    protected static CamelContext startRoute(RestClient client) throws Exception {
        CamelContext context = new DefaultCamelContext();
        context.getRegistry().bind(client.target().clientBean(), client.clientConfigurer());
        context.getRegistry().bind("meters", new SimpleMeterRegistry());
        context.addRoutes(new RestTargetRoute(client.target()));
        context.start();
        client.start(context);
        return context;
    }

    protected static String seed() {
        return UUID.randomUUID().toString().substring(0, 12);
    }

    private int sent() {
        return peer().requestLog().size();
    }

    @Test
    void itsSettingsAreDeclaredAndDocumentedInTheReadmeReference() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        for (String key : settings()) {
            assertThat(Settings.find(key)).as("%s declared in Settings", key).isNotNull();
            assertThat(readme).as("%s in the README's configuration reference", key).contains("| `" + key + "` |");
        }
    }

    @Test
    void aGenuineWriteIsAuthenticatedAndPerformed() {
        String seed = seed();
        write(seed);
        assertWrittenOnce(seed);
        assertAuthenticated(peer().requestLog().get(sent() - 1));
    }

    /**
     * Asserts the request the peer received carries the target's credential: by default a bearer {@code Authorization}
     * header; a system with its own headers (Voucherify's {@code X-App-Id} and {@code X-App-Token}) checks those.
     */
    protected void assertAuthenticated(RestPeerSupport.Request request) {
        assertThat(request.header("Authorization")).startsWith("Bearer ");
    }

    @Test
    void a401FetchesANewTokenOnceWhereItCanThenIsPermanent() {
        if (tokenRefreshes()) {
            write(seed()); // a token is held
            int tokens = peer().tokensIssued();
            peer().revokeTokens();
            String seed = seed();
            write(seed);
            assertThat(peer().tokensIssued()).as("one new token after the 401").isEqualTo(tokens + 1);
            assertWrittenOnce(seed);
        }
        peer().refuseAll(true);
        try {
            int before = sent();
            assertThatThrownBy(() -> write(seed())).isInstanceOf(PermanentFailure.class).hasMessageContaining("401");
            assertThat(sent() - before).as("requests for a refused credential").isEqualTo(tokenRefreshes() ? 2 : 1);
        } finally {
            peer().refuseAll(false);
        }
    }

    @Test
    void forbiddenNotFoundAndUnprocessableArePermanentWithTheSystemsBoundedReason() {
        for (int status : new int[]{403, 404, 422}) {
            String message = "refused-" + status + " " + "x".repeat(5_000);
            peer().failNext(1, status, message);
            int before = sent();
            assertThatThrownBy(() -> write(seed())).isInstanceOf(PermanentFailure.class)
                    .hasMessageContaining("answered " + status).hasMessageContaining("refused-" + status)
                    .satisfies(e -> assertThat(e.getMessage().length()).as("reason length").isLessThan(400));
            assertThat(sent() - before).as("a permanent answer is not asked again").isEqualTo(1);
        }
    }

    @Test
    void serverErrorsTimeoutsAndGarbageAreTransient() {
        for (int status : new int[]{500, 502, 503}) {
            peer().failNext(1, status, "down-" + status);
            assertThatThrownBy(() -> write(seed())).isInstanceOf(TransientFailure.class)
                    .hasMessageContaining("answered " + status);
        }
        peer().delayNext(1, client().target().timeout().multipliedBy(3));
        assertThatThrownBy(() -> write(seed())).isInstanceOf(TransientFailure.class).hasMessageContaining("unreachable");
        peer().garbageNext(1);
        assertThatThrownBy(() -> write(seed())).isInstanceOf(TransientFailure.class).hasMessageContaining("not JSON");
    }

    @Test
    void a429IsWaitedOutForItsRetryAfterAndAskedAgainAndOneThatLastsIsTransient() {
        String seed = seed();
        double answered429 = rateLimitCount(RestClient.RATE_LIMITED);
        double waited = rateLimitCount(RestClient.WAITED);
        peer().rateLimitNext(1, "1");
        int before = sent();
        long started = System.nanoTime();
        write(seed);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("waited for Retry-After")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        assertThat(sent() - before).isEqualTo(2);
        assertWrittenOnce(seed);

        int retries = client().target().rateLimitRetries();
        peer().rateLimitNext(retries + 1, "0");
        before = sent();
        Throwable failure = org.assertj.core.api.Assertions.catchThrowable(() -> write(seed()));
        assertThat(failure).isInstanceOf(TransientFailure.class).hasMessageContaining("429");
        assertThat(FailureClassifier.isTransient(failure)).as("retried by the route policy, not dead-lettered").isTrue();
        assertThat(sent() - before).isEqualTo(retries + 1);
        // in metrics: every 429, and at least the wait for the first one's Retry-After
        assertThat(rateLimitCount(RestClient.RATE_LIMITED) - answered429).isEqualTo(1 + retries + 1);
        assertThat(rateLimitCount(RestClient.WAITED) - waited).isGreaterThanOrEqualTo(1);
    }

    private double rateLimitCount(String event) {
        MeterRegistry meters = context.getRegistry().findSingleByType(MeterRegistry.class);
        return meters.get(RestClient.RATE_LIMIT_METRIC).tag("system", client.target().system()).tag("event", event)
                .counter().count();
    }

    @Test
    void aWindowWithNothingLeftIsWaitedForInsteadOfSpendingA429() {
        assumeThat(announcesRateLimits()).as("the system announces its rate limit").isTrue();
        int served = peer().served429();
        peer().limitWindow(2, Duration.ofSeconds(1));
        try {
            for (int i = 0; i < 5; i++) write(seed());
            assertThat(peer().served429()).as("429s served while the window was announced").isEqualTo(served);
        } finally {
            peer().limitWindow(1_000, Duration.ofSeconds(10));
        }
    }

    @Test
    void aWriteCarriesItsIdempotencyKeyTheSameOnARetryAndIsPerformedOnce() {
        String seed = seed();
        peer().failNext(1, 503, "try again");
        int before = sent();
        assertThatThrownBy(() -> write(seed)).isInstanceOf(TransientFailure.class);
        write(seed);
        write(seed); // the answer to the first success was lost, say: asked once more
        List<RestPeerSupport.Request> asked = peer().requestLog().subList(before, sent());
        assertThat(asked).hasSize(3);
        if (idempotencyHeader() != null) {
            String key = asked.get(0).header(idempotencyHeader());
            assertThat(key).as("idempotency key").isNotBlank();
            assertThat(asked).allSatisfy(r -> assertThat(r.header(idempotencyHeader())).isEqualTo(key));
        }
        assertWrittenOnce(seed);
    }
}
