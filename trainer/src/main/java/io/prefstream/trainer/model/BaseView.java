package io.prefstream.trainer.model;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Optional;

/** A model that computes with another's weights: it shares that base's config, folder and manager. */
abstract class BaseView implements CausalLm {
  protected final TransformerLm base;

  BaseView(TransformerLm base) {
    this.base = base;
  }

  @Override
  public ModelConfig config() {
    return base.config();
  }

  @Override
  public Optional<Path> sourceFolder() {
    return base.sourceFolder();
  }

  @Override
  public NDManager manager() {
    return base.manager();
  }
}
