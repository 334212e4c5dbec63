package io.interchange.management;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.testkit.Databases;
import io.interchange.testkit.HawtioConsole;
import io.interchange.testkit.HeadlessChromium;
import io.interchange.testkit.RuntimeKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's consoles in Hawtio: Hawtio 4 (its war on Jetty 12, as {@link HawtioConsole} runs it) reaches the
 * runtime's Jolokia through its own proxy, the way its Connect plugin does, and finds the dead-letter console and
 * reconciliation MBeans there, reads them and calls their operations; the runtime's credentials still decide (a wrong
 * password through Hawtio is refused by the runtime).
 */
class HawtioOverJolokiaTest {

    private static final String PASSWORD = "mgmt-hawtio-test";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static RuntimeKit kit;
    private static HawtioConsole hawtio;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        HawtioConsole.war();
        kit = RuntimeKit.start(Databases.Backend.H2, Map.of("interchange.management.password", PASSWORD));
        hawtio = HawtioConsole.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (hawtio != null) hawtio.close();
        if (kit != null) kit.close();
    }

    @Test
    void hawtioListsReadsAndCallsTheRuntimesMBeansThroughItsProxy() throws Exception {
        JsonNode list = jolokia("""
                {"type": "list", "path": "io.interchange", "config": {"maxDepth": 2}}""", PASSWORD);
        assertThat(list.path("status").asInt()).as(list.toString()).isEqualTo(200);
        assertThat(list.path("value").fieldNames()).toIterable()
                .contains("type=DeadLetters", "type=Reconciliation");
        JsonNode operations = jolokia("""
                {"type": "list", "path": "io.interchange/type=DeadLetters/op"}""", PASSWORD);
        assertThat(operations.path("value").fieldNames()).toIterable()
                .contains("search", "show", "replay", "replayMatching", "replayEdited", "discard", "discardMatching");

        JsonNode count = jolokia("""
                {"type": "exec", "mbean": "io.interchange:type=DeadLetters", "operation": "count()"}""", PASSWORD);
        assertThat(count.path("status").asInt()).as(count.toString()).isEqualTo(200);
        assertThat(count.path("value").asLong()).isZero();
        // a refusal is an answer the console shows as it is
        JsonNode bulk = jolokia("""
                {"type": "exec", "mbean": "io.interchange:type=DeadLetters", "operation": "replayMatching",
                 "arguments": ["", true]}""", PASSWORD);
        assertThat(bulk.path("status").asInt()).as(bulk.toString()).isEqualTo(200);
        assertThat(bulk.path("value").asText()).startsWith("refused");
        // Camel's own MBeans, which Hawtio's Camel plugin reads, are there too
        JsonNode camel = jolokia("""
                {"type": "search", "mbean": "org.apache.camel:type=routes,*"}""", PASSWORD);
        assertThat(camel.path("value").toString()).contains("billing.ledger-posting");
    }

    @Test
    void theRuntimesCredentialsStillDecideThroughHawtio() throws Exception {
        HttpResponse<String> wrong = post("""
                {"type": "exec", "mbean": "io.interchange:type=DeadLetters", "operation": "count()"}""", "wrong");
        assertThat(wrong.statusCode()).as(wrong.body()).isEqualTo(401);
        // and what Jolokia may not do directly, it may not do through Hawtio either
        JsonNode write = jolokia("""
                {"type": "write", "mbean": "org.apache.camel:context=interchange,type=context,name=\\"interchange\\"",
                 "attribute": "Tracing", "value": true}""", PASSWORD);
        assertThat(write.path("status").asInt()).as(write.toString()).isEqualTo(403);
    }

    @Test
    void anOperatorSeesTheConsolesInHawtiosJmxTreeInChromium() throws Exception {
        HeadlessChromium.assumeInstalled();
        try (HeadlessChromium chromium = HeadlessChromium.start()) {
            // a connection as Hawtio's Connect tab saves it, then opened as its "Connect" button opens it (?con=)
            chromium.open(hawtio.url() + "/");
            chromium.evaluate("localStorage.setItem('connect.connections', JSON.stringify({interchange: {id: "
                    + "'interchange', name: 'interchange', scheme: 'http', host: '127.0.0.1', port: " + kit.managementPort
                    + ", path: '/observe/jolokia'}})), true");
            chromium.openApp(hawtio.url() + "/?con=interchange");
            chromium.await("document.querySelector('#connect-login-form input[type=password]') != null");
            // typed as a person types: React reads the inputs' own events
            chromium.evaluate("""
                    (() => {
                      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
                      const [user, password] = document.querySelectorAll('#connect-login-form input');
                      set.call(user, 'operator'); user.dispatchEvent(new Event('input', {bubbles: true}));
                      set.call(password, '%s'); password.dispatchEvent(new Event('input', {bubbles: true}));
                      return true;
                    })()""".formatted(PASSWORD));
            chromium.click(".pf-v5-c-modal-box__footer button.pf-m-primary");
            // logged in: Hawtio keeps the connection's credentials (encrypted) for the tab
            chromium.await("sessionStorage.getItem('connect.credentials') != null");
            chromium.openApp(hawtio.url() + "/jmx");
            chromium.await("document.body.innerText.includes('io.interchange')");
            // the tree opened (its "Expand all") shows the consoles
            chromium.evaluate("[...document.querySelectorAll('button')].find(e => e.textContent.trim() === "
                    + "'Expand all').id = 'expand-all'");
            chromium.click("#expand-all");
            // the tree renders on its own time
            chromium.await("['io.interchange', 'DeadLetters', 'Reconciliation', 'org.apache.camel']"
                    + ".every(t => document.body.innerText.includes(t))");
            String tree = chromium.evaluate("document.body.innerText").asText();
            // the connection's name heads the page (the user beside it only once Hawtio has asked for it)
            assertThat(tree).contains("interchange", "io.interchange", "DeadLetters", "Reconciliation",
                    "org.apache.camel");
        }
    }

    private JsonNode jolokia(String request, String password) throws Exception {
        HttpResponse<String> answer = post(request, password);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body());
    }

    private HttpResponse<String> post(String request, String password) throws Exception {
        String basic = Base64.getEncoder().encodeToString(("operator:" + password).getBytes(StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(URI.create(hawtio.proxyTo(kit.managementPort, "/observe/jolokia")))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
