package io.interchange.management;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PersonalDataTest {

    @Test
    void masksEmailsAndPersonalFieldsButKeepsIds() {
        String json = "{\"customer\":\"cus_R8bDq3pX2mLk9a\",\"customer_email\":\"anna.berg@example.com\","
                + "\"customer_name\":\"Anna \\\"AB\\\" Berg\",\"name\": \"Pro plan\",\"id\":\"in_1\"}";
        String masked = PersonalData.mask(json + " reply to ops+billing@example.co.uk");
        assertThat(masked).contains("cus_R8bDq3pX2mLk9a", "in_1", "\"customer_email\":\"***\"",
                "\"customer_name\":\"***\"", "***@***");
        assertThat(masked).doesNotContain("anna.berg", "Berg", "ops+billing");
    }

    @Test
    void longTextWithoutAtSignsIsMaskedInLinearTime() {
        String hostile = "a".repeat(2_000_000) + " x@y.z " + "b.".repeat(500_000);
        long start = System.nanoTime();
        String masked = PersonalData.mask(hostile);
        // a quadratic pattern takes minutes on this; a linear one milliseconds
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(5));
        assertThat(masked.length()).isLessThan(70_000);
    }
}
