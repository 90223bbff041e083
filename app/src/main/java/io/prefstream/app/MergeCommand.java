package io.prefstream.app;

import ai.djl.ndarray.NDManager;
import io.prefstream.trainer.model.AdapterFolder;
import io.prefstream.trainer.model.LoraModel;
import io.prefstream.trainer.model.ModelFolder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Folds a LoRA adapter into its base: a plain model folder for servers that take no adapters. */
@Command(
    name = "merge",
    mixinStandardHelpOptions = true,
    description = "Writes the full weights of a base model with a PEFT LoRA adapter merged in (W = W0 + (alpha/r) B A).")
final class MergeCommand implements Callable<Integer> {

  @Option(names = "--base", required = true, description = "Base model folder (Hugging Face layout).")
  Path base;

  @Option(names = "--adapter", required = true, description = "PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors).")
  Path adapter;

  @Option(names = "--out", required = true, description = "Folder for the merged model; config and tokenizer files come from the base.")
  Path out;

  @Override
  public Integer call() {
    try (NDManager manager = NDManager.newBaseManager(); LoraModel model = AdapterFolder.load(adapter, ModelFolder.load(base, manager))) {
      ModelFolder.save(model.mergeIntoBase(), out);
    }
    System.out.println("merged " + adapter + " into " + base + ": " + out.toAbsolutePath());
    return 0;
  }
}
