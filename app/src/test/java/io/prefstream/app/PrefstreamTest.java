package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class PrefstreamTest {

  @Test
  void help_listsEveryCommand() {
    Cli cli = Cli.run("--help");
    assertThat(cli.exitCode()).isZero();
    for (String name : Prefstream.commandLine().getSubcommands().keySet()) {
      assertThat(cli.out()).contains(name);
    }
  }

  @Test
  void everyCommand_hasHelp() {
    assertEveryCommandHasHelp(Prefstream.commandLine());
  }

  private static void assertEveryCommandHasHelp(CommandLine command) {
    for (CommandLine sub : command.getSubcommands().values()) {
      if (sub.getCommandName().equals("help")) continue;
      assertThat(sub.getCommandSpec().optionsMap()).as(sub.getCommandSpec().qualifiedName()).containsKey("--help");
      assertEveryCommandHasHelp(sub);
    }
  }
}
