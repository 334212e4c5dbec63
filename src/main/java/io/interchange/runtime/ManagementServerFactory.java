package io.interchange.runtime;

import io.interchange.management.TlsIdentity;
import org.apache.camel.CamelContext;
import org.apache.camel.Service;
import org.apache.camel.component.platform.http.main.DefaultMainHttpServerFactory;
import org.apache.camel.component.platform.http.main.ManagementHttpServer;
import org.apache.camel.main.HttpManagementServerConfigurationProperties;
import org.apache.camel.support.jsse.KeyManagersParameters;
import org.apache.camel.support.jsse.KeyStoreParameters;
import org.apache.camel.support.jsse.SSLContextParameters;

/**
 * Camel main's HTTP server factory (found in the registry by type) that gives the management server, and only it, the
 * management TLS identity. {@code camel.management.useGlobalSslContextParameters} would do the same through the
 * context's global SSL parameters, which every component with {@code useGlobalSslContextParameters} would then pick up
 * as well; the business port and outbound calls stay untouched here.
 */
final class ManagementServerFactory extends DefaultMainHttpServerFactory {

    private final SSLContextParameters ssl;

    ManagementServerFactory(TlsIdentity tls) {
        KeyStoreParameters keyStore = new KeyStoreParameters();
        keyStore.setKeyStore(tls.keyStore());
        KeyManagersParameters keyManagers = new KeyManagersParameters();
        keyManagers.setKeyStore(keyStore);
        keyManagers.setKeyPassword(tls.keyPassword());
        ssl = new SSLContextParameters();
        ssl.setKeyManagers(keyManagers);
    }

    @Override
    public Service newHttpManagementServer(CamelContext camelContext,
                                           HttpManagementServerConfigurationProperties configuration) {
        Service server = super.newHttpManagementServer(camelContext, configuration);
        ((ManagementHttpServer) server).setSslContextParameters(ssl);
        return server;
    }
}
