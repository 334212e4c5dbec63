package io.interchange.connectors.webhook;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.function.Function;

/**
 * What a signature may cover: the method, the request URI as the client sent it (path and query, undecoded), the
 * headers and the raw body, before anything parses it.
 *
 * @param method  the HTTP method, e.g. {@code POST}
 * @param uri     path and query as received, e.g. {@code /webhooks/hubspot?portal=1}
 * @param url     the absolute URL as the HTTP server saw it (its scheme, the {@code Host} header, the path and query)
 * @param headers a request header by name (case-insensitive), or null
 * @param body    the raw body
 */
public record SignedRequest(String method, String uri, String url, Function<String, String> headers, byte[] body) {

    /** The request of a platform-http exchange. */
    public static SignedRequest of(Message in, byte[] body) {
        String method = in.getHeader(Exchange.HTTP_METHOD, String.class);
        String uri = in.getHeader(Exchange.HTTP_URI, String.class);
        String url = in.getHeader(Exchange.HTTP_URL, String.class);
        return new SignedRequest(method == null ? "POST" : method, uri == null ? "" : uri, url,
                name -> in.getHeader(name, String.class), body);
    }

    public String header(String name) {
        return headers.apply(name);
    }
}
