package io.interchange.connectors.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The message a system puts in its error answers, for failure reasons: short, whatever the system sent. */
final class ErrorMessages {

    /** Longest message kept in a reason: enough for any vendor's sentence, not a whole HTML error page. */
    static final int MAX = 200;
    private static final ObjectMapper JSON = new ObjectMapper();

    private ErrorMessages() {
    }

    /**
     * {@code ": <message>"}, or empty when there is none: Stripe's {@code error.message}, HubSpot's {@code message},
     * Salesforce's {@code [0].message}, OAuth's {@code error_description} or {@code error}.
     */
    static String of(byte[] body) {
        if (body == null || body.length == 0) return "";
        String message;
        try {
            JsonNode json = JSON.readTree(body);
            if (json == null) return "";
            JsonNode first = json.isArray() ? json.path(0) : json;
            message = text(first.path("error").path("message"));
            if (message.isEmpty()) message = text(first.path("message"));
            if (message.isEmpty()) message = text(first.path("error_description"));
            if (message.isEmpty()) message = text(first.path("error"));
            if (!message.isEmpty() && first.hasNonNull("errorCode")) message = first.path("errorCode").asText() + ": " + message;
        } catch (Exception e) {
            return "";
        }
        return message.isEmpty() ? "" : ": " + bounded(message);
    }

    static String bounded(String s) {
        String oneLine = s.replaceAll("\\s+", " ").strip();
        return oneLine.length() > MAX ? oneLine.substring(0, MAX) + "…" : oneLine;
    }

    private static String text(JsonNode node) {
        return node.isTextual() ? node.asText().strip() : "";
    }
}
