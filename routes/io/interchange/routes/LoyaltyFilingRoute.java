package io.interchange.routes;

import io.interchange.ledger.FilingRecorders;
import io.interchange.ledger.LoyaltyDailyFiling;
import org.apache.camel.builder.RouteBuilder;

/**
 * The daily filing of loyalty points transactions ({@link LoyaltyDailyFiling}), part of the billing-ledger flow: the
 * ledger's consumers record the transactions of the entities filed daily as they arrive on the loyalty topic
 * ({@link LedgerPostingRoute}), and the job, on one instance of all ({@code master:} over the runtime's cluster
 * service), files each closed day and publishes the filing to the loyalty topic, where the ledger's consumers post it.
 * A day closes once its ERP target's ledger consumers have read everything published before its close; before each
 * check, until it is done, the job hands over from the recorder group of earlier versions ({@link FilingRecorders}).
 */
public class LoyaltyFilingRoute extends RouteBuilder {

    public static final String JOB_ID = "loyalty.daily-filing";
    /** The cluster service's namespace of the job: its lock file. */
    public static final String NAMESPACE = "loyalty-filing";
    static final String PUBLISH = "direct:loyalty.publish-filing";

    private final LoyaltyDailyFiling filing;
    private final FilingRecorders recorders;
    private final String loyaltyTopic;
    private final long checkMillis;
    private final String instance;
    private org.apache.camel.ProducerTemplate publisher;

    /** {@code instance}: this process among the instances, named in each run's log line. */
    public LoyaltyFilingRoute(LoyaltyDailyFiling filing, FilingRecorders recorders, String loyaltyTopic,
                              long checkMillis, String instance) {
        this.filing = filing;
        this.recorders = recorders;
        this.instance = instance;
        this.loyaltyTopic = loyaltyTopic;
        this.checkMillis = checkMillis;
    }

    @Override
    public void configure() {
        publisher = getContext().createProducerTemplate();

        from("master:" + NAMESPACE + ":timer:" + JOB_ID + "?period=" + checkMillis + "&delay=" + Math.min(checkMillis, 5000))
                .routeId(JOB_ID)
                // a failure here (the broker unreachable) fails this run: no day is filed before the hand-over is made
                .process(e -> recorders.handOver()).id("loyalty.hand-over-from-recorder-group")
                .process(e -> e.getMessage().setBody(filing.fileClosedDays(publisher, PUBLISH, recorders::behind).size()))
                .id("loyalty.file-closed-days")
                // one line per run (every interchange.loyalty.filing-check): which instance holds the job is visible
                .log("Loyalty filing check on instance " + instance + ": ${body} filing(s) published")
                .id("loyalty.log-filing-check");

        from(PUBLISH)
                .routeId("loyalty.publish-filing")
                // the body is a list of filings; batchWithIndividualHeaders: each keeps its own CloudEvents headers and key
                .to("kafka:" + loyaltyTopic + "?batchWithIndividualHeaders=true").id("kafka.publish-loyalty-filing");
    }
}
