package io.interchange.security;

import io.interchange.testkit.TempDirs;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.interchange.store.DeadLetter;
import io.interchange.testkit.Databases;
import io.interchange.testkit.Events;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Outbound TLS verifies certificates by default: an ERP with an untrusted certificate gets no posting and no retries. */
class OutboundTlsTest {

    static HttpsServer untrusted;
    static final AtomicInteger requests = new AtomicInteger();
    static RuntimeKit kit;

    @BeforeAll
    static void start() throws Exception {
        Path dir = TempDirs.untilExit("tls");
        Path keystore = dir.resolve("self-signed.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "erp", "-keyalg", "RSA", "-keysize", "2048", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", "changeit", "-keypass", "changeit",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2").inheritIO().start();
        assertThat(keytool.waitFor()).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        untrusted = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        untrusted.setHttpsConfigurator(new HttpsConfigurator(ssl));
        untrusted.createContext("/", exchange -> {
            requests.incrementAndGet();
            exchange.sendResponseHeaders(500, -1);
            exchange.close();
        });
        untrusted.start();
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.erp.s4.url",
                "https://127.0.0.1:" + untrusted.getAddress().getPort() + "/sap/bc/srt/scs_ext/sap/journalentrybulkcreaterequest"));
    }

    @AfterAll
    static void stop() {
        if (kit != null) kit.close();
        if (untrusted != null) untrusted.stop(0);
    }

    @Test
    void anUntrustedErpCertificateIsRefusedAndDeadLetteredAtOnce() throws Exception {
        assertThat(kit.sendSigned(Events.bytes(Events.invoicePaid("DE01"))).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> kit.runtime.store().deadLetters().count(null, DeadLetter.OPEN) == 1);
        DeadLetter dl = kit.runtime.store().deadLetters().list(null, DeadLetter.OPEN, 1).get(0);
        assertThat(dl.failureKind()).isEqualTo("PERMANENT");
        assertThat(dl.attempts()).isEqualTo(1);
        assertThat(dl.errorMessage()).containsIgnoringCase("certificat");
        assertThat(requests.get()).as("no request reaches a peer whose certificate is not trusted").isZero();
    }
}
