package io.interchange.connectors.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.reliability.TransientFailure;

import java.io.IOException;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/** A target's successful (2xx) answer: status, headers (names in any case) and body. */
public record RestResponse(String describe, int status, Map<String, String> headers, byte[] body) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public RestResponse {
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.putAll(headers);
        headers = Collections.unmodifiableMap(h);
        body = body == null ? new byte[0] : body;
    }

    public String header(String name) {
        return headers.get(name);
    }

    /**
     * The body as JSON; a 2xx whose body is not JSON is transient (a proxy's page, a truncated answer): asking again
     * later is what can help.
     */
    public JsonNode json() {
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || node.isMissingNode()) throw new IOException("empty body");
            return node;
        } catch (IOException e) {
            throw new TransientFailure(describe + " answered " + status + " with a body that is not JSON", e);
        }
    }
}
