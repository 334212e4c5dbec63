package db.migration;

import io.interchange.reconciliation.DeadLetterDocuments;
import io.interchange.store.DeadLetterStore;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

/**
 * Fills what V12 added to dead letters (the billing object and document each is about) for the open dead letters
 * stored before it, with the reader that fills them for new ones, so that reconciliation links the dead letters that
 * waited through the upgrade too. Closed ones are left: a run links open dead letters only.
 */
public class V12_1__dead_letter_documents extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws Exception {
        DeadLetterDocuments reader = new DeadLetterDocuments();
        try (Statement select = context.getConnection().createStatement();
             ResultSet rs = select.executeQuery("SELECT id, headers_json, payload FROM dead_letter WHERE status = 'OPEN'");
             PreparedStatement update = context.getConnection().prepareStatement(
                     "UPDATE dead_letter SET object_id = ?, document_key = ? WHERE id = ?")) {
            while (rs.next()) {
                Map<String, String> headers = DeadLetterStore.headersFromJson(rs.getString("headers_json"));
                DeadLetterStore.About about = reader.read(headers, rs.getBytes("payload"));
                if (about.objectId() == null && about.documentKey() == null) continue;
                update.setString(1, clip(about.objectId()));
                update.setString(2, clip(about.documentKey()));
                update.setLong(3, rs.getLong("id"));
                update.addBatch();
            }
            update.executeBatch();
        }
    }

    private static String clip(String s) {
        return s == null || s.length() > 300 ? null : s;
    }
}
