package io.prefstream.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one launcher: {@code prefstream <command>}. Each command is its own class; this only lists them. */
@Command(
    name = "prefstream",
    mixinStandardHelpOptions = true,
    versionProvider = Prefstream.Version.class,
    description = "Online DPO fine-tuning of language models from human feedback on Kafka.",
    subcommands = {
      CommandLine.HelpCommand.class,
      DemoCommand.class,
      BrokerCommand.class,
      TopicsCommand.class,
      IngestCommand.class,
      TrainCommand.class,
      MergeCommand.class,
      RolloutCommand.class,
      CheckpointsCommand.class,
      KeysCommand.class,
      InitModelCommand.class,
      ScoreCommand.class,
      BenchCommand.class,
    })
public final class Prefstream implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line, shared by {@link #main} and tests. */
  public static CommandLine commandLine() {
    // Avro refuses to deserialize generated classes outside the packages it is told to trust.
    System.setProperty("org.apache.avro.SERIALIZABLE_PACKAGES", "io.prefstream");
    return new CommandLine(new Prefstream())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler(Prefstream::reportFailure);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** A command that fails says why in one line on stderr; the stack trace goes to the debug log. */
  private static int reportFailure(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
    org.slf4j.LoggerFactory.getLogger(Prefstream.class).debug("{} failed", command.getCommandName(), e);
    StringBuilder message = new StringBuilder(e.getMessage() == null ? e.toString() : e.getMessage());
    for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
      if (cause.getMessage() != null && !message.toString().contains(cause.getMessage())) message.append(": ").append(cause.getMessage());
    }
    command.getErr().println(command.getCommandSpec().qualifiedName() + ": " + message);
    return 1;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Prefstream.class.getPackage().getImplementationVersion();
      return new String[] {"prefstream " + (v == null ? "dev" : v)};
    }
  }
}
