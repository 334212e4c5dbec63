package io.interchange.connectors.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The answers the business HTTP server gives on its own, where no route answers: an unknown path (404), a wrong method
 * on a known path (405, with {@code Allow}), a known webhook path whose route is not running because the instance is
 * starting or stopping (503, with {@code Retry-After}), a body over the limit (413), headers or a request line over the
 * limit (431, 414) and requests the HTTP codec cannot parse (400). Each is JSON with a reason, like the routes' own
 * refusals, and logged as one line without a stack trace. None of them echoes the request back.
 *
 * <p>Connections: an answer given before the request was read to its end carries {@code Connection: close}; the rest
 * of the request is then read and discarded, and the connection is closed once the answer is flushed and the request
 * has ended (or {@link #LINGER_MILLIS} passed). Closing at once would leave the client's unread bytes in the server's
 * socket, and the kernel answers those with a reset that can destroy the answer before the client reads it. A
 * connection is never closed without {@code Connection: close} on the answer.
 */
public final class EdgeAnswers {

    private static final Logger LOG = LoggerFactory.getLogger(EdgeAnswers.class);
    /** How long a connection being closed is still read (and discarded) so that the client can finish sending. */
    public static final long LINGER_MILLIS = 3_000;
    /** Seconds a sender should wait before retrying a webhook a starting or stopping instance could not take. */
    public static final String RETRY_AFTER_SECONDS = "5";
    private static final String JSON = "application/json";
    private static final int MAX_LOGGED_PATH = 120;

    private final Map<String, String> allowByPath;
    private final String unavailable = HttpAnswers.body("unavailable", "starting or stopping; retry later");
    private final String notFound = HttpAnswers.body("rejected", "no such endpoint");
    private final String bodyTooLarge;
    private final String headersTooLarge;
    private final String lineTooLong;
    private final String malformed = HttpAnswers.body("rejected", "malformed HTTP request");
    private final String internalError = HttpAnswers.body("error", "internal error");

    /**
     * @param allowByPath the paths this instance serves (as the client sends them, e.g. {@code /webhooks/billing}) and
     *                    the methods each allows, comma-separated ({@code POST})
     */
    public EdgeAnswers(Map<String, String> allowByPath, long maxBodyBytes, int maxHeaderBytes, int maxInitialLineBytes) {
        this.allowByPath = new LinkedHashMap<>(allowByPath);
        this.bodyTooLarge = HttpAnswers.body("rejected", "request body larger than " + maxBodyBytes + " bytes");
        this.headersTooLarge = HttpAnswers.body("rejected", "request headers larger than " + maxHeaderBytes + " bytes");
        this.lineTooLong = HttpAnswers.body("rejected", "request line longer than " + maxInitialLineBytes + " bytes");
    }

    // ------------------------------------------------------------------------------------------- router answers

    /** The paths this instance serves (see the constructor). */
    public Set<String> paths() {
        return Collections.unmodifiableSet(allowByPath.keySet());
    }

    /**
     * The last route of the server's router: reached only by requests no route took, so accepted webhooks never get
     * here. A known path answers 405 for another method and, for its own method, 503: the route that serves it exists
     * in this instance but is not running (not started yet, or already stopped while the instance shuts down). Also
     * the handler of the routes the server puts in front of the known paths once the instance begins to stop.
     */
    public void unmatched(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        String allow = allowFor(path);
        String method = ctx.request().method().name();
        if (allow == null) {
            answer(ctx, 404, notFound, null, null);
            LOG.warn("HTTP 404 for {} {} from {}: no such endpoint", method, loggable(path), remote(ctx.request()));
        } else if (!allowed(allow, method)) {
            answer(ctx, 405, HttpAnswers.body("rejected", "method not allowed; use " + allow), "Allow", allow);
            LOG.warn("HTTP 405 for {} {} from {}: method not allowed", method, loggable(path), remote(ctx.request()));
        } else {
            answer(ctx, 503, unavailable, "Retry-After", RETRY_AFTER_SECONDS);
            LOG.info("HTTP 503 for {} {} from {}: the instance is starting or stopping", method, loggable(path),
                    remote(ctx.request()));
        }
    }

    /** Failure handler of the server's router: a body over the limit, a request the router refused, a bug. */
    public void failed(RoutingContext ctx) {
        int status = ctx.statusCode();
        Throwable failure = ctx.failure();
        if (status < 0) status = failure instanceof HttpException h ? h.getStatusCode() : 500;
        String path = loggable(ctx.normalizedPath());
        String method = ctx.request().method().name();
        if (status == 413) {
            answer(ctx, 413, bodyTooLarge, null, null);
            LOG.warn("HTTP 413 for {} {} from {}: request body over the limit", method, path, remote(ctx.request()));
        } else if (status >= 400 && status < 500) {
            String reason = HttpResponseStatus.valueOf(status).reasonPhrase().toLowerCase(java.util.Locale.ROOT);
            answer(ctx, status, status == 400 ? malformed : HttpAnswers.body("rejected", reason), null, null);
            LOG.warn("HTTP {} for {} {} from {}: {}", status, method, path, remote(ctx.request()), reason);
        } else {
            // not a refusal of the sender's request but a fault here: the stack trace is what finds it
            answer(ctx, 500, internalError, null, null);
            LOG.error("HTTP 500 for {} {}: unexpected failure in the HTTP server", method, path, failure);
        }
    }

    private void answer(RoutingContext ctx, int status, String body, String header, String value) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) return;
        if (response.headWritten()) {
            // a route started its answer and then failed: nothing sensible can follow on this connection
            request.connection().close();
            return;
        }
        response.headers().clear();
        response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON);
        if (header != null) response.putHeader(header, value);
        boolean close = !request.isEnded() && request.version() != HttpVersion.HTTP_2;
        if (!close) {
            response.end(body);
            return;
        }
        response.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        // the rest of the body is read and dropped, so that closing does not reset a client still sending it
        Promise<Void> ended = Promise.promise();
        request.exceptionHandler(t -> ended.tryComplete());
        request.handler(ignored -> { });
        request.endHandler(v -> ended.tryComplete());
        request.resume();
        Future<Void> written = response.end(body);
        Vertx vertx = ctx.vertx();
        long timer = vertx.setTimer(LINGER_MILLIS, id -> ended.tryComplete());
        written.onComplete(w -> ended.future().onComplete(e -> {
            vertx.cancelTimer(timer);
            request.connection().close();
        }));
    }

    private String allowFor(String path) {
        if (path == null) return null;
        String allow = allowByPath.get(path);
        if (allow == null && path.length() > 1 && path.endsWith("/")) {
            // the router serves a path with and without a trailing slash alike
            allow = allowByPath.get(path.substring(0, path.length() - 1));
        }
        return allow;
    }

    private static boolean allowed(String allow, String method) {
        for (String m : allow.split(",")) {
            if (m.strip().equals(method)) return true;
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------- codec answers

    /**
     * The HTTP server's handler for requests its codec could not decode (headers or request line over the limit,
     * malformed syntax), which never reach the router.
     *
     * <p>Vert.x's own handler ({@code HttpServerRequest.DEFAULT_INVALID_REQUEST_HANDLER}) answers the bare status and
     * closes the connection at once, and even for an answer ended here {@code Http1xServerConnection.responseComplete}
     * fails (closes) the connection as soon as the answer is flushed, because the request was not decoded. A client
     * still writing oversized headers then gets a reset and may never read the answer. So the answer is written in
     * full (with {@code Content-Length} and {@code Connection: close}) but only ended, which closes the connection, once
     * the client has closed its side or {@link #LINGER_MILLIS} passed; meanwhile Netty's decoder, in its bad-message
     * state, reads and discards whatever still arrives.
     */
    public Handler<HttpServerRequest> invalidRequests(Vertx vertx) {
        return request -> {
            Throwable cause = request.decoderResult().cause();
            int status;
            String body;
            String reason;
            if (cause instanceof TooLongHttpHeaderException) {
                status = 431;
                body = headersTooLarge;
                reason = "request headers over the limit";
            } else if (cause instanceof TooLongHttpLineException) {
                status = 414;
                body = lineTooLong;
                reason = "request line over the limit";
            } else {
                status = 400;
                body = malformed;
                reason = "malformed HTTP request";
            }
            LOG.warn("HTTP {} from {}: {}", status, remote(request), reason);
            HttpServerResponse response = request.response();
            request.exceptionHandler(t -> { });
            response.exceptionHandler(t -> { });
            Buffer bytes = Buffer.buffer(body);
            response.setStatusCode(status)
                    .putHeader(HttpHeaders.CONTENT_TYPE, JSON)
                    .putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(bytes.length()))
                    .putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
            response.write(bytes);
            long timer = vertx.setTimer(LINGER_MILLIS, id -> {
                if (!response.ended() && !response.closed()) response.end();
            });
            response.closeHandler(v -> vertx.cancelTimer(timer));
        };
    }

    /** The HTTP server's exception handler: connection-level failures (resets, TLS, codec errors) are the peer's. */
    public void connectionFailure(Throwable t) {
        LOG.debug("HTTP connection failure: {}", t.toString());
    }

    private static String remote(HttpServerRequest request) {
        var address = request.remoteAddress();
        return address == null ? "?" : address.hostAddress();
    }

    /** A path as logged: control characters replaced, bounded in length. */
    static String loggable(String path) {
        if (path == null) return "?";
        StringBuilder sb = new StringBuilder(Math.min(path.length(), MAX_LOGGED_PATH + 1));
        for (int i = 0; i < path.length() && sb.length() < MAX_LOGGED_PATH; i++) {
            char c = path.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        if (path.length() > MAX_LOGGED_PATH) sb.append('…');
        return sb.toString();
    }
}
