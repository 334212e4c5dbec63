package io.interchange.flow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** While Kafka is down a webhook is answered 503 and not remembered, so the sender's retry after recovery posts once. */
class BrokerOutageTest {

    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        kit = RuntimeKit.start(Databases.Backend.POSTGRES, Map.of());
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Test
    void webhookDuringABrokerOutageGets503AndItsRetryIsPostedOnce() throws Exception {
        ObjectNode warmUp = Events.invoicePaid("DE01");
        assertThat(kit.sendSigned(Events.bytes(warmUp)).statusCode()).isEqualTo(200);
        // marked done before the answer is written (not by a hook on the HTTP event loop afterwards)
        assertThat(kit.runtime.store().idempotency().state("billing:stripe:" + warmUp.get("id").asText()))
                .isEqualTo("DONE");
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.s4.postings().size() == 1);

        kit.kafka.close();
        ObjectNode event = Events.invoicePaid("DE01");
        String id = event.get("id").asText();
        long started = System.nanoTime();
        HttpResponse<String> during = kit.sendSigned(Events.bytes(event));
        assertThat(during.statusCode()).as(during.body()).isEqualTo(503);
        assertThat(during.headers().firstValue("Retry-After")).isPresent();
        assertThat(new ObjectMapper().readTree(during.body()).path("reason").asText()).contains("retry later");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(25));
        assertThat(kit.runtime.store().idempotency().state("billing:stripe:" + id)).isNull();

        kit.restartKafka();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            HttpResponse<String> retry = kit.sendSigned(Events.bytes(event));
            return retry.statusCode() == 200;
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> kit.s4.postings().size() == 2);
        Thread.sleep(2000);
        assertThat(kit.s4.postings()).hasSize(2);
        assertThat(kit.runtime.store().idempotency().state("billing:stripe:" + id)).isEqualTo("DONE");
    }
}
