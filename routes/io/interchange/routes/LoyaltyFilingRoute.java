package io.interchange.routes;

import io.interchange.ledger.LoyaltyDailyFiling;
import org.apache.camel.builder.RouteBuilder;

/**
 * The daily filing of loyalty points transactions ({@link LoyaltyDailyFiling}), part of the billing-ledger flow: the
 * recorder keeps the transactions of the entities filed daily as they arrive on the loyalty topic (its own consumer
 * group), and the job, on one instance of all ({@code master:} over the runtime's cluster service), files each closed
 * day and publishes the filing to the loyalty topic, where the ledger's consumers post it.
 */
public class LoyaltyFilingRoute extends RouteBuilder {

    public static final String RECORDER_ID = "loyalty.filing-recorder";
    public static final String JOB_ID = "loyalty.daily-filing";
    /** The cluster service's namespace of the job: its lock file. */
    public static final String NAMESPACE = "loyalty-filing";
    static final String PUBLISH = "direct:loyalty.publish-filing";

    private final LoyaltyDailyFiling filing;
    private final String loyaltyTopic;
    private final String consumerGroup;
    private final long checkMillis;
    private final int consumers;
    private final String instance;
    private org.apache.camel.ProducerTemplate publisher;

    /**
     * {@code consumers}: the recorder's consumer threads (as many as the ledger's per target); {@code instance}: this
     * process among the instances, named in each run's log line.
     */
    public LoyaltyFilingRoute(LoyaltyDailyFiling filing, String loyaltyTopic, String consumerGroup, long checkMillis,
                              int consumers, String instance) {
        this.filing = filing;
        this.consumers = consumers;
        this.instance = instance;
        this.loyaltyTopic = loyaltyTopic;
        this.consumerGroup = consumerGroup;
        this.checkMillis = checkMillis;
    }

    /** The recorder's consumer group: the instance's group with {@code .loyalty-filing} appended. */
    public static String consumerGroup(String group) {
        return group + ".loyalty-filing";
    }

    @Override
    public void configure() {
        publisher = getContext().createProducerTemplate();
        // offsets are committed by the recorder once a poll's transactions are in the store
        from("kafka:" + loyaltyTopic + "?groupId=" + consumerGroup(consumerGroup) + "&autoOffsetReset=earliest"
                + "&batching=true&maxPollRecords=500&pollTimeoutMs=100&batchingIntervalMs=10"
                + "&autoCommitEnable=false&allowManualCommit=true&breakOnFirstError=true&consumersCount=" + consumers)
                .routeId(RECORDER_ID)
                .process(filing::record).id("loyalty.record-for-filing");

        from("master:" + NAMESPACE + ":timer:" + JOB_ID + "?period=" + checkMillis + "&delay=" + Math.min(checkMillis, 5000))
                .routeId(JOB_ID)
                .process(e -> e.getMessage().setBody(filing.fileClosedDays(publisher, PUBLISH).size()))
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
