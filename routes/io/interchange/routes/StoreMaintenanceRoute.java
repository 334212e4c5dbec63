package io.interchange.routes;

import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

/** Store housekeeping: deletes idempotency keys past their expiry every hour. */
public class StoreMaintenanceRoute extends RouteBuilder {

    public static final String ROUTE_ID = "store.expire-idempotency-keys";

    private final IdempotencyStore idempotency;

    public StoreMaintenanceRoute(IdempotencyStore idempotency) {
        this.idempotency = idempotency;
    }

    @Override
    public void configure() {
        from("timer:expire-idempotency-keys?period=3600000&delay=60000")
                .routeId(ROUTE_ID)
                .process(e -> {
                    int n = idempotency.expire();
                    if (n > 0) log.info("Expired {} idempotency keys", n);
                }).id("store.expire-keys");
    }
}
