package io.interchange.connectors.http;

import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.support.DefaultEndpoint;

/**
 * A POST path on the business HTTP server (the platform-http Vert.x router) whose route runs asynchronously: no thread
 * is held for a request while its route waits for the store's group commit or Kafka's acknowledgement
 * ({@link NonBlockingHttpConsumer}).
 *
 * <p>Why not {@code platform-http:}: its Vert.x consumer (Camel 4.18) runs each exchange with the blocking
 * {@code Processor.process} inside {@code executeBlocking}, so a worker thread is held for the whole route even when
 * every step of it is asynchronous; the request's answer could not come from a group commit's future or a Kafka send
 * callback. This endpoint takes the same router, body handler and limits, and hands the exchange to the route's
 * asynchronous processor: a worker thread runs the route's first steps (signature, reading, which may call a
 * system's API) up to its first asynchronous step and is then free; the answer is written on the request's event loop
 * once the route calls back.
 */
public class NonBlockingHttpEndpoint extends DefaultEndpoint {

    private final String path;

    NonBlockingHttpEndpoint(String uri, NonBlockingHttpComponent component, String path) {
        super(uri, component);
        this.path = path;
    }

    /** The path served, as clients send it (e.g. {@code /webhooks/billing}). */
    public String path() {
        return path;
    }

    @Override
    public Producer createProducer() {
        throw new UnsupportedOperationException(NonBlockingHttpComponent.SCHEME + " only receives requests");
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        NonBlockingHttpConsumer consumer = new NonBlockingHttpConsumer(this, processor);
        configureConsumer(consumer);
        return consumer;
    }
}
