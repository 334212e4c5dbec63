package io.interchange.connectors.rest;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Stripe's form encoding: bracketed keys for nested maps and lists, order kept, nulls left out, reserved characters encoded. */
class FormBodyTest {

    @Test
    void nestedMapsAndListsAreWrittenAsBracketedKeys() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("email", "a+b@example.com");
        fields.put("metadata", Map.of("global_customer_id", "gc-1"));
        fields.put("expand", List.of("tax_ids"));
        fields.put("items", List.of(Map.of("price", "price_1")));
        fields.put("phone", null);
        fields.put("description", "");
        assertThat(FormBody.of(fields).text()).isEqualTo("email=a%2Bb%40example.com"
                + "&metadata%5Bglobal_customer_id%5D=gc-1&expand%5B0%5D=tax_ids&items%5B0%5D%5Bprice%5D=price_1&description=");
        assertThat(FormBody.of(fields).contentType()).isEqualTo("application/x-www-form-urlencoded");
    }

    @Test
    void derivedIdempotencyKeysAreStableAndTellTheirPartsApart() {
        assertThat(IdempotencyKeys.derive("customer-create", "gc-1", "a")).isEqualTo(IdempotencyKeys.derive("customer-create", "gc-1", "a"))
                .startsWith("customer-create-").hasSizeLessThan(255);
        assertThat(IdempotencyKeys.derive("x", "ab", "c")).isNotEqualTo(IdempotencyKeys.derive("x", "a", "bc"));
    }
}
