package io.interchange.routes;

import io.interchange.archive.EventArchiver;
import io.interchange.connectors.kafka.KafkaBatches;
import org.apache.camel.builder.RouteBuilder;

import java.util.List;

/**
 * The raw event archive (flow {@code archive}): every canonical topic read by a consumer group of its own, so the
 * archive never holds back the flows and they never hold it back, a poll's records handed to {@link EventArchiver},
 * which writes them into files per partition and commits each partition's offset by hand once a file is durably
 * written. Records arrive as bytes, as published.
 */
public class EventArchiveRoute extends RouteBuilder {

    public static final String CONSUMER_ID = "archive.consumer";

    private final EventArchiver archiver;
    private final List<String> topics;
    private final String consumerGroup;
    private final int batch;
    private final int consumers;

    public EventArchiveRoute(EventArchiver archiver, List<String> topics, String group, int batch, int consumers) {
        this.archiver = archiver;
        this.topics = List.copyOf(topics);
        this.consumerGroup = consumerGroup(group);
        this.batch = batch;
        this.consumers = consumers;
    }

    /** The archive's consumer group, beside the instance's group: every instance of the flow shares it. */
    public static String consumerGroup(String group) {
        return group + ".archive";
    }

    @Override
    public void configure() {
        // a poll at once; a batch completes when full or 200 ms after its first record (the archive is asynchronous,
        // larger batches write fewer open-file snapshots); offsets committed by the archiver at file boundaries only
        from("kafka:" + String.join(",", topics) + "?groupId=" + consumerGroup + "&autoOffsetReset=earliest"
                + "&batching=true&maxPollRecords=" + batch + "&pollTimeoutMs=100&batchingIntervalMs=200"
                + KafkaBatches.BYTE_VALUES
                + "&autoCommitEnable=false&allowManualCommit=true&consumersCount=" + consumers)
                .routeId(CONSUMER_ID)
                .process(archiver::process).id("archive.write-files");
    }
}
