package io.interchange.runtime;

import io.interchange.connectors.http.EdgeAnswers;
import io.interchange.management.TlsIdentity;
import org.apache.camel.CamelContext;
import org.apache.camel.Service;
import org.apache.camel.component.platform.http.main.DefaultMainHttpServerFactory;
import org.apache.camel.component.platform.http.main.MainHttpServer;
import org.apache.camel.component.platform.http.main.ManagementHttpServer;
import org.apache.camel.main.HttpManagementServerConfigurationProperties;
import org.apache.camel.main.HttpServerConfigurationProperties;
import org.apache.camel.support.jsse.KeyManagersParameters;
import org.apache.camel.support.jsse.KeyStoreParameters;
import org.apache.camel.support.jsse.SSLContextParameters;

import java.util.Map;

/**
 * Camel main's HTTP server factory (found in the registry by type).
 *
 * <p>The business server is an {@link EdgeHttpServer}: Camel's server, configured by Camel from
 * {@code camel.server.*} as usual, with the answers it gives on its own installed ({@link EdgeAnswers}).
 *
 * <p>The management server, and only it, gets the management TLS identity when one is configured.
 * {@code camel.management.useGlobalSslContextParameters} would do the same through the context's global SSL parameters,
 * which every component with {@code useGlobalSslContextParameters} would then pick up as well; the business port and
 * outbound calls stay untouched here.
 */
final class HttpServerFactory extends DefaultMainHttpServerFactory {

    private final SSLContextParameters managementSsl;
    private final Map<String, String> allowByPath;

    /**
     * @param managementTls the management port's identity, or null for plain HTTP
     * @param allowByPath   the business paths this instance serves and the methods each allows (see {@link EdgeAnswers})
     */
    HttpServerFactory(TlsIdentity managementTls, Map<String, String> allowByPath) {
        this.allowByPath = Map.copyOf(allowByPath);
        if (managementTls == null) {
            managementSsl = null;
            return;
        }
        KeyStoreParameters keyStore = new KeyStoreParameters();
        keyStore.setKeyStore(managementTls.keyStore());
        KeyManagersParameters keyManagers = new KeyManagersParameters();
        keyManagers.setKeyStore(keyStore);
        keyManagers.setKeyPassword(managementTls.keyPassword());
        managementSsl = new SSLContextParameters();
        managementSsl.setKeyManagers(keyManagers);
    }

    @Override
    public Service newHttpServer(CamelContext camelContext, HttpServerConfigurationProperties configuration) {
        // Camel configures its own server from camel.server.*; the edge server takes that configuration over
        MainHttpServer configured = (MainHttpServer) super.newHttpServer(camelContext, configuration);
        long maxBody = configured.getMaxBodySize() != null ? configured.getMaxBodySize() : Long.MAX_VALUE;
        EdgeHttpServer server = new EdgeHttpServer(new EdgeAnswers(allowByPath, maxBody,
                EdgeHttpServer.MAX_HEADER_BYTES, EdgeHttpServer.MAX_INITIAL_LINE_BYTES));
        server.setCamelContext(camelContext);
        server.setConfiguration(configured.getConfiguration());
        server.setStaticEnabled(configured.isStaticEnabled());
        server.setStaticSourceDir(configured.getStaticSourceDir());
        server.setStaticContextPath(configured.getStaticContextPath());
        return server;
    }

    @Override
    public Service newHttpManagementServer(CamelContext camelContext,
                                           HttpManagementServerConfigurationProperties configuration) {
        Service server = super.newHttpManagementServer(camelContext, configuration);
        if (managementSsl != null) ((ManagementHttpServer) server).setSslContextParameters(managementSsl);
        return server;
    }
}
