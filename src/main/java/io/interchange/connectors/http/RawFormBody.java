package io.interchange.connectors.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RequestBody;
import io.vertx.ext.web.WebServerRequest;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.platform.http.vertx.HttpMessage;

/**
 * Gives a form post ({@code application/x-www-form-urlencoded}) its body back as the bytes the sender sent.
 *
 * <p>Why it is needed: camel-platform-http-vertx 4.18 never puts a form post's body on the message. Its
 * {@code DefaultHttpRequestBodyHandler} sets the body only for requests that are neither multipart nor url-encoded,
 * and for those the consumer copies the decoded fields into message headers and, with {@code populateBodyWithForm}
 * (the default), into a {@code Map} body; with {@code populateBodyWithForm=false} the body stays empty. The raw bytes
 * are not lost: Vert.x's body handler (which Camel mounts on the route, with its size limit) keeps a url-encoded
 * body in the routing context ({@code BodyHandlerImpl} appends every chunk unless the request is multipart), and the
 * request Camel hands over is Vert.x Web's, which names its routing context ({@link WebServerRequest}). Rebuilding
 * the body from the decoded fields would lose the order, repeated fields and the exact encoding the sender used;
 * reading the stream instead ({@code useBodyHandler=false}) would lose the body limit.
 */
public final class RawFormBody {

    private RawFormBody() {
    }

    /** Sets the message body to the request's raw bytes when the message came from platform-http on Vert.x. */
    public static void restore(Exchange exchange) {
        Message in = exchange.getMessage();
        if (!(in instanceof HttpMessage http) || !(http.getRequest() instanceof WebServerRequest request)) return;
        RequestBody body = request.routingContext().body();
        Buffer buffer = body == null || !body.available() ? null : body.buffer();
        in.setBody(buffer == null ? new byte[0] : buffer.getBytes());
    }
}
