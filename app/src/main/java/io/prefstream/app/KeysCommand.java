package io.prefstream.app;

import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.SigningKeys;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = "Manages the keys that sign checkpoints.",
    subcommands = KeysCommand.Generate.class)
final class KeysCommand {

  @Command(
      name = "generate",
      mixinStandardHelpOptions = true,
      description = {
        "Writes a new Ed25519 key pair: signing.pem (PKCS#8, for the trainer's checkpoint.signing.key; readable by its owner only)",
        "and signing.pub.pem (X.509, for rollout --public-key and checkpoints get --public-key). Never overwrites a key."
      })
  static final class Generate implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "Folder to write the two files into (made if missing).")
    Path out;

    @Override
    public Integer call() {
      KeyPair keys = SigningKeys.generate();
      SigningKeys.write(keys, out);
      System.out.println("private key " + out.resolve(SigningKeys.PRIVATE_FILE) + " (trainer: checkpoint.signing.key)");
      System.out.println("public key  " + out.resolve(SigningKeys.PUBLIC_FILE) + " (rollout --public-key), fingerprint " + ManifestSignature.fingerprint(keys.getPublic()));
      return 0;
    }
  }
}
