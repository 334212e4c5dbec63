package io.interchange.reconciliation;

import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.time.ZoneId;

import static org.assertj.core.api.Assertions.assertThat;

/** A record's creation date is the entity's calendar date, as its documents' are. */
class CustomerSidesTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    @Test
    void salesforceDateTimesAreDatedInTheEntitysZone() {
        // Salesforce's REST form: milliseconds, an offset without a colon
        assertThat(CustomerSides.date("2026-12-05T23:31:22.000+0000", BERLIN)).isEqualTo(LocalDate.of(2026, 12, 6));
        assertThat(CustomerSides.date("2026-12-05T22:59:59.000+0000", BERLIN)).isEqualTo(LocalDate.of(2026, 12, 5));
        assertThat(CustomerSides.date("2026-12-05T23:31:22.000+0000", ZoneId.of("UTC")))
                .isEqualTo(LocalDate.of(2026, 12, 5));
        assertThat(CustomerSides.date("2026-12-05T23:31:22Z", BERLIN)).isEqualTo(LocalDate.of(2026, 12, 6));
        assertThat(CustomerSides.date("2026-12-05T23:31:22.000+01:00", BERLIN)).isEqualTo(LocalDate.of(2026, 12, 5));
    }

    @Test
    void aDateTimeThatCannotBeReadIsNoDate() {
        assertThat(CustomerSides.date(null, BERLIN)).isNull();
        assertThat(CustomerSides.date("", BERLIN)).isNull();
        assertThat(CustomerSides.date("yesterday", BERLIN)).isNull();
        assertThat(CustomerSides.date("2026-12-05", BERLIN)).isNull();
    }
}
