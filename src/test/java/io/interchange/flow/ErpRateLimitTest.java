package io.interchange.flow;

import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A backlog reaches the ERP no faster than its configured rate. */
class ErpRateLimitTest {

    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        // one entry per request: the backlog is 20 requests (a bulk request counts as one against the limit)
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.erp.s4.max-rate", "5",
                "interchange.erp.s4.bulk-size", "1"));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
    }

    @Test
    void aBacklogIsPostedAtNoMoreThanTheConfiguredRate() throws Exception {
        kit.s4.setAvailable(false);
        for (int i = 0; i < 20; i++) {
            assertThat(kit.sendSigned(Events.bytes(Events.invoicePaid("DE01"))).statusCode()).isEqualTo(200);
        }
        Thread.sleep(500);
        kit.s4.reset();
        long start = System.nanoTime();
        await().atMost(Duration.ofSeconds(60)).until(() -> kit.s4.postings().size() == 20);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        // 20 requests at 5 per second: the throttle cannot let them through in under three full periods
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofSeconds(3));
        assertThat(kit.s4.postings()).hasSize(20);

        // in metrics: every posting request timed, and the throttle's share of the time as its own
        String metrics = kit.get("/observe/metrics").body();
        assertThat(sample(metrics, "interchange_erp_call_seconds_count{call=\"post\",outcome=\"2xx\",target=\"S4HANA\"}"))
                .isGreaterThanOrEqualTo(20);
        // the backlog took three periods or more, much of them with a request held at the throttle (the peer answers in
        // milliseconds): the waits add up to a second at least (about two in the runs measured)
        assertThat(sample(metrics, "interchange_erp_throttle_wait_seconds_sum{target=\"S4HANA\"}")).isGreaterThanOrEqualTo(1);
        assertThat(sample(metrics, "interchange_erp_throttle_wait_seconds_count{target=\"S4HANA\"}")).isGreaterThanOrEqualTo(20);
    }

    private static double sample(String exposition, String series) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1).strip());
        }
        throw new AssertionError(series + " not in the metrics");
    }
}
