package io.interchange.sandbox;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Currency;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/** Shared plumbing of the simulated SOAP 1.1 peers: HTTP server, Basic auth, secure parsing, faults, fault injection and a thread-safe ledger. */
public abstract class SoapPeerSupport<P> implements AutoCloseable {

    public static final String SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/";

    private static final int MAX_BODY_BYTES = 10 * 1024 * 1024;
    private static final int THREADS = 8;
    private static final Pattern XSD_DECIMAL = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)");
    // DocumentBuilder is not thread-safe; one per pool thread avoids rebuilding the factory per request.
    private static final ThreadLocal<DocumentBuilder> PARSER = ThreadLocal.withInitial(SoapPeerSupport::newSecureParser);

    private final Logger log = LoggerFactory.getLogger(getClass());
    private final int requestedPort;
    private final String path;
    private final String envPrefix;
    private final byte[] expectedAuthorization;
    private final Map<String, String> companyCurrency;

    private final List<P> postings = new ArrayList<>();
    // guarded by postings: counts every change, so that a sorted copy knows when it is stale
    private long postingsVersion;
    private List<P> sorted;
    private long sortedVersion;
    private java.util.Comparator<? super P> sortedOrder;
    private final List<String> rejections = new ArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private volatile boolean recordArrivals;
    private final Object arrivalLock = new Object();
    private long[] arrivals = new long[1024];
    private int arrivalCount;
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private final AtomicInteger serverFaultsLeft = new AtomicInteger();
    private volatile int failureStatus = 503;
    private volatile Duration delay = Duration.ZERO;
    private volatile long latencyMinMillis;
    private volatile long latencyMaxMillis;
    private volatile int threads = THREADS;
    private volatile boolean available = true;
    private final Object rawLock = new Object();
    private RawAnswer rawAnswer;
    private int rawAnswersLeft;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final List<Call<P>> calls = new ArrayList<>();
    private final ThreadLocal<Answering> answering = new ThreadLocal<>();

    private HttpServer server;
    private ExecutorService executor;

    SoapPeerSupport(int port, String path, String envPrefix, String user, String password,
                    Map<String, String> companyCurrency) {
        this.requestedPort = port;
        this.path = path;
        this.envPrefix = envPrefix;
        this.expectedAuthorization = ("Basic " + Base64.getEncoder().encodeToString(
                (Objects.requireNonNull(user) + ":" + Objects.requireNonNull(password)).getBytes(StandardCharsets.UTF_8)))
                .getBytes(StandardCharsets.US_ASCII);
        this.companyCurrency = new java.util.concurrent.ConcurrentHashMap<>(companyCurrency);
    }

    /** Parses the SOAP Body's first element and returns the content of the response Body; business rules live here. */
    abstract String handle(Element payload, String rawXml) throws SoapFault;

    /** A read-only HTTP service of the peer besides its SOAP endpoint (an ERP's query API). */
    interface ReadHandler {
        /** Answers a GET of {@code path} (under the service's prefix) with its decoded query parameters. */
        ReadAnswer read(String path, Map<String, String> query);
    }

    /** A read service's answer. */
    record ReadAnswer(int status, String contentType, String body) {
        static ReadAnswer json(int status, String body) {
            return new ReadAnswer(status, "application/json; charset=utf-8", body);
        }

        /** An OData V2 error body. */
        static ReadAnswer odataError(int status, String message) {
            return json(status, "{\"error\":{\"code\":\"/IWBEP/CM_MGW_RT/" + status + "\",\"message\":{\"lang\":\"en\","
                    + jsonField("value", message) + "}}}");
        }
    }

    private final Map<String, ReadHandler> readServices = new java.util.LinkedHashMap<>();
    private final AtomicInteger reads = new AtomicInteger();

    /**
     * Serves GET requests under {@code prefix} with {@code handler}, with the same credentials, availability and delay
     * as the SOAP endpoint; the one-shot failures and raw answers ({@link #failNext}, {@link #answerNextWith}) stay
     * the SOAP endpoint's. Call from the constructor.
     */
    final void serveReads(String prefix, ReadHandler handler) {
        readServices.put(prefix, handler);
    }

    /** Requests to the read services since start (or the last {@link #reset()}). */
    public int readCount() {
        return reads.get();
    }

    /** http://host:port of the peer, without a path. */
    synchronized String baseUrl() {
        String url = endpointUrl();
        return url.substring(0, url.length() - path.length());
    }

    private void serveRead(HttpExchange exchange, String prefix, ReadHandler handler) {
        Duration pause = pause();
        reads.incrementAndGet();
        // a read is a request like any other for the system's rate limit
        if (recordArrivals) recordArrival(System.nanoTime());
        answering(() -> {
            ReadAnswer answer;
            try {
                answer = readAnswer(exchange, prefix, handler);
            } catch (RuntimeException e) {
                log.error("Read request failed", e);
                answer = ReadAnswer.odataError(500, "Internal error, try again");
            }
            write(exchange, new Response(answer.status(), answer.contentType(), answer.body(), Map.of()), pause);
        });
    }

    private ReadAnswer readAnswer(HttpExchange exchange, String prefix, ReadHandler handler) {
        if (!available) {
            return new ReadAnswer(503, "text/plain; charset=utf-8", "Service Unavailable");
        }
        if (!"GET".equals(exchange.getRequestMethod())) {
            return new ReadAnswer(405, "text/plain; charset=utf-8", "Method Not Allowed");
        }
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization == null
                || !MessageDigest.isEqual(expectedAuthorization, authorization.getBytes(StandardCharsets.UTF_8))) {
            return new ReadAnswer(401, "text/plain; charset=utf-8", "Unauthorized");
        }
        Map<String, String> query = new java.util.LinkedHashMap<>();
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                String name = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                query.put(name, value);
            }
        }
        String format = query.get("$format");
        String accept = exchange.getRequestHeaders().getFirst("Accept");
        if (!"json".equals(format) && (accept == null || !accept.contains("application/json"))) {
            return new ReadAnswer(406, "text/plain; charset=utf-8", "This peer answers JSON only: $format=json");
        }
        return handler.read(exchange.getRequestURI().getPath(), query);
    }

    static String jsonField(String name, String value) {
        StringBuilder sb = new StringBuilder("\"").append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '/' -> sb.append("\\/");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    /** Checks transport headers before the body is read. */
    void checkHeaders(Headers headers) throws SoapFault {
    }

    public synchronized void start() throws IOException {
        if (server != null) {
            throw new IllegalStateException(getClass().getSimpleName() + " already started");
        }
        String name = getClass().getSimpleName();
        AtomicInteger threadNo = new AtomicInteger();
        HttpServer created = HttpServer.create(new InetSocketAddress("127.0.0.1", requestedPort), 0);
        executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + threadNo.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        created.setExecutor(executor);
        created.createContext(path, this::serve);
        readServices.forEach((prefix, handler) -> created.createContext(prefix, ex -> serveRead(ex, prefix, handler)));
        soapServices.forEach((servicePath, handler) -> created.createContext(servicePath,
                ex -> serve(ex, servicePath, handler)));
        created.start();
        server = created;
        log.info("Listening on {}", endpointUrl());
    }

    @Override
    public synchronized void close() {
        if (server == null) {
            return;
        }
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server = null;
        executor = null;
    }

    /** The endpoint URL; with port 0 it is known only once started. */
    public synchronized String endpointUrl() {
        if (server == null && requestedPort == 0) {
            throw new IllegalStateException(getClass().getSimpleName() + " not started");
        }
        return "http://127.0.0.1:" + (server == null ? requestedPort : server.getAddress().getPort()) + path;
    }

    /** The next {@code times} requests are answered with {@code httpStatus} and a short plain-text body. */
    public void failNext(int times, int httpStatus) {
        if (times < 0 || httpStatus < 100 || httpStatus > 599) {
            throw new IllegalArgumentException("times >= 0 and 100 <= httpStatus <= 599 required");
        }
        failureStatus = httpStatus;
        failuresLeft.set(times);
    }

    /** The next {@code times} authenticated requests are answered with a SOAP Server fault (HTTP 500). */
    public void serverFaultNext(int times) {
        if (times < 0) {
            throw new IllegalArgumentException("times >= 0 required");
        }
        serverFaultsLeft.set(times);
    }

    /**
     * The next {@code times} requests, whatever they are, get this status, content type and body, byte for byte, and
     * are not processed: for tests of what a client does with a hostile or broken answer.
     */
    public void answerNextWith(int status, String contentType, byte[] body, int times) {
        answerNextWith(RawAnswer.complete(status, contentType, body), times);
    }

    /** The next {@code times} requests get {@code answer} (see {@link RawAnswer}) and are not processed. */
    public void answerNextWith(RawAnswer answer, int times) {
        if (times < 0) {
            throw new IllegalArgumentException("times >= 0 required");
        }
        synchronized (rawLock) {
            rawAnswer = Objects.requireNonNull(answer);
            rawAnswersLeft = times;
        }
    }

    /** How many of the answers set by {@link #answerNextWith} are still to be given. */
    public int rawAnswersLeft() {
        synchronized (rawLock) {
            return rawAnswersLeft;
        }
    }

    /**
     * A raw HTTP answer: status, optional content type and headers, and the body, of which only {@code writeBytes}
     * are written; when that is less than the body, the Content-Length still announces the whole body and the
     * connection is dropped after a silence of {@code stall} (a half-written answer, or a peer that hangs mid-answer).
     */
    public record RawAnswer(int status, String contentType, byte[] body, Map<String, String> headers, int writeBytes,
                            Duration stall) {
        public RawAnswer {
            if (status < 100 || status > 599) {
                throw new IllegalArgumentException("100 <= status <= 599 required");
            }
            body = body == null ? new byte[0] : body.clone();
            headers = Map.copyOf(headers == null ? Map.of() : headers);
            if (writeBytes < 0 || writeBytes > body.length) {
                throw new IllegalArgumentException("0 <= writeBytes <= body length required");
            }
            stall = stall == null ? Duration.ZERO : stall;
        }

        /** The whole answer. */
        public static RawAnswer complete(int status, String contentType, byte[] body) {
            byte[] b = body == null ? new byte[0] : body;
            return new RawAnswer(status, contentType, b, Map.of(), b.length, Duration.ZERO);
        }

        /** Announces the whole body but writes only {@code writeBytes} of it, then drops the connection. */
        public static RawAnswer truncated(int status, String contentType, byte[] body, int writeBytes) {
            return new RawAnswer(status, contentType, body, Map.of(), writeBytes, Duration.ZERO);
        }

        /** Writes the headers and {@code writeBytes} of the body, then is silent for {@code stall} and drops the connection. */
        public static RawAnswer stalled(int status, String contentType, byte[] body, int writeBytes, Duration stall) {
            return new RawAnswer(status, contentType, body, Map.of(), writeBytes, stall);
        }

        public RawAnswer withHeaders(Map<String, String> extra) {
            return new RawAnswer(status, contentType, body, extra, writeBytes, stall);
        }

        @Override
        public byte[] body() {
            return body.clone();
        }
    }

    /**
     * From now on every SOAP request waits, after processing and before its answer (as {@link #setDelay}), a time
     * drawn uniformly from {@code [min, max]}: a remote ERP's latency instead of the loopback's sub-millisecond (a
     * benchmark's "realistic latency"). Used instead of the fixed delay while set; zero min and max turn it off.
     * Waiting requests hold a thread each: {@link #setThreads} before {@link #start} lets that many wait at once.
     */
    public void setLatency(Duration min, Duration max) {
        if (min.isNegative() || max.compareTo(min) < 0) throw new IllegalArgumentException("latency needs 0 <= min <= max");
        latencyMinMillis = min.toMillis();
        latencyMaxMillis = max.toMillis();
    }

    /** Threads serving requests (default 8); takes effect at {@link #start}. */
    public void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1");
        this.threads = threads;
    }

    /** The pause of one request: the latency drawn from its range when one is set, else the fixed delay. */
    private Duration pause() {
        long lo = latencyMinMillis;
        long hi = latencyMaxMillis;
        if (hi == 0) return delay;
        return Duration.ofMillis(lo == hi ? lo : java.util.concurrent.ThreadLocalRandom.current().nextLong(lo, hi + 1));
    }

    /** Delay applied after processing and before answering, so a client timeout can still leave a posting behind. */
    public void setDelay(Duration delay) {
        this.delay = Objects.requireNonNull(delay);
    }

    public void setAvailable(boolean available) {
        this.available = available;
    }

    public int requestCount() {
        return requests.get();
    }

    /**
     * Whether to keep the arrival time ({@link System#nanoTime()}) of every request (postings and ledger reads),
     * answered or refused, so a test
     * can measure the request rate the ERP sees; off by default, as the list grows with every request.
     */
    public void recordArrivals(boolean on) {
        this.recordArrivals = on;
    }

    /** Arrival times of the requests since recording began (or the last {@link #reset()}), in ascending order. */
    public long[] arrivals() {
        long[] copy;
        synchronized (arrivalLock) {
            copy = Arrays.copyOf(arrivals, arrivalCount);
        }
        Arrays.sort(copy);
        return copy;
    }

    private void recordArrival(long nanos) {
        synchronized (arrivalLock) {
            if (arrivalCount == arrivals.length) arrivals = Arrays.copyOf(arrivals, arrivals.length * 2);
            arrivals[arrivalCount++] = nanos;
        }
    }

    public List<P> postings() {
        synchronized (postings) {
            return List.copyOf(postings);
        }
    }

    /**
     * The postings sorted by {@code order}, computed again only when a posting came or went since the last call with
     * the same order (a reader paging through a million postings would otherwise sort them for every page).
     */
    final List<P> postingsSorted(java.util.Comparator<? super P> order) {
        synchronized (postings) {
            if (sorted == null || sortedVersion != postingsVersion || sortedOrder != order) {
                List<P> copy = new ArrayList<>(postings);
                copy.sort(order);
                sorted = java.util.Collections.unmodifiableList(copy);
                sortedVersion = postingsVersion;
                sortedOrder = order;
            }
            return sorted;
        }
    }

    /** Postings as if accepted by the ledger (for volume tests and benchmarks), without a request each. */
    final void recordAll(java.util.Collection<? extends P> accepted) {
        synchronized (postings) {
            postings.addAll(accepted);
            postingsVersion++;
        }
    }

    public List<String> rejections() {
        synchronized (rejections) {
            return List.copyOf(rejections);
        }
    }

    /** Clears ledger, rejections, counters and injected faults; document number ranges keep counting like a real system. */
    /** Adds a company (code) to the ERP's master data, e.g. after an operator fixed a missing company code. */
    public void knowCompanyCode(String company, String currency) {
        companyCurrency.put(company, currency);
    }

    /** Removes a company (code) from the ERP's master data, so postings to it are rejected as business errors. */
    public void forgetCompanyCode(String company) {
        companyCurrency.remove(company);
    }

    public void reset() {
        synchronized (postings) {
            postings.clear();
            postingsVersion++;
        }
        synchronized (rejections) {
            rejections.clear();
        }
        requests.set(0);
        synchronized (arrivalLock) {
            arrivalCount = 0;
        }
        synchronized (rawLock) {
            rawAnswer = null;
            rawAnswersLeft = 0;
        }
        failuresLeft.set(0);
        serverFaultsLeft.set(0);
        delay = Duration.ZERO;
        available = true;
        reads.set(0);
        maxInFlight.set(0);
        synchronized (calls) {
            calls.clear();
        }
        onReset();
    }

    /** What a peer forgets besides its postings when reset (its ledger's references); number ranges stay. */
    void onReset() {
    }

    final void record(P posting) {
        synchronized (postings) {
            postings.add(posting);
            postingsVersion++;
        }
        Answering request = answering.get();
        if (request != null) request.posted.add(posting);
    }

    final void reject(String note) {
        log.debug("Rejected: {}", note);
        synchronized (rejections) {
            rejections.add(note);
        }
    }

    final boolean companyExists(String company) {
        return companyCurrency.containsKey(company);
    }

    /**
     * A SOAP service: the content of the response Body for the request's first Body element, or null when the service
     * is asynchronous and took the request (answered 202 without a body).
     */
    interface SoapHandler {
        String handle(Element payload, String rawXml) throws SoapFault;
    }

    private final Map<String, SoapHandler> soapServices = new java.util.LinkedHashMap<>();

    /**
     * Serves another synchronous SOAP service of the same system at {@code servicePath}, with the SOAP endpoint's
     * credentials, header checks, availability, delay and injected failures. Call from the constructor.
     */
    final void serveSoap(String servicePath, SoapHandler handler) {
        soapServices.put(servicePath, handler);
    }

    private void serve(HttpExchange exchange) {
        serve(exchange, path, this::handle);
    }

    private void serve(HttpExchange exchange, String servicePath, SoapHandler handler) {
        // the delay in force when the request arrives is the one it gets (a test may end the slowness meanwhile)
        Duration pause = pause();
        requests.incrementAndGet();
        if (recordArrivals) recordArrival(System.nanoTime());
        answering(() -> {
            RawAnswer raw = takeRawAnswer();
            if (raw != null) {
                answerRaw(exchange, raw);
                return;
            }
            Response response;
            try {
                response = respond(exchange, servicePath, handler);
            } catch (RuntimeException e) {
                log.error("Request processing failed", e);
                response = fault(new SoapFault(500, "Server", "Internal error, try again"));
            }
            write(exchange, response, pause);
        });
    }

    /**
     * A request that posted something: when it arrived and when its answer began to be written (both
     * {@link System#nanoTime()}), and what it posted, in order. A client that waits for an answer before its next
     * request never has two calls overlapping.
     */
    public record Call<P>(long arrivedNanos, long answeredNanos, List<P> posted) {
        public Call {
            posted = List.copyOf(posted);
        }

        public boolean overlaps(Call<?> other) {
            return arrivedNanos < other.answeredNanos && other.arrivedNanos < answeredNanos;
        }
    }

    /** The requests since start (or the last {@link #reset()}) that posted something, in the order they were answered. */
    public List<Call<P>> calls() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    /** The most requests (SOAP and reads) the peer was answering at once since start or the last {@link #reset()}. */
    public int maxRequestsInFlight() {
        return maxInFlight.get();
    }

    /** The request a pool thread is answering: in flight until its answer begins to be written. */
    private final class Answering {
        final long arrived = System.nanoTime();
        final List<P> posted = new ArrayList<>();
        boolean answered;

        Answering() {
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        }

        /** Before the first byte of the answer: the client may send its next request as soon as it has read it. */
        void answered() {
            if (answered) return;
            answered = true;
            inFlight.decrementAndGet();
            if (posted.isEmpty()) return;
            synchronized (calls) {
                calls.add(new Call<>(arrived, System.nanoTime(), posted));
            }
        }
    }

    private void answering(Runnable answer) {
        Answering request = new Answering();
        answering.set(request);
        try {
            answer.run();
        } finally {
            request.answered();
            answering.remove();
        }
    }

    /** The current request's answer begins to be written. */
    private void answered() {
        Answering request = answering.get();
        if (request != null) request.answered();
    }

    /** Writes an answer after {@code pause}, and closes the exchange. */
    private void write(HttpExchange exchange, Response response, Duration pause) {
        try {
            if (!pause.isZero()) {
                Thread.sleep(pause.toMillis());
            }
            byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", response.contentType());
            response.headers().forEach(exchange.getResponseHeaders()::set);
            answered();
            exchange.sendResponseHeaders(response.status(), bytes.length == 0 ? -1 : bytes.length);
            exchange.getResponseBody().write(bytes);
        } catch (IOException e) {
            log.debug("Client went away before the answer was written", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            exchange.close();
        }
    }

    private RawAnswer takeRawAnswer() {
        synchronized (rawLock) {
            if (rawAnswersLeft == 0) {
                return null;
            }
            rawAnswersLeft--;
            return rawAnswer;
        }
    }

    private void answerRaw(HttpExchange exchange, RawAnswer raw) {
        try {
            try {
                readBody(exchange.getRequestBody());
            } catch (IOException | SoapFault e) {
                log.debug("Request body not read before a raw answer", e);
            }
            if (raw.contentType() != null) {
                exchange.getResponseHeaders().set("Content-Type", raw.contentType());
            }
            raw.headers().forEach(exchange.getResponseHeaders()::set);
            byte[] body = raw.body;
            boolean bodyless = body.length == 0 || raw.status() == 204 || raw.status() == 304 || raw.status() < 200;
            answered();
            exchange.sendResponseHeaders(raw.status(), bodyless ? -1 : body.length);
            if (!bodyless) {
                OutputStream out = exchange.getResponseBody();
                out.write(body, 0, raw.writeBytes());
                out.flush();
                if (raw.writeBytes() < body.length && !raw.stall().isZero()) {
                    Thread.sleep(raw.stall().toMillis());
                }
            }
        } catch (IOException e) {
            log.debug("Raw answer not completely written (as intended when it is truncated)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            // closing with fewer bytes written than announced drops the connection: the client sees a cut answer
            exchange.close();
        }
    }

    private Response respond(HttpExchange exchange, String servicePath, SoapHandler handler) {
        if (!available) {
            return plain(503, "Service Unavailable");
        }
        if (consume(failuresLeft)) {
            int status = failureStatus;
            return plain(status, "Injected failure: HTTP " + status);
        }
        if (!servicePath.equals(exchange.getRequestURI().getPath())) {
            return plain(404, "Not Found");
        }
        Response refused = refusal(exchange);
        if (refused != null) return refused;
        try {
            checkHeaders(exchange.getRequestHeaders());
            if (consume(serverFaultsLeft)) {
                throw new SoapFault(500, "Server", "Internal error, try again");
            }
            String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
            byte[] body = readBody(exchange.getRequestBody());
            String raw = new String(body, charset(contentType));
            String answer = handler.handle(payload(parse(body, raw)), raw);
            // no answer: an asynchronous service took the request (its reply comes later, as a message of its own)
            return answer == null ? new Response(202, "text/plain; charset=utf-8", "", Map.of())
                    : xml(200, envelope(answer));
        } catch (SoapFault f) {
            return fault(f);
        } catch (IOException e) {
            return fault(SoapFault.client("Request body could not be read: " + e.getMessage()));
        }
    }

    /** An asynchronous SOAP service: it takes a request and answers it later with a message of its own. */
    interface AsyncHandler {
        /** Takes the SOAP Body's first element; a fault refuses the request synchronously. */
        void accept(Element payload, String rawXml) throws SoapFault;
    }

    /**
     * Serves an asynchronous SOAP service at {@code servicePath} like any other service of the peer (credentials,
     * availability, delay, injected failures): a request it takes is answered HTTP 202 without a body, as SAP's
     * asynchronous inbound services answer. Call from the constructor.
     */
    final void serveAsync(String servicePath, AsyncHandler handler) {
        serveSoap(servicePath, (payload, rawXml) -> {
            handler.accept(payload, rawXml);
            return null;
        });
    }

    /** What every SOAP request is refused for before it is read: method, credentials, content type; null if none. */
    private Response refusal(HttpExchange exchange) {
        if (!"POST".equals(exchange.getRequestMethod())) {
            return new Response(405, "text/plain; charset=utf-8", "Method Not Allowed", Map.of("Allow", "POST"));
        }
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization == null
                || !MessageDigest.isEqual(expectedAuthorization, authorization.getBytes(StandardCharsets.UTF_8))) {
            return new Response(401, "text/plain; charset=utf-8", "Unauthorized",
                    Map.of("WWW-Authenticate", "Basic realm=\"" + getClass().getSimpleName() + "\""));
        }
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("text/xml")) {
            return plain(415, "Content-Type must be text/xml (SOAP 1.1), got " + contentType);
        }
        return null;
    }

    private static byte[] readBody(InputStream in) throws IOException, SoapFault {
        byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
        if (body.length > MAX_BODY_BYTES) {
            throw new SoapFault(413, "Client", "Request larger than " + MAX_BODY_BYTES + " bytes");
        }
        return body;
    }

    private static Charset charset(String contentType) {
        for (String param : contentType.split(";")) {
            String p = param.trim();
            if (p.regionMatches(true, 0, "charset=", 0, 8)) {
                try {
                    return Charset.forName(p.substring(8).replace("\"", "").trim());
                } catch (IllegalArgumentException e) {
                    return StandardCharsets.UTF_8;
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    private static Document parse(byte[] body, String raw) throws SoapFault {
        try {
            return PARSER.get().parse(new InputSource(new ByteArrayInputStream(body)));
        } catch (SAXException | IOException e) {
            // The parser already refused the DTD; the status only tells the sender it was refused on policy.
            if (raw.contains("<!DOCTYPE")) {
                throw new SoapFault(400, "Client", "DOCTYPE declarations are not allowed");
            }
            throw SoapFault.client("Request is not well-formed XML: " + e.getMessage());
        }
    }

    private static Element payload(Document document) throws SoapFault {
        Element envelope = document.getDocumentElement();
        if (!"Envelope".equals(envelope.getLocalName())) {
            throw SoapFault.client("Root element must be a SOAP Envelope, found " + qname(envelope));
        }
        if (!SOAP11_NS.equals(envelope.getNamespaceURI())) {
            throw new SoapFault(500, "VersionMismatch", "Envelope namespace must be " + SOAP11_NS);
        }
        Element body = child(envelope, SOAP11_NS, "Body");
        if (body == null) {
            throw SoapFault.client("SOAP Body missing");
        }
        Element first = firstElement(body.getFirstChild());
        if (first == null) {
            throw SoapFault.client("SOAP Body is empty");
        }
        return first;
    }

    private static DocumentBuilder newSecureParser() {
        try {
            // newDefaultInstance: the JDK parser, whatever else is on the classpath, so the features below are honoured.
            DocumentBuilderFactory factory = DocumentBuilderFactory.newDefaultInstance();
            factory.setNamespaceAware(true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature("http://xml.org/sax/features/external-general-entities", false);
            factory.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            factory.setXIncludeAware(false);
            factory.setExpandEntityReferences(false);
            DocumentBuilder builder = factory.newDocumentBuilder();
            builder.setEntityResolver((publicId, systemId) -> {
                throw new SAXException("External entities are not allowed");
            });
            // The default handler prints every fatal error to stderr before throwing.
            builder.setErrorHandler(new ErrorHandler() {
                @Override
                public void warning(SAXParseException e) {
                }

                @Override
                public void error(SAXParseException e) throws SAXException {
                    throw e;
                }

                @Override
                public void fatalError(SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            return builder;
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException("Secure XML parser unavailable", e);
        }
    }

    // ---- response writing ----

    private String envelope(String bodyContent) {
        return "<?xml version=\"1.0\" encoding=\"utf-8\"?><" + envPrefix + ":Envelope xmlns:" + envPrefix + "=\""
                + SOAP11_NS + "\"><" + envPrefix + ":Header/><" + envPrefix + ":Body>" + bodyContent
                + "</" + envPrefix + ":Body></" + envPrefix + ":Envelope>";
    }

    private Response fault(SoapFault f) {
        String p = envPrefix;
        return xml(f.status, envelope("<" + p + ":Fault><faultcode>" + p + ":" + f.code + "</faultcode>"
                + "<faultstring xml:lang=\"en\">" + escape(f.getMessage()) + "</faultstring></" + p + ":Fault>"));
    }

    private static Response xml(int status, String body) {
        return new Response(status, "text/xml; charset=utf-8", body, Map.of());
    }

    private static Response plain(int status, String body) {
        return new Response(status, "text/plain; charset=utf-8", body, Map.of());
    }

    private static boolean consume(AtomicInteger counter) {
        return counter.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
    }

    private record Response(int status, String contentType, String body, Map<String, String> headers) {
    }

    /** A SOAP 1.1 fault with the HTTP status it is answered with. */
    static final class SoapFault extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;
        final String code;

        SoapFault(int status, String code, String message) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
        }

        static SoapFault client(String message) {
            return new SoapFault(500, "Client", message);
        }
    }

    // ---- XML helpers shared by the peers ----

    static String escape(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** {@code <name>value</name>} with the value escaped; empty element for null. */
    static String el(String name, String value) {
        return value == null ? "<" + name + "/>" : "<" + name + ">" + escape(value) + "</" + name + ">";
    }

    static Element child(Element parent, String ns, String local) {
        for (Element e = firstElement(parent.getFirstChild()); e != null; e = firstElement(e.getNextSibling())) {
            if (matches(e, ns, local)) {
                return e;
            }
        }
        return null;
    }

    static List<Element> children(Element parent, String ns, String local) {
        List<Element> found = new ArrayList<>();
        for (Element e = firstElement(parent.getFirstChild()); e != null; e = firstElement(e.getNextSibling())) {
            if (matches(e, ns, local)) {
                found.add(e);
            }
        }
        return found;
    }

    /** Trimmed text of the child, or null when it is absent or blank. */
    static String text(Element parent, String ns, String local) {
        Element e = child(parent, ns, local);
        return e == null ? null : textOf(e);
    }

    /** Trimmed text of the element, or null when blank. */
    static String textOf(Element e) {
        String t = e.getTextContent().trim();
        return t.isEmpty() ? null : t;
    }

    static Element require(Element parent, String ns, String local) throws SoapFault {
        Element e = child(parent, ns, local);
        if (e == null) {
            throw SoapFault.client(missing(parent, ns, local));
        }
        return e;
    }

    static String requireText(Element parent, String ns, String local) throws SoapFault {
        String t = textOf(require(parent, ns, local));
        if (t == null) {
            throw SoapFault.client("Element " + parent.getLocalName() + "/" + local + " is empty");
        }
        return t;
    }

    /** Describes a missing element, pointing out the common mistake of qualifying it with the wrong namespace. */
    static String missing(Element parent, String ns, String local) {
        String message = "Element " + parent.getLocalName() + "/" + local + " missing";
        for (Element e = firstElement(parent.getFirstChild()); e != null; e = firstElement(e.getNextSibling())) {
            if (local.equals(e.getLocalName())) {
                return message + " (found " + qname(e) + ", expected "
                        + (ns == null ? "no namespace" : "namespace " + ns) + ")";
            }
        }
        return message;
    }

    static void expectElement(Element e, String ns, String local) throws SoapFault {
        if (!matches(e, ns, local)) {
            throw SoapFault.client("SOAP Body must contain {" + ns + "}" + local + ", found " + qname(e));
        }
    }

    /** An xsd:decimal (no exponent), or null when the text is not one. */
    static BigDecimal decimal(String text) {
        return text != null && XSD_DECIMAL.matcher(text).matches() ? new BigDecimal(text) : null;
    }

    /** An xsd:date without time zone, or null when the text is not one. */
    static LocalDate date(String text) {
        try {
            return text == null ? null : LocalDate.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** ISO 4217 minor units of the currency, empty when the code is unknown. */
    static OptionalInt fractionDigits(String currency) {
        try {
            int digits = Currency.getInstance(currency).getDefaultFractionDigits();
            return OptionalInt.of(Math.max(digits, 0));
        } catch (IllegalArgumentException | NullPointerException e) {
            return OptionalInt.empty();
        }
    }

    static boolean exceedsDigits(BigDecimal amount, int digits) {
        return amount.stripTrailingZeros().scale() > digits;
    }

    private static boolean matches(Element e, String ns, String local) {
        return local.equals(e.getLocalName()) && Objects.equals(ns, e.getNamespaceURI());
    }

    private static Element firstElement(Node n) {
        while (n != null && n.getNodeType() != Node.ELEMENT_NODE) {
            n = n.getNextSibling();
        }
        return (Element) n;
    }

    private static String qname(Element e) {
        return (e.getNamespaceURI() == null ? "" : "{" + e.getNamespaceURI() + "}") + e.getLocalName();
    }
}
