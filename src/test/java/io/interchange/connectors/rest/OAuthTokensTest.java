package io.interchange.connectors.rest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.reliability.PermanentFailure;
import io.interchange.sandbox.rest.RestPeerSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The client credentials grant against a token endpoint over HTTP: one token shared, one refresh for concurrent callers. */
class OAuthTokensTest {

    static RestPeerSupport peer;

    @BeforeAll
    static void start() throws Exception {
        peer = new RestPeerSupport("oauth", 0) {
            @Override
            protected Answer handle(Request request) {
                return Answer.json(200, JSON.createObjectNode());
            }

            @Override
            protected Answer error(int status, String code, String message) {
                ObjectNode body = JSON.createObjectNode().put("message", message);
                return Answer.json(status, body);
            }
        }.start();
        peer.serveTokens("/oauth2/token", "client", "secret", null, Duration.ofMinutes(30));
    }

    @AfterAll
    static void stop() {
        peer.close();
    }

    @Test
    void concurrentCallersShareOneTokenAndARefusedTokenIsFetchedAgainOnce() throws Exception {
        OAuthTokens tokens = new OAuthTokens(peer.tokenUrl(), "client", "secret", "api.write", null, Duration.ofSeconds(5));
        int issued = peer.tokensIssued();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                answers.add(pool.submit(() -> {
                    go.await();
                    return tokens.authorization();
                }));
            }
            go.countDown();
            Set<String> seen = new HashSet<>();
            for (Future<String> f : answers) seen.add(f.get());
            assertThat(seen).hasSize(1).allSatisfy(h -> assertThat(h).startsWith("Bearer at-"));
            assertThat(peer.tokensIssued() - issued).as("token requests").isEqualTo(1);

            String refused = seen.iterator().next();
            assertThat(tokens.rejected(refused)).isTrue();
            assertThat(tokens.rejected(refused)).as("a second caller refused with the same token").isTrue();
            List<Future<String>> after = new ArrayList<>();
            for (int i = 0; i < 8; i++) after.add(pool.submit(tokens::authorization));
            Set<String> renewed = new HashSet<>();
            for (Future<String> f : after) renewed.add(f.get());
            assertThat(renewed).hasSize(1).doesNotContain(refused);
            assertThat(peer.tokensIssued() - issued).as("one more token for all of them").isEqualTo(2);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aTokenIsKeptUntilShortlyBeforeItsLifetimeEndsThenFetchedAgain() {
        AtomicLong now = new AtomicLong(0);
        OAuthTokens tokens = new OAuthTokens(peer.tokenUrl(), "client", "secret", "", null, Duration.ofSeconds(5), now::get);
        int issued = peer.tokensIssued();
        String first = tokens.authorization();
        now.set(Duration.ofMinutes(29).minusSeconds(1).toNanos()); // the peer's tokens live 30 minutes; refreshed 60 s before
        assertThat(tokens.authorization()).isEqualTo(first);
        now.set(Duration.ofMinutes(29).plusSeconds(1).toNanos());
        assertThat(tokens.authorization()).isNotEqualTo(first);
        assertThat(peer.tokensIssued() - issued).isEqualTo(2);
    }

    @Test
    void aClientTheTokenEndpointRefusesIsPermanent() {
        OAuthTokens tokens = new OAuthTokens(peer.tokenUrl(), "client", "wrong", "", null, Duration.ofSeconds(5));
        assertThatThrownBy(tokens::authorization).isInstanceOf(PermanentFailure.class).hasMessageContaining("401")
                .hasMessageContaining("client authentication failed");
    }
}
