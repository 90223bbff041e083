package io.prefstream.trainer.tokenize;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalInt;

/**
 * Text to token ids and back, as the model's own {@code tokenizer.json} does it.
 *
 * <p>How a preference example becomes one sequence (the rule every caller follows):
 *
 * <ul>
 *   <li>Prompt and response are tokenized <em>separately</em>, each without special tokens, and
 *       concatenated: {@code ids = encode(prompt) ++ encode(response)}. Nothing is inserted between
 *       them. Tokenizing separately keeps the prompt/response boundary on a token boundary, so the
 *       prompt's tokens are the same for the chosen and the rejected response and only response
 *       tokens are scored (as TRL's DPO trainer does).
 *   <li>The response ends with the EOS token when the tokenizer has one ({@link #eosId()}), so the
 *       model is also scored on stopping.
 *   <li>Token ids given in the input ({@code prompt_ids}, {@code chosen_ids}, ...) are used as they
 *       are: no EOS is appended and nothing is checked against text.
 *   <li>Conversations are rendered with the model's chat template first ({@link ChatTokens}); the
 *       template writes the special tokens, so no EOS is appended there either.
 * </ul>
 *
 * <p>Implementations are thread-safe for {@link #encode} and {@link #decode}.
 */
public interface TextTokenizer extends AutoCloseable {

  /** Token ids of {@code text}, without special tokens, never truncated. */
  int[] encode(String text);

  /** The end-of-sequence token, if the tokenizer defines one. */
  OptionalInt eosId();

  /** A response's token ids as training scores them: {@link #encode}, then the EOS when there is one. */
  default int[] encodeResponse(String text) {
    int[] encoded = encode(text);
    if (eosId().isEmpty()) return encoded;
    int[] withEos = Arrays.copyOf(encoded, encoded.length + 1);
    withEos[encoded.length] = eosId().getAsInt();
    return withEos;
  }

  /** The text of {@code ids}; special tokens appear as their text. */
  String decode(int[] ids);

  /** Frees native resources; encode and decode fail afterwards. */
  @Override
  default void close() {}

  /**
   * The tokenizer of a Hugging Face model folder: its {@code tokenizer.json}, read offline through
   * DJL's Hugging Face tokenizers. The EOS token is {@code tokenizer_config.json}'s {@code eos_token},
   * else {@code config.json}'s {@code eos_token_id}, else none.
   *
   * @throws IllegalArgumentException when the folder has no {@code tokenizer.json}
   */
  static TextTokenizer fromFolder(Path dir) {
    return HfTextTokenizer.open(dir);
  }
}
