package io.interchange.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ports for servers a test starts on a port it must know beforehand (the runtime's HTTP and management servers).
 *
 * <p>Why not {@code new ServerSocket(0)}: that hands out a port from the kernel's ephemeral range and releases it at
 * once; while the test goes on to start Kafka, peers and their clients, every outgoing connection and every other
 * port-0 listener draws from that same range, and one can take the port before the runtime binds it (a full run
 * failed on exactly that, {@code BindException: Address already in use}). Ports here come from below the ephemeral
 * range (Linux's default starts at 32768), which the kernel never hands out by itself; each is handed out once per
 * JVM, from a random start so that two JVMs (a build and a benchmark) rarely meet, and only after a bind shows it
 * free.
 */
public final class Ports {

    private static final int LOW = 15_000;
    private static final int HIGH = 32_000;
    private static final AtomicInteger NEXT = new AtomicInteger(ThreadLocalRandom.current().nextInt(HIGH - LOW));

    private Ports() {
    }

    /** A port nothing listens on now, outside the kernel's ephemeral range, not handed out before in this JVM. */
    public static int free() {
        for (int tried = 0; tried < HIGH - LOW; tried++) {
            int port = LOW + Math.floorMod(NEXT.getAndIncrement(), HIGH - LOW);
            if (bindable(port)) return port;
        }
        throw new IllegalStateException("no free port between " + LOW + " and " + HIGH);
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
