package io.prefstream.app;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prefstream.trainer.dpo.DpoConfig;
import io.prefstream.trainer.dpo.LogProbAggregation;
import io.prefstream.trainer.dpo.LossType;
import io.prefstream.trainer.dpo.PreferenceExample;
import io.prefstream.trainer.dpo.PreferenceLoss;
import io.prefstream.trainer.dpo.PreferenceScore;
import io.prefstream.trainer.dpo.PreferenceScorer;
import io.prefstream.trainer.model.AdapterFolder;
import io.prefstream.trainer.model.CausalLm;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.model.ModelFolder;
import java.io.PrintWriter;
import java.nio.file.Path;
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

  @Option(names = "--loss", defaultValue = "sigmoid", description = "sigmoid, cdpo, ipo, hinge or plackett-luce (default: ${DEFAULT-VALUE}).")
  String loss;

  @Option(names = "--label-smoothing", defaultValue = "0", description = "ε for cdpo (default: ${DEFAULT-VALUE}).")
  double labelSmoothing;

  @Option(names = "--logp", defaultValue = "sum", description = "sum or mean over response tokens (default: ${DEFAULT-VALUE}).")
  String logp;

  @Override
  public Integer call() throws Exception {
    DpoConfig config = new DpoConfig(beta, LossType.parse(loss), labelSmoothing, 0, LogProbAggregation.parse(logp));
    List<PreferenceExample> examples = PairsFile.read(pairs, policy);
    if (reference == null && adapter == null) {
      throw new ParameterException(spec.commandLine(), "--reference is required unless --adapter is given");
    }
    List<PreferenceScore> scores;
    try (NDManager manager = NDManager.newBaseManager();
        CausalLm policyModel = adapter == null ? ModelFolder.load(policy, manager) : AdapterFolder.load(adapter, ModelFolder.load(policy, manager));
        CausalLm referenceModel = reference != null ? ModelFolder.load(reference, manager) : ((LoraModel) policyModel).reference();
        PreferenceLoss preferenceLoss = new PreferenceLoss(config, manager)) {
      scores = new PreferenceScorer(policyModel, referenceModel, preferenceLoss).score(examples);
    }
    PrintWriter out = spec.commandLine().getOut();
    for (int i = 0; i < scores.size(); i++) {
      ObjectNode line = line(scores.get(i));
      if (showTokens) tokens(line, examples.get(i));
      out.println(JSON.writeValueAsString(line));
    }
    out.flush();
    return 0;
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
