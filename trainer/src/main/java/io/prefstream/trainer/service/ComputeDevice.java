package io.prefstream.trainer.service;

import ai.djl.Device;

/**
 * Where the trainer computes, from its {@code device} setting and the GPUs PyTorch sees:
 * {@code auto} takes the first GPU when there is one, else the CPU.
 */
final class ComputeDevice {
  private ComputeDevice() {}

  /**
   * @param setting auto, cpu or gpu
   * @param gpus how many GPUs the engine sees
   * @throws IllegalStateException when a GPU is asked for and none is seen
   */
  static Device resolve(String setting, int gpus) {
    return switch (setting) {
      case "auto" -> gpus > 0 ? Device.gpu() : Device.cpu();
      case "cpu" -> Device.cpu();
      case "gpu" -> {
        if (gpus == 0) {
          throw new IllegalStateException("device=gpu, but PyTorch sees no GPU: the CPU build of libtorch is loaded. Point "
              + "PYTORCH_LIBRARY_PATH at a CUDA build of libtorch 2.7.1 (see the README's GPU section), or use device=auto");
        }
        yield Device.gpu();
      }
      default -> throw new IllegalArgumentException("device '" + setting + "': use auto, cpu or gpu");
    };
  }
}
