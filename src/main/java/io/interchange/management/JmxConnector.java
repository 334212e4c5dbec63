package io.interchange.management;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.remote.JMXAuthenticator;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXPrincipal;
import javax.management.remote.JMXServiceURL;
import javax.security.auth.Subject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.rmi.registry.LocateRegistry;
import java.rmi.registry.Registry;
import java.rmi.server.RMIServerSocketFactory;
import java.rmi.server.UnicastRemoteObject;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The remote JMX connector for operators (jconsole, jmxterm): RMI registry and server on one port, bound to the
 * configured address, with user and password checked here so credentials come from configuration like every secret.
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

    /** Starts the connector; an empty password means no authentication, which is only allowed on loopback. */
    public static JmxConnector start(String host, int port, String user, String password) throws IOException {
        InetAddress address = InetAddress.getByName(host);
        boolean authenticated = password != null && !password.isEmpty();
        if (!authenticated && !address.isLoopbackAddress()) {
            throw new IllegalArgumentException("interchange.jmx.password must be set when JMX binds to " + host
                    + " (a non-loopback address)");
        }
        RMIServerSocketFactory sockets = p -> new ServerSocket(p, 50, address);
        Registry registry = LocateRegistry.createRegistry(port, null, sockets);
        String url = "service:jmx:rmi://" + host + ":" + port + "/jndi/rmi://" + host + ":" + port + "/jmxrmi";
        Map<String, Object> env = new HashMap<>();
        env.put("jmx.remote.rmi.server.socket.factory", sockets);
        if (authenticated) {
            env.put(JMXConnectorServer.AUTHENTICATOR, authenticator(user, password));
        }
        JMXConnectorServer server = JMXConnectorServerFactory.newJMXConnectorServer(new JMXServiceURL(url), env,
                ManagementFactory.getPlatformMBeanServer());
        server.start();
        LOG.info("JMX connector listening on {}:{} ({})", host, port, authenticated ? "user " + user : "no authentication, loopback only");
        return new JmxConnector(server, registry, url);
    }

    public String url() {
        return url;
    }

    private static JMXAuthenticator authenticator(String user, String password) {
        byte[] expectedUser = user.getBytes(StandardCharsets.UTF_8);
        byte[] expectedPassword = password.getBytes(StandardCharsets.UTF_8);
        return credentials -> {
            if (credentials instanceof String[] c && c.length == 2 && c[0] != null && c[1] != null
                    && MessageDigest.isEqual(expectedUser, c[0].getBytes(StandardCharsets.UTF_8))
                    & MessageDigest.isEqual(expectedPassword, c[1].getBytes(StandardCharsets.UTF_8))) {
                return new Subject(true, Set.of(new JMXPrincipal(c[0])), Set.of(), Set.of());
            }
            throw new SecurityException("Invalid JMX credentials");
        };
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
