package io.interchange.routes;

import io.interchange.connectors.rest.RestTarget;
import org.apache.camel.builder.RouteBuilder;

/** Requests to one REST target, throttled to its rate limit: the one way out to that system's API. */
public class RestTargetRoute extends RouteBuilder {

    private final RestTarget target;

    public RestTargetRoute(RestTarget target) {
        this.target = target;
    }

    @Override
    public void configure() {
        from(target.routeUri())
                .routeId(target.name())
                // callers wait for the answer anyway (the event being translated or written needs it)
                .throttle(target.maxRate()).timePeriodMillis(1000).asyncDelayed(false)
                .to(target.endpointUri()).id(target.callId());
    }
}
