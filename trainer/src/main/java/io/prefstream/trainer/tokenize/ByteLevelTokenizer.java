package io.prefstream.trainer.tokenize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tokenizer of project-made models: one token per UTF-8 byte (ids 0..255 are the byte values)
 * plus {@value #EOS} as id {@value #EOS_ID}. Written as a standard {@code tokenizer.json} that
 * Hugging Face tokenizers (and so DJL, transformers and vLLM) load: a BPE model with no merges over
 * GPT-2's byte-to-character alphabet, with the ByteLevel pre-tokenizer and decoder doing the
 * byte/character mapping. The literal text {@value #EOS} encodes as the EOS token, as in GPT-2.
 */
public final class ByteLevelTokenizer {

  public static final String EOS = "<|endoftext|>";
  public static final int EOS_ID = 256;
  /** The smallest vocabulary a model needs to use this tokenizer. */
  public static final int VOCAB_SIZE = 257;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ByteLevelTokenizer() {}

  /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir}. */
  public static void writeTo(Path dir, int modelMaxLength) {
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(tokenizerJson()) + "\n");
      ObjectNode config = JSON.createObjectNode();
      config.put("tokenizer_class", "PreTrainedTokenizerFast");
      config.put("eos_token", EOS);
      config.put("model_max_length", modelMaxLength);
      config.put("add_prefix_space", false);
      config.put("clean_up_tokenization_spaces", false);
      Files.writeString(dir.resolve("tokenizer_config.json"), JSON.writeValueAsString(config) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write tokenizer files to " + dir, e);
    }
  }

  static ObjectNode tokenizerJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    root.putArray("added_tokens").addObject()
        .put("id", EOS_ID).put("content", EOS).put("single_word", false).put("lstrip", false)
        .put("rstrip", false).put("normalized", false).put("special", true);
    root.putNull("normalizer");
    root.set("pre_tokenizer", byteLevel());
    root.putNull("post_processor");
    root.set("decoder", byteLevel());
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode vocab = model.putObject("vocab");
    for (int b = 0; b < 256; b++) {
      vocab.put(String.valueOf(Character.toChars(byteToChar(b))), b);
    }
    vocab.put(EOS, EOS_ID);
    model.putArray("merges");
    return root;
  }

  private static ObjectNode byteLevel() {
    return JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
        .put("trim_offsets", true).put("use_regex", true);
  }

  /**
   * GPT-2's {@code bytes_to_unicode}: printable Latin-1 bytes stand for themselves, the other 68 bytes
   * map in order to U+0100 upwards, so every byte is a visible character the BPE vocabulary can hold.
   */
  static int byteToChar(int b) {
    if (printable(b)) {
      return b;
    }
    int shifted = 0;
    for (int i = 0; i < b; i++) {
      if (!printable(i)) {
        shifted++;
      }
    }
    return 256 + shifted;
  }

  private static boolean printable(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  }
}
