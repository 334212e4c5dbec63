package io.interchange.loyalty;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.reliability.TransientFailure;
import io.interchange.store.IdempotencyStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Set;

/**
 * A member reaching the configured tier ({@code interchange.loyalty.crm.task-tier}, matched on the tier's name
 * ignoring case; reaching is joining the program's tiers in it or being upgraded to it) gets exactly one task for its
 * account manager ({@link CrmTasks}): claimed under {@code loyalty:tier-task:<globalId>:<tierId>}, so the same tier
 * change delivered twice, replayed, or announced by two webhooks makes one; and the task looked up by that key
 * before it is made, so a create whose answer was lost or a claim taken over from a process that died between
 * create and confirm finds the first task.
 */
public final class TierTasks implements LoyaltyCrm.AfterTierChange {

    public static final String METRIC = "interchange_loyalty_crm_tasks";
    static final Set<String> REACHING = Set.of("joined", "upgraded");
    private static final Logger LOG = LoggerFactory.getLogger(TierTasks.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** When the task is due, from when it is made. */
    static final Duration DUE = Duration.ofDays(3);

    private final String tierName;
    private final CrmTasks tasks;
    private final IdempotencyStore idempotency;
    private final MeterRegistry meters;
    private final Clock clock;

    /** @param tierName the tier whose reaching makes a task; blank: none does */
    public TierTasks(String tierName, CrmTasks tasks, IdempotencyStore idempotency, MeterRegistry meters, Clock clock) {
        this.tierName = tierName == null ? "" : tierName.strip().toLowerCase(Locale.ROOT);
        this.tasks = tasks;
        this.idempotency = idempotency;
        this.meters = meters;
        this.clock = clock;
    }

    public static String key(String globalId, String tierId) {
        return "loyalty:tier-task:" + globalId + ":" + tierId;
    }

    @Override
    public void apply(LoyaltyCrm.TierChange change, boolean mayHaveHappened) {
        if (tierName.isEmpty() || change.tierName() == null || change.tierId() == null) return;
        if (!REACHING.contains(change.change())) return;
        if (!change.tierName().strip().toLowerCase(Locale.ROOT).equals(tierName)) return;
        String key = key(change.globalId(), change.tierId());
        IdempotencyStore.DuplicateState state = idempotency.claimNoting(key);
        if (state == IdempotencyStore.DuplicateState.DONE) {
            LOG.info("Tier change {}: the task for {} reaching {} exists already", change.eventId(), change.globalId(),
                    change.tierName());
            count("tier", "duplicate");
            return;
        }
        if (state == IdempotencyStore.DuplicateState.IN_PROGRESS) {
            throw new TransientFailure("the task for " + change.globalId() + " reaching " + change.tierName()
                    + " is being made by another delivery (" + key + ")");
        }
        ObjectNode details = JSON.createObjectNode().put("kind", "tier").put("globalId", change.globalId())
                .put("tierName", change.tierName()).put("tierId", change.tierId())
                .put("occurredOn", change.occurredAt().atOffset(ZoneOffset.UTC).toLocalDate().toString());
        due(details, clock.instant().plus(DUE));
        try {
            var made = tasks.ensure(change.globalId(), key, details);
            idempotency.confirm(key);
            count("tier", made.isEmpty() ? "no_crm_record" : made.get().found() ? "found" : "made");
        } catch (RuntimeException e) {
            // the create may have reached the CRM: whoever claims the key next takes it over at once and looks first
            idempotency.releaseUnsettled(key);
            throw CrmTasks.unknown(key, e);
        }
    }

    /** The task's due date ({@code dueDate}, yyyy-MM-dd) and time ({@code dueAt}, ISO-8601) in the mapping's input. */
    static void due(ObjectNode details, java.time.Instant at) {
        details.put("dueDate", at.atOffset(ZoneOffset.UTC).toLocalDate().toString()).put("dueAt", at.toString());
    }

    private void count(String kind, String outcome) {
        if (meters == null) return;
        Counter.builder(METRIC).description("CRM tasks of the loyalty-crm flow by kind and outcome")
                .tag("kind", kind).tag("outcome", outcome).register(meters).increment();
    }
}
