package io.prefstream.trainer.service;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.model.AdapterFolder;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.model.ModelFolder;
import java.nio.file.Path;

/**
 * The policy being trained and its frozen reference, in one of two forms: full fine-tuning (two
 * models, the reference loaded on its own) or LoRA (one base; the policy is base + adapters, the
 * reference is the base with the adapters off).
 */
final class TrainedModels {
  private final CausalLm policy;
  private final CausalLm reference;
  private final Path baseDir;

  private TrainedModels(CausalLm policy, CausalLm reference, Path baseDir) {
    this.policy = policy;
    this.reference = reference;
    this.baseDir = baseDir;
  }

  /**
   * Loads the models under {@code manager} (on its device), which frees them.
   *
   * @param startFrom the newest checkpoint (a model folder, or an adapter folder with LoRA), or
   *     {@code model.dir} when there is none yet
   * @throws IllegalArgumentException when the checkpoint's kind does not match {@code finetune}
   */
  static TrainedModels load(TrainerConfig config, Path startFrom, NDManager manager) {
    boolean adapterCheckpoint = AdapterFolder.isAdapter(startFrom);
    if (config.lora().isEmpty()) {
      if (adapterCheckpoint) {
        throw new IllegalArgumentException("the newest checkpoint of " + config.modelName() + " is a LoRA adapter, but "
            + TrainerConfig.FINETUNE + "=full; train it with " + TrainerConfig.FINETUNE + "=lora or choose a new " + TrainerConfig.MODEL_NAME);
      }
      return new TrainedModels(ModelFolder.load(startFrom, manager), ModelFolder.load(config.referenceDir(), manager), config.modelDir());
    }
    if (!adapterCheckpoint && !startFrom.equals(config.modelDir())) {
      throw new IllegalArgumentException("the newest checkpoint of " + config.modelName() + " is a full model, but "
          + TrainerConfig.FINETUNE + "=lora; train it with " + TrainerConfig.FINETUNE + "=full or choose a new " + TrainerConfig.MODEL_NAME);
    }
    CausalLm base = ModelFolder.load(config.modelDir(), manager);
    LoraModel policy = adapterCheckpoint ? AdapterFolder.load(startFrom, base) : LoraModel.attach(base, config.lora().get(), config.seed());
    return new TrainedModels(policy, policy.reference(), config.modelDir());
  }

  CausalLm policy() {
    return policy;
  }

  CausalLm reference() {
    return reference;
  }

  /** Writes what serving loads: the full model folder, or the PEFT adapter folder naming its base. */
  void save(Path dir) {
    if (policy instanceof LoraModel adapted) {
      AdapterFolder.save(adapted, dir, baseDir.toString());
    } else {
      ModelFolder.save(policy, dir);
    }
  }
}
