package io.interchange.store;

import io.interchange.testkit.Databases.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Instant;

import static io.interchange.store.StoreFixture.START;
import static org.assertj.core.api.Assertions.assertThat;

/** The stream position of a Salesforce channel, on H2 and PostgreSQL: resumed from, lost, read back. */
class SalesforceStreamPositionsTest {

    private static final StoreFixture FIXTURE = new StoreFixture();
    private static final String SF = "salesforce";
    private static final String ACCOUNTS = "/data/AccountChangeEvent";

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void theLastProcessedEventIsWhereAChannelResumes(Backend backend) {
        StreamPositions p = FIXTURE.fresh(backend).streamPositions();
        assertThat(p.find(SF, ACCOUNTS)).isEmpty();
        Instant t1 = Instant.parse("2026-12-05T10:31:22.417Z");
        p.advance(SF, ACCOUNTS, 1007, t1);
        p.advance(SF, ACCOUNTS, 1012, t1.plusMillis(5));
        assertThat(p.find(SF, ACCOUNTS)).contains(new StreamPositions.Position(1012L, t1.plusMillis(5), null));
        // other channels and sources stand apart
        assertThat(p.find(SF, "/data/ContactChangeEvent")).isEmpty();
        assertThat(p.find("hubspot", ACCOUNTS)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aLostPositionIsReadBackFromTheEarliestLossAndThenCleared(Backend backend) {
        StreamPositions p = FIXTURE.fresh(backend).streamPositions();
        Instant t1 = Instant.parse("2026-12-05T10:31:22.417Z");
        p.advance(SF, ACCOUNTS, 1007, t1);
        p.markBackfill(SF, ACCOUNTS, t1);
        // the replay id is no longer valid: forgotten, the time to read back from kept
        assertThat(p.find(SF, ACCOUNTS)).contains(new StreamPositions.Position(null, t1, t1));
        // a second loss before the read-back finished keeps the earlier time
        p.markBackfill(SF, ACCOUNTS, t1.plusSeconds(60));
        assertThat(p.find(SF, ACCOUNTS).orElseThrow().backfillFrom()).isEqualTo(t1);
        // a read-back of a later time does not clear the earlier mark
        p.clearBackfill(SF, ACCOUNTS, t1.plusSeconds(60), t1.plusSeconds(90));
        assertThat(p.find(SF, ACCOUNTS).orElseThrow().backfillFrom()).isEqualTo(t1);
        // an event arrived after the new subscription, then the read-back finished: the event's position stands
        p.advance(SF, ACCOUNTS, 2001, t1.plusSeconds(120));
        p.clearBackfill(SF, ACCOUNTS, t1, t1.plusSeconds(100));
        assertThat(p.find(SF, ACCOUNTS)).contains(new StreamPositions.Position(2001L, t1.plusSeconds(120), null));
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aChannelWithoutEventsIsAnchoredAndMovesWithEachReadBack(Backend backend) {
        StreamPositions p = FIXTURE.fresh(backend).streamPositions();
        p.anchor(SF, ACCOUNTS, START);
        p.anchor(SF, ACCOUNTS, START.plusSeconds(10)); // a channel's first anchor stands
        assertThat(p.find(SF, ACCOUNTS)).contains(new StreamPositions.Position(null, START, null));
        p.markBackfill(SF, ACCOUNTS, START);
        p.clearBackfill(SF, ACCOUNTS, START, START.plusSeconds(300));
        assertThat(p.find(SF, ACCOUNTS)).contains(new StreamPositions.Position(null, START.plusSeconds(300), null));
    }
}
