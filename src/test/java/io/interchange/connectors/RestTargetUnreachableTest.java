package io.interchange.connectors;

import io.interchange.testkit.Ports;
import io.interchange.connectors.rest.RestAuth;
import io.interchange.connectors.rest.RestClient;
import io.interchange.connectors.rest.RestRequest;
import io.interchange.connectors.rest.RestTarget;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** A target nobody listens for is transient (retried, never dead-lettered); a target without a credential is not called. */
class RestTargetUnreachableTest {

    @Test
    void aTargetNobodyListensForIsTransient() throws Exception {
        int port = Ports.free();
        RestClient client = new RestClient(RestTarget.of("test.unreachable", "Test API", "http://127.0.0.1:" + port,
                Duration.ofSeconds(1), 5, RestAuth.bearer("key")));
        try (CamelContext context = OutboundRestContract.startRoute(client)) {
            Throwable failure = catchThrowable(() -> client.call(RestRequest.get("/v1/things")));
            assertThat(failure).isInstanceOf(TransientFailure.class).hasMessageContaining("Test API GET /v1/things unreachable");
            assertThat(FailureClassifier.isTransient(failure)).isTrue();
        }
    }

    @Test
    void aTargetWithoutACredentialIsNotCalled() {
        RestClient client = new RestClient(RestTarget.of("test.unconfigured", "Test API", "http://127.0.0.1:9",
                Duration.ofSeconds(1), 5, RestAuth.bearer("")));
        assertThat(client.enabled()).isFalse();
        assertThatThrownBy(() -> client.call(RestRequest.get("/v1/things"))).isInstanceOf(PermanentFailure.class)
                .hasMessageContaining("not configured");
    }
}
