package io.interchange.connectors.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.reliability.ExchangeKeys;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.MDC;

import java.util.LinkedHashMap;
import java.util.Map;

/** Writes the JSON answer of an HTTP endpoint; request headers are dropped so they are never echoed back. */
public final class HttpAnswers {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpAnswers() {
    }

    /** A JSON answer body without request data: {@code {"status":...,"reason":...}}. */
    public static String body(String outcome, String reason) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", outcome);
        if (reason != null) body.put("reason", reason);
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void json(Exchange exchange, int status, String outcome, String reason, Map<String, String> extra) {
        answer(exchange, status, outcome, reason, extra);
    }

    /**
     * As {@link #json}, with values of any JSON shape (lists, numbers, objects), e.g. one outcome per event of a
     * webhook batch.
     */
    public static void answer(Exchange exchange, int status, String outcome, String reason, Map<String, ?> extra) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", outcome);
        if (reason != null) body.put("reason", reason);
        if (extra != null) body.putAll(extra);
        String correlationId = exchange.getProperty(ExchangeKeys.CORRELATION_ID, String.class);
        if (correlationId != null) {
            body.put("correlationId", correlationId);
            // the answer may be written on another thread (Kafka callback): keep the id on its log lines too
            MDC.put(ExchangeKeys.CORRELATION_ID, correlationId);
        }
        Message m = exchange.getMessage();
        m.getHeaders().clear();
        m.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        m.setHeader(Exchange.CONTENT_TYPE, "application/json");
        if (correlationId != null) m.setHeader(ExchangeKeys.CORRELATION_HEADER, correlationId);
        try {
            m.setBody(JSON.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
