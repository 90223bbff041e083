package io.prefstream.trainer.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import io.prefstream.trainer.dpo.Completion;
import io.prefstream.trainer.dpo.LogProbAggregation;
import io.prefstream.trainer.dpo.PreferenceBatch;
import io.prefstream.trainer.dpo.SequenceLogProbs;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.optim.ClippedUpdate;
import io.prefstream.trainer.optim.LinearWarmup;
import java.util.List;

/**
 * One supervised fine-tuning step: the stage before DPO in Rafailov et al. 2023 (arXiv:2305.18290,
 * §4), where π_SFT learns the task's responses by maximum likelihood and then is both the policy's
 * start and the frozen π_ref. The loss is the mean negative log-likelihood per response token,
 *
 * <pre>
 *   L = −(1/|Y|) Σ_i Σ_t log π(y_{i,t} | x_i, y_{i,&lt;t})
 * </pre>
 *
 * with |Y| the response tokens of the batch; prompt tokens are context only. Then a
 * {@link ClippedUpdate}. All temporaries of a step are closed at its end.
 */
public final class SftStep implements AutoCloseable {
  private final CausalLm model;
  private final ClippedUpdate update;

  public SftStep(CausalLm model, LinearWarmup schedule, double maxGradNorm) {
    this.model = model;
    this.update = new ClippedUpdate(model.parameters(), schedule, maxGradNorm, 0.0, model.manager());
  }

  /** @return the batch's loss before the update, in nats per response token */
  public double step(List<Completion> batch) {
    // the scope also frees what the model's blocks attach to the weights' manager
    try (NDScope scope = new NDScope(); NDManager m = model.manager().newSubManager()) {
      PreferenceBatch tokens = PreferenceBatch.ofCompletions(batch, m);
      NDArray responseTokens = m.create((float) tokens.scored().positions().length); // ()
      double[] loss = {0};
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        SequenceLogProbs.backward(model, tokens, LogProbAggregation.SUM, collector, (logProbs, first) -> {
          NDArray nll = logProbs.sum().neg().div(responseTokens); // this chunk's share, ()
          loss[0] += nll.getFloat();
          return nll;
        });
      }
      update.apply(loss[0], m);
      return loss[0];
    }
  }

  @Override
  public void close() {
    update.close();
  }
}
