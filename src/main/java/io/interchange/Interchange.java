package io.interchange;

import io.interchange.config.Config;
import io.interchange.config.ConfigurationException;
import io.interchange.runtime.ConsoleLogging;
import io.interchange.runtime.InterchangeRuntime;
import io.interchange.sandbox.Sandbox;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** Command line entry point: {@code java -jar interchange.jar [--sandbox] [--config FILE]}. */
public final class Interchange {

    private static final String USAGE = """
            Usage: java -jar target/interchange.jar [--sandbox] [--config FILE] [--print-config]
              --sandbox        run with embedded Kafka and H2, simulated billing platform, ERPs, CRMs and loyalty
                               platform, and live traffic
              --config FILE    properties file with interchange.* keys (default: ./interchange.properties if present)
              --print-config   print every configuration key with its value (secrets masked) and exit
            Every key can also be set by environment variable, e.g. INTERCHANGE_BILLING_WEBHOOK_SECRET for
            interchange.billing.webhook-secret, or for secrets read from a file named by INTERCHANGE_..._FILE.""";

    private Interchange() {
    }

    public static void main(String[] args) throws Exception {
        boolean sandbox = false;
        boolean printConfig = false;
        Path configFile = Path.of("interchange.properties");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--sandbox" -> sandbox = true;
                case "--print-config" -> printConfig = true;
                case "--config" -> {
                    if (i + 1 >= args.length) fail("--config needs a file");
                    configFile = Path.of(args[++i]);
                }
                case "--help", "-h" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    if (args[i].startsWith("--config=")) configFile = Path.of(args[i].substring(9));
                    else fail("unknown option " + args[i]);
                }
            }
        }
        Config config;
        try {
            config = Config.load(configFile, Map.of());
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        }
        if (printConfig) {
            config.describe().forEach((k, v) -> System.out.println(k + "=" + v));
            return;
        }
        InterchangeRuntime runtime;
        try {
            if (sandbox) {
                java.nio.file.Path logs = config.getPath(io.interchange.config.Settings.DATA_DIR).resolve("logs");
                java.nio.file.Files.createDirectories(logs);
                java.nio.file.Path logFile = ConsoleLogging.toFile(logs.resolve("interchange.log"));
                Sandbox.start(config, 5.0, System.out, logFile).runUntilStopped();
                return;
            }
            runtime = InterchangeRuntime.start(config);
        } catch (ConfigurationException e) {
            // a setting to fix, named in the message: no stack trace, no usage text
            System.err.println("interchange: cannot start: " + e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            runtime.close();
            ConsoleLogging.stop();
            stopped.countDown();
        }, "interchange-shutdown"));
        stopped.await();
    }

    private static void fail(String message) {
        System.err.println("interchange: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }
}
