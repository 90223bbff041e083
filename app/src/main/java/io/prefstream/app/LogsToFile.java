package io.prefstream.app;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends every log line (Kafka's, Kafka Streams', DJL's, prefstream's) to a file while a command
 * runs (the demo, {@code bench ingest}), so that its console shows only its own progress and
 * results; {@link #close} puts the console appenders back.
 */
final class LogsToFile implements AutoCloseable {
  private final ch.qos.logback.classic.Logger root;
  private final List<Appender<ILoggingEvent>> consoleAppenders = new ArrayList<>();
  private final FileAppender<ILoggingEvent> file = new FileAppender<>();

  private LogsToFile(Path logFile) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n");
    encoder.start();
    file.setContext(context);
    file.setName("logs-to-file");
    file.setFile(logFile.toString());
    file.setAppend(false);
    file.setEncoder(encoder);
    file.start();
    root.iteratorForAppenders().forEachRemaining(consoleAppenders::add);
    consoleAppenders.forEach(root::detachAppender);
    root.addAppender(file);
  }

  /** From now on every log line goes to {@code logFile} (created with its folder), none to the console. */
  static LogsToFile open(Path logFile) {
    return new LogsToFile(logFile);
  }

  @Override
  public void close() {
    root.detachAppender(file);
    file.stop();
    consoleAppenders.forEach(root::addAppender);
  }
}
