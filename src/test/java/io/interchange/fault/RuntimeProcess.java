package io.interchange.fault;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One runtime as a deployer runs it: {@code java -jar interchange.jar} in its own process, configured only through
 * {@code INTERCHANGE_*} environment variables, its output appended to a log file in the build directory (one file
 * across restarts, each start marked).
 */
public final class RuntimeProcess {

    private static final Pattern METRIC_LINE = Pattern.compile("^(\\w+)\\{([^}]*)}\\s+([0-9.eE+\\-]+|NaN)\\s*$");

    public final String name;
    public final int httpPort;
    public final int managementPort;
    public final int jmxPort;
    public final Path log;
    private final Path jar;
    private final Path dataDir;
    private final Map<String, String> env;
    private final String basicAuth;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private volatile Process process;
    private int starts;

    RuntimeProcess(String name, Path jar, Path dataDir, Path log, Map<String, String> env, int httpPort,
                   int managementPort, int jmxPort, String managementPassword) {
        this.name = name;
        this.jar = jar;
        this.dataDir = dataDir;
        this.log = log;
        this.env = Map.copyOf(env);
        this.httpPort = httpPort;
        this.managementPort = managementPort;
        this.jmxPort = jmxPort;
        this.basicAuth = "Basic " + Base64.getEncoder().encodeToString(("operator:" + managementPassword)
                .getBytes(StandardCharsets.UTF_8));
    }

    public URI webhookUrl() {
        return URI.create("http://127.0.0.1:" + httpPort + "/webhooks/billing");
    }

    /** Starts the process (not waiting for it to be ready). */
    public synchronized RuntimeProcess start() throws IOException {
        if (alive()) throw new IllegalStateException(name + " is already running");
        starts++;
        Files.writeString(log, "\n===== fault suite: start #" + starts + " of runtime " + name + " at " + Instant.now()
                + " =====\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xms64m", "-Xmx512m", "-XX:+UseSerialGC",
                "-XX:+ExitOnOutOfMemoryError", "-jar", jar.toString())
                .directory(dataDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // only what this scenario configures: nothing INTERCHANGE_* leaks in from the build's environment
        pb.environment().keySet().removeIf(k -> k.startsWith("INTERCHANGE_"));
        pb.environment().putAll(env);
        process = pb.start();
        return this;
    }

    public synchronized int starts() {
        return starts;
    }

    public boolean alive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /** Polls GET /observe/health with the management credentials until it answers 200. */
    public RuntimeProcess awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer yet";
        while (System.nanoTime() < deadline) {
            Process p = process;
            if (p == null || !p.isAlive()) {
                throw new IllegalStateException("runtime " + name + " exited with " + (p == null ? "?" : p.exitValue())
                        + " before it was ready; last lines of " + log + ":\n" + tail(80));
            }
            try {
                HttpResponse<String> r = management("/observe/health");
                if (r.statusCode() == 200) return this;
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("runtime " + name + " not ready within " + timeout + " (last health answer: "
                + abbreviate(last) + "); last lines of " + log + ":\n" + tail(80));
    }

    /** SIGTERM, then waits for the process to stop (SIGKILL if it does not within the timeout). */
    public void stop(Duration timeout) throws InterruptedException {
        Process p = process;
        if (p == null) return;
        p.destroy();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** kill -9: {@link Process#destroyForcibly()} is SIGKILL on Linux; returns once the process is gone. */
    public void kill9() throws InterruptedException {
        Process p = process;
        if (p == null) return;
        p.destroyForcibly();
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            throw new IllegalStateException("runtime " + name + " (pid " + p.pid() + ") still alive after SIGKILL");
        }
    }

    void kill9Quietly() {
        try {
            kill9();
        } catch (Exception e) {
            System.err.println("killing runtime " + name + ": " + e);
        }
    }

    public HttpResponse<String> management(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + path))
                .timeout(Duration.ofSeconds(5)).header("Authorization", basicAuth).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Sum of a Prometheus counter over the series whose labels contain {@code routeId="<routeId>"}, e.g.
     * {@code camel_exchanges_total} of {@code billing.ledger-posting}; -1 if the endpoint did not answer.
     */
    public double metric(String name, String routeId) {
        try {
            HttpResponse<String> r = management("/observe/metrics");
            if (r.statusCode() != 200) return -1;
            double sum = 0;
            boolean found = false;
            for (String line : r.body().split("\n")) {
                Matcher m = METRIC_LINE.matcher(line.strip());
                if (m.matches() && m.group(1).equals(name) && m.group(2).contains("routeId=\"" + routeId + "\"")) {
                    sum += Double.parseDouble(m.group(3));
                    found = true;
                }
            }
            return found ? sum : 0;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Every line of this process's log (all its starts), in order; large logs are read line by line, not held. */
    public void forEachLogLine(Consumer<String> action) {
        if (!Files.exists(log)) return;
        // Latin-1 never fails on a partly written multi-byte character; what is searched for is ASCII
        try (BufferedReader in = Files.newBufferedReader(log, StandardCharsets.ISO_8859_1)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                action.accept(line);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<String> logLines() {
        List<String> out = new ArrayList<>();
        forEachLogLine(out::add);
        return out;
    }

    /** Lines of this process's log containing {@code needle}. */
    public long countLogLines(String needle) {
        long[] n = {0};
        forEachLogLine(l -> {
            if (l.contains(needle)) n[0]++;
        });
        return n[0];
    }

    public String tail(int lines) {
        ArrayDeque<String> last = new ArrayDeque<>();
        forEachLogLine(l -> {
            if (last.size() == lines) last.removeFirst();
            last.addLast(l);
        });
        return String.join("\n", last);
    }

    private static String abbreviate(String s) {
        String flat = s.replaceAll("\\s+", " ");
        return flat.length() <= 400 ? flat : flat.substring(0, 400) + "...";
    }

    @Override
    public String toString() {
        return "runtime " + name + " (http :" + httpPort + ", management :" + managementPort + ", pid " + pid() + ")";
    }
}
