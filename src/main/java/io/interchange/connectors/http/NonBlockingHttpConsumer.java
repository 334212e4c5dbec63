package io.interchange.connectors.http;

import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.http.base.HttpHeaderFilterStrategy;
import org.apache.camel.spi.HeaderFilterStrategy;
import org.apache.camel.Suspendable;
import org.apache.camel.ShutdownRunningTask;
import org.apache.camel.spi.ShutdownAware;
import org.apache.camel.support.DefaultConsumer;
import org.apache.camel.util.CollectionHelper;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serves {@link NonBlockingHttpEndpoint}'s path: a Vert.x route on the platform-http router (after its body handler,
 * so the body limit and its 413 stay the server's), added when the Camel route starts and removed when it stops or is
 * suspended (the server's own answers then give 503 for the path). Each request becomes an exchange whose route is
 * started on a Vert.x worker thread and continues on whatever thread its asynchronous steps call back on; its answer
 * is written on the request's own event loop.
 *
 * <p>The message is the one platform-http would give the route: the request's headers (and query parameters) except
 * those naming Camel's own ({@link HttpHeaderFilterStrategy}), {@code CamelHttpMethod}, {@code CamelHttpUri},
 * {@code CamelHttpUrl}, {@code CamelHttpPath}, {@code CamelHttpQuery}, and the raw body as bytes (a form post is not
 * parsed: the route reads the bytes that were signed). The answer is the message's {@code CamelHttpResponseCode}, its
 * headers except Camel's, and its body; an exchange that ends with an unhandled exception goes to the router's
 * failure handler (500).
 */
final class NonBlockingHttpConsumer extends DefaultConsumer implements Suspendable, ShutdownAware {

    private static final HeaderFilterStrategy HEADERS = new HttpHeaderFilterStrategy();

    private volatile Route route;
    /** Requests accepted and waiting for a worker thread: not in the route's in-flight count yet. */
    private final AtomicInteger pending = new AtomicInteger();

    NonBlockingHttpConsumer(NonBlockingHttpEndpoint endpoint, Processor processor) {
        super(endpoint, processor);
    }

    @Override
    public NonBlockingHttpEndpoint getEndpoint() {
        return (NonBlockingHttpEndpoint) super.getEndpoint();
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        addRoute();
    }

    @Override
    protected void doSuspend() throws Exception {
        removeRoute();
        super.doSuspend();
    }

    @Override
    protected void doResume() throws Exception {
        super.doResume();
        if (route == null) addRoute();
    }

    @Override
    protected void doStop() throws Exception {
        removeRoute();
        super.doStop();
    }

    /*
     * A graceful stop. Suspendable: Camel's shutdown suspends this consumer (no new requests: the server answers 503)
     * and waits for the exchanges under way before it stops the route; a consumer that is not Suspendable is stopped
     * at once, and DefaultConsumer.doStop stops the route's processors with it, so every exchange still under way
     * failed with a RejectedExecutionException (a 500). ShutdownAware: the requests accepted but not yet handed to
     * the route, waiting for a worker, count as pending, so they are processed and answered before the route stops.
     */

    @Override
    public boolean deferShutdown(ShutdownRunningTask shutdownRunningTask) {
        return false;
    }

    @Override
    public int getPendingExchangesSize() {
        return pending.get();
    }

    @Override
    public void prepareShutdown(boolean suspendOnly, boolean forced) {
        // nothing of its own: suspending removes the Vert.x route
    }

    private void addRoute() {
        // the main server's router (the business port; the management server has its own), under whatever name the
        // server bound it: platform-http's consumers find it by a name derived from the port
        var routers = getEndpoint().getCamelContext().getRegistry().findByType(VertxPlatformHttpRouter.class);
        VertxPlatformHttpRouter router = routers.stream().filter(VertxPlatformHttpRouter::isMainServer).findFirst()
                .orElseGet(() -> routers.stream().filter(r -> !r.isManagementServer()).findFirst().orElse(null));
        if (router == null) {
            throw new IllegalStateException(NonBlockingHttpComponent.SCHEME + ":" + getEndpoint().path()
                    + " needs the business HTTP server (platform-http on Vert.x), and none is configured");
        }
        route = router.route(HttpMethod.POST, getEndpoint().path()).handler(router.bodyHandler()).handler(this::handle);
    }

    private void removeRoute() {
        Route r = route;
        route = null;
        if (r != null) r.remove();
    }

    private void handle(RoutingContext ctx) {
        Exchange exchange = createExchange(false);
        exchange.setPattern(ExchangePattern.InOut);
        exchange.getExchangeExtension().setStreamCacheDisabled(true);
        try {
            populate(ctx, exchange);
        } catch (RuntimeException e) {
            releaseExchange(exchange, false);
            ctx.fail(e);
            return;
        }
        Context loop = Vertx.currentContext();
        // the route's first steps may block (a signature over a large body, a system's API read while translating):
        // they run on a worker thread, which is free again as soon as the route reaches its first asynchronous step
        pending.incrementAndGet();
        AtomicBoolean handedOver = new AtomicBoolean();
        ctx.vertx().executeBlocking(() -> {
            handedOver.set(true);
            try {
                // counted in flight by the route from its first step on
                return getAsyncProcessor().process(exchange, doneSync -> loop.runOnContext(v -> answer(ctx, exchange)));
            } finally {
                pending.decrementAndGet();
            }
        }, false).onFailure(t -> loop.runOnContext(v -> {
            // a task Vert.x refused (it is closing) never ran: the request is no longer pending either
            if (handedOver.compareAndSet(false, true)) pending.decrementAndGet();
            exchange.setException(t);
            answer(ctx, exchange);
        }));
    }

    private void populate(RoutingContext ctx, Exchange exchange) {
        HttpServerRequest request = ctx.request();
        Message in = exchange.getIn();
        Map<String, Object> headers = in.getHeaders();
        copy(request.headers(), headers, exchange);
        copy(ctx.queryParams(), headers, exchange);
        headers.put(Exchange.HTTP_METHOD, request.method().name());
        headers.put(Exchange.HTTP_URI, request.uri());
        headers.put(Exchange.HTTP_URL, request.absoluteURI());
        headers.put(Exchange.HTTP_PATH, ctx.normalizedPath());
        if (request.query() != null) {
            headers.put(Exchange.HTTP_QUERY, request.query());
            headers.put(Exchange.HTTP_RAW_QUERY, request.query());
        }
        Buffer body = ctx.body() == null ? null : ctx.body().buffer();
        in.setBody(body == null ? new byte[0] : body.getBytes());
    }

    private static void copy(MultiMap from, Map<String, Object> to, Exchange exchange) {
        for (Map.Entry<String, String> e : from.entries()) {
            if (!HEADERS.applyFilterToExternalHeaders(e.getKey(), e.getValue(), exchange)) {
                CollectionHelper.appendEntry(to, e.getKey(), e.getValue());
            }
        }
    }

    /** On the request's event loop, once the route is done with the exchange. */
    private void answer(RoutingContext ctx, Exchange exchange) {
        try {
            HttpServerResponse response = ctx.response();
            if (response.ended() || response.closed()) return;
            if (exchange.getException() != null) {
                ctx.fail(exchange.getException());
                return;
            }
            Message m = exchange.getMessage();
            response.setStatusCode(m.getHeader(Exchange.HTTP_RESPONSE_CODE, 200, Integer.class));
            for (Map.Entry<String, Object> h : m.getHeaders().entrySet()) {
                if (h.getValue() != null && !HEADERS.applyFilterToCamelHeaders(h.getKey(), h.getValue(), exchange)) {
                    response.putHeader(h.getKey(), h.getValue().toString());
                }
            }
            // the filter keeps the headers HTTP itself sets (Content-Type, Content-Length): the body's type is set here
            String contentType = m.getHeader(Exchange.CONTENT_TYPE, String.class);
            if (contentType != null) response.putHeader(Exchange.CONTENT_TYPE, contentType);
            byte[] body = m.getBody(byte[].class);
            if (body == null) response.end();
            else response.end(Buffer.buffer(body));
        } finally {
            releaseExchange(exchange, false);
        }
    }
}
