package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.prefstream.publisher.Checkpoint;
import io.prefstream.publisher.CheckpointAssembler;
import io.prefstream.publisher.ManifestFilter;
import io.prefstream.publisher.PendingChunks;
import io.prefstream.publisher.CoveredInputs;
import io.prefstream.publisher.ManifestSignature;
import io.prefstream.publisher.ModelTopic;
import io.prefstream.publisher.ModelTopicReader;
import io.prefstream.publisher.SigningKeys;
import io.prefstream.schemas.CheckpointKind;
import io.prefstream.schemas.CheckpointManifest;
import io.prefstream.schemas.PreferencePair;
import io.prefstream.schemas.serde.AvroSerializer;
import io.prefstream.schemas.serde.SerdeConfig;
import io.prefstream.testkit.KafkaBroker;
import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.model.AdapterFolder;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.model.ModelRecipe;
import io.prefstream.trainer.model.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on a real broker: signed checkpoints cover every input offset exactly once, also across a restart. */
class TrainerServiceTest {
  @RegisterExtension static final KafkaBroker broker = KafkaBroker.shared();
  private static final String PAIRS = "trainer-it.pairs";
  private static final String MODELS = "trainer-it.checkpoints";
  private static final String METRICS = "trainer-it.metrics";
  private static final Map<String, Object> SERDE = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, "mock://trainer-it");

  @TempDir Path tmp;

  @Test
  void checkpointsCoverEveryPairOnce_andARestartResumesFromTheLastOne() throws Exception {
    broker.createTopic(PAIRS, 2);
    broker.createTopic(MODELS, 1);
    broker.createTopic(METRICS, 1);
    Path model = tmp.resolve("model");
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, model);
    produce(0, 24);

    Map<String, Object> props = props("tiny", model, PAIRS, MODELS);
    props.put(TrainerConfig.CHECKPOINT_STEPS, "2");
    props.put(TrainerConfig.EVAL_FRACTION, "0");
    props.put(TrainerConfig.LR, "1e-3");
    props.put(TrainerConfig.LOG_STEPS, "3");
    SigningKeys.write(SigningKeys.generate(), tmp.resolve("keys"), tmp.resolve("keys"));
    props.put(TrainerConfig.SIGNING_KEY, tmp.resolve("keys").resolve(SigningKeys.PRIVATE_FILE).toString());
    TrainerConfig config = TrainerConfig.parse(props);

    runUntilCovered(config, tmp.resolve("work1"), 24);
    List<CheckpointManifest> first = manifests();
    assertThat(first).extracting(CheckpointManifest::getVersion).containsExactly(1L, 2L, 3L);
    assertThat(first.get(2).getStep()).isEqualTo(6);

    produce(24, 8);
    runUntilCovered(config, tmp.resolve("work2"), 32);
    List<CheckpointManifest> all = manifests();
    assertThat(all).extracting(CheckpointManifest::getVersion).containsExactly(1L, 2L, 3L, 4L);
    assertThat(all.get(3).getStep()).isEqualTo(8); // the step counter went on from the checkpoint
    assertThat(all.get(3).getParentVersion()).isEqualTo(3L);
    assertThat(all).extracting(CheckpointManifest::getKind).containsOnly(CheckpointKind.FULL_MODEL);
    assertThat(all.get(3).getNewestEventTime()).isNotNull();
    assertThat(all.get(3).getMetrics()).containsKeys("loss", "rewards/accuracies", "freshness_ms");
    PublicKey publicKey = ManifestSignature.readPublicKey(tmp.resolve("keys").resolve(SigningKeys.PUBLIC_FILE));
    assertThat(all).as("every manifest signed with the trainer's key").allMatch(m -> ManifestSignature.isSignedBy(m, publicKey));
    assertThat(trainingMetrics()).isNotEmpty().allSatisfy(m -> assertThat(m.getMetrics())
        .containsKeys("loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected",
            "grad_norm", "lr", "pairs_per_s", "tokens_per_s", "consumer_lag", "skipped_batches"));
  }

  /**
   * Every checkpoint is full weights plus optimizer moments written under the work folder to be
   * published: once its transaction commits nothing of it stays on disk, and what a stopped run
   * left there is cleared at start, so checkpoints never fill the disk.
   */
  @Test
  void publishedCheckpoints_leaveNoFilesInTheWorkFolder_andStaleOnesAreClearedAtStart() throws Exception {
    String pairs = PAIRS + ".disk";
    String models = MODELS + ".disk";
    broker.createTopic(pairs, 1);
    broker.createTopic(models, 1);
    broker.createTopic(METRICS, 1);
    Path model = tmp.resolve("model");
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, model);
    produce(pairs, 0, 8);
    Path work = tmp.resolve("work");
    Path stale = Files.createDirectories(work.resolve("publish/7/model"));
    Files.writeString(stale.resolve("model.safetensors"), "left by a run that stopped mid-publish");

    Map<String, Object> props = props("tiny-disk", model, pairs, models);
    props.put(TrainerConfig.CHECKPOINT_STEPS, "1");
    props.put(TrainerConfig.EVAL_FRACTION, "0");
    try (RunningTrainer trainer = RunningTrainer.start(TrainerConfig.parse(props), work)) {
      await().atMost(Duration.ofSeconds(120)).until(() -> manifests(models, "tiny-disk").size() >= 2);
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> assertThat(filesUnder(work)).isEmpty()); // a walk may meet a deletion
    }
    assertThat(manifests(models, "tiny-disk")).extracting(CheckpointManifest::getVersion).containsExactly(1L, 2L);
    assertThat(filesUnder(work)).as("files left in the work folder").isEmpty();
  }

  private static List<Path> filesUnder(Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).toList();
    }
  }

  /**
   * LoRA end to end: the trainer publishes PEFT adapter folders, held-out accuracy on a learnable task
   * rises well above chance, and a restarted trainer resumes from the adapter (not a fresh one).
   */
  @Test
  void lora_publishesAdapters_learnsTheHeldOutPairs_andResumesFromTheAdapter() throws Exception {
    String pairs = PAIRS + ".lora";
    String models = MODELS + ".lora";
    broker.createTopic(pairs, 1);
    broker.createTopic(models, 1);
    broker.createTopic(METRICS, 1);
    Path model = tmp.resolve("base");
    new ModelRecipe(ModelRecipe.Arch.LLAMA, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, model);
    produce(pairs, 0, 64);

    Map<String, Object> props = props("tiny-lora", model, pairs, models);
    props.put(TrainerConfig.FINETUNE, "lora");
    props.put(TrainerConfig.LORA_R, "4");
    props.put(TrainerConfig.LORA_TARGET_MODULES, "attention,mlp");
    props.put(TrainerConfig.CHECKPOINT_STEPS, "4");
    props.put(TrainerConfig.EVAL_FRACTION, "0.25");
    props.put(TrainerConfig.LR, "1e-2");
    props.put(TrainerConfig.WARMUP_STEPS, "0");
    TrainerConfig config = TrainerConfig.parse(props);

    runUntil(config, tmp.resolve("work1"), () -> manifests(models, "tiny-lora").size() >= 3);
    List<CheckpointManifest> first = manifests(models, "tiny-lora");
    CheckpointManifest last = first.get(first.size() - 1);
    assertThat(first).extracting(CheckpointManifest::getKind).containsOnly(CheckpointKind.LORA_ADAPTER);
    assertThat(last.getMetrics().get("eval/rewards/accuracies")).as("held-out reward accuracy").isGreaterThanOrEqualTo(0.9);
    assertThat(last.getMetrics().get("eval/examples")).isGreaterThanOrEqualTo(8.0);
    try (Checkpoint newest = newest(models, "tiny-lora", tmp.resolve("inspect"))) {
      assertThat(newest.serving().resolve(AdapterFolder.WEIGHTS)).isRegularFile();
      assertThat(newest.serving().resolve(ModelFolder.WEIGHTS)).doesNotExist();
      assertThat(newest.serving().resolve(AdapterFolder.CONFIG)).content().contains("\"peft_type\" : \"LORA\"");
      assertThat(newest.companion().resolve(TrainedModels.REFERENCE)).as("the reference is frozen: nothing of it to keep").doesNotExist();
    }

    produce(pairs, 64, 16);
    runUntil(config, tmp.resolve("work2"), () -> manifests(models, "tiny-lora").size() > first.size());
    CheckpointManifest resumed = manifests(models, "tiny-lora").get(first.size());
    assertThat(resumed.getStep()).isGreaterThan(last.getStep());
    // a fresh adapter would start again from margin 0; the restored one goes on from where it was
    assertThat(resumed.getMetrics().get("eval/rewards/margins")).isGreaterThan(last.getMetrics().get("eval/rewards/margins"));
    assertThat(CoveredInputs.of(manifests(models, "tiny-lora"))).as("input offsets trained on or held out, across the restart").doesNotHaveDuplicates().hasSizeGreaterThanOrEqualTo(64);
  }

  /**
   * TR-DPO: with dpo.sync.ref.model the reference is mixed every 4 steps and kept with each
   * checkpoint; a restarted trainer mixes the policy into the restored reference, not into
   * model.dir's. Off by default.
   */
  @Test
  void trDpo_keepsTheMixedReferenceWithTheCheckpoint_andARestartMixesIntoIt() throws Exception {
    String pairs = PAIRS + ".trdpo";
    String models = MODELS + ".trdpo";
    broker.createTopic(pairs, 1);
    broker.createTopic(models, 1);
    broker.createTopic(METRICS, 1);
    Path model = tmp.resolve("model");
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, model);
    produce(pairs, 0, 16);

    Map<String, Object> props = props("tiny-trdpo", model, pairs, models);
    props.put(TrainerConfig.CHECKPOINT_STEPS, "4");
    props.put(TrainerConfig.EVAL_FRACTION, "0");
    props.put(TrainerConfig.LR, "1e-3");
    props.put(TrainerConfig.WARMUP_STEPS, "0");
    assertThat(TrainerConfig.parse(props).referenceSync()).as("off by default: the reference stays frozen").isEmpty();
    props.put(TrainerConfig.SYNC_REF_MODEL, "true");
    props.put(TrainerConfig.REF_MODEL_MIXUP_ALPHA, "0.5");
    props.put(TrainerConfig.REF_MODEL_SYNC_STEPS, "4");
    TrainerConfig config = TrainerConfig.parse(props);

    runUntil(config, tmp.resolve("work1"), () -> CoveredInputs.of(manifests(models, "tiny-trdpo")).size() >= 16);
    produce(pairs, 16, 16);
    try (NDManager m = NDManager.newBaseManager(); Checkpoint first = newest(models, "tiny-trdpo", tmp.resolve("first"))) {
      assertThat(first.manifest().getStep()).isEqualTo(4);
      Map<String, float[]> mixedOnce = referenceOf(first, m);
      assertMixed(mixedOnce, weights(ModelFolder.load(first.serving(), m)), weights(ModelFolder.load(model, m)));

      runUntil(config, tmp.resolve("work2"), () -> CoveredInputs.of(manifests(models, "tiny-trdpo")).size() >= 32);
      try (Checkpoint second = newest(models, "tiny-trdpo", tmp.resolve("second"))) {
        assertThat(second.manifest().getStep()).isEqualTo(8);
        assertMixed(referenceOf(second, m), weights(ModelFolder.load(second.serving(), m)), mixedOnce);
      }
    }
  }

  /** reference = ½·policy + ½·previous, tensor by tensor. */
  private static void assertMixed(Map<String, float[]> reference, Map<String, float[]> policy, Map<String, float[]> previous) {
    assertThat(reference.keySet()).containsExactlyInAnyOrderElementsOf(policy.keySet());
    reference.forEach((name, r) -> {
      for (int i = 0; i < r.length; i++) {
        assertThat((double) r[i]).as("%s[%d]", name, i).isCloseTo(0.5 * policy.get(name)[i] + 0.5 * previous.get(name)[i], org.assertj.core.api.Assertions.within(1e-6));
      }
    });
  }

  private static Map<String, float[]> referenceOf(Checkpoint checkpoint, NDManager m) {
    Map<String, float[]> out = new HashMap<>();
    try (SafeTensors file = SafeTensors.open(checkpoint.companion().resolve(TrainedModels.REFERENCE))) {
      for (String name : file.entries().keySet()) out.put(name, file.load(name, m).toFloatArray());
    }
    return out;
  }

  private static Map<String, float[]> weights(CausalLm model) {
    Map<String, float[]> out = new HashMap<>();
    model.parameters().forEach((name, p) -> out.put(name, p.toFloatArray()));
    return out;
  }

  /** The settings the tests share: the model, its topics, 4 pairs a step. */
  private static Map<String, Object> props(String modelName, Path model, String pairs, String models) {
    Map<String, Object> props = new HashMap<>(SERDE);
    props.put("bootstrap.servers", broker.bootstrapServers());
    props.put(TrainerConfig.MODEL_NAME, modelName);
    props.put(TrainerConfig.MODEL_DIR, model.toString());
    props.put(TrainerConfig.PAIRS_TOPIC, pairs);
    props.put(TrainerConfig.MODEL_TOPIC, models);
    props.put(TrainerConfig.METRICS_TOPIC, METRICS);
    props.put(TrainerConfig.BATCH_PAIRS, "4");
    return props;
  }

  private static List<io.prefstream.schemas.TrainingMetrics> trainingMetrics() {
    Map<String, Object> props = new HashMap<>(broker.consumerProps("trainer-it-metrics-" + System.nanoTime()));
    var values = io.prefstream.schemas.serde.RecordDeserializer.ofAny(io.prefstream.schemas.TrainingMetrics.class);
    values.configure(SERDE, false);
    List<io.prefstream.schemas.TrainingMetrics> out = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(props, new StringDeserializer(), values)) {
      consumer.subscribe(List.of(METRICS));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add((io.prefstream.schemas.TrainingMetrics) r.value()));
        return !out.isEmpty();
      });
    }
    return out;
  }

  private void runUntilCovered(TrainerConfig config, Path work, int pairs) throws Exception {
    runUntil(config, work, () -> CoveredInputs.of(manifests()).size() >= pairs);
    List<String> covered = CoveredInputs.of(manifests());
    assertThat(covered).doesNotHaveDuplicates().hasSize(pairs);
  }

  private void runUntil(TrainerConfig config, Path work, java.util.concurrent.Callable<Boolean> done) throws Exception {
    try (RunningTrainer trainer = RunningTrainer.start(config, work)) {
      await().atMost(Duration.ofSeconds(120)).until(done);
    }
  }

  private static List<CheckpointManifest> manifests() {
    return manifests(MODELS, "tiny");
  }

  private static List<CheckpointManifest> manifests(String topic, String model) {
    try (var consumer = modelTopicConsumer()) {
      return new ModelTopicReader(consumer, topic).manifests(model);
    }
  }

  /** The newest checkpoint, assembled under {@code dir}. */
  private static Checkpoint newest(String topic, String model, Path dir) {
    try (var consumer = modelTopicConsumer(); var assembler = new CheckpointAssembler(Optional.empty(), dir, PendingChunks.Limits.DEFAULT)) {
      return new ModelTopicReader(consumer, topic).checkpoint(model, Optional.empty(), assembler, ManifestFilter.ANY).orElseThrow()
          .moveTo(dir.resolveSibling(dir.getFileName() + "-newest"));
    }
  }

  private static KafkaConsumer<String, SpecificRecord> modelTopicConsumer() {
    Map<String, Object> props = new HashMap<>(broker.consumerProps("trainer-it-inspect-" + System.nanoTime()));
    props.putAll(SERDE);
    props.put(org.apache.kafka.clients.consumer.ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    return new KafkaConsumer<>(props, new StringDeserializer(), ModelTopic.deserializer(SERDE));
  }

  private static void produce(int from, int n) throws Exception {
    produce(PAIRS, from, n);
  }

  private static void produce(String topic, int from, int n) throws Exception {
    Map<String, Object> props = new HashMap<>(broker.producerProps());
    AvroSerializer<SpecificRecord> values = new AvroSerializer<>();
    Map<String, Object> serde = new HashMap<>(SERDE);
    serde.put(SerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, "TopicRecordNameStrategy");
    values.configure(serde, false);
    try (var producer = new KafkaProducer<>(props, new StringSerializer(), values)) {
      for (int i = from; i < from + n; i++) {
        producer.send(new ProducerRecord<>(topic, "prompt-" + i, PreferencePair.newBuilder().setEventId("e" + i).setPromptId("prompt-" + i)
            .setPromptIds(List.of(1 + i % 5, 2)).setChosenIds(List.of(7, 7, 7)).setRejectedIds(List.of(9, 9)).setEventTime(System.currentTimeMillis()).build())).get();
      }
    }
  }
}
