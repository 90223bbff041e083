package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.publisher.CoveredInputs;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.schemas.ChatMessage;
import io.prefstream.schemas.DeadLetterHeaders;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.RankedResponses;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import io.prefstream.trainer.model.ModelRecipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records the model cannot take, among valid pairs on a real broker: the trainer stays up, its
 * checkpoints cover every valid pair, and each unfit record is on the DLQ, original bytes and
 * source offset, with its reason.
 */
class TrainerDeadLetterTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://trainer-dlq",
      SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "TopicRecordNameStrategy");
  private static final int VOCAB = 257;
  private static final int POSITIONS = 64;

  @TempDir Path tmp;

  @Test
  void unfitRecordsAmongValidOnes_goToTheDlqWithTheirReason_andEveryValidPairIsTrained() throws Exception {
    String pairs = "dlq-it.pairs";
    String models = "dlq-it.checkpoints";
    String dlq = "dlq-it.dlq";
    createTopics(pairs, models, dlq);
    Path model = model();

    Map<Integer, byte[]> poison = new LinkedHashMap<>(); // by offset
    Map<Integer, String> reasons = new LinkedHashMap<>();
    List<Integer> valid = new ArrayList<>();
    try (var producer = new KafkaProducer<byte[], byte[]>(broker.producerProps()); AvroSerializer<SpecificRecord> avro = new AvroSerializer<>()) {
      avro.configure(SERDE, false);
      for (int offset = 0; offset < 31; offset++) {
        byte[] value = switch (offset) {
          case 3 -> poisoned(offset, reasons, "token_out_of_vocab", avro.serialize(pairs, pair(offset, List.of(1, 2), List.of(7, VOCAB + 40), 1.0)));
          case 8 -> poisoned(offset, reasons, "too_long_for_model", avro.serialize(pairs, pair(offset, ids(40), ids(30), 1.0)));
          case 12 -> poisoned(offset, reasons, "bad_weight", avro.serialize(pairs, pair(offset, List.of(1, 2), List.of(7, 7), 1e39)));
          case 17 -> poisoned(offset, reasons, "too_many_responses", avro.serialize(pairs, ranking(offset, 17)));
          case 21 -> poisoned(offset, reasons, "undeserializable", "{not avro, not a pair".getBytes(StandardCharsets.UTF_8));
          case 29 -> poisoned(offset, reasons, "bad_weight", avro.serialize(pairs, pair(offset, List.of(1, 2), List.of(7, 7), Double.NaN)));
          case 30 -> poisoned(offset, reasons, "no_chat_template", avro.serialize(pairs, conversation(offset)));
          default -> {
            valid.add(offset);
            yield avro.serialize(pairs, offset % 5 == 0 ? ranking(offset, 3) : pair(offset, List.of(1 + offset % 5, 2), List.of(7, 7, 7), 1e6));
          }
        };
        if (reasons.containsKey(offset)) poison.put(offset, value);
        producer.send(new ProducerRecord<>(pairs, ("k" + offset).getBytes(StandardCharsets.UTF_8), value)).get();
      }
    }

    TrainerConfig config = config("dlq", model, pairs, models, dlq, Map.of(TrainerConfig.BATCH_PAIRS, "4", TrainerConfig.CHECKPOINT_STEPS, "2"));

    List<ConsumerRecord<byte[], byte[]>> dead = Collections.synchronizedList(new ArrayList<>());
    RunningTrainer trainer = RunningTrainer.start(config, tmp.resolve("work"));
    try (trainer; var consumer = new KafkaConsumer<byte[], byte[]>(broker.consumerProps("dlq-it-inspect"))) {
      consumer.subscribe(List.of(dlq));
      await().atMost(Duration.ofSeconds(120)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(dead::add);
        assertThat(trainer.failure()).as("the trainer failed").isEmpty();
        return dead.size() >= poison.size() && offsets(covered(models)).containsAll(valid);
      });
      assertThat(trainer.isAlive()).as("the trainer is up throughout").isTrue();
    }
    assertThat(trainer.failure()).isEmpty();
    assertThat(covered(models)).doesNotHaveDuplicates();
    assertThat(dead).hasSize(poison.size()).allSatisfy(d -> {
      int offset = Integer.parseInt(header(d, DeadLetterHeaders.SOURCE_OFFSET));
      assertThat(header(d, DeadLetterHeaders.REASON)).as("reason of offset " + offset).isEqualTo(reasons.get(offset));
      assertThat(header(d, DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo(pairs);
      assertThat(header(d, DeadLetterHeaders.SOURCE_PARTITION)).isEqualTo("0");
      assertThat(header(d, DeadLetterHeaders.DETAIL)).isNotBlank();
      assertThat(d.value()).isEqualTo(poison.get(offset));
      assertThat(new String(d.key(), StandardCharsets.UTF_8)).isEqualTo("k" + offset);
    });
  }

  @Test
  void unfitRecordsPastMaxPendingBytes_behindFewerPairsThanABatch_trainAPartialBatch_andReachTheDlq() throws Exception {
    String pairs = "bound-it.pairs";
    String models = "bound-it.checkpoints";
    String dlq = "bound-it.dlq";
    createTopics(pairs, models, dlq);
    Path model = model();
    int unfit = 200;
    try (var producer = new KafkaProducer<byte[], byte[]>(broker.producerProps()); AvroSerializer<SpecificRecord> avro = new AvroSerializer<>()) {
      avro.configure(SERDE, false);
      producer.send(new ProducerRecord<>(pairs, avro.serialize(pairs, pair(0, List.of(1, 2), List.of(7, 7), 1.0)))).get();
      for (int offset = 1; offset <= unfit; offset++) {
        producer.send(new ProducerRecord<>(pairs, avro.serialize(pairs, pair(offset, List.of(1, 2), List.of(7, VOCAB + offset), 1.0))));
      }
      producer.flush();
    }
    // one valid pair, never a batch of 8; the 200 unfit records behind it are ~10 KB, past the bound
    TrainerConfig config = config("bound", model, pairs, models, dlq,
        Map.of(TrainerConfig.BATCH_PAIRS, "8", TrainerConfig.CHECKPOINT_STEPS, "1", TrainerConfig.MAX_PENDING_BYTES, "4096"));

    List<ConsumerRecord<byte[], byte[]>> dead = Collections.synchronizedList(new ArrayList<>());
    RunningTrainer trainer = RunningTrainer.start(config, tmp.resolve("work"));
    try (trainer; var consumer = new KafkaConsumer<byte[], byte[]>(broker.consumerProps("bound-it-inspect"))) {
      consumer.subscribe(List.of(dlq));
      await().atMost(Duration.ofSeconds(120)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(dead::add);
        assertThat(trainer.failure()).as("the trainer failed").isEmpty();
        return dead.size() >= unfit;
      });
      assertThat(trainer.isAlive()).isTrue();
    }
    assertThat(offsets(covered(models, "bound"))).contains(0);
    assertThat(dead).hasSize(unfit).allSatisfy(d -> assertThat(header(d, DeadLetterHeaders.REASON)).isEqualTo("token_out_of_vocab"));
  }

  private static void createTopics(String pairs, String models, String dlq) {
    for (String topic : List.of(pairs, models, "dlq-it.metrics", dlq)) broker.createTopic(topic, 1);
  }

  /** A one-layer GPT-2 with a 257-token vocabulary and 64 positions. */
  private Path model() {
    Path model = tmp.resolve("model");
    new ModelRecipe(ModelRecipe.Arch.GPT2, VOCAB, 1, 16, 2, 2, 32, POSITIONS, true).writeRandom(3, model);
    return model;
  }

  private static TrainerConfig config(String name, Path model, String pairs, String models, String dlq, Map<String, String> overrides) {
    Map<String, Object> props = new HashMap<>(SERDE);
    props.put("bootstrap.servers", broker.bootstrapServers());
    props.put(TrainerConfig.MODEL_NAME, name);
    props.put(TrainerConfig.MODEL_DIR, model.toString());
    props.put(TrainerConfig.PAIRS_TOPIC, pairs);
    props.put(TrainerConfig.MODEL_TOPIC, models);
    props.put(TrainerConfig.METRICS_TOPIC, "dlq-it.metrics");
    props.put(TrainerConfig.DLQ_TOPIC, dlq);
    props.put(TrainerConfig.CHECKPOINT_INTERVAL_MS, "2000");
    props.put(TrainerConfig.EVAL_FRACTION, "0");
    props.put(TrainerConfig.METRICS_PORT, "-1");
    props.putAll(overrides);
    return TrainerConfig.parse(props);
  }

  private static byte[] poisoned(int offset, Map<Integer, String> reasons, String reason, byte[] value) {
    reasons.put(offset, reason);
    return value;
  }

  private static List<Integer> ids(int n) {
    return IntStream.range(0, n).map(i -> 1 + i % 50).boxed().toList();
  }

  private static PreferencePair pair(int i, List<Integer> prompt, List<Integer> chosen, double weight) {
    return PreferencePair.newBuilder().setEventId("d" + i).setPromptId("prompt-" + i).setPromptIds(prompt).setChosenIds(chosen)
        .setRejectedIds(List.of(9, 9)).setWeight(weight).setEventTime(System.currentTimeMillis()).build();
  }

  /** A chat-formatted pair: the model folder has no chat template to render it with. */
  private static PreferencePair conversation(int i) {
    return PreferencePair.newBuilder().setEventId("c" + i).setPromptId("prompt-" + i).setPromptMessages(List.of(new ChatMessage("user", "Hi")))
        .setChosenMessages(List.of(new ChatMessage("assistant", "Hello!"))).setRejectedMessages(List.of(new ChatMessage("assistant", "Go.")))
        .setEventTime(System.currentTimeMillis()).build();
  }

  private static RankedResponses ranking(int i, int responses) {
    List<List<Integer>> ids = IntStream.range(0, responses).mapToObj(k -> List.of(10 + k, 11 + k)).toList();
    return RankedResponses.newBuilder().setEventId("r" + i).setPromptId("prompt-" + i).setPromptIds(List.of(3, 4)).setResponsesIds(ids)
        .setEventTime(System.currentTimeMillis()).build();
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  private static List<String> covered(String topic) {
    return covered(topic, "dlq");
  }

  private static List<String> covered(String topic, String model) {
    Map<String, Object> props = new HashMap<>(broker.consumerProps("dlq-it-manifests-" + System.nanoTime()));
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(SERDE))) {
      return CoveredInputs.of(new ModelTopicReader(consumer, topic).manifests(model));
    }
  }

  private static List<Integer> offsets(List<String> covered) {
    return covered.stream().map(c -> Integer.parseInt(c.substring(c.lastIndexOf('@') + 1))).toList();
  }
}
