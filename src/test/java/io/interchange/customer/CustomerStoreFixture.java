package io.interchange.customer;

import io.interchange.store.Store;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Databases.Backend;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** One migrated store per backend for a test class, its customer tables and audit trail emptied by {@link #fresh}. */
final class CustomerStoreFixture implements AutoCloseable {

    private final Map<Backend, Store> stores = new EnumMap<>(Backend.class);

    synchronized Store fresh(Backend backend) {
        Store store = stores.computeIfAbsent(backend, b -> Store.open(Databases.config(b)));
        try (Connection c = store.dataSource().getConnection(); Statement s = c.createStatement()) {
            for (String table : List.of("customer_identity_key", "customer_identity_owner", "customer_field",
                    "customer_link", "customer", "audit_trail", "echo_ledger")) {
                s.executeUpdate("DELETE FROM " + table);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return store;
    }

    @Override
    public synchronized void close() {
        stores.values().forEach(Store::close);
        stores.clear();
    }
}
