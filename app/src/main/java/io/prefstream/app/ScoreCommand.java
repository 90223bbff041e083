package io.prefstream.app;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.trainer.dpo.DpoConfig;
import io.prefstream.trainer.dpo.FDivergence;
import io.prefstream.trainer.dpo.KtoLoss;
import io.prefstream.trainer.dpo.LabelledExample;
import io.prefstream.trainer.dpo.LabelledScorer;
import io.prefstream.trainer.dpo.LogProbAggregation;
import io.prefstream.trainer.dpo.LossTerm;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.PreferenceLoss;
import io.prefstream.trainer.dpo.PreferenceScore;
import io.prefstream.trainer.dpo.PreferenceScorer;
import io.prefstream.trainer.model.AdapterFolder;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.model.ModelFolder;
import io.prefstream.trainer.tokenize.TextTokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    description = {
      "Scores preference pairs (JSON lines) under a policy and a reference model: log-probs, implicit rewards and the loss.",
      "Prints one JSON object per input line, in input order."
    })
final class ScoreCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Option(names = "--policy", required = true, description = "Policy model folder (Hugging Face layout); with --adapter, the base the adapter applies to.")
  Path policy;

  @Option(names = "--adapter", description = "A PEFT LoRA adapter folder: the policy is --policy with this adapter.")
  Path adapter;

  @Option(names = "--reference", description = "Reference model folder; with --adapter the default is the base with the adapter off.")
  Path reference;

  @Option(names = "--pairs", required = true, description = {
      "JSON lines: {id,prompt_ids,chosen_ids,rejected_ids}, {id,prompt,chosen,rejected} or {id,prompt_ids,responses_ids};",
      "or conversations as the trainer takes them, {id,prompt:[{role,content},...],chosen:[...],rejected:[...]} (or responses:[[...],...]),",
      "rendered with the policy folder's chat template exactly as the trainer renders them."})
  Path pairs;

  @Option(names = "--show-tokens", description = "Adds each example's prompt_ids and responses_ids (as scored) to its line.")
  boolean showTokens;

  @Option(names = "--beta", defaultValue = "0.1", description = "β (default: ${DEFAULT-VALUE}).")
  double beta;

  @Option(names = "--loss", defaultValue = "sigmoid", split = ",",
      description = "A loss or a comma-separated combination (as dpo.loss): sigmoid, cdpo, robust, ipo, hinge, exo_pair, nca_pair, bco_pair, sppo_hard, "
          + "aot, aot_unpaired, apo_zero, apo_down, discopop, sft, sigmoid_norm, simpo, orpo, plackett-luce (default: ${DEFAULT-VALUE}); "
          + "or kto alone, for labelled responses. The file is one batch: aot and aot_unpaired sort over all its pairs, kto's z_ref is its mean.")
  List<String> loss;

  @Option(names = "--loss-weights", split = ",", description = "One weight per --loss (default: 1 each).")
  List<Double> lossWeights = List.of();

  @Option(names = "--label-smoothing", defaultValue = "0", description = "ε for sigmoid (then it is cdpo, as TRL), cdpo, robust, exo_pair, aot, aot_unpaired, simpo (default: ${DEFAULT-VALUE}).")
  double labelSmoothing;

  @Option(names = "--logp", defaultValue = "sum", description = "sum or mean over response tokens (default: ${DEFAULT-VALUE}).")
  String logp;

  @Option(names = "--rpo-alpha", defaultValue = "0", description = "Weight of RPO's NLL term on the chosen response (default: ${DEFAULT-VALUE}).")
  double rpoAlpha;

  @Option(names = "--f-divergence", defaultValue = "reverse_kl", description = "reverse_kl, forward_kl, js_divergence or alpha_divergence (default: ${DEFAULT-VALUE}).")
  String fDivergence;

  @Option(names = "--f-alpha-coef", defaultValue = "0.5", description = "α of the alpha divergence (default: ${DEFAULT-VALUE}).")
  double fAlphaCoef;

  @Option(names = "--discopop-tau", defaultValue = "0.05", description = "τ of discopop (default: ${DEFAULT-VALUE}).")
  double discopopTau;

  @Option(names = "--simpo-gamma", defaultValue = "0.5", description = "SimPO's γ (default: ${DEFAULT-VALUE}).")
  double simpoGamma;

  @Option(names = "--orpo-lambda", defaultValue = "0.1", description = "ORPO's λ (default: ${DEFAULT-VALUE}).")
  double orpoLambda;

  @Option(names = "--use-weighting", description = "WPO weighting.")
  boolean useWeighting;

  @Option(names = "--ld-alpha", defaultValue = "1", description = "LD-DPO's α (default: ${DEFAULT-VALUE}: off).")
  double ldAlpha;

  @Option(names = "--kto-desirable-weight", defaultValue = "1", description = "KTO's λ_D (default: ${DEFAULT-VALUE}).")
  double ktoDesirableWeight;

  @Option(names = "--kto-undesirable-weight", defaultValue = "1", description = "KTO's λ_U (default: ${DEFAULT-VALUE}).")
  double ktoUndesirableWeight;

  @Override
  public Integer call() throws Exception {
    // kto scores labelled responses, not preferences: its lines are {prompt_ids, response_ids, label}
    boolean kto = loss.size() == 1 && loss.get(0).trim().equalsIgnoreCase("kto");
    DpoConfig config;
    try {
      config = new DpoConfig(beta, LossTerm.parse(kto ? List.of("sigmoid") : loss, kto ? List.of() : lossWeights), labelSmoothing, rpoAlpha,
          LogProbAggregation.parse(logp), FDivergence.parse(fDivergence), fAlphaCoef, discopopTau, simpoGamma, orpoLambda, useWeighting, ldAlpha,
          ktoDesirableWeight, ktoUndesirableWeight);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (reference == null && adapter == null) {
      throw new ParameterException(spec.commandLine(), "--reference is required unless --adapter is given");
    }
    List<ObjectNode> lines = new ArrayList<>();
    try (NDManager manager = NDManager.newBaseManager();
        CausalLm policyModel = adapter == null ? ModelFolder.load(policy, manager) : AdapterFolder.load(adapter, ModelFolder.load(policy, manager));
        CausalLm referenceModel = reference != null ? ModelFolder.load(reference, manager) : ((LoraModel) policyModel).reference()) {
      if (kto) {
        List<LabelledExample> examples = PairsFile.readLabelled(pairs, () -> TextTokenizer.fromFolder(policy));
        try (KtoLoss ktoLoss = new KtoLoss(config, manager)) {
          for (LabelledScorer.LabelledScore s : new LabelledScorer(policyModel, referenceModel, ktoLoss).score(examples)) lines.add(line(s));
        }
      } else {
        List<PreferenceExample> examples = PairsFile.read(pairs, policy);
        try (PreferenceLoss preferenceLoss = new PreferenceLoss(config, manager)) {
          List<PreferenceScore> scores = new PreferenceScorer(policyModel, referenceModel, preferenceLoss).score(examples);
          for (int i = 0; i < scores.size(); i++) {
            ObjectNode line = line(scores.get(i));
            if (showTokens) tokens(line, examples.get(i));
            lines.add(line);
          }
        }
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    for (ObjectNode line : lines) out.println(JSON.writeValueAsString(line));
    out.flush();
    return 0;
  }

  private static ObjectNode line(LabelledScorer.LabelledScore s) {
    return JSON.createObjectNode().put("id", s.id()).put("label", s.desirable()).put("policy_logp", s.policyLogProb())
        .put("reference_logp", s.referenceLogProb()).put("reward", s.reward()).put("kl", s.kl()).put("loss", s.loss());
  }

  private static void tokens(ObjectNode line, PreferenceExample example) {
    var prompt = line.putArray("prompt_ids");
    for (int id : example.prompt()) prompt.add(id);
    var responses = line.putArray("responses_ids");
    for (int[] response : example.responses()) {
      var ids = responses.addArray();
      for (int id : response) ids.add(id);
    }
  }

  private static ObjectNode line(PreferenceScore s) {
    ObjectNode o = JSON.createObjectNode().put("id", s.id());
    if (s.policyLogProbs().length == 2) {
      o.put("policy_chosen_logp", s.policyLogProbs()[0])
          .put("policy_rejected_logp", s.policyLogProbs()[1])
          .put("reference_chosen_logp", s.referenceLogProbs()[0])
          .put("reference_rejected_logp", s.referenceLogProbs()[1])
          .put("chosen_reward", s.reward(0))
          .put("rejected_reward", s.reward(1));
    } else {
      var p = o.putArray("policy_logps");
      for (double v : s.policyLogProbs()) p.add(v);
      var r = o.putArray("reference_logps");
      for (double v : s.referenceLogProbs()) r.add(v);
    }
    return o.put("loss", s.loss());
  }
}
