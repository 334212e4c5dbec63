package io.interchange.config;

/**
 * A configuration the runtime cannot start with; the message names the key (never a secret's value) and is meant to
 * be shown to the operator as it is, without a stack trace.
 */
public class ConfigurationException extends IllegalArgumentException {

    public ConfigurationException(String message) {
        super(message);
    }

    public ConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
