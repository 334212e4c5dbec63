package io.interchange.connectors.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.charset.StandardCharsets;

/** A request body and its content type. */
public interface RestBody {

    String contentType();

    byte[] bytes();

    /** A JSON body ({@code application/json}). */
    static RestBody json(JsonNode node) {
        byte[] bytes;
        try {
            bytes = new ObjectMapper().writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serialisable as JSON", e);
        }
        return new RestBody() {
            @Override
            public String contentType() {
                return "application/json";
            }

            @Override
            public byte[] bytes() {
                return bytes.clone();
            }

            @Override
            public String toString() {
                return new String(bytes, StandardCharsets.UTF_8);
            }
        };
    }
}
