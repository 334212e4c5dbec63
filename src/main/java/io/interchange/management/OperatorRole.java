package io.interchange.management;

import java.security.Principal;

/**
 * What a JMX user may see in the dead-letter console, carried as a principal of the user's {@code Subject}. Only a
 * privileged user sees personal data unmasked; every other caller (the operator user, Jolokia, an unauthenticated
 * loopback connection) sees it masked.
 */
public enum OperatorRole implements Principal {
    OPERATOR, PRIVILEGED;

    @Override
    public String getName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
