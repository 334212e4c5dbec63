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
}
