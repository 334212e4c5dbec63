package io.interchange.loyalty;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.store.IdempotencyStore;
import io.interchange.store.LoyaltyStandings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The churn-risk rule of flow {@code loyalty-crm}: a member with no points earned or redeemed for
 * {@code interchange.loyalty.crm.churn-inactivity} while holding at least {@code churn-min-balance} points gets one
 * retention task for its account manager ({@link CrmTasks}) per risk episode. An episode is named by the member's last
 * activity time: its task is claimed under {@code loyalty:churn-task:<globalId>:<last activity, epoch ms>} and recorded
 * in the member's standing ({@code churn_task_for}), so the next check passes the member over until new activity
 * moves the last activity on (a new episode, should the member fall silent again). The check reads what the flow
 * recorded ({@link LoyaltyStandings#atRisk}); it runs on one instance of the cluster at a time (route
 * {@code loyalty.crm-churn-check}, Camel's {@code master:} component), and a task whose create failed is looked up
 * by its key at the next check, as a tier task is.
 */
public final class ChurnCheck {

    public static final String METRIC = TierTasks.METRIC;
    /** Members taken per check; the rest wait for the next. */
    static final int PER_CHECK = 500;
    static final Duration DUE = Duration.ofDays(2);
    private static final Logger LOG = LoggerFactory.getLogger(ChurnCheck.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LoyaltyStandings standings;
    private final CrmTasks tasks;
    private final IdempotencyStore idempotency;
    private final Duration inactivity;
    private final long minBalance;
    private final Clock clock;
    private final MeterRegistry meters;
    private final AtomicLong checks = new AtomicLong();

    public ChurnCheck(LoyaltyStandings standings, CrmTasks tasks, IdempotencyStore idempotency, Duration inactivity,
                      long minBalance, Clock clock, MeterRegistry meters) {
        this.standings = standings;
        this.tasks = tasks;
        this.idempotency = idempotency;
        this.inactivity = inactivity;
        this.minBalance = minBalance;
        this.clock = clock;
        this.meters = meters;
    }

    public static String key(String globalId, Instant lastActivityAt) {
        return "loyalty:churn-task:" + globalId + ":" + lastActivityAt.toEpochMilli();
    }

    /** Checks completed since start (on this instance). */
    public long checks() {
        return checks.get();
    }

    /** One check: a task for each member at risk whose episode has none yet; returns how many were made or found. */
    public int check() {
        Instant now = clock.instant();
        int made = 0;
        for (LoyaltyStandings.Standing s : standings.atRisk(now.minus(inactivity), minBalance, PER_CHECK)) {
            String key = key(s.globalId(), s.lastActivityAt());
            IdempotencyStore.DuplicateState state = idempotency.claimNoting(key);
            if (state == IdempotencyStore.DuplicateState.DONE) {
                standings.churnTaskMade(s.globalId(), s.lastActivityAt());
                continue;
            }
            if (state == IdempotencyStore.DuplicateState.IN_PROGRESS) continue;
            ObjectNode details = JSON.createObjectNode().put("kind", "churn").put("globalId", s.globalId())
                    .put("balance", s.balance())
                    .put("lastActivityOn", s.lastActivityAt().atOffset(ZoneOffset.UTC).toLocalDate().toString())
                    .put("inactiveDays", Duration.between(s.lastActivityAt(), now).toDays());
            TierTasks.due(details, now.plus(DUE));
            try {
                var task = tasks.ensure(s.globalId(), key, details);
                if (task.isEmpty()) {
                    // no CRM record yet: asked again at the next check, when the customer sync may have linked one
                    idempotency.remove(key);
                    count("no_crm_record");
                    continue;
                }
                idempotency.confirm(key);
                standings.churnTaskMade(s.globalId(), s.lastActivityAt());
                count(task.get().found() ? "found" : "made");
                made++;
            } catch (RuntimeException e) {
                // the create may have reached the CRM: the next check takes the key over and looks the task up first
                idempotency.releaseUnsettled(key);
                count("failed");
                LOG.warn("Churn-risk task {} for customer {} not made yet (next check tries again): {}", key,
                        s.globalId(), e.getMessage());
            }
        }
        checks.incrementAndGet();
        return made;
    }

    private void count(String outcome) {
        if (meters == null) return;
        Counter.builder(METRIC).description("CRM tasks of the loyalty-crm flow by kind and outcome")
                .tag("kind", "churn").tag("outcome", outcome).register(meters).increment();
    }
}
