package io.interchange.sandbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.loyalty.LoyaltyPeer;
import io.interchange.sandbox.loyalty.LoyaltyWebhookSender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * What the loyalty program's members and the platform do in the sandbox, one action every {@code every}, drawn from a
 * {@link Random} of the given seed (the banner's, so the same seed makes the same choices among the same members):
 * <ul>
 * <li><b>earn</b>: points added to a member through the platform's balance API ({@code POST
 * /v1/loyalties/members/{memberId}/balance}, {@code source_id} {@code sandbox-earn:<n>}), a stand-in for paid
 * invoices. The billing simulator's customers are not customers of the master (their global ids are its own, the
 * customer sync mints others), so none of its payments can find a member and flow {@code loyalty-earning} would only
 * park them; the simulator earns for the members the customer sync made instead. Earning favours the earliest
 * members, so a few of them climb to the top tier within a minute or two;</li>
 * <li><b>redeem</b>: a member spends points on a pay-with-points reward ({@code POST .../members/{memberId}/redemption});</li>
 * <li><b>expire</b>: the platform expires some of a member's points on its own ({@link LoyaltyPeer#expire});</li>
 * <li><b>re-deliver</b>: the platform sends one of its earlier webhooks again, unchanged (a duplicate the runtime must
 * acknowledge without a second event).</li>
 * </ul>
 * It acts only for members whose customer has a legal entity in the customer master (the runtime values and posts a
 * transaction in that entity's books; a member without one would only be parked), which {@code entityOf} tells.
 */
public final class LoyaltySimulator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LoyaltySimulator.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);
    /** The reward members redeem their points for. */
    static final String REWARD_ID = "rew_sandbox_voucher";

    /** What the simulator did so far. */
    public record Stats(long earns, long pointsEarned, long redemptions, long pointsRedeemed, long expirations,
                        long pointsExpired, long redeliveries, long failed) {
    }

    private final LoyaltyPeer peer;
    private final String appId;
    private final String appToken;
    private final Function<String, Optional<String>> entityOf;
    private final Duration every;
    private final Random random;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicLong earns = new AtomicLong();
    private final AtomicLong pointsEarned = new AtomicLong();
    private final AtomicLong redemptions = new AtomicLong();
    private final AtomicLong pointsRedeemed = new AtomicLong();
    private final AtomicLong expirations = new AtomicLong();
    private final AtomicLong pointsExpired = new AtomicLong();
    private final AtomicLong redeliveries = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private Thread thread;
    private volatile boolean running;

    /**
     * @param entityOf a global customer id's legal entity in the customer master, if it has one
     */
    public LoyaltySimulator(LoyaltyPeer peer, String appId, String appToken, Function<String, Optional<String>> entityOf,
                            long seed, Duration every) {
        this.peer = peer;
        this.appId = appId;
        this.appToken = appToken;
        this.entityOf = entityOf;
        this.every = every;
        // a stream of its own, derived from the banner's seed, so it does not shift the CRM users' choices
        this.random = new Random(seed ^ 0x4C4F59414C5459L);
    }

    public synchronized void start() {
        if (thread != null) throw new IllegalStateException("loyalty simulator already started");
        running = true;
        thread = new Thread(this::run, "loyalty-simulator");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            try {
                Thread.sleep(every.toMillis());
                step();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                failed.incrementAndGet();
                LOG.warn("Loyalty simulator: {}", e.toString());
            }
        }
    }

    /** One action: earn (55%), redeem (20%), expire (10%), re-deliver a webhook (10%), or nothing. */
    void step() throws Exception {
        List<String> members = eligibleMembers();
        int roll = random.nextInt(100);
        if (members.isEmpty()) return;
        if (roll < 55) {
            // the earliest members earn most: an index drawn as u² of the list leans to its head
            double u = random.nextDouble();
            String code = members.get((int) (u * u * members.size()));
            long points = 20 + random.nextInt(381);
            ObjectNode body = JSON.createObjectNode().put("points", points)
                    .put("reason", "sandbox: stand-in for a paid invoice")
                    .put("source_id", "sandbox-earn:" + (earns.get() + 1) + ":" + code);
            if (post("/v1/loyalties/members/" + code + "/balance", body)) {
                earns.incrementAndGet();
                pointsEarned.addAndGet(points);
            }
        } else if (roll < 75) {
            String code = members.get(random.nextInt(members.size()));
            long balance = balance(code);
            if (balance < 100) return;
            long points = 50 + random.nextInt((int) Math.min(351, balance - 49));
            ObjectNode body = JSON.createObjectNode();
            body.putObject("reward").put("id", REWARD_ID).put("points", points);
            body.putObject("metadata").put("channel", "sandbox");
            if (post("/v1/loyalties/members/" + code + "/redemption", body)) {
                redemptions.incrementAndGet();
                pointsRedeemed.addAndGet(points);
            }
        } else if (roll < 85) {
            String code = members.get(random.nextInt(members.size()));
            long expired = peer.expire(code, 10 + random.nextInt(141));
            if (expired > 0) {
                expirations.incrementAndGet();
                pointsExpired.addAndGet(expired);
            }
        } else if (roll < 95) {
            LoyaltyWebhookSender webhooks = peer.webhooks();
            if (webhooks == null) return;
            List<LoyaltyWebhookSender.Delivery> delivered = webhooks.deliveries().stream()
                    .filter(LoyaltyWebhookSender.Delivery::delivered).toList();
            if (delivered.isEmpty()) return;
            webhooks.redeliver(delivered.get(random.nextInt(delivered.size())).id());
            redeliveries.incrementAndGet();
        }
    }

    /** The cards of members whose customer has a legal entity, in order of assignment. */
    private List<String> eligibleMembers() {
        Map<String, String> sourceIds = new HashMap<>();
        peer.customers().forEach(c -> sourceIds.put(c.path("id").asText(), c.path("source_id").asText(null)));
        List<String> codes = new ArrayList<>();
        for (ObjectNode card : peer.members()) {
            String globalId = sourceIds.get(card.path("holder_id").asText());
            if (globalId != null && entityOf.apply(globalId).isPresent()) codes.add(card.path("code").asText());
        }
        return codes;
    }

    private long balance(String code) {
        ObjectNode card = peer.member(code);
        return card == null ? 0 : card.path("loyalty_card").path("balance").asLong();
    }

    private boolean post(String path, ObjectNode body) throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(peer.url() + path))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .header("X-App-Id", appId).header("X-App-Token", appToken)
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() / 100 == 2) return true;
        failed.incrementAndGet();
        LOG.warn("Loyalty simulator: {} answered {}: {}", path, answer.statusCode(), answer.body());
        return false;
    }

    public Stats stats() {
        return new Stats(earns.get(), pointsEarned.get(), redemptions.get(), pointsRedeemed.get(), expirations.get(),
                pointsExpired.get(), redeliveries.get(), failed.get());
    }

    @Override
    public synchronized void close() {
        running = false;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
