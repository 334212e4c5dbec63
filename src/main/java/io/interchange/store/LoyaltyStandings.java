package io.interchange.store;

import javax.sql.DataSource;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the loyalty-crm flow knows of each loyalty member (table {@code loyalty_standing}, one row per global customer
 * id): the balance and tier written to the customer's CRM records, each with the platform's time of the event it came
 * from, the time of the newest points activity, and the activity time a churn-risk task was made for.
 *
 * <p>Newest wins: a balance or tier is recorded only when its event is newer than the one recorded
 * ({@code ... WHERE balance_at IS NULL OR balance_at < ?}, one statement, so two instances cannot interleave), and the
 * write-back writes what is recorded, never an event's own value: an older event arriving later changes nothing.
 */
public class LoyaltyStandings {

    /** A member's standing; null fields are not known yet. */
    public record Standing(String globalId, Long balance, Instant balanceAt, String tierId, String tierName,
                           Instant tierAt, Instant lastActivityAt, Instant churnTaskFor) {
    }

    private final Jdbc jdbc;

    LoyaltyStandings(DataSource ds) {
        this.jdbc = new Jdbc(ds);
    }

    private void ensure(String globalId) {
        jdbc.update("INSERT INTO loyalty_standing (global_id) VALUES (?) ON CONFLICT DO NOTHING",
                ps -> ps.setString(1, globalId));
    }

    /**
     * Records a balance as of {@code at} (the transaction's time) unless a newer one is recorded; a transaction that
     * moved points also moves the member's last activity on (never back). Returns true when the balance was recorded.
     */
    public boolean recordBalance(String globalId, long balance, Instant at, boolean activity) {
        if (activity) recordActivity(globalId, at);
        else ensure(globalId);
        return jdbc.update("UPDATE loyalty_standing SET balance = ?, balance_at = ? WHERE global_id = ? AND "
                + "(balance_at IS NULL OR balance_at < ?)", ps -> {
            ps.setLong(1, balance);
            ps.setObject(2, Jdbc.ts(at));
            ps.setString(3, globalId);
            ps.setObject(4, Jdbc.ts(at));
        }) == 1;
    }

    /** Moves the member's last points activity on to {@code at} (never back). */
    public void recordActivity(String globalId, Instant at) {
        ensure(globalId);
        jdbc.update("UPDATE loyalty_standing SET last_activity_at = ? WHERE global_id = ? AND "
                + "(last_activity_at IS NULL OR last_activity_at < ?)", ps -> {
            ps.setObject(1, Jdbc.ts(at));
            ps.setString(2, globalId);
            ps.setObject(3, Jdbc.ts(at));
        });
    }

    /** Records the member's tier (null id and name: left the program's tiers) as of {@code at}, unless a newer one is. */
    public boolean recordTier(String globalId, String tierId, String tierName, Instant at) {
        ensure(globalId);
        return jdbc.update("UPDATE loyalty_standing SET tier_id = ?, tier_name = ?, tier_at = ? WHERE global_id = ? AND "
                + "(tier_at IS NULL OR tier_at < ?)", ps -> {
            ps.setString(1, tierId);
            ps.setString(2, tierName);
            ps.setObject(3, Jdbc.ts(at));
            ps.setString(4, globalId);
            ps.setObject(5, Jdbc.ts(at));
        }) == 1;
    }

    public Optional<Standing> of(String globalId) {
        return jdbc.query("SELECT * FROM loyalty_standing WHERE global_id = ?", ps -> ps.setString(1, globalId),
                LoyaltyStandings::row).stream().findFirst();
    }

    /**
     * Members at risk: no points activity since {@code inactiveSince} while the balance is at least {@code minBalance},
     * and no churn-risk task made for this episode yet (none, or one for an earlier activity time).
     */
    public List<Standing> atRisk(Instant inactiveSince, long minBalance, int limit) {
        return jdbc.query("SELECT * FROM loyalty_standing WHERE last_activity_at < ? AND balance >= ? AND "
                + "(churn_task_for IS NULL OR churn_task_for < last_activity_at) ORDER BY last_activity_at "
                + "FETCH FIRST " + Math.max(1, limit) + " ROWS ONLY", ps -> {
            ps.setObject(1, Jdbc.ts(inactiveSince));
            ps.setLong(2, minBalance);
        }, LoyaltyStandings::row);
    }

    /** Records that the churn-risk task of the episode ending at {@code lastActivityAt} exists. */
    public void churnTaskMade(String globalId, Instant lastActivityAt) {
        jdbc.update("UPDATE loyalty_standing SET churn_task_for = ? WHERE global_id = ? AND "
                + "(churn_task_for IS NULL OR churn_task_for < ?)", ps -> {
            ps.setObject(1, Jdbc.ts(lastActivityAt));
            ps.setString(2, globalId);
            ps.setObject(3, Jdbc.ts(lastActivityAt));
        });
    }

    private static Standing row(java.sql.ResultSet rs) throws java.sql.SQLException {
        long balance = rs.getLong("balance");
        return new Standing(rs.getString("global_id"), rs.wasNull() ? null : balance, Jdbc.instant(rs, "balance_at"),
                rs.getString("tier_id"), rs.getString("tier_name"), Jdbc.instant(rs, "tier_at"),
                Jdbc.instant(rs, "last_activity_at"), Jdbc.instant(rs, "churn_task_for"));
    }
}
