package io.interchange.store;

import io.interchange.testkit.Databases.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daily filing's tables (migration V6) on H2 and PostgreSQL: a closed day's transactions, late arrivals of earlier
 * days with them, go into parts of at most the given size in their filing order, each exactly once; a day closes once.
 */
class LoyaltyFilingsTest {

    private static final StoreFixture FIXTURE = new StoreFixture();
    private static final LocalDate DAY = LocalDate.parse("2026-12-04");

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aClosedDayIsFiledInPartsEachTransactionInExactlyOne(Backend backend) {
        LoyaltyFilings filings = FIXTURE.fresh(backend).loyaltyFilings();
        List<LoyaltyFilings.Item> items = new ArrayList<>();
        for (int i = 0; i < 23; i++) items.add(item("evt-" + (char) ('a' + i), "DE01", DAY, 100 + i));
        items.add(item("evt-late", "DE01", DAY.minusDays(2), -40)); // a late arrival of an earlier day
        items.add(item("evt-next-day", "DE01", DAY.plusDays(1), 7)); // tomorrow's: not filed yet
        items.add(item("evt-other-entity", "FR01", DAY, 9));
        assertThat(filings.record(items)).isEqualTo(26);
        assertThat(filings.record(items.subList(0, 3))).as("recorded again").isZero();

        List<LoyaltyFilings.Filing> made = filings.close("DE01", DAY, 10);

        assertThat(made).extracting(LoyaltyFilings.Filing::part).containsExactly(1, 2, 3);
        assertThat(made).extracting(LoyaltyFilings.Filing::transactions).containsExactly(10, 10, 4);
        long expected = -40;
        for (int i = 0; i < 23; i++) expected += 100 + i;
        assertThat(made.stream().mapToLong(LoyaltyFilings.Filing::amountMinor).sum()).isEqualTo(expected);
        // the late arrival comes first in the filing order (by day, then event id)
        assertThat(filings.filingOf("evt-late")).contains(LoyaltyFilings.filingId("DE01", DAY, 1));
        assertThat(filings.filingOf("evt-i")).contains(LoyaltyFilings.filingId("DE01", DAY, 1));
        assertThat(filings.filingOf("evt-j")).contains(LoyaltyFilings.filingId("DE01", DAY, 2));
        assertThat(filings.filingOf("evt-w")).contains(LoyaltyFilings.filingId("DE01", DAY, 3));
        for (LoyaltyFilings.Filing f : made) {
            assertThat(filings.items(f.filingId())).hasSize(f.transactions());
        }
        assertThat(filings.filingOf("evt-next-day")).isEmpty();
        assertThat(filings.filingOf("evt-other-entity")).isEmpty();
        assertThat(filings.unfiled("DE01")).isEqualTo(1);
        assertThat(filings.unfiled("FR01")).isEqualTo(1);

        // a transaction of the closed day arriving after its close waits for the next day's filing
        filings.record(List.of(item("evt-after-close", "DE01", DAY, 5)));
        assertThat(filings.close("DE01", DAY, 10)).as("the day is closed once").isEmpty();
        List<LoyaltyFilings.Filing> next = filings.close("DE01", DAY.plusDays(1), 10);
        assertThat(next).singleElement().satisfies(f -> {
            assertThat(f.transactions()).isEqualTo(2);
            assertThat(f.amountMinor()).isEqualTo(12);
        });
        assertThat(filings.unfiled("DE01")).isZero();
        assertThat(filings.unpublished()).hasSize(4);
    }

    private static LoyaltyFilings.Item item(String eventId, String entity, LocalDate day, long amount) {
        return new LoyaltyFilings.Item(eventId, "tx-" + eventId, entity, day, amount, "EUR",
                ("{\"id\":\"" + eventId + "\"}").getBytes(StandardCharsets.UTF_8));
    }
}
