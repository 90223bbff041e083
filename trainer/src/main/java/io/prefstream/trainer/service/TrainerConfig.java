package io.prefstream.trainer.service;

import io.prefstream.trainer.dpo.DpoConfig;
import io.prefstream.trainer.dpo.FDivergence;
import io.prefstream.trainer.dpo.LogProbAggregation;
import io.prefstream.trainer.dpo.LossTerm;
import io.prefstream.trainer.dpo.LossType;
import io.prefstream.trainer.dpo.ReferenceSync;
import io.prefstream.trainer.model.LoraConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The trainer's settings, parsed once from its properties file; every other property (Kafka client
 * security, {@code schema.registry.*}) passes through to the clients and serdes.
 */
public record TrainerConfig(
    String modelName,
    Path modelDir,
    Path referenceDir,
    String pairsTopic,
    String modelTopic,
    String metricsTopic,
    String dlqTopic,
    int batchPairs,
    int microBatchTokens,
    int maxLength,
    int maxPromptLength,
    int maxResponses,
    long maxPendingBytes,
    DpoConfig dpo,
    Optional<ReferenceSync> referenceSync,
    double learningRate,
    int warmupSteps,
    double weightDecay,
    double maxGradNorm,
    int checkpointSteps,
    Duration checkpointInterval,
    Optional<Path> signingKey,
    double evalFraction,
    int logSteps,
    String trainerId,
    int metricsPort,
    String metricsHost,
    Optional<LoraConfig> lora,
    long seed,
    String device,
    int computeWorkers,
    Map<String, Object> passThrough) {

  public static final String MODEL_NAME = "model.name";
  public static final String MODEL_DIR = "model.dir";
  public static final String REFERENCE_DIR = "reference.dir";
  public static final String PAIRS_TOPIC = "pairs.topic";
  public static final String MODEL_TOPIC = "model.topic";
  public static final String METRICS_TOPIC = "metrics.topic";
  public static final String DLQ_TOPIC = "dlq.topic";
  public static final String BATCH_PAIRS = "batch.pairs";
  public static final String MICRO_BATCH_TOKENS = "micro.batch.tokens";
  public static final String MAX_LENGTH = "max.length";
  public static final String MAX_PROMPT_LENGTH = "max.prompt.length";
  public static final String MAX_RESPONSES = "max.responses";
  public static final String MAX_PENDING_BYTES = "max.pending.bytes";
  public static final String BETA = "dpo.beta";
  public static final String LOSS = "dpo.loss";
  public static final String LOSS_WEIGHTS = "dpo.loss.weights";
  public static final String LABEL_SMOOTHING = "dpo.label.smoothing";
  public static final String RPO_ALPHA = "dpo.rpo.alpha";
  public static final String LOGP = "dpo.logp";
  public static final String F_DIVERGENCE_TYPE = "dpo.f.divergence.type";
  public static final String F_ALPHA_DIVERGENCE_COEF = "dpo.f.alpha.divergence.coef";
  public static final String DISCOPOP_TAU = "dpo.discopop.tau";
  public static final String SIMPO_GAMMA = "dpo.simpo.gamma";
  public static final String ORPO_LAMBDA = "dpo.orpo.lambda";
  public static final String USE_WEIGHTING = "dpo.use.weighting";
  public static final String LD_ALPHA = "dpo.ld.alpha";
  public static final String SYNC_REF_MODEL = "dpo.sync.ref.model";
  public static final String REF_MODEL_MIXUP_ALPHA = "dpo.ref.model.mixup.alpha";
  public static final String REF_MODEL_SYNC_STEPS = "dpo.ref.model.sync.steps";
  public static final String KTO_DESIRABLE_WEIGHT = "kto.desirable.weight";
  public static final String KTO_UNDESIRABLE_WEIGHT = "kto.undesirable.weight";
  public static final String LR = "optimizer.lr";
  public static final String WARMUP_STEPS = "optimizer.warmup.steps";
  public static final String WEIGHT_DECAY = "optimizer.weight.decay";
  public static final String MAX_GRAD_NORM = "optimizer.max.grad.norm";
  public static final String CHECKPOINT_STEPS = "checkpoint.steps";
  public static final String CHECKPOINT_INTERVAL_MS = "checkpoint.interval.ms";
  public static final String SIGNING_KEY = "checkpoint.signing.key";
  public static final String EVAL_FRACTION = "eval.fraction";
  public static final String LOG_STEPS = "log.steps";
  public static final String TRAINER_ID = "trainer.id";
  public static final String METRICS_PORT = "metrics.port";
  public static final String METRICS_HOST = "metrics.host";
  public static final String FINETUNE = "finetune";
  public static final String LORA_R = "lora.r";
  public static final String LORA_ALPHA = "lora.alpha";
  public static final String LORA_DROPOUT = "lora.dropout";
  public static final String LORA_TARGET_MODULES = "lora.target.modules";
  public static final String SEED = "seed";
  public static final String DEVICE = "device";
  public static final String COMPUTE_WORKERS = "compute.workers";

  static final ConfigDef DEF = new ConfigDef()
      .define(MODEL_NAME, Type.STRING, Importance.HIGH, "Name of the model: the model topic's key and the transactional id's base.")
      .define(MODEL_DIR, Type.STRING, Importance.HIGH, "Hugging Face folder the policy starts from (when the model topic has no checkpoint of it yet).")
      .define(REFERENCE_DIR, Type.STRING, "", Importance.MEDIUM, "Frozen reference model folder; empty: the same as model.dir.")
      .define(PAIRS_TOPIC, Type.STRING, "preference.pairs", Importance.HIGH, "Validated pairs, rankings and labelled responses (KTO) to train on.")
      .define(MODEL_TOPIC, Type.STRING, "model.checkpoints", Importance.HIGH, "Where checkpoints are published and restored from.")
      .define(METRICS_TOPIC, Type.STRING, "trainer.metrics", Importance.MEDIUM, "Where TrainingMetrics records go.")
      .define(DLQ_TOPIC, Type.STRING, "preference.dlq", Importance.MEDIUM,
          "Where records the model cannot take go (original bytes, header error.reason), in the transaction that commits their offsets.")
      .define(BATCH_PAIRS, Type.INT, 8, Range.atLeast(1), Importance.HIGH, "Examples per optimizer step: pairs, rankings and labelled responses, in the order the topic holds them.")
      .define(MICRO_BATCH_TOKENS, Type.INT, 16_384, Range.atLeast(1), Importance.MEDIUM, "Token budget of one forward pass; a batch is split into micro-batches under it (gradients accumulate exactly).")
      .define(MAX_LENGTH, Type.INT, 512, Range.atLeast(2), Importance.MEDIUM,
          "Longest prompt + response in tokens; longer ones are truncated (see max.prompt.length). One still longer than the model's positions is dead-lettered as too_long_for_model.")
      .define(MAX_RESPONSES, Type.INT, 16, Range.atLeast(2), Importance.MEDIUM, "Most responses of one ranking; one with more is dead-lettered as too_many_responses.")
      .define(MAX_PENDING_BYTES, Type.LONG, 64L << 20, Range.atLeast(1), Importance.LOW,
          "Bytes of read records (serialized key and value) the trainer holds before training: past it, reading pauses and what is trainable trains as a partial batch, so held-out and unfit records queued behind fewer than batch.pairs examples stay bounded. One poll (max.poll.records) may go past it.")
      .define(MAX_PROMPT_LENGTH, Type.INT, 256, Range.atLeast(1), Importance.MEDIUM,
          "Longest prompt in tokens: a longer prompt keeps its end; then responses that still do not fit in max.length keep their start. Capped at max.length - 1.")
      .define(BETA, Type.DOUBLE, 0.1, Importance.HIGH, "β: how strongly the policy is held near the reference (IPO's τ).")
      .define(LOSS, Type.LIST, "sigmoid", Importance.HIGH, "The loss, or a comma-separated combination (TRL's loss_type): " + LossType.names() + ".")
      .define(LOSS_WEIGHTS, Type.LIST, "", Importance.MEDIUM, "One weight per loss in dpo.loss (TRL's loss_weights, e.g. 0.8,0.2,1 for MPO); empty: 1 each.")
      .define(LABEL_SMOOTHING, Type.DOUBLE, 0.0, Importance.LOW, "ε: the share of flipped labels for sigmoid (as TRL: then it is cdpo), cdpo, robust, aot, aot_unpaired and simpo; EXO's ε for exo_pair (1e-3 in the paper).")
      .define(RPO_ALPHA, Type.DOUBLE, 0.0, Importance.LOW, "Weight of RPO's length-normalized NLL term on chosen responses.")
      .define(LOGP, Type.STRING, "sum", Importance.LOW, "sum or mean over response tokens.")
      .define(F_DIVERGENCE_TYPE, Type.STRING, "reverse_kl", Importance.LOW, "reverse_kl (DPO), forward_kl, js_divergence or alpha_divergence (f-DPO).")
      .define(F_ALPHA_DIVERGENCE_COEF, Type.DOUBLE, 0.5, Importance.LOW, "α of the alpha divergence.")
      .define(DISCOPOP_TAU, Type.DOUBLE, 0.05, Importance.LOW, "τ of the discopop loss.")
      .define(SIMPO_GAMMA, Type.DOUBLE, 0.5, Importance.LOW, "SimPO's target reward margin γ.")
      .define(ORPO_LAMBDA, Type.DOUBLE, 0.1, Importance.LOW, "ORPO's λ: the weight of the odds-ratio term.")
      .define(USE_WEIGHTING, Type.BOOLEAN, false, Importance.LOW, "WPO: weigh each pair by its responses' length-normalized probabilities under the policy.")
      .define(LD_ALPHA, Type.DOUBLE, 1.0, Range.between(0, 1), Importance.LOW, "LD-DPO's α: tokens past the shorter response (a ranking's shortest) count α times (1: off).")
      .define(SYNC_REF_MODEL, Type.BOOLEAN, false, Importance.MEDIUM,
          "TR-DPO (TRL's sync_ref_model): the reference follows the policy, θ_ref ← α·θ + (1−α)·θ_ref every dpo.ref.model.sync.steps steps, and is kept with each checkpoint. "
              + "With finetune=lora the reference becomes a second adapter on the base, starting equal to the policy's, whose A and B are mixed. Off: the reference stays frozen.")
      .define(REF_MODEL_MIXUP_ALPHA, Type.DOUBLE, ReferenceSync.trlDefaults().mixupAlpha(), Range.between(0, 1), Importance.LOW,
          "TR-DPO's α (TRL's ref_model_mixup_alpha): the policy's share of the reference after a sync.")
      .define(REF_MODEL_SYNC_STEPS, Type.INT, ReferenceSync.trlDefaults().syncSteps(), Range.atLeast(1), Importance.LOW,
          "TR-DPO's τ (TRL's ref_model_sync_steps): optimizer steps between syncs of the reference.")
      .define(KTO_DESIRABLE_WEIGHT, Type.DOUBLE, 1.0, Range.atLeast(0), Importance.LOW, "KTO's λ_D: the weight of desirable labelled responses (TRL's desirable_weight).")
      .define(KTO_UNDESIRABLE_WEIGHT, Type.DOUBLE, 1.0, Range.atLeast(0), Importance.LOW, "KTO's λ_U: the weight of undesirable labelled responses (TRL's undesirable_weight).")
      .define(LR, Type.DOUBLE, 1e-5, Importance.HIGH, "AdamW learning rate after warm-up.")
      .define(WARMUP_STEPS, Type.INT, 10, Range.atLeast(0), Importance.MEDIUM, "Linear warm-up steps.")
      .define(WEIGHT_DECAY, Type.DOUBLE, 0.0, Range.atLeast(0), Importance.LOW, "AdamW's decoupled weight decay.")
      .define(MAX_GRAD_NORM, Type.DOUBLE, 1.0, Importance.MEDIUM, "Global gradient-norm clipping.")
      .define(CHECKPOINT_STEPS, Type.INT, 50, Range.atLeast(1), Importance.HIGH, "Publish a checkpoint every this many steps...")
      .define(CHECKPOINT_INTERVAL_MS, Type.LONG, 600_000L, Range.atLeast(1), Importance.HIGH, "...or after this long, whichever comes first.")
      .define(SIGNING_KEY, Type.STRING, "", Importance.HIGH,
          "Ed25519 private key (PKCS#8 PEM: prefstream keys generate, or openssl genpkey -algorithm ed25519) that signs every manifest; rollout agents verify with the public key. Empty: manifests go out unsigned.")
      .define(EVAL_FRACTION, Type.DOUBLE, 0.02, Range.between(0, 0.5), Importance.MEDIUM, "Share of pairs (by a hash of the event id) held out for evaluation, never trained on.")
      .define(LOG_STEPS, Type.INT, 10, Range.atLeast(1), Importance.LOW, "Log and publish metrics every this many steps.")
      .define(METRICS_PORT, Type.INT, 9465, Range.atLeast(-1), Importance.LOW, "Port of the Prometheus endpoint /metrics; -1 turns it off, 0 picks a free one.")
      .define(METRICS_HOST, Type.STRING, "127.0.0.1", Importance.LOW, "Address the Prometheus endpoint binds to: 127.0.0.1 (this machine only) by default; 0.0.0.0 for every interface, as in the Docker image.")
      .define(TRAINER_ID, Type.STRING, "", Importance.LOW, "Transactional id; empty: prefstream-trainer-<model.name>. A second trainer with the same id is fenced.")
      .define(FINETUNE, Type.STRING, "full", ConfigDef.ValidString.in("full", "lora"), Importance.HIGH,
          "full: train every weight against a separate reference copy; lora: train low-rank adapters on a frozen base, which is also the reference (one copy of the weights), and publish PEFT adapter folders.")
      .define(LORA_R, Type.INT, 8, Range.atLeast(1), Importance.MEDIUM, "LoRA rank r.")
      .define(LORA_ALPHA, Type.DOUBLE, 16.0, Importance.MEDIUM, "LoRA α: updates are scaled by α/r.")
      .define(LORA_DROPOUT, Type.DOUBLE, 0.0, Range.between(0, 0.99), Importance.LOW, "Dropout on the adapters' inputs while training.")
      .define(LORA_TARGET_MODULES, Type.LIST, LoraConfig.ATTENTION, Importance.MEDIUM,
          "Modules that get adapters, as PEFT's target_modules: names or suffixes (q_proj, c_attn, attn.c_proj), or 'attention' and 'mlp' for all of the architecture's attention / feed-forward projections.")
      .define(SEED, Type.LONG, 0L, Importance.LOW, "Seeds the adapters' random init.")
      .define(DEVICE, Type.STRING, "auto", ConfigDef.ValidString.in("auto", "cpu", "gpu"), Importance.MEDIUM,
          "auto: the first GPU PyTorch sees, else the CPU; gpu fails at start when there is none. Training runs in float32 on either.")
      .define(COMPUTE_WORKERS, Type.INT, 2, Range.atLeast(1), Importance.LOW,
          "Micro-batches a step computes at once on the CPU, each on its own thread with cores / workers PyTorch threads (a micro-batch is split when a step has fewer); "
              + "each gets micro.batch.tokens / workers. One on a GPU, with LoRA, with aot / aot_unpaired, and above 50M trainable parameters (each further worker holds a copy of the gradients).");

  private static DpoConfig dpo(AbstractConfig c) {
    try {
      List<Double> weights = c.getList(LOSS_WEIGHTS).stream().map(Double::parseDouble).toList();
      return new DpoConfig(c.getDouble(BETA), LossTerm.parse(c.getList(LOSS), weights), c.getDouble(LABEL_SMOOTHING), c.getDouble(RPO_ALPHA),
          LogProbAggregation.parse(c.getString(LOGP)), FDivergence.parse(c.getString(F_DIVERGENCE_TYPE)), c.getDouble(F_ALPHA_DIVERGENCE_COEF),
          c.getDouble(DISCOPOP_TAU), c.getDouble(SIMPO_GAMMA), c.getDouble(ORPO_LAMBDA), c.getBoolean(USE_WEIGHTING), c.getDouble(LD_ALPHA),
          c.getDouble(KTO_DESIRABLE_WEIGHT), c.getDouble(KTO_UNDESIRABLE_WEIGHT));
    } catch (IllegalArgumentException e) { // NumberFormatException included
      throw new ConfigException("dpo settings: " + e.getMessage());
    }
  }

  public TrainerConfig {
    passThrough = Map.copyOf(passThrough);
  }

  public static TrainerConfig parse(Map<String, ?> props) {
    var c = new AbstractConfig(DEF, props, false);
    Map<String, Object> passThrough = new HashMap<>(props);
    DEF.names().forEach(passThrough::remove);
    Path modelDir = Path.of(c.getString(MODEL_DIR));
    String reference = c.getString(REFERENCE_DIR);
    String name = c.getString(MODEL_NAME);
    Optional<LoraConfig> lora = Optional.empty();
    if (c.getString(FINETUNE).equals("lora")) {
      if (!reference.isEmpty() && !Path.of(reference).equals(modelDir)) {
        throw new ConfigException(REFERENCE_DIR, reference, "with finetune=lora the reference is the base model (model.dir) with the adapters off; leave reference.dir empty");
      }
      try {
        lora = Optional.of(new LoraConfig(c.getInt(LORA_R), c.getDouble(LORA_ALPHA), c.getDouble(LORA_DROPOUT), c.getList(LORA_TARGET_MODULES)));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("LoRA settings: " + e.getMessage());
      }
    }
    return new TrainerConfig(name, modelDir, reference.isEmpty() ? modelDir : Path.of(reference),
        c.getString(PAIRS_TOPIC), c.getString(MODEL_TOPIC), c.getString(METRICS_TOPIC), c.getString(DLQ_TOPIC), c.getInt(BATCH_PAIRS), c.getInt(MICRO_BATCH_TOKENS), c.getInt(MAX_LENGTH),
        Math.min(c.getInt(MAX_PROMPT_LENGTH), c.getInt(MAX_LENGTH) - 1), c.getInt(MAX_RESPONSES), c.getLong(MAX_PENDING_BYTES), dpo(c),
        c.getBoolean(SYNC_REF_MODEL) ? Optional.of(new ReferenceSync(c.getDouble(REF_MODEL_MIXUP_ALPHA), c.getInt(REF_MODEL_SYNC_STEPS))) : Optional.empty(),
        c.getDouble(LR), c.getInt(WARMUP_STEPS), c.getDouble(WEIGHT_DECAY), c.getDouble(MAX_GRAD_NORM), c.getInt(CHECKPOINT_STEPS),
        Duration.ofMillis(c.getLong(CHECKPOINT_INTERVAL_MS)), c.getString(SIGNING_KEY).isEmpty() ? Optional.empty() : Optional.of(Path.of(c.getString(SIGNING_KEY))),
        c.getDouble(EVAL_FRACTION), c.getInt(LOG_STEPS),
        c.getString(TRAINER_ID).isEmpty() ? "prefstream-trainer-" + name : c.getString(TRAINER_ID), c.getInt(METRICS_PORT), c.getString(METRICS_HOST), lora, c.getLong(SEED), c.getString(DEVICE), c.getInt(COMPUTE_WORKERS), passThrough);
  }
}
