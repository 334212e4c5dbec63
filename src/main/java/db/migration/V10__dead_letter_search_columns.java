package db.migration;

import io.interchange.store.DeadLetterStore;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

/**
 * Fills the search columns V9 added (legal entity, customer) for dead letters stored before it, from their headers.
 * In Java because PostgreSQL and H2 read JSON with different functions, and the store's own extraction is the one
 * that fills them for new dead letters.
 */
public class V10__dead_letter_search_columns extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        try (Statement select = context.getConnection().createStatement();
             ResultSet rs = select.executeQuery("SELECT id, headers_json FROM dead_letter");
             PreparedStatement update = context.getConnection().prepareStatement(
                     "UPDATE dead_letter SET legal_entity = ?, customer_id = ? WHERE id = ?")) {
            while (rs.next()) {
                Map<String, String> headers = DeadLetterStore.headersFromJson(rs.getString("headers_json"));
                update.setString(1, DeadLetterStore.legalEntityOf(headers));
                update.setString(2, DeadLetterStore.customerOf(headers));
                update.setLong(3, rs.getLong("id"));
                update.addBatch();
            }
            update.executeBatch();
        }
    }
}
