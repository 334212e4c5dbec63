package io.interchange.connectors.rest;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What each system's answer headers say about the window the client must wait for (pure reading, no clock waits). */
class RateLimitsTest {

    static final long NOW = Instant.parse("2026-12-05T10:00:00Z").toEpochMilli();

    @Test
    void retryAfterIsReadAsSecondsOrAsAnHttpDate() {
        assertThat(RateLimits.retryAfter("7", NOW)).isEqualTo(Duration.ofSeconds(7));
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochMilli(NOW).plusSeconds(90).atZone(ZoneOffset.UTC));
        assertThat(RateLimits.retryAfter(date, NOW)).isEqualTo(Duration.ofSeconds(90));
        assertThat(RateLimits.retryAfter("Sat, 05 Dec 2026 09:00:00 GMT", NOW)).as("a date past").isEqualTo(Duration.ZERO);
        assertThat(RateLimits.retryAfter("soon", NOW)).isNull();
        assertThat(RateLimits.read(429, Map.of("retry-after", "3"), NOW).length()).isEqualTo(Duration.ofSeconds(3));
        assertThat(RateLimits.read(200, Map.of("Retry-After", "3"), NOW)).as("only a 429 or 503 asks to come back").isNull();
    }

    @Test
    void hubSpotsBurstSecondlyAndDailyHeadersCloseTheWindowWhenNothingIsLeft() {
        assertThat(RateLimits.read(200, Map.of("X-HubSpot-RateLimit-Remaining", "4", "X-HubSpot-RateLimit-Max", "100",
                "X-HubSpot-RateLimit-Interval-Milliseconds", "10000"), NOW)).isNull();
        RateLimits.Window burst = RateLimits.read(200, Map.of("X-HubSpot-RateLimit-Remaining", "0",
                "X-HubSpot-RateLimit-Max", "100", "X-HubSpot-RateLimit-Interval-Milliseconds", "10000"), NOW);
        assertThat(burst.length()).isEqualTo(Duration.ofSeconds(10));
        assertThat(burst.why()).contains("0 of 100");
        assertThat(RateLimits.read(200, Map.of("X-HubSpot-RateLimit-Secondly-Remaining", "0"), NOW).length())
                .isEqualTo(Duration.ofSeconds(1));
        assertThat(RateLimits.read(200, Map.of("X-HubSpot-RateLimit-Daily-Remaining", "0",
                "X-HubSpot-RateLimit-Remaining", "50"), NOW).length()).isEqualTo(RateLimits.UNKNOWN_END);
    }

    @Test
    void salesforcesApiUsageClosesTheWindowWhenTheAllowanceIsSpent() {
        assertThat(RateLimits.read(200, Map.of("Sforce-Limit-Info", "api-usage=14999/15000"), NOW)).isNull();
        assertThat(RateLimits.read(200, Map.of("Sforce-Limit-Info", "api-usage=15000/15000"), NOW).length())
                .isEqualTo(RateLimits.UNKNOWN_END);
    }

    @Test
    void voucherifysRemainingClosesTheWindowUntilItsRetryEpochSecond() {
        assertThat(RateLimits.read(200, Map.of("X-Rate-Limit-Limit", "100", "X-Rate-Limit-Remaining", "1",
                "X-Rate-Limit-Retry", String.valueOf(NOW / 1000 + 40)), NOW)).isNull();
        RateLimits.Window spent = RateLimits.read(200, Map.of("X-Rate-Limit-Limit", "100", "X-Rate-Limit-Remaining", "0",
                "X-Rate-Limit-Retry", String.valueOf(NOW / 1000 + 40), "X-Rate-Limit-Type", "api_calls"), NOW);
        assertThat(spent.length()).isEqualTo(Duration.ofSeconds(40));
        assertThat(spent.why()).contains("0 of 100").contains("api_calls");
        assertThat(RateLimits.read(200, Map.of("x-rate-limit-remaining", "0"), NOW).length())
                .as("no retry time given: probed again after a second").isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void genericResetIsSecondsFromNowOrEpochSeconds() {
        assertThat(RateLimits.read(200, Map.of("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "12"), NOW).length())
                .isEqualTo(Duration.ofSeconds(12));
        long epoch = NOW / 1000 + 30;
        assertThat(RateLimits.read(200, Map.of("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", String.valueOf(epoch)), NOW)
                .length()).isEqualTo(Duration.ofSeconds(30));
        assertThat(RateLimits.read(200, Map.of("RateLimit-Remaining", "0", "RateLimit-Reset", "5"), NOW).length())
                .isEqualTo(Duration.ofSeconds(5));
        assertThat(RateLimits.read(200, Map.of("X-RateLimit-Remaining", "3", "X-RateLimit-Reset", "12"), NOW)).isNull();
    }

    @Test
    void theLongestWindowAnAnswerNamesWins() {
        RateLimits.Window w = RateLimits.read(429, Map.of("Retry-After", "2", "X-HubSpot-RateLimit-Remaining", "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds", "10000"), NOW);
        assertThat(w.length()).isEqualTo(Duration.ofSeconds(10));
    }
}
