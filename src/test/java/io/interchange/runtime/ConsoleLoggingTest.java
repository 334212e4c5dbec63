package io.interchange.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sandbox's logging on the shipped configuration (src/main/resources/logback.xml, where lines reach the console
 * through a queue): the full log goes to the file, and only warnings and errors reach the console.
 */
class ConsoleLoggingTest {

    @Test
    void theShippedConfigurationsConsoleKeepsToWarningsAndTheFileGetsEveryLine(@TempDir Path dir) throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter()); // the SLF4J provider sets it on the process's own context
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(Path.of("src/main/resources/logback.xml").toFile());
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Appender<ILoggingEvent> console = ConsoleLogging.consoleFeed(root);
        assertThat(console).as("the appender the console is fed through").isNotNull();

        Path file = ConsoleLogging.toFile(context, dir.resolve("interchange.log"));
        Logger flow = context.getLogger("io.interchange.flow");
        assertThat(console.getFilterChainDecision(event(flow, Level.INFO, "an event's line")))
                .isEqualTo(FilterReply.DENY);
        assertThat(console.getFilterChainDecision(event(flow, Level.WARN, "a warning"))).isNotEqualTo(FilterReply.DENY);

        flow.info("Posting p-1 confirmed by S4HANA");
        context.stop();
        assertThat(Files.readString(file)).contains("Posting p-1 confirmed by S4HANA");
    }

    private static LoggingEvent event(Logger logger, Level level, String message) {
        return new LoggingEvent(Logger.class.getName(), logger, level, message, null, null);
    }
}
