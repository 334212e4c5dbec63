package io.interchange.runtime;

import io.interchange.connectors.http.EdgeAnswers;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import org.apache.camel.component.platform.http.PlatformHttpConstants;
import org.apache.camel.component.platform.http.main.MainHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServerConfiguration;
import org.apache.camel.support.LifecycleStrategySupport;
import org.apache.camel.support.service.ServiceHelper;
import org.apache.camel.util.ObjectHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The business HTTP server (camel-main's {@code camel.server.*}): Camel's platform-http server on Vert.x, with the
 * answers it gives on its own ({@link EdgeAnswers}) installed where Vert.x takes them.
 *
 * <p>Why not something simpler: in camel-platform-http-vertx 4.18, {@code VertxPlatformHttpServer.startServer()} builds
 * its {@code HttpServerOptions} in a local variable and listens at once, no configuration reaches the options, and
 * Vert.x reads the server's invalid-request handler only when the server starts listening
 * ({@code HttpServerImpl.childHandler}); requests the codec cannot decode (oversized headers: 431) never reach the
 * router, so no router handler, route or error handler can answer them. Camel's top-level router (the one that could
 * hold a last route for unmatched requests and a failure handler for the body handler's 413) is private to that class
 * too; the router it publishes ({@code platform-http-router-<port>}) is the sub-router the routes' consumers add to
 * and remove from. So this server keeps Camel's {@code initializeServer()} (Vert.x instance, sub-router, body
 * handler, registry binding) and replaces only the listening part: its own root router mounting Camel's sub-router
 * exactly as Camel does, plus one last route for what nothing else took, and its own HTTP server with explicit limits
 * and the invalid-request handler. Accepted webhooks take the same path as before: the root router hands them to the
 * sub-router, whose route answers; the last route is never visited for them.
 *
 * <p>While the instance starts, a webhook route's consumer has not added its route yet, and once it is stopped it has
 * removed it: the last route answers such webhooks 503. In between, Camel's graceful shutdown suspends the consumers,
 * and a suspended platform-http consumer answers a bare 503 of its own; so when the context begins to stop, a route in
 * front of the known paths takes over ({@link Server#stopping()}).
 *
 * <p>{@code MainHttpServer} creates its {@code VertxPlatformHttpServer} in {@code doInit()} (a private field, used
 * only there, in {@code doStart()}, null-safe, and in the startup summary, which falls back to the configured port),
 * so this subclass creates the edge server in its place.
 */
final class EdgeHttpServer extends MainHttpServer {

    /** Vert.x's default header limit (HttpServerOptions), stated here because the 431 answer names it. */
    static final int MAX_HEADER_BYTES = 8192;
    /** Vert.x's default request-line limit (HttpServerOptions), stated here because the 414 answer names it. */
    static final int MAX_INITIAL_LINE_BYTES = 4096;

    private final EdgeAnswers answers;
    private Server server;

    EdgeHttpServer(EdgeAnswers answers) {
        this.answers = answers;
    }

    @Override
    protected void doInit() throws Exception {
        ObjectHelper.notNull(getCamelContext(), "CamelContext");
        getConfiguration().setServerType(VertxPlatformHttpRouter.SERVER_TYPE_SERVER);
        server = new Server(getConfiguration(), answers);
        getCamelContext().addService(server);
        // see Server.stopping(); called by CamelContext.stop() before the shutdown strategy suspends any consumer
        getCamelContext().addLifecycleStrategy(LifecycleStrategySupport.adapt(
                LifecycleStrategySupport.onCamelContextStopping(context -> server.stopping())));
    }

    @Override
    protected void doStart() throws Exception {
        ServiceHelper.startService(server);
        super.doStart();
    }

    /** Camel's server with its own listening part; see the class comment. */
    static final class Server extends VertxPlatformHttpServer {

        private static final Logger LOG = LoggerFactory.getLogger(EdgeHttpServer.class);
        private static final long WAIT_SECONDS = 30;

        private final VertxPlatformHttpServerConfiguration configuration;
        private final EdgeAnswers answers;
        private boolean vertxFromRegistry;
        private volatile HttpServer http;
        private volatile Router root;

        Server(VertxPlatformHttpServerConfiguration configuration, EdgeAnswers answers) {
            super(configuration);
            this.configuration = configuration;
            this.answers = answers;
        }

        @Override
        protected void doInit() throws Exception {
            super.doInit();
            vertxFromRegistry = getVertx() != null;
        }

        @Override
        protected void startServer() throws Exception {
            if (configuration.getSslContextParameters() != null || configuration.isUseGlobalSslContextParameters()) {
                throw new IllegalStateException("TLS on the business HTTP port is not supported; terminate TLS in front "
                        + "of it (ingress or load balancer)");
            }
            Vertx vertx = getVertx();
            VertxPlatformHttpRouter routes = VertxPlatformHttpRouter.lookup(getCamelContext(),
                    VertxPlatformHttpRouter.getRouterNameFromPort(configuration.getPort()));
            if (routes == null) throw new IllegalStateException("platform-http router not bound; Camel changed?");
            Router root = Router.router(vertx);
            root.route(configuration.getPath() + "*").subRouter(routes);
            root.route().last().handler(answers::unmatched).failureHandler(answers::failed);
            this.root = root;

            HttpServerOptions options = new HttpServerOptions()
                    .setMaxHeaderSize(MAX_HEADER_BYTES)
                    .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES);
            HttpServer server = vertx.createHttpServer(options)
                    .requestHandler(root)
                    .invalidRequestHandler(answers.invalidRequests(vertx))
                    .exceptionHandler(answers::connectionFailure);
            http = await(server.listen(configuration.getBindPort(), configuration.getBindHost()));
            LOG.info("Business HTTP server listening on {}:{}", configuration.getBindHost(), http.actualPort());
        }

        /**
         * The instance begins to stop: from now on the known paths are answered 503 (JSON, Retry-After) by a route in
         * front of everything else, while requests already taken run to their end. Without it, Camel's graceful
         * shutdown first suspends the platform-http consumers, and a suspended consumer answers every request a bare
         * 503 without body or Retry-After ({@code VertxPlatformHttpConsumer.handleSuspend}) until the route stops and
         * the server's last route takes over. Added only now, so it costs running webhooks nothing.
         */
        void stopping() {
            Router r = root;
            if (r == null) return;
            for (String path : answers.paths()) r.route(path).order(Integer.MIN_VALUE).handler(answers::unmatched);
        }

        @Override
        protected void stopServer() {
            HttpServer server = http;
            http = null;
            root = null;
            if (server == null) return;
            // as Camel's own stopServer(): the component is bound to this server's router
            getCamelContext().removeComponent(PlatformHttpConstants.PLATFORM_HTTP_COMPONENT_NAME);
            try {
                await(server.close());
                LOG.info("Business HTTP server stopped");
            } catch (Exception e) {
                LOG.warn("Closing the business HTTP server: {}", e.toString());
            }
        }

        /**
         * Camel closes the Vert.x instance only when it came from the registry (one it created itself it leaves
         * running), on an executor its own startServer() creates; this server has no such executor.
         */
        @Override
        protected void stopVertx() {
            Vertx vertx = getVertx();
            if (vertx == null || !vertxFromRegistry) return;
            try {
                await(vertx.close());
            } catch (Exception e) {
                LOG.warn("Closing Vert.x: {}", e.toString());
            }
        }

        @Override
        public HttpServer getServer() {
            return http;
        }

        @Override
        public int getPort() {
            HttpServer server = http;
            return server != null ? server.actualPort() : configuration.getBindPort();
        }

        private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
            try {
                return future.toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Exception cause) throw cause;
                throw e;
            }
        }
    }
}
