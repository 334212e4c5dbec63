package io.interchange.connectors.rest;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One request to a target: method, path under the base URL, query, extra headers, body, and the idempotency key under
 * which the target is to perform it at most once. The key is the caller's, derived from what the request creates (see
 * {@link IdempotencyKeys}), so the same request after a crash or a failed attempt carries the same key.
 */
public record RestRequest(String method, String path, Map<String, String> query, Map<String, String> headers,
                          RestBody body, String idempotencyKey) {

    public RestRequest {
        Objects.requireNonNull(method);
        Objects.requireNonNull(path);
        query = Collections.unmodifiableMap(new LinkedHashMap<>(query));
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    public static RestRequest get(String path) {
        return new RestRequest("GET", path, Map.of(), Map.of(), null, null);
    }

    public static RestRequest post(String path, RestBody body) {
        return new RestRequest("POST", path, Map.of(), Map.of(), body, null);
    }

    public RestRequest query(Map<String, String> more) {
        Map<String, String> q = new LinkedHashMap<>(query);
        q.putAll(more);
        return new RestRequest(method, path, q, headers, body, idempotencyKey);
    }

    public RestRequest header(String name, String value) {
        if (value == null) return this;
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new RestRequest(method, path, query, h, body, idempotencyKey);
    }

    public RestRequest idempotencyKey(String key) {
        return new RestRequest(method, path, query, headers, body, key);
    }

    /** The encoded query string, or null when there is none. */
    String queryString() {
        if (query.isEmpty()) return null;
        StringBuilder sb = new StringBuilder();
        query.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : "&").append(FormBody.encode(k)).append('=')
                .append(FormBody.encode(v)));
        return sb.toString();
    }

    /** How reasons name the request: method and path. */
    String describe() {
        return method + " " + path;
    }
}
