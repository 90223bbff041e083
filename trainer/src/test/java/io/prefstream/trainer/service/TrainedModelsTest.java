package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.dpo.ReferenceSync;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.ModelRecipe;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TR-DPO's reference with LoRA: a second adapter, saved beside the checkpoint and put back on restore. */
class TrainedModelsTest {
  @TempDir Path tmp;

  @Test
  void lora_referenceAdapterSurvivesARestart_bitForBit() {
    Path base = tmp.resolve("base");
    new ModelRecipe(ModelRecipe.Arch.LLAMA, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, base);
    TrainerConfig config = config(base, true);
    Map<String, float[]> saved;
    try (NDManager manager = NDManager.newBaseManager()) {
      TrainedModels models = TrainedModels.load(config, base, manager);
      assertThat(models.reference()).isNotSameAs(models.policy());
      assertThat(snapshot(models.reference()).keySet()).as("the reference's tensors are its own adapter's").allMatch(n -> n.contains(".lora_"));
      // move the policy's adapter, then let the reference follow it once
      models.policy().parameters().values().forEach(p -> p.set(manager.randomUniform(-1, 1, p.getShape()).toFloatArray()));
      new ReferenceSync(0.5, 1).mixIfDue(1, models.policy(), models.reference());
      saved = snapshot(models.reference());
      models.saveReference(tmp);
    }
    try (NDManager manager = NDManager.newBaseManager()) {
      TrainedModels restarted = TrainedModels.load(config, base, manager);
      assertThat(snapshot(restarted.reference())).usingRecursiveComparison().isNotEqualTo(saved);
      assertThat(restarted.restoreReference(tmp, manager)).isTrue();
      assertThat(snapshot(restarted.reference())).usingRecursiveComparison().isEqualTo(saved);
      assertThat(restarted.restoreReference(tmp.resolve("none"), manager)).as("a checkpoint written with the sync off").isFalse();
    }
  }

  @Test
  void lora_withoutSync_theReferenceIsTheBaseAlone() {
    Path base = tmp.resolve("base");
    new ModelRecipe(ModelRecipe.Arch.LLAMA, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, base);
    try (NDManager manager = NDManager.newBaseManager()) {
      TrainedModels models = TrainedModels.load(config(base, false), base, manager);
      assertThat(snapshot(models.reference()).keySet()).noneMatch(n -> n.contains(".lora_"));
    }
  }

  @Test
  void sync_refusesAReferenceOfAnotherArchitecture() {
    Path policy = tmp.resolve("policy");
    Path other = tmp.resolve("other");
    new ModelRecipe(ModelRecipe.Arch.LLAMA, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, policy);
    new ModelRecipe(ModelRecipe.Arch.GPT2, 257, 1, 16, 2, 2, 32, 64, true).writeRandom(3, other);
    Map<String, Object> props = new HashMap<>(Map.of(TrainerConfig.MODEL_NAME, "m", TrainerConfig.MODEL_DIR, policy.toString(),
        TrainerConfig.REFERENCE_DIR, other.toString(), TrainerConfig.SYNC_REF_MODEL, "true"));
    try (NDManager manager = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> TrainedModels.load(TrainerConfig.parse(props), policy, manager))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(TrainerConfig.SYNC_REF_MODEL);
    }
  }

  private static TrainerConfig config(Path base, boolean sync) {
    return TrainerConfig.parse(Map.of(TrainerConfig.MODEL_NAME, "m", TrainerConfig.MODEL_DIR, base.toString(), TrainerConfig.FINETUNE, "lora",
        TrainerConfig.LORA_R, "4", TrainerConfig.SYNC_REF_MODEL, String.valueOf(sync)));
  }

  private static Map<String, float[]> snapshot(CausalLm model) {
    Map<String, float[]> copy = new LinkedHashMap<>();
    model.parameters().forEach((name, p) -> copy.put(name, p.toFloatArray()));
    return copy;
  }
}
