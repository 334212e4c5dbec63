package io.interchange.archive;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where an event goes in the archive: {@code <prefix>/domain=<domain>/date=<YYYY-MM-DD>/<domain>+<kafkaPartition>+<firstOffset>.jsonl.gz},
 * Hive-style partitions (what Athena's {@code MSCK REPAIR TABLE}, DuckDB's {@code hive_partitioning} and Snowflake's
 * partitioned external tables read) and names that depend only on the Kafka partition and the file's first offset,
 * as the Kafka Connect S3 sink names its files: a file written again after a crash replaces itself.
 */
public final class ArchiveLayout {

    private final String prefix;
    private final Map<String, String> domains;

    /**
     * @param prefix folder or key prefix, empty for none
     * @param topics entries {@code topic} or {@code domain=topic}
     */
    public ArchiveLayout(String prefix, Iterable<String> topics) {
        String p = prefix == null ? "" : prefix.strip();
        while (p.endsWith("/")) p = p.substring(0, p.length() - 1);
        while (p.startsWith("/")) p = p.substring(1);
        this.prefix = p;
        Map<String, String> d = new LinkedHashMap<>();
        for (String entry : topics) {
            String e = entry.strip();
            if (e.isEmpty()) continue;
            int eq = e.indexOf('=');
            String topic = eq < 0 ? e : e.substring(eq + 1).strip();
            String domain = eq < 0 ? domainOf(topic) : e.substring(0, eq).strip();
            if (!domain.matches("[a-z0-9][a-z0-9_-]*")) {
                throw new IllegalArgumentException("archive domain '" + domain + "' of topic " + topic
                        + ": lower-case letters, digits, '_' and '-' only");
            }
            d.put(topic, domain);
        }
        if (d.isEmpty()) throw new IllegalArgumentException("no topics to archive");
        this.domains = Map.copyOf(d);
    }

    /** interchange.billing.v1 → billing; a topic of another shape → its first dot-separated part, lower-cased. */
    static String domainOf(String topic) {
        String t = topic.startsWith("interchange.") ? topic.substring("interchange.".length()) : topic;
        int dot = t.indexOf('.');
        String d = (dot < 0 ? t : t.substring(0, dot)).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "-");
        return d.isEmpty() ? "unknown" : d;
    }

    public Map<String, String> topics() {
        return domains;
    }

    public String domain(String topic) {
        String d = domains.get(topic);
        return d != null ? d : domainOf(topic);
    }

    /** The UTC date of a record timestamp (ms); a record without one (-1) is dated 1970-01-01. */
    public static LocalDate date(long timestampMillis) {
        return Instant.ofEpochMilli(Math.max(0, timestampMillis)).atZone(ZoneOffset.UTC).toLocalDate();
    }

    public String key(String domain, LocalDate date, int partition, long firstOffset) {
        String file = "domain=" + domain + "/date=" + date + "/" + domain + "+" + partition + "+" + firstOffset + ".jsonl.gz";
        return prefix.isEmpty() ? file : prefix + "/" + file;
    }
}
