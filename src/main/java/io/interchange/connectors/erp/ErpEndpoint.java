package io.interchange.connectors.erp;

import org.apache.camel.component.http.HttpClientConfigurer;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.message.BasicHeader;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Where and how an ERP's SOAP service is reached: the Camel HTTP endpoint URI with timeouts, basic credentials given
 * to the HTTP client (never in the URI or message headers, so they cannot reach logs, metrics or dead letters),
 * and a health check that the service's port accepts connections.
 */
public final class ErpEndpoint {

    private final String name;
    private final URI url;
    private final Duration timeout;
    private final String user;
    private final String password;
    private final int maxRate;

    public ErpEndpoint(String name, String url, Duration timeout, String user, String password, int maxRate) {
        this.name = name;
        this.url = URI.create(url);
        if (this.url.getScheme() == null || !this.url.getScheme().startsWith("http")) {
            throw new IllegalArgumentException(name + " URL must be http or https: " + url);
        }
        this.timeout = timeout;
        this.user = user;
        this.password = password;
        if (maxRate < 1) {
            throw new IllegalArgumentException(name + " max-rate must be at least 1 request per second");
        }
        this.maxRate = maxRate;
    }

    /** The service URL. */
    public URI url() {
        return url;
    }

    /** Most requests per second this instance sends to the ERP. */
    public int maxRate() {
        return maxRate;
    }

    /** Registry name of the client configurer that carries the credentials. */
    public String configurerBean() {
        return name + "HttpClient";
    }

    public String camelUri() {
        return camelUri(url.toString(), "POST");
    }

    /** The Camel endpoint URI of another service of the same ERP (same timeouts and credentials). */
    public String camelUri(String serviceUrl, String method) {
        long ms = timeout.toMillis();
        String s = serviceUrl;
        return s + (s.contains("?") ? "&" : "?") + "throwExceptionOnFailure=false&httpMethod=" + method
                + "&connectTimeout=" + ms + "&responseTimeout=" + ms + "&soTimeout=" + ms
                + "&connectionRequestTimeout=" + ms + "&httpClientConfigurer=#" + configurerBean();
    }

    public HttpClientConfigurer clientConfigurer() {
        String basic = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        // The route's redelivery policy is the only retry: HttpClient would otherwise retry 503/429 on its own,
        // hidden from the policy, the attempt count and the metrics.
        return builder -> builder.setDefaultHeaders(List.of(new BasicHeader(HttpHeaders.AUTHORIZATION, basic)))
                .disableAutomaticRetries();
    }

    public AbstractHealthCheck healthCheck() {
        return new AbstractHealthCheck("connectors", name) {
            @Override
            protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                int port = url.getPort() > 0 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
                builder.detail("endpoint", url.getScheme() + "://" + url.getHost() + ":" + port + url.getPath());
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(url.getHost(), port), (int) Math.min(timeout.toMillis(), 2000));
                    builder.up();
                } catch (Exception e) {
                    builder.message(name + " not reachable: " + e.getMessage()).down();
                }
            }

            @Override
            public boolean isLiveness() {
                // an unreachable ERP must not get the runtime restarted: postings wait in Kafka and are retried
                return false;
            }
        };
    }
}
