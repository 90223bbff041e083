package io.prefstream.trainer.service;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.dpo.ReferenceSync;
import io.prefstream.trainer.model.AdapterFolder;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.model.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The policy being trained and its reference, in one of two forms: full fine-tuning (two models,
 * the reference loaded on its own) or LoRA (one base; the policy is base + adapters, the reference
 * is the base with the adapters off, or with TR-DPO, the base with a second adapter that starts equal
 * to the policy's). The reference is frozen unless {@code dpo.sync.ref.model} mixes the policy into it.
 */
final class TrainedModels {
  static final String REFERENCE = "reference.safetensors";
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
      return matched(config, new TrainedModels(ModelFolder.load(startFrom, manager), ModelFolder.load(config.referenceDir(), manager), config.modelDir()));
    }
    if (!adapterCheckpoint && !startFrom.equals(config.modelDir())) {
      throw new IllegalArgumentException("the newest checkpoint of " + config.modelName() + " is a full model, but "
          + TrainerConfig.FINETUNE + "=lora; train it with " + TrainerConfig.FINETUNE + "=full or choose a new " + TrainerConfig.MODEL_NAME);
    }
    CausalLm base = ModelFolder.load(config.modelDir(), manager);
    LoraModel policy = adapterCheckpoint ? AdapterFolder.load(startFrom, base) : LoraModel.attach(base, config.lora().get(), config.seed());
    return matched(config, new TrainedModels(policy, config.referenceSync().isPresent() ? policy.addReferenceAdapter() : policy.reference(), config.modelDir()));
  }

  /** With TR-DPO, checks first that the reference can follow the policy tensor by tensor. */
  private static TrainedModels matched(TrainerConfig config, TrainedModels models) {
    if (config.referenceSync().isPresent()) {
      try {
        ReferenceSync.checkMatches(models.policy, models.reference);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(TrainerConfig.SYNC_REF_MODEL + "=true needs " + TrainerConfig.REFERENCE_DIR + " of the policy's architecture: " + e.getMessage(), e);
      }
    }
    return models;
  }

  CausalLm policy() {
    return policy;
  }

  CausalLm reference() {
    return reference;
  }

  /**
   * Writes the reference's tensors that TR-DPO mixes (the whole model; with LoRA the reference
   * adapter's A and B) to {@code dir/reference.safetensors}, beside the optimizer state.
   */
  void saveReference(Path dir) {
    SafeTensors.write(reference.parameters(), dir.resolve(REFERENCE));
  }

  /**
   * Puts back a reference that {@link #saveReference} wrote into {@code dir}.
   *
   * @return false when there is none: the checkpoint was written with the sync off, and the
   *     reference stays as loaded
   * @throws IllegalArgumentException naming the tensor, when the saved reference does not fit
   */
  boolean restoreReference(Path dir, NDManager manager) {
    Path file = dir.resolve(REFERENCE);
    if (!Files.exists(file)) return false;
    try (SafeTensors stored = SafeTensors.open(file); NDManager scratch = manager.newSubManager()) {
      reference.parameters().forEach((name, target) -> {
        SafeTensors.Entry entry = stored.entries().get(name);
        if (entry == null || !entry.shape().equals(target.getShape())) {
          throw new IllegalArgumentException(file + " has no " + name + " of shape " + target.getShape() + " for the reference");
        }
        target.set(stored.load(name, scratch).toByteBuffer());
      });
    }
    return true;
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
