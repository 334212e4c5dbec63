package io.interchange.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Readiness per flow: whether each flow this instance runs can do its work now, and if not, which dependency stops it.
 *
 * <p>A flow is ready when every check it depends on is UP: the connectors it needs (the store, Kafka, for the ledger
 * flow its ERPs) and Camel's own checks of its routes and consumers ({@code route:<id>}, {@code consumer:<id>}). The
 * flows' checks are not in Camel's health registry, so Camel's {@code /observe/health}, {@code /live} and
 * {@code /ready} never include them: an ERP that is down makes the ledger flow not ready, never the instance. They
 * are served on the management server instead:
 * <ul>
 *   <li>{@code GET /observe/health/flows}: every flow of the instance with its checks; 200 when all are ready,
 *       503 when one is not.</li>
 *   <li>{@code GET /observe/health/flows/<flow>}: one flow; 200 ready, 503 not ready (the message names the failing
 *       dependency), 404 for a flow this instance does not run.</li>
 * </ul>
 * The paths sit under {@code /observe/}, so the management port's credentials protect them like Camel's own.
 */
final class FlowHealth {

    static final String PATH = "/observe/health/flows";

    /** Camel's bookkeeping in every result; left out of the flow view, which shows what a check found. */
    private static final Set<String> BOOKKEEPING = Set.of(HealthCheck.CHECK_ID, HealthCheck.CHECK_GROUP,
            HealthCheck.CHECK_KIND, HealthCheck.CHECK_ENABLED, HealthCheck.INVOCATION_COUNT, HealthCheck.INVOCATION_TIME,
            HealthCheck.FAILURE_COUNT, HealthCheck.FAILURE_START_TIME, HealthCheck.FAILURE_TIME,
            HealthCheck.FAILURE_ERROR_COUNT, HealthCheck.SUCCESS_COUNT, HealthCheck.SUCCESS_START_TIME,
            HealthCheck.SUCCESS_TIME, "invocation.attempted", "failure.counter", "success.counter");

    private final CamelContext context;
    private final Map<String, FlowCheck> flows = new LinkedHashMap<>();
    private final ObjectMapper json = new ObjectMapper();

    FlowHealth(CamelContext context) {
        this.context = context;
    }

    /**
     * Declares a flow this instance runs, the connector checks it depends on and the routes whose Camel checks
     * ({@code route:<id>}, {@code consumer:<id>}) it depends on. Declaring a flow again adds to it.
     */
    FlowHealth flow(String name, List<? extends HealthCheck> dependencies, List<String> routeIds) {
        FlowCheck flow = flows.computeIfAbsent(name, FlowCheck::new);
        for (HealthCheck check : dependencies) {
            if (check instanceof AbstractHealthCheck a && a.getCamelContext() == null) a.setCamelContext(context);
            flow.dependencies.add(check);
        }
        flow.routeIds.addAll(routeIds);
        return this;
    }

    /** Every flow's readiness, in the order the flows were declared. */
    List<HealthCheck.Result> results() {
        List<HealthCheck.Result> out = new ArrayList<>();
        for (FlowCheck f : flows.values()) out.add(f.call(Map.of(HealthCheck.CHECK_KIND, HealthCheck.Kind.READINESS)));
        return out;
    }

    /** Adds the flows' endpoints to the management server's router (after its authentication handler). */
    void serveOn(Router router) {
        router.route(PATH).method(HttpMethod.GET).produces("application/json")
                .blockingHandler(ctx -> answer(ctx, results()), false);
        router.route(PATH + "/:flow").method(HttpMethod.GET).produces("application/json")
                .blockingHandler(ctx -> {
                    FlowCheck flow = flows.get(ctx.pathParam("flow"));
                    if (flow == null) {
                        ObjectNode body = json.createObjectNode();
                        body.put("status", "UNKNOWN");
                        body.put("message", "flow '" + ctx.pathParam("flow") + "' is not run by this instance; it runs "
                                + String.join(", ", flows.keySet()));
                        ctx.response().setStatusCode(404).putHeader("content-type", "application/json")
                                .end(body.toString());
                        return;
                    }
                    HealthCheck.Result r = flow.call(Map.of(HealthCheck.CHECK_KIND, HealthCheck.Kind.READINESS));
                    ctx.response().setStatusCode(r.getState() == HealthCheck.State.UP ? 200 : 503)
                            .putHeader("content-type", "application/json").end(toJson(r).toString());
                }, false);
    }

    private void answer(RoutingContext ctx, List<HealthCheck.Result> results) {
        boolean up = results.stream().allMatch(r -> r.getState() == HealthCheck.State.UP);
        ObjectNode body = json.createObjectNode();
        body.put("status", up ? "UP" : "DOWN");
        ArrayNode list = body.putArray("flows");
        results.forEach(r -> list.add(toJson(r)));
        ctx.response().setStatusCode(up ? 200 : 503).putHeader("content-type", "application/json").end(body.toString());
    }

    private ObjectNode toJson(HealthCheck.Result r) {
        ObjectNode node = json.createObjectNode();
        node.put("flow", ((FlowCheck) r.getCheck()).name);
        node.put("status", r.getState().name());
        r.getMessage().ifPresent(m -> node.put("message", m));
        ArrayNode checks = node.putArray("checks");
        @SuppressWarnings("unchecked")
        List<HealthCheck.Result> parts = (List<HealthCheck.Result>) r.getDetails().get(FlowCheck.PARTS);
        if (parts != null) {
            for (HealthCheck.Result p : parts) {
                ObjectNode c = checks.addObject();
                c.put("name", p.getCheck().getId());
                c.put("status", p.getState().name());
                p.getMessage().ifPresent(m -> c.put("message", m));
                p.getError().ifPresent(e -> c.put("error", e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage())));
                ObjectNode details = json.createObjectNode();
                p.getDetails().forEach((k, v) -> {
                    if (!BOOKKEEPING.contains(k) && v != null) details.put(k, String.valueOf(v));
                });
                if (!details.isEmpty()) c.set("details", details);
            }
        }
        return node;
    }

    /** One flow's readiness: UP when every check it depends on is UP; the message names those that are not. */
    private final class FlowCheck extends AbstractHealthCheck {

        static final String PARTS = "flow.checks";

        final String name;
        final List<HealthCheck> dependencies = new CopyOnWriteArrayList<>();
        final List<String> routeIds = new CopyOnWriteArrayList<>();

        FlowCheck(String name) {
            super("flows", "flow:" + name);
            this.name = name;
            setCamelContext(context);
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            List<HealthCheck.Result> parts = new ArrayList<>();
            for (HealthCheck d : dependencies) parts.add(d.call(options));
            HealthCheckRegistry registry = HealthCheckRegistry.get(context);
            if (registry != null) {
                for (String routeId : routeIds) {
                    for (String id : List.of("route:" + routeId, "consumer:" + routeId)) {
                        registry.getCheck(id).ifPresent(c -> parts.add(c.call(options)));
                    }
                }
            }
            List<String> failing = new ArrayList<>();
            for (HealthCheck.Result p : parts) {
                if (p.getState() != HealthCheck.State.UP) {
                    failing.add(p.getCheck().getId() + " " + p.getState()
                            + p.getMessage().map(m -> " (" + m + ")").orElse(""));
                }
            }
            builder.detail(PARTS, parts);
            if (failing.isEmpty()) {
                builder.up();
            } else {
                builder.message(name + " not ready: " + String.join("; ", failing)).down();
            }
        }

        @Override
        public boolean isReadiness() {
            // a flow's readiness is served apart (FlowHealth#serveOn); were it ever put in Camel's registry, it must not
            // decide the instance's readiness or liveness
            return false;
        }

        @Override
        public boolean isLiveness() {
            return false;
        }
    }
}
