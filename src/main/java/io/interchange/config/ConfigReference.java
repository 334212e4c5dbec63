package io.interchange.config;

/** Renders the configuration catalog as the README's reference table, so the document cannot drift from the code. */
public final class ConfigReference {

    public static final String START = "<!-- config-reference:start (generated from Settings; edit there) -->";
    public static final String END = "<!-- config-reference:end -->";

    private ConfigReference() {
    }

    public static String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("| key | environment variable | default | description |\n");
        sb.append("|---|---|---|---|\n");
        for (Setting s : Settings.all()) {
            String def = s.defaultValue().isEmpty() ? "" : "`" + s.defaultValue() + "`";
            sb.append("| `").append(s.key()).append("` | `").append(s.envName()).append('`')
                    .append(s.secret() ? " (or `" + s.envName() + "_FILE`)" : "")
                    .append(" | ").append(def).append(" | ")
                    .append(s.secret() ? "**Secret.** " : "").append(s.description().replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }
}
