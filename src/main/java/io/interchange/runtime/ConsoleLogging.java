package io.interchange.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AsyncAppenderBase;
import ch.qos.logback.core.FileAppender;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * For an interactive run (the sandbox): the full log goes to a file, the console keeps warnings and errors only, so
 * the live summary is not scrolled away by every event's lines. Done in code rather than in logback.xml because only
 * the sandbox's command line wants it; a service's console (a container's stdout) keeps the full log. Also where a
 * process's shutdown ends its logging ({@link #stop}).
 */
public final class ConsoleLogging {

    private ConsoleLogging() {
    }

    /** Sends the full log to {@code file} (appended) and lets only WARN and above reach the console; returns the file. */
    public static Path toFile(Path file) {
        return toFile((LoggerContext) LoggerFactory.getILoggerFactory(), file);
    }

    static Path toFile(LoggerContext context, Path file) {
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{20} [cid=%X{correlationId:-}] %msg%n");
        encoder.start();
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setName("FILE");
        appender.setFile(file.toAbsolutePath().toString());
        appender.setAppend(true);
        appender.setEncoder(encoder);
        appender.start();
        root.addAppender(appender);

        Appender<ILoggingEvent> console = consoleFeed(root);
        if (console != null) {
            ThresholdFilter warnings = new ThresholdFilter();
            warnings.setContext(context);
            warnings.setLevel(Level.WARN.levelStr);
            warnings.start();
            console.addFilter(warnings);
        }
        return file.toAbsolutePath();
    }

    /**
     * The root's appender that lines reach the console through: the console appender itself, or the queue in front of
     * it (logback.xml's ASYNC; filtered there, a line below WARN is not even queued).
     */
    static Appender<ILoggingEvent> consoleFeed(Logger root) {
        for (var it = root.iteratorForAppenders(); it.hasNext(); ) {
            Appender<ILoggingEvent> a = it.next();
            if (CONSOLE.equals(a.getName())) return a;
            if (a instanceof AsyncAppenderBase<ILoggingEvent> queue && queue.getAppender(CONSOLE) != null) return a;
        }
        return null;
    }

    /**
     * Writes out the lines still queued for the console (logback.xml queues them to one writer thread, a daemon) and
     * stops logging: the last step of the process's shutdown, once everything that logs has stopped. Not a logback
     * shutdown hook: that runs beside the process's own, and stopped logging while the runtime was still logging its
     * stop.
     */
    public static void stop() {
        ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
    }

    private static final String CONSOLE = "CONSOLE";
}
