package io.interchange.bench.e2e;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.billing.StripeSignatureVerifier;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.main.Main;
import org.apache.camel.processor.idempotent.jdbc.JdbcMessageIdRepository;

import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import java.util.UUID;

/**
 * Baseline (a): the same two flows written the way Camel's documentation suggests, on Camel's defaults: platform-http
 * (its default Vert.x worker pool), Camel's idempotent consumer over {@code JdbcMessageIdRepository} on the same
 * PostgreSQL, the Kafka component's default producer, a Kafka consumer taking one record per exchange. Signature
 * verification and mapping are the runtime's own classes, so the comparison is about the runtime around them.
 *
 * <p>Arguments: {@code ingest <httpPort> <jdbcUrl> <bootstrap> <topic>} or
 * {@code drain <jdbcUrl> <bootstrap> <sourceTopic> <topic> <group>}.
 */
public final class PlainCamelFlows {

    private PlainCamelFlows() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        MappingSource source = MappingSource.bundled();
        BillingEventTranslator translator = new BillingEventTranslator(MappingEngine.load(source), source);
        StripeSignatureVerifier verifier = new StripeSignatureVerifier(Events.SECRET, Duration.ofMinutes(5), Clock.systemUTC());
        boolean ingest = mode.equals("ingest");
        String jdbcUrl = ingest ? args[2] : args[1];
        String bootstrap = ingest ? args[3] : args[2];

        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(jdbcUrl);
        hc.setUsername("postgres");
        HikariDataSource ds = new HikariDataSource(hc);
        JdbcMessageIdRepository repository = new JdbcMessageIdRepository(ds, "billing");

        Main main = new Main();
        Properties p = new Properties();
        p.put("camel.component.kafka.brokers", bootstrap);
        if (ingest) {
            p.put("camel.server.enabled", "true");
            p.put("camel.server.port", args[1]);
        }
        main.setOverrideProperties(p);
        main.bind("repository", repository);
        main.configure().addRoutesBuilder(new RouteBuilder() {
            @Override
            public void configure() {
                if (ingest) {
                    from("platform-http:/webhooks/billing?httpMethodRestrict=POST")
                            .process(e -> {
                                byte[] body = e.getMessage().getBody(byte[].class);
                                verifier.verify(e.getMessage().getHeader(StripeSignatureVerifier.HEADER, String.class), body);
                                translate(e, translator.translate(translator.parse(body), UUID.randomUUID().toString()));
                            })
                            .idempotentConsumer(header("BenchKey")).idempotentRepository("repository").skipDuplicate(false)
                            .choice()
                                .when(exchangeProperty(Exchange.DUPLICATE_MESSAGE))
                                    .setBody(constant("{\"status\":\"duplicate\"}"))
                                .otherwise()
                                    .to("kafka:" + args[4])
                                    .setBody(constant("{\"status\":\"accepted\"}"))
                            .end();
                } else {
                    from("kafka:" + args[3] + "?groupId=" + args[5] + "&autoOffsetReset=earliest")
                            .process(e -> translate(e, translator.translate(
                                    translator.parse(e.getMessage().getBody(byte[].class)), UUID.randomUUID().toString())))
                            .idempotentConsumer(header("BenchKey")).idempotentRepository("repository")
                            .to("kafka:" + args[4]);
                }
            }
        });
        main.start();
        System.out.println("READY");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                main.stop();
            } catch (Exception ignored) {
                // exiting anyway
            }
            ds.close();
        }));
        Thread.currentThread().join();
    }

    private static void translate(Exchange e, BillingEventTranslator.Translated t) {
        var m = e.getMessage();
        m.getHeaders().clear();
        CloudEventHeaders.write(t.envelope(), m);
        m.setHeader(KafkaConstants.KEY, t.envelope().subject());
        m.setHeader("BenchKey", "billing:stripe:" + t.sourceEventId());
        m.setBody(t.json());
    }
}
