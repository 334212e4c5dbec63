package io.interchange.store;

import io.interchange.testkit.Databases.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** The loyalty-crm flow's table (migration V6) on H2 and PostgreSQL: newest wins, and the churn rule's selection. */
class LoyaltyStandingsTest {

    private static final StoreFixture FIXTURE = new StoreFixture();
    private static final Instant T = Instant.parse("2026-10-01T08:30:00.123Z");

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aBalanceOrTierFromAnOlderEventDoesNotReplaceANewerOne(Backend backend) {
        LoyaltyStandings standings = FIXTURE.fresh(backend).loyaltyStandings();
        assertThat(standings.recordBalance("c-1", 2300, T, true)).isTrue();
        assertThat(standings.recordBalance("c-1", 2000, T.minusSeconds(60), true)).isFalse();
        assertThat(standings.recordBalance("c-1", 2300, T, true)).as("the same event again").isFalse();
        assertThat(standings.recordTier("c-1", "ltr_gold", "Gold", T)).isTrue();
        assertThat(standings.recordTier("c-1", "ltr_silver", "Silver", T.minusSeconds(1))).isFalse();
        assertThat(standings.recordTier("c-1", null, null, T.plusSeconds(1))).as("left the tiers").isTrue();

        LoyaltyStandings.Standing s = standings.of("c-1").orElseThrow();
        assertThat(s.balance()).isEqualTo(2300);
        assertThat(s.balanceAt()).isEqualTo(T);
        assertThat(s.lastActivityAt()).isEqualTo(T);
        assertThat(s.tierName()).isNull();
        assertThat(s.tierAt()).isEqualTo(T.plusSeconds(1));
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aMemberIsAtRiskOncePerEpisodeAndAgainOnlyAfterNewActivity(Backend backend) {
        LoyaltyStandings standings = FIXTURE.fresh(backend).loyaltyStandings();
        standings.recordBalance("quiet", 4000, T, true);
        standings.recordBalance("poor", 500, T, true);
        standings.recordBalance("busy", 9000, T.plus(Duration.ofDays(50)), true);
        // an expiry moves the balance, not the activity
        standings.recordBalance("quiet", 3900, T.plus(Duration.ofDays(10)), false);
        Instant since = T.plus(Duration.ofDays(30));

        assertThat(standings.atRisk(since, 1000, 10)).extracting(LoyaltyStandings.Standing::globalId)
                .containsExactly("quiet");
        assertThat(standings.atRisk(since, 1000, 10).get(0).lastActivityAt()).isEqualTo(T);
        standings.churnTaskMade("quiet", T);
        assertThat(standings.atRisk(since, 1000, 10)).isEmpty();

        standings.recordActivity("quiet", T.plus(Duration.ofDays(5)));
        assertThat(standings.atRisk(since, 1000, 10)).extracting(LoyaltyStandings.Standing::globalId)
                .containsExactly("quiet");
    }
}
