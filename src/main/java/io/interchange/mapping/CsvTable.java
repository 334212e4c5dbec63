package io.interchange.mapping;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small data table of {@code mappings/}: comma-separated, a header line naming the columns, {@code #} comments and
 * blank lines ignored, no quoting (the tables hold ids, paths and names). A malformed row fails start-up with its
 * file and line.
 */
public final class CsvTable {

    /** One row: its values by column, and its line in the file (for errors). */
    public record Row(Map<String, String> values, int line) {
        public String get(String column) {
            return values.get(column);
        }
    }

    private CsvTable() {
    }

    public static List<Row> read(MappingSource source, String file, String... columns) {
        return parse(file, source.read(file), columns);
    }

    /** Parses the text of {@code mappings/<file>}; errors name the file and line. */
    public static List<Row> parse(String file, String text, String... columns) {
        String expected = String.join(",", columns);
        String[] lines = text.split("\\R");
        List<Row> rows = new ArrayList<>();
        boolean header = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            if (!header) {
                if (!line.equals(expected)) {
                    throw new IllegalArgumentException("mappings/" + file + " line " + (i + 1) + ": expected header '"
                            + expected + "'");
                }
                header = true;
                continue;
            }
            String[] f = line.split(",", -1);
            if (f.length != columns.length) {
                throw new IllegalArgumentException("mappings/" + file + " line " + (i + 1) + ": expected "
                        + columns.length + " columns (" + expected + "), found " + f.length);
            }
            Map<String, String> values = new LinkedHashMap<>();
            for (int c = 0; c < columns.length; c++) values.put(columns[c], f[c].strip());
            rows.add(new Row(values, i + 1));
        }
        if (!header) throw new IllegalArgumentException("mappings/" + file + ": no header line '" + expected + "'");
        return rows;
    }
}
