package io.interchange.connectors.rest;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The headers each kind of credential has the request interceptor set, and when it counts as configured. */
class RestAuthTest {

    @Test
    void aBearerKeyIsOneAuthorizationHeader() {
        RestAuth auth = RestAuth.bearer(" sk_test_1 ");
        assertThat(auth.configured()).isTrue();
        assertThat(auth.authorization()).isEqualTo("Bearer sk_test_1");
        assertThat(auth.headers()).isEqualTo(Map.of("Authorization", "Bearer sk_test_1"));
        assertThat(RestAuth.bearer("").configured()).isFalse();
    }

    @Test
    void appKeysAreTwoHeadersAndNoAuthorization() {
        RestAuth auth = RestAuth.appKeys(" app-1 ", " token-1 ");
        assertThat(auth.configured()).isTrue();
        assertThat(auth.headers()).containsExactly(Map.entry("X-App-Id", "app-1"), Map.entry("X-App-Token", "token-1"));
        assertThat(auth.authorization()).as("no Authorization header").isEmpty();
        assertThat(auth.rejected(auth.authorization())).as("a fixed key is not asked again after a 401").isFalse();
        assertThat(auth.toString()).contains("app-1").doesNotContain("token-1");
    }

    @Test
    void appKeysWithoutBothPartsAreNotConfiguredAndSendNothing() {
        for (RestAuth auth : new RestAuth[]{RestAuth.appKeys("app-1", ""), RestAuth.appKeys(null, "token-1")}) {
            assertThat(auth.configured()).isFalse();
            assertThat(auth.headers()).isEmpty();
        }
    }
}
