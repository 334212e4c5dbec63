package io.interchange.config;

import java.util.Locale;

/**
 * One declared configuration key: its default, whether it is a secret, and what it does.
 *
 * @param key          the property name, always under {@code interchange.}
 * @param defaultValue the value used when nothing overrides it; may reference {@code ${other.key}}
 * @param secret       secrets are never logged and may also be read from a file named by {@code <ENV>_FILE}
 * @param description  one sentence for the configuration reference
 */
public record Setting(String key, String defaultValue, boolean secret, String description) {

    /** The environment variable that overrides this key: upper case, dots and dashes as underscores. */
    public String envName() {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
