package io.interchange.testkit;

import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Hawtio 4's console (its war, {@code io.hawt:hawtio-war}) on an embedded Jetty 12, as an operator runs it beside
 * Interchange: Hawtio's own authentication off (it is a local console; the runtime's Jolokia keeps its credentials and
 * roles), its proxy allowed to reach loopback only. The war's path comes from the build ({@code hawtio.war}, set by
 * maven-dependency-plugin's {@code properties} goal). Why not Hawtio's own launchers: neither {@code hawtio-embedded}
 * nor the JBang app is served by the registry here; the war is what they run.
 */
public final class HawtioConsole implements AutoCloseable {

    private static final Map<String, String> SETTINGS = Map.of(
            "hawtio.authenticationEnabled", "false",
            "hawtio.localAddressProbing", "false",
            "hawtio.proxyAllowlist", "localhost,127.0.0.1");

    private final Server server;
    private final ServerConnector connector;
    private final Map<String, String> previous;
    private final Path work;

    private HawtioConsole(Server server, ServerConnector connector, Map<String, String> previous, Path work) {
        this.server = server;
        this.connector = connector;
        this.previous = previous;
        this.work = work;
    }

    /** The war built against, or a skip naming the property when the test runs outside Maven. */
    public static Path war() {
        String war = System.getProperty("hawtio.war");
        assumeTrue(war != null && !war.startsWith("${") && Files.isRegularFile(Path.of(war)),
                "Hawtio's war not found (system property hawtio.war, set by the Maven build): " + war);
        return Path.of(war);
    }

    public static HawtioConsole start() throws Exception {
        Path war = war();
        // Hawtio reads its settings from system properties
        Map<String, String> previous = new HashMap<>();
        SETTINGS.forEach((k, v) -> {
            previous.put(k, System.getProperty(k));
            System.setProperty(k, v);
        });
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        WebAppContext app = new WebAppContext();
        app.setContextPath("/hawtio");
        app.setWar(war.toString());
        Path work = TempDirs.create("interchange-hawtio");
        app.setTempDirectory(work.toFile());
        app.setThrowUnavailableOnStartupException(true);
        server.setHandler(app);
        HawtioConsole console = new HawtioConsole(server, connector, previous, work);
        try {
            server.start();
        } catch (Exception e) {
            console.close();
            throw e;
        }
        return console;
    }

    /** The console's base, e.g. {@code http://127.0.0.1:43210/hawtio}. */
    public String url() {
        return "http://127.0.0.1:" + connector.getLocalPort() + "/hawtio";
    }

    /** Hawtio's proxy to a Jolokia agent on loopback, as its Connect plugin addresses one. */
    public String proxyTo(int port, String path) {
        return url() + "/proxy/http/127.0.0.1:" + port + path;
    }

    @Override
    public void close() throws Exception {
        try {
            server.stop();
        } finally {
            previous.forEach((k, v) -> {
                if (v == null) System.clearProperty(k); else System.setProperty(k, v);
            });
            TempDirs.delete(work);
        }
    }
}
