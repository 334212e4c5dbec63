package io.interchange.bench.e2e;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.interchange.connectors.billing.BillingEventTranslator;
import io.interchange.connectors.billing.StripeSignatureVerifier;
import io.interchange.connectors.erp.S4HanaConnector;
import io.interchange.connectors.erp.SoapSupport;
import io.interchange.connectors.kafka.CloudEventHeaders;
import io.interchange.ledger.LedgerPostingService;
import io.interchange.mapping.MappingEngine;
import io.interchange.mapping.MappingSource;
import io.interchange.model.Envelope;
import io.interchange.model.LedgerPosting;
import io.interchange.store.ErpConfirmations;
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
 * <p>The post flow (canonical billing events to S/4HANA journal entries) likewise: a Kafka consumer taking one record
 * per exchange, the idempotent consumer, the runtime's posting rules and S/4HANA connector (one entry per request,
 * its endpoint URI and HTTP client settings) over camel-http, camel-sql for the confirmation, the Kafka producer.
 *
 * <p>Arguments: {@code ingest <httpPort> <jdbcUrl> <bootstrap> <topic>},
 * {@code drain <jdbcUrl> <bootstrap> <sourceTopic> <topic> <group>} or
 * {@code post <jdbcUrl> <bootstrap> <sourceTopic> <ledgerTopic> <group> <s4Url> <s4User> <s4Password>}.
 */
public final class PlainCamelFlows {

    private PlainCamelFlows() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        MappingSource source = MappingSource.bundled();
        BillingEventTranslator translator = new BillingEventTranslator(MappingEngine.load(source), source, null,
                BillingEventTranslator.Livemode.ANY, "", null);
        StripeSignatureVerifier verifier = new StripeSignatureVerifier(Events.SECRET, Duration.ofMinutes(5), Clock.systemUTC());
        boolean ingest = mode.equals("ingest");
        String jdbcUrl = ingest ? args[2] : args[1];
        String bootstrap = ingest ? args[3] : args[2];

        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(jdbcUrl);
        hc.setUsername("postgres");
        HikariDataSource ds = new HikariDataSource(hc);
        JdbcMessageIdRepository repository = new JdbcMessageIdRepository(ds, mode.equals("post") ? "ledger" : "billing");

        Main main = new Main();
        Properties p = new Properties();
        p.put("camel.component.kafka.brokers", bootstrap);
        if (ingest) {
            p.put("camel.server.enabled", "true");
            p.put("camel.server.port", args[1]);
        }
        main.setOverrideProperties(p);
        main.bind("repository", repository);
        main.configure().addRoutesBuilder(mode.equals("post") ? posting(main, args, jdbcUrl, ds) : new RouteBuilder() {
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

    private static final String ENVELOPE = "BenchEnvelope";
    private static final String POSTING = "BenchPosting";
    private static final String CONFIRMATION = "BenchConfirmation";

    /** {@code post}: billing topic -> S/4HANA, one journal entry per request, confirmation stored and published. */
    private static RouteBuilder posting(Main main, String[] args, String jdbcUrl, HikariDataSource ds) throws Exception {
        main.bind("ds", ds);
        LedgerParts parts = new LedgerParts(args[6], args[7], args[8]);
        LedgerParts.createTables(jdbcUrl);
        S4HanaConnector s4 = parts.s4;
        main.bind(s4.endpoint().configurerBean(), s4.endpoint().clientConfigurer());
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("kafka:" + args[3] + "?groupId=" + args[5] + "&autoOffsetReset=earliest")
                        .process(e -> {
                            Envelope envelope = CloudEventHeaders.read(e.getMessage());
                            e.setProperty(ENVELOPE, envelope);
                            e.getMessage().setHeader("BenchKey", LedgerPostingService.postingKey(envelope.id()));
                        })
                        .idempotentConsumer(header("BenchKey")).idempotentRepository("repository")
                        .process(e -> {
                            LedgerPosting p = parts.prepare(e.getProperty(ENVELOPE, Envelope.class),
                                    e.getMessage().getBody(byte[].class));
                            e.setProperty(POSTING, p);
                            var m = e.getMessage();
                            m.getHeaders().clear();
                            m.setHeader(Exchange.CONTENT_TYPE, SoapSupport.CONTENT_TYPE);
                            m.setBody(s4.request(p));
                        })
                        .to(s4.endpointUri())
                        .process(e -> {
                            var m = e.getMessage();
                            var answer = s4.read(m.getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class), m.getBody(byte[].class));
                            LedgerPosting p = e.getProperty(POSTING, LedgerPosting.class);
                            var c = LedgerParts.confirmation(p, answer, e.getProperty(ENVELOPE, Envelope.class).correlationId());
                            e.setProperty(CONFIRMATION, c);
                            m.getHeaders().clear();
                            m.setHeader("postingKey", c.postingKey());
                            m.setHeader("eventId", c.eventId());
                            m.setHeader("legalEntity", c.legalEntity());
                            m.setHeader("erpTarget", c.erpTarget());
                            m.setHeader("companyCode", c.companyCode());
                            m.setHeader("document", c.accountingDocument());
                            m.setHeader("fiscalYear", c.fiscalYear());
                            m.setHeader("correlationId", c.correlationId());
                        })
                        .to("sql:INSERT INTO erp_confirmation (posting_key, event_id, legal_entity, erp_target, "
                                + "company_code, accounting_document, fiscal_year, correlation_id, created_at) VALUES "
                                + "(:#postingKey, :#eventId, :#legalEntity, :#erpTarget, :#companyCode, :#document, "
                                + ":#fiscalYear, :#correlationId, now()) ON CONFLICT DO NOTHING?dataSource=#ds")
                        .process(e -> {
                            LedgerPosting p = e.getProperty(POSTING, LedgerPosting.class);
                            Envelope source = e.getProperty(ENVELOPE, Envelope.class);
                            var m = e.getMessage();
                            m.getHeaders().clear();
                            CloudEventHeaders.write(LedgerParts.ledgerEnvelope(p, source), m);
                            m.setHeader(KafkaConstants.KEY, source.subject());
                            m.setBody(LedgerParts.ledgerJson(p, e.getProperty(CONFIRMATION, ErpConfirmations.Confirmation.class)));
                        })
                        .to("kafka:" + args[4]);
            }
        };
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
