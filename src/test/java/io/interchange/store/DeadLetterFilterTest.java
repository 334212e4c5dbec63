package io.interchange.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The console's filter expressions are parsed strictly: a wrong term is named, never ignored. */
class DeadLetterFilterTest {

    @Test
    void readsEveryField() {
        DeadLetterFilter f = DeadLetterFilter.parse("  route=billing.ledger-posting error=PermanentFailure kind=permanent "
                + "entity=DE01 customer=gc-123 from=2026-12-01T00:00:00Z to=2026-12-02T00:00:00+01:00 status=replayed ");
        assertThat(f).isEqualTo(new DeadLetterFilter("billing.ledger-posting", "PermanentFailure", "PERMANENT", "DE01",
                "gc-123", Instant.parse("2026-12-01T00:00:00Z"), Instant.parse("2026-12-01T23:00:00Z"), "REPLAYED"));
        assertThat(f.narrows()).isTrue();
        assertThat(DeadLetterFilter.parse(f.toString())).isEqualTo(f);
        // jmxterm splits arguments at spaces: terms separated by commas are the same filter
        assertThat(DeadLetterFilter.parse(",route=billing.ledger-posting,error=PermanentFailure,kind=permanent,entity=DE01,"
                + "customer=gc-123, from=2026-12-01T00:00:00Z,to=2026-12-02T00:00:00+01:00,status=replayed")).isEqualTo(f);
    }

    @Test
    void withoutTermsOrStatusOnlyOpenDeadLettersMatch() {
        assertThat(DeadLetterFilter.parse(" ")).isEqualTo(DeadLetterFilter.OPEN_ONLY);
        assertThat(DeadLetterFilter.parse(null).narrows()).isFalse();
        assertThat(DeadLetterFilter.parse("status=any").status()).isNull();
        assertThat(DeadLetterFilter.parse("status=ANY").narrows()).isFalse();
        assertThat(DeadLetterFilter.parse("entity=DE01").status()).isEqualTo(DeadLetter.OPEN);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "rout=billing.ledger-posting | unknown filter field 'rout'; fields: route, error, kind, entity, customer, from, to, status",
            "billing.ledger-posting      | filter term 'billing.ledger-posting' is not field=value",
            "route=                      | filter field 'route' has an empty value",
            "=DE01                       | unknown filter field ''",
            "entity=DE01 entity=US01     | filter field 'entity' is given twice",
            "entity=DE01,,route=         | filter field 'route' has an empty value",
            "from=2026-12-01             | from '2026-12-01' is not an ISO-8601 instant such as 2026-12-01T00:00:00Z",
            "to=yesterday                | to 'yesterday' is not an ISO-8601 instant",
            "status=closed               | status 'closed' is none of OPEN, REPLAYING, REPLAYED, DISCARDED, ANY",
            "kind=fatal                  | kind 'fatal' is neither TRANSIENT nor PERMANENT",
            "from=2026-12-02T00:00:00Z to=2026-12-01T00:00:00Z | from (2026-12-02T00:00:00Z) must be before to (2026-12-01T00:00:00Z)",
            "Route=x                     | unknown filter field 'Route'"})
    void refusesAWrongTermNamingIt(String expression, String message) {
        assertThatThrownBy(() -> DeadLetterFilter.parse(expression)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }
}
