package io.interchange.bench.e2e;

import io.interchange.sandbox.EmbeddedKafka;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The shared infrastructure of a run: a durable embedded PostgreSQL 18 (every commit waits for its WAL flush, as in
 * production; zonky turns both {@code synchronous_commit} and {@code fsync} off, both are set back on and checked)
 * and a single-node KRaft Kafka broker (the runtime's own embedded broker) in the harness JVM.
 */
final class Infra implements AutoCloseable {

    final EmbeddedPostgres postgres;
    final EmbeddedKafka kafka;
    final Admin admin;
    final Path workDir;

    Infra(Path workDir) throws IOException {
        this.workDir = workDir;
        Files.createDirectories(workDir);
        postgres = EmbeddedPostgres.builder()
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("fsync", "on") // -c fsync=on comes after zonky's -F, so it wins
                .setServerConfig("max_connections", "300")
                .start();
        for (String setting : new String[]{"synchronous_commit", "fsync"}) {
            String value = show(setting);
            if (!"on".equals(value)) {
                throw new IllegalStateException(setting + " is " + value + ": commits would not wait for the disk");
            }
        }
        kafka = EmbeddedKafka.start(workDir.resolve("kafka"), freePort());
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        admin = Admin.create(p);
    }

    String bootstrap() {
        return kafka.bootstrapServers();
    }

    /** A new, empty database; its JDBC URL. */
    String newDatabase(String name) throws SQLException {
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"), "postgres", "")) {
            c.createStatement().execute("DROP DATABASE IF EXISTS " + name);
            c.createStatement().execute("CREATE DATABASE " + name);
        }
        return postgres.getJdbcUrl("postgres", name);
    }

    void dropDatabase(String name) {
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"), "postgres", "")) {
            c.createStatement().execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (SQLException e) {
            System.err.println("could not drop database " + name + ": " + e.getMessage());
        }
    }

    long count(String jdbcUrl, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
             var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Creates the topic and waits (up to 10 s) until every partition has a leader, so the first sends find one. */
    void createTopic(String topic, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                var parts = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
                if (parts.size() == partitions && parts.stream().allMatch(p -> p.leader() != null && p.leader().id() >= 0)) {
                    return;
                }
            } catch (java.util.concurrent.ExecutionException e) {
                // not known to the broker's metadata yet
            }
            Thread.sleep(50);
        }
    }

    void deleteTopic(String topic) {
        try {
            admin.deleteTopics(List.of(topic)).all().get();
        } catch (Exception e) {
            System.err.println("could not delete topic " + topic + ": " + e.getMessage());
        }
    }

    /** Records written to the topic so far (sum of end offsets). */
    long records(String topic) throws Exception {
        var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (var p : partitions) request.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
        long sum = 0;
        for (ListOffsetsResult.ListOffsetsResultInfo info : admin.listOffsets(request).all().get().values()) {
            sum += info.offset();
        }
        return sum;
    }

    /** Offsets the group has committed on the topic (sum over partitions). */
    long committed(String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get();
        long sum = 0;
        for (OffsetAndMetadata o : offsets.values()) if (o != null) sum += o.offset();
        return sum;
    }

    private String show(String setting) {
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"), "postgres", "");
             var rs = c.createStatement().executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final AtomicInteger NEXT_PORT =
            new AtomicInteger(ThreadLocalRandom.current().nextInt(17_000));

    /**
     * A port for a server started as a separate process, from below the kernel's ephemeral range (32768 up): a port
     * from {@code new ServerSocket(0)}, released at once, can be drawn again by any of the run's outgoing connections
     * before the process binds it. Handed out once per run, after a bind shows it free.
     */
    static int freePort() throws IOException {
        for (int tried = 0; tried < 17_000; tried++) {
            int port = 15_000 + Math.floorMod(NEXT_PORT.getAndIncrement(), 17_000);
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(port));
                return port;
            } catch (IOException taken) {
                // next one
            }
        }
        throw new IOException("no free port between 15000 and 32000");
    }

    @Override
    public void close() throws IOException {
        admin.close();
        kafka.close();
        postgres.close();
    }
}
