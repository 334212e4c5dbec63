package io.interchange.fault;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An orderly stop (SIGTERM, as a deployment's rollout or an operator's Ctrl-C sends it) of the packaged runtime under a
 * steady stream, twice, each time while postings are under way, then started again: routes and consumers drain
 * within interchange.shutdown-timeout before the store and Kafka close, so the stop logs no error and exits on its
 * own, and every accepted event is posted exactly once.
 */
class GracefulStopFaultIT extends FaultScenario {

    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(15);

    @Test
    void anOrderlyStopUnderLoadLogsNoErrorAndLosesOrDoublesNothing() throws Exception {
        environment("graceful-stop");
        RuntimeProcess rt = runtime("a", Map.of("INTERCHANGE_SHUTDOWN_TIMEOUT", "PT15S")).awaitReady(READY);
        load("GracefulStopFaultIT", 36L, List.of(rt.webhookUrl()));

        int stop = 0;
        for (double at : new double[]{0.35, 0.70}) {
            generator.awaitProgress(at, streamTimeout());
            if (stop == 0) awaitPostings(0, 20, Duration.ofSeconds(120));
            stop++;
            long errorsBefore = errorLines(rt);
            long stoppedAt = System.currentTimeMillis();
            rt.stop(SHUTDOWN_TIMEOUT.plusSeconds(15));
            long stopMillis = System.currentTimeMillis() - stoppedAt;
            check.extra("stop #" + stop + ": the process was gone after (s)", seconds(stoppedAt, stoppedAt + stopMillis));
            assertThat(Duration.ofMillis(stopMillis)).as("stop #%d ended on its own, within the shutdown timeout", stop)
                    .isLessThan(SHUTDOWN_TIMEOUT.plusSeconds(10));
            assertThat(errorLines(rt) - errorsBefore).as("ERROR lines while stopping (#%d):%n%s", stop,
                    String.join("\n", rt.logLines().stream().filter(GracefulStopFaultIT::isError).toList())).isZero();
            rt.start().awaitReady(READY);
        }
        assertThat(generator.awaitFinished(streamTimeout())).as("stream finished").isTrue();

        LedgerCheck.Result r = check.drain(drainTimeout(), stallTimeout());
        String table = check.report(r);
        LedgerCheck.assertExactlyOnce(r, table);
        assertThat(rt.starts()).isEqualTo(3);
    }

    /** An error the runtime logged; dead letters of deliberately bad events are expected and not counted. */
    private static boolean isError(String line) {
        return line.contains(" ERROR ") && !line.contains("Dead-lettered on route");
    }

    private static long errorLines(RuntimeProcess rt) {
        return rt.logLines().stream().filter(GracefulStopFaultIT::isError).count();
    }
}
