package io.prefstream.trainer.model;

import io.prefstream.testkit.ReferenceVectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every family against the independent float64 Hugging Face forward passes in testkit/reference-vectors. */
class ReferenceVectorsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "llama", "llama3", "qwen3", "gemma3"})
  void summedLogProbs_matchReferenceToOneInTenThousand(String arch) throws IOException {
    Path dir = ReferenceVectors.dir(arch);
    List<JsonNode> pairs = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("pairs.jsonl"))) {
      if (!line.isBlank()) {
        pairs.add(JSON.readTree(line));
      }
    }
    JsonNode expected = JSON.readTree(dir.resolve("expected.json").toFile());
    List<SequenceLogProbs.Sequence> sequences = new ArrayList<>(); // chosen and rejected of every pair, one padded batch
    for (JsonNode p : pairs) {
      sequences.add(new SequenceLogProbs.Sequence(ints(p.get("prompt_ids")), ints(p.get("chosen_ids"))));
      sequences.add(new SequenceLogProbs.Sequence(ints(p.get("prompt_ids")), ints(p.get("rejected_ids"))));
    }
    for (String role : List.of("policy", "reference")) {
      try (CausalLm model = ModelFolder.load(dir.resolve(role), manager)) {
        double[] logps = SequenceLogProbs.sum(model, sequences);
        for (int i = 0; i < pairs.size(); i++) {
          JsonNode e = expected.get(i);
          assertThat(e.get("id").asText()).isEqualTo(pairs.get(i).get("id").asText());
          assertClose(logps[2 * i], e.get(role + "_chosen_logp").asDouble());
          assertClose(logps[2 * i + 1], e.get(role + "_rejected_logp").asDouble());
        }
      }
    }
  }

  private static void assertClose(double actual, double expected) {
    assertThat(actual).isCloseTo(expected, within(1e-4 * Math.abs(expected)));
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }
}
