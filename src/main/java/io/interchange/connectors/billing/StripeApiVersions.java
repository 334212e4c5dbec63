package io.interchange.connectors.billing;

import io.interchange.mapping.CsvTable;
import io.interchange.mapping.MappingSource;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The Stripe API versions this runtime reads ({@code mappings/stripe/api-versions.csv}) and, for each, the mapping that
 * brings its events to the intermediate shape. An event of another version is parked with a reason naming it.
 */
final class StripeApiVersions {

    static final String FILE = "stripe/api-versions.csv";
    private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
    private static final Pattern RELEASE = Pattern.compile("\\*\\.([a-z]+)");

    /** A supported version (as the event names it, or the pinned one): its objects' shape and their normaliser. */
    record Version(String apiVersion, String shape, String normaliser) {
    }

    private record Rule(String version, String release, Version target) {
        boolean matches(String v) {
            if (release == null) return v.equals(version);
            int dot = v.indexOf('.');
            return dot == 10 && DATE.matcher(v.substring(0, dot)).matches() && v.substring(dot + 1).equals(release);
        }
    }

    private final List<Rule> rules = new ArrayList<>();
    private final String pinned;

    StripeApiVersions(MappingSource source, String pinnedVersion) {
        for (CsvTable.Row row : CsvTable.read(source, FILE, "api_version", "shape", "normaliser")) {
            String v = row.get("api_version");
            Version target = new Version(null, row.get("shape"), row.get("normaliser"));
            var release = RELEASE.matcher(v);
            if (release.matches()) {
                rules.add(new Rule(v, release.group(1), target));
            } else if (DATE.matcher(v).matches()) {
                rules.add(new Rule(v, null, target));
            } else {
                throw new IllegalArgumentException("mappings/" + FILE + " line " + row.line() + ": '" + v
                        + "' is neither a version date (2024-06-20) nor a release (*.basil)");
            }
        }
        this.pinned = pinnedVersion == null || pinnedVersion.isBlank() ? null : pinnedVersion.strip();
        if (pinned != null && rule(pinned) == null) {
            throw new io.interchange.config.ConfigurationException("interchange.billing.api-version '" + pinned + "' is not a supported Stripe "
                    + "API version; supported: " + supported());
        }
    }

    /** Every normaliser mapping the table names. */
    Set<String> normalisers() {
        Set<String> out = new LinkedHashSet<>();
        rules.forEach(r -> out.add(r.target.normaliser()));
        return out;
    }

    /** The version of an event's api_version (null: the pinned version), or null when it is not supported. */
    Version find(String apiVersion) {
        String v = apiVersion == null || apiVersion.isBlank() ? pinned : apiVersion;
        Rule rule = v == null ? null : rule(v);
        return rule == null ? null : new Version(v, rule.target.shape(), rule.target.normaliser());
    }

    /** The version of an event's api_version (null: the pinned version); parks the event if it is not supported. */
    Version require(String eventId, String apiVersion) {
        String v = apiVersion == null || apiVersion.isBlank() ? pinned : apiVersion;
        if (v == null) {
            throw new ParkedEvent("event " + eventId + " names no api_version and interchange.billing.api-version is not "
                    + "set; set it to the version the webhook endpoint is pinned to (" + supported() + ")");
        }
        Rule rule = rule(v);
        if (rule == null) {
            throw new ParkedEvent("event " + eventId + ": Stripe API version '"
                    + BillingEventTranslator.printable(v.length() > 40 ? v.substring(0, 40) + "…" : v)
                    + "' is not supported (mappings/stripe/api-versions.csv: " + supported() + "); pin the webhook "
                    + "endpoint to a supported version, then replay");
        }
        return new Version(v, rule.target.shape(), rule.target.normaliser());
    }

    private Rule rule(String v) {
        for (Rule r : rules) {
            if (r.matches(v)) return r;
        }
        return null;
    }

    private String supported() {
        List<String> out = new ArrayList<>();
        rules.forEach(r -> out.add(r.version));
        return String.join(", ", out);
    }
}
