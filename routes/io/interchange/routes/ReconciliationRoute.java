package io.interchange.routes;

import io.interchange.reconciliation.Reconciliation;
import org.apache.camel.builder.RouteBuilder;

/**
 * Reconciliation of billing against the ERP ledger and our confirmations ({@link Reconciliation}), part of the
 * billing-ledger flow: the daily job, on one instance of all ({@code master:} over the runtime's cluster service),
 * reconciles each entity's last closed day; every finished run, daily or asked for over JMX, is announced on the
 * reconciliation topic.
 */
public class ReconciliationRoute extends RouteBuilder {

    public static final String JOB_ID = "reconciliation.daily";
    /** The cluster service's namespace of the job: its lock file. */
    public static final String NAMESPACE = "reconciliation";
    /** Where a finished run's canonical event is sent. */
    public static final String PUBLISH = "direct:reconciliation.publish";

    private final Reconciliation reconciliation;
    private final String topic;
    private final boolean daily;
    private final long checkMillis;
    private final String instance;

    public ReconciliationRoute(Reconciliation reconciliation, String topic, boolean daily, long checkMillis, String instance) {
        this.reconciliation = reconciliation;
        this.topic = topic;
        this.daily = daily;
        this.checkMillis = checkMillis;
        this.instance = instance;
    }

    @Override
    public void configure() {
        if (daily) {
            // the first check one period after start: a day is due for hours, and a restart need not read every system
            from("master:" + NAMESPACE + ":timer:" + JOB_ID + "?period=" + checkMillis + "&delay=" + checkMillis)
                    .routeId(JOB_ID)
                    .process(e -> e.getMessage().setBody(reconciliation.runClosedDays().size()))
                    .id("reconciliation.run-closed-days")
                    // one line per check: which instance holds the job is visible
                    .log("Reconciliation check on instance " + instance + ": ${body} run(s)")
                    .id("reconciliation.log-check");
        }

        from(PUBLISH)
                .routeId("reconciliation.publish")
                .to("kafka:" + topic).id("kafka.publish-reconciliation");
    }
}
