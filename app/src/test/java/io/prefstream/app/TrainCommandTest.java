package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.SigningKeys;
import io.prefstream.trainer.model.ModelRecipe;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer checks its settings before it touches Kafka; keys generate makes what it signs with. */
class TrainCommandTest {
  @TempDir Path tmp;

  @Test
  void mistypedModelDir_isNamedAtOnce_beforeAnyBrokerIsAsked() throws IOException {
    Cli cli = train("model.dir=" + tmp.resolve("no-such-model") + "\n");
    assertThat(cli.exitCode()).isEqualTo(1);
    assertThat(cli.err()).contains("model.dir=" + tmp.resolve("no-such-model")).contains("no such folder").doesNotContain("Timeout");
  }

  @Test
  void folderWithoutAModel_isNamed() throws IOException {
    Files.createDirectories(tmp.resolve("empty"));
    Cli cli = train("model.dir=" + tmp.resolve("empty") + "\n");
    assertThat(cli.exitCode()).isEqualTo(1);
    assertThat(cli.err()).contains("model.dir=" + tmp.resolve("empty")).contains("not a model folder").contains("config.json");
  }

  @Test
  void unreadableSigningKey_isNamed() throws IOException {
    Path key = Files.writeString(tmp.resolve("key.pem"), "not a key");
    Cli cli = train("model.dir=" + model() + "\ncheckpoint.signing.key=" + key + "\n");
    assertThat(cli.exitCode()).isEqualTo(1);
    assertThat(cli.err()).contains("checkpoint.signing.key=" + key);
  }

  @Test
  void unreachableBroker_isOneClearError() throws IOException {
    SigningKeys.write(SigningKeys.generate(), tmp.resolve("keys"), tmp.resolve("keys"));
    Cli cli = train("model.dir=" + model() + "\ncheckpoint.signing.key=" + tmp.resolve("keys/signing.pem") + "\ndefault.api.timeout.ms=2000\nrequest.timeout.ms=2000\n");
    assertThat(cli.exitCode()).isEqualTo(1);
    assertThat(cli.err()).containsAnyOf("no Kafka broker answered at localhost:", "cannot reach Kafka at localhost:").doesNotContain("InitProducerId");
  }

  @Test
  void keysGenerate_writesAPairTheTrainerReads_andNeverOverwrites() {
    Cli first = Cli.run("keys", "generate", "--out", tmp.resolve("keys").toString());
    assertThat(first.exitCode()).isZero();
    var keys = SigningKeys.read(tmp.resolve("keys").resolve(SigningKeys.PRIVATE_FILE));
    assertThat(ManifestSignature.readPublicKey(tmp.resolve("keys").resolve(SigningKeys.PUBLIC_FILE)).getEncoded()).isEqualTo(keys.getPublic().getEncoded());
    assertThat(first.out()).contains(ManifestSignature.fingerprint(keys.getPublic()));
    Cli second = Cli.run("keys", "generate", "--out", tmp.resolve("keys").toString());
    assertThat(second.exitCode()).isEqualTo(1);
    assertThat(second.err()).contains("never overwritten");
  }

  @Test
  void keysGenerateIfMissing_keepsTheKey_andWritesThePublicKeyApart() {
    Path keys = tmp.resolve("trainer-keys");
    Path forRollout = tmp.resolve("rollout-keys");
    assertThat(Cli.run("keys", "generate", "--out", keys.toString(), "--public-out", forRollout.toString(), "--if-missing").exitCode()).isZero();
    var made = SigningKeys.read(keys.resolve(SigningKeys.PRIVATE_FILE));
    assertThat(keys.resolve(SigningKeys.PUBLIC_FILE)).doesNotExist();
    Cli again = Cli.run("keys", "generate", "--out", keys.toString(), "--public-out", tmp.resolve("fresh").toString(), "--if-missing");
    assertThat(again.exitCode()).isZero();
    assertThat(SigningKeys.read(keys.resolve(SigningKeys.PRIVATE_FILE)).getPrivate().getEncoded()).isEqualTo(made.getPrivate().getEncoded());
    assertThat(ManifestSignature.readPublicKey(tmp.resolve("fresh").resolve(SigningKeys.PUBLIC_FILE)).getEncoded()).isEqualTo(made.getPublic().getEncoded());
  }

  private Path model() {
    Path dir = tmp.resolve("model");
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, dir);
    return dir;
  }

  private Cli train(String settings) throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Path config = Files.writeString(tmp.resolve("trainer.properties"), "bootstrap.servers=localhost:" + closedPort + "\nmodel.name=m\nmetrics.port=-1\n" + settings);
    return Cli.run("train", "--config", config.toString(), "--work-dir", tmp.resolve("work").toString());
  }
}
