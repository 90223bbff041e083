/**
 * Causal language models as DJL blocks, and Hugging Face model folders in and out.
 *
 * <p>The public surface: {@link io.prefstream.trainer.model.CausalLm} (logits and named live
 * weights), {@link io.prefstream.trainer.model.ModelFolder} (load, save, random init),
 * {@link io.prefstream.trainer.model.ModelConfig} (the parsed {@code config.json}),
 * {@link io.prefstream.trainer.model.SafeTensors} and {@link io.prefstream.trainer.model.ModelRecipe}
 * (what {@code init-model} builds); for training passes, {@link io.prefstream.trainer.model.HeadLogits}
 * (a head product with its own backward) over a {@link io.prefstream.trainer.model.VocabSlice},
 * {@link io.prefstream.trainer.model.LoraModel} and {@link io.prefstream.trainer.model.WorkerModel}.
 *
 * <p>One file per architecture ({@code Gpt2}; {@code Llama}, which also covers Mistral, Qwen2 and
 * Qwen3; {@code Gemma3}), each with its Hugging Face weight-name table; shared pieces
 * ({@code Projection}, the norms, {@code GroupedQueryAttention}, {@code GatedMlp},
 * {@code RotaryEmbedding} with {@code RopeScaling}, {@code Attention}'s masks) are blocks or helpers
 * of their own. Everything computes in float32 with dropout off.
 */
package io.prefstream.trainer.model;
