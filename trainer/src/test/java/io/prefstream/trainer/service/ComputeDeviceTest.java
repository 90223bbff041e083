package io.prefstream.trainer.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

class ComputeDeviceTest {

  @Test
  void auto_takesTheGpuWhenThereIsOne_elseTheCpu() {
    assertThat(ComputeDevice.resolve("auto", 1)).isEqualTo(Device.gpu());
    assertThat(ComputeDevice.resolve("auto", 0)).isEqualTo(Device.cpu());
    assertThat(ComputeDevice.resolve("cpu", 2)).isEqualTo(Device.cpu());
  }

  @Test
  void gpuWithoutOne_failsNamingTheFix() {
    assertThatThrownBy(() -> ComputeDevice.resolve("gpu", 0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PYTORCH_LIBRARY_PATH");
  }
}
