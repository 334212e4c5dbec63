package io.interchange.fault;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.StripeEventFactory;
import io.interchange.sandbox.StripeSigner;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The crash window KillNineFaultIT hits now and then, made deterministic: a process killed after claiming a webhook's
 * idempotency key and before publishing leaves the key PENDING. Until its lease runs out, the sender's retries must be
 * told "in progress" (409) and, after it, the retry must take the key over and publish — never be acknowledged as a
 * duplicate of something that was never published.
 */
class InProgressDuplicateFaultIT extends FaultScenario {

    private static final Duration LEASE = Duration.ofSeconds(10);

    @Test
    void aRetryWhileTheKeyOfADeadDeliveryIsPendingIsNeverAcknowledgedAsADuplicate() throws Exception {
        environment("in-progress-duplicate");
        RuntimeProcess rt = runtime("a", Map.of("INTERCHANGE_IDEMPOTENCY_LEASE", "PT" + LEASE.toSeconds() + "S"))
                .awaitReady(READY);

        StripeEventFactory factory = new StripeEventFactory(new Random(409));
        long now = Instant.now().getEpochSecond();
        var invoice = factory.issue(new StripeEventFactory.InvoiceSpec(factory.newCustomerId(), "cust-409409", "DE01",
                "EUR", List.of(new StripeEventFactory.InvoiceSpec.Line("1 x Pro plan", 1, 8_000)), new BigDecimal("19"),
                now - 3_600));
        ObjectNode event = factory.invoiceFinalized(invoice, now);
        String id = event.path("id").asText();
        byte[] body = StripeEventFactory.toBytes(event);

        // what a process killed between claiming the key and publishing the event leaves behind
        try (Connection c = env.storeConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO idempotency_key (key_value, state, created_at, updated_at, expires_at) "
                        + "VALUES (?, 'PENDING', now(), now(), now() + interval '30 days')")) {
            ps.setString(1, "billing:stripe:" + id);
            ps.executeUpdate();
        }
        long claimed = System.currentTimeMillis();

        HttpClient http = HttpClient.newHttpClient();
        List<String> answers = new ArrayList<>();
        // two retries well inside the lease
        HttpResponse<String> first = send(http, rt, body);
        answers.add(first.statusCode() + " " + first.body());
        HttpResponse<String> second = send(http, rt, body);
        answers.add(second.statusCode() + " " + second.body());
        boolean secondInLease = System.currentTimeMillis() - claimed < LEASE.toMillis();

        // after the lease, retry as Stripe does until accepted
        Thread.sleep(Math.max(0, claimed + LEASE.toMillis() + 500 - System.currentTimeMillis()));
        HttpResponse<String> after = null;
        for (int i = 0; i < 20; i++) {
            after = send(http, rt, body);
            answers.add(after.statusCode() + " " + after.body());
            if (after.statusCode() / 100 == 2) break;
            Thread.sleep(500);
        }
        long deadline = System.currentTimeMillis() + 30_000;
        while (postings() == 0 && System.currentTimeMillis() < deadline) Thread.sleep(200);
        Thread.sleep(2000);
        Integer onKafka = env.billingRecordsPerEventId().get(id);
        int posted = (int) env.s4.postings().stream().filter(p -> p.uuid() != null && p.uuid().equals(
                UUID.nameUUIDFromBytes(("posting:" + id).getBytes(StandardCharsets.UTF_8)).toString())).count();

        StringBuilder sb = new StringBuilder("=== InProgressDuplicateFaultIT: " + Instant.now().truncatedTo(ChronoUnit.SECONDS)
                + " ===\n");
        sb.append("  webhook key of ").append(id).append(" left PENDING by a dead delivery, lease ").append(LEASE).append('\n');
        for (int i = 0; i < answers.size(); i++) {
            sb.append("  answer ").append(i + 1).append(i < 2 ? " (inside the lease): " : " (after the lease): ")
                    .append(answers.get(i).replaceAll("\\s+", " ")).append('\n');
        }
        sb.append("  records on Kafka with this ce_id: ").append(onKafka == null ? 0 : onKafka).append('\n');
        sb.append("  S/4HANA postings of it: ").append(posted).append('\n');
        String table = sb.toString();
        System.out.println(table);
        Files.writeString(FaultSettings.reportFile(), table + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);

        assertThat(first.statusCode()).as("first retry inside the lease\n" + table).isEqualTo(409);
        assertThat(secondInLease).as("second retry was sent inside the lease").isTrue();
        assertThat(second.statusCode()).as("second retry inside the lease: still in progress, not a duplicate\n" + table)
                .isEqualTo(409);
        assertThat(after.body()).as("retry after the lease\n" + table).contains("accepted");
        assertThat(onKafka).as("the event is on Kafka once\n" + table).isEqualTo(1);
        assertThat(posted).as("and posted once\n" + table).isEqualTo(1);
    }

    private HttpResponse<String> send(HttpClient http, RuntimeProcess rt, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(rt.webhookUrl()).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json; charset=utf-8")
                .header("Stripe-Signature", StripeSigner.header(env.webhookSecret, System.currentTimeMillis() / 1000, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
