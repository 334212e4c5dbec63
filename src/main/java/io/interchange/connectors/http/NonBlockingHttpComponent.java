package io.interchange.connectors.http;

import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

import java.util.Map;

/**
 * {@code interchange-http:<path>}: a POST path of the business HTTP server whose route runs without a thread waiting
 * for it ({@link NonBlockingHttpEndpoint}). The webhook edges use it instead of {@code platform-http:}.
 */
@Component(NonBlockingHttpComponent.SCHEME)
public class NonBlockingHttpComponent extends DefaultComponent {

    public static final String SCHEME = "interchange-http";

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        if (remaining == null || !remaining.startsWith("/")) {
            throw new IllegalArgumentException(SCHEME + ": the path must start with '/': " + uri);
        }
        NonBlockingHttpEndpoint endpoint = new NonBlockingHttpEndpoint(uri, this, remaining);
        setProperties(endpoint, parameters);
        return endpoint;
    }
}
