package io.interchange.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Debian's Chromium, headless, driven over the DevTools protocol with the JDK's own WebSocket client: a page is opened,
 * JavaScript is evaluated in it and the answers come back as JSON, so a test reads what a person sees (text, links,
 * where a click leads) without a WebDriver, which does not resolve offline here.
 */
public final class HeadlessChromium implements AutoCloseable {

    /** Where Debian's package installs it; {@code .ci/run} installs the package when it is missing. */
    public static final Path EXECUTABLE = Path.of("/usr/bin/chromium");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    private HeadlessChromium(Process process, Path profile, WebSocket socket) {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
    }

    /** Skips the calling test (a JUnit assumption) when Chromium is not installed. */
    public static void assumeInstalled() {
        assumeTrue(Files.isExecutable(EXECUTABLE), "Chromium is not installed at " + EXECUTABLE
                + ": install Debian's package chromium (apt-get install -y chromium; .ci/run does) to run this test");
    }

    /** Starts Chromium headless with a new empty profile and connects to its first page. */
    public static HeadlessChromium start() throws IOException, InterruptedException {
        assumeInstalled();
        Path profile = Files.createTempDirectory("interchange-chromium");
        // the flags keep it off the network it cannot reach here (background updates, sync, QUIC) and run it as root
        Process process = new ProcessBuilder(EXECUTABLE.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--remote-debugging-port=0", "--remote-allow-origins=*",
                "--user-data-dir=" + profile, "--window-size=1280,900", "about:blank")
                .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        try {
            // Chromium writes the port it took into the profile once it listens
            Path activePort = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!Files.exists(activePort) || Files.readAllLines(activePort).isEmpty()) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("Chromium did not start its DevTools endpoint: "
                            + Files.readString(profile.resolve("chromium.log")));
                }
                Thread.sleep(50);
            }
            int port = Integer.parseInt(Files.readAllLines(activePort).get(0).strip());
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body());
            String page = null;
            for (JsonNode t : targets) {
                if ("page".equals(t.path("type").asText())) page = t.path("webSocketDebuggerUrl").asText();
            }
            if (page == null) throw new IOException("Chromium has no page: " + targets);
            HeadlessChromium[] self = new HeadlessChromium[1];
            WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(page), new WebSocket.Listener() {
                private final StringBuilder text = new StringBuilder();

                @Override
                public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                        String message = text.toString();
                        text.setLength(0);
                        self[0].received(message);
                    }
                    ws.request(1);
                    return null;
                }
            }).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            self[0] = new HeadlessChromium(process, profile, socket);
            self[0].call("Page.enable", JSON.createObjectNode());
            return self[0];
        } catch (IOException | InterruptedException | RuntimeException e) {
            process.destroyForcibly();
            throw e;
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IOException("Cannot connect to Chromium: " + e, e);
        }
    }

    private void received(String message) {
        try {
            JsonNode m = JSON.readTree(message);
            if (m.has("id")) {
                CompletableFuture<JsonNode> f = pending.remove(m.path("id").asInt());
                if (f != null) f.complete(m);
            }
        } catch (IOException e) {
            // an event Chromium sent that is not JSON: nothing waits for it
        }
    }

    /** Sends a DevTools command and waits for its result; an error answer is thrown. */
    public JsonNode call(String method, ObjectNode params) {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        ObjectNode command = JSON.createObjectNode().put("id", id).put("method", method);
        command.set("params", params);
        try {
            socket.sendText(command.toString(), true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            JsonNode m = answer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            if (m.has("error")) throw new IllegalStateException(method + " failed: " + m.path("error"));
            return m.path("result");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(method + " interrupted", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(method + " got no answer: " + e, e);
        }
    }

    /** Opens a URL (a {@code file:} URL of a report) and waits until its document has loaded. */
    public void open(String url) {
        call("Page.navigate", JSON.createObjectNode().put("url", url));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!"complete".equals(evaluate("document.readyState").asText())
                || !url.equals(evaluate("location.href.split('#')[0]").asText())) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("page " + url + " did not load");
            sleep();
        }
    }

    /**
     * Opens the URL of a single-page application that rewrites its own address as it starts (Hawtio drops its
     * {@code ?con=} parameter): waits for the new document to load, not for the address.
     */
    public void openApp(String url) {
        evaluate("window.__leaving = true");
        call("Page.navigate", JSON.createObjectNode().put("url", url));
        await("window.__leaving === undefined && document.readyState === 'complete'");
    }

    /** Evaluates an expression in the page; its value as JSON (objects and arrays returned by value). */
    public JsonNode evaluate(String expression) {
        JsonNode result = call("Runtime.evaluate", JSON.createObjectNode().put("expression", expression)
                .put("returnByValue", true).put("awaitPromise", true));
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException("script failed: " + result.path("exceptionDetails") + "\n" + expression);
        }
        return result.path("result").path("value");
    }

    /** Clicks the element a CSS selector finds, as a person would (a real mouse event at its centre). */
    public void click(String selector) {
        evaluate("document.querySelector(" + JSON.valueToTree(selector) + ").scrollIntoView({block: 'center'})");
        JsonNode box = evaluate("(() => { const r = document.querySelector(" + JSON.valueToTree(selector)
                + ").getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()");
        for (String type : List.of("mousePressed", "mouseReleased")) {
            call("Input.dispatchMouseEvent", JSON.createObjectNode().put("type", type).put("x", box.path("x").asDouble())
                    .put("y", box.path("y").asDouble()).put("button", "left").put("clickCount", 1));
        }
    }

    /**
     * Waits until the expression is true in the page. A page that navigates meanwhile (a single-page application
     * redirecting itself) is asked again once the next document is there.
     */
    public void await(String expression) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!trueInPage(expression)) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("never true in the page: " + expression);
            sleep();
        }
    }

    private boolean trueInPage(String expression) {
        try {
            return evaluate(expression).asBoolean();
        } catch (IllegalStateException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("navigated or closed") || m.contains("Execution context was destroyed")
                    || m.contains("Cannot find context")) {
                return false;
            }
            throw e;
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Stops Chromium and the processes it started (renderers, the zygote), waiting for each, then deletes the profile.
     * Its files may still be going away as it is walked: what cannot be deleted is left in the temporary directory.
     */
    @Override
    public void close() {
        socket.abort();
        List<ProcessHandle> all = new java.util.ArrayList<>(process.descendants().toList());
        all.add(process.toHandle());
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle p : all) {
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                p.destroyForcibly();
            }
        }
        try {
            TempDirs.delete(profile);
        } catch (java.io.UncheckedIOException e) {
            // a temporary profile left behind
        }
    }
}
