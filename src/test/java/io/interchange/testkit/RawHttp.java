package io.interchange.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One HTTP/1.1 request on a connection of its own, written byte for byte, so that a test sees what a library client
 * hides: whether the answer arrived although the request was still being written, whether the server closed the
 * connection, and whether it said so with {@code Connection: close}.
 */
public final class RawHttp {

    /** What came back. {@code status} is -1 and {@code failure} set when no complete answer was read. */
    public record Answer(int status, Map<String, String> headers, byte[] body, String failure, String writeFailure,
                         boolean closedByServer, boolean stillOpen) {

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public String bodyText() {
            return body == null ? null : new String(body, StandardCharsets.UTF_8);
        }

        /** The answer announced that the server closes the connection. */
        public boolean announcedClose() {
            String c = header("Connection");
            return c != null && c.toLowerCase(Locale.ROOT).contains("close");
        }
    }

    private RawHttp() {
    }

    /**
     * Sends the request (headers as given, plus Host and, unless chunked, Content-Length) and reads the answer. Then:
     * if the answer announced {@code Connection: close}, half-closes and waits up to {@code timeout} for the server to
     * close ({@code closedByServer}); otherwise waits {@code openCheck} and records whether the server closed anyway
     * ({@code closedByServer}) or left the connection open ({@code stillOpen}).
     */
    public static Answer send(int port, String method, String path, List<String[]> headers, byte[] body, boolean chunked,
                              Duration timeout, Duration openCheck) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout((int) timeout.toMillis());
            StringBuilder head = new StringBuilder();
            head.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
            head.append("Host: 127.0.0.1:").append(port).append("\r\n");
            for (String[] h : headers) head.append(h[0]).append(": ").append(h[1]).append("\r\n");
            if (chunked) head.append("Transfer-Encoding: chunked\r\n");
            else if (body != null) head.append("Content-Length: ").append(body.length).append("\r\n");
            head.append("\r\n");
            byte[] headBytes = head.toString().getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            AtomicReference<String> writeFailure = new AtomicReference<>();
            // written on a thread of its own: the answer may come (and must be readable) before the request is written
            Thread writer = new Thread(() -> {
                try {
                    out.write(headBytes);
                    if (body != null && chunked) {
                        for (int i = 0; i < body.length; i += 65536) {
                            int n = Math.min(65536, body.length - i);
                            out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                            out.write(body, i, n);
                            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    } else if (body != null) {
                        out.write(body);
                    }
                    out.flush();
                } catch (IOException e) {
                    writeFailure.set(e.toString());
                }
            }, "raw-http-writer");
            writer.setDaemon(true);
            writer.start();

            InputStream in = new BufferedInputStream(socket.getInputStream());
            int status;
            Map<String, String> answerHeaders = new LinkedHashMap<>();
            byte[] answerBody;
            try {
                String statusLine = line(in);
                if (statusLine == null) {
                    writer.join(timeout.toMillis());
                    return new Answer(-1, Map.of(), null, "connection closed without an answer", writeFailure.get(), true, false);
                }
                String[] parts = statusLine.split(" ", 3);
                status = Integer.parseInt(parts[1]);
                for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
                    int colon = l.indexOf(':');
                    if (colon > 0) {
                        answerHeaders.merge(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim(),
                                (a, b) -> a + ", " + b);
                    }
                }
                answerBody = body(in, answerHeaders, method);
            } catch (IOException e) {
                writer.join(timeout.toMillis());
                return new Answer(-1, Map.of(), null, "no answer: " + e, writeFailure.get(), false, false);
            }
            writer.join(timeout.toMillis());
            if (writer.isAlive()) writeFailure.set("request still being written after " + timeout);
            Answer partial = new Answer(status, answerHeaders, answerBody, null, writeFailure.get(), false, false);
            boolean closed;
            boolean open = false;
            if (partial.announcedClose()) {
                if (writeFailure.get() == null) socket.shutdownOutput();
                closed = eof(in);
            } else {
                socket.setSoTimeout((int) Math.max(1, openCheck.toMillis()));
                try {
                    closed = in.read() < 0;
                } catch (SocketTimeoutException e) {
                    closed = false;
                    open = true;
                }
            }
            return new Answer(status, answerHeaders, answerBody, null, writeFailure.get(), closed, open);
        } catch (IOException e) {
            return new Answer(-1, Map.of(), null, "no connection: " + e, null, false, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(-1, Map.of(), null, "interrupted", null, false, false);
        }
    }

    /** Reads until the server closes; false if it did not within the socket's timeout. */
    private static boolean eof(InputStream in) {
        try {
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // bytes after the answer: drained
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset after our half-close: closed as well
        }
    }

    private static byte[] body(InputStream in, Map<String, String> headers, String method) throws IOException {
        if (method.equals("HEAD")) return new byte[0];
        String length = headers.get("content-length");
        if (length != null) return in.readNBytes(Integer.parseInt(length.trim()));
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (String size = line(in); size != null; size = line(in)) {
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) {
                    while (true) {
                        String trailer = line(in);
                        if (trailer == null || trailer.isEmpty()) break;
                    }
                    break;
                }
                out.write(in.readNBytes(n));
                line(in);
            }
            return out.toByteArray();
        }
        return in.readAllBytes();
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') break;
            if (c != '\r') b.write(c);
        }
        if (c < 0 && b.size() == 0) return null;
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** Headers as name/value pairs, in order. */
    public static List<String[]> headers(String... namesAndValues) {
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i + 1 < namesAndValues.length; i += 2) out.add(new String[]{namesAndValues[i], namesAndValues[i + 1]});
        return out;
    }
}
