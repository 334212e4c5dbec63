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
     * Salesforce's {@code [0].message}, OAuth's {@code error_description} or {@code error}, Voucherify's
     * {@code key: message (details)}, a problem document's {@code title: detail} (RFC 9457; Mailchimp's, with the
     * fields its {@code errors} name).
     */
    static String of(byte[] body) {
        if (body == null || body.length == 0) return "";
        String message;
        try {
            JsonNode json = JSON.readTree(body);
            if (json == null) return "";
            JsonNode first = json.isArray() ? json.path(0) : json;
            if (first.path("key").isTextual() && first.path("code").isNumber()) return ": " + bounded(voucherify(first));
            message = text(first.path("error").path("message"));
            if (message.isEmpty()) message = text(first.path("message"));
            if (message.isEmpty()) message = text(first.path("error_description"));
            if (message.isEmpty()) message = text(first.path("error"));
            if (message.isEmpty()) message = problem(first);
            if (!message.isEmpty() && first.hasNonNull("errorCode")) message = first.path("errorCode").asText() + ": " + message;
        } catch (Exception e) {
            return "";
        }
        return message.isEmpty() ? "" : ": " + bounded(message);
    }

    /** An RFC 9457 problem document: {@code title: detail}, then each of {@code errors} as {@code field: message}. */
    private static String problem(JsonNode problem) {
        String detail = text(problem.path("detail"));
        if (detail.isEmpty()) return "";
        String title = text(problem.path("title"));
        StringBuilder sb = new StringBuilder(title.isEmpty() ? detail : title + ": " + detail);
        for (JsonNode e : problem.path("errors")) {
            String field = text(e.path("field"));
            String message = text(e.path("message"));
            if (!message.isEmpty()) sb.append("; ").append(field.isEmpty() ? "" : field + ": ").append(message);
        }
        return sb.toString();
    }

    /**
     * Voucherify's error object ({@code code}, {@code key}, {@code message}, {@code details}, {@code request_id}): the
     * key says what kind of error it is ({@code not_found}, {@code no_voucher_suitable_for_publication}), the message is
     * generic ("Resource not found") and the details name the object, so all three go in the reason; the request id
     * lets Voucherify's support find the call. Its nested {@code error.message} is a validation rule's own text, kept
     * after the rest when present.
     */
    private static String voucherify(JsonNode error) {
        StringBuilder sb = new StringBuilder(text(error.path("key")));
        String message = text(error.path("message"));
        if (!message.isEmpty()) sb.append(": ").append(message);
        String details = text(error.path("details"));
        if (!details.isEmpty() && !details.equals(message)) sb.append(" (").append(details).append(')');
        String rule = text(error.path("error").path("message"));
        if (!rule.isEmpty()) sb.append(" - ").append(rule);
        String requestId = text(error.path("request_id"));
        if (!requestId.isEmpty()) sb.append(" [request ").append(requestId).append(']');
        return sb.toString();
    }

    static String bounded(String s) {
        String oneLine = s.replaceAll("\\s+", " ").strip();
        return oneLine.length() > MAX ? oneLine.substring(0, MAX) + "…" : oneLine;
    }

    private static String text(JsonNode node) {
        return node.isTextual() ? node.asText().strip() : "";
    }
}
