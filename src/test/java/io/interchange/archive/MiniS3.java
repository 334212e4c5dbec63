package io.interchange.archive;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A minimal in-process S3-compatible peer for the archive's S3 sink test: path-style PUT (plain or aws-chunked, as
 * the AWS SDK sends over HTTP), GET and HEAD of objects, ListObjectsV2 and bucket creation. Written because
 * {@code org.gaul:s3proxy} 4.0.0 resolves here but needs jackson-annotations 2.20 (its Jackson 3 XML) where this
 * project pins Jackson 2.19. Signatures are not checked: the test is about what is written, not about AWS auth.
 */
final class MiniS3 implements AutoCloseable {

    private final HttpServer server;
    private final Map<String, ConcurrentSkipListMap<String, byte[]>> buckets = new ConcurrentHashMap<>();

    MiniS3() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    Map<String, byte[]> objects(String bucket) {
        return new TreeMap<>(buckets.getOrDefault(bucket, new ConcurrentSkipListMap<>()));
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = URLDecoder.decode(ex.getRequestURI().getRawPath(), StandardCharsets.UTF_8);
            String[] parts = path.substring(1).split("/", 2);
            String bucket = parts[0];
            String key = parts.length > 1 ? parts[1] : "";
            String method = ex.getRequestMethod();
            byte[] body = ex.getRequestBody().readAllBytes();
            if (key.isEmpty() && method.equals("PUT")) {
                buckets.putIfAbsent(bucket, new ConcurrentSkipListMap<>());
                send(ex, 200, new byte[0]);
                return;
            }
            ConcurrentSkipListMap<String, byte[]> objects = buckets.get(bucket);
            if (objects == null) {
                send(ex, 404, "<Error><Code>NoSuchBucket</Code></Error>".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (key.isEmpty() && method.equals("GET")) {
                StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult>"
                        + "<Name>" + bucket + "</Name><KeyCount>" + objects.size() + "</KeyCount><IsTruncated>false</IsTruncated>");
                objects.forEach((k, v) -> xml.append("<Contents><Key>").append(k).append("</Key><Size>").append(v.length)
                        .append("</Size><ETag>\"").append(md5(v)).append("\"</ETag></Contents>"));
                send(ex, 200, xml.append("</ListBucketResult>").toString().getBytes(StandardCharsets.UTF_8));
                return;
            }
            switch (method) {
                case "PUT" -> {
                    String encoding = String.valueOf(ex.getRequestHeaders().getFirst("Content-Encoding"))
                            + String.valueOf(ex.getRequestHeaders().getFirst("x-amz-content-sha256"));
                    byte[] content = encoding.contains("aws-chunked") || encoding.contains("STREAMING") ? unchunk(body) : body;
                    objects.put(key, content);
                    ex.getResponseHeaders().add("ETag", "\"" + md5(content) + "\"");
                    send(ex, 200, new byte[0]);
                }
                case "GET", "HEAD" -> {
                    byte[] content = objects.get(key);
                    if (content == null) {
                        send(ex, 404, method.equals("HEAD") ? null : "<Error><Code>NoSuchKey</Code></Error>".getBytes(StandardCharsets.UTF_8));
                        return;
                    }
                    ex.getResponseHeaders().add("ETag", "\"" + md5(content) + "\"");
                    if (method.equals("HEAD")) {
                        ex.getResponseHeaders().add("Content-Length", String.valueOf(content.length));
                        ex.sendResponseHeaders(200, -1);
                    } else {
                        send(ex, 200, content);
                    }
                }
                default -> send(ex, 405, new byte[0]);
            }
        }
    }

    /** aws-chunked: {@code <hex size>[;chunk-signature=...]\r\n<data>\r\n} ... {@code 0\r\n} then trailers. */
    static byte[] unchunk(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < body.length) {
            int eol = indexOf(body, i);
            String header = new String(body, i, eol - i, StandardCharsets.US_ASCII);
            int size = Integer.parseInt(header.split(";")[0].trim(), 16);
            if (size == 0) break;
            out.write(body, eol + 2, size);
            i = eol + 2 + size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length - 1; i++) if (b[i] == '\r' && b[i + 1] == '\n') return i;
        throw new IllegalArgumentException("malformed aws-chunked body");
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        if (body == null) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) ex.getResponseBody().write(body);
    }

    private static String md5(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
