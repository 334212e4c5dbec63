package io.interchange.store;

import io.interchange.testkit.Databases.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class EchoLedgerTest {

    private static final StoreFixture FIXTURE = new StoreFixture();
    /** The default of interchange.customer.echo-window, which the fixture's stores keep. */
    private static final Duration WINDOW = Duration.ofHours(24);

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void theValueTheRuntimeWroteComingBackIsAnEchoAndAnotherValueIsNot(Backend backend) {
        EchoLedger echoes = FIXTURE.fresh(backend).echoLedger();
        echoes.written("hubspot", "portal-7/51", "email", "anna.schmidt@example.com");
        echoes.written("hubspot", "portal-7/51", Map.of("firstname", "Anna", "phone", "+49 30 1234567"));

        assertThat(echoes.isEcho("hubspot", "portal-7/51", "email", "anna.schmidt@example.com")).isTrue();
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "email", " anna.schmidt@example.com\n"))
                .as("padded as a system may give it back").isTrue();
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "email", "anna.schmidt@example.com"))
                .as("a redelivered echo is still one").isTrue();
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "firstname", "Anna")).isTrue();
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "firstname", "Anne")).isFalse();
        assertThat(echoes.isEcho("hubspot", "portal-7/52", "email", "anna.schmidt@example.com")).as("another record").isFalse();
        assertThat(echoes.isEcho("salesforce", "portal-7/51", "email", "anna.schmidt@example.com")).as("another system").isFalse();
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "lastname", "Schmidt")).as("never written").isFalse();
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "phone", null)).as("emptied is another value").isFalse();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aDifferentValueMeansTheSystemMovedOnSoTheWrittenValueComingBackLaterIsAChange(Backend backend) {
        EchoLedger echoes = FIXTURE.fresh(backend).echoLedger();
        echoes.written("salesforce", "0035g00000AnnaAAA", "Email", "anna@example.com");

        assertThat(echoes.isEcho("salesforce", "0035g00000AnnaAAA", "Email", "anna@private.example")).isFalse();

        assertThat(echoes.isEcho("salesforce", "0035g00000AnnaAAA", "Email", "anna@example.com"))
                .as("a person set the value again: a change").isFalse();
        echoes.written("salesforce", "0035g00000AnnaAAA", "Email", "anna@example.com");
        assertThat(echoes.isEcho("salesforce", "0035g00000AnnaAAA", "Email", "anna@example.com")).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void outOfOrderAChangeFromBeforeTheWriteDoesNotUnmaskItsEcho(Backend backend) {
        EchoLedger echoes = FIXTURE.fresh(backend).echoLedger();
        Instant writtenAt = FIXTURE.clock.instant();
        echoes.written("hubspot", "portal-7/51", "email", "new@example.com");

        assertThat(echoes.isEcho("hubspot", "portal-7/51", "email", "old@example.com", writtenAt.minusSeconds(30)))
                .as("a late event of the value before the write").isFalse();
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "email", "new@example.com", writtenAt.plusSeconds(1))).isTrue();
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "email", "other@example.com", writtenAt.plusSeconds(60))).isFalse();
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "email", "new@example.com", writtenAt.plusSeconds(90)))
                .as("changed after the write, then set back: a change").isFalse();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void anEchoLaterThanTheWindowIsAChangeAndExpiryDeletesOldEntries(Backend backend) {
        EchoLedger echoes = FIXTURE.fresh(backend).echoLedger();
        echoes.written("hubspot", "portal-7/51", "email", "anna@example.com");
        FIXTURE.clock.advance(WINDOW.minusSeconds(1));
        echoes.written("hubspot", "portal-7/52", "email", "bob@example.com");
        assertThat(echoes.isEcho("hubspot", "portal-7/51", "email", "anna@example.com")).isTrue();
        assertThat(echoes.expire()).isZero();

        FIXTURE.clock.advance(Duration.ofSeconds(2));

        assertThat(echoes.isEcho("hubspot", "portal-7/51", "email", "anna@example.com")).isFalse();
        assertThat(echoes.isEcho("hubspot", "portal-7/52", "email", "bob@example.com")).isTrue();
        assertThat(echoes.expire()).isEqualTo(1);
        assertThat(echoes.isEcho("hubspot", "portal-7/52", "email", "bob@example.com")).isTrue();
    }
}
