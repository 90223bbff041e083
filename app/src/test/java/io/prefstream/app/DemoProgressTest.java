package io.prefstream.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.prefstream.trainer.dpo.StepMetrics;
import io.prefstream.trainer.service.PublishedCheckpoint;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The progress line says what a step's examples can say: accuracy needs pairs, KTO's KL needs labelled responses. */
class DemoProgressTest {

  private static StepMetrics step(double accuracy, double chosen, double rejected, double kl, long pairs, long labelled) {
    return new StepMetrics(0.4321, chosen, rejected, accuracy, -12, -14, 1, 1e-5, pairs + labelled, 100, false, kl, pairs, 0, labelled);
  }

  @Test
  void pairs_showTheRewardAccuracy() {
    assertThat(DemoProgress.summary(step(0.75, 0.2, -0.1, Double.NaN, 8, 0))).isEqualTo("loss 0.432 | acc 0.75");
  }

  @Test
  void singleThumbs_showKtosRewardsAndKl_notAnAccuracyOfNoPairs() {
    String line = DemoProgress.summary(step(Double.NaN, 0.12, -0.05, 0.031, 0, 16));
    assertThat(line).isEqualTo("loss 0.432 | reward +0.120 desirable, -0.050 undesirable | kl 0.031").doesNotContain("NaN");
    assertThat(DemoProgress.summary(step(Double.NaN, Double.NaN, -0.05, 0, 0, 3))).isEqualTo("loss 0.432 | reward - desirable, -0.050 undesirable | kl 0.000");
  }

  @Test
  void aMixedStep_showsBoth() {
    assertThat(DemoProgress.summary(step(0.5, 0.1, 0, 0.2, 4, 4))).isEqualTo("loss 0.432 | acc 0.50 | kl 0.200");
  }

  @Test
  void checkpointLine_omitsTheHeldOutAccuracyWhenThereWasNone() {
    PolicyProbe.Measurement reference = new PolicyProbe.Measurement(-0.01, 0, 128, "ok");
    PolicyProbe.Measurement measured = new PolicyProbe.Measurement(0.25, 1.5, 128, "great");
    PublishedCheckpoint c = new PublishedCheckpoint(3, 40, Map.of());
    assertThat(CheckpointProbing.summary(c, 0.8, measured, reference))
        .isEqualTo("checkpoint v3 (step 40): held-out acc 0.80 | ground-truth reward of samples +0.250 (reference -0.010) | KL 1.50 nats | e.g. \"great\"");
    assertThat(CheckpointProbing.summary(c, Double.NaN, measured, reference))
        .isEqualTo("checkpoint v3 (step 40): ground-truth reward of samples +0.250 (reference -0.010) | KL 1.50 nats | e.g. \"great\"");
  }
}
