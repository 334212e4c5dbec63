package io.interchange.routes;

import io.interchange.connectors.billing.StripeApi;
import org.apache.camel.builder.RouteBuilder;

/** Requests to the billing platform's REST API, throttled to its rate limit: the one way out to Stripe's API. */
public class StripeApiRoute extends RouteBuilder {

    private final StripeApi api;

    public StripeApiRoute(StripeApi api) {
        this.api = api;
    }

    @Override
    public void configure() {
        from(StripeApi.ROUTE)
                .routeId(StripeApi.ROUTE_ID)
                // callers wait for the answer anyway (the event being translated needs it)
                .throttle(api.maxRate()).timePeriodMillis(1000).asyncDelayed(false)
                .to(api.endpointUri()).id("billing.stripe-api-call");
    }
}
