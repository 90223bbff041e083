package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.broker.TopicCatalog;
import io.prefstream.testkit.KafkaBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TopicsCommandTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();

  @Test
  void create_makesEveryTopicThenReportsThemExisting() {
    Cli first = Cli.run("topics", "create", "--bootstrap", broker.bootstrapServers());
    Cli second = Cli.run("topics", "create", "--bootstrap", broker.bootstrapServers());

    assertThat(first.exitCode()).as(first.err()).isZero();
    for (var spec : TopicCatalog.all()) {
      assertThat(first.out()).containsPattern("(?m)^" + java.util.regex.Pattern.quote(spec.name()) + " (created|exists)$");
      assertThat(second.out()).contains(spec.name() + " exists");
    }
  }
}
