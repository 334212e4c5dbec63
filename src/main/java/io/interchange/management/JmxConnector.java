package io.interchange.management;

import io.interchange.config.ConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.remote.JMXAuthenticator;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXPrincipal;
import javax.management.remote.JMXServiceURL;
import javax.management.remote.rmi.RMIConnectorServer;
import javax.management.remote.rmi.RMIJRMPServerImpl;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.rmi.ssl.SslRMIClientSocketFactory;
import javax.security.auth.Subject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.rmi.AlreadyBoundException;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.RMIClientSocketFactory;
import java.rmi.server.RMIServerSocketFactory;
import java.rmi.server.UnicastRemoteObject;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The remote JMX connector for operators (jconsole, jmxterm): RMI registry and server on one port, bound to the
 * configured address, with user and password checked here so credentials come from configuration like every secret.
 *
 * <p>With a {@link TlsIdentity}, both the RMI registry and the connection carrying credentials and operations speak
 * TLS only, as the JDK's agent does with {@code com.sun.management.jmxremote.ssl=true} and
 * {@code com.sun.management.jmxremote.registry.ssl=true}: the stubs name {@link SslRMIClientSocketFactory}, so a
 * client needs the certificate in its default trust store ({@code -Djavax.net.ssl.trustStore=...}).
 */
public final class JmxConnector implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JmxConnector.class);

    private final JMXConnectorServer server;
    private final Registry registry;
    private final String url;

    private JmxConnector(JMXConnectorServer server, Registry registry, String url) {
        this.server = server;
        this.registry = registry;
        this.url = url;
    }

    /** A JMX user with its password and its role in the dead-letter console. */
    public record User(String name, String password, OperatorRole role) {
    }

    /** Starts the connector without TLS; see {@link #start(String, int, String, String, TlsIdentity)}. */
    public static JmxConnector start(String host, int port, String user, String password) throws IOException {
        return start(host, port, user, password, null);
    }

    /** Starts the connector with one user in the operator role; see {@link #start(String, int, List, TlsIdentity)}. */
    public static JmxConnector start(String host, int port, String user, String password, TlsIdentity tls)
            throws IOException {
        return start(host, port, List.of(new User(user, password, OperatorRole.OPERATOR)), tls);
    }

    /**
     * Starts the connector; the first user's empty password means no authentication, which is only allowed on
     * loopback (and then the other users are not asked for). With a TLS identity, registry and connector accept TLS
     * connections only.
     */
    public static JmxConnector start(String host, int port, List<User> users, TlsIdentity tls) throws IOException {
        InetAddress address = InetAddress.getByName(host);
        String password = users.get(0).password();
        boolean authenticated = password != null && !password.isEmpty();
        if (!authenticated && !address.isLoopbackAddress()) {
            throw new ConfigurationException("interchange.jmx.password must be set when JMX binds to " + host
                    + " (a non-loopback address)");
        }
        // one factory instance for registry and connector: RMI then serves both on the one port
        RMIServerSocketFactory sockets = tls == null ? p -> new ServerSocket(p, 50, address) : new TlsServerSockets(tls, address);
        RMIClientSocketFactory clientSockets = tls == null ? null : new SslRMIClientSocketFactory();
        Map<String, Object> env = new HashMap<>();
        if (authenticated) {
            env.put(JMXConnectorServer.AUTHENTICATOR, authenticator(users));
        }
        // Built as the JDK's agent does: the connector's stub is bound straight into the local registry object, not
        // through a JNDI URL, which would be an RMI call from this JVM to its own (TLS-only) registry.
        Registry registry = LocateRegistry.createRegistry(port, clientSockets, sockets);
        String url = "service:jmx:rmi://" + host + ":" + port + "/jndi/rmi://" + host + ":" + port + "/jmxrmi";
        JMXConnectorServer server = null;
        try {
            RMIJRMPServerImpl rmiServer = new RMIJRMPServerImpl(port, clientSockets, sockets, env);
            server = new RMIConnectorServer(new JMXServiceURL("rmi", host, port), env, rmiServer,
                    ManagementFactory.getPlatformMBeanServer());
            server.start();
            registry.bind("jmxrmi", rmiServer.toStub());
        } catch (IOException | AlreadyBoundException | RuntimeException e) {
            if (server != null) server.stop();
            UnicastRemoteObject.unexportObject(registry, true);
            if (e instanceof RuntimeException r) throw r;
            throw e instanceof IOException io ? io : new IOException("Cannot start the JMX connector", e);
        }
        LOG.info("JMX connector listening on {}:{} ({}; {})", host, port,
                authenticated ? "users " + users.stream().map(u -> u.name() + " (" + u.role().getName() + ")").toList()
                        : "no authentication, loopback only",
                tls == null ? "no TLS" : "TLS for registry and connection, certificate " + tls.describe());
        return new JmxConnector(server, registry, url);
    }

    public String url() {
        return url;
    }

    private static JMXAuthenticator authenticator(List<User> users) {
        return credentials -> {
            if (credentials instanceof String[] c && c.length == 2 && c[0] != null && c[1] != null) {
                byte[] givenUser = c[0].getBytes(StandardCharsets.UTF_8);
                byte[] givenPassword = c[1].getBytes(StandardCharsets.UTF_8);
                for (User u : users) {
                    if (MessageDigest.isEqual(u.name().getBytes(StandardCharsets.UTF_8), givenUser)
                            & MessageDigest.isEqual(u.password().getBytes(StandardCharsets.UTF_8), givenPassword)) {
                        return new Subject(true, Set.of(new JMXPrincipal(c[0]), u.role()), Set.of(), Set.of());
                    }
                }
            }
            throw new SecurityException("Invalid JMX credentials");
        };
    }

    /**
     * TLS server sockets bound to the connector's address. Equal instances make RMI share one listening port between
     * registry and connector, so equality is identity of the SSL context and address.
     */
    private static final class TlsServerSockets implements RMIServerSocketFactory {
        private final SSLContext ssl;
        private final InetAddress address;

        TlsServerSockets(TlsIdentity tls, InetAddress address) {
            this.ssl = tls.sslContext();
            this.address = address;
        }

        @Override
        public ServerSocket createServerSocket(int port) throws IOException {
            SSLServerSocket socket = (SSLServerSocket) ssl.getServerSocketFactory().createServerSocket(port, 50, address);
            socket.setNeedClientAuth(false);
            return socket;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TlsServerSockets t && t.ssl == ssl && t.address.equals(address);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(ssl) * 31 + address.hashCode();
        }
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (IOException e) {
            LOG.warn("Stopping the JMX connector: {}", e.getMessage());
        }
        try {
            UnicastRemoteObject.unexportObject(registry, true);
        } catch (IOException e) {
            LOG.warn("Stopping the RMI registry: {}", e.getMessage());
        }
    }
}
