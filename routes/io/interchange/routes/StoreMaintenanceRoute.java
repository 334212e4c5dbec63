package io.interchange.routes;

import io.interchange.store.EchoLedger;
import io.interchange.store.IdempotencyStore;
import org.apache.camel.builder.RouteBuilder;

/**
 * Store housekeeping every hour: deletes idempotency keys past their expiry, and echo-ledger entries older than the
 * echo window (a value written that long ago is no longer recognised as an echo anyway, so the entry only takes room).
 */
public class StoreMaintenanceRoute extends RouteBuilder {

    public static final String ROUTE_ID = "store.expire-idempotency-keys";
    public static final String ECHO_ROUTE_ID = "store.expire-echo-ledger";

    private final IdempotencyStore idempotency;
    private final EchoLedger echoes;

    public StoreMaintenanceRoute(IdempotencyStore idempotency, EchoLedger echoes) {
        this.idempotency = idempotency;
        this.echoes = echoes;
    }

    @Override
    public void configure() {
        from("timer:expire-idempotency-keys?period=3600000&delay=60000")
                .routeId(ROUTE_ID)
                .process(e -> {
                    int n = idempotency.expire();
                    if (n > 0) log.info("Expired {} idempotency keys", n);
                }).id("store.expire-keys");
        from("timer:expire-echo-ledger?period=3600000&delay=90000")
                .routeId(ECHO_ROUTE_ID)
                .process(e -> {
                    int n = echoes.expire();
                    if (n > 0) log.info("Expired {} echo-ledger entries", n);
                }).id("store.expire-echoes");
    }
}
