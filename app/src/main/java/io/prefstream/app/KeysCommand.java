package io.prefstream.app;

import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.SigningKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Arrays;
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
    @Option(names = "--out", required = true, description = "Folder for signing.pem (and signing.pub.pem, unless --public-out), made if missing.")
    Path out;

    @Option(names = "--public-out", description = "Folder for signing.pub.pem, apart from the private key (default: --out).")
    Path publicOut;

    @Option(names = "--if-missing", description = "When signing.pem exists already, keep it (writing its signing.pub.pem if that is missing) and succeed: for an init step run on every start.")
    boolean ifMissing;

    @Override
    public Integer call() throws IOException {
      Path publicDir = publicOut == null ? out : publicOut;
      Path privateFile = out.resolve(SigningKeys.PRIVATE_FILE);
      Path publicFile = publicDir.resolve(SigningKeys.PUBLIC_FILE);
      KeyPair keys;
      if (ifMissing && Files.exists(privateFile)) {
        keys = SigningKeys.read(privateFile);
        if (!Files.exists(publicFile)) {
          Files.createDirectories(publicDir);
          ManifestSignature.writePem(keys.getPublic(), publicFile);
        } else if (!Arrays.equals(ManifestSignature.readPublicKey(publicFile).getEncoded(), keys.getPublic().getEncoded())) {
          throw new IllegalStateException(publicFile + " is not the public key of " + privateFile + "; remove it to have it written again");
        }
        System.out.println("keeping the existing key " + privateFile);
      } else {
        keys = SigningKeys.generate();
        SigningKeys.write(keys, out, publicDir);
        System.out.println("private key " + privateFile + " (trainer: checkpoint.signing.key)");
      }
      System.out.println("public key  " + publicFile + " (rollout --public-key), fingerprint " + ManifestSignature.fingerprint(keys.getPublic()));
      return 0;
    }
  }
}
